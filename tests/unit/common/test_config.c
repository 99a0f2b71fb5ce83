/* test_config.c -- environment configuration: good values and clear refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hw_config.h"

#define VAR "HW_TEST_CONFIG_VALUE"

static int clear_var(void **state)
{
    (void)state;
    unsetenv(VAR);
    return 0;
}

static void test_str_required_and_default(void **state)
{
    const char *v = NULL;
    char err[256] = "";
    assert_int_equal(hw_config_get_str(VAR, NULL, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, VAR));
    assert_non_null(strstr(err, "required"));

    assert_int_equal(hw_config_get_str(VAR, "fallback", &v, err, sizeof err), 0);
    assert_string_equal(v, "fallback");

    /* Set but empty counts as unset: an empty address is never meant. */
    setenv(VAR, "", 1);
    assert_int_equal(hw_config_get_str(VAR, NULL, &v, err, sizeof err), -1);

    setenv(VAR, "postgres://db/homeward", 1);
    assert_int_equal(hw_config_get_str(VAR, "fallback", &v, err, sizeof err), 0);
    assert_string_equal(v, "postgres://db/homeward");
}

static void test_int_good_values(void **state)
{
    long v = 0;
    char err[256] = "";
    assert_int_equal(hw_config_get_int(VAR, 8, 1, 64, &v, err, sizeof err), 0);
    assert_int_equal(v, 8);
    const struct { const char *s; long want; } good[] = {
        {"1", 1}, {"64", 64}, {"+17", 17}, {"007", 7}, {"-5", -5},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        setenv(VAR, good[i].s, 1);
        if (hw_config_get_int(VAR, 8, -10, 64, &v, err, sizeof err) != 0)
            fail_msg("'%s' refused: %s", good[i].s, err);
        assert_int_equal(v, good[i].want);
    }
}

static void test_int_malformed(void **state)
{
    const char *bad[] = {"abc", "12abc", " 12", "12 ", "0x10", "1.5", "", "-", "+", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long v = 99;
        char err[256] = "";
        setenv(VAR, bad[i], 1);
        int rc = hw_config_get_int(VAR, 8, 1, 64, &v, err, sizeof err);
        if (bad[i][0] == '\0') {
            /* Empty means unset: the default. */
            assert_int_equal(rc, 0);
            assert_int_equal(v, 8);
            continue;
        }
        if (rc != -1)
            fail_msg("'%s' accepted as %ld", bad[i], v);
        assert_non_null(strstr(err, VAR ": expected an integer in 1..64"));
        assert_null(strstr(err, "out of range"));
        assert_int_equal(v, 99); /* untouched on error */
    }
    long v = 0;
    char err[256];
    setenv(VAR, "abc", 1);
    hw_config_get_int(VAR, 8, 1, 64, &v, err, sizeof err);
    assert_string_equal(err, VAR ": expected an integer in 1..64, got 'abc'");
}

static void test_int_out_of_range(void **state)
{
    const char *bad[] = {"0", "65", "-1", "99999999999999999999999", "-99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long v = 0;
        char err[256] = "";
        setenv(VAR, bad[i], 1);
        if (hw_config_get_int(VAR, 8, 1, 64, &v, err, sizeof err) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err, VAR));
        assert_non_null(strstr(err, "out of range"));
    }
}

static void test_addr(void **state)
{
    char host[256];
    int port = 0;
    char err[256] = "";
    assert_int_equal(hw_config_get_addr(VAR, "127.0.0.1:50051", host, &port, err, sizeof err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 50051);

    assert_int_equal(hw_config_get_addr(VAR, NULL, host, &port, err, sizeof err), -1);
    assert_non_null(strstr(err, "required"));

    setenv(VAR, "redis.internal:6379", 1);
    assert_int_equal(hw_config_get_addr(VAR, NULL, host, &port, err, sizeof err), 0);
    assert_string_equal(host, "redis.internal");
    assert_int_equal(port, 6379);

    setenv(VAR, "[::1]:65535", 1);
    assert_int_equal(hw_config_get_addr(VAR, NULL, host, &port, err, sizeof err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 65535);

    const char *bad[] = {"localhost", ":50051", "host:", "host:0", "host:65536", "host:-1",
                         "host:+80", "host:80x", "host: 80", "::1:80", "[::1]80", "a b:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(VAR, bad[i], 1);
        err[0] = '\0';
        if (hw_config_get_addr(VAR, NULL, host, &port, err, sizeof err) != -1)
            fail_msg("'%s' accepted as %s port %d", bad[i], host, port);
        assert_non_null(strstr(err, VAR ": "));
    }
    setenv(VAR, "host:70000", 1);
    hw_config_get_addr(VAR, NULL, host, &port, err, sizeof err);
    assert_non_null(strstr(err, "1..65535"));

    char longhost[400];
    memset(longhost, 'h', 300);
    strcpy(longhost + 300, ":80");
    setenv(VAR, longhost, 1);
    assert_int_equal(hw_config_get_addr(VAR, NULL, host, &port, err, sizeof err), -1);
    /* The message quotes only the start of a long value. */
    assert_true(strlen(err) < 120);
}

/* The exiting wrappers: run in a child, check the exit code and the JSON
 * log line naming the variable. */
static void test_wrappers_exit_2_with_log(void **state)
{
    setenv(VAR, "12", 1);
    assert_int_equal(hw_config_int(VAR, 1, 1, 64), 12);
    assert_string_equal(hw_config_str(VAR, NULL), "12");

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        setenv(VAR, "lots", 1);
        hw_config_int(VAR, 1, 1, 64);
        _exit(0); /* not reached if the wrapper works */
    }
    close(fds[1]);
    char buf[2048] = "";
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_non_null(strstr(buf, "\"level\":\"error\""));
    assert_non_null(strstr(buf, VAR ": expected an integer in 1..64, got 'lots'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_str_required_and_default, clear_var),
        cmocka_unit_test_setup(test_int_good_values, clear_var),
        cmocka_unit_test_setup(test_int_malformed, clear_var),
        cmocka_unit_test_setup(test_int_out_of_range, clear_var),
        cmocka_unit_test_setup(test_addr, clear_var),
        cmocka_unit_test_setup(test_wrappers_exit_2_with_log, clear_var),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
