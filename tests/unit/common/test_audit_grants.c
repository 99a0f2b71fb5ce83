/* test_audit_grants.c -- the runtime role may add audit rows but never change or remove them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_pg.h"

#define TEST_DB_PREFIX "hwt_audit"
#define COMMON_SQL_DIR HW_SOURCE_DIR "/common/sql"
#define RUNTIME_PASSWORD "hwt-runtime-pw"

#include "pgtest.h"

static char g_role[64];

static int setup_all(void **state)
{
    if (group_setup(state) != 0)
        return -1;
    snprintf(g_role, sizeof g_role, "hwt_runtime_%d_%ld", (int)getpid(), (long)time(NULL));
    char sql[200];
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN PASSWORD '" RUNTIME_PASSWORD "'", g_role);
    admin_run(sql);
    return 0;
}

static int teardown_all(void **state)
{
    group_teardown(state);   /* the database and every grant in it */
    char err[256], sql[200];
    hw_pg_pool *adm = hw_pg_pool_create(g_admin_url, "public", 1, err, sizeof err);
    if (!adm)
        return -1;
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(adm, 5000, &st);
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s", g_role);
    int rc = db ? hw_db_run(db, sql, 0, NULL, &st) : -1;
    hw_pg_release(db);
    hw_pg_pool_destroy(adm);
    return rc;
}

/* Expect the statement refused with insufficient_privilege (42501). */
static void refused(hw_db *db, const char *sql)
{
    hw_status st = HW_STATUS_INIT;
    if (hw_db_run(db, sql, 0, NULL, &st) == 0)
        fail_msg("statement was allowed but must be refused: %s", sql);
    if (!strstr(st.message, "42501"))
        fail_msg("refused for the wrong reason (%s): %s", st.message, sql);
}

static int64_t count_audit(hw_db *db)
{
    hw_status st = HW_STATUS_INIT;
    hw_res *r = hw_db_exec(db, "SELECT count(*) FROM audit", 0, NULL, &st);
    assert_non_null(r);
    int64_t n = hw_res_int(r, 0, 0);
    hw_res_free(r);
    return n;
}

static void test_runtime_role_audit_append_only(void **state)
{
    char err[512];
    if (hw_migrate(g_test_conninfo, "svc_audit", COMMON_SQL_DIR, NULL, g_role, err, sizeof err))
        fail_msg("migrate with runtime role failed: %s", err);
    /* Grants are re-made on every start, harmlessly. */
    if (hw_migrate(g_test_conninfo, "svc_audit", COMMON_SQL_DIR, NULL, g_role, err, sizeof err))
        fail_msg("second migrate failed: %s", err);

    char *rt_url = conninfo_with(g_admin_url, g_dbname, g_role, RUNTIME_PASSWORD);
    hw_pg_pool *rt = hw_pg_pool_create(rt_url, "svc_audit", 1, err, sizeof err);
    if (!rt)
        fail_msg("cannot connect as the runtime role: %s", err);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(rt, 5000, &st);
    assert_non_null(db);

    hw_res *who = hw_db_exec(db, "SELECT current_user", 0, NULL, &st);
    assert_non_null(who);
    assert_string_equal(hw_res_get(who, 0, 0), g_role);
    hw_res_free(who);

    const char *row[] = {"sw-17", "social_worker", "LA-001",
                         "/homeward.episodes.v1.Episodes/GetEpisode", "episode", "ep-1",
                         "return interview follow-up"};
    must_run(db, "INSERT INTO audit (subject, roles, org, action, record_type, record_id, purpose)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, row);
    assert_int_equal(count_audit(db), 1);

    refused(db, "UPDATE audit SET purpose = 'rewritten'");
    refused(db, "DELETE FROM audit");
    refused(db, "TRUNCATE audit");
    assert_int_equal(count_audit(db), 1);

    /* Ordinary DML elsewhere works, sequences included. */
    must_run(db, "INSERT INTO outbox (type, subject, payload) VALUES ('t', 's', '{}')", 0, NULL);
    must_run(db, "INSERT INTO deadlines (kind, subject, due_at) VALUES ('k', 's', now())", 0, NULL);
    must_run(db, "UPDATE deadlines SET state = 'done', done_at = now()", 0, NULL);
    must_run(db, "DELETE FROM inbox", 0, NULL);
    /* No DDL, and the migration ledger is not the runtime's business. */
    refused(db, "CREATE TABLE sneaky (id int)");
    refused(db, "SELECT * FROM schema_migrations");
    refused(db, "DROP TABLE audit");
    hw_pg_release(db);
    hw_pg_pool_destroy(rt);
    free(rt_url);

    /* The owner (here a superuser, who bypasses grants) is stopped by the
     * triggers. */
    hw_pg_pool *own = hw_pg_pool_create(g_test_conninfo, "svc_audit", 1, err, sizeof err);
    assert_non_null(own);
    db = hw_pg_acquire(own, 5000, &st);
    assert_non_null(db);
    refused(db, "UPDATE audit SET purpose = 'rewritten'");
    refused(db, "DELETE FROM audit");
    refused(db, "TRUNCATE audit");

    /* The runtime role's refusal above is by grant, not only the trigger. */
    const char *rp[] = {g_role};
    hw_res *g = hw_db_exec(db,
                           "SELECT has_table_privilege($1, 'svc_audit.audit', 'INSERT'),"
                           " has_table_privilege($1, 'svc_audit.audit', 'SELECT'),"
                           " has_table_privilege($1, 'svc_audit.audit', 'UPDATE'),"
                           " has_table_privilege($1, 'svc_audit.audit', 'DELETE'),"
                           " has_table_privilege($1, 'svc_audit.audit', 'TRUNCATE'),"
                           " has_table_privilege($1, 'svc_audit.deadlines', 'UPDATE')",
                           1, rp, &st);
    assert_non_null(g);
    assert_true(hw_res_bool(g, 0, 0));
    assert_true(hw_res_bool(g, 0, 1));
    assert_false(hw_res_bool(g, 0, 2));
    assert_false(hw_res_bool(g, 0, 3));
    assert_false(hw_res_bool(g, 0, 4));
    assert_true(hw_res_bool(g, 0, 5));
    hw_res_free(g);

    hw_res *r = hw_db_exec(db, "SELECT purpose FROM audit", 0, NULL, &st);
    assert_non_null(r);
    assert_int_equal(hw_res_rows(r), 1);
    assert_string_equal(hw_res_get(r, 0, 0), "return interview follow-up");
    hw_res_free(r);
    hw_pg_release(db);
    hw_pg_pool_destroy(own);
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
        cmocka_unit_test(test_runtime_role_audit_append_only),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
