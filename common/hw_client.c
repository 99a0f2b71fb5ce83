/* hw_client.c -- unary calls to peer services: deadlines, propagation, retries. */
#include "hw_client.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_log.h"

#define HW__CLIENT_DEFAULT_TIMEOUT_MS 5000
#define HW__CLIENT_MAX_MESSAGE (4 * 1024 * 1024)
#define HW__BACKOFF_FIRST_MS 50
#define HW__BACKOFF_MAX_MS 1000

struct hw_channel {
    grpc_channel *core;
};

hw_channel *hw_channel_create(const char *target)
{
    if (!target || !*target)
        return NULL;
    hw_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    grpc_init(); /* balanced in hw_channel_destroy; the core counts */
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = HW__CLIENT_MAX_MESSAGE}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = HW__CLIENT_MAX_MESSAGE}},
    };
    grpc_channel_args ca = {sizeof args / sizeof args[0], args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    ch->core = grpc_channel_create(target, creds, &ca);
    grpc_channel_credentials_release(creds);
    if (!ch->core) {
        free(ch);
        grpc_shutdown();
        return NULL;
    }
    return ch;
}

hw_channel *hw_channel_from_env(const char *name, char *err, size_t errlen)
{
    char var[128];
    snprintf(var, sizeof var, "%s_ADDR", name);
    const char *target = getenv(var);
    if (!target || !*target) {
        snprintf(err, errlen, "%s is not set (host:port of the %s service)", var, name);
        return NULL;
    }
    hw_channel *ch = hw_channel_create(target);
    if (!ch)
        snprintf(err, errlen, "%s=%s: cannot create a channel", var, target);
    return ch;
}

void hw_channel_destroy(hw_channel *ch)
{
    if (!ch)
        return;
    grpc_channel_destroy(ch->core);
    free(ch);
    grpc_shutdown();
}

static int64_t hw__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hw__sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Status from the trailers: code and message from grpc-status, field
 * violations from grpc-status-details-bin when present. */
static void hw__read_status(hw_status *st, grpc_status_code code, grpc_slice details,
                            const grpc_metadata_array *trailers)
{
    hw_status_set(st, (enum hw_code)code, "%.*s", (int)GRPC_SLICE_LENGTH(details),
                  (const char *)GRPC_SLICE_START_PTR(details));
    for (size_t i = 0; i < trailers->count; i++) {
        const grpc_metadata *m = &trailers->metadata[i];
        if (!grpc_slice_str_cmp(m->key, "grpc-status-details-bin")) {
            hw_status *parsed = malloc(sizeof *parsed);
            if (parsed && hw_status_from_details(GRPC_SLICE_START_PTR(m->value),
                                                 GRPC_SLICE_LENGTH(m->value), parsed) == 0) {
                st->n_violations = parsed->n_violations;
                memcpy(st->violations, parsed->violations,
                       (size_t)parsed->n_violations * sizeof parsed->violations[0]);
            }
            free(parsed);
        }
    }
}

/* One attempt. Returns the status code; st filled on error. */
static enum hw_code hw__attempt(hw_channel *ch, const char *method, grpc_byte_buffer *req,
                                gpr_timespec deadline, const hw_call_opts *o,
                                const ProtobufCMessageDescriptor *resp_desc,
                                ProtobufCMessage **resp, hw_status *st)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_call *parent = o->parent ? hw_call_core(o->parent) : NULL;
    grpc_call *call = grpc_channel_create_call(ch->core, parent, GRPC_PROPAGATE_DEFAULTS, cq,
                                               grpc_slice_from_static_string(method), NULL,
                                               deadline, NULL);
    if (!call) {
        grpc_completion_queue_shutdown(cq);
        grpc_completion_queue_destroy(cq);
        hw_status_set(st, HW_INTERNAL, "cannot create a call to %s", method);
        return HW_INTERNAL;
    }

    grpc_metadata md[3];
    size_t n_md = 0;
    memset(md, 0, sizeof md);
    if (o->token) {
        size_t n = strlen(o->token) + 8;
        char *v = malloc(n);
        if (v) {
            snprintf(v, n, "Bearer %s", o->token);
            md[n_md].key = grpc_slice_from_static_string("authorization");
            md[n_md++].value = grpc_slice_from_copied_string(v);
            free(v);
        }
    }
    if (o->purpose) {
        md[n_md].key = grpc_slice_from_static_string("x-purpose");
        md[n_md++].value = grpc_slice_from_copied_string(o->purpose);
    }
    const char *request_id = o->parent ? hw_call_metadata(o->parent, "x-request-id") : NULL;
    if (request_id) {
        md[n_md].key = grpc_slice_from_static_string("x-request-id");
        md[n_md++].value = grpc_slice_from_copied_string(request_id);
    }

    grpc_metadata_array initial, trailers;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailers);
    grpc_byte_buffer *reply = NULL;
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *error_string = NULL;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = n_md;
    ops[0].data.send_initial_metadata.metadata = md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &reply;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailers;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.error_string = &error_string;

    int tag;
    grpc_call_error e = grpc_call_start_batch(call, ops, 6, &tag, NULL);
    if (e == GRPC_CALL_OK) {
        /* The call's deadline bounds this wait. */
        grpc_completion_queue_pluck(cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    } else {
        code = GRPC_STATUS_INTERNAL;
        details = grpc_slice_from_static_string("cannot start the call");
    }

    enum hw_code result = (enum hw_code)code;
    if (code == GRPC_STATUS_OK) {
        grpc_byte_buffer_reader r;
        ProtobufCMessage *m = NULL;
        if (reply && grpc_byte_buffer_reader_init(&r, reply)) {
            grpc_slice sl = grpc_byte_buffer_reader_readall(&r);
            grpc_byte_buffer_reader_destroy(&r);
            m = protobuf_c_message_unpack(resp_desc, NULL, GRPC_SLICE_LENGTH(sl),
                                          GRPC_SLICE_START_PTR(sl));
            grpc_slice_unref(sl);
        }
        if (m) {
            *resp = m;
            hw_status_set(st, HW_OK, NULL);
        } else {
            result = HW_INTERNAL;
            hw_status_set(st, HW_INTERNAL, "reply from %s does not parse as %s", method,
                          resp_desc->name);
        }
    } else {
        hw__read_status(st, code, details, &trailers);
    }

    if (error_string)
        gpr_free((void *)error_string);
    grpc_slice_unref(details);
    if (reply)
        grpc_byte_buffer_destroy(reply);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailers);
    for (size_t i = 0; i < n_md; i++)
        grpc_slice_unref(md[i].value);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    return result;
}

int hw_client_unary(hw_channel *ch, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                    const hw_call_opts *opts, hw_status *st)
{
    static const hw_call_opts defaults = {0};
    const hw_call_opts *o = opts ? opts : &defaults;
    *resp = NULL;
    hw_status_set(st, HW_OK, NULL);
    st->n_violations = 0;

    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : HW__CLIENT_DEFAULT_TIMEOUT_MS;
    if (o->parent) {
        int64_t left = hw_call_ms_left(o->parent);
        if (left <= 0)
            return hw_status_set(st, HW_DEADLINE_EXCEEDED, "caller's deadline has passed");
        if (left < timeout)
            timeout = left;
    }
    /* One absolute deadline for every attempt, so retries never outlast
     * what the caller allowed. */
    int64_t end_mono = hw__mono_ms() + timeout;
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(timeout, GPR_TIMESPAN));

    size_t len = protobuf_c_message_get_packed_size(req);
    grpc_slice sl = grpc_slice_malloc(len);
    protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(sl));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);

    int64_t backoff = HW__BACKOFF_FIRST_MS;
    enum hw_code code;
    for (;;) {
        code = hw__attempt(ch, method, bb, deadline, o, resp_desc, resp, st);
        if (code != HW_UNAVAILABLE || !o->idempotent)
            break;
        if (o->parent && hw_call_cancelled(o->parent))
            break;
        int64_t left = end_mono - hw__mono_ms();
        if (left <= backoff)
            break; /* no time for another try: report the UNAVAILABLE */
        hw__sleep_ms(backoff);
        backoff = backoff * 2 > HW__BACKOFF_MAX_MS ? HW__BACKOFF_MAX_MS : backoff * 2;
    }
    grpc_byte_buffer_destroy(bb);
    return code == HW_OK ? 0 : -1;
}
