/* watch.c -- WatchEpisodes: one hub thread pushes the change feed to every open stream. */
#include "watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "hw_log.h"
#include "hw_time.h"
#include "store.h"

#define POLL_MS 200          /* the feed is also kicked after every local commit */
#define BATCH 500            /* changes read per pass */
#define MAX_PENDING 256      /* a stream this far behind waits; its cursor holds */

typedef struct sub {
    struct sub *next;
    struct ep_watch *hub;
    hw_stream *stream;
    hw_principal who;        /* the call's principal, for R-SEC-1 checks: a shallow copy
                              * sharing its homes, valid while our stream ref holds the call */
    int64_t cursor;          /* last seq this stream has been given (or skipped) */
    char home_id[40];
    char child_id[40];
} sub;

struct ep_watch {
    hw_app *app;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, kicked;
    sub *subs;
};

static bool wants(const sub *s, const ep_change *c)
{
    if (s->home_id[0] && strcmp(s->home_id, c->episode->home_id) != 0) return false;
    if (s->child_id[0] && strcmp(s->child_id, c->episode->child_id) != 0) return false;
    return ep_may_see(&s->who, &c->scope); /* R-SEC-1 */
}

static int send_change(hw_stream *stream, ep_mem *m, int64_t seq, const char *change,
                       int64_t at_ms, ep_episode *episode)
{
    Homeward__Episodes__V1__EpisodeChange msg = HOMEWARD__EPISODES__V1__EPISODE_CHANGE__INIT;
    char cursor[24];
    snprintf(cursor, sizeof cursor, "%lld", (long long)seq);
    msg.cursor = cursor;
    msg.change = (char *)change;
    msg.episode = episode;
    msg.at = ep_ts(m, at_ms);
    return hw_stream_send(stream, &msg.base);
}

/* One pass: read the changes after the lowest cursor and hand each stream
 * what it may see. Returns true if there may be more to read. */
static bool pass(ep_watch *w)
{
    pthread_mutex_lock(&w->lock);
    int64_t from = -1;
    for (sub *s = w->subs; s; s = s->next)
        if (from < 0 || s->cursor < from) from = s->cursor;
    pthread_mutex_unlock(&w->lock);
    if (from < 0) return false;

    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(hw_app_pool(w->app), 1000, &st);
    if (!db) return false;
    ep_mem m = {NULL, NULL};
    ep_change *changes = NULL;
    size_t n = 0;
    int rc = ep_store_feed(db, &m, from, BATCH, &changes, &n, &st);
    hw_pg_release(db);
    if (rc != 0) {
        hw_warn("watch: reading the change feed failed: %s", st.message);
        ep_mem_release(&m);
        return false;
    }
    bool behind = false;
    pthread_mutex_lock(&w->lock);
    for (sub *s = w->subs; s; s = s->next) {
        /* A stream that joined during the read starts before `from`: this
         * batch does not hold its earlier changes, and handing it the
         * later ones would move its cursor past them. Serve it next pass. */
        if (s->cursor < from) {
            behind = true;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            ep_change *c = &changes[i];
            if (c->seq <= s->cursor) continue;
            if (hw_stream_pending(s->stream) >= MAX_PENDING) break; /* resume next pass */
            if (wants(s, c) &&
                send_change(s->stream, &m, c->seq, c->change, c->at_ms, c->episode) != 0)
                break; /* ended: its on_close will drop it */
            s->cursor = c->seq;
        }
    }
    pthread_mutex_unlock(&w->lock);
    ep_mem_release(&m);
    return n == BATCH || behind;
}

static void *hub_main(void *arg)
{
    ep_watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (!w->kicked) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)POLL_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        }
        if (w->stop) break;
        w->kicked = false;
        pthread_mutex_unlock(&w->lock);
        bool more = pass(w);
        pthread_mutex_lock(&w->lock);
        if (more) w->kicked = true;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

ep_watch *ep_watch_start(hw_app *app)
{
    ep_watch *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->app = app;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, hub_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void ep_watch_kick(ep_watch *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->kicked = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void ep_watch_stop(ep_watch *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    /* The server has ended every stream (and run on_close) by now; anything
     * left was never closed by it: forget it without touching the stream. */
    while (w->subs) {
        sub *s = w->subs;
        w->subs = s->next;
        free(s);
    }
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* The stream ended (client gone, finished, shutdown): forget it. Runs on a
 * server thread; the hub sends only under the lock, so after the unlink
 * nothing touches this stream again. */
static void on_close(hw_stream *stream, void *arg)
{
    sub *s = arg;
    ep_watch *w = s->hub;
    pthread_mutex_lock(&w->lock);
    for (sub **p = &w->subs; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    hw_stream_unref(stream);
    free(s);
}

void ep_watch_episodes(hw_stream *stream, const ProtobufCMessage *rm, hw_status *st, void *svc_ctx)
{
    const Homeward__Episodes__V1__WatchEpisodesRequest *in = (const void *)rm;
    hw_app *app = svc_ctx;
    ep_watch *w = hw_app_state(app);
    hw_call *call = hw_stream_call(stream);
    long long cursor = -1;
    if (in->after_cursor && *in->after_cursor) {
        char tail;
        if (sscanf(in->after_cursor, "%lld%c", &cursor, &tail) != 1 || cursor < 0)
            hw_status_violation(st, "after_cursor", "not a cursor this service gave");
    }
    if (in->home_id && *in->home_id && !ep_is_uuid(in->home_id))
        hw_status_violation(st, "home_id", "must be a uuid");
    if (in->child_id && *in->child_id && !ep_is_uuid(in->child_id))
        hw_status_violation(st, "child_id", "must be a uuid");
    if (!hw_ok(st)) return;

    /* From now: start after the newest change. */
    if (cursor < 0) {
        hw_db *db = hw_pg_acquire(hw_app_pool(app), 2000, st);
        if (!db) return;
        int64_t head = ep_store_feed_head(db, st);
        hw_pg_release(db);
        if (head < 0) return;
        cursor = head;
    }
    sub *s = calloc(1, sizeof *s);
    if (!s) {
        hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    s->hub = w;
    s->stream = stream;
    s->who = *hw_call_principal(call);
    s->cursor = cursor;
    snprintf(s->home_id, sizeof s->home_id, "%s", in->home_id ? in->home_id : "");
    snprintf(s->child_id, sizeof s->child_id, "%s", in->child_id ? in->child_id : "");

    /* Tell the client where it starts, so even a quiet stream has a cursor
     * to resume from. Sent before the hub knows the stream: nothing can
     * overtake it. */
    ep_mem m = {NULL, NULL};
    send_change(stream, &m, cursor, "watch.started", hw_now_ms(), NULL);
    ep_mem_release(&m);

    hw_stream_ref(stream);
    pthread_mutex_lock(&w->lock);
    s->next = w->subs;
    w->subs = s;
    w->kicked = true; /* a resumed stream may have changes waiting */
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    /* Last: if the stream has already ended this runs on_close at once. */
    hw_stream_on_close(stream, on_close, s);
}
