/* hw_idem.c -- first response wins: stored packed, replayed into the call's arena. */
#include "hw_idem.h"

#include <stdio.h>
#include <string.h>

static void *arena_alloc(void *call, size_t size)
{
    return hw_call_alloc(call, size ? size : 1);
}

/* The arena is freed with the call. */
static void arena_free(void *call, void *ptr)
{
    (void)call;
    (void)ptr;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hw_idem_begin(hw_db *db, hw_call *call, const char *request_id,
                  const ProtobufCMessageDescriptor *resp_desc,
                  ProtobufCMessage **resp, hw_status *st)
{
    if (!request_id || !*request_id) {
        hw_status_violation(st, "request_id", "required: a client-generated id for this change");
        return -1;
    }
    const hw_principal *who = hw_call_principal(call);
    const char *p[] = {who->sub, hw_call_method(call), request_id};

    /* Two concurrent repeats queue here; the second then finds the first's row. */
    if (hw_db_run(db, "SELECT pg_advisory_xact_lock(hashtextextended("
                      "$1 || chr(10) || $2 || chr(10) || $3, 0))", 3, p, st) != 0)
        return -1;
    hw_res *r = hw_db_exec(db,
                           "SELECT encode(response, 'hex') FROM idempotency"
                           " WHERE subject = $1 AND method = $2 AND request_id = $3",
                           3, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return 0;
    }
    const char *hex = hw_res_get(r, 0, 0);
    size_t len = strlen(hex) / 2;
    uint8_t *buf = hw_call_alloc(call, len + 1);
    for (size_t i = 0; i < len; i++) {
        int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            hw_res_free(r);
            return hw_status_set(st, HW_INTERNAL, "stored response is corrupt");
        }
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    hw_res_free(r);
    ProtobufCAllocator alloc = {.alloc = arena_alloc, .free = arena_free, .allocator_data = call};
    *resp = protobuf_c_message_unpack(resp_desc, &alloc, len, buf);
    if (!*resp)
        return hw_status_set(st, HW_INTERNAL, "stored response does not decode");
    return 1;
}

int hw_idem_finish(hw_db *db, hw_call *call, const char *request_id,
                   const ProtobufCMessage *resp, hw_status *st)
{
    if (!request_id || !*request_id) {
        hw_status_violation(st, "request_id", "required: a client-generated id for this change");
        return -1;
    }
    /* A NULL response (the empty default reply) is stored as zero bytes,
     * which unpack to the default message. */
    size_t len = resp ? protobuf_c_message_get_packed_size(resp) : 0;
    uint8_t *buf = hw_call_alloc(call, len + 1);
    if (resp)
        protobuf_c_message_pack(resp, buf);
    char *hex = hw_call_alloc(call, 2 * len + 1);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[buf[i] >> 4];
        hex[2 * i + 1] = digits[buf[i] & 15];
    }
    const hw_principal *who = hw_call_principal(call);
    const char *p[] = {who->sub, hw_call_method(call), request_id, hex};
    return hw_db_run(db,
                     "INSERT INTO idempotency (subject, method, request_id, response)"
                     " VALUES ($1, $2, $3, decode($4, 'hex'))",
                     4, p, st);
}
