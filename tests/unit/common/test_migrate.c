/* test_migrate.c -- the migration runner against a real server: apply, re-run, refuse edits, roll back failures, race. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw_pg.h"

#define TEST_DB_PREFIX "hwt_migrate"
#define COMMON_SQL_DIR HW_SOURCE_DIR "/common/sql"

#include "pgtest.h"

/* ---- migration files in a scratch directory ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static char *scratch_dir(void)
{
    char *d = strdup("/tmp/hwt_migrations_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_dir(char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static const char THINGS_SQL[] = "CREATE TABLE things (id int PRIMARY KEY, label text);\n";
/* Records each time it is run, so "applied once" can be counted. */
static const char MORE_SQL[] =
    "CREATE TABLE applied_log (at timestamptz NOT NULL DEFAULT now());\n"
    "INSERT INTO applied_log DEFAULT VALUES;\n";

/* A query answered on the test database (public schema), one value. */
static char *query1(const char *sql, const char *param)
{
    char err[256];
    hw_pg_pool *p = hw_pg_pool_create(g_test_conninfo, "public", 1, err, sizeof err);
    assert_non_null(p);
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 5000, &st);
    assert_non_null(db);
    const char *params[] = {param};
    hw_res *r = hw_db_exec(db, sql, param ? 1 : 0, params, &st);
    if (!r)
        fail_msg("query failed (%s): %s", st.message, sql);
    char *v = strdup(hw_res_isnull(r, 0, 0) ? "<null>" : hw_res_get(r, 0, 0));
    hw_res_free(r);
    hw_pg_release(db);
    hw_pg_pool_destroy(p);
    return v;
}

static int64_t query_int(const char *sql, const char *param)
{
    char *v = query1(sql, param);
    int64_t n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

static bool table_exists(const char *qualified)
{
    char *v = query1("SELECT to_regclass($1) IS NOT NULL", qualified);
    bool yes = v[0] == 't';
    free(v);
    return yes;
}

static int64_t applied_count(const char *schema)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.schema_migrations", schema);
    return query_int(sql, NULL);
}

static bool is_applied(const char *schema, const char *version)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.schema_migrations WHERE version = $1",
             schema);
    return query_int(sql, version) == 1;
}

static void sha256_hex(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL), 1);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int migrate(const char *schema, const char *dir, char *err, size_t errlen)
{
    err[0] = '\0';
    return hw_migrate(g_test_conninfo, schema, COMMON_SQL_DIR, dir, NULL, err, errlen);
}

/* ---- tests ---- */

static void test_fresh_apply_and_rerun(void **state)
{
    char err[512];
    char *dir = scratch_dir();
    write_file(dir, "0001_things.sql", THINGS_SQL);
    write_file(dir, "0002_more.sql", MORE_SQL);
    write_file(dir, "README.txt", "not a migration");

    if (migrate("svc_fresh", dir, err, sizeof err) != 0)
        fail_msg("fresh migrate failed: %s", err);
    assert_int_equal(applied_count("svc_fresh"), 3);
    assert_true(is_applied("svc_fresh", "common/0001_common.sql"));
    assert_true(is_applied("svc_fresh", "0001_things.sql"));
    assert_true(is_applied("svc_fresh", "0002_more.sql"));
    const char *tables[] = {"svc_fresh.audit", "svc_fresh.outbox", "svc_fresh.outbox_delivery",
                            "svc_fresh.inbox", "svc_fresh.idempotency", "svc_fresh.deadlines",
                            "svc_fresh.things", "svc_fresh.applied_log"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        if (!table_exists(tables[i]))
            fail_msg("table %s missing after migrate", tables[i]);
    /* Files run inside the schema, not in public. */
    assert_false(table_exists("public.things"));

    char want[65];
    sha256_hex(THINGS_SQL, want);
    char *got = query1("SELECT checksum FROM svc_fresh.schema_migrations WHERE version = $1",
                       "0001_things.sql");
    assert_string_equal(got, want);
    free(got);

    /* Re-run: nothing applied again. */
    char *before = query1("SELECT max(applied_at)::text FROM svc_fresh.schema_migrations", NULL);
    if (migrate("svc_fresh", dir, err, sizeof err) != 0)
        fail_msg("re-run failed: %s", err);
    char *after = query1("SELECT max(applied_at)::text FROM svc_fresh.schema_migrations", NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(applied_count("svc_fresh"), 3);
    assert_int_equal(query_int("SELECT count(*) FROM svc_fresh.applied_log", NULL), 1);

    /* A new file is applied on its own. */
    write_file(dir, "0003_label_index.sql", "CREATE INDEX things_label ON things (label);\n");
    if (migrate("svc_fresh", dir, err, sizeof err) != 0)
        fail_msg("migrate with a new file failed: %s", err);
    assert_int_equal(applied_count("svc_fresh"), 4);
    assert_true(table_exists("svc_fresh.things_label"));
    assert_int_equal(query_int("SELECT count(*) FROM svc_fresh.applied_log", NULL), 1);
    remove_dir(dir);
}

static void test_changed_or_missing_file_refused(void **state)
{
    char err[512];
    char *dir = scratch_dir();
    write_file(dir, "0001_things.sql", THINGS_SQL);
    write_file(dir, "0002_more.sql", MORE_SQL);
    if (migrate("svc_edit", dir, err, sizeof err) != 0)
        fail_msg("migrate failed: %s", err);

    /* Edited after being applied, with a new file alongside: refused, and
     * the new file is not applied either. */
    write_file(dir, "0001_things.sql", "CREATE TABLE things (id bigint PRIMARY KEY);\n");
    write_file(dir, "0003_new.sql", "CREATE TABLE newer (id int);\n");
    assert_int_equal(migrate("svc_edit", dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "0001_things.sql"));
    assert_non_null(strstr(err, "changed"));
    assert_false(table_exists("svc_edit.newer"));
    assert_int_equal(applied_count("svc_edit"), 3);

    /* Put back: accepted again, and the new file goes in. */
    write_file(dir, "0001_things.sql", THINGS_SQL);
    if (migrate("svc_edit", dir, err, sizeof err) != 0)
        fail_msg("migrate after restoring failed: %s", err);
    assert_true(table_exists("svc_edit.newer"));

    /* An applied file removed: refused. */
    remove_file(dir, "0002_more.sql");
    assert_int_equal(migrate("svc_edit", dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "0002_more.sql"));
    assert_non_null(strstr(err, "missing"));
    write_file(dir, "0002_more.sql", MORE_SQL);
    if (migrate("svc_edit", dir, err, sizeof err) != 0)
        fail_msg("migrate after restoring the file failed: %s", err);
    assert_int_equal(query_int("SELECT count(*) FROM svc_edit.applied_log", NULL), 1);

    /* The common files are checked the same way: a service dir standing in
     * for the wrong common dir misses common/0001_common.sql. */
    assert_int_equal(hw_migrate(g_test_conninfo, "svc_edit", dir, dir, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "common/0001_common.sql"));
    remove_dir(dir);
}

static void test_failing_file_rolled_back(void **state)
{
    char err[512];
    char *dir = scratch_dir();
    write_file(dir, "0001_one.sql", "CREATE TABLE one (id int);\n");
    write_file(dir, "0002_two.sql",
               "CREATE TABLE two (id int);\nINSERT INTO two VALUES (1);\nSELECT 1 / 0;\n");
    write_file(dir, "0003_three.sql", "CREATE TABLE three (id int);\n");

    for (int run = 0; run < 2; run++) {   /* and refused again on the next start */
        assert_int_equal(migrate("svc_fail", dir, err, sizeof err), -1);
        assert_non_null(strstr(err, "0002_two.sql"));
        assert_non_null(strstr(err, "22012"));   /* division_by_zero */
        assert_true(table_exists("svc_fail.one"));
        assert_false(table_exists("svc_fail.two"));     /* rolled back whole */
        assert_false(table_exists("svc_fail.three"));   /* later files not run */
        assert_true(is_applied("svc_fail", "0001_one.sql"));
        assert_false(is_applied("svc_fail", "0002_two.sql"));
        assert_int_equal(applied_count("svc_fail"), 2);
    }

    write_file(dir, "0002_two.sql", "CREATE TABLE two (id int);\nINSERT INTO two VALUES (1);\n");
    if (migrate("svc_fail", dir, err, sizeof err) != 0)
        fail_msg("migrate after fixing failed: %s", err);
    assert_true(table_exists("svc_fail.three"));
    assert_int_equal(query_int("SELECT count(*) FROM svc_fail.two", NULL), 1);
    assert_int_equal(applied_count("svc_fail"), 4);
    remove_dir(dir);
}

typedef struct migrator {
    const char *dir;
    int rc;
    char err[512];
} migrator;

static void *run_migrator(void *arg)
{
    migrator *m = arg;
    m->rc = hw_migrate(g_test_conninfo, "svc_race", COMMON_SQL_DIR, m->dir, NULL, m->err,
                       sizeof m->err);
    return NULL;
}

/* Replicas starting together: all succeed, each file applied once. */
static void test_concurrent_migrators(void **state)
{
    char *dir = scratch_dir();
    write_file(dir, "0001_things.sql", THINGS_SQL);
    write_file(dir, "0002_more.sql", MORE_SQL);
    enum { N = 4 };
    migrator m[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        m[i] = (migrator){.dir = dir, .rc = -2};
        assert_int_equal(pthread_create(&th[i], NULL, run_migrator, &m[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++)
        if (m[i].rc != 0)
            fail_msg("migrator %d failed: %s", i, m[i].err);
    assert_int_equal(applied_count("svc_race"), 3);
    assert_int_equal(query_int("SELECT count(*) FROM svc_race.applied_log", NULL), 1);
    remove_dir(dir);
}

static void test_missing_common_dir_refused(void **state)
{
    char err[512] = "";
    assert_int_equal(hw_migrate(g_test_conninfo, "svc_nodir", "/nonexistent/common/sql", NULL,
                                NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/common/sql"));
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
        cmocka_unit_test(test_fresh_apply_and_rerun),
        cmocka_unit_test(test_changed_or_missing_file_refused),
        cmocka_unit_test(test_failing_file_rolled_back),
        cmocka_unit_test(test_concurrent_migrators),
        cmocka_unit_test(test_missing_common_dir_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
