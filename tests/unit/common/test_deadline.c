/* test_deadline.c -- the deadline scheduler against real Postgres and Redis
 * (HW_TEST_PG_URL: superuser URL to a maintenance database;
 *  HW_TEST_REDIS_ADDR: host:port). Each test has its own schema and its own
 * Redis namespace ("t_dl_<pid>_<n>") so test programs may run in parallel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hw_deadline.h"
#include "hw_pg.h"
#include "hw_redis.h"
#include "hw_time.h"
#include "redistest.h"

static const char *g_pg_url;
static char g_redis_host[256];
static int g_redis_port;
static int g_seq;

typedef struct ctx {
    char name[64];          /* schema and scheduler service namespace */
    char due_key[128];
    char inflight_key[128];
    hw_pg_pool *pool;
    hw_redis *redis;
    /* Owned here so a failed assertion still stops them before the pools
     * go (teardown). */
    hw_scheduler *sched[2];
    int n_sched;
    hw_pg_pool *pool2;
    hw_redis *redis2;
} ctx;

/* What a handler does: record the firing in the test's own table, in the
 * transaction that marks the deadline done. */
typedef struct runner {
    int id;
    atomic_int calls;
    int fail_first;         /* return -1 on the first n calls */
    int sleep_ms;           /* hold the transaction open this long */
    hw_scheduler *resched;  /* schedule the same deadline again, an hour on */
} runner;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static hw_db *lease(ctx *c) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(c->pool, 5000, &st);
    if (!db) fail_msg("no database connection: %s", st.message);
    return db;
}

static void run_sql(ctx *c, const char *sql, int n, const char *const *params) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    if (hw_db_run(db, sql, n, params, &st) != 0) fail_msg("%s: %s", sql, st.message);
    hw_pg_release(db);
}

/* First column of the first row as an integer; -1 if there is no row. */
static int64_t query_int(ctx *c, const char *sql, int n, const char *const *params) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    hw_res *r = hw_db_exec(db, sql, n, params, &st);
    if (!r) fail_msg("%s: %s", sql, st.message);
    int64_t v = hw_res_rows(r) > 0 ? hw_res_int(r, 0, 0) : -1;
    hw_res_free(r);
    hw_pg_release(db);
    return v;
}

static int64_t fires(ctx *c, const char *kind, const char *subject) {
    const char *p[] = {kind, subject};
    return query_int(c, "SELECT count(*) FROM fires WHERE kind = $1 AND subject = $2", 2, p);
}

/* Wait until the deadline has fired `want` times; the time it took, or -1. */
static int64_t wait_fires(ctx *c, const char *kind, const char *subject, int want, int timeout_ms) {
    int64_t start = hw_now_ms();
    while (hw_now_ms() - start < timeout_ms) {
        if (fires(c, kind, subject) >= want) return hw_now_ms() - start;
        sleep_ms(50);
    }
    return -1;
}

static int record_fire(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                       const char *payload_json, void *arg, hw_status *st) {
    runner *r = arg;
    int call = atomic_fetch_add(&r->calls, 1);
    char due[24], now[24], id[16];
    snprintf(due, sizeof due, "%lld", (long long)due_at_ms);
    snprintf(now, sizeof now, "%lld", (long long)hw_now_ms());
    snprintf(id, sizeof id, "%d", r->id);
    const char *p[] = {kind, subject, due, payload_json, now, id};
    if (hw_db_run(db,
                  "INSERT INTO fires (kind, subject, due_at_ms, payload, fired_ms, runner) "
                  "VALUES ($1, $2, $3, $4, $5, $6)",
                  6, p, st) != 0)
        return -1;
    if (r->sleep_ms) sleep_ms(r->sleep_ms);
    if (r->resched && hw_schedule(r->resched, db, kind, subject, due_at_ms + 3600000, payload_json, st) != 0)
        return -1;
    /* Fail after writing: the row above must vanish with the rollback. */
    if (call < r->fail_first) return hw_status_set(st, HW_UNAVAILABLE, "simulated failure %d", call + 1);
    return 0;
}

static hw_scheduler *new_scheduler(ctx *c, hw_pg_pool *pool, hw_redis *redis, int poll_ms,
                                   int lease_ms, int rearm_ms, const char *kind, runner *r) {
    hw_scheduler_opts o = {c->name, poll_ms, lease_ms, rearm_ms};
    hw_scheduler *s = hw_scheduler_create(pool ? pool : c->pool, redis ? redis : c->redis, &o);
    assert_non_null(s);
    assert_true(c->n_sched < 2);
    c->sched[c->n_sched++] = s;
    hw_scheduler_on(s, kind, record_fire, r);
    return s;
}

static void schedule(ctx *c, hw_scheduler *s, const char *kind, const char *subject, int64_t due,
                     const char *payload) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    assert_int_equal(hw_db_begin(db, &st), 0);
    if (hw_schedule(s, db, kind, subject, due, payload, &st) != 0) fail_msg("schedule: %s", st.message);
    assert_int_equal(hw_db_commit(db, &st), 0);
    hw_pg_release(db);
}

static void cancel(ctx *c, hw_scheduler *s, const char *kind, const char *subject) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    assert_int_equal(hw_db_begin(db, &st), 0);
    if (hw_cancel(s, db, kind, subject, &st) != 0) fail_msg("cancel: %s", st.message);
    assert_int_equal(hw_db_commit(db, &st), 0);
    hw_pg_release(db);
}

/* Score of member in key, or -1 if absent. */
static int64_t zscore(ctx *c, const char *key, const char *member) {
    hw_redis_reply *rep = hw_redis_cmdv(c->redis, "ZSCORE", key, member, NULL);
    assert_non_null(rep);
    int64_t v = rep->type == HW_REDIS_STR ? strtoll(rep->str, NULL, 10) : -1;
    hw_redis_reply_free(rep);
    return v;
}

static void redis_ok(ctx *c, const char *a0, const char *a1, const char *a2, const char *a3) {
    hw_redis_reply *rep = hw_redis_cmdv(c->redis, a0, a1, a2, a3, NULL);
    assert_non_null(rep);
    if (rep->type == HW_REDIS_ERR) fail_msg("%s: %s", a0, rep->str);
    hw_redis_reply_free(rep);
}

static void forget_redis(ctx *c) {
    redis_ok(c, "DEL", c->due_key, c->inflight_key, NULL);
}

static const char *state_of(ctx *c, const char *kind, const char *subject, char *buf, size_t n) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    const char *p[] = {kind, subject};
    hw_res *r = hw_db_exec(db, "SELECT state FROM deadlines WHERE kind = $1 AND subject = $2 ORDER BY id DESC LIMIT 1",
                           2, p, &st);
    if (!r) fail_msg("state: %s", st.message);
    snprintf(buf, n, "%s", hw_res_rows(r) ? hw_res_get(r, 0, 0) : "none");
    hw_res_free(r);
    hw_pg_release(db);
    return buf;
}

/* ---- fixture ---- */

static int setup(void **state) {
    ctx *c = calloc(1, sizeof *c);
    if (!c) return -1;
    snprintf(c->name, sizeof c->name, "t_dl_%d_%d", (int)getpid(), ++g_seq);
    snprintf(c->due_key, sizeof c->due_key, "hw:{%s}:due", c->name);
    snprintf(c->inflight_key, sizeof c->inflight_key, "hw:{%s}:inflight", c->name);
    char err[512] = "";
    if (hw_migrate(g_pg_url, c->name, HW_SOURCE_DIR "/common/sql", NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "migrate %s: %s\n", c->name, err);
        free(c);
        return -1;
    }
    c->pool = hw_pg_pool_create(g_pg_url, c->name, 4, err, sizeof err);
    c->redis = hw_redis_create(g_redis_host, g_redis_port, err, sizeof err);
    if (!c->pool || !c->redis) {
        fprintf(stderr, "setup %s: %s\n", c->name, err);
        return -1;
    }
    *state = c;
    run_sql(c,
            "CREATE TABLE fires (id bigserial PRIMARY KEY, kind text, subject text, due_at_ms bigint, "
            "payload text, fired_ms bigint, runner int)",
            0, NULL);
    return 0;
}

static int teardown(void **state) {
    ctx *c = *state;
    if (!c) return 0;
    for (int i = 0; i < c->n_sched; i++) hw_scheduler_destroy(c->sched[i]);
    hw_redis_destroy(c->redis2);
    hw_pg_pool_destroy(c->pool2);
    if (c->redis) {
        hw_redis_reply *rep = hw_redis_cmdv(c->redis, "DEL", c->due_key, c->inflight_key, NULL);
        hw_redis_reply_free(rep);
    }
    if (c->pool) {
        /* The schema name is ours (letters, digits, _), not a value. */
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", c->name);
        hw_status st = HW_STATUS_INIT;
        hw_db *db = hw_pg_acquire(c->pool, 5000, &st);
        if (db) {
            hw_db_run(db, sql, 0, NULL, &st);
            hw_pg_release(db);
        }
        hw_pg_pool_destroy(c->pool);
    }
    hw_redis_destroy(c->redis);
    free(c);
    return 0;
}

/* ---- tests ---- */

static void test_fires_once_at_due_time(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 30000, "interview.due", &r);
    assert_int_equal(hw_scheduler_start(s), 0);

    int64_t due = hw_now_ms() + 1500;
    schedule(c, s, "interview.due", "episode:1", due, "{\"episode\":1}");
    assert_int_equal(zscore(c, c->due_key, "interview.due|episode:1"), due);
    sleep_ms(900);
    assert_int_equal(fires(c, "interview.due", "episode:1"), 0);
    assert_true(wait_fires(c, "interview.due", "episode:1", 1, 6000) >= 0);

    /* On time, with the exact due instant and the payload. */
    const char *p[] = {"interview.due", "episode:1"};
    int64_t fired = query_int(c, "SELECT fired_ms FROM fires WHERE kind = $1 AND subject = $2", 2, p);
    assert_true(fired >= due);
    assert_true(fired < due + 2000);
    assert_int_equal(query_int(c, "SELECT due_at_ms FROM fires WHERE kind = $1 AND subject = $2", 2, p), due);
    assert_int_equal(query_int(c, "SELECT count(*) FROM fires WHERE kind = $1 AND subject = $2 "
                                  "AND payload = '{\"episode\":1}'", 2, p), 1);

    sleep_ms(800);
    assert_int_equal(fires(c, "interview.due", "episode:1"), 1);
    char buf[16];
    assert_string_equal(state_of(c, "interview.due", "episode:1", buf, sizeof buf), "done");
    assert_int_equal(query_int(c, "SELECT count(*) FROM deadlines WHERE kind = $1 AND subject = $2 "
                                  "AND done_at IS NOT NULL", 2, p), 1);
    assert_int_equal(zscore(c, c->due_key, "interview.due|episode:1"), -1);
    assert_int_equal(zscore(c, c->inflight_key, "interview.due|episode:1"), -1);
}

static void test_cancelled_never_fires(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 30000, "meeting.due", &r);
    assert_int_equal(hw_scheduler_start(s), 0);

    schedule(c, s, "meeting.due", "m1", hw_now_ms() + 700, NULL);
    schedule(c, s, "meeting.due", "m2", hw_now_ms() + 700, NULL);
    cancel(c, s, "meeting.due", "m1");
    assert_int_equal(zscore(c, c->due_key, "meeting.due|m1"), -1);
    /* Cancelling what is not pending is a no-op. */
    cancel(c, s, "meeting.due", "never-scheduled");

    assert_true(wait_fires(c, "meeting.due", "m2", 1, 6000) >= 0);
    sleep_ms(1000);
    assert_int_equal(fires(c, "meeting.due", "m1"), 0);
    char buf[16];
    assert_string_equal(state_of(c, "meeting.due", "m1", buf, sizeof buf), "cancelled");
    assert_string_equal(state_of(c, "meeting.due", "never-scheduled", buf, sizeof buf), "none");

    /* A cancel rolled back leaves the deadline in force. */
    schedule(c, s, "meeting.due", "m3", hw_now_ms() + 800, NULL);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    assert_int_equal(hw_db_begin(db, &st), 0);
    assert_int_equal(hw_cancel(s, db, "meeting.due", "m3", &st), 0);
    hw_db_rollback(db);
    hw_pg_release(db);
    assert_true(wait_fires(c, "meeting.due", "m3", 1, 6000) >= 0);
}

static void test_reschedule_moves(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 30000, "review.due", &r);
    assert_int_equal(hw_scheduler_start(s), 0);

    int64_t first = hw_now_ms() + 600;
    int64_t moved = hw_now_ms() + 2500;
    schedule(c, s, "review.due", "e7", first, "{\"v\":1}");
    schedule(c, s, "review.due", "e7", moved, "{\"v\":2}");
    const char *p[] = {"review.due", "e7"};
    assert_int_equal(query_int(c, "SELECT count(*) FROM deadlines WHERE kind = $1 AND subject = $2", 2, p), 1);
    /* Redis still holding the old, earlier score (a lost arm): the poller
     * looks early, sees the row moved, and waits for the new time. */
    char sc[24];
    snprintf(sc, sizeof sc, "%lld", (long long)first);
    redis_ok(c, "ZADD", c->due_key, sc, "review.due|e7");

    sleep_ms(1500);
    assert_int_equal(fires(c, "review.due", "e7"), 0);
    assert_int_equal(zscore(c, c->due_key, "review.due|e7"), moved);
    assert_true(wait_fires(c, "review.due", "e7", 1, 6000) >= 0);
    assert_true(query_int(c, "SELECT fired_ms FROM fires WHERE kind = $1 AND subject = $2", 2, p) >= moved);
    assert_int_equal(query_int(c, "SELECT count(*) FROM fires WHERE kind = $1 AND subject = $2 "
                                  "AND payload = '{\"v\":2}'", 2, p), 1);
    sleep_ms(500);
    assert_int_equal(fires(c, "review.due", "e7"), 1);
}

static void test_redis_loses_everything(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 400, "long.due", &r);

    int64_t due_a = hw_now_ms() + 1000;
    schedule(c, s, "long.due", "a", due_a, NULL);
    schedule(c, s, "long.due", "b", hw_now_ms() + 1000, NULL);
    assert_int_equal(zscore(c, c->due_key, "long.due|a"), due_a);
    /* All of Redis's state for this service gone, as after FLUSHALL or a
     * restart without persistence. (DEL of our keys rather than FLUSHALL so
     * other test programs sharing the server are not disturbed; SCRIPT
     * FLUSH makes the scheduler fall back from EVALSHA to EVAL.) */
    forget_redis(c);
    redis_ok(c, "SCRIPT", "FLUSH", NULL, NULL);
    assert_int_equal(zscore(c, c->due_key, "long.due|a"), -1);
    assert_int_equal(hw_scheduler_rearm(s), 2);
    assert_int_equal(zscore(c, c->due_key, "long.due|a"), due_a);

    assert_int_equal(hw_scheduler_start(s), 0);
    assert_true(wait_fires(c, "long.due", "a", 1, 6000) >= 0);
    assert_true(wait_fires(c, "long.due", "b", 1, 6000) >= 0);

    /* While running: lost again, the periodic re-arm (400 ms) restores it. */
    schedule(c, s, "long.due", "c", hw_now_ms() + 1200, NULL);
    forget_redis(c);
    redis_ok(c, "SCRIPT", "FLUSH", NULL, NULL);
    assert_true(wait_fires(c, "long.due", "c", 1, 6000) >= 0);
    sleep_ms(800);
    assert_int_equal(fires(c, "long.due", "a"), 1);
    assert_int_equal(fires(c, "long.due", "b"), 1);
    assert_int_equal(fires(c, "long.due", "c"), 1);
    /* Nothing pending: re-arm arms nothing. */
    assert_int_equal(hw_scheduler_rearm(s), 0);
}

static void test_fell_due_while_down_fires_once_on_start(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    /* Re-arm interval far away: only the re-arm on start can find them. */
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 600000, "lm.alert", &r);
    schedule(c, s, "lm.alert", "past", hw_now_ms() - 5000, NULL);
    schedule(c, s, "lm.alert", "soon", hw_now_ms() + 300, NULL);
    sleep_ms(600);
    forget_redis(c);  /* Redis came back empty too */
    assert_int_equal(fires(c, "lm.alert", "past"), 0);

    assert_int_equal(hw_scheduler_start(s), 0);
    assert_true(wait_fires(c, "lm.alert", "past", 1, 5000) >= 0);
    assert_true(wait_fires(c, "lm.alert", "soon", 1, 5000) >= 0);
    sleep_ms(1000);
    assert_int_equal(fires(c, "lm.alert", "past"), 1);
    assert_int_equal(fires(c, "lm.alert", "soon"), 1);
    assert_int_equal(atomic_load(&r.calls), 2);

    /* A restart (stop, start) does not fire them again. */
    hw_scheduler_stop(s);
    assert_int_equal(hw_scheduler_start(s), 0);
    sleep_ms(700);
    assert_int_equal(atomic_load(&r.calls), 2);
}

static void test_two_replicas_fire_once(void **state) {
    ctx *c = *state;
    char err[256] = "";
    c->pool2 = hw_pg_pool_create(g_pg_url, c->name, 4, err, sizeof err);
    c->redis2 = hw_redis_create(g_redis_host, g_redis_port, err, sizeof err);
    assert_non_null(c->pool2);
    assert_non_null(c->redis2);
    /* Handlers slower than the lease: claims expire while their handler
     * still runs, so the other replica re-claims them and must find the row
     * locked (or done) rather than fire it again. */
    runner r1 = {.id = 1, .sleep_ms = 400};
    runner r2 = {.id = 2, .sleep_ms = 400};
    hw_scheduler *s1 = new_scheduler(c, NULL, NULL, 20, 250, 30000, "rq.due", &r1);
    hw_scheduler *s2 = new_scheduler(c, c->pool2, c->redis2, 20, 250, 30000, "rq.due", &r2);
    enum { N = 8 };
    char subj[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(subj[i], sizeof subj[i], "child:%d", i);
        schedule(c, s1, "rq.due", subj[i], hw_now_ms() - 10, NULL);
    }
    assert_int_equal(hw_scheduler_start(s1), 0);
    assert_int_equal(hw_scheduler_start(s2), 0);

    int64_t start = hw_now_ms();
    while (query_int(c, "SELECT count(*) FROM deadlines WHERE state = 'pending'", 0, NULL) > 0 &&
           hw_now_ms() - start < 20000)
        sleep_ms(100);
    assert_int_equal(query_int(c, "SELECT count(*) FROM deadlines WHERE state = 'pending'", 0, NULL), 0);
    sleep_ms(1200);
    hw_scheduler_stop(s1);
    hw_scheduler_stop(s2);

    for (int i = 0; i < N; i++) assert_int_equal(fires(c, "rq.due", subj[i]), 1);
    assert_int_equal(query_int(c, "SELECT count(*) FROM fires", 0, NULL), N);
    assert_int_equal(atomic_load(&r1.calls) + atomic_load(&r2.calls), N);
    /* Both replicas did some of the work. */
    assert_true(query_int(c, "SELECT count(*) FROM fires WHERE runner = 1", 0, NULL) > 0);
    assert_true(query_int(c, "SELECT count(*) FROM fires WHERE runner = 2", 0, NULL) > 0);
}

static void test_claim_of_dead_process_returns_after_lease(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 300, 30000, "r41.due", &r);
    schedule(c, s, "r41.due", "home:9", hw_now_ms() - 1000, NULL);

    /* A process claimed it (due -> inflight, lease 2 s) and died. */
    int64_t expiry = hw_redis_time_ms(c->redis) + 2000;
    char sc[24];
    snprintf(sc, sizeof sc, "%lld", (long long)expiry);
    redis_ok(c, "ZREM", c->due_key, "r41.due|home:9", NULL);
    redis_ok(c, "ZADD", c->inflight_key, sc, "r41.due|home:9");

    assert_int_equal(hw_scheduler_start(s), 0);
    /* The re-arm on start leaves a live claim alone. */
    sleep_ms(1000);
    assert_int_equal(fires(c, "r41.due", "home:9"), 0);
    assert_int_equal(zscore(c, c->due_key, "r41.due|home:9"), -1);
    assert_true(wait_fires(c, "r41.due", "home:9", 1, 6000) >= 0);
    const char *p[] = {"r41.due", "home:9"};
    assert_true(query_int(c, "SELECT fired_ms FROM fires WHERE kind = $1 AND subject = $2", 2, p) >= expiry);
    sleep_ms(600);
    assert_int_equal(fires(c, "r41.due", "home:9"), 1);
    assert_int_equal(zscore(c, c->inflight_key, "r41.due|home:9"), -1);
}

static void test_failing_handler_is_retried(void **state) {
    ctx *c = *state;
    runner r = {.id = 1, .fail_first = 2};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 30000, "digest.due", &r);
    assert_int_equal(hw_scheduler_start(s), 0);
    schedule(c, s, "digest.due", "d1", hw_now_ms(), NULL);

    /* Backoff 1 s then 2 s. */
    assert_true(wait_fires(c, "digest.due", "d1", 1, 12000) >= 0);
    sleep_ms(500);
    assert_int_equal(atomic_load(&r.calls), 3);
    /* The failed attempts' writes were rolled back with them. */
    assert_int_equal(fires(c, "digest.due", "d1"), 1);
    const char *p[] = {"digest.due", "d1"};
    assert_int_equal(query_int(c, "SELECT attempts FROM deadlines WHERE kind = $1 AND subject = $2", 2, p), 2);
    char buf[16];
    assert_string_equal(state_of(c, "digest.due", "d1", buf, sizeof buf), "done");
}

static void test_handler_schedules_next_occurrence(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 30000, "daily.digest", &r);
    r.resched = s;
    int64_t due = hw_now_ms() + 300;
    schedule(c, s, "daily.digest", "all", due, NULL);
    assert_int_equal(hw_scheduler_start(s), 0);
    assert_true(wait_fires(c, "daily.digest", "all", 1, 5000) >= 0);
    sleep_ms(300);
    const char *p[] = {"daily.digest", "all"};
    assert_int_equal(query_int(c, "SELECT count(*) FROM deadlines WHERE kind = $1 AND subject = $2 "
                                  "AND state = 'done'", 2, p), 1);
    assert_int_equal(query_int(c, "SELECT (extract(epoch FROM due_at) * 1000)::bigint FROM deadlines "
                                  "WHERE kind = $1 AND subject = $2 AND state = 'pending'", 2, p),
                     due + 3600000);
    assert_int_equal(zscore(c, c->due_key, "daily.digest|all"), due + 3600000);
    assert_int_equal(fires(c, "daily.digest", "all"), 1);
}

static void test_bad_names_refused(void **state) {
    ctx *c = *state;
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, NULL, 50, 5000, 30000, "x", &r);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = lease(c);
    assert_int_equal(hw_schedule(s, db, "a|b", "s", hw_now_ms(), NULL, &st), -1);
    assert_int_not_equal(st.code, HW_OK);
    st = (hw_status)HW_STATUS_INIT;
    assert_int_equal(hw_schedule(s, db, "a", "", hw_now_ms(), NULL, &st), -1);
    hw_pg_release(db);
    assert_int_equal(query_int(c, "SELECT count(*) FROM deadlines", 0, NULL), 0);
}


static void test_survives_redis_outage(void **state) {
    ctx *c = *state;
    int port = free_port();
    pid_t pid = start_redis(port);
    char err[256] = "";
    for (int i = 0; i < 100 && !c->redis2; i++) {
        c->redis2 = hw_redis_create("127.0.0.1", port, err, sizeof err);
        if (!c->redis2) sleep_ms(50);
    }
    if (!c->redis2) {
        stop_redis(pid);
        fail_msg("own redis on %d never came up: %s", port, err);
    }
    runner r = {.id = 1};
    hw_scheduler *s = new_scheduler(c, NULL, c->redis2, 50, 5000, 500, "outage.due", &r);
    assert_int_equal(hw_scheduler_start(s), 0);
    schedule(c, s, "outage.due", "before", hw_now_ms() + 1500, NULL);

    stop_redis(pid);
    /* Scheduled while Redis is down: the row commits, arming fails quietly. */
    schedule(c, s, "outage.due", "during", hw_now_ms() + 200, NULL);
    sleep_ms(1800);
    assert_int_equal(fires(c, "outage.due", "before"), 0);
    assert_int_equal(fires(c, "outage.due", "during"), 0);

    /* Back, empty: the periodic re-arm finds both, both fire once. */
    pid = start_redis(port);
    int64_t a = wait_fires(c, "outage.due", "before", 1, 8000);
    int64_t b = wait_fires(c, "outage.due", "during", 1, 8000);
    sleep_ms(600);
    hw_scheduler_stop(s);
    stop_redis(pid);
    assert_true(a >= 0);
    assert_true(b >= 0);
    assert_int_equal(fires(c, "outage.due", "before"), 1);
    assert_int_equal(fires(c, "outage.due", "during"), 1);
}

int main(void) {
    g_pg_url = getenv("HW_TEST_PG_URL");
    const char *addr = getenv("HW_TEST_REDIS_ADDR");
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!g_pg_url || !*g_pg_url || !colon || colon == addr ||
        (size_t)(colon - addr) >= sizeof g_redis_host) {
        fprintf(stderr, "test_deadline: set HW_TEST_PG_URL (superuser URL to a maintenance database) "
                        "and HW_TEST_REDIS_ADDR (host:port) to real servers for tests\n");
        return 1;
    }
    memcpy(g_redis_host, addr, (size_t)(colon - addr));
    g_redis_host[colon - addr] = '\0';
    g_redis_port = atoi(colon + 1);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fires_once_at_due_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_never_fires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reschedule_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_loses_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fell_due_while_down_fires_once_on_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_replicas_fire_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_of_dead_process_returns_after_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_handler_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_schedules_next_occurrence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_redis_outage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
