/* hub.c -- the live push to open Subscribe streams: one thread, an address index. */
#include "hub.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homeward/notifications/v1/notifications.pb-c.h"
#include "hw_log.h"
#include "message.h"
#include "recipients.h"
#include "store.h"

#define NBUCKETS 16384          /* power of two; 10,000 streams x a few addresses */
#define BATCH 500               /* notifications read per pass */
#define MAX_PENDING 512         /* a stream this far behind is ended: it resumes */
#define MAX_ADDRESSES (1 + HW_MAX_ROLES + HW_MAX_HOMES)

typedef struct sub sub;

/* One index entry: an address a stream's person answers to. */
typedef struct entry {
    struct entry *next;
    sub *sub;
    uint32_t hash;
    char address[];
} entry;

struct sub {
    nt_hub *hub;
    hw_stream *stream;
    pthread_mutex_t mu;         /* serialises the replay and the hub's pushes */
    int64_t last_sent;          /* under mu */
    bool closed;                /* under mu */
    int refs;                   /* under hub->lock: the index's one + pushes in flight */
    int n_entries;
    entry **entries;
    sub *prev, *next;           /* every stream, under hub->lock */
};

struct nt_hub {
    hw_pg_pool *pool;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool kicked, stopping;
    int poll_ms;
    int64_t position;           /* highest notification id read (under lock) */
    int n_streams;
    sub *all;
    entry *buckets[NBUCKETS];
};

static uint32_t hash_of(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* ------------------------------------------------------------ stream lifetime */

static void sub_free(sub *s)
{
    for (int i = 0; i < s->n_entries; i++)
        free(s->entries[i]);
    free(s->entries);
    pthread_mutex_destroy(&s->mu);
    hw_stream_unref(s->stream);
    free(s);
}

static void sub_release(sub *s)
{
    nt_hub *h = s->hub;
    pthread_mutex_lock(&h->lock);
    int left = --s->refs;
    pthread_mutex_unlock(&h->lock);
    if (left == 0)
        sub_free(s);
}

/* Under h->lock: take s out of the index (its entries stay allocated). */
static void unindex_locked(nt_hub *h, sub *s)
{
    for (int i = 0; i < s->n_entries; i++) {
        entry *e = s->entries[i];
        for (entry **p = &h->buckets[e->hash & (NBUCKETS - 1)]; *p; p = &(*p)->next) {
            if (*p == e) {
                *p = e->next;
                break;
            }
        }
    }
    if (s->prev)
        s->prev->next = s->next;
    else if (h->all == s)
        h->all = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    h->n_streams--;
}

/* The stream ended (client gone, finished, shutdown): forget it. */
static void on_close(hw_stream *stream, void *arg)
{
    sub *s = arg;
    nt_hub *h = s->hub;
    (void)stream;
    pthread_mutex_lock(&h->lock);
    unindex_locked(h, s);
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    pthread_mutex_unlock(&s->mu);
    sub_release(s); /* the index's reference */
}

/* ------------------------------------------------------------ sending */

/* Under s->mu. Returns 0 if sent or skipped, -1 if the stream is gone. */
static int push_locked(sub *s, const nt_note *n, const nt_message *m)
{
    if (s->closed || n->id <= s->last_sent)
        return 0;
    if (hw_stream_pending(s->stream) >= MAX_PENDING) {
        /* Too slow to keep up: end it; the app resumes from its last id. */
        hw_status st = HW_STATUS_INIT;
        hw_status_set(&st, HW_RESOURCE_EXHAUSTED, "stream too far behind: resume with after_id");
        hw_stream_finish(s->stream, &st);
        s->closed = true;
        return -1;
    }
    Homeward__Notifications__V1__StreamMessage out = HOMEWARD__NOTIFICATIONS__V1__STREAM_MESSAGE__INIT;
    out.body_case = HOMEWARD__NOTIFICATIONS__V1__STREAM_MESSAGE__BODY_NOTIFICATION;
    out.notification = (Homeward__Notifications__V1__Notification *)&m->msg;
    if (hw_stream_send(s->stream, &out.base) != 0) {
        s->closed = true;
        return -1;
    }
    s->last_sent = n->id;
    return 0;
}

typedef struct target {
    sub *sub;
    int note;
} target;

/* Read what is new and push it. Returns the number of notifications read. */
static int drain(nt_hub *h)
{
    hw_status st = HW_STATUS_INIT;
    nt_note *notes = NULL;
    int n;

    pthread_mutex_lock(&h->lock);
    int64_t from = h->position;
    pthread_mutex_unlock(&h->lock);

    hw_db *db = hw_pg_acquire(h->pool, 1000, &st);
    if (!db)
        return 0;
    n = nt_store_notes_after(db, from, 0, BATCH, NULL, 0, &notes, &st);
    hw_pg_release(db);
    if (n <= 0) {
        if (n < 0)
            hw_warn("hub: cannot read new notifications: %s", st.message);
        nt_notes_free(notes, n < 0 ? 0 : n);
        return 0;
    }

    /* Who gets what, decided under the lock together with moving the
     * position: a stream registering now either is in the index already
     * (and gets these from us) or sees the new position (and replays them). */
    size_t n_targets = 0, cap = 64;
    target *targets = malloc(cap * sizeof *targets);
    if (!targets)
        abort();
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < notes[i].n_recipients; j++) {
            const char *a = notes[i].addresses[j];
            uint32_t hv = hash_of(a);
            for (entry *e = h->buckets[hv & (NBUCKETS - 1)]; e; e = e->next) {
                if (e->hash != hv || strcmp(e->address, a) != 0)
                    continue;
                if (n_targets == cap) {
                    cap *= 2;
                    targets = realloc(targets, cap * sizeof *targets);
                    if (!targets)
                        abort();
                }
                e->sub->refs++;
                targets[n_targets++] = (target){e->sub, i};
            }
        }
    }
    h->position = notes[n - 1].id;
    pthread_mutex_unlock(&h->lock);

    nt_message *msgs = calloc((size_t)n, sizeof *msgs);
    if (!msgs)
        abort();
    for (int i = 0; i < n; i++)
        nt_message_fill(&msgs[i], &notes[i]);
    for (size_t t = 0; t < n_targets; t++) {
        sub *s = targets[t].sub;
        pthread_mutex_lock(&s->mu);
        push_locked(s, &notes[targets[t].note], &msgs[targets[t].note]);
        pthread_mutex_unlock(&s->mu);
    }
    for (size_t t = 0; t < n_targets; t++)
        sub_release(targets[t].sub);
    for (int i = 0; i < n; i++)
        nt_message_clear(&msgs[i]);
    free(msgs);
    free(targets);
    nt_notes_free(notes, n);
    return n;
}

static void *hub_main(void *arg)
{
    nt_hub *h = arg;

    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        if (!h->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += h->poll_ms / 1000;
            ts.tv_nsec += (long)(h->poll_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&h->wake, &h->lock, &ts);
        }
        h->kicked = false;
        if (h->stopping)
            break;
        pthread_mutex_unlock(&h->lock);
        while (drain(h) == BATCH)
            ;
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

nt_hub *nt_hub_start(hw_pg_pool *pool, int poll_ms)
{
    hw_status st = HW_STATUS_INIT;
    nt_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->pool = pool;
    h->poll_ms = poll_ms > 0 ? poll_ms : 500;
    hw_db *db = hw_pg_acquire(pool, 5000, &st);
    if (!db)
        goto out_free;
    h->position = nt_store_max_id(db, &st);
    hw_pg_release(db);
    if (h->position < 0)
        goto out_free;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        goto out_free;
    }
    return h;

out_free:
    hw_error("hub: cannot start: %s", st.message);
    free(h);
    return NULL;
}

void nt_hub_kick(void *arg)
{
    nt_hub *h = arg;
    pthread_mutex_lock(&h->lock);
    h->kicked = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

void nt_hub_stop(nt_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    /* The server has ended every stream (and run on_close) by now; anything
     * left was never closed by it: forget it without touching the stream. */
    while (h->all) {
        sub *s = h->all;
        h->all = s->next;
        for (int i = 0; i < s->n_entries; i++)
            free(s->entries[i]);
        free(s->entries);
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int nt_hub_stream_count(nt_hub *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->n_streams;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* ------------------------------------------------------------ subscribe */

static int send_started(hw_stream *stream, int64_t cursor)
{
    Homeward__Notifications__V1__Started started = HOMEWARD__NOTIFICATIONS__V1__STARTED__INIT;
    Homeward__Notifications__V1__StreamMessage out = HOMEWARD__NOTIFICATIONS__V1__STREAM_MESSAGE__INIT;
    started.cursor = cursor;
    out.body_case = HOMEWARD__NOTIFICATIONS__V1__STREAM_MESSAGE__BODY_STARTED;
    out.started = &started;
    return hw_stream_send(stream, &out.base);
}

/* Under s->mu: every notification addressed to the stream's person with
 * after < id <= up_to, in order. */
static int replay_locked(nt_hub *h, sub *s, char (*addrs)[NT_ADDRESS_MAX], int n_addrs,
                         int64_t after, int64_t up_to, hw_status *st)
{
    hw_db *db = hw_pg_acquire(h->pool, 5000, st);
    if (!db)
        return -1;
    int rc = 0;
    for (;;) {
        nt_note *notes = NULL;
        int n = nt_store_notes_after(db, after, up_to, BATCH, addrs, n_addrs, &notes, st);
        if (n < 0) {
            rc = -1;
            break;
        }
        for (int i = 0; i < n && !s->closed; i++) {
            /* A long backlog: let the client read before queueing more,
             * rather than ending a stream that is merely catching up. */
            for (int waited = 0; waited < 10000 && hw_stream_pending(s->stream) > MAX_PENDING / 2 &&
                                 !hw_stream_closed(s->stream);
                 waited += 10) {
                struct timespec pause = {0, 10 * 1000000L};
                nanosleep(&pause, NULL);
            }
            nt_message m;
            nt_message_fill(&m, &notes[i]);
            push_locked(s, &notes[i], &m);
            nt_message_clear(&m);
        }
        if (n > 0)
            after = notes[n - 1].id;
        nt_notes_free(notes, n);
        if (n < BATCH || s->closed)
            break;
    }
    hw_pg_release(db);
    return rc;
}

void nt_hub_subscribe(nt_hub *h, hw_stream *stream, int64_t after_id, hw_status *st)
{
    const hw_principal *p = hw_call_principal(hw_stream_call(stream));
    char(*addrs)[NT_ADDRESS_MAX] = calloc(MAX_ADDRESSES, sizeof *addrs);
    sub *s = calloc(1, sizeof *s);
    if (!addrs || !s)
        abort();
    int n_addrs = nt_principal_addresses(p, addrs, MAX_ADDRESSES);

    s->hub = h;
    s->stream = stream;
    pthread_mutex_init(&s->mu, NULL);
    s->entries = calloc((size_t)n_addrs, sizeof *s->entries);
    if (!s->entries)
        abort();
    for (int i = 0; i < n_addrs; i++) {
        size_t len = strlen(addrs[i]);
        entry *e = malloc(sizeof *e + len + 1);
        if (!e)
            abort();
        memcpy(e->address, addrs[i], len + 1);
        e->hash = hash_of(e->address);
        e->sub = s;
        e->next = NULL;
        s->entries[i] = e;
    }
    s->n_entries = n_addrs;
    hw_stream_ref(stream);

    pthread_mutex_lock(&s->mu);
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < n_addrs; i++) {
        entry *e = s->entries[i];
        entry **b = &h->buckets[e->hash & (NBUCKETS - 1)];
        e->next = *b;
        *b = e;
    }
    s->next = h->all;
    if (h->all)
        h->all->prev = s;
    h->all = s;
    h->n_streams++;
    s->refs = 1;
    int64_t position = h->position;
    pthread_mutex_unlock(&h->lock);

    s->last_sent = after_id > 0 && after_id < position ? after_id : position;
    int rc = send_started(stream, position);
    if (rc == 0 && after_id > 0 && after_id < position)
        rc = replay_locked(h, s, addrs, n_addrs, after_id, position, st);
    /* Everything up to the position is now sent; the hub sends the rest. */
    if (rc == 0 && s->last_sent < position)
        s->last_sent = position;
    pthread_mutex_unlock(&s->mu);
    free(addrs);

    if (rc != 0) {
        pthread_mutex_lock(&h->lock);
        unindex_locked(h, s);
        pthread_mutex_unlock(&h->lock);
        if (hw_ok(st))
            hw_status_set(st, HW_UNAVAILABLE, "stream ended before it started");
        sub_release(s);
        return;
    }
    /* Last: if the stream has already ended this runs on_close at once. */
    hw_stream_on_close(stream, on_close, s);
}
