/* hw_status.h -- the outcome of a call: a gRPC status code, a message a
 * person can read, and for INVALID_ARGUMENT the list of offending fields.
 *
 * Service code fills an hw_status and returns; the server turns it into
 * grpc-status, grpc-message and a serialized google.rpc.Status (with a
 * google.rpc.BadRequest of the field violations) in grpc-status-details-bin.
 * Messages must never contain a child's personal details. */
#ifndef HW_STATUS_H
#define HW_STATUS_H

#include <stdbool.h>
#include <stddef.h>

/* Same numbers as grpc_status_code, so service code needs no gRPC header. */
enum hw_code {
    HW_OK = 0,
    HW_CANCELLED = 1,
    HW_UNKNOWN = 2,
    HW_INVALID_ARGUMENT = 3,
    HW_DEADLINE_EXCEEDED = 4,
    HW_NOT_FOUND = 5,
    HW_ALREADY_EXISTS = 6,
    HW_PERMISSION_DENIED = 7,
    HW_RESOURCE_EXHAUSTED = 8,
    HW_FAILED_PRECONDITION = 9,
    HW_ABORTED = 10,
    HW_OUT_OF_RANGE = 11,
    HW_UNIMPLEMENTED = 12,
    HW_INTERNAL = 13,
    HW_UNAVAILABLE = 14,
    HW_DATA_LOSS = 15,
    HW_UNAUTHENTICATED = 16,
};

#define HW_STATUS_MAX_VIOLATIONS 32

typedef struct hw_field_violation {
    char field[96];        /* e.g. "report.last_seen_at" */
    char description[192]; /* e.g. "required" */
} hw_field_violation;

typedef struct hw_status {
    enum hw_code code;
    char message[256];
    int n_violations;
    hw_field_violation violations[HW_STATUS_MAX_VIOLATIONS];
} hw_status;

#define HW_STATUS_INIT {HW_OK, "", 0, {{"", ""}}}

static inline bool hw_ok(const hw_status *st) { return st->code == HW_OK; }

/* Set code and printf-style message. Returns -1 so handlers can
 * `return hw_status_set(...)`; HW_OK returns 0. */
int hw_status_set(hw_status *st, enum hw_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a field violation; sets code to INVALID_ARGUMENT and, if the message
 * is empty, a message naming the fields ("invalid fields: a, b"). */
void hw_status_violation(hw_status *st, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Name of a code, "INVALID_ARGUMENT". */
const char *hw_code_name(enum hw_code code);

/* Serialize as google.rpc.Status {code, message, details: [Any(BadRequest)]}
 * into a malloc'd buffer. Returns 0, or -1 on allocation failure. */
int hw_status_to_details(const hw_status *st, unsigned char **out, size_t *out_len);

/* Parse a serialized google.rpc.Status (client side). Returns 0 or -1. */
int hw_status_from_details(const unsigned char *buf, size_t len, hw_status *st);

#endif
