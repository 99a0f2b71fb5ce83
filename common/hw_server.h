/* hw_server.h -- a gRPC server over the C core with generic dispatch from
 * protobuf-c service descriptors.
 *
 * A service declares, once, a table of its methods: the handler, whether it
 * is server-streaming, and the roles allowed to call it. The server:
 *  - answers UNIMPLEMENTED for unknown methods (a generic request is always
 *    posted, so nothing hangs);
 *  - verifies the bearer token (UNAUTHENTICATED) and the role table
 *    (PERMISSION_DENIED) before the handler runs; grpc.health.v1.Health needs
 *    no token;
 *  - unpacks the request (INVALID_ARGUMENT if it does not parse), calls the
 *    handler on one of the worker threads, packs the response, sends status,
 *    message, and google.rpc.Status details;
 *  - logs one JSON line per call (method, request_id, grpc_code, duration_ms).
 *
 * Memory: everything a handler allocates with hw_call_alloc/hw_call_strdup
 * lives until the call is finished; build response messages there.
 * Handlers may block (database calls); they run on the worker threads. */
#ifndef HW_SERVER_H
#define HW_SERVER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_auth.h"
#include "hw_status.h"

typedef struct hw_call hw_call;
typedef struct hw_stream hw_stream;
typedef struct hw_server hw_server;

/* Unary handler: set *resp (a message built in the call's arena, or NULL
 * for an empty default reply) or fill st. svc_ctx is hw_service_def.ctx. */
typedef void (*hw_unary_fn)(hw_call *call, const ProtobufCMessage *req,
                            ProtobufCMessage **resp, hw_status *st, void *svc_ctx);

/* Server-streaming handler: called once when the stream opens. It may send
 * messages now (hw_stream_send), keep the stream (hw_stream_ref) to send
 * from other threads later, or fill st to end it at once. If it returns OK
 * without keeping a reference the stream ends with OK. */
typedef void (*hw_stream_fn)(hw_stream *stream, const ProtobufCMessage *req,
                             hw_status *st, void *svc_ctx);

typedef struct hw_method {
    const char *name;          /* method name as in the .proto, "ReportMissing" */
    hw_unary_fn unary;         /* exactly one of unary/stream is set */
    hw_stream_fn stream;
    const char *const *roles;  /* NULL-terminated list; NULL = any authenticated caller */
} hw_method;

typedef struct hw_service_def {
    const ProtobufCServiceDescriptor *desc;
    const hw_method *methods;
    size_t n_methods;
    void *ctx;
} hw_service_def;

typedef struct hw_server_opts {
    const char *name;          /* health service name, "homeward.episodes.v1.Episodes" */
    const char *listen_addr;   /* "127.0.0.1:50051" */
    int workers;               /* handler threads (default 4) */
    int max_message_bytes;     /* default 4 MiB */
    int grace_ms;              /* shutdown grace period (default 10000) */
    const hw_auth *auth;       /* NULL: every authenticated method is refused */
} hw_server_opts;

hw_server *hw_server_create(const hw_server_opts *opts, char *err, size_t errlen);
/* Register before hw_server_start. */
int hw_server_add_service(hw_server *s, const hw_service_def *def);
/* Binds and starts threads; returns the bound port or -1. */
int hw_server_start(hw_server *s, char *err, size_t errlen);
/* Health as reported for "" and every registered service name. Thread-safe;
 * Watch streams are told of changes. */
void hw_server_set_serving(hw_server *s, bool serving);
/* Stop accepting, let in-flight calls finish within the grace period, end
 * open streams (status UNAVAILABLE "server shutting down"), join threads.
 * Must not be called from a signal handler (see hw_app.c). */
void hw_server_shutdown(hw_server *s);
void hw_server_destroy(hw_server *s);

/* ---- inside a handler ---- */
const hw_principal *hw_call_principal(const hw_call *c); /* never NULL in handlers */
const char *hw_call_method(const hw_call *c);             /* "/pkg.Svc/Method" */
/* Metadata value (first occurrence) as a NUL-terminated arena string, or NULL. */
const char *hw_call_metadata(hw_call *c, const char *key);
/* "x-purpose" metadata: the stated reason for the access, or NULL. */
const char *hw_call_purpose(hw_call *c);
/* Milliseconds until the caller's deadline (INT64_MAX if none); <= 0 means
 * the deadline has passed: return HW_DEADLINE_EXCEEDED. */
int64_t hw_call_ms_left(const hw_call *c);
bool hw_call_cancelled(const hw_call *c);
/* Set the request id for the call's log line. */
void hw_call_set_request_id(hw_call *c, const char *request_id);
/* Answer a unary call later, from any thread. The handler calls
 * hw_call_defer and returns leaving *resp NULL and st OK; the answer goes
 * when hw_call_answer(c, resp, st) is called, exactly once (resp is ignored
 * unless st is OK). The call record and its arena stay valid until then. */
void hw_call_defer(hw_call *c);
void hw_call_answer(hw_call *c, const ProtobufCMessage *resp, const hw_status *st);
void *hw_call_alloc(hw_call *c, size_t n);   /* zeroed; never NULL (aborts) */
char *hw_call_strdup(hw_call *c, const char *s);
char *hw_call_printf(hw_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The opaque C-core call, for hw_client parent propagation only. */
void *hw_call_core(const hw_call *c);

/* ---- streams ---- */
hw_call *hw_stream_call(hw_stream *s);    /* principal, metadata, arena (valid while the stream lives) */
void hw_stream_ref(hw_stream *s);
void hw_stream_unref(hw_stream *s);
/* Queue a message (packed at once; caller keeps ownership of msg). Sends
 * are serialised per stream; any thread may call. Returns 0, or -1 if the
 * stream has ended (cancelled, finished, or server shutting down). */
int hw_stream_send(hw_stream *s, const ProtobufCMessage *msg);
/* Messages queued but not yet written (backpressure). */
size_t hw_stream_pending(hw_stream *s);
/* End the stream with a status after queued messages are written. */
void hw_stream_finish(hw_stream *s, const hw_status *st);
bool hw_stream_closed(hw_stream *s);
/* Called once (on a server thread) when the stream ends for any reason:
 * client cancel, finish, shutdown. Register in the stream handler. */
void hw_stream_on_close(hw_stream *s, void (*fn)(hw_stream *, void *), void *arg);

#endif
