/* test_pbjson.c -- JSON <-> protobuf-c conversion over homeward.testing.v1.AllTypes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homeward/testing/v1/codec_test.pb-c.h"
#include "hw_pbjson.h"

typedef Homeward__Testing__V1__AllTypes AllTypes;
typedef Homeward__Testing__V1__Inner Inner;
#define ALL_DESC (&homeward__testing__v1__all_types__descriptor)

static AllTypes *parse_ok(const char *json)
{
    char err[256] = "";
    ProtobufCMessage *m = hw_json_to_message(ALL_DESC, json, err, sizeof err);
    if (!m)
        fail_msg("refused %s: %s", json, err);
    return (AllTypes *)m;
}

static void parse_fails(const char *json, const char *want_err)
{
    char err[256] = "";
    ProtobufCMessage *m = hw_json_to_message(ALL_DESC, json, err, sizeof err);
    if (m) {
        protobuf_c_message_free_unpacked(m, NULL);
        fail_msg("accepted %s, expected error '%s'", json, want_err);
    }
    if (strcmp(err, want_err) != 0)
        fail_msg("for %s: error '%s', expected '%s'", json, err, want_err);
}

static void free_msg(void *m) { protobuf_c_message_free_unpacked(m, NULL); }

/* The wire encoding is the ground truth: two messages are equal if
 * protobuf-c packs them to the same bytes. */
static void assert_same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    assert_int_equal(na, nb);
    uint8_t *ba = malloc(na + 1), *bb = malloc(nb + 1);
    protobuf_c_message_pack(a, ba);
    protobuf_c_message_pack(b, bb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
}

static void test_every_scalar_type(void **state)
{
    AllTypes *m = parse_ok("{"
        "\"f_int32\": -2147483648, \"f_sint32\": -7, \"f_sfixed32\": 2147483647,"
        "\"f_int64\": \"-9223372036854775808\", \"f_sint64\": -5000000000,"
        "\"f_sfixed64\": \"9223372036854775807\","
        "\"f_uint32\": 4294967295, \"f_fixed32\": \"17\","
        "\"f_uint64\": \"18446744073709551615\", \"f_fixed64\": 12345678901234,"
        "\"f_bool\": true, \"f_float\": 1.5, \"f_double\": 0.1,"
        "\"f_string\": \"caf\\u00e9 \\\"q\\\"\\n\", \"f_bytes\": \"aGVsbG8=\","
        "\"colour\": \"COLOUR_GREEN\"}");
    assert_int_equal(m->f_int32, INT32_MIN);
    assert_int_equal(m->f_sint32, -7);
    assert_int_equal(m->f_sfixed32, INT32_MAX);
    assert_true(m->f_int64 == INT64_MIN);
    assert_true(m->f_sint64 == -5000000000LL);
    assert_true(m->f_sfixed64 == INT64_MAX);
    assert_true(m->f_uint32 == UINT32_MAX);
    assert_int_equal(m->f_fixed32, 17);
    assert_true(m->f_uint64 == UINT64_MAX);
    assert_true(m->f_fixed64 == 12345678901234ULL);
    assert_true(m->f_bool);
    assert_true(m->f_float == 1.5f);
    assert_true(m->f_double == 0.1);
    assert_string_equal(m->f_string, "caf\xc3\xa9 \"q\"\n");
    assert_int_equal(m->f_bytes.len, 5);
    assert_memory_equal(m->f_bytes.data, "hello", 5);
    assert_int_equal(m->colour, HOMEWARD__TESTING__V1__COLOUR__COLOUR_GREEN);
    free_msg(m);

    /* Special floats, URL-safe unpadded bytes, integral reals, numeric strings. */
    m = parse_ok("{\"f_float\": \"-Infinity\", \"f_double\": \"NaN\", \"f_bytes\": \"-_8\","
                 "\"f_int32\": 1e3, \"f_uint64\": 42, \"f_int64\": 7}");
    assert_true(isinf(m->f_float) && m->f_float < 0);
    assert_true(isnan(m->f_double));
    assert_int_equal(m->f_bytes.len, 2);
    assert_int_equal(m->f_bytes.data[0], 0xfb);
    assert_int_equal(m->f_bytes.data[1], 0xff);
    assert_int_equal(m->f_int32, 1000);
    assert_true(m->f_uint64 == 42);
    assert_true(m->f_int64 == 7);
    free_msg(m);
}

static void test_duplicate_json_keys_refused(void **state)
{
    char err[256] = "";
    ProtobufCMessage *m =
        hw_json_to_message(ALL_DESC, "{\"f_int32\":1,\"f_int32\":2}", err, sizeof err);
    assert_null(m);
    assert_non_null(strstr(err, "invalid JSON"));
    /* The same field under its two names. */
    parse_fails("{\"f_int32\":1,\"fInt32\":2}",
                "f_int32: given twice (as its proto name and its JSON name)");
}

static void test_camel_case_names(void **state)
{
    AllTypes *m = parse_ok("{\"fInt32\": 5, \"fString\": \"x\", \"rInner\": [{\"id\": \"a\"}],"
                           " \"choiceNumber\": \"9\"}");
    assert_int_equal(m->f_int32, 5);
    assert_string_equal(m->f_string, "x");
    assert_int_equal(m->n_r_inner, 1);
    assert_string_equal(m->r_inner[0]->id, "a");
    assert_int_equal(m->choice_case, HOMEWARD__TESTING__V1__ALL_TYPES__CHOICE_CHOICE_NUMBER);
    assert_true(m->choice_number == 9);
    free_msg(m);
}

static void test_enums(void **state)
{
    AllTypes *m = parse_ok("{\"colour\": 3, \"r_colour\": [\"COLOUR_RED\", 2, \"COLOUR_BLUE\"]}");
    assert_int_equal(m->colour, HOMEWARD__TESTING__V1__COLOUR__COLOUR_BLUE);
    assert_int_equal(m->n_r_colour, 3);
    assert_int_equal(m->r_colour[0], HOMEWARD__TESTING__V1__COLOUR__COLOUR_RED);
    assert_int_equal(m->r_colour[1], HOMEWARD__TESTING__V1__COLOUR__COLOUR_GREEN);
    char *json = hw_message_to_json(&m->base, HW_PBJSON_PROTO_NAMES);
    assert_string_equal(json, "{\"colour\":\"COLOUR_BLUE\",\"r_colour\":[\"COLOUR_RED\","
                              "\"COLOUR_GREEN\",\"COLOUR_BLUE\"]}");
    free(json);
    free_msg(m);

    parse_fails("{\"colour\": \"PURPLE\"}",
                "colour: unknown value 'PURPLE' for enum homeward.testing.v1.Colour");
    parse_fails("{\"colour\": 9}", "colour: unknown value 9 for enum homeward.testing.v1.Colour");
    parse_fails("{\"r_colour\": [\"COLOUR_RED\", true]}",
                "r_colour[1]: expected an enum name (string), got boolean");
}

static void test_nested_and_repeated_values(void **state)
{
    AllTypes *m = parse_ok("{"
        "\"inner\": {\"id\": \"outer\", \"count\": 2, \"tags\": [\"a\", \"b\"],"
        "            \"child\": {\"id\": \"deep\", \"child\": {\"count\": -1}}},"
        "\"r_int32\": [1, -2, 3], \"r_int64\": [\"-1\", 2], \"r_uint64\": [\"18446744073709551615\"],"
        "\"r_string\": [\"x\", \"\", \"z\"], \"r_bytes\": [\"AA==\", \"\"],"
        "\"r_inner\": [{\"id\": \"i0\"}, {}, {\"tags\": [\"t\"]}],"
        "\"r_double\": [0.5, \"Infinity\"], \"r_bool\": [true, false], \"r_float\": [0.25],"
        "\"f_string\": null}");
    assert_non_null(m->inner);
    assert_string_equal(m->inner->id, "outer");
    assert_int_equal(m->inner->count, 2);
    assert_int_equal(m->inner->n_tags, 2);
    assert_string_equal(m->inner->tags[1], "b");
    assert_string_equal(m->inner->child->id, "deep");
    assert_int_equal(m->inner->child->child->count, -1);
    assert_null(m->inner->child->child->child);
    assert_int_equal(m->n_r_int32, 3);
    assert_int_equal(m->r_int32[1], -2);
    assert_int_equal(m->n_r_int64, 2);
    assert_true(m->r_int64[0] == -1 && m->r_int64[1] == 2);
    assert_true(m->r_uint64[0] == UINT64_MAX);
    assert_int_equal(m->n_r_string, 3);
    assert_string_equal(m->r_string[1], "");
    assert_int_equal(m->n_r_bytes, 2);
    assert_int_equal(m->r_bytes[0].len, 1);
    assert_int_equal(m->r_bytes[1].len, 0);
    assert_int_equal(m->n_r_inner, 3);
    assert_string_equal(m->r_inner[0]->id, "i0");
    assert_string_equal(m->r_inner[1]->id, "");
    assert_string_equal(m->r_inner[2]->tags[0], "t");
    assert_true(isinf(m->r_double[1]));
    assert_int_equal(m->n_r_bool, 2);
    assert_true(m->r_bool[0] && !m->r_bool[1]);
    assert_true(m->r_float[0] == 0.25f);
    assert_string_equal(m->f_string, ""); /* null = not set */
    assert_null(m->inner->child->child->child);
    free_msg(m);
}

static void test_oneof(void **state)
{
    AllTypes *m = parse_ok("{\"choice_inner\": {\"id\": \"c\"}}");
    assert_int_equal(m->choice_case, HOMEWARD__TESTING__V1__ALL_TYPES__CHOICE_CHOICE_INNER);
    assert_string_equal(m->choice_inner->id, "c");
    free_msg(m);

    /* A set member is written even when it holds the default value. */
    m = parse_ok("{\"choice_number\": 0}");
    assert_int_equal(m->choice_case, HOMEWARD__TESTING__V1__ALL_TYPES__CHOICE_CHOICE_NUMBER);
    char *json = hw_message_to_json(&m->base, 0);
    assert_string_equal(json, "{\"choiceNumber\":\"0\"}");
    free(json);
    free_msg(m);

    parse_fails("{\"choice_text\": \"a\", \"choice_inner\": {}}",
                "choice_inner: only one of a oneof may be set (also given: choice_text)");
    /* null does not count as setting a member. */
    m = parse_ok("{\"choice_text\": null, \"choice_inner\": {}}");
    assert_int_equal(m->choice_case, HOMEWARD__TESTING__V1__ALL_TYPES__CHOICE_CHOICE_INNER);
    free_msg(m);
}

static void test_unknown_field_named_with_path(void **state)
{
    parse_fails("{\"foo\": 1}", "foo: unknown field");
    parse_fails("{\"inner\": {\"child\": {\"bar\": true}}}", "inner.child.bar: unknown field");
    parse_fails("{\"r_inner\": [{}, {\"id\": \"x\", \"nope\": 1}]}",
                "r_inner[1].nope: unknown field");
    /* Names are case-sensitive: FInt32 is neither spelling. */
    parse_fails("{\"FInt32\": 1}", "FInt32: unknown field");
}

static void test_type_errors_name_the_field(void **state)
{
    parse_fails("{\"f_int32\": \"abc\"}", "f_int32: expected an integer, got string");
    parse_fails("{\"f_int32\": 1.5}", "f_int32: expected an integer, got number");
    parse_fails("{\"f_int32\": 2147483648}", "f_int32: integer out of range");
    parse_fails("{\"f_int32\": \"2147483648\"}", "f_int32: integer out of range");
    parse_fails("{\"f_uint32\": -1}", "f_uint32: integer out of range");
    parse_fails("{\"f_uint64\": \"-5\"}", "f_uint64: integer out of range");
    parse_fails("{\"f_uint64\": \"18446744073709551616\"}", "f_uint64: integer out of range");
    parse_fails("{\"f_int64\": \"9223372036854775808\"}", "f_int64: integer out of range");
    parse_fails("{\"f_int64\": \" 12\"}", "f_int64: expected an integer, got string");
    parse_fails("{\"f_int64\": true}", "f_int64: expected an integer, got boolean");
    parse_fails("{\"f_bool\": 1}", "f_bool: expected true or false, got integer");
    parse_fails("{\"f_bool\": \"true\"}", "f_bool: expected true or false, got string");
    parse_fails("{\"f_string\": 5}", "f_string: expected a string, got integer");
    parse_fails("{\"f_float\": 1e39}", "f_float: number out of range for float");
    parse_fails("{\"f_double\": \"inf\"}", "f_double: expected a number, got string");
    parse_fails("{\"f_double\": [1]}", "f_double: expected a number, got array");
    parse_fails("{\"f_bytes\": \"!!\"}", "f_bytes: invalid base64");
    parse_fails("{\"f_bytes\": 12}", "f_bytes: expected base64 (string), got integer");
    parse_fails("{\"inner\": []}", "inner: expected an object, got array");
    parse_fails("{\"inner\": {\"count\": \"x\"}}", "inner.count: expected an integer, got string");
    parse_fails("{\"r_int32\": 5}", "r_int32: expected an array, got integer");
    parse_fails("{\"r_int32\": [1, null]}", "r_int32[1]: null is not allowed in a repeated field");
    parse_fails("{\"r_string\": [\"a\", \"b\", 3]}", "r_string[2]: expected a string, got integer");
    parse_fails("{\"r_inner\": [{}, 3]}", "r_inner[1]: expected an object, got integer");
    parse_fails("[1, 2]", "expected an object, got array");

    char err[256] = "";
    assert_null(hw_json_to_message(ALL_DESC, "{\"f_int32\": ", err, sizeof err));
    assert_non_null(strstr(err, "invalid JSON at line 1"));
    assert_null(hw_json_to_message(ALL_DESC, "", err, sizeof err));
    assert_non_null(strstr(err, "invalid JSON"));
}

static void test_nesting_limit(void **state)
{
    /* 80 nested Inner.child levels: refused, not a stack overflow. */
    char json[2048] = "{\"inner\":";
    for (int i = 0; i < 80; i++)
        strcat(json, "{\"child\":");
    strcat(json, "{}");
    for (int i = 0; i < 81; i++)
        strcat(json, "}");
    char err[256] = "";
    assert_null(hw_json_to_message(ALL_DESC, json, err, sizeof err));
    assert_non_null(strstr(err, "nested too deeply"));
    assert_true(strncmp(err, "...", 3) == 0); /* the long path keeps its end */
}

static void test_output_format(void **state)
{
    AllTypes *m = parse_ok("{\"f_int32\": 7, \"f_int64\": 5, \"f_uint64\": \"18446744073709551615\","
                           "\"f_bool\": true, \"f_float\": 0.1, \"f_double\": 0.1,"
                           "\"f_string\": \"tab\\there \\u00e9\", \"f_bytes\": \"/+8=\","
                           "\"inner\": {\"id\": \"i\", \"tags\": [\"t1\", \"t2\"]},"
                           "\"r_double\": [\"NaN\", -0.5], \"r_inner\": [{}]}");
    char *json = hw_message_to_json(&m->base, 0);
    assert_string_equal(json,
        "{\"fInt32\":7,\"fInt64\":\"5\",\"fUint64\":\"18446744073709551615\",\"fBool\":true,"
        "\"fFloat\":0.1,\"fDouble\":0.1,\"fString\":\"tab\\there \xc3\xa9\",\"fBytes\":\"/+8=\","
        "\"inner\":{\"id\":\"i\",\"tags\":[\"t1\",\"t2\"]},\"rInner\":[{}],"
        "\"rDouble\":[\"NaN\",-0.5]}"); /* in field-number order */
    free(json);

    json = hw_message_to_json(&m->inner->base, HW_PBJSON_PRETTY | HW_PBJSON_PROTO_NAMES);
    assert_string_equal(json, "{\n  \"id\": \"i\",\n  \"tags\": [\n    \"t1\",\n    \"t2\"\n  ]\n}");
    free(json);
    free_msg(m);

    /* Defaults are omitted unless asked for. */
    m = parse_ok("{}");
    json = hw_message_to_json(&m->base, 0);
    assert_string_equal(json, "{}");
    free(json);
    json = hw_message_to_json(&m->base, HW_PBJSON_EMIT_DEFAULTS | HW_PBJSON_PROTO_NAMES);
    assert_non_null(strstr(json, "\"f_int32\":0,"));
    assert_non_null(strstr(json, "\"f_int64\":\"0\","));
    assert_non_null(strstr(json, "\"f_string\":\"\","));
    assert_non_null(strstr(json, "\"colour\":\"COLOUR_UNSPECIFIED\","));
    assert_non_null(strstr(json, "\"r_inner\":[]"));
    assert_null(strstr(json, "choice")); /* an unset oneof has no value to write */
    free(json);
    free_msg(m);
}

static void test_round_trip(void **state)
{
    const char *in = "{"
        "\"f_int32\": -1, \"f_sint32\": -2147483648, \"f_sfixed32\": -3,"
        "\"f_int64\": \"-9223372036854775808\", \"f_sint64\": \"9223372036854775807\","
        "\"f_sfixed64\": -6, \"f_uint32\": 4294967295, \"f_fixed32\": 8,"
        "\"f_uint64\": \"18446744073709551615\", \"f_fixed64\": \"10\","
        "\"f_bool\": true, \"f_float\": 3.4028234663852886e38, \"f_double\": 2.2250738585072014e-308,"
        "\"f_string\": \"\\u0001\\u007f\\\\/\\ud83d\\ude00\", \"f_bytes\": \"AAECA/8=\","
        "\"colour\": \"COLOUR_RED\","
        "\"inner\": {\"id\": \"x\", \"count\": 3, \"tags\": [\"a\"], \"child\": {\"id\": \"y\"}},"
        "\"r_int32\": [0, 1], \"r_int64\": [\"0\", \"-1\"], \"r_uint64\": [\"1\"],"
        "\"r_string\": [\"\", \"s\"], \"r_bytes\": [\"\", \"AQ==\"], \"r_colour\": [\"COLOUR_BLUE\"],"
        "\"r_inner\": [{}, {\"id\": \"r\"}], \"r_double\": [1e-10, \"-Infinity\"],"
        "\"r_bool\": [false], \"r_float\": [1.1, -0.0],"
        "\"choice_text\": \"\"}";
    AllTypes *a = parse_ok(in);
    for (int flags = 0; flags < 8; flags++) {
        char *json = hw_message_to_json(&a->base, flags);
        assert_non_null(json);
        AllTypes *b = parse_ok(json);
        assert_same_wire(&a->base, &b->base);
        /* And writing it again gives the same text. */
        char *json2 = hw_message_to_json(&b->base, flags);
        assert_string_equal(json, json2);
        free(json2);
        free(json);
        free_msg(b);
    }

    /* Through the wire: what protobuf-c unpacks converts identically. */
    size_t n = protobuf_c_message_get_packed_size(&a->base);
    uint8_t *buf = malloc(n);
    protobuf_c_message_pack(&a->base, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(ALL_DESC, NULL, n, buf);
    assert_non_null(c);
    char *ja = hw_message_to_json(&a->base, 0), *jc = hw_message_to_json(c, 0);
    assert_string_equal(ja, jc);
    free(ja);
    free(jc);
    free(buf);
    protobuf_c_message_free_unpacked(c, NULL);
    free_msg(a);
}

static void test_errors_after_partial_build_do_not_leak(void **state)
{
    /* The sanitizer build checks these free everything built so far. */
    parse_fails("{\"f_string\": \"s\", \"r_inner\": [{\"id\": \"a\", \"tags\": [\"t\"]},"
                " {\"tags\": [\"u\", 1]}]}",
                "r_inner[1].tags[1]: expected a string, got integer");
    parse_fails("{\"choice_inner\": {\"id\": \"z\", \"child\": {\"x\": 1}}}",
                "choice_inner.child.x: unknown field");
    parse_fails("{\"r_bytes\": [\"AQ==\", \"**\"], \"f_bytes\": \"AQ==\"}",
                "r_bytes[1]: invalid base64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_scalar_type),
        cmocka_unit_test(test_duplicate_json_keys_refused),
        cmocka_unit_test(test_camel_case_names),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_nested_and_repeated_values),
        cmocka_unit_test(test_oneof),
        cmocka_unit_test(test_unknown_field_named_with_path),
        cmocka_unit_test(test_type_errors_name_the_field),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_output_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_errors_after_partial_build_do_not_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
