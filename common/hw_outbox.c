/* hw_outbox.c -- the transactional outbox, its relay thread, and the receivers' inbox. */
#include "hw_outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_log.h"
#include "hw_time.h"

#define RELAY_BATCH 50
#define STR_(x) #x
#define STR(x) STR_(x)
/* Idle poll: events written by other replicas are not kicked here. */
#define RELAY_POLL_MS 2000
#define RELAY_BACKOFF_MIN_MS 100
#define RELAY_BACKOFF_MAX_MS 30000

int hw_outbox_add(hw_db *db, const char *type, const char *subject,
                  const char *payload_json, char *out_id, hw_status *st)
{
    if (!type || !*type || !subject || !*subject)
        return hw_status_set(st, HW_INTERNAL, "outbox event needs a type and a subject");
    char at[32];
    snprintf(at, sizeof at, "%lld", (long long)hw_now_ms());
    const char *p[] = {type, subject, payload_json && *payload_json ? payload_json : "{}", at};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO outbox (type, subject, payload, occurred_at)"
                           " VALUES ($1, $2, $3::jsonb,"
                           "  timestamptz 'epoch' + $4::bigint * interval '1 millisecond')"
                           " RETURNING id::text",
                           4, p, st);
    if (!r)
        return -1;
    if (out_id)
        snprintf(out_id, 37, "%s", hw_res_get(r, 0, 0));
    hw_res_free(r);
    return 0;
}

int hw_inbox_claim(hw_db *db, const char *event_id, hw_status *st)
{
    if (!event_id || !*event_id) {
        hw_status_violation(st, "id", "required: the event id");
        return -1;
    }
    const char *p[] = {event_id};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING",
                           1, p, st);
    if (!r)
        return -1;
    int fresh = hw_res_affected(r) == 1;
    hw_res_free(r);
    return fresh;
}

/* ---- relay ---- */

typedef struct subscriber {
    char target[256];
    bool registered;        /* row exists in outbox_subscriber */
    int64_t backoff_ms;     /* 0 while healthy */
    int64_t next_try_ms;    /* monotonic; 0 = now */
} subscriber;

struct hw_relay {
    hw_pg_pool *pool;
    char *source;
    hw_deliver_fn fn;
    void *arg;
    subscriber *subs;
    int n_subs;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool kicked, stopping;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round for one subscriber: hold its row lock (so no other replica
 * works for it meanwhile), deliver the owed events in order, record each
 * acknowledged one. Returns events delivered, or -1 on a failure (delivery
 * refused or database trouble). */
static int relay_round(hw_relay *r, subscriber *s)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(r->pool, 5000, &st);
    if (!db)
        return -1;
    const char *p[2] = {s->target, NULL};
    int delivered = 0;
    bool failed = false;

    if (!s->registered) {
        if (hw_db_run(db, "INSERT INTO outbox_subscriber (subscriber) VALUES ($1)"
                          " ON CONFLICT DO NOTHING", 1, p, &st) != 0)
            goto out_release;
        s->registered = true;
    }
    if (hw_db_begin(db, &st) != 0)
        goto out_release;
    hw_res *lock = hw_db_exec(db, "SELECT 1 FROM outbox_subscriber WHERE subscriber = $1"
                                  " FOR UPDATE SKIP LOCKED", 1, p, &st);
    if (!lock)
        goto out_rollback;
    bool mine = hw_res_rows(lock) == 1;
    hw_res_free(lock);
    if (!mine) {   /* another replica is delivering to it right now */
        hw_db_rollback(db);
        hw_pg_release(db);
        return 0;
    }
    hw_res *ev = hw_db_exec(db,
                            "SELECT o.seq, o.id::text, o.type, o.subject, o.payload::text,"
                            " (extract(epoch FROM o.occurred_at) * 1000)::bigint"
                            " FROM outbox o"
                            " WHERE NOT EXISTS (SELECT 1 FROM outbox_delivery d"
                            "   WHERE d.subscriber = $1 AND d.seq = o.seq)"
                            " ORDER BY o.seq LIMIT " STR(RELAY_BATCH),
                            1, p, &st);
    if (!ev)
        goto out_rollback;
    for (int i = 0; i < hw_res_rows(ev); i++) {
        if (r->fn(s->target, hw_res_get(ev, i, 1), r->source, hw_res_get(ev, i, 2),
                  hw_res_get(ev, i, 3), hw_res_int(ev, i, 5), hw_res_get(ev, i, 4),
                  r->arg) != 0) {
            failed = true;
            break;
        }
        p[1] = hw_res_get(ev, i, 0);
        if (hw_db_run(db, "INSERT INTO outbox_delivery (subscriber, seq) VALUES ($1, $2::bigint)",
                      2, p, &st) != 0) {
            hw_res_free(ev);
            goto out_rollback;
        }
        delivered++;
    }
    hw_res_free(ev);
    if (hw_db_commit(db, &st) != 0)
        goto out_release;
    hw_pg_release(db);
    return failed ? -1 : delivered;

out_rollback:
    hw_db_rollback(db);
out_release:
    hw_warn("outbox relay to %s: database: %s", s->target, st.message);
    hw_pg_release(db);
    return -1;
}

static void *relay_main(void *arg)
{
    hw_relay *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        pthread_mutex_unlock(&r->lock);
        int64_t now = mono_ms();
        int64_t wait_ms = RELAY_POLL_MS;
        bool more = false;
        for (int i = 0; i < r->n_subs; i++) {
            subscriber *s = &r->subs[i];
            if (s->next_try_ms <= now) {
                int n = relay_round(r, s);
                if (n < 0) {
                    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : RELAY_BACKOFF_MIN_MS;
                    if (s->backoff_ms > RELAY_BACKOFF_MAX_MS)
                        s->backoff_ms = RELAY_BACKOFF_MAX_MS;
                    s->next_try_ms = mono_ms() + s->backoff_ms;
                    hw_warn("outbox relay: delivery to %s failed, retrying in %lld ms",
                            s->target, (long long)s->backoff_ms);
                } else {
                    s->backoff_ms = 0;
                    s->next_try_ms = 0;
                    if (n == RELAY_BATCH)
                        more = true;
                }
            }
            if (s->next_try_ms) {
                int64_t left = s->next_try_ms - mono_ms();
                if (left < wait_ms)
                    wait_ms = left < 1 ? 1 : left;
            }
        }
        pthread_mutex_lock(&r->lock);
        if (more || r->kicked || r->stopping) {
            r->kicked = false;
            continue;
        }
        struct timespec until = hw_monotonic_after_ms(wait_ms);
        while (!r->kicked && !r->stopping) {
            if (pthread_cond_timedwait(&r->wake, &r->lock, &until) != 0)
                break;
        }
        r->kicked = false;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static int parse_subscribers(hw_relay *r, const char *list)
{
    if (!list)
        return 0;
    const char *q = list;
    while (*q) {
        while (*q == ' ' || *q == ',')
            q++;
        if (!*q)
            break;
        const char *end = q;
        while (*end && *end != ',')
            end++;
        size_t len = (size_t)(end - q);
        while (len && q[len - 1] == ' ')
            len--;
        if (len >= sizeof r->subs[0].target) {
            hw_error("outbox relay: subscriber address too long");
            return -1;
        }
        subscriber *ns = realloc(r->subs, (size_t)(r->n_subs + 1) * sizeof *ns);
        if (!ns)
            return -1;
        r->subs = ns;
        subscriber *s = &r->subs[r->n_subs++];
        memset(s, 0, sizeof *s);
        memcpy(s->target, q, len);
        q = end;
    }
    return 0;
}

hw_relay *hw_relay_start(hw_pg_pool *pool, const char *source, const char *subscribers,
                         hw_deliver_fn fn, void *arg)
{
    hw_relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->pool = pool;
    r->fn = fn;
    r->arg = arg;
    if (!(r->source = strdup(source ? source : "")))
        goto out_free_relay;
    if (parse_subscribers(r, subscribers) != 0)
        goto out_free_relay;
    pthread_mutex_init(&r->lock, NULL);
    hw_cond_init_monotonic(&r->wake);
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0)
        goto out_destroy_sync;
    if (r->n_subs == 0)
        hw_info("outbox relay: no subscribers configured; events are kept until one is");
    return r;

out_destroy_sync:
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
out_free_relay:
    free(r->subs);
    free(r->source);
    free(r);
    return NULL;
}

void hw_relay_kick(hw_relay *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->kicked = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void hw_relay_stop(hw_relay *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r->subs);
    free(r->source);
    free(r);
}
