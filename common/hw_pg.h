/* hw_pg.h -- Postgres: a pool of connections, parameterised statements,
 * transactions, reconnect after a database restart, and the migration
 * runner.
 *
 * Every statement goes through hw_db_exec with $1..$n parameters (text
 * format); SQL is never built by concatenating values. A connection found
 * broken is reset on its next use, so calls succeed again once Postgres is
 * back. Each connection's search_path is set to the service's schema. */
#ifndef HW_PG_H
#define HW_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_status.h"

typedef struct hw_pg_pool hw_pg_pool;
typedef struct hw_db hw_db;     /* a leased connection */
typedef struct hw_res hw_res;   /* a result */

/* conninfo: libpq URL/keywords; schema: search_path for every connection. */
hw_pg_pool *hw_pg_pool_create(const char *conninfo, const char *schema, int size,
                              char *err, size_t errlen);
void hw_pg_pool_destroy(hw_pg_pool *p);

/* Lease a connection, waiting up to timeout_ms. NULL (st = UNAVAILABLE)
 * if none can be had or Postgres cannot be reached. */
hw_db *hw_pg_acquire(hw_pg_pool *p, int64_t timeout_ms, hw_status *st);
/* Return it; an open transaction is rolled back first. */
void hw_pg_release(hw_db *db);
/* SELECT 1 on a pooled connection: true if Postgres answers. */
bool hw_pg_ping(hw_pg_pool *p);

/* Run a statement. params: n text values, NULL entries are SQL NULL.
 * Returns a result (free with hw_res_free) or NULL with st set:
 * unique violation -> ALREADY_EXISTS, serialization/deadlock -> ABORTED,
 * connection lost -> UNAVAILABLE, check/foreign-key violation ->
 * FAILED_PRECONDITION, anything else -> INTERNAL (message without values). */
hw_res *hw_db_exec(hw_db *db, const char *sql, int n, const char *const *params,
                   hw_status *st);
/* Same, discarding the result: 0 or -1. */
int hw_db_run(hw_db *db, const char *sql, int n, const char *const *params,
              hw_status *st);

int hw_res_rows(const hw_res *r);
int hw_res_cols(const hw_res *r);
/* Text value, "" for NULL; valid until hw_res_free. */
const char *hw_res_get(const hw_res *r, int row, int col);
bool hw_res_isnull(const hw_res *r, int row, int col);
int64_t hw_res_int(const hw_res *r, int row, int col);   /* 0 for NULL */
bool hw_res_bool(const hw_res *r, int row, int col);     /* 't' */
int64_t hw_res_affected(const hw_res *r);                /* rows changed */
void hw_res_free(hw_res *r);                             /* NULL ok */

int hw_db_begin(hw_db *db, hw_status *st);
/* Commit, then run the after-commit hooks (in order) if it succeeded. */
int hw_db_commit(hw_db *db, hw_status *st);
void hw_db_rollback(hw_db *db);   /* drops after-commit hooks */
/* Run fn(arg) after the current transaction commits (e.g. arm Redis). arg
 * is freed with free() after the hook runs or the transaction rolls back,
 * if free_arg is true. */
void hw_db_after_commit(hw_db *db, void (*fn)(void *), void *arg, bool free_arg);

/* Migrations. Applies, in one transaction per file and under a
 * transaction-scoped advisory lock keyed by schema (so replicas may start
 * together):
 *   1. common/sql/NNNN_*.sql (audit, outbox, inbox, idempotency, deadlines),
 *      recorded as "common/NNNN_name.sql";
 *   2. the service's own dir/NNNN_*.sql, recorded as "NNNN_name.sql".
 * inside `schema` (created if missing), recording each in
 * <schema>.schema_migrations(version, checksum sha256 hex, applied_at).
 * Refuses (returns -1, err set, nothing applied) when an applied file's
 * checksum changed or an applied file is missing; a file that fails is
 * rolled back and reported, and later files are not run.
 * Then grants runtime_role (if not NULL) USAGE on the schema, DML on its
 * tables and sequences, and only INSERT+SELECT on <schema>.audit. */
int hw_migrate(const char *conninfo, const char *schema, const char *common_dir,
               const char *service_dir, const char *runtime_role,
               char *err, size_t errlen);

#endif
