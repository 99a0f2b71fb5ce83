/* test_pg.c -- the Postgres pool against a real server: leases, parameters, errors, transactions, prepared statements, reconnect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_pg.h"

#define TEST_DB_PREFIX "hwt_pg"

#include "pgtest.h"

/* ---- pool ---- */

typedef struct delayed_release {
    hw_db *db;
    int delay_ms;
} delayed_release;

static void *release_later(void *arg)
{
    delayed_release *d = arg;
    usleep((useconds_t)d->delay_ms * 1000);
    hw_pg_release(d->db);
    return NULL;
}

static void test_pool_acquire_release_timeout(void **state)
{
    hw_pg_pool *p = schema_pool("pool", 2);
    hw_status st = HW_STATUS_INIT;
    hw_db *a = hw_pg_acquire(p, 1000, &st);
    hw_db *b = hw_pg_acquire(p, 1000, &st);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);

    /* Both leased: a third waits its timeout, then UNAVAILABLE. */
    int64_t t0 = now_ms();
    hw_status st2 = HW_STATUS_INIT;
    hw_db *c = hw_pg_acquire(p, 250, &st2);
    int64_t waited = now_ms() - t0;
    assert_null(c);
    assert_int_equal(st2.code, HW_UNAVAILABLE);
    assert_true(waited >= 240);
    assert_true(waited < 2000);

    /* A release from another thread wakes a waiter well before its timeout. */
    delayed_release d = {a, 150};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, release_later, &d), 0);
    t0 = now_ms();
    hw_status st3 = HW_STATUS_INIT;
    c = hw_pg_acquire(p, 5000, &st3);
    waited = now_ms() - t0;
    pthread_join(th, NULL);
    assert_non_null(c);
    assert_ptr_equal(c, a);
    assert_true(waited >= 100);
    assert_true(waited < 4000);

    /* Each leased connection is a separate session. */
    hw_res *r1 = hw_db_exec(b, "SELECT pg_backend_pid()", 0, NULL, &st);
    hw_res *r2 = hw_db_exec(c, "SELECT pg_backend_pid()", 0, NULL, &st);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_int_not_equal(hw_res_int(r1, 0, 0), hw_res_int(r2, 0, 0));
    hw_res_free(r1);
    hw_res_free(r2);
    hw_pg_release(b);
    hw_pg_release(c);
    assert_true(hw_pg_ping(p));
    hw_pg_pool_destroy(p);
}

static void test_pool_create_refuses_bad_url(void **state)
{
    char err[256] = "";
    char *bad = conninfo_with(g_admin_url, "hwt_no_such_database_here", NULL, NULL);
    hw_pg_pool *p = hw_pg_pool_create(bad, "x", 2, err, sizeof err);
    assert_null(p);
    assert_true(strlen(err) > 0);
    free(bad);
    err[0] = '\0';
    assert_null(hw_pg_pool_create("host=127.0.0.1 port='unterminated", "x", 2, err, sizeof err));
    assert_true(strlen(err) > 0);
}

/* ---- statements ---- */

static void test_params_and_nulls(void **state)
{
    hw_pg_pool *p = schema_pool("params", 1);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);

    /* search_path: unqualified names land in the pool's schema. */
    hw_res *r = hw_db_exec(db, "SELECT current_schema()", 0, NULL, &st);
    assert_non_null(r);
    assert_string_equal(hw_res_get(r, 0, 0), "params");
    hw_res_free(r);

    must_run(db, "CREATE TABLE note (id int PRIMARY KEY, body text, n bigint, flag boolean)", 0,
             NULL);
    const char *hostile = "x'); DROP TABLE note; --";
    const char *row1[] = {"1", hostile, "9000000000", "true"};
    const char *row2[] = {"2", NULL, NULL, NULL};
    must_run(db, "INSERT INTO note VALUES ($1, $2, $3, $4)", 4, row1);
    must_run(db, "INSERT INTO note VALUES ($1, $2, $3, $4)", 4, row2);

    r = hw_db_exec(db, "SELECT id, body, n, flag FROM note ORDER BY id", 0, NULL, &st);
    assert_non_null(r);
    assert_int_equal(hw_res_rows(r), 2);
    assert_int_equal(hw_res_cols(r), 4);
    assert_string_equal(hw_res_get(r, 0, 1), hostile);
    assert_int_equal(hw_res_int(r, 0, 2), 9000000000LL);
    assert_true(hw_res_bool(r, 0, 3));
    assert_false(hw_res_isnull(r, 0, 1));
    for (int col = 1; col <= 3; col++)
        assert_true(hw_res_isnull(r, 1, col));
    assert_string_equal(hw_res_get(r, 1, 1), "");
    assert_int_equal(hw_res_int(r, 1, 2), 0);
    assert_false(hw_res_bool(r, 1, 3));
    hw_res_free(r);

    /* NULL parameter compared with IS NOT DISTINCT FROM finds the NULL row. */
    const char *q[] = {NULL};
    r = hw_db_exec(db, "SELECT id FROM note WHERE body IS NOT DISTINCT FROM $1", 1, q, &st);
    assert_non_null(r);
    assert_int_equal(hw_res_rows(r), 1);
    assert_int_equal(hw_res_int(r, 0, 0), 2);
    hw_res_free(r);

    r = hw_db_exec(db, "UPDATE note SET n = 5", 0, NULL, &st);
    assert_non_null(r);
    assert_int_equal(hw_res_affected(r), 2);
    hw_res_free(r);
    hw_res_free(NULL);
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
}

static void test_error_mapping(void **state)
{
    hw_pg_pool *p = schema_pool("errors", 2);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    must_run(db, "CREATE TABLE home (id text PRIMARY KEY)", 0, NULL);
    must_run(db, "CREATE TABLE child (id text PRIMARY KEY, home text REFERENCES home (id),"
                 " age int CHECK (age >= 0))", 0, NULL);
    const char *home[] = {"Jane Doe House"};
    must_run(db, "INSERT INTO home VALUES ($1)", 1, home);

    hw_status e = HW_STATUS_INIT;
    assert_null(hw_db_exec(db, "INSERT INTO home VALUES ($1)", 1, home, &e));
    assert_int_equal(e.code, HW_ALREADY_EXISTS);
    assert_null(strstr(e.message, "Jane"));   /* values never reach the message */

    hw_status e2 = HW_STATUS_INIT;
    const char *bad_fk[] = {"c1", "nowhere", "3"};
    assert_int_equal(hw_db_run(db, "INSERT INTO child VALUES ($1, $2, $3)", 3, bad_fk, &e2), -1);
    assert_int_equal(e2.code, HW_FAILED_PRECONDITION);

    hw_status e3 = HW_STATUS_INIT;
    const char *bad_check[] = {"c1", "Jane Doe House", "-1"};
    assert_int_equal(hw_db_run(db, "INSERT INTO child VALUES ($1, $2, $3)", 3, bad_check, &e3),
                     -1);
    assert_int_equal(e3.code, HW_FAILED_PRECONDITION);

    hw_status e4 = HW_STATUS_INIT;
    const char *not_uuid[] = {"Jane Doe"};
    assert_int_equal(hw_db_run(db, "SELECT $1::uuid", 1, not_uuid, &e4), -1);
    assert_int_equal(e4.code, HW_INTERNAL);
    assert_null(strstr(e4.message, "Jane"));
    assert_non_null(strstr(e4.message, "22P02"));

    hw_status e5 = HW_STATUS_INIT;
    assert_int_equal(hw_db_run(db, "SELEC nonsense", 0, NULL, &e5), -1);
    assert_int_equal(e5.code, HW_INTERNAL);

    /* A real serialization conflict: two repeatable-read transactions
     * update one row; the second to write must retry -> ABORTED. */
    hw_db *other = hw_pg_acquire(p, 1000, &st);
    assert_non_null(other);
    must_run(db, "CREATE TABLE counter (id int PRIMARY KEY, n int)", 0, NULL);
    must_run(db, "INSERT INTO counter VALUES (1, 0)", 0, NULL);
    must_run(db, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL);
    must_run(other, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL);
    must_run(db, "SELECT n FROM counter", 0, NULL);
    must_run(other, "SELECT n FROM counter", 0, NULL);
    must_run(db, "UPDATE counter SET n = n + 1 WHERE id = 1", 0, NULL);
    must_run(db, "COMMIT", 0, NULL);
    hw_status e6 = HW_STATUS_INIT;
    assert_int_equal(hw_db_run(other, "UPDATE counter SET n = n + 1 WHERE id = 1", 0, NULL, &e6),
                     -1);
    assert_int_equal(e6.code, HW_ABORTED);
    must_run(other, "ROLLBACK", 0, NULL);
    hw_pg_release(other);
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
}

/* ---- transactions ---- */

typedef struct hook_mark {
    char *log;   /* hooks append their tag here, showing which ran and in what order */
    char tag;
} hook_mark;

static void append_hook(void *arg)
{
    hook_mark *h = arg;
    size_t n = strlen(h->log);
    h->log[n] = h->tag;
    h->log[n + 1] = '\0';
}

static void *hook_arg(char *log, char tag)
{
    hook_mark *h = malloc(sizeof *h);
    h->log = log;
    h->tag = tag;
    return h;
}

static int64_t count_rows(hw_db *db, const char *sql)
{
    hw_status st = HW_STATUS_INIT;
    hw_res *r = hw_db_exec(db, sql, 0, NULL, &st);
    assert_non_null(r);
    int64_t n = hw_res_int(r, 0, 0);
    hw_res_free(r);
    return n;
}

static void test_transactions_and_hooks(void **state)
{
    hw_pg_pool *p = schema_pool("tx", 1);
    hw_status st = HW_STATUS_INIT;
    char log[32] = "";
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    must_run(db, "CREATE TABLE visit (id int PRIMARY KEY)", 0, NULL);

    /* Rolled back: no row, no hook (its arg is still freed: ASan checks). */
    assert_int_equal(hw_db_begin(db, &st), 0);
    must_run(db, "INSERT INTO visit VALUES (1)", 0, NULL);
    hw_db_after_commit(db, append_hook, hook_arg(log, 'r'), true);
    hw_db_rollback(db);
    assert_string_equal(log, "");
    assert_int_equal(count_rows(db, "SELECT count(*) FROM visit"), 0);

    /* Committed: row present, hooks run once, in order. */
    assert_int_equal(hw_db_begin(db, &st), 0);
    must_run(db, "INSERT INTO visit VALUES (2)", 0, NULL);
    hw_db_after_commit(db, append_hook, hook_arg(log, 'a'), true);
    hw_db_after_commit(db, append_hook, hook_arg(log, 'b'), true);
    assert_string_equal(log, "");   /* not before the commit */
    assert_int_equal(hw_db_commit(db, &st), 0);
    assert_string_equal(log, "ab");
    assert_int_equal(count_rows(db, "SELECT count(*) FROM visit"), 1);

    /* A failed statement dooms the transaction: commit reports it, no hook. */
    assert_int_equal(hw_db_begin(db, &st), 0);
    must_run(db, "INSERT INTO visit VALUES (3)", 0, NULL);
    hw_db_after_commit(db, append_hook, hook_arg(log, 'x'), true);
    hw_status dup = HW_STATUS_INIT;
    assert_int_equal(hw_db_run(db, "INSERT INTO visit VALUES (2)", 0, NULL, &dup), -1);
    assert_int_equal(dup.code, HW_ALREADY_EXISTS);
    hw_status cst = HW_STATUS_INIT;
    assert_int_equal(hw_db_commit(db, &cst), -1);
    assert_int_not_equal(cst.code, HW_OK);
    assert_string_equal(log, "ab");
    assert_int_equal(count_rows(db, "SELECT count(*) FROM visit"), 1);

    /* Outside a transaction a hook runs at once. */
    hw_db_after_commit(db, append_hook, hook_arg(log, 'n'), true);
    assert_string_equal(log, "abn");

    /* Released with a transaction open: rolled back, hook dropped. */
    assert_int_equal(hw_db_begin(db, &st), 0);
    must_run(db, "INSERT INTO visit VALUES (4)", 0, NULL);
    hw_db_after_commit(db, append_hook, hook_arg(log, 'z'), true);
    hw_pg_release(db);
    db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM visit"), 1);
    assert_string_equal(log, "abn");
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
}

/* ---- reconnect ---- */

static int64_t backend_pid(hw_db *db)
{
    return count_rows(db, "SELECT pg_backend_pid()");
}

/* Kill the sessions (pid list) from the admin pool and wait until gone. */
static void terminate_and_wait(const int64_t *pids, int n)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *adm = hw_pg_acquire(g_admin, 5000, &st);
    assert_non_null(adm);
    for (int i = 0; i < n; i++) {
        char pid[32];
        snprintf(pid, sizeof pid, "%lld", (long long)pids[i]);
        const char *p[] = {pid};
        hw_res *r = hw_db_exec(adm, "SELECT pg_terminate_backend($1::int)", 1, p, &st);
        assert_non_null(r);
        assert_true(hw_res_bool(r, 0, 0));
        hw_res_free(r);
    }
    for (int tries = 0; tries < 100; tries++) {
        int alive = 0;
        for (int i = 0; i < n; i++) {
            char pid[32];
            snprintf(pid, sizeof pid, "%lld", (long long)pids[i]);
            const char *p[] = {pid};
            hw_res *r = hw_db_exec(adm, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
                                   1, p, &st);
            assert_non_null(r);
            alive += (int)hw_res_int(r, 0, 0);
            hw_res_free(r);
        }
        if (!alive)
            break;
        usleep(50 * 1000);
    }
    hw_pg_release(adm);
}

/* The server goes away under the pool: with HW_TEST_PG_CTL (a command
 * restarting the test server) a real restart, otherwise every pooled
 * session is terminated by the server (pg_terminate_backend), which closes
 * their sockets just as a restart does. */
static void test_reconnect_after_server_drop(void **state)
{
    hw_pg_pool *p = schema_pool("reconnect", 2);
    hw_status st = HW_STATUS_INIT;
    hw_db *a = hw_pg_acquire(p, 1000, &st);
    hw_db *b = hw_pg_acquire(p, 1000, &st);
    assert_non_null(a);
    assert_non_null(b);
    must_run(a, "CREATE TABLE seen (id int)", 0, NULL);
    must_run(a, "INSERT INTO seen VALUES (1)", 0, NULL);
    int64_t pids[2] = {backend_pid(a), backend_pid(b)};
    hw_pg_release(a);
    hw_pg_release(b);

    const char *ctl = getenv("HW_TEST_PG_CTL");
    if (ctl && *ctl) {
        int rc = system(ctl);
        assert_int_equal(rc, 0);
    } else {
        terminate_and_wait(pids, 2);
    }

    /* Both connections come back, with search_path set again (the
     * unqualified table is found). After a real restart the server may
     * take a moment to accept connections. */
    hw_db *c = NULL, *d = NULL;
    for (int tries = 0; tries < 60 && !c; tries++) {
        hw_status s2 = HW_STATUS_INIT;
        c = hw_pg_acquire(p, 1000, &s2);
        if (!c) {
            assert_int_equal(s2.code, HW_UNAVAILABLE);
            sleep(1);
        }
    }
    assert_non_null(c);
    d = hw_pg_acquire(p, 1000, &st);
    assert_non_null(d);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM seen"), 1);
    assert_int_equal(count_rows(d, "SELECT count(*) FROM seen"), 1);
    int64_t now_pids[2] = {backend_pid(c), backend_pid(d)};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            assert_int_not_equal(now_pids[i], pids[j]);

    /* Dropped mid-lease: the statement fails UNAVAILABLE, and the
     * connection is reset on its next use. */
    int64_t victim = backend_pid(c);
    terminate_and_wait(&victim, 1);
    hw_status lost = HW_STATUS_INIT;
    assert_null(hw_db_exec(c, "SELECT count(*) FROM seen", 0, NULL, &lost));
    assert_int_equal(lost.code, HW_UNAVAILABLE);
    hw_pg_release(c);
    hw_pg_release(d);
    c = hw_pg_acquire(p, 1000, &st);
    d = hw_pg_acquire(p, 1000, &st);
    assert_non_null(c);
    assert_non_null(d);
    assert_int_equal(count_rows(c, "SELECT count(*) FROM seen"), 1);
    assert_int_equal(count_rows(d, "SELECT count(*) FROM seen"), 1);
    hw_pg_release(c);
    hw_pg_release(d);
    assert_true(hw_pg_ping(p));
    hw_pg_pool_destroy(p);
}

/* ---- prepared statements ---- */

/* How many statements this session holds prepared with exactly this text,
 * and how many times they were executed (custom + generic plans). */
static int64_t prepared_count(hw_db *db, const char *sql, int64_t *executions)
{
    hw_status st = HW_STATUS_INIT;
    const char *p[] = {sql};
    hw_res *r = hw_db_exec(db,
                           "SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0)"
                           " FROM pg_prepared_statements WHERE statement = $1",
                           1, p, &st);
    if (!r)
        fail_msg("pg_prepared_statements: %s", st.message);
    int64_t n = hw_res_int(r, 0, 0);
    if (executions)
        *executions = hw_res_int(r, 0, 1);
    hw_res_free(r);
    return n;
}

static void test_prepared_once_per_connection(void **state)
{
    hw_pg_pool *p = schema_pool("prepared", 1);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    must_run(db, "CREATE TABLE child (id int PRIMARY KEY, home text, age int)", 0, NULL);
    const char *rows[][3] = {{"1", "Oak House", "14"}, {"2", NULL, "15"}, {"3", "Oak House", NULL}};
    for (int i = 0; i < 3; i++)
        must_run(db, "INSERT INTO child VALUES ($1, $2, $3)", 3, rows[i]);

    /* The same text, many times, with values and NULLs in turn: each
     * answer is right, and the session prepared it once. */
    const char *by_home = "SELECT id, age FROM child WHERE home IS NOT DISTINCT FROM $1 ORDER BY id";
    for (int i = 0; i < 30; i++) {
        const char *q[] = {i % 2 ? NULL : "Oak House"};
        hw_res *r = hw_db_exec(db, by_home, 1, q, &st);
        assert_non_null(r);
        if (i % 2) {
            assert_int_equal(hw_res_rows(r), 1);
            assert_int_equal(hw_res_int(r, 0, 0), 2);
            assert_int_equal(hw_res_int(r, 0, 1), 15);
        } else {
            assert_int_equal(hw_res_rows(r), 2);
            assert_int_equal(hw_res_int(r, 0, 0), 1);
            assert_int_equal(hw_res_int(r, 1, 0), 3);
            assert_true(hw_res_isnull(r, 1, 1));
        }
        hw_res_free(r);
    }
    int64_t runs = 0;
    assert_int_equal(prepared_count(db, by_home, &runs), 1);
    assert_int_equal(runs, 30);
    assert_int_equal(prepared_count(db, "INSERT INTO child VALUES ($1, $2, $3)", &runs), 1);
    assert_int_equal(runs, 3);

    /* Writes through a prepared statement count their rows; a NULL
     * parameter sets a NULL. */
    const char *upd[] = {NULL, "1"};
    for (int i = 0; i < 3; i++) {
        hw_res *r = hw_db_exec(db, "UPDATE child SET age = $1 WHERE id >= $2::int", 2, upd, &st);
        assert_non_null(r);
        assert_int_equal(hw_res_affected(r), 3);
        hw_res_free(r);
    }
    assert_int_equal(count_rows(db, "SELECT count(*) FROM child WHERE age IS NULL"), 3);

    /* Errors from a prepared statement map as before, and a text that
     * fails to prepare is not kept. */
    hw_status dup = HW_STATUS_INIT;
    assert_null(hw_db_exec(db, "INSERT INTO child VALUES ($1, $2, $3)", 3, rows[0], &dup));
    assert_int_equal(dup.code, HW_ALREADY_EXISTS);
    hw_status bad = HW_STATUS_INIT;
    const char *none[] = {"1"};
    assert_null(hw_db_exec(db, "SELECT * FROM placement WHERE id = $1", 1, none, &bad));
    assert_int_equal(bad.code, HW_INTERNAL);
    assert_non_null(strstr(bad.message, "42P01"));
    assert_int_equal(prepared_count(db, "SELECT * FROM placement WHERE id = $1", NULL), 0);
    must_run(db, "CREATE TABLE placement (id int)", 0, NULL);
    must_run(db, "INSERT INTO placement VALUES (1)", 0, NULL);
    hw_res *r = hw_db_exec(db, "SELECT * FROM placement WHERE id = $1", 1, none, &st);
    assert_non_null(r);
    assert_int_equal(hw_res_rows(r), 1);
    hw_res_free(r);
    assert_int_equal(prepared_count(db, "SELECT * FROM placement WHERE id = $1", NULL), 1);

    /* Utility statements are not planned and are not prepared. */
    assert_int_equal(hw_db_begin(db, &st), 0);
    hw_db_rollback(db);
    assert_int_equal(prepared_count(db, "BEGIN", NULL), 0);
    assert_int_equal(prepared_count(db, "CREATE TABLE placement (id int)", NULL), 0);

    /* Another connection of the pool prepares its own. */
    hw_pg_release(db);
    hw_pg_pool *p2 = schema_pool("prepared", 1);
    hw_db *other = hw_pg_acquire(p2, 1000, &st);
    assert_non_null(other);
    assert_int_equal(prepared_count(other, by_home, NULL), 0);
    hw_pg_release(other);
    hw_pg_pool_destroy(p2);
    hw_pg_pool_destroy(p);
}

/* A migration alters a table that cached statements read ("SELECT *"
 * changes its columns), or the session's statements are deallocated
 * behind the pool's back: the next run re-prepares and answers right. */
static void test_prepared_after_table_change(void **state)
{
    hw_pg_pool *p = schema_pool("altered", 1);
    hw_pg_pool *migrator = schema_pool("altered", 1);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    must_run(db, "CREATE TABLE home (id int PRIMARY KEY)", 0, NULL);
    must_run(db, "INSERT INTO home VALUES (1), (2)", 0, NULL);
    const char *all = "SELECT * FROM home WHERE id = $1";
    const char *one[] = {"2"};
    for (int i = 0; i < 3; i++) {
        hw_res *r = hw_db_exec(db, all, 1, one, &st);
        assert_non_null(r);
        assert_int_equal(hw_res_cols(r), 1);
        hw_res_free(r);
    }

    /* Altered from another session, as a replica's migration would. */
    hw_db *m = hw_pg_acquire(migrator, 1000, &st);
    assert_non_null(m);
    must_run(m, "ALTER TABLE home ADD COLUMN region text DEFAULT 'Staffordshire'", 0, NULL);
    hw_res *r = hw_db_exec(db, all, 1, one, &st);
    if (!r)
        fail_msg("after ALTER TABLE: %s", st.message);
    assert_int_equal(hw_res_cols(r), 2);
    assert_int_equal(hw_res_rows(r), 1);
    assert_int_equal(hw_res_int(r, 0, 0), 2);
    assert_string_equal(hw_res_get(r, 0, 1), "Staffordshire");
    hw_res_free(r);
    assert_int_equal(prepared_count(db, all, NULL), 1);

    /* Inside a transaction the changed statement aborts it (it cannot be
     * retried there); the next transaction works. */
    must_run(m, "ALTER TABLE home ADD COLUMN places int DEFAULT 4", 0, NULL);
    assert_int_equal(hw_db_begin(db, &st), 0);
    hw_status in_tx = HW_STATUS_INIT;
    assert_null(hw_db_exec(db, all, 1, one, &in_tx));
    assert_int_not_equal(in_tx.code, HW_OK);
    hw_db_rollback(db);
    assert_int_equal(hw_db_begin(db, &st), 0);
    r = hw_db_exec(db, all, 1, one, &st);
    if (!r)
        fail_msg("in the next transaction: %s", st.message);
    assert_int_equal(hw_res_cols(r), 3);
    assert_int_equal(hw_res_int(r, 0, 2), 4);
    hw_res_free(r);
    assert_int_equal(hw_db_commit(db, &st), 0);
    /* The outdated statements were dropped from the session too. */
    assert_int_equal(prepared_count(db, all, NULL), 1);

    /* Statements deallocated behind the pool's back (26000). */
    must_run(db, "DEALLOCATE ALL", 0, NULL);
    r = hw_db_exec(db, all, 1, one, &st);
    if (!r)
        fail_msg("after DEALLOCATE ALL: %s", st.message);
    assert_int_equal(hw_res_cols(r), 3);
    assert_int_equal(hw_res_int(r, 0, 0), 2);
    hw_res_free(r);
    assert_int_equal(prepared_count(db, all, NULL), 1);

    hw_pg_release(m);
    hw_pg_release(db);
    hw_pg_pool_destroy(migrator);
    hw_pg_pool_destroy(p);
}

/* The server forgets a session's statements when the session ends: after
 * pg_terminate_backend the pool reconnects and prepares them again. */
static void test_prepared_after_reconnect(void **state)
{
    hw_pg_pool *p = schema_pool("prepared_reconnect", 1);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    must_run(db, "CREATE TABLE visit (id int, note text)", 0, NULL);
    must_run(db, "INSERT INTO visit VALUES (1, 'first'), (2, NULL)", 0, NULL);
    const char *q = "SELECT note FROM visit WHERE id = $1::int";
    const char *id1[] = {"1"}, *id2[] = {"2"};
    hw_res *r = hw_db_exec(db, q, 1, id1, &st);
    assert_non_null(r);
    assert_string_equal(hw_res_get(r, 0, 0), "first");
    hw_res_free(r);
    assert_int_equal(prepared_count(db, q, NULL), 1);
    int64_t pid = backend_pid(db);
    hw_pg_release(db);

    /* Terminated while idle in the pool. The first use comes inside a
     * transaction, where a statement the new session lacks could not be
     * retried: the pool must know it has to prepare it afresh. */
    terminate_and_wait(&pid, 1);
    db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    assert_int_equal(hw_db_begin(db, &st), 0);
    r = hw_db_exec(db, q, 1, id2, &st);
    if (!r)
        fail_msg("after reconnect: %s", st.message);
    assert_true(hw_res_isnull(r, 0, 0));
    hw_res_free(r);
    assert_int_equal(hw_db_commit(db, &st), 0);
    assert_int_not_equal(backend_pid(db), pid);
    assert_int_equal(prepared_count(db, q, NULL), 1);

    /* Terminated mid-lease: the statement fails UNAVAILABLE, and after the
     * reset the same text runs prepared again. */
    pid = backend_pid(db);
    terminate_and_wait(&pid, 1);
    hw_status lost = HW_STATUS_INIT;
    assert_null(hw_db_exec(db, q, 1, id1, &lost));
    assert_int_equal(lost.code, HW_UNAVAILABLE);
    hw_pg_release(db);
    db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    assert_int_equal(hw_db_begin(db, &st), 0);
    r = hw_db_exec(db, q, 1, id1, &st);
    if (!r)
        fail_msg("after reset: %s", st.message);
    assert_string_equal(hw_res_get(r, 0, 0), "first");
    hw_res_free(r);
    assert_int_equal(hw_db_commit(db, &st), 0);
    assert_int_equal(prepared_count(db, q, NULL), 1);
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
}

/* The number hw_pg.c keeps prepared per connection (STMT_CAP). */
#define PREPARED_CAP 512

/* More distinct texts than the cap: all answer right; the session holds
 * exactly the cap, and those past it run unprepared. */
static void test_prepared_past_the_cap(void **state)
{
    hw_pg_pool *p = schema_pool("prepared_cap", 1);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    assert_non_null(db);
    enum { N = PREPARED_CAP + 88 };
    char sql[96], val[16], want[24];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            /* Distinct texts: the number is in a column alias, not a value. */
            snprintf(sql, sizeof sql, "SELECT $1::int * 2 + 1 AS statement_%d", i);
            snprintf(val, sizeof val, "%d", i + round);
            const char *v[] = {val};
            hw_res *r = hw_db_exec(db, sql, 1, v, &st);
            if (!r)
                fail_msg("statement %d: %s", i, st.message);
            snprintf(want, sizeof want, "%d", (i + round) * 2 + 1);
            assert_string_equal(hw_res_get(r, 0, 0), want);
            hw_res_free(r);
        }
    }
    hw_res *r = hw_db_exec(db,
                           "SELECT count(*), count(*) FILTER (WHERE statement LIKE"
                           " 'SELECT $1::int * 2 + 1 AS statement_%') FROM pg_prepared_statements",
                           0, NULL, &st);
    assert_non_null(r);
    assert_int_equal(hw_res_int(r, 0, 0), PREPARED_CAP);
    assert_int_equal(hw_res_int(r, 0, 1), PREPARED_CAP);
    hw_res_free(r);
    /* The first ones were prepared (and run twice), the last ones never. */
    int64_t runs = 0;
    assert_int_equal(prepared_count(db, "SELECT $1::int * 2 + 1 AS statement_0", &runs), 1);
    assert_int_equal(runs, 2);
    snprintf(sql, sizeof sql, "SELECT $1::int * 2 + 1 AS statement_%d", N - 1);
    assert_int_equal(prepared_count(db, sql, NULL), 0);
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
}

int main(void)
{
    if (!getenv("HW_TEST_PG_URL") || !*getenv("HW_TEST_PG_URL")) {
        fprintf(stderr, "FAIL: HW_TEST_PG_URL is not set. These tests need a real Postgres: "
                        "set it to a libpq URL for a superuser, e.g. "
                        "postgresql://user@127.0.0.1:5432/postgres\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_acquire_release_timeout),
        cmocka_unit_test(test_pool_create_refuses_bad_url),
        cmocka_unit_test(test_params_and_nulls),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_transactions_and_hooks),
        cmocka_unit_test(test_reconnect_after_server_drop),
        cmocka_unit_test(test_prepared_once_per_connection),
        cmocka_unit_test(test_prepared_after_table_change),
        cmocka_unit_test(test_prepared_after_reconnect),
        cmocka_unit_test(test_prepared_past_the_cap),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
