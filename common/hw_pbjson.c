/* hw_pbjson.c -- JSON <-> protobuf-c messages through the descriptors. */
#include "hw_pbjson.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused: a request is never that deep and
 * the conversion recurses on the C stack. */
#define HW_PBJSON_MAX_DEPTH 64
#define HW_PBJSON_EMIT_MAX_DEPTH 100
#define HW_PBJSON_PATH_MAX 256
/* FLT_MAX plus half its ulp: the largest double that rounds to a finite float. */
#define HW__FLT_ROUND_MAX 3.4028235677973362e38

#define HW__MEMBER(type, msg, off) (*(type *)((char *)(msg) + (off)))

typedef struct hw__ectx {
    char *err;
    size_t errlen;
} hw__ectx;

static int hw__fail(hw__ectx *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int hw__fail(hw__ectx *e, const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A very deep path keeps its end, where the problem is. */
    size_t pl = strlen(path);
    const char *cut = pl > 120 ? "..." : "";
    if (pl > 120)
        path += pl - 120;
    if (e->err && e->errlen)
        snprintf(e->err, e->errlen, "%s%s%s%s", cut, path, *path ? ": " : "", msg);
    return -1;
}

/* lowerCamelCase JSON name, as protoc derives it: drop '_' and capitalise
 * the next character. */
static void hw__json_name(const char *proto, char *out, size_t outlen)
{
    size_t o = 0;
    bool up = false;
    for (const char *p = proto; *p && o + 1 < outlen; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        out[o++] = up ? (char)toupper((unsigned char)*p) : *p;
        up = false;
    }
    out[o] = '\0';
}

static const ProtobufCFieldDescriptor *hw__find_field(const ProtobufCMessageDescriptor *d,
                                                      const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f)
        return f;
    char jn[128];
    for (unsigned i = 0; i < d->n_fields; i++) {
        hw__json_name(d->fields[i].name, jn, sizeof jn);
        if (strcmp(jn, key) == 0)
            return &d->fields[i];
    }
    return NULL;
}

static const char *hw__json_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

/* Size of one element of a field's type in a message or repeated array. */
static size_t hw__elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* ---- JSON -> message ---- */

/* An integer from a JSON integer, an integral real, or a string holding a
 * base-10 integer (the proto3 mapping allows all three). */
static int hw__get_i64(const json_t *v, int64_t *out, bool *ok_range)
{
    *ok_range = true;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x != floor(x))
            return -1;
        if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) {
            *ok_range = false;
            return -1;
        }
        *out = (int64_t)x;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        const char *p = s;
        if (*p == '-')
            p++;
        if (!*p)
            return -1;
        for (; *p; p++)
            if (!isdigit((unsigned char)*p))
                return -1;
        errno = 0;
        long long x = strtoll(s, NULL, 10);
        if (errno == ERANGE) {
            *ok_range = false;
            return -1;
        }
        *out = x;
        return 0;
    }
    return -1;
}

static int hw__get_u64(const json_t *v, uint64_t *out, bool *ok_range)
{
    *ok_range = true;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!*s)
            return -1;
        if (*s == '-') {
            /* "-0" is zero; anything else negative is out of range. */
            for (const char *p = s + 1; *p; p++)
                if (!isdigit((unsigned char)*p))
                    return -1;
            if (strspn(s + 1, "0") != strlen(s + 1) || !s[1]) {
                *ok_range = false;
                return -1;
            }
            *out = 0;
            return 0;
        }
        for (const char *p = s; *p; p++)
            if (!isdigit((unsigned char)*p))
                return -1;
        errno = 0;
        unsigned long long x = strtoull(s, NULL, 10);
        if (errno == ERANGE) {
            *ok_range = false;
            return -1;
        }
        *out = x;
        return 0;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x != floor(x))
            return -1;
        if (!(x >= 0 && x < 18446744073709551616.0)) {
            *ok_range = false;
            return -1;
        }
        *out = (uint64_t)x;
        return 0;
    }
    int64_t i;
    if (hw__get_i64(v, &i, ok_range) != 0)
        return -1;
    if (i < 0) {
        *ok_range = false;
        return -1;
    }
    *out = (uint64_t)i;
    return 0;
}

static int hw__get_double(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "NaN") == 0) { *out = NAN; return 0; }
        if (strcmp(s, "Infinity") == 0) { *out = INFINITY; return 0; }
        if (strcmp(s, "-Infinity") == 0) { *out = -INFINITY; return 0; }
        /* A number written as a string: digits, sign, '.', exponent only
         * (strtod alone would also take "inf", hex and leading spaces). */
        if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
            return -1;
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (*end || errno == ERANGE)
            return -1;
        *out = x;
        return 0;
    }
    return -1;
}

static int hw__b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Standard or URL-safe base64, padding optional. */
static int hw__b64_decode(const char *s, size_t n, ProtobufCBinaryData *out)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    if (!buf)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = hw__b64_val((unsigned char)s[i]);
        if (v < 0) {
            free(buf);
            return -1;
        }
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits & 0xFF);
        }
    }
    if (o == 0) {
        free(buf);
        buf = NULL;
    }
    out->len = o;
    out->data = buf;
    return 0;
}

static ProtobufCMessage *hw__obj_to_msg(const ProtobufCMessageDescriptor *d, json_t *obj,
                                        const char *path, hw__ectx *e, int depth);

/* Convert one JSON value into the slot for one element of field f. On
 * failure nothing has been stored in the slot. */
static int hw__set_value(const ProtobufCFieldDescriptor *f, json_t *v, void *slot,
                         const char *path, hw__ectx *e, int depth)
{
    int64_t i;
    uint64_t u;
    double x;
    bool in_range = true;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (hw__get_i64(v, &i, &in_range) != 0)
            goto bad_int;
        if (i < INT32_MIN || i > INT32_MAX) {
            in_range = false;
            goto bad_int;
        }
        *(int32_t *)slot = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (hw__get_u64(v, &u, &in_range) != 0)
            goto bad_int;
        if (u > UINT32_MAX) {
            in_range = false;
            goto bad_int;
        }
        *(uint32_t *)slot = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (hw__get_i64(v, &i, &in_range) != 0)
            goto bad_int;
        *(int64_t *)slot = i;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (hw__get_u64(v, &u, &in_range) != 0)
            goto bad_int;
        *(uint64_t *)slot = u;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (hw__get_double(v, &x) != 0)
            return hw__fail(e, path, "expected a number, got %s", hw__json_type(v));
        /* Values up to half an ulp above FLT_MAX round to FLT_MAX (that is
         * how "3.4028235e38", FLT_MAX printed shortest, reads back). */
        if (isfinite(x) && fabs(x) > HW__FLT_ROUND_MAX)
            return hw__fail(e, path, "number out of range for float");
        if (isfinite(x) && fabs(x) > FLT_MAX)
            x = x > 0 ? FLT_MAX : -FLT_MAX;
        *(float *)slot = (float)x;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (hw__get_double(v, &x) != 0)
            return hw__fail(e, path, "expected a number, got %s", hw__json_type(v));
        *(double *)slot = x;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return hw__fail(e, path, "expected true or false, got %s", hw__json_type(v));
        *(protobuf_c_boolean *)slot = json_is_true(v) ? 1 : 0;
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        const ProtobufCEnumValue *ev = NULL;
        if (json_is_string(v)) {
            ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
            if (!ev)
                return hw__fail(e, path, "unknown value '%.64s' for enum %s",
                                json_string_value(v), ed->name);
        } else if (json_is_integer(v)) {
            json_int_t n = json_integer_value(v);
            if (n >= INT32_MIN && n <= INT32_MAX)
                ev = protobuf_c_enum_descriptor_get_value(ed, (int)n);
            if (!ev)
                return hw__fail(e, path, "unknown value %" JSON_INTEGER_FORMAT " for enum %s", n,
                                ed->name);
        } else {
            return hw__fail(e, path, "expected an enum name (string), got %s",
                            hw__json_type(v));
        }
        *(int *)slot = ev->value;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v))
            return hw__fail(e, path, "expected a string, got %s", hw__json_type(v));
        size_t n = json_string_length(v);
        char *s = malloc(n + 1);
        if (!s)
            return hw__fail(e, path, "out of memory");
        memcpy(s, json_string_value(v), n + 1);
        *(char **)slot = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES:
        if (!json_is_string(v))
            return hw__fail(e, path, "expected base64 (string), got %s", hw__json_type(v));
        if (hw__b64_decode(json_string_value(v), json_string_length(v),
                           (ProtobufCBinaryData *)slot) != 0)
            return hw__fail(e, path, "invalid base64");
        return 0;
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub = hw__obj_to_msg(f->descriptor, v, path, e, depth + 1);
        if (!sub)
            return -1;
        *(ProtobufCMessage **)slot = sub;
        return 0;
    }
    }
    return hw__fail(e, path, "unsupported field type");

bad_int:
    if (!in_range)
        return hw__fail(e, path, "integer out of range");
    return hw__fail(e, path, "expected an integer, got %s", hw__json_type(v));
}

static int hw__set_repeated(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m, json_t *v,
                            const char *path, hw__ectx *e, int depth)
{
    if (!json_is_array(v))
        return hw__fail(e, path, "expected an array, got %s", hw__json_type(v));
    size_t n = json_array_size(v);
    if (n == 0)
        return 0;
    size_t es = hw__elem_size(f->type);
    void *arr = calloc(n, es);
    if (!arr)
        return hw__fail(e, path, "out of memory");
    /* The count grows only as elements are complete, so that on an error
     * protobuf_c_message_free_unpacked frees exactly what was built. */
    HW__MEMBER(void *, m, f->offset) = arr;
    HW__MEMBER(size_t, m, f->quantifier_offset) = 0;
    for (size_t i = 0; i < n; i++) {
        char ipath[HW_PBJSON_PATH_MAX];
        /* A path too long for the buffer is cut; the error still names its start. */
        if (snprintf(ipath, sizeof ipath, "%s[%zu]", path, i) >= (int)sizeof ipath)
            ipath[sizeof ipath - 1] = '\0';
        json_t *el = json_array_get(v, i);
        if (json_is_null(el))
            return hw__fail(e, ipath, "null is not allowed in a repeated field");
        if (hw__set_value(f, el, (char *)arr + i * es, ipath, e, depth) != 0)
            return -1;
        HW__MEMBER(size_t, m, f->quantifier_offset) = i + 1;
    }
    return 0;
}

static int hw__set_field(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
                         ProtobufCMessage *m, json_t *v, const char *path, hw__ectx *e,
                         int depth)
{
    if (json_is_null(v))
        return 0; /* null means "not set" */
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return hw__set_repeated(f, m, v, path, e, depth);

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t which = HW__MEMBER(uint32_t, m, f->quantifier_offset);
        if (which != 0) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field(d, which);
            return hw__fail(e, path, "only one of a oneof may be set (also given: %s)",
                            other ? other->name : "?");
        }
    }
    /* Convert into a temporary so that a failure leaves m untouched, then
     * move it in (releasing a proto3 string's shared default is a no-op). */
    union {
        int32_t i32; uint32_t u32; int64_t i64; uint64_t u64; float fl; double db;
        protobuf_c_boolean b; int en; char *str; ProtobufCBinaryData bin; ProtobufCMessage *msg;
    } tmp;
    memset(&tmp, 0, sizeof tmp);
    if (hw__set_value(f, v, &tmp, path, e, depth) != 0)
        return -1;
    memcpy((char *)m + f->offset, &tmp, hw__elem_size(f->type));
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        HW__MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        HW__MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1; /* has_ flag */
    return 0;
}

static ProtobufCMessage *hw__obj_to_msg(const ProtobufCMessageDescriptor *d, json_t *obj,
                                        const char *path, hw__ectx *e, int depth)
{
    if (depth > HW_PBJSON_MAX_DEPTH) {
        hw__fail(e, path, "nested too deeply");
        return NULL;
    }
    if (!json_is_object(obj)) {
        hw__fail(e, path, "expected an object, got %s", hw__json_type(obj));
        return NULL;
    }
    ProtobufCMessage *m = malloc(d->sizeof_message);
    unsigned char *seen = calloc(d->n_fields ? d->n_fields : 1, 1);
    if (!m || !seen) {
        free(m);
        free(seen);
        hw__fail(e, path, "out of memory");
        return NULL;
    }
    d->message_init(m);

    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        char fpath[HW_PBJSON_PATH_MAX];
        const ProtobufCFieldDescriptor *f = hw__find_field(d, key);
        if (!f) {
            snprintf(fpath, sizeof fpath, "%s%s%.64s", path, *path ? "." : "", key);
            hw__fail(e, fpath, "unknown field");
            goto out_free_msg;
        }
        snprintf(fpath, sizeof fpath, "%s%s%s", path, *path ? "." : "", f->name);
        size_t idx = (size_t)(f - d->fields);
        if (seen[idx]) {
            hw__fail(e, fpath, "given twice (as its proto name and its JSON name)");
            goto out_free_msg;
        }
        seen[idx] = 1;
        if (hw__set_field(d, f, m, v, fpath, e, depth) != 0)
            goto out_free_msg;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !seen[i]) {
            char fpath[HW_PBJSON_PATH_MAX];
            snprintf(fpath, sizeof fpath, "%s%s%s", path, *path ? "." : "", d->fields[i].name);
            hw__fail(e, fpath, "required");
            goto out_free_msg;
        }
    }
    free(seen);
    return m;

out_free_msg:
    free(seen);
    protobuf_c_message_free_unpacked(m, NULL);
    return NULL;
}

ProtobufCMessage *hw_json_to_message(const ProtobufCMessageDescriptor *d, const char *json,
                                     char *err, size_t errlen)
{
    hw__ectx e = {err, errlen};
    if (!d || !json) {
        hw__fail(&e, "", "no descriptor or no JSON");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        hw__fail(&e, "", "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    ProtobufCMessage *m = hw__obj_to_msg(d, root, "", &e, 0);
    json_decref(root);
    return m;
}

/* ---- message -> JSON ---- */

typedef struct hw__buf {
    char *p;
    size_t len, cap;
    bool oom;
} hw__buf;

static void hw__put(hw__buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void hw__puts(hw__buf *b, const char *s) { hw__put(b, s, strlen(s)); }

static void hw__putf(hw__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hw__putf(hw__buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        hw__put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static size_t hw__utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07u; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* A JSON string; bytes that are not UTF-8 (protobuf-c does not check)
 * become U+FFFD so the output always parses. */
static void hw__put_str(hw__buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    hw__put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"') { hw__put(b, "\\\"", 2); i++; }
        else if (c == '\\') { hw__put(b, "\\\\", 2); i++; }
        else if (c == '\n') { hw__put(b, "\\n", 2); i++; }
        else if (c == '\r') { hw__put(b, "\\r", 2); i++; }
        else if (c == '\t') { hw__put(b, "\\t", 2); i++; }
        else if (c < 0x20 || c == 0x7F) { hw__putf(b, "\\u%04x", c); i++; }
        else {
            size_t l = hw__utf8_len(p + i, n - i);
            if (l == 0) {
                hw__put(b, "\\ufffd", 6);
                i++;
            } else {
                hw__put(b, (const char *)p + i, l);
                i += l;
            }
        }
    }
    hw__put(b, "\"", 1);
}

static void hw__put_b64(hw__buf *b, const ProtobufCBinaryData *bin)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    hw__put(b, "\"", 1);
    size_t i = 0;
    const uint8_t *d = bin->data;
    for (; d && i + 3 <= bin->len; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        char q[4] = {al[v >> 18 & 63], al[v >> 12 & 63], al[v >> 6 & 63], al[v & 63]};
        hw__put(b, q, 4);
    }
    size_t rest = d ? bin->len - i : 0;
    if (rest) {
        unsigned v = (unsigned)d[i] << 16 | (rest == 2 ? (unsigned)d[i + 1] << 8 : 0);
        char q[4] = {al[v >> 18 & 63], al[v >> 12 & 63], rest == 2 ? al[v >> 6 & 63] : '=', '='};
        hw__put(b, q, 4);
    }
    hw__put(b, "\"", 1);
}

/* Shortest decimal that reads back as the same value. */
static void hw__put_double(hw__buf *b, double x, bool is_float)
{
    if (isnan(x)) { hw__puts(b, "\"NaN\""); return; }
    if (isinf(x)) { hw__puts(b, x > 0 ? "\"Infinity\"" : "\"-Infinity\""); return; }
    if (x == 0 && signbit(x)) {
        /* "-0" would read back as the integer 0 and lose the sign. */
        hw__puts(b, "-0.0");
        return;
    }
    char tmp[40];
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (is_float ? strtof(tmp, NULL) == (float)x : strtod(tmp, NULL) == x)
            break;
    }
    hw__puts(b, tmp);
}

static void hw__newline(hw__buf *b, int flags, int indent)
{
    if (!(flags & HW_PBJSON_PRETTY))
        return;
    hw__put(b, "\n", 1);
    for (int i = 0; i < indent; i++)
        hw__put(b, "  ", 2);
}

static int hw__put_message(hw__buf *b, const ProtobufCMessage *m, int flags, int depth);

/* depth: the nesting level of the value (a message value's keys are
 * indented one level further). */
static int hw__put_value(hw__buf *b, const ProtobufCFieldDescriptor *f, const void *slot,
                         int flags, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        hw__putf(b, "%" PRId32, *(const int32_t *)slot);
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        hw__putf(b, "%" PRIu32, *(const uint32_t *)slot);
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        hw__putf(b, "\"%" PRId64 "\"", *(const int64_t *)slot);
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        hw__putf(b, "\"%" PRIu64 "\"", *(const uint64_t *)slot);
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        hw__put_double(b, *(const float *)slot, true);
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        hw__put_double(b, *(const double *)slot, false);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        hw__puts(b, *(const protobuf_c_boolean *)slot ? "true" : "false");
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)slot;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev)
            hw__put_str(b, ev->name);
        else
            hw__putf(b, "%d", v); /* a value newer than our descriptor */
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING:
        hw__put_str(b, *(char *const *)slot);
        return 0;
    case PROTOBUF_C_TYPE_BYTES:
        hw__put_b64(b, (const ProtobufCBinaryData *)slot);
        return 0;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)slot;
        if (!sub) {
            hw__puts(b, "{}");
            return 0;
        }
        return hw__put_message(b, sub, flags, depth);
    }
    }
    return 0;
}

static bool hw__is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)slot == NULL;
    case PROTOBUF_C_TYPE_FLOAT: {
        float x = *(const float *)slot;
        return x == 0 && !signbit(x);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double x = *(const double *)slot;
        return x == 0 && !signbit(x);
    }
    default: {
        /* Integers, bools and enums: all bytes zero. */
        static const unsigned char zero[8];
        return memcmp(slot, zero, hw__elem_size(f->type)) == 0;
    }
    }
}

static void hw__put_key(hw__buf *b, const ProtobufCFieldDescriptor *f, int flags, int depth,
                        bool *first)
{
    if (!*first)
        hw__put(b, ",", 1);
    *first = false;
    hw__newline(b, flags, depth + 1);
    if (flags & HW_PBJSON_PROTO_NAMES) {
        hw__put_str(b, f->name);
    } else {
        char jn[128];
        hw__json_name(f->name, jn, sizeof jn);
        hw__put_str(b, jn);
    }
    hw__puts(b, (flags & HW_PBJSON_PRETTY) ? ": " : ":");
}

static int hw__put_message(hw__buf *b, const ProtobufCMessage *m, int flags, int depth)
{
    if (depth > HW_PBJSON_EMIT_MAX_DEPTH)
        return -1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    bool first = true;
    hw__put(b, "{", 1);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *slot = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = HW__MEMBER(size_t, m, f->quantifier_offset);
            if (n == 0 && !(flags & HW_PBJSON_EMIT_DEFAULTS))
                continue;
            const char *arr = *(char *const *)slot;
            size_t es = hw__elem_size(f->type);
            hw__put_key(b, f, flags, depth, &first);
            hw__put(b, "[", 1);
            for (size_t k = 0; k < n; k++) {
                if (k)
                    hw__put(b, ",", 1);
                hw__newline(b, flags, depth + 2);
                if (hw__put_value(b, f, arr + k * es, flags, depth + 2) != 0)
                    return -1;
            }
            if (n)
                hw__newline(b, flags, depth + 1);
            hw__put(b, "]", 1);
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            /* Presence is the case field: a set member is written even if 0. */
            if (HW__MEMBER(uint32_t, m, f->quantifier_offset) != f->id)
                continue;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (*(ProtobufCMessage *const *)slot == NULL)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING) {
            if (!HW__MEMBER(protobuf_c_boolean, m, f->quantifier_offset))
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
            if (*(char *const *)slot == NULL)
                continue;
        } else if (!(flags & HW_PBJSON_EMIT_DEFAULTS) && hw__is_default(f, slot)) {
            continue;
        }
        hw__put_key(b, f, flags, depth, &first);
        if (hw__put_value(b, f, slot, flags, depth + 1) != 0)
            return -1;
    }
    if (!first)
        hw__newline(b, flags, depth);
    hw__put(b, "}", 1);
    return 0;
}

char *hw_message_to_json(const ProtobufCMessage *m, int flags)
{
    if (!m)
        return NULL;
    hw__buf b = {NULL, 0, 0, false};
    if (hw__put_message(&b, m, flags, 0) != 0 || b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
