/* hw_pbjson.h -- JSON <-> protobuf-c messages, driven by the descriptors.
 *
 * Follows the proto3 JSON mapping where protobuf-c can:
 *  - field names: the proto name ("last_seen_at") or its lowerCamelCase
 *    JSON name ("lastSeenAt") are both accepted on input; output uses the
 *    lowerCamelCase name unless HW_PBJSON_PROTO_NAMES is given;
 *  - 64-bit integers are written as JSON strings and accepted as numbers or
 *    strings; 32-bit integers accept numbers (or integral strings);
 *  - float/double accept numbers and "NaN", "Infinity", "-Infinity";
 *  - bytes are standard base64 with padding on output; standard or URL-safe,
 *    padded or not, on input;
 *  - enums are written by name and accepted by name or by a defined number;
 *  - null for a field means "not set"; repeated fields are arrays;
 *  - a oneof member that is set is always written, even with a default
 *    value; setting two members of one oneof is an error.
 * Output omits fields with default values (0, false, "", empty bytes, enum
 * 0, empty repeated, unset message), as the mapping says, unless
 * HW_PBJSON_EMIT_DEFAULTS. Unknown fields on input are an error. Maps and
 * well-known types (Timestamp, Any, ...) get no special treatment: they
 * convert as the plain messages protobuf-c generates for them.
 *
 * Thread-safe (no shared state). */
#ifndef HW_PBJSON_H
#define HW_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Parse a JSON object into a new message of type d. Returns a message the
 * caller frees with protobuf_c_message_free_unpacked(m, NULL), or NULL with
 * err set to "<path>: <problem>", e.g. "report.foo: unknown field" or
 * "report.count: expected an integer, got string". Paths use proto field
 * names and [i] for repeated elements; the top level has no prefix. */
ProtobufCMessage *hw_json_to_message(const ProtobufCMessageDescriptor *d, const char *json,
                                     char *err, size_t errlen);

enum hw_pbjson_flags {
    HW_PBJSON_PRETTY = 1,        /* indent by two spaces, one field a line */
    HW_PBJSON_PROTO_NAMES = 2,   /* "last_seen_at" instead of "lastSeenAt" */
    HW_PBJSON_EMIT_DEFAULTS = 4, /* also write default-valued fields */
};

/* Write m as JSON. flags: a mix of hw_pbjson_flags (1 alone is the plain
 * "pretty" switch). Returns a malloc'd NUL-terminated string the caller
 * frees, or NULL on allocation failure or nesting deeper than 100. */
char *hw_message_to_json(const ProtobufCMessage *m, int flags);

#endif
