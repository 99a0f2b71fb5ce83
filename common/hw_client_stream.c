/* hw_client_stream.c -- a server-streaming call from a tool, on gRPC C core. */
#include "hw_client_stream.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Batch tags: three batches are outstanding at most, one of each kind. */
static char hw__tag_send, hw__tag_status, hw__tag_recv;

/* How often the loop wakes to look at opts->stop. */
#define HW__STREAM_POLL_MS 100

static gpr_timespec hw__in_ms(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

static bool hw__stop_requested(const hw_stream_opts *o)
{
    return o && o->stop && *o->stop;
}

/* Turn the final status and trailers into an hw_status. */
static void hw__fill_status(hw_status *st, grpc_status_code code, grpc_slice details,
                            const grpc_metadata_array *trailers)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < trailers->count; i++) {
        if (grpc_slice_str_cmp(trailers->metadata[i].key, "grpc-status-details-bin") != 0)
            continue;
        /* C core hands -bin values over already base64-decoded. */
        grpc_slice v = trailers->metadata[i].value;
        hw_status_from_details(GRPC_SLICE_START_PTR(v), GRPC_SLICE_LENGTH(v), st);
        break;
    }
    /* The status line is authoritative for the code; the details message
     * only if the server sent no plain message. */
    st->code = (enum hw_code)code;
    size_t n = GRPC_SLICE_LENGTH(details);
    if (n > 0) {
        if (n >= sizeof st->message)
            n = sizeof st->message - 1;
        memcpy(st->message, GRPC_SLICE_START_PTR(details), n);
        st->message[n] = '\0';
    }
}

int hw_client_server_stream(const char *target, const char *method,
                            const ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *resp_desc,
                            hw_stream_msg_fn on_msg, void *ud,
                            const hw_stream_opts *opts, hw_status *st)
{
    hw_stream_opts none = {NULL, NULL, 0, NULL};
    if (!opts)
        opts = &none;
    memset(st, 0, sizeof *st);

    grpc_init();
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_slice method_slice = grpc_slice_from_copied_string(method);
    gpr_timespec deadline =
        opts->timeout_ms > 0 ? hw__in_ms(opts->timeout_ms) : gpr_inf_future(GPR_CLOCK_REALTIME);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                               method_slice, NULL, deadline, NULL);
    grpc_slice_unref(method_slice);
    if (!call) {
        hw_status_set(st, HW_INTERNAL, "could not create a call to %s", target);
        goto out_destroy_channel;
    }

    /* Request metadata. */
    grpc_metadata md[2];
    size_t nmd = 0;
    memset(md, 0, sizeof md);
    char *bearer = NULL;
    if (opts->token && *opts->token) {
        size_t n = strlen(opts->token) + 8;
        bearer = malloc(n);
        if (bearer) {
            snprintf(bearer, n, "Bearer %s", opts->token);
            md[nmd].key = grpc_slice_from_static_string("authorization");
            md[nmd].value = grpc_slice_from_copied_string(bearer);
            nmd++;
        }
    }
    if (opts->purpose && *opts->purpose) {
        md[nmd].key = grpc_slice_from_static_string("x-purpose");
        md[nmd].value = grpc_slice_from_copied_string(opts->purpose);
        nmd++;
    }

    /* The request. */
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        hw_status_set(st, HW_INTERNAL, "out of memory");
        goto out_free_metadata;
    }
    protobuf_c_message_pack(req, buf);
    grpc_slice req_slice = grpc_slice_from_copied_buffer((const char *)buf, len);
    free(buf);
    grpc_byte_buffer *send_bb = grpc_raw_byte_buffer_create(&req_slice, 1);
    grpc_slice_unref(req_slice);

    grpc_metadata_array initial_md, trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *error_string = NULL;
    grpc_byte_buffer *recv_bb = NULL;

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    bool send_pending = grpc_call_start_batch(call, ops, 4, &hw__tag_send, NULL) == GRPC_CALL_OK;

    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[0].data.recv_status_on_client.status = &code;
    ops[0].data.recv_status_on_client.status_details = &details;
    ops[0].data.recv_status_on_client.error_string = &error_string;
    bool status_pending =
        grpc_call_start_batch(call, ops, 1, &hw__tag_status, NULL) == GRPC_CALL_OK;

    grpc_op recv_op;
    memset(&recv_op, 0, sizeof recv_op);
    recv_op.op = GRPC_OP_RECV_MESSAGE;
    recv_op.data.recv_message.recv_message = &recv_bb;
    bool recv_pending = grpc_call_start_batch(call, &recv_op, 1, &hw__tag_recv, NULL) ==
                        GRPC_CALL_OK;

    bool cancelled = false;
    enum hw_code local_code = HW_OK;
    char local_msg[128] = "";
    if (!status_pending) {
        /* Without a status batch the loop could never end cleanly. */
        grpc_call_cancel(call, NULL);
        cancelled = true;
        local_code = HW_INTERNAL;
        snprintf(local_msg, sizeof local_msg, "could not start the call");
    }

    while (send_pending || status_pending || recv_pending) {
        if (!cancelled && hw__stop_requested(opts)) {
            grpc_call_cancel(call, NULL);
            cancelled = true;
        }
        grpc_event ev = grpc_completion_queue_next(cq, hw__in_ms(HW__STREAM_POLL_MS), NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT)
            continue;
        if (ev.type != GRPC_OP_COMPLETE)
            break; /* queue shut down: cannot happen before we shut it */
        if (ev.tag == &hw__tag_send) {
            send_pending = false;
        } else if (ev.tag == &hw__tag_status) {
            status_pending = false;
        } else if (ev.tag == &hw__tag_recv) {
            recv_pending = false;
            if (!ev.success || !recv_bb)
                continue; /* end of stream (status follows) */
            grpc_byte_buffer_reader reader;
            int stop = 0;
            if (grpc_byte_buffer_reader_init(&reader, recv_bb)) {
                grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
                grpc_byte_buffer_reader_destroy(&reader);
                ProtobufCMessage *msg = protobuf_c_message_unpack(
                    resp_desc, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
                grpc_slice_unref(all);
                if (msg) {
                    stop = on_msg ? on_msg(msg, ud) : 0;
                    protobuf_c_message_free_unpacked(msg, NULL);
                } else {
                    local_code = HW_INTERNAL;
                    snprintf(local_msg, sizeof local_msg, "a streamed message did not parse as %s",
                             resp_desc->name);
                    stop = 1;
                }
            }
            grpc_byte_buffer_destroy(recv_bb);
            recv_bb = NULL;
            if (stop && !cancelled) {
                grpc_call_cancel(call, NULL);
                cancelled = true;
            }
            if (!cancelled)
                recv_pending = grpc_call_start_batch(call, &recv_op, 1, &hw__tag_recv, NULL) ==
                               GRPC_CALL_OK;
        }
    }

    hw__fill_status(st, code, details, &trailing_md);
    if (st->message[0] == '\0' && error_string && code != GRPC_STATUS_OK)
        snprintf(st->message, sizeof st->message, "%s", error_string);
    if (local_code != HW_OK) {
        st->code = local_code;
        snprintf(st->message, sizeof st->message, "%s", local_msg);
    }

    if (recv_bb)
        grpc_byte_buffer_destroy(recv_bb);
    gpr_free((void *)error_string);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_metadata_array_destroy(&initial_md);
    grpc_byte_buffer_destroy(send_bb);
out_free_metadata:
    for (size_t i = 0; i < nmd; i++)
        grpc_slice_unref(md[i].value);
    free(bearer);
    grpc_call_unref(call);
out_destroy_channel:
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(ch);
    grpc_shutdown();
    return st->code == HW_OK ? 0 : -1;
}
