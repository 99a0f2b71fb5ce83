/* hw_status.c -- call outcomes and their google.rpc.Status wire form. */
#include "hw_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

#define HW__BAD_REQUEST_TYPE_URL "type.googleapis.com/google.rpc.BadRequest"

int hw_status_set(hw_status *st, enum hw_code code, const char *fmt, ...)
{
    st->code = code;
    st->message[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->message, sizeof st->message, fmt, ap);
        va_end(ap);
    }
    return code == HW_OK ? 0 : -1;
}

/* The message hw_status_violation writes for the first n violations. */
static void hw__violations_message(const hw_status *st, int n, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "invalid fields: ");
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 st->violations[i].field);
}

void hw_status_violation(hw_status *st, const char *field, const char *fmt, ...)
{
    /* Keep the generated message in step with the list, but never replace a
     * message the handler wrote itself. There is no flag for "generated" in
     * the struct, so regenerate only if it still reads as we wrote it. */
    char before[sizeof st->message];
    hw__violations_message(st, st->n_violations, before, sizeof before);
    bool generated = st->message[0] == '\0' || strcmp(st->message, before) == 0;

    st->code = HW_INVALID_ARGUMENT;
    if (st->n_violations < HW_STATUS_MAX_VIOLATIONS) {
        hw_field_violation *v = &st->violations[st->n_violations++];
        snprintf(v->field, sizeof v->field, "%s", field ? field : "");
        v->description[0] = '\0';
        if (fmt) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(v->description, sizeof v->description, fmt, ap);
            va_end(ap);
        }
    }
    if (generated)
        hw__violations_message(st, st->n_violations, st->message, sizeof st->message);
}

const char *hw_code_name(enum hw_code code)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if ((int)code < 0 || (size_t)code >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[code];
}

int hw_status_to_details(const hw_status *st, unsigned char **out, size_t *out_len)
{
    int n = st->n_violations;
    if (n < 0)
        n = 0;
    if (n > HW_STATUS_MAX_VIOLATIONS)
        n = HW_STATUS_MAX_VIOLATIONS;

    /* Everything below points into st: nothing to free but the buffers. */
    Google__Rpc__BadRequest__FieldViolation fv[HW_STATUS_MAX_VIOLATIONS];
    Google__Rpc__BadRequest__FieldViolation *fvp[HW_STATUS_MAX_VIOLATIONS];
    for (int i = 0; i < n; i++) {
        google__rpc__bad_request__field_violation__init(&fv[i]);
        fv[i].field = (char *)st->violations[i].field;
        fv[i].description = (char *)st->violations[i].description;
        fvp[i] = &fv[i];
    }
    Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
    br.n_field_violations = (size_t)n;
    br.field_violations = fvp;

    unsigned char *br_buf = NULL;
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    Google__Protobuf__Any *anyp = &any;
    Google__Rpc__Status rs = GOOGLE__RPC__STATUS__INIT;
    rs.code = (int32_t)st->code;
    rs.message = (char *)st->message;
    if (n > 0) {
        size_t br_len = google__rpc__bad_request__get_packed_size(&br);
        br_buf = malloc(br_len ? br_len : 1);
        if (!br_buf)
            return -1;
        google__rpc__bad_request__pack(&br, br_buf);
        any.type_url = (char *)HW__BAD_REQUEST_TYPE_URL;
        any.value.data = br_buf;
        any.value.len = br_len;
        rs.n_details = 1;
        rs.details = &anyp;
    }

    size_t len = google__rpc__status__get_packed_size(&rs);
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf)
        goto out_free_bad_request;
    google__rpc__status__pack(&rs, buf);
    free(br_buf);
    *out = buf;
    *out_len = len;
    return 0;

out_free_bad_request:
    free(br_buf);
    return -1;
}

/* True if an Any's type URL names google.rpc.BadRequest (any host prefix). */
static bool hw__is_bad_request(const char *type_url)
{
    if (!type_url)
        return false;
    const char *slash = strrchr(type_url, '/');
    return strcmp(slash ? slash + 1 : type_url, "google.rpc.BadRequest") == 0;
}

int hw_status_from_details(const unsigned char *buf, size_t len, hw_status *st)
{
    Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, len, buf);
    if (!rs)
        return -1;
    st->code = (enum hw_code)rs->code;
    snprintf(st->message, sizeof st->message, "%s", rs->message ? rs->message : "");
    st->n_violations = 0;
    for (size_t i = 0; i < rs->n_details; i++) {
        const Google__Protobuf__Any *any = rs->details[i];
        if (!hw__is_bad_request(any->type_url))
            continue;
        Google__Rpc__BadRequest *br =
            google__rpc__bad_request__unpack(NULL, any->value.len, any->value.data);
        if (!br)
            continue; /* an unreadable detail is dropped, the status stands */
        for (size_t j = 0; j < br->n_field_violations &&
                           st->n_violations < HW_STATUS_MAX_VIOLATIONS; j++) {
            const Google__Rpc__BadRequest__FieldViolation *fv = br->field_violations[j];
            hw_field_violation *v = &st->violations[st->n_violations++];
            snprintf(v->field, sizeof v->field, "%s", fv->field ? fv->field : "");
            snprintf(v->description, sizeof v->description, "%s",
                     fv->description ? fv->description : "");
        }
        google__rpc__bad_request__free_unpacked(br, NULL);
    }
    google__rpc__status__free_unpacked(rs, NULL);
    return 0;
}
