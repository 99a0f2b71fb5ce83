/* test_audit_group.c -- reads' audit rows written by group commit (R-SEC-2),
 * against a real Postgres: every row lands exactly as given, concurrent reads
 * share commits, and a read whose rows cannot be written is told so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_audit.h"
#include "hw_pg.h"

#define TEST_DB_PREFIX "hwt_auditgrp"
#define COMMON_SQL_DIR HW_SOURCE_DIR "/common/sql"
#define SCHEMA "svc_ag"

#include "pgtest.h"

static hw_pg_pool *g_pool; /* the auditor's */
static hw_pg_pool *g_check; /* the test's own reads and locks */

static int setup_all(void **state)
{
    if (group_setup(state) != 0)
        return -1;
    char err[512];
    if (hw_migrate(g_test_conninfo, SCHEMA, COMMON_SQL_DIR, NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "migrate: %s\n", err);
        return -1;
    }
    g_pool = schema_pool(SCHEMA, 8);
    g_check = schema_pool(SCHEMA, 2);
    return 0;
}

static int teardown_all(void **state)
{
    hw_pg_pool_destroy(g_check);
    hw_pg_pool_destroy(g_pool);
    return group_teardown(state);
}

static int64_t scalar(const char *sql, const char *arg)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(g_check, 5000, &st);
    assert_non_null(db);
    const char *p[] = {arg};
    hw_res *r = hw_db_exec(db, sql, arg ? 1 : 0, arg ? p : NULL, &st);
    if (!r)
        fail_msg("%s: %s", sql, st.message);
    int64_t v = hw_res_int(r, 0, 0);
    hw_res_free(r);
    hw_pg_release(db);
    return v;
}

static hw_audit_entry entry(const char *subject, const char *record_id, const char *purpose)
{
    return (hw_audit_entry){subject, "spoc", "force-staffs", "/t.v1.T/Get", "child", record_id,
                            purpose, NULL};
}

/* ---- concurrent reads ---- */

#define N_THREADS 12
#define PER_THREAD 25

typedef struct worker {
    hw_auditor *a;
    int id;
    int failures;
} worker;

static void *write_many(void *arg)
{
    worker *w = arg;
    char subject[32], rid[32];
    snprintf(subject, sizeof subject, "many-%d", w->id);
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(rid, sizeof rid, "r-%d-%d", w->id, i);
        /* Every other read consulted two records. */
        hw_audit_entry e[2] = {entry(subject, rid, "group test"), entry(subject, rid, "second")};
        hw_status st = HW_STATUS_INIT;
        if (hw_audit_write(w->a, e, i % 2 ? 2 : 1, 10000, &st) != 0)
            w->failures++;
    }
    return NULL;
}

static void test_concurrent_reads_every_row_written_once(void **state)
{
    (void)state;
    hw_auditor *a = hw_auditor_create(g_pool);
    assert_non_null(a);
    worker w[N_THREADS];
    pthread_t t[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){a, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    hw_auditor_destroy(a);
    /* 13 of each thread's 25 reads wrote one row, 12 wrote two. */
    int64_t want = N_THREADS * (13 + 12 * 2);
    assert_int_equal(scalar("SELECT count(*) FROM audit WHERE subject LIKE 'many-%'", NULL), want);
    assert_int_equal(scalar("SELECT count(*) FROM (SELECT DISTINCT subject, record_id, purpose"
                            " FROM audit WHERE subject LIKE 'many-%') d", NULL),
                     want);
}

/* A group waiting behind a blocked write is written in one commit. */
typedef struct one_write {
    hw_auditor *a;
    hw_audit_entry e;
    int64_t wait_ms;
    int rc;
    hw_status st;
} one_write;

static void *write_one(void *arg)
{
    one_write *o = arg;
    o->st = (hw_status)HW_STATUS_INIT;
    o->rc = hw_audit_write(o->a, &o->e, 1, o->wait_ms, &o->st);
    return NULL;
}

/* Hold an exclusive lock on audit from another session until released. */
static hw_db *lock_audit(void)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(g_check, 5000, &st);
    assert_non_null(db);
    assert_int_equal(hw_db_begin(db, &st), 0);
    must_run(db, "LOCK TABLE audit IN EXCLUSIVE MODE", 0, NULL);
    return db;
}

static void unlock_audit(hw_db *db)
{
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(hw_db_commit(db, &st), 0);
    hw_pg_release(db);
}

/* Lock the audit table, then start a read whose write (it leads, nothing
 * else is waiting) blocks on the lock. Returns the lock's session. */
static hw_db *blocked_leader(hw_auditor *a, const char *subject, one_write *w, pthread_t *t)
{
    hw_db *lock = lock_audit();
    *w = (one_write){a, entry(subject, "x", "p"), 10000, -1, HW_STATUS_INIT};
    assert_int_equal(pthread_create(t, NULL, write_one, w), 0);
    usleep(200 * 1000);
    return lock;
}

static void test_reads_waiting_behind_a_write_share_one_commit(void **state)
{
    (void)state;
    hw_auditor *a = hw_auditor_create(g_pool);
    one_write first;
    pthread_t lead;
    hw_db *lock = blocked_leader(a, "behind-lead", &first, &lead);
    /* Ten more arrive while it is blocked: they form the next group. */
    one_write more[10];
    pthread_t t[10];
    char subj[10][32];
    for (int i = 0; i < 10; i++) {
        snprintf(subj[i], sizeof subj[i], "behind-%d", i);
        more[i] = (one_write){a, entry(subj[i], "x", "p"), 10000, -1, HW_STATUS_INIT};
        assert_int_equal(pthread_create(&t[i], NULL, write_one, &more[i]), 0);
    }
    usleep(300 * 1000);
    assert_int_equal(scalar("SELECT count(*) FROM audit WHERE subject LIKE 'behind%'", NULL), 0);
    unlock_audit(lock);
    pthread_join(lead, NULL);
    assert_int_equal(first.rc, 0);
    for (int i = 0; i < 10; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(more[i].rc, 0);
    }
    hw_auditor_destroy(a);
    assert_int_equal(scalar("SELECT count(*) FROM audit WHERE subject LIKE 'behind-%'", NULL), 11);
    /* The leader's row alone, then the ten together. */
    assert_int_equal(scalar("SELECT count(DISTINCT xmin::text) FROM audit"
                            " WHERE subject LIKE 'behind-%'", NULL),
                     2);
}

/* ---- values arrive exactly as given ---- */

static void test_values_with_quotes_backslashes_braces_and_null(void **state)
{
    (void)state;
    hw_auditor *a = hw_auditor_create(g_pool);
    const char *purposes[] = {
        "s.47 enquiry, \"urgent\"",     "C:\\cases\\{2026}",     "NULL",
        "",                             "commas, {braces}, \"q\"", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9e",
        "trailing backslash \\",        "tab\there\nnewline",
    };
    size_t n = sizeof purposes / sizeof *purposes;
    hw_audit_entry e[8];
    char ids[8][16];
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "esc-%zu", i);
        e[i] = entry("escape-test", ids[i], purposes[i]);
        e[i].request_id = i % 2 ? "req-\"1\"" : NULL;
    }
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(hw_audit_write(a, e, n, 10000, &st), 0);
    hw_auditor_destroy(a);
    for (size_t i = 0; i < n; i++) {
        hw_db *db = hw_pg_acquire(g_check, 5000, &st);
        assert_non_null(db);
        const char *p[] = {ids[i]};
        hw_res *r = hw_db_exec(db,
                               "SELECT purpose, request_id, subject, roles, org, action, record_type,"
                               " at > now() - interval '1 minute' AND at <= now()"
                               " FROM audit WHERE record_id = $1",
                               1, p, &st);
        assert_non_null(r);
        assert_int_equal(hw_res_rows(r), 1);
        assert_string_equal(hw_res_get(r, 0, 0), purposes[i]);
        if (i % 2)
            assert_string_equal(hw_res_get(r, 0, 1), "req-\"1\"");
        else
            assert_true(hw_res_isnull(r, 0, 1));
        assert_string_equal(hw_res_get(r, 0, 2), "escape-test");
        assert_string_equal(hw_res_get(r, 0, 3), "spoc");
        assert_string_equal(hw_res_get(r, 0, 4), "force-staffs");
        assert_string_equal(hw_res_get(r, 0, 5), "/t.v1.T/Get");
        assert_string_equal(hw_res_get(r, 0, 6), "child");
        assert_true(hw_res_bool(r, 0, 7));
        hw_res_free(r);
        hw_pg_release(db);
    }
}

/* ---- failures ---- */

static void test_unwritable_log_fails_the_read_then_recovers(void **state)
{
    (void)state;
    hw_auditor *a = hw_auditor_create(g_pool);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(g_check, 5000, &st);
    assert_non_null(db);
    must_run(db, "ALTER TABLE audit RENAME TO audit_away", 0, NULL);
    hw_audit_entry e = entry("unwritable", "u-1", "p");
    assert_int_equal(hw_audit_write(a, &e, 1, 10000, &st), -1);
    assert_int_equal(st.code, HW_UNAVAILABLE);
    assert_non_null(strstr(st.message, "audit log could not be written"));
    must_run(db, "ALTER TABLE audit_away RENAME TO audit", 0, NULL);
    hw_pg_release(db);
    assert_int_equal(scalar("SELECT count(*) FROM audit WHERE subject = 'unwritable'", NULL), 0);
    hw_status ok = HW_STATUS_INIT;
    e.record_id = "u-2";
    assert_int_equal(hw_audit_write(a, &e, 1, 10000, &ok), 0);
    hw_auditor_destroy(a);
    assert_int_equal(scalar("SELECT count(*) FROM audit WHERE subject = 'unwritable'", NULL), 1);
}

static void test_gave_up_waiting_rows_still_written(void **state)
{
    (void)state;
    hw_auditor *a = hw_auditor_create(g_pool);
    one_write lead;
    pthread_t tl;
    hw_db *lock = blocked_leader(a, "late-lead", &lead, &tl);
    /* Behind a blocked write, with a 100 ms deadline: it gives up. */
    one_write late = {a, entry("late-follower", "l", "p"), 100, -1, HW_STATUS_INIT};
    write_one(&late);
    assert_int_equal(late.rc, -1);
    assert_int_equal(late.st.code, HW_DEADLINE_EXCEEDED);
    unlock_audit(lock);
    pthread_join(tl, NULL);
    assert_int_equal(lead.rc, 0);
    /* Its row waits in the open group, written at the latest on destroy. */
    hw_auditor_destroy(a);
    assert_int_equal(scalar("SELECT count(*) FROM audit WHERE subject = 'late-follower'", NULL), 1);
}

static void test_nothing_to_write(void **state)
{
    (void)state;
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(hw_audit_write(NULL, NULL, 0, 10, &st), 0);
    hw_audit_entry e = entry("x", "y", "z");
    assert_int_equal(hw_audit_write(NULL, &e, 1, 10, &st), -1);
    assert_int_equal(st.code, HW_INTERNAL);
    hw_auditor_destroy(NULL);
}

int main(void)
{
    if (!getenv("HW_TEST_PG_URL")) {
        fprintf(stderr, "HW_TEST_PG_URL is not set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_reads_every_row_written_once),
        cmocka_unit_test(test_reads_waiting_behind_a_write_share_one_commit),
        cmocka_unit_test(test_values_with_quotes_backslashes_braces_and_null),
        cmocka_unit_test(test_unwritable_log_fails_the_read_then_recovers),
        cmocka_unit_test(test_gave_up_waiting_rows_still_written),
        cmocka_unit_test(test_nothing_to_write),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
