/* hw_client_stream.h -- the client side of a server-streaming call.
 *
 * For tools (hwctl) and tests: one call on its own channel, messages handed
 * to a callback as they arrive, until the server ends the stream, the
 * callback asks to stop, *stop becomes non-zero (e.g. set by a SIGINT
 * handler), or the deadline passes. Not for use inside service handlers
 * (use hw_client.h there: it propagates deadlines and cancellation).
 * Thread-safe in the sense that separate calls share nothing. */
#ifndef HW_CLIENT_STREAM_H
#define HW_CLIENT_STREAM_H

#include <protobuf-c/protobuf-c.h>
#include <signal.h>
#include <stdint.h>

#include "hw_status.h"

/* Called once per message; msg is freed after the callback returns.
 * Return 0 to go on, non-zero to cancel the call (ends with CANCELLED). */
typedef int (*hw_stream_msg_fn)(const ProtobufCMessage *msg, void *ud);

typedef struct hw_stream_opts {
    const char *token;        /* bearer token, or NULL */
    const char *purpose;      /* x-purpose metadata, or NULL */
    int64_t timeout_ms;       /* 0: no deadline */
    volatile sig_atomic_t *stop; /* polled about every 100 ms; may be NULL */
} hw_stream_opts;

/* target "host:port"; method "/homeward.episodes.v1.Episodes/WatchEpisodes".
 * Returns 0 when the stream ended with OK, -1 otherwise; st always holds the
 * final status (with field violations from grpc-status-details-bin). A
 * message that does not unpack with resp_desc cancels the call and is
 * reported as INTERNAL. */
int hw_client_server_stream(const char *target, const char *method,
                            const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *resp_desc,
                            hw_stream_msg_fn on_msg, void *ud,
                            const hw_stream_opts *opts, hw_status *st);

#endif
