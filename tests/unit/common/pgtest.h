/* pgtest.h -- a private Postgres database for one unit-test program.
 *
 * Shared by the tests of common/ that need a real server (HW_TEST_PG_URL,
 * a superuser URL): group_setup creates a database named TEST_DB_PREFIX_<pid>_<time>
 * (so test programs can run in parallel), group_teardown drops it. Define
 * TEST_DB_PREFIX before including; include after <cmocka.h>. Every helper is
 * static: each test program uses the ones it needs. */
#ifndef HW_PGTEST_H
#define HW_PGTEST_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_pg.h"

#ifndef TEST_DB_PREFIX
#error "define TEST_DB_PREFIX before including pgtest.h"
#endif

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

__attribute__((unused)) static void admin_run(const char *sql)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(g_admin, 5000, &st);
    assert_non_null(db);
    if (hw_db_run(db, sql, 0, NULL, &st) != 0)
        fail_msg("admin statement failed (%s): %s", st.message, sql);
    hw_pg_release(db);
}

__attribute__((unused)) static int group_setup(void **state)
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

__attribute__((unused)) static int group_teardown(void **state)
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

#endif
