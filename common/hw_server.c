/* hw_server.c -- gRPC server over the C core: generic dispatch from protobuf-c
 * descriptors, unary and server-streaming calls, health, graceful shutdown.
 *
 * Threads. One completion queue, polled by HW__POLLERS threads that never
 * run service code: they accept calls, answer cheap ones at once (unknown
 * methods, health), chain stream writes and notice closes. Service handlers,
 * which block on the database, run on opts.workers threads fed from a
 * queue. So a slow handler never stops I/O or health probes, and an idle
 * stream costs memory (a call record and one posted close batch), never a
 * thread: thousands of open streams are fine.
 *
 * A call record (hw_call) is reference-counted under its mutex: `internal`
 * counts what the server itself is waiting on (the posted close batch, a
 * send batch in flight, the dispatch to a handler), `user_refs` the stream
 * references service code holds. The C-core call is released as soon as
 * the server waits on nothing more (so a forgotten stream reference cannot
 * stall shutdown); the record is freed when both counts reach zero.
 *
 * Lock order: server mu before call mu; the work queue lock is a leaf. */
#include "hw_server.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "grpc/health/v1/health.pb-c.h"
#include "hw_log.h"
#include "hw_time.h"

/* Two pollers: one can accept while the other packs a health reply or
 * runs a stream's close callback; more buys nothing on small machines. */
#define HW__POLLERS 2
/* Requests kept posted per registered method. Calls arriving while none
 * is posted wait in the core's own queue, so this only trims latency. */
#define HW__POSTED_PER_ROUTE 2
#define HW__POSTED_GENERIC 2
#define HW__DEFAULT_WORKERS 4
#define HW__DEFAULT_MAX_MESSAGE (4 * 1024 * 1024)
#define HW__DEFAULT_GRACE_MS 10000
#define HW__HEALTH_SERVICE "grpc.health.v1.Health"

enum hw__tag_kind { HW__TAG_REQUEST, HW__TAG_CLOSE, HW__TAG_SEND, HW__TAG_SHUTDOWN };

/* Every tag given to the core points at one of these. */
typedef struct hw__tag {
    enum hw__tag_kind kind;
    hw_call *call;
} hw__tag;

enum hw__builtin { HW__USER, HW__HEALTH_CHECK, HW__HEALTH_WATCH };

typedef struct hw__route {
    char *path;                       /* "/pkg.Service/Method" */
    const hw_method *method;          /* NULL for built-in routes */
    const ProtobufCMessageDescriptor *input, *output;
    void *svc_ctx;
    enum hw__builtin builtin;
    bool streaming;
    void *registered;                 /* grpc_server_register_method handle */
} hw__route;

/* Bump allocator for a call's lifetime. */
typedef struct hw__block {
    struct hw__block *next;
    size_t used, cap;
    max_align_t data[];
} hw__block;

typedef struct hw__kv {
    const char *key;
    const char *value;
} hw__kv;

typedef struct hw__out_msg {
    struct hw__out_msg *next;
    grpc_byte_buffer *bb;
} hw__out_msg;

struct hw_stream {
    hw_call *call;
};

struct hw_call {
    hw_server *srv;
    const hw__route *route;           /* NULL: a method nobody registered */
    grpc_call *core;                  /* NULL once released */
    gpr_timespec deadline;            /* the caller's; monotonic clock */
    hw__tag t_request, t_close, t_send;
    hw_stream stream;

    /* Filled by the request; emptied at dispatch. */
    grpc_metadata_array req_md;
    grpc_call_details call_details;   /* generic requests only */
    grpc_byte_buffer *payload;

    /* Set at dispatch, read-only afterwards. */
    const char *path;
    hw__kv *md;
    size_t n_md;
    hw_principal principal;           /* its homes are released with the record */
    struct timespec started;

    pthread_mutex_t mu;
    /* Under mu. */
    hw__block *arena;
    char *request_id;
    int internal, user_refs;
    int core_cancelled;               /* written by RECV_CLOSE_ON_SERVER */
    /* Health Check is answered in one batch that also receives the close:
     * one completion per call instead of two. */
    bool close_with_status;
    bool close_in_send;               /* the batch in flight carries the close */
    bool closed, send_in_flight, md_sent, finish_requested, status_started, status_done;
    bool dead;                        /* a send failed: nothing more goes out */
    bool deferred;                    /* a unary answer comes from hw_call_answer */
    hw__out_msg *q_head, *q_tail;
    size_t q_len;
    grpc_byte_buffer *sending;
    enum hw_code final_code;
    char final_msg[256];
    unsigned char *details;
    size_t details_len;
    grpc_slice status_slice;
    grpc_metadata trailer;
    void (*on_close)(hw_stream *, void *);
    void *on_close_arg;
    bool on_close_done;
    atomic_bool cancelled;            /* closed by the client, deadline or shutdown */

    /* Under srv->mu. */
    hw_call *s_prev, *s_next;
    bool in_stream_list;
    char *watch_service;              /* health Watch: the name watched */
    int watch_last;                   /* last ServingStatus sent, -1 none */

    hw_call *work_next;               /* under srv->wmu */
};

struct hw_server {
    char *name;
    char *listen_addr;
    int workers, max_message_bytes, grace_ms;
    const hw_auth *auth;

    hw__route *routes;
    size_t n_routes, cap_routes;
    char **health_names;
    size_t n_health_names;

    grpc_server *core;
    grpc_completion_queue *cq;
    pthread_t pollers[HW__POLLERS];
    pthread_t *worker_threads;
    int n_pollers, n_workers;
    hw__tag t_shutdown;

    atomic_int live_calls;            /* calls holding a core call */
    atomic_bool draining;             /* shutdown waits for live_calls == 0 */

    pthread_mutex_t mu;
    pthread_cond_t cv;                /* shutdown tag seen, or last call gone */
    bool sync_ready, grpc_ready;
    bool started, accepting, streams_closing, shutdown_tag_seen, shut_down;
    bool serving;
    hw_call *streams;                 /* open streams, for shutdown and Watch */

    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    hw_call *work_head, *work_tail;
    bool workers_stop;
};

/* ------------------------------------------------------------------ */
/* Arena                                                               */

void *hw_call_alloc(hw_call *c, size_t n)
{
    size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (need == 0)
        need = sizeof(max_align_t);
    pthread_mutex_lock(&c->mu);
    hw__block *b = c->arena;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > 2048 ? need : 2048;
        b = malloc(sizeof *b + cap);
        if (!b) {
            pthread_mutex_unlock(&c->mu);
            hw_error("out of memory in call arena (%zu bytes)", n);
            abort();
        }
        b->used = 0;
        b->cap = cap;
        b->next = c->arena;
        c->arena = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    pthread_mutex_unlock(&c->mu);
    memset(p, 0, need);
    return p;
}

static char *hw__arena_strndup(hw_call *c, const char *s, size_t n)
{
    char *p = hw_call_alloc(c, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *hw_call_strdup(hw_call *c, const char *s)
{
    return s ? hw__arena_strndup(c, s, strlen(s)) : NULL;
}

char *hw_call_printf(hw_call *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return hw_call_strdup(c, "");
    char *p = hw_call_alloc(c, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static void *hw__pb_alloc(void *data, size_t n) { return hw_call_alloc(data, n); }
static void hw__pb_free(void *data, void *p) { (void)data, (void)p; }

/* ------------------------------------------------------------------ */
/* Call records                                                        */

static hw_call *hw__call_new(hw_server *s, const hw__route *r)
{
    hw_call *c = calloc(1, sizeof *c);
    if (!c) {
        hw_error("out of memory allocating a call");
        abort();
    }
    c->srv = s;
    c->route = r;
    c->t_request = (hw__tag){HW__TAG_REQUEST, c};
    c->t_close = (hw__tag){HW__TAG_CLOSE, c};
    c->t_send = (hw__tag){HW__TAG_SEND, c};
    c->stream.call = c;
    c->watch_last = -1;
    c->internal = 1; /* the posted request */
    atomic_init(&c->cancelled, false);
    pthread_mutex_init(&c->mu, NULL);
    grpc_metadata_array_init(&c->req_md);
    grpc_call_details_init(&c->call_details);
    return c;
}

static void hw__call_free(hw_call *c)
{
    grpc_metadata_array_destroy(&c->req_md);
    grpc_call_details_destroy(&c->call_details);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    while (c->q_head) {
        hw__out_msg *m = c->q_head;
        c->q_head = m->next;
        grpc_byte_buffer_destroy(m->bb);
        free(m);
    }
    free(c->details);
    /* Last reader gone: a handler's shallow copy of the principal (the
     * episodes watch keeps one per stream, sharing homes) lives no longer
     * than its stream reference, and on_close runs under the close's hold,
     * before the final drop that brings us here. */
    hw_principal_release(&c->principal);
    while (c->arena) {
        hw__block *b = c->arena;
        c->arena = b->next;
        free(b);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Drop an internal hold or a user reference; releases the core call when
 * the server waits on nothing more, frees the record when nobody holds it. */
static void hw__drop(hw_call *c, bool internal)
{
    pthread_mutex_lock(&c->mu);
    if (internal)
        c->internal--;
    else
        c->user_refs--;
    grpc_call *core = NULL;
    if (c->internal == 0 && c->core) {
        core = c->core;
        c->core = NULL;
    }
    bool free_it = c->internal == 0 && c->user_refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (core) {
        hw_server *s = c->srv;
        grpc_call_unref(core);
        if (atomic_fetch_sub(&s->live_calls, 1) == 1 && atomic_load(&s->draining)) {
            pthread_mutex_lock(&s->mu);
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
        }
    }
    if (free_it)
        hw__call_free(c);
}

static grpc_byte_buffer *hw__pack(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice sl = grpc_slice_malloc(len);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(sl));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

/* Start the next send batch if none is in flight. Called with c->mu held.
 * The final message and the status go in one batch when they can. */
static void hw__pump_locked(hw_call *c)
{
    if (c->send_in_flight || c->status_started || c->dead || c->closed || !c->core)
        return;
    hw__out_msg *m = c->q_head;
    bool with_status = c->finish_requested && (!m || !m->next);
    if (!m && !with_status)
        return;

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!c->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    if (m) {
        c->q_head = m->next;
        if (!c->q_head)
            c->q_tail = NULL;
        c->q_len--;
        c->sending = m->bb;
        free(m);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->sending;
    }
    if (with_status) {
        c->status_slice = grpc_slice_from_copied_string(c->final_msg);
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = (grpc_status_code)c->final_code;
        ops[n].data.send_status_from_server.status_details = &c->status_slice;
        if (c->details) {
            c->trailer.key = grpc_slice_from_static_string("grpc-status-details-bin");
            c->trailer.value = grpc_slice_from_copied_buffer((const char *)c->details,
                                                             c->details_len);
            ops[n].data.send_status_from_server.trailing_metadata_count = 1;
            ops[n].data.send_status_from_server.trailing_metadata = &c->trailer;
        }
        n++;
        c->status_started = true;
        if (c->close_with_status) {
            ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
            ops[n++].data.recv_close_on_server.cancelled = &c->core_cancelled;
        }
    }
    grpc_call_error e = grpc_call_start_batch(c->core, ops, n, &c->t_send, NULL);
    if (e != GRPC_CALL_OK) {
        /* Nothing was started: undo what the batch would have released. */
        hw_error("grpc_call_start_batch (send) failed: %d", (int)e);
        c->dead = true;
        if (c->sending) {
            grpc_byte_buffer_destroy(c->sending);
            c->sending = NULL;
        }
        if (with_status) {
            grpc_slice_unref(c->status_slice);
            if (c->details)
                grpc_slice_unref(c->trailer.value);
            c->status_done = true;
        }
        return;
    }
    c->send_in_flight = true;
    c->internal++;
    if (with_status && c->close_with_status) {
        c->close_in_send = true;
        c->internal++;   /* the close's hold, released by hw__on_close */
    }
}

/* Queue an optional message and, with finish set, the status after it.
 * Returns 0, or -1 if the call has already ended (bb and details freed). */
static int hw__complete(hw_call *c, grpc_byte_buffer *bb, bool finish, enum hw_code code,
                         const char *msg, unsigned char *details, size_t details_len)
{
    hw__out_msg *m = NULL;
    if (bb) {
        m = malloc(sizeof *m);
        if (!m) {
            hw_error("out of memory queueing a message");
            abort();
        }
        m->bb = bb;
        m->next = NULL;
    }
    pthread_mutex_lock(&c->mu);
    if (c->finish_requested || c->closed || c->dead) {
        pthread_mutex_unlock(&c->mu);
        if (m) {
            grpc_byte_buffer_destroy(m->bb);
            free(m);
        }
        free(details);
        return -1;
    }
    if (m) {
        if (c->q_tail)
            c->q_tail->next = m;
        else
            c->q_head = m;
        c->q_tail = m;
        c->q_len++;
    }
    if (finish) {
        c->finish_requested = true;
        c->final_code = code;
        snprintf(c->final_msg, sizeof c->final_msg, "%s", msg ? msg : "");
        c->details = details;
        c->details_len = details_len;
        details = NULL;
    }
    hw__pump_locked(c);
    pthread_mutex_unlock(&c->mu);
    free(details);
    return 0;
}

/* End the call with st (message, details for any non-OK code). */
static void hw__finish_status(hw_call *c, grpc_byte_buffer *bb, const hw_status *st)
{
    unsigned char *details = NULL;
    size_t details_len = 0;
    if (st->code != HW_OK && hw_status_to_details(st, &details, &details_len) != 0)
        details = NULL; /* out of memory: the code and message still go */
    hw__complete(c, bb, true, st->code, st->message, details, details_len);
}

static void hw__finish_code(hw_call *c, enum hw_code code, const char *msg)
{
    hw_status st = HW_STATUS_INIT;
    hw_status_set(&st, code, "%s", msg);
    hw__finish_status(c, NULL, &st);
}

/* ------------------------------------------------------------------ */
/* Stream list (under srv->mu)                                         */

/* Add an open stream; false if it already closed or shutdown has begun.
 * Checked under both locks so a close on another thread either sees the
 * entry (and removes it) or happens first (and it is never added). A
 * health Watch also takes the registry's user reference here. */
static bool hw__stream_list_add_locked(hw_server *s, hw_call *c, bool take_ref)
{
    if (s->streams_closing)
        return false;
    pthread_mutex_lock(&c->mu);
    bool closed = c->closed;
    if (!closed && take_ref)
        c->user_refs++;
    pthread_mutex_unlock(&c->mu);
    if (closed)
        return false;
    c->s_prev = NULL;
    c->s_next = s->streams;
    if (s->streams)
        s->streams->s_prev = c;
    s->streams = c;
    c->in_stream_list = true;
    return true;
}

/* Returns whether the call was in the list. */
static bool hw__stream_list_remove(hw_server *s, hw_call *c)
{
    pthread_mutex_lock(&s->mu);
    bool was = c->in_stream_list;
    if (was) {
        if (c->s_prev)
            c->s_prev->s_next = c->s_next;
        else
            s->streams = c->s_next;
        if (c->s_next)
            c->s_next->s_prev = c->s_prev;
        c->in_stream_list = false;
    }
    pthread_mutex_unlock(&s->mu);
    return was;
}

/* ------------------------------------------------------------------ */
/* Handlers' view of a call                                            */

const hw_principal *hw_call_principal(const hw_call *c) { return &c->principal; }
const char *hw_call_method(const hw_call *c) { return c->path ? c->path : ""; }

const char *hw_call_metadata(hw_call *c, const char *key)
{
    for (size_t i = 0; i < c->n_md; i++)
        if (strcasecmp(c->md[i].key, key) == 0)
            return c->md[i].value;
    return NULL;
}

const char *hw_call_purpose(hw_call *c) { return hw_call_metadata(c, "x-purpose"); }

int64_t hw_call_ms_left(const hw_call *c)
{
    if (c->deadline.tv_sec == INT64_MAX)
        return INT64_MAX;
    gpr_timespec now = gpr_now(c->deadline.clock_type);
    gpr_timespec left = gpr_time_sub(c->deadline, now);
    return (int64_t)left.tv_sec * 1000 + left.tv_nsec / 1000000;
}

bool hw_call_cancelled(const hw_call *c)
{
    return atomic_load(&c->cancelled) || hw_call_ms_left(c) <= 0;
}

void hw_call_set_request_id(hw_call *c, const char *request_id)
{
    char *copy = hw_call_strdup(c, request_id);
    pthread_mutex_lock(&c->mu);
    c->request_id = copy;
    pthread_mutex_unlock(&c->mu);
}

void *hw_call_core(const hw_call *c) { return c->core; }

/* ------------------------------------------------------------------ */
/* Streams                                                             */

hw_call *hw_stream_call(hw_stream *s) { return s->call; }

void hw_stream_ref(hw_stream *s)
{
    pthread_mutex_lock(&s->call->mu);
    s->call->user_refs++;
    pthread_mutex_unlock(&s->call->mu);
}

void hw_stream_unref(hw_stream *s)
{
    hw_call *c = s->call;
    /* The last reference gone and no status given: nobody can end the
     * stream any more, so end it with OK now. */
    pthread_mutex_lock(&c->mu);
    if (c->user_refs == 1 && !c->finish_requested && !c->closed && !c->dead) {
        c->finish_requested = true;
        c->final_code = HW_OK;
        c->final_msg[0] = '\0';
        hw__pump_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    hw__drop(c, false);
}

int hw_stream_send(hw_stream *s, const ProtobufCMessage *msg)
{
    hw_call *c = s->call;
    if (!msg)
        return -1;
    pthread_mutex_lock(&c->mu);
    bool ended = c->finish_requested || c->closed || c->dead;
    pthread_mutex_unlock(&c->mu);
    if (ended)
        return -1;
    /* Packed outside the lock: the caller's thread pays for its message. */
    return hw__complete(c, hw__pack(msg), false, HW_OK, NULL, NULL, 0);
}

size_t hw_stream_pending(hw_stream *s)
{
    pthread_mutex_lock(&s->call->mu);
    size_t n = s->call->q_len + (s->call->sending ? 1 : 0);
    pthread_mutex_unlock(&s->call->mu);
    return n;
}

void hw_stream_finish(hw_stream *s, const hw_status *st)
{
    hw_status ok = HW_STATUS_INIT;
    hw__finish_status(s->call, NULL, st ? st : &ok);
}

bool hw_stream_closed(hw_stream *s)
{
    pthread_mutex_lock(&s->call->mu);
    bool ended = s->call->finish_requested || s->call->closed || s->call->dead;
    pthread_mutex_unlock(&s->call->mu);
    return ended;
}

void hw_stream_on_close(hw_stream *s, void (*fn)(hw_stream *, void *), void *arg)
{
    hw_call *c = s->call;
    pthread_mutex_lock(&c->mu);
    bool run_now = c->closed && !c->on_close_done;
    c->on_close = fn;
    c->on_close_arg = arg;
    if (run_now)
        c->on_close_done = true;
    pthread_mutex_unlock(&c->mu);
    /* Registered after the stream already ended: tell the caller at once
     * (we are on a worker, which is a server thread too). */
    if (run_now && fn)
        fn(s, arg);
}

/* ------------------------------------------------------------------ */
/* Health                                                              */

/* ServingStatus for a service name, or -1 if the name is unknown. */
static int hw__health_status_locked(hw_server *s, const char *service)
{
    bool known = service[0] == '\0';
    for (size_t i = 0; !known && i < s->n_health_names; i++)
        known = strcmp(s->health_names[i], service) == 0;
    if (!known)
        return -1;
    return s->serving ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                      : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static grpc_byte_buffer *hw__health_reply(int status)
{
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
    return hw__pack(&r.base);
}

/* Runs on a poller: cheap, never blocks, needs no token. */
static void hw__health(hw_call *c, const ProtobufCMessage *msg)
{
    hw_server *s = c->srv;
    const Grpc__Health__V1__HealthCheckRequest *req =
        (const Grpc__Health__V1__HealthCheckRequest *)msg;
    const char *service = req->service ? req->service : "";

    pthread_mutex_lock(&s->mu);
    int status = hw__health_status_locked(s, service);
    if (c->route->builtin == HW__HEALTH_CHECK) {
        pthread_mutex_unlock(&s->mu);
        if (status < 0)
            hw__finish_code(c, HW_NOT_FOUND, "unknown service");
        else
            hw__complete(c, hw__health_reply(status), true, HW_OK, "", NULL, 0);
        return;
    }
    /* Watch: report now, then on every change until the stream ends. The
     * health registry holds a user reference until the close. */
    if (status < 0)
        status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    c->watch_service = hw_call_strdup(c, service);
    c->watch_last = status;
    bool open = hw__stream_list_add_locked(s, c, true);
    bool closing = s->streams_closing;
    if (open)
        hw__complete(c, hw__health_reply(status), false, HW_OK, NULL, NULL, 0);
    pthread_mutex_unlock(&s->mu);
    if (!open && closing)
        hw__finish_code(c, HW_UNAVAILABLE, "server shutting down");
}

void hw_server_set_serving(hw_server *s, bool serving)
{
    pthread_mutex_lock(&s->mu);
    s->serving = serving;
    for (hw_call *c = s->streams; c; c = c->s_next) {
        if (!c->route || c->route->builtin != HW__HEALTH_WATCH)
            continue;
        int status = hw__health_status_locked(s, c->watch_service);
        if (status < 0 || status == c->watch_last)
            continue;
        c->watch_last = status;
        hw__complete(c, hw__health_reply(status), false, HW_OK, NULL, NULL, 0);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

static void hw__post_request(hw_server *s, const hw__route *r)
{
    hw_call *c = hw__call_new(s, r);
    grpc_call_error e = GRPC_CALL_ERROR;
    /* Under mu so no request is posted once shutdown has begun. */
    pthread_mutex_lock(&s->mu);
    if (s->accepting) {
        if (r)
            e = grpc_server_request_registered_call(s->core, r->registered, &c->core,
                                                    &c->deadline, &c->req_md, &c->payload,
                                                    s->cq, s->cq, &c->t_request);
        else
            e = grpc_server_request_call(s->core, &c->core, &c->call_details, &c->req_md, s->cq,
                                         s->cq, &c->t_request);
    }
    pthread_mutex_unlock(&s->mu);
    if (e != GRPC_CALL_OK)
        hw__call_free(c);
}

static int hw__authenticate(hw_call *c, hw_status *st)
{
    hw_server *s = c->srv;
    const char *h = hw_call_metadata(c, "authorization");
    if (!h || !*h)
        return hw_status_set(st, HW_UNAUTHENTICATED, "missing bearer token");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return hw_status_set(st, HW_UNAUTHENTICATED, "authorization is not a bearer token");
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    if (!s->auth)
        return hw_status_set(st, HW_UNAUTHENTICATED, "token verification is not configured");
    char err[160] = "";
    /* Verify overwrites the principal: drop any homes a previous one held.
     * A refused token leaves it empty, nothing allocated. */
    hw_principal_release(&c->principal);
    if (hw_auth_verify(s->auth, token, (int64_t)time(NULL), &c->principal, err, sizeof err) != 0)
        return hw_status_set(st, HW_UNAUTHENTICATED, "invalid token: %s", err);
    const char *const *roles = c->route->method->roles;
    if (!roles)
        return 0;
    for (size_t i = 0; roles[i]; i++)
        if (hw_principal_has_role(&c->principal, roles[i]))
            return 0;
    return hw_status_set(st, HW_PERMISSION_DENIED, "role not permitted for %s",
                         c->route->method->name);
}

/* Unpack the request into the call's arena; the payload is consumed. */
static int hw__unpack(hw_call *c, ProtobufCMessage **req, hw_status *st)
{
    grpc_byte_buffer *bb = c->payload;
    c->payload = NULL;
    if (!bb)
        return hw_status_set(st, HW_INVALID_ARGUMENT, "request message missing");
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) {
        grpc_byte_buffer_destroy(bb);
        return hw_status_set(st, HW_INVALID_ARGUMENT, "request message unreadable");
    }
    grpc_slice sl = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(bb);
    ProtobufCAllocator alloc = {hw__pb_alloc, hw__pb_free, c};
    *req = protobuf_c_message_unpack(c->route->input, &alloc, GRPC_SLICE_LENGTH(sl),
                                     GRPC_SLICE_START_PTR(sl));
    grpc_slice_unref(sl);
    if (!*req)
        return hw_status_set(st, HW_INVALID_ARGUMENT, "request does not parse as %s",
                             c->route->input->name);
    return 0;
}

/* On a worker: authenticate, unpack, run the handler, reply. */
/* Pack a unary handler's answer (or its status) and finish the call. */
static void hw__answer(hw_call *c, const ProtobufCMessage *resp, hw_status *st)
{
    const hw__route *r = c->route;
    grpc_byte_buffer *bb = NULL;
    if (hw_ok(st)) {
        if (resp && resp->descriptor != r->output) {
            hw_error("%s: handler returned a %s, expected %s", c->path,
                     resp->descriptor->name, r->output->name);
            hw_status_set(st, HW_INTERNAL, "internal error");
        } else if (resp) {
            bb = hw__pack(resp);
        } else {
            grpc_slice empty = grpc_empty_slice();
            bb = grpc_raw_byte_buffer_create(&empty, 1);
        }
    }
    hw__finish_status(c, bb, st);
}

static void hw__run(hw_call *c)
{
    hw_server *s = c->srv;
    const hw__route *r = c->route;
    pthread_mutex_lock(&c->mu);
    bool gone = c->closed;
    pthread_mutex_unlock(&c->mu);
    if (gone)
        return; /* cancelled while queued: nobody is listening */

    hw_status st = HW_STATUS_INIT;
    ProtobufCMessage *req = NULL;
    if (hw__authenticate(c, &st) != 0 || hw__unpack(c, &req, &st) != 0) {
        hw__finish_status(c, NULL, &st);
        return;
    }
    if (r->streaming) {
        pthread_mutex_lock(&s->mu);
        bool open = hw__stream_list_add_locked(s, c, false);
        bool closing = s->streams_closing;
        pthread_mutex_unlock(&s->mu);
        if (!open) {
            if (closing)
                hw__finish_code(c, HW_UNAVAILABLE, "server shutting down");
            return;
        }
        /* The handler's own reference: when it is the last one dropped
         * without a status, the stream ends with OK. */
        hw_stream_ref(&c->stream);
        r->method->stream(&c->stream, req, &st, r->svc_ctx);
        if (!hw_ok(&st))
            hw__finish_status(c, NULL, &st);
        hw_stream_unref(&c->stream);
        return;
    }
    ProtobufCMessage *resp = NULL;
    r->method->unary(c, req, &resp, &st, r->svc_ctx);
    pthread_mutex_lock(&c->mu);
    bool deferred = c->deferred;
    pthread_mutex_unlock(&c->mu);
    if (!deferred) /* else hw_call_answer answers, perhaps already has */
        hw__answer(c, resp, &st);
}

void hw_call_defer(hw_call *c)
{
    pthread_mutex_lock(&c->mu);
    c->deferred = true;
    c->internal++; /* released by hw_call_answer */
    pthread_mutex_unlock(&c->mu);
}

void hw_call_answer(hw_call *c, const ProtobufCMessage *resp, const hw_status *st)
{
    hw_status copy = *st;
    hw__answer(c, resp, &copy);
    hw__drop(c, true);
}

static void *hw__worker(void *arg)
{
    hw_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->wmu);
        while (!s->work_head && !s->workers_stop)
            pthread_cond_wait(&s->wcv, &s->wmu);
        hw_call *c = s->work_head;
        if (!c) {
            pthread_mutex_unlock(&s->wmu);
            break;
        }
        s->work_head = c->work_next;
        if (!s->work_head)
            s->work_tail = NULL;
        pthread_mutex_unlock(&s->wmu);
        hw__run(c);
        hw__drop(c, true); /* the dispatch hold */
    }
    return NULL;
}

static void hw__enqueue_work(hw_server *s, hw_call *c)
{
    c->work_next = NULL;
    pthread_mutex_lock(&s->wmu);
    if (s->work_tail)
        s->work_tail->work_next = c;
    else
        s->work_head = c;
    s->work_tail = c;
    pthread_mutex_unlock(&s->wmu);
    /* After unlocking: a worker woken under the lock would only block on it. */
    pthread_cond_signal(&s->wcv);
}

/* Copy what the call needs from the core's request into the arena. */
static void hw__take_request(hw_call *c)
{
    if (!c->route) {
        c->path = hw__arena_strndup(c, (const char *)GRPC_SLICE_START_PTR(c->call_details.method),
                                    GRPC_SLICE_LENGTH(c->call_details.method));
        c->deadline = c->call_details.deadline;
        grpc_call_details_destroy(&c->call_details);
        grpc_call_details_init(&c->call_details);
    } else {
        c->path = c->route->path;
    }
    c->n_md = c->req_md.count;
    if (c->n_md) {
        c->md = hw_call_alloc(c, c->n_md * sizeof *c->md);
        for (size_t i = 0; i < c->n_md; i++) {
            const grpc_metadata *m = &c->req_md.metadata[i];
            c->md[i].key = hw__arena_strndup(c, (const char *)GRPC_SLICE_START_PTR(m->key),
                                             GRPC_SLICE_LENGTH(m->key));
            c->md[i].value = hw__arena_strndup(c, (const char *)GRPC_SLICE_START_PTR(m->value),
                                               GRPC_SLICE_LENGTH(m->value));
        }
    }
    grpc_metadata_array_destroy(&c->req_md);
    grpc_metadata_array_init(&c->req_md);
    c->request_id = (char *)hw_call_metadata(c, "x-request-id");
}

static void hw__on_request(hw_call *c, bool ok)
{
    hw_server *s = c->srv;
    if (!ok) {
        /* The server is shutting down: the request was never filled. */
        hw__call_free(c);
        return;
    }
    atomic_fetch_add(&s->live_calls, 1);
    hw__post_request(s, c->route);
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    hw__take_request(c);

    /* A health Check is answered right here, without blocking: its close
     * rides in the answer's batch (see hw__pump_locked). */
    if (c->route && c->route->builtin == HW__HEALTH_CHECK) {
        c->close_with_status = true;
        hw_status st = HW_STATUS_INIT;
        ProtobufCMessage *req = NULL;
        if (hw__unpack(c, &req, &st) == 0)
            hw__health(c, req);
        else
            hw__finish_status(c, NULL, &st);
        hw__drop(c, true);
        return;
    }

    /* Hear about the end of the call early: a client cancel, the deadline,
     * or shutdown, whichever comes first. */
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->core_cancelled;
    pthread_mutex_lock(&c->mu);
    grpc_call_error e = grpc_call_start_batch(c->core, &op, 1, &c->t_close, NULL);
    if (e == GRPC_CALL_OK)
        c->internal++;
    pthread_mutex_unlock(&c->mu);
    if (e != GRPC_CALL_OK) {
        hw_error("%s: grpc_call_start_batch (close) failed: %d", c->path, (int)e);
        grpc_call_cancel(c->core, NULL);
        hw__drop(c, true);
        return;
    }

    if (!c->route) {
        hw_status st = HW_STATUS_INIT;
        hw_status_set(&st, HW_UNIMPLEMENTED, "unknown method %.200s", c->path);
        hw__finish_status(c, NULL, &st);
        hw__drop(c, true);
        return;
    }
    if (c->route->builtin != HW__USER) {
        hw_status st = HW_STATUS_INIT;
        ProtobufCMessage *req = NULL;
        if (hw__unpack(c, &req, &st) == 0)
            hw__health(c, req);
        else
            hw__finish_status(c, NULL, &st);
        hw__drop(c, true);
        return;
    }
    hw__enqueue_work(s, c); /* the request hold becomes the dispatch hold */
}

static void hw__on_sent(hw_call *c, bool ok)
{
    pthread_mutex_lock(&c->mu);
    c->send_in_flight = false;
    if (c->sending) {
        grpc_byte_buffer_destroy(c->sending);
        c->sending = NULL;
    }
    if (c->status_started && !c->status_done) {
        grpc_slice_unref(c->status_slice);
        if (c->details)
            grpc_slice_unref(c->trailer.value);
        c->status_done = true;
    }
    if (!ok)
        c->dead = true; /* the stream is broken: the close will follow */
    else
        hw__pump_locked(c);
    pthread_mutex_unlock(&c->mu);
    hw__drop(c, true);
}

static void hw__on_close(hw_call *c)
{
    hw_server *s = c->srv;
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    bool cancelled = c->core_cancelled != 0;
    atomic_store(&c->cancelled, cancelled);
    while (c->q_head) {
        hw__out_msg *m = c->q_head;
        c->q_head = m->next;
        grpc_byte_buffer_destroy(m->bb);
        free(m);
    }
    c->q_tail = NULL;
    c->q_len = 0;
    void (*fn)(hw_stream *, void *) = NULL;
    if (c->on_close && !c->on_close_done) {
        fn = c->on_close;
        c->on_close_done = true;
    }
    int code = c->status_started ? (int)c->final_code : HW_UNKNOWN;
    if (cancelled)
        code = hw_call_ms_left(c) <= 0 ? HW_DEADLINE_EXCEEDED : HW_CANCELLED;
    const char *request_id = c->request_id;
    pthread_mutex_unlock(&c->mu);

    bool watch = c->route && c->route->builtin == HW__HEALTH_WATCH;
    bool listed = hw__stream_list_remove(s, c);
    /* Runs while the close's hold keeps the record (and its principal's
     * homes) alive: a stream's state that copied the principal, such as the
     * episodes watch's sub, is freed here, before hw__call_free. */
    if (fn)
        fn(&c->stream, c->on_close_arg);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (double)(now.tv_sec - c->started.tv_sec) * 1e3 +
                (double)(now.tv_nsec - c->started.tv_nsec) / 1e6;
    /* Health checks answer probes every few seconds; logging each would
     * bury the calls that matter. Unhealthy answers are still logged. */
    bool quiet = c->route && c->route->builtin == HW__HEALTH_CHECK && code == HW_OK;
    if (!quiet)
        hw_log_call(c->path, request_id, code, ms,
                    code == HW_OK ? NULL : cancelled ? hw_code_name((enum hw_code)code)
                                                     : c->final_msg);
    if (watch && listed)
        hw__drop(c, false); /* the health registry's reference */
    hw__drop(c, true);
}

static void *hw__poller(void *arg)
{
    hw_server *s = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        hw__tag *t = ev.tag;
        switch (t->kind) {
        case HW__TAG_REQUEST:
            hw__on_request(t->call, ev.success != 0);
            break;
        case HW__TAG_SEND: {
            hw_call *c = t->call;
            pthread_mutex_lock(&c->mu);
            bool with_close = c->close_in_send;
            pthread_mutex_unlock(&c->mu);
            hw__on_sent(c, ev.success != 0);   /* the close's hold keeps c alive */
            if (with_close)
                hw__on_close(c);
            break;
        }
        case HW__TAG_CLOSE:
            hw__on_close(t->call);
            break;
        case HW__TAG_SHUTDOWN:
            pthread_mutex_lock(&s->mu);
            s->shutdown_tag_seen = true;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            break;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Setup and shutdown                                                  */

static int hw__add_route(hw_server *s, hw__route r)
{
    for (size_t i = 0; i < s->n_routes; i++)
        if (strcmp(s->routes[i].path, r.path) == 0) {
            hw_error("method %s registered twice", r.path);
            return -1;
        }
    if (s->n_routes == s->cap_routes) {
        size_t cap = s->cap_routes ? s->cap_routes * 2 : 16;
        hw__route *nr = realloc(s->routes, cap * sizeof *nr);
        if (!nr)
            return -1;
        s->routes = nr;
        s->cap_routes = cap;
    }
    s->routes[s->n_routes++] = r;
    return 0;
}

static char *hw__path(const char *service, const char *method)
{
    size_t n = strlen(service) + strlen(method) + 3;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "/%s/%s", service, method);
    return p;
}

static int hw__add_health_name(hw_server *s, const char *name)
{
    if (!name || !*name)
        return 0;
    for (size_t i = 0; i < s->n_health_names; i++)
        if (strcmp(s->health_names[i], name) == 0)
            return 0;
    char **nn = realloc(s->health_names, (s->n_health_names + 1) * sizeof *nn);
    if (!nn)
        return -1;
    s->health_names = nn;
    if (!(nn[s->n_health_names] = strdup(name)))
        return -1;
    s->n_health_names++;
    return 0;
}

hw_server *hw_server_create(const hw_server_opts *opts, char *err, size_t errlen)
{
    if (!opts || !opts->listen_addr) {
        snprintf(err, errlen, "listen address missing");
        return NULL;
    }
    hw_server *s = calloc(1, sizeof *s);
    if (!s)
        goto out_nomem;
    s->name = strdup(opts->name ? opts->name : "");
    s->listen_addr = strdup(opts->listen_addr);
    if (!s->name || !s->listen_addr)
        goto out_free_server;
    s->workers = opts->workers > 0 ? opts->workers : HW__DEFAULT_WORKERS;
    s->max_message_bytes = opts->max_message_bytes > 0 ? opts->max_message_bytes
                                                       : HW__DEFAULT_MAX_MESSAGE;
    s->grace_ms = opts->grace_ms > 0 ? opts->grace_ms : HW__DEFAULT_GRACE_MS;
    s->auth = opts->auth;
    s->serving = true;
    s->t_shutdown = (hw__tag){HW__TAG_SHUTDOWN, NULL};
    atomic_init(&s->live_calls, 0);
    atomic_init(&s->draining, false);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->wcv, NULL);
    hw_cond_init_monotonic(&s->cv);
    s->sync_ready = true;
    if (hw__add_health_name(s, s->name) != 0)
        goto out_free_server;

    static const char *const health_methods[] = {"Check", "Watch"};
    for (int i = 0; i < 2; i++) {
        hw__route r = {0};
        r.path = hw__path(HW__HEALTH_SERVICE, health_methods[i]);
        r.input = &grpc__health__v1__health_check_request__descriptor;
        r.output = &grpc__health__v1__health_check_response__descriptor;
        r.builtin = i == 0 ? HW__HEALTH_CHECK : HW__HEALTH_WATCH;
        r.streaming = i == 1;
        if (!r.path || hw__add_route(s, r) != 0) {
            free(r.path);
            goto out_free_server;
        }
    }
    grpc_init();
    s->grpc_ready = true;
    return s;

out_free_server:
    hw_server_destroy(s);
out_nomem:
    snprintf(err, errlen, "out of memory");
    return NULL;
}

int hw_server_add_service(hw_server *s, const hw_service_def *def)
{
    if (s->started) {
        hw_error("hw_server_add_service after start");
        return -1;
    }
    const ProtobufCServiceDescriptor *d = def->desc;
    for (size_t i = 0; i < def->n_methods; i++) {
        const hw_method *m = &def->methods[i];
        const ProtobufCMethodDescriptor *md = NULL;
        for (unsigned j = 0; j < d->n_methods; j++)
            if (strcmp(d->methods[j].name, m->name) == 0)
                md = &d->methods[j];
        if (!md) {
            hw_error("%s has no method %s", d->name, m->name);
            return -1;
        }
        if (!m->unary == !m->stream) {
            hw_error("%s/%s: set exactly one of unary and stream", d->name, m->name);
            return -1;
        }
        hw__route r = {0};
        r.path = hw__path(d->name, m->name);
        r.method = m;
        r.input = md->input;
        r.output = md->output;
        r.svc_ctx = def->ctx;
        r.builtin = HW__USER;
        r.streaming = m->stream != NULL;
        if (!r.path || hw__add_route(s, r) != 0) {
            free(r.path);
            return -1;
        }
    }
    return hw__add_health_name(s, d->name);
}

int hw_server_start(hw_server *s, char *err, size_t errlen)
{
    if (s->started) {
        snprintf(err, errlen, "server already started");
        return -1;
    }
    /* Mobile clients sit behind NATs that drop idle connections: allow
     * their keepalive pings (every 10 s at most, also with no call open,
     * never counted as abuse), and ping idle clients every minute so a
     * phone that vanished does not keep its streams open for hours. */
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = s->max_message_bytes}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = s->max_message_bytes}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, {.integer = 10000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 1}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PING_STRIKES, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = 60000}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, {.integer = 20000}},
    };
    grpc_channel_args ca = {sizeof args / sizeof args[0], args};
    s->core = grpc_server_create(&ca, NULL);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->core, s->cq, NULL);
    for (size_t i = 0; i < s->n_routes; i++) {
        s->routes[i].registered = grpc_server_register_method(
            s->core, s->routes[i].path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        if (!s->routes[i].registered) {
            snprintf(err, errlen, "cannot register %s", s->routes[i].path);
            goto out_destroy_core;
        }
    }
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(s->core, s->listen_addr, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        snprintf(err, errlen, "cannot listen on %s", s->listen_addr);
        goto out_destroy_core;
    }
    grpc_server_start(s->core);
    s->started = true;
    s->accepting = true;

    /* Pollers first: shutdown needs at least one to hear the tags, and a
     * process that cannot start a single thread cannot serve at all. */
    for (int i = 0; i < HW__POLLERS; i++) {
        if (pthread_create(&s->pollers[i], NULL, hw__poller, s) != 0) {
            if (s->n_pollers == 0) {
                hw_error("cannot start a poller thread: %s", strerror(errno));
                abort();
            }
            break;
        }
        s->n_pollers++;
    }
    s->worker_threads = calloc((size_t)s->workers, sizeof *s->worker_threads);
    if (!s->worker_threads) {
        snprintf(err, errlen, "out of memory");
        goto out_stop;
    }
    for (int i = 0; i < s->workers; i++) {
        if (pthread_create(&s->worker_threads[i], NULL, hw__worker, s) != 0) {
            snprintf(err, errlen, "cannot start worker thread: %s", strerror(errno));
            goto out_stop;
        }
        s->n_workers++;
    }
    for (size_t i = 0; i < s->n_routes; i++)
        for (int k = 0; k < HW__POSTED_PER_ROUTE; k++)
            hw__post_request(s, &s->routes[i]);
    for (int k = 0; k < HW__POSTED_GENERIC; k++)
        hw__post_request(s, NULL);
    hw_info("serving %s on %s (port %d, %d workers)", s->name, s->listen_addr, port, s->workers);
    return port;

out_stop:
    /* Threads may be running: stop through the ordinary path. */
    hw_server_shutdown(s);
    return -1;
out_destroy_core:
    grpc_server_destroy(s->core);
    grpc_completion_queue_shutdown(s->cq);
    grpc_completion_queue_destroy(s->cq);
    s->core = NULL;
    s->cq = NULL;
    return -1;
}

/* Wait until no call holds a core call and, with need_tag, the shutdown
 * tag has come too; timeout_ms < 0 waits without limit. The tag alone is
 * not enough: the core sends it once the client connections are gone,
 * which can be before the last calls are released. */
static void hw__wait_drained(hw_server *s, int timeout_ms, bool need_tag)
{
    struct timespec until = hw_monotonic_after_ms(timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (atomic_load(&s->live_calls) > 0 || (need_tag && !s->shutdown_tag_seen)) {
        if (timeout_ms < 0)
            pthread_cond_wait(&s->cv, &s->mu);
        else if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->mu);
}

void hw_server_shutdown(hw_server *s)
{
    if (!s || !s->started || s->shut_down)
        return;
    s->shut_down = true;
    hw_server_set_serving(s, false); /* watchers hear NOT_SERVING first */

    /* Stop reposting requests and end every open stream: a stream has no
     * natural end, so waiting the grace period for one is pointless. */
    pthread_mutex_lock(&s->mu);
    s->accepting = false;
    s->streams_closing = true;
    for (hw_call *c = s->streams; c; c = c->s_next)
        hw__finish_code(c, HW_UNAVAILABLE, "server shutting down");
    pthread_mutex_unlock(&s->mu);

    atomic_store(&s->draining, true);
    grpc_server_shutdown_and_notify(s->core, s->cq, &s->t_shutdown);
    /* Let the calls in flight finish. Idle client connections are not
     * waited for (clients take their time closing them): once no call is
     * left they are cut below. */
    hw__wait_drained(s, s->grace_ms, false);
    if (atomic_load(&s->live_calls) > 0)
        hw_warn("shutdown grace of %d ms over: cancelling %d calls still running", s->grace_ms,
                atomic_load(&s->live_calls));
    /* Cancels what is left and disconnects every client connection. */
    grpc_server_cancel_all_calls(s->core);
    /* Handlers see their calls cancelled and return; then every call is
     * released and the tag comes. */
    hw__wait_drained(s, -1, true);

    /* No call is left, so no handler runs and nothing is queued. */
    pthread_mutex_lock(&s->wmu);
    s->workers_stop = true;
    pthread_cond_broadcast(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    for (int i = 0; i < s->n_workers; i++)
        pthread_join(s->worker_threads[i], NULL);
    s->n_workers = 0;

    /* Drain: failed request tags come back and are freed by the pollers. */
    grpc_completion_queue_shutdown(s->cq);
    for (int i = 0; i < s->n_pollers; i++)
        pthread_join(s->pollers[i], NULL);
    s->n_pollers = 0;
    grpc_server_destroy(s->core);
    grpc_completion_queue_destroy(s->cq);
    s->core = NULL;
    s->cq = NULL;
    hw_info("server %s stopped", s->name);
}

void hw_server_destroy(hw_server *s)
{
    if (!s)
        return;
    if (s->started)
        hw_server_shutdown(s);
    for (size_t i = 0; i < s->n_routes; i++)
        free(s->routes[i].path);
    free(s->routes);
    for (size_t i = 0; i < s->n_health_names; i++)
        free(s->health_names[i]);
    free(s->health_names);
    free(s->worker_threads);
    free(s->name);
    free(s->listen_addr);
    if (s->sync_ready) {
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->wmu);
        pthread_cond_destroy(&s->wcv);
        pthread_cond_destroy(&s->cv);
    }
    bool grpc_ready = s->grpc_ready;
    free(s);
    if (grpc_ready)
        grpc_shutdown();
}
