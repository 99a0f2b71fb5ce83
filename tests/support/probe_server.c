/* probe_server.c -- a test-only gRPC server that exercises common/'s gRPC
 * layer (hw_server, hw_client, hw_status) for tests/client/test_grpc_platform.py.
 *
 * Environment:
 *   PROBE_LISTEN          host:port (default 127.0.0.1:0; the bound port is
 *                         printed on stdout as "PORT <n>")
 *   JWT_PUBLIC_KEY_FILE   EC P-256 public key (PEM); without it every call
 *                         but health is refused
 *   JWT_ISSUER, JWT_AUDIENCE (default homeward-dev, homeward)
 *   PROBE_WORKERS, PROBE_MAX_MESSAGE, PROBE_GRACE_MS  server options
 *   PEER_ADDR             another probe server, for CallPeer
 * SIGTERM or SIGINT: graceful shutdown, exit 0. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homeward/testing/v1/probe.pb-c.h"
#include "hw_auth.h"
#include "hw_client.h"
#include "hw_log.h"
#include "hw_server.h"

typedef struct probe_ticker probe_ticker;

typedef struct probe_state {
    hw_server *server;
    hw_channel *peer;
    atomic_int open_streams, closed_streams, sleeps_cut_short, sleeps_completed;

    /* Ticks streams: one thread serves them all, as a real service would
     * serve its subscribers; no stream holds a thread. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    probe_ticker *tickers;
    bool stop;
    pthread_t thread;
} probe_state;

struct probe_ticker {
    probe_ticker *next;
    hw_stream *stream;
    probe_state *ps;
    int seq, count, interval_ms;
    int64_t next_due_ms;
    bool listed;        /* in ps->tickers, holding a stream reference */
};

static int64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void probe_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- unary methods ---- */

static void probe_echo(hw_call *call, const ProtobufCMessage *req_msg, ProtobufCMessage **resp,
                       hw_status *st, void *ctx)
{
    const Homeward__Testing__V1__EchoRequest *req =
        (const Homeward__Testing__V1__EchoRequest *)req_msg;
    Homeward__Testing__V1__EchoReply *r = hw_call_alloc(call, sizeof *r);
    homeward__testing__v1__echo_reply__init(r);
    r->text = hw_call_strdup(call, req->text);
    r->blob = req->blob;
    if (req->reply_blob_bytes > 0) {
        r->blob.len = (size_t)req->reply_blob_bytes;
        r->blob.data = hw_call_alloc(call, r->blob.len);
        memset(r->blob.data, 'x', r->blob.len);
    }
    r->subject = hw_call_strdup(call, hw_call_principal(call)->sub);
    const char *purpose = hw_call_purpose(call);
    r->purpose = hw_call_strdup(call, purpose ? purpose : "");
    int64_t left = hw_call_ms_left(call);
    r->ms_left = left == INT64_MAX ? -1 : left;
    const char *rid = hw_call_metadata(call, "x-request-id");
    r->request_id = hw_call_strdup(call, rid ? rid : "");
    *resp = &r->base;
}

static void probe_sleep(hw_call *call, const ProtobufCMessage *req_msg, ProtobufCMessage **resp,
                        hw_status *st, void *ctx)
{
    probe_state *ps = ctx;
    const Homeward__Testing__V1__SleepRequest *req =
        (const Homeward__Testing__V1__SleepRequest *)req_msg;
    int64_t start = probe_now_ms();
    /* Sleep in slices, as a handler blocked on slow work should look up
     * now and then: a caller who has gone gets no more of our time. */
    while (probe_now_ms() - start < req->ms) {
        if (hw_call_cancelled(call)) {
            atomic_fetch_add(&ps->sleeps_cut_short, 1);
            hw_status_set(st, hw_call_ms_left(call) <= 0 ? HW_DEADLINE_EXCEEDED : HW_CANCELLED,
                          "sleep cut short after %d ms", (int)(probe_now_ms() - start));
            return;
        }
        probe_sleep_ms(5);
    }
    atomic_fetch_add(&ps->sleeps_completed, 1);
    Homeward__Testing__V1__SleepReply *r = hw_call_alloc(call, sizeof *r);
    homeward__testing__v1__sleep_reply__init(r);
    r->slept_ms = (int32_t)(probe_now_ms() - start);
    *resp = &r->base;
}

static void probe_fail(hw_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp,
                       hw_status *st, void *ctx)
{
    hw_status_violation(st, "report.last_seen_at", "required");
    hw_status_violation(st, "report.home_id", "unknown home %s", "home-999");
}

static void probe_admin_only(hw_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp,
                             hw_status *st, void *ctx)
{
    Homeward__Testing__V1__AdminReply *r = hw_call_alloc(call, sizeof *r);
    homeward__testing__v1__admin_reply__init(r);
    r->subject = hw_call_strdup(call, hw_call_principal(call)->sub);
    *resp = &r->base;
}

static void probe_stats(hw_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp,
                        hw_status *st, void *ctx)
{
    probe_state *ps = ctx;
    Homeward__Testing__V1__StatsReply *r = hw_call_alloc(call, sizeof *r);
    homeward__testing__v1__stats_reply__init(r);
    r->open_streams = atomic_load(&ps->open_streams);
    r->closed_streams = atomic_load(&ps->closed_streams);
    r->sleeps_cut_short = atomic_load(&ps->sleeps_cut_short);
    r->sleeps_completed = atomic_load(&ps->sleeps_completed);
    *resp = &r->base;
}

static void probe_call_peer(hw_call *call, const ProtobufCMessage *req_msg,
                            ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    probe_state *ps = ctx;
    const Homeward__Testing__V1__CallPeerRequest *req =
        (const Homeward__Testing__V1__CallPeerRequest *)req_msg;
    if (!ps->peer) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "PEER_ADDR is not set");
        return;
    }
    /* Relay the caller's own token: the peer sees who really asked. */
    const char *authz = hw_call_metadata(call, "authorization");
    hw_call_opts o = {
        .token = authz && strlen(authz) > 7 ? authz + 7 : NULL,
        .purpose = "probe peer call",
        .timeout_ms = req->timeout_ms,
        .idempotent = req->idempotent,
        .parent = call,
    };
    hw_status pst = HW_STATUS_INIT;
    ProtobufCMessage *out = NULL;
    int64_t start = probe_now_ms();
    Homeward__Testing__V1__CallPeerReply *r = hw_call_alloc(call, sizeof *r);
    homeward__testing__v1__call_peer_reply__init(r);
    if (req->method && strcmp(req->method, "Sleep") == 0) {
        Homeward__Testing__V1__SleepRequest sr = HOMEWARD__TESTING__V1__SLEEP_REQUEST__INIT;
        sr.ms = req->sleep_ms;
        hw_client_unary(ps->peer, "/homeward.testing.v1.Probe/Sleep", &sr.base,
                        &homeward__testing__v1__sleep_reply__descriptor, &out, &o, &pst);
    } else {
        Homeward__Testing__V1__EchoRequest er = HOMEWARD__TESTING__V1__ECHO_REQUEST__INIT;
        er.text = (char *)"from peer";
        hw_client_unary(ps->peer, "/homeward.testing.v1.Probe/Echo", &er.base,
                        &homeward__testing__v1__echo_reply__descriptor, &out, &o, &pst);
        if (out)
            r->peer_ms_left = ((Homeward__Testing__V1__EchoReply *)out)->ms_left;
    }
    r->peer_code = (int32_t)pst.code;
    r->peer_message = hw_call_strdup(call, pst.message);
    r->elapsed_ms = (int32_t)(probe_now_ms() - start);
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
    *resp = &r->base;
}

static void probe_set_serving(hw_call *call, const ProtobufCMessage *req_msg,
                              ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    probe_state *ps = ctx;
    const Homeward__Testing__V1__SetServingRequest *req =
        (const Homeward__Testing__V1__SetServingRequest *)req_msg;
    hw_server_set_serving(ps->server, req->serving);
}

/* ---- Ticks: a server-streaming method ---- */

static void probe_tick_closed(hw_stream *s, void *arg)
{
    probe_ticker *t = arg;
    probe_state *ps = t->ps;
    pthread_mutex_lock(&ps->mu);
    bool listed = t->listed;
    if (listed) {
        for (probe_ticker **p = &ps->tickers; *p; p = &(*p)->next)
            if (*p == t) {
                *p = t->next;
                break;
            }
        t->listed = false;
    }
    pthread_mutex_unlock(&ps->mu);
    atomic_fetch_sub(&ps->open_streams, 1);
    atomic_fetch_add(&ps->closed_streams, 1);
    if (listed)
        hw_stream_unref(s);
    free(t);
}

static void probe_ticks(hw_stream *s, const ProtobufCMessage *req_msg, hw_status *st, void *ctx)
{
    probe_state *ps = ctx;
    const Homeward__Testing__V1__TicksRequest *req =
        (const Homeward__Testing__V1__TicksRequest *)req_msg;
    if (req->count < 0 || req->interval_ms < 0) {
        if (req->count < 0)
            hw_status_violation(st, "count", "must not be negative");
        if (req->interval_ms < 0)
            hw_status_violation(st, "interval_ms", "must not be negative");
        return;
    }
    probe_ticker *t = calloc(1, sizeof *t);
    if (!t) {
        hw_status_set(st, HW_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    t->stream = s;
    t->ps = ps;
    t->count = req->count;
    t->interval_ms = req->interval_ms;
    t->next_due_ms = probe_now_ms() + t->interval_ms;
    atomic_fetch_add(&ps->open_streams, 1);

    /* The first tick goes out from the handler itself. */
    Homeward__Testing__V1__Tick tick = HOMEWARD__TESTING__V1__TICK__INIT;
    tick.seq = t->seq++;
    hw_stream_send(s, &tick.base);

    hw_stream_ref(s); /* the ticker thread's */
    pthread_mutex_lock(&ps->mu);
    t->listed = true;
    t->next = ps->tickers;
    ps->tickers = t;
    pthread_cond_signal(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
    /* Last: if the stream has already ended this runs at once and frees t. */
    hw_stream_on_close(s, probe_tick_closed, t);
}

static void *probe_ticker_main(void *arg)
{
    probe_state *ps = arg;
    pthread_mutex_lock(&ps->mu);
    while (!ps->stop) {
        int64_t now = probe_now_ms();
        for (probe_ticker **p = &ps->tickers; *p;) {
            probe_ticker *t = *p;
            if (t->next_due_ms > now) {
                p = &t->next;
                continue;
            }
            bool done = t->count > 0 && t->seq >= t->count;
            if (!done) {
                Homeward__Testing__V1__Tick tick = HOMEWARD__TESTING__V1__TICK__INIT;
                tick.seq = t->seq++;
                done = hw_stream_send(t->stream, &tick.base) != 0;
                t->next_due_ms = now + t->interval_ms;
                if (!done) {
                    p = &t->next;
                    continue;
                }
            }
            /* All sent (or the stream ended): finish, leave the list, and
             * let the close callback free the ticker. */
            *p = t->next;
            t->listed = false;
            hw_stream *s = t->stream;
            pthread_mutex_unlock(&ps->mu);
            hw_stream_finish(s, NULL);
            hw_stream_unref(s);
            pthread_mutex_lock(&ps->mu);
            p = &ps->tickers; /* the list may have changed meanwhile */
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 5 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ps->cv, &ps->mu, &until);
    }
    pthread_mutex_unlock(&ps->mu);
    return NULL;
}

static const char *const probe_admin_roles[] = {"admin", NULL};

static const hw_method probe_methods[] = {
    {.name = "Echo", .unary = probe_echo},
    {.name = "Sleep", .unary = probe_sleep},
    {.name = "Fail", .unary = probe_fail},
    {.name = "AdminOnly", .unary = probe_admin_only, .roles = probe_admin_roles},
    {.name = "Ticks", .stream = probe_ticks},
    {.name = "Stats", .unary = probe_stats},
    {.name = "CallPeer", .unary = probe_call_peer},
    {.name = "SetServing", .unary = probe_set_serving},
};

static int probe_env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

static const char *probe_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int main(void)
{
    hw_log_init("probe");
    /* Signals are taken by sigwait below: block them before any thread
     * starts so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    static probe_state ps;
    pthread_mutex_init(&ps.mu, NULL);
    pthread_cond_init(&ps.cv, NULL);
    char err[256];

    hw_auth *auth = NULL;
    const char *keyfile = getenv("JWT_PUBLIC_KEY_FILE");
    if (keyfile && *keyfile) {
        char *pem = hw_read_file(keyfile);
        if (!pem) {
            hw_error("JWT_PUBLIC_KEY_FILE=%s: cannot read", keyfile);
            return 1;
        }
        auth = hw_auth_create(pem, probe_env("JWT_ISSUER", "homeward-dev"),
                              probe_env("JWT_AUDIENCE", "homeward"), err, sizeof err);
        free(pem);
        if (!auth) {
            hw_error("JWT_PUBLIC_KEY_FILE: %s", err);
            return 1;
        }
    }
    const char *peer = getenv("PEER_ADDR");
    if (peer && *peer && !(ps.peer = hw_channel_create(peer))) {
        hw_error("PEER_ADDR=%s: cannot create a channel", peer);
        return 1;
    }

    hw_server_opts opts = {
        .name = "probe",
        .listen_addr = probe_env("PROBE_LISTEN", "127.0.0.1:0"),
        .workers = probe_env_int("PROBE_WORKERS", 4),
        .max_message_bytes = probe_env_int("PROBE_MAX_MESSAGE", 0),
        .grace_ms = probe_env_int("PROBE_GRACE_MS", 0),
        .auth = auth,
    };
    ps.server = hw_server_create(&opts, err, sizeof err);
    if (!ps.server) {
        hw_error("server: %s", err);
        return 1;
    }
    hw_service_def def = {
        .desc = &homeward__testing__v1__probe__descriptor,
        .methods = probe_methods,
        .n_methods = sizeof probe_methods / sizeof probe_methods[0],
        .ctx = &ps,
    };
    if (hw_server_add_service(ps.server, &def) != 0)
        return 1;
    if (pthread_create(&ps.thread, NULL, probe_ticker_main, &ps) != 0)
        return 1;
    int port = hw_server_start(ps.server, err, sizeof err);
    if (port < 0) {
        hw_error("server: %s", err);
        return 1;
    }
    printf("PORT %d\n", port);
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    hw_info("signal %d: shutting down", sig);
    hw_server_shutdown(ps.server);

    pthread_mutex_lock(&ps.mu);
    ps.stop = true;
    pthread_cond_signal(&ps.cv);
    pthread_mutex_unlock(&ps.mu);
    pthread_join(ps.thread, NULL);

    hw_server_destroy(ps.server);
    hw_channel_destroy(ps.peer);
    hw_auth_free(auth);
    pthread_mutex_destroy(&ps.mu);
    pthread_cond_destroy(&ps.cv);
    return 0;
}
