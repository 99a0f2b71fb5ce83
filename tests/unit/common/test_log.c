/* test_log.c -- every log line is one JSON object with the agreed fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw_log.h"

/* Run fn with stderr sent to a temporary file; return what it wrote
 * (malloc'd). */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/hw-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)n + 1);
    assert_int_equal(pread(fd, buf, (size_t)n, 0), n);
    close(fd);
    unlink(path);
    return buf;
}

/* Parse each line; return the number of lines, each checked as JSON with
 * the fields every line must have. */
static int lines(char *text, json_t **out, int max)
{
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        if (!j)
            fail_msg("not JSON (%s): %s", e.text, line);
        assert_true(json_is_string(json_object_get(j, "ts")));
        assert_true(json_is_string(json_object_get(j, "level")));
        assert_string_equal(json_string_value(json_object_get(j, "service")), "testsvc");
        assert_true(json_is_string(json_object_get(j, "msg")));
        assert_true(n < max);
        out[n++] = j;
    }
    return n;
}

static void emit_plain(void)
{
    hw_log_init("testsvc");
    hw_info("started on port %d", 50051);
    hw_warn("quote \" backslash \\ newline \n tab \t bell \a end");
    hw_error("bad utf-8 \xff\xfe here");
}

static void test_every_line_is_json_with_the_fields(void **state)
{
    (void)state;
    char *text = capture(emit_plain);
    json_t *j[8];
    int n = lines(text, j, 8);
    assert_int_equal(n, 3);
    assert_string_equal(json_string_value(json_object_get(j[0], "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j[0], "msg")), "started on port 50051");
    assert_string_equal(json_string_value(json_object_get(j[1], "level")), "warn");
    /* Control characters survive as escapes, so the line stays one line. */
    assert_non_null(strstr(json_string_value(json_object_get(j[1], "msg")), "newline \n tab"));
    assert_string_equal(json_string_value(json_object_get(j[2], "level")), "error");
    /* ts is RFC 3339 UTC with milliseconds: 2026-11-23T11:15:49.123Z */
    const char *ts = json_string_value(json_object_get(j[0], "ts"));
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    for (int i = 0; i < n; i++)
        json_decref(j[i]);
    free(text);
}

static void emit_call(void)
{
    hw_log_init("testsvc");
    hw_log_call("/homeward.episodes.v1.Episodes/ReportMissing", "req-42", 3, 12.5, "refused");
    hw_log_call("/homeward.episodes.v1.Episodes/GetEpisode", NULL, 0, 0.25, "ok");
}

static void test_call_lines_carry_method_request_code_duration(void **state)
{
    (void)state;
    char *text = capture(emit_call);
    json_t *j[4];
    assert_int_equal(lines(text, j, 4), 2);
    assert_string_equal(json_string_value(json_object_get(j[0], "method")),
                        "/homeward.episodes.v1.Episodes/ReportMissing");
    assert_string_equal(json_string_value(json_object_get(j[0], "request_id")), "req-42");
    assert_int_equal(json_integer_value(json_object_get(j[0], "grpc_code")), 3);
    assert_true(json_number_value(json_object_get(j[0], "duration_ms")) > 12.4);
    assert_int_equal(json_integer_value(json_object_get(j[1], "grpc_code")), 0);
    assert_null(json_string_value(json_object_get(j[1], "request_id")));
    json_decref(j[0]);
    json_decref(j[1]);
    free(text);
}

static void emit_filtered(void)
{
    hw_log_init("testsvc");
    hw_log_set_level(HW_LOG_WARN);
    hw_info("dropped");
    hw_warn("kept");
    hw_log_set_level(HW_LOG_INFO);
}

static void test_level_filter(void **state)
{
    (void)state;
    char *text = capture(emit_filtered);
    json_t *j[4];
    assert_int_equal(lines(text, j, 4), 1);
    assert_string_equal(json_string_value(json_object_get(j[0], "msg")), "kept");
    json_decref(j[0]);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_line_is_json_with_the_fields),
        cmocka_unit_test(test_call_lines_carry_method_request_code_duration),
        cmocka_unit_test(test_level_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
