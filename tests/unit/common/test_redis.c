/* test_redis.c -- hw_redis against a real Redis (HW_TEST_REDIS_ADDR=host:port). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hw_redis.h"
#include "hw_time.h"
#include "redistest.h"

static char g_host[256];
static int g_port;
static char g_prefix[64];   /* keys of this run: "t_redis:<pid>:" */

static hw_redis *connect_or_fail(void) {
    char err[256] = "";
    hw_redis *r = hw_redis_create(g_host, g_port, err, sizeof err);
    if (!r) fail_msg("cannot connect to Redis at %s:%d: %s", g_host, g_port, err);
    return r;
}

static void key(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s%s", g_prefix, name);
}

static void test_create_fails_on_closed_port(void **state) {
    (void)state;
    char err[256] = "";
    /* Port 1 on loopback: nothing listens there. */
    hw_redis *r = hw_redis_create("127.0.0.1", 1, err, sizeof err);
    assert_null(r);
    assert_true(strlen(err) > 0);
    assert_null(hw_redis_create(NULL, 6379, err, sizeof err));
}

static void test_reply_types(void **state) {
    (void)state;
    hw_redis *r = connect_or_fail();
    char k[128], kz[128];
    key(k, sizeof k, "bin");
    key(kz, sizeof kz, "z");
    assert_true(hw_redis_ping(r));

    /* Binary-safe: a value with NUL bytes survives. */
    static const char value[] = {'a', '\0', 'b', '\0', 'c'};
    const char *argv[] = {"SET", k, value};
    size_t argvlen[] = {3, strlen(k), sizeof value};
    hw_redis_reply *rep = hw_redis_cmd(r, 3, argv, argvlen);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_STATUS);
    assert_string_equal(rep->str, "OK");
    hw_redis_reply_free(rep);

    rep = hw_redis_cmdv(r, "GET", k, NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_STR);
    assert_int_equal(rep->len, sizeof value);
    assert_memory_equal(rep->str, value, sizeof value);
    hw_redis_reply_free(rep);

    rep = hw_redis_cmdv(r, "GET", "t_redis:no-such-key-ever", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_NIL);
    hw_redis_reply_free(rep);

    rep = hw_redis_cmdv(r, "ZADD", kz, "2", "b", "1", "a", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_INT);
    assert_int_equal(rep->integer, 2);
    hw_redis_reply_free(rep);

    rep = hw_redis_cmdv(r, "ZRANGE", kz, "0", "-1", "WITHSCORES", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_ARRAY);
    assert_int_equal(rep->n, 4);
    assert_string_equal(rep->elem[0]->str, "a");
    assert_string_equal(rep->elem[1]->str, "1");
    assert_string_equal(rep->elem[2]->str, "b");
    hw_redis_reply_free(rep);

    /* Nested arrays from a script. */
    rep = hw_redis_cmdv(r, "EVAL", "return {1, {'x', 2}, {}}", "0", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_ARRAY);
    assert_int_equal(rep->n, 3);
    assert_int_equal(rep->elem[0]->type, HW_REDIS_INT);
    assert_int_equal(rep->elem[1]->type, HW_REDIS_ARRAY);
    assert_int_equal(rep->elem[1]->n, 2);
    assert_string_equal(rep->elem[1]->elem[0]->str, "x");
    assert_int_equal(rep->elem[1]->elem[1]->integer, 2);
    assert_int_equal(rep->elem[2]->n, 0);
    hw_redis_reply_free(rep);

    /* An error is a reply, not a lost connection. */
    rep = hw_redis_cmdv(r, "NOSUCHCOMMAND", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_ERR);
    assert_non_null(strstr(rep->str, "unknown command"));
    hw_redis_reply_free(rep);
    assert_true(hw_redis_ping(r));

    rep = hw_redis_cmdv(r, "DEL", k, kz, NULL);
    assert_non_null(rep);
    assert_int_equal(rep->integer, 2);
    hw_redis_reply_free(rep);
    hw_redis_destroy(r);
}

static void test_time(void **state) {
    (void)state;
    hw_redis *r = connect_or_fail();
    int64_t t = hw_redis_time_ms(r);
    int64_t now = hw_now_ms();
    assert_true(t > 0);
    /* Same machine (or near enough): within 5 s of our clock. */
    assert_true(t - now < 5000 && now - t < 5000);
    hw_redis_destroy(r);
}

static long long client_id(hw_redis *r) {
    hw_redis_reply *rep = hw_redis_cmdv(r, "CLIENT", "ID", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_INT);
    long long id = rep->integer;
    hw_redis_reply_free(rep);
    return id;
}

static void test_reconnect_after_client_kill(void **state) {
    (void)state;
    hw_redis *r = connect_or_fail();
    hw_redis *killer = connect_or_fail();
    char k[128];
    key(k, sizeof k, "after-kill");

    for (int round = 0; round < 3; round++) {
        long long id = client_id(r);
        char ids[32];
        snprintf(ids, sizeof ids, "%lld", id);
        hw_redis_reply *rep = hw_redis_cmdv(killer, "CLIENT", "KILL", "ID", ids, NULL);
        assert_non_null(rep);
        assert_int_equal(rep->type, HW_REDIS_INT);
        assert_int_equal(rep->integer, 1);
        hw_redis_reply_free(rep);

        /* The next command finds the connection closed, reconnects and
         * is sent again: the caller sees a normal reply. */
        rep = hw_redis_cmdv(r, "INCR", k, NULL);
        assert_non_null(rep);
        assert_int_equal(rep->type, HW_REDIS_INT);
        assert_int_equal(rep->integer, round + 1);
        hw_redis_reply_free(rep);
        assert_true(client_id(r) != id);
    }
    hw_redis_reply *rep = hw_redis_cmdv(r, "DEL", k, NULL);
    hw_redis_reply_free(rep);
    hw_redis_destroy(killer);
    hw_redis_destroy(r);
}

typedef struct incr_job {
    hw_redis *r;
    const char *key;
    int n;
    int failures;
} incr_job;

static void *incr_thread(void *arg) {
    incr_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        hw_redis_reply *rep = hw_redis_cmdv(j->r, "INCR", j->key, NULL);
        if (!rep || rep->type != HW_REDIS_INT) j->failures++;
        hw_redis_reply_free(rep);
    }
    return NULL;
}

static void test_shared_between_threads(void **state) {
    (void)state;
    hw_redis *r = connect_or_fail();
    char k[128];
    key(k, sizeof k, "threads");
    pthread_t th[4];
    incr_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (incr_job){r, k, 500, 0};
        assert_int_equal(pthread_create(&th[i], NULL, incr_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    hw_redis_reply *rep = hw_redis_cmdv(r, "GET", k, NULL);
    assert_non_null(rep);
    assert_string_equal(rep->str, "2000");
    hw_redis_reply_free(rep);
    rep = hw_redis_cmdv(r, "DEL", k, NULL);
    hw_redis_reply_free(rep);
    hw_redis_destroy(r);
}


static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool ping_within(hw_redis *r, int timeout_ms) {
    int64_t start = mono_ms();
    while (mono_ms() - start < timeout_ms) {
        if (hw_redis_ping(r)) return true;
        usleep(50 * 1000);
    }
    return false;
}

static void test_down_and_back(void **state) {
    (void)state;
    int port = free_port();
    pid_t pid = start_redis(port);
    char err[256] = "";
    hw_redis *r = NULL;
    for (int i = 0; i < 100 && !r; i++) {
        r = hw_redis_create("127.0.0.1", port, err, sizeof err);
        if (!r) usleep(50 * 1000);
    }
    if (!r) {
        stop_redis(pid);
        fail_msg("own redis on %d never came up: %s", port, err);
    }
    assert_true(hw_redis_ping(r));

    stop_redis(pid);
    /* Down: calls fail, and fail fast. */
    int64_t t0 = mono_ms();
    for (int i = 0; i < 20; i++) {
        hw_redis_reply *rep = hw_redis_cmdv(r, "INCR", "k", NULL);
        assert_null(rep);
    }
    assert_false(hw_redis_ping(r));
    assert_true(hw_redis_time_ms(r) == -1);
    assert_true(mono_ms() - t0 < 2000);

    /* Back: the same handle works again without the caller doing anything. */
    pid = start_redis(port);
    bool back = ping_within(r, 5000);
    hw_redis_reply *rep = hw_redis_cmdv(r, "INCR", "k", NULL);
    stop_redis(pid);
    assert_true(back);
    assert_non_null(rep);
    assert_int_equal(rep->type, HW_REDIS_INT);
    assert_int_equal(rep->integer, 1);  /* a fresh server: nothing persisted */
    hw_redis_reply_free(rep);
    hw_redis_destroy(r);
}

int main(void) {
    const char *addr = getenv("HW_TEST_REDIS_ADDR");
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!addr || !colon || colon == addr || (size_t)(colon - addr) >= sizeof g_host) {
        fprintf(stderr, "test_redis: set HW_TEST_REDIS_ADDR=host:port of a Redis server for tests\n");
        return 1;
    }
    memcpy(g_host, addr, (size_t)(colon - addr));
    g_host[colon - addr] = '\0';
    g_port = atoi(colon + 1);
    snprintf(g_prefix, sizeof g_prefix, "t_redis:%d:", (int)getpid());

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_fails_on_closed_port),
        cmocka_unit_test(test_reply_types),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_reconnect_after_client_kill),
        cmocka_unit_test(test_shared_between_threads),
        cmocka_unit_test(test_down_and_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
