/* test_status.c -- hw_status: messages, violations, google.rpc.Status round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "hw_status.h"

static void test_set_returns_and_formats(void **state)
{
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(hw_status_set(&st, HW_NOT_FOUND, "episode %s not found", "ep-1"), -1);
    assert_int_equal(st.code, HW_NOT_FOUND);
    assert_string_equal(st.message, "episode ep-1 not found");
    assert_false(hw_ok(&st));
    assert_int_equal(hw_status_set(&st, HW_OK, "%s", ""), 0);
    assert_true(hw_ok(&st));
}

static void test_set_truncates_long_message(void **state)
{
    hw_status st = HW_STATUS_INIT;
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hw_status_set(&st, HW_INTERNAL, "%s", big);
    assert_int_equal(strlen(st.message), sizeof st.message - 1);
}

static void test_violation_generates_message(void **state)
{
    hw_status st = HW_STATUS_INIT;
    hw_status_violation(&st, "report.last_seen_at", "required");
    assert_int_equal(st.code, HW_INVALID_ARGUMENT);
    assert_string_equal(st.message, "invalid fields: report.last_seen_at");
    hw_status_violation(&st, "report.home_id", "unknown home %s", "home-9");
    assert_string_equal(st.message, "invalid fields: report.last_seen_at, report.home_id");
    assert_int_equal(st.n_violations, 2);
    assert_string_equal(st.violations[1].field, "report.home_id");
    assert_string_equal(st.violations[1].description, "unknown home home-9");
}

static void test_violation_keeps_own_message(void **state)
{
    hw_status st = HW_STATUS_INIT;
    hw_status_set(&st, HW_INVALID_ARGUMENT, "the report is incomplete");
    hw_status_violation(&st, "a", "required");
    hw_status_violation(&st, "b", "required");
    assert_string_equal(st.message, "the report is incomplete");
    assert_int_equal(st.n_violations, 2);
}

static void test_violation_caps_at_max(void **state)
{
    hw_status st = HW_STATUS_INIT;
    for (int i = 0; i < HW_STATUS_MAX_VIOLATIONS + 5; i++)
        hw_status_violation(&st, "f", "bad %d", i);
    assert_int_equal(st.n_violations, HW_STATUS_MAX_VIOLATIONS);
    assert_string_equal(st.violations[HW_STATUS_MAX_VIOLATIONS - 1].description, "bad 31");
}

static void test_code_names(void **state)
{
    assert_string_equal(hw_code_name(HW_OK), "OK");
    assert_string_equal(hw_code_name(HW_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(hw_code_name(HW_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
    assert_string_equal(hw_code_name(HW_PERMISSION_DENIED), "PERMISSION_DENIED");
    assert_string_equal(hw_code_name(HW_UNAVAILABLE), "UNAVAILABLE");
    assert_string_equal(hw_code_name(HW_UNAUTHENTICATED), "UNAUTHENTICATED");
    assert_string_equal(hw_code_name((enum hw_code)99), "UNKNOWN");
    assert_string_equal(hw_code_name((enum hw_code)-1), "UNKNOWN");
}

static void test_details_round_trip(void **state)
{
    hw_status st = HW_STATUS_INIT;
    hw_status_violation(&st, "report.last_seen_at", "required");
    hw_status_violation(&st, "report.home_id", "unknown home");
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(hw_status_to_details(&st, &buf, &len), 0);
    assert_non_null(buf);
    assert_true(len > 0);

    hw_status back;
    memset(&back, 0x55, sizeof back);
    assert_int_equal(hw_status_from_details(buf, len, &back), 0);
    assert_int_equal(back.code, HW_INVALID_ARGUMENT);
    assert_string_equal(back.message, st.message);
    assert_int_equal(back.n_violations, 2);
    assert_string_equal(back.violations[0].field, "report.last_seen_at");
    assert_string_equal(back.violations[0].description, "required");
    assert_string_equal(back.violations[1].field, "report.home_id");
    assert_string_equal(back.violations[1].description, "unknown home");
    free(buf);
}

/* The wire form must be the standard one any gRPC client decodes: check
 * it with the generated google.rpc code directly, not only via our parser. */
static void test_details_are_standard_status(void **state)
{
    hw_status st = HW_STATUS_INIT;
    hw_status_violation(&st, "child.reference", "required");
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(hw_status_to_details(&st, &buf, &len), 0);
    Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, len, buf);
    assert_non_null(rs);
    assert_int_equal(rs->code, 3);
    assert_string_equal(rs->message, "invalid fields: child.reference");
    assert_int_equal(rs->n_details, 1);
    assert_string_equal(rs->details[0]->type_url, "type.googleapis.com/google.rpc.BadRequest");
    Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(
        NULL, rs->details[0]->value.len, rs->details[0]->value.data);
    assert_non_null(br);
    assert_int_equal(br->n_field_violations, 1);
    assert_string_equal(br->field_violations[0]->field, "child.reference");
    assert_string_equal(br->field_violations[0]->description, "required");
    google__rpc__bad_request__free_unpacked(br, NULL);
    google__rpc__status__free_unpacked(rs, NULL);
    free(buf);
}

static void test_details_without_violations(void **state)
{
    hw_status st = HW_STATUS_INIT;
    hw_status_set(&st, HW_NOT_FOUND, "no such episode");
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(hw_status_to_details(&st, &buf, &len), 0);
    Google__Rpc__Status *rs = google__rpc__status__unpack(NULL, len, buf);
    assert_non_null(rs);
    assert_int_equal(rs->code, HW_NOT_FOUND);
    assert_int_equal(rs->n_details, 0);
    google__rpc__status__free_unpacked(rs, NULL);

    hw_status back = HW_STATUS_INIT;
    assert_int_equal(hw_status_from_details(buf, len, &back), 0);
    assert_int_equal(back.code, HW_NOT_FOUND);
    assert_string_equal(back.message, "no such episode");
    assert_int_equal(back.n_violations, 0);
    free(buf);
}

/* Other detail types (e.g. from another server) are skipped, not fatal. */
static void test_from_details_skips_other_types(void **state)
{
    Google__Protobuf__Any other = GOOGLE__PROTOBUF__ANY__INIT;
    other.type_url = (char *)"type.googleapis.com/google.rpc.RetryInfo";
    other.value.data = (uint8_t *)"\x0a\x02\x08\x01";
    other.value.len = 4;
    Google__Protobuf__Any *details[] = {&other};
    Google__Rpc__Status rs = GOOGLE__RPC__STATUS__INIT;
    rs.code = HW_UNAVAILABLE;
    rs.message = (char *)"try later";
    rs.n_details = 1;
    rs.details = details;
    unsigned char buf[256];
    size_t len = google__rpc__status__pack(&rs, buf);

    hw_status st = HW_STATUS_INIT;
    assert_int_equal(hw_status_from_details(buf, len, &st), 0);
    assert_int_equal(st.code, HW_UNAVAILABLE);
    assert_string_equal(st.message, "try later");
    assert_int_equal(st.n_violations, 0);
}

static void test_from_details_rejects_garbage(void **state)
{
    const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(hw_status_from_details(junk, sizeof junk, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_and_formats),
        cmocka_unit_test(test_set_truncates_long_message),
        cmocka_unit_test(test_violation_generates_message),
        cmocka_unit_test(test_violation_keeps_own_message),
        cmocka_unit_test(test_violation_caps_at_max),
        cmocka_unit_test(test_code_names),
        cmocka_unit_test(test_details_round_trip),
        cmocka_unit_test(test_details_are_standard_status),
        cmocka_unit_test(test_details_without_violations),
        cmocka_unit_test(test_from_details_skips_other_types),
        cmocka_unit_test(test_from_details_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
