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

/* ---- a private database per run (tests may run in parallel) ---- */

static char g_dbname[64];
static char *g_admin_url;      /* HW_TEST_PG_URL as given */
static char *g_test_conninfo;  /* same server and user, our database */
static hw_pg_pool *g_admin;

/* conninfo from url with dbname (and optionally user/password) replaced. */
__attribute__((unused)) static char *conninfo_with(const char *url, const char *dbname, const char *user,
                           const char *password)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        fprintf(stderr, "HW_TEST_PG_URL does not parse: %s\n", perr ? perr : "?");
        PQfreemem(perr);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = o->val;
        if (strcmp(o->keyword, "dbname") == 0)
            v = dbname;
        else if (user && strcmp(o->keyword, "user") == 0)
            v = user;
        else if (password && strcmp(o->keyword, "password") == 0)
            v = password;
        if (!v)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s='", o->keyword);
        for (const char *c = v; *c && len + 4 < cap; c++) {
            if (*c == '\'' || *c == '\\')
                out[len++] = '\\';
            out[len++] = *c;
        }
        len += (size_t)snprintf(out + len, cap - len, "' ");
    }
    PQconninfoFree(opts);
    return out;
}

static void admin_run(const char *sql)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(g_admin, 5000, &st);
    assert_non_null(db);
    if (hw_db_run(db, sql, 0, NULL, &st) != 0)
        fail_msg("admin statement failed (%s): %s", st.message, sql);
    hw_pg_release(db);
}

static int group_setup(void **state)
{
    char err[256];
    g_admin_url = getenv("HW_TEST_PG_URL");
    g_admin = hw_pg_pool_create(g_admin_url, "public", 2, err, sizeof err);
    if (!g_admin) {
        fprintf(stderr, "cannot reach HW_TEST_PG_URL: %s\n", err);
        return -1;
    }
    snprintf(g_dbname, sizeof g_dbname, TEST_DB_PREFIX "_%d_%ld", (int)getpid(), (long)time(NULL));
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", g_dbname);
    admin_run(sql);
    g_test_conninfo = conninfo_with(g_admin_url, g_dbname, NULL, NULL);
    return g_test_conninfo ? 0 : -1;
}

static int group_teardown(void **state)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_dbname);
    admin_run(sql);
    hw_pg_pool_destroy(g_admin);
    free(g_test_conninfo);
    return 0;
}

__attribute__((unused)) static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pool on the test database with its own schema (created here). */
__attribute__((unused)) static hw_pg_pool *schema_pool(const char *schema, int size)
{
    char err[256], sql[200];
    hw_pg_pool *boot = hw_pg_pool_create(g_test_conninfo, "public", 1, err, sizeof err);
    assert_non_null(boot);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(boot, 5000, &st);
    assert_non_null(db);
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", schema);
    assert_int_equal(hw_db_run(db, sql, 0, NULL, &st), 0);
    hw_pg_release(db);
    hw_pg_pool_destroy(boot);
    hw_pg_pool *p = hw_pg_pool_create(g_test_conninfo, schema, size, err, sizeof err);
    if (!p)
        fail_msg("pool: %s", err);
    return p;
}

__attribute__((unused)) static void must_run(hw_db *db, const char *sql, int n, const char *const *params)
{
    hw_status st = HW_STATUS_INIT;
    if (hw_db_run(db, sql, n, params, &st) != 0)
        fail_msg("statement failed (%s): %s", st.message, sql);
}

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
