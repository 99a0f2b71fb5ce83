/* hw_client.h -- calls to peer services.
 *
 * A channel per peer, its address from an environment variable
 * (<NAME>_ADDR, e.g. EPISODES_ADDR=127.0.0.1:50051). Calls carry a bearer
 * token (the service's own identity, or the caller's when relaying a
 * request) and a deadline; made inside a handler with parent != NULL, the
 * parent's deadline and cancellation propagate. Idempotent calls are
 * retried with exponential backoff on UNAVAILABLE until the deadline. */
#ifndef HW_CLIENT_H
#define HW_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw_server.h"
#include "hw_status.h"

typedef struct hw_channel hw_channel;

/* target "host:port". */
hw_channel *hw_channel_create(const char *target);
/* From env <name>_ADDR ("EPISODES" -> EPISODES_ADDR); NULL with err if unset. */
hw_channel *hw_channel_from_env(const char *name, char *err, size_t errlen);
void hw_channel_destroy(hw_channel *ch);

typedef struct hw_call_opts {
    const char *token;         /* bearer token, or NULL */
    const char *purpose;       /* x-purpose metadata, or NULL */
    int64_t timeout_ms;        /* 0: default 5000; capped by the parent's deadline */
    bool idempotent;           /* retry on UNAVAILABLE with backoff */
    hw_call *parent;           /* propagate deadline + cancellation */
} hw_call_opts;

/* Unary call to method path "/homeward.episodes.v1.Episodes/GetEpisode".
 * On OK *resp is unpacked with resp_desc (free with
 * protobuf_c_message_free_unpacked). On error st holds the status,
 * including field violations parsed from grpc-status-details-bin. */
int hw_client_unary(hw_channel *ch, const char *method,
                    const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc,
                    ProtobufCMessage **resp, const hw_call_opts *opts,
                    hw_status *st);

#endif
