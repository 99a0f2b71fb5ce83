/* hw_audit.h -- the append-only audit log (DPA 2018 s.62, PROTOCOL R-SEC-2).
 *
 * One row per read or change of a child's record: who (sub), role(s),
 * organisation, action (the method), record type and id, the stated reason
 * (x-purpose metadata), time. The service's database user may INSERT and
 * SELECT <schema>.audit only; UPDATE, DELETE and TRUNCATE are not granted
 * and a trigger refuses them for anyone else. */
#ifndef HW_AUDIT_H
#define HW_AUDIT_H

#include "hw_pg.h"
#include "hw_server.h"

/* Fails with INVALID_ARGUMENT (field "x-purpose") if the call has no stated
 * reason; otherwise inserts the row (in db's current transaction, if any). */
int hw_audit(hw_db *db, hw_call *call, const char *action, const char *record_type,
             const char *record_id, hw_status *st);

/* Check only: INVALID_ARGUMENT if the call has no x-purpose. Use before
 * doing work so a refused call changes nothing. */
int hw_audit_require_purpose(hw_call *call, hw_status *st);

/* ---- Reads: audit rows written in groups ----
 *
 * A change audits inside its own transaction (hw_audit above). A read has
 * nothing else to commit, so a durable row per read would cost a commit per
 * read. The auditor instead writes every read row waiting at that moment
 * with one INSERT, in one commit (group commit), on the thread of one of the
 * reads: whoever hands rows over while nobody is writing writes groups until
 * none is left. A read answers only once its rows are committed: no record
 * leaves the service before its audit row is durable (R-SEC-2), and a read
 * whose rows could not be written fails (UNAVAILABLE) and shows nothing.
 * Each row's time is the moment the read handed it over. */
typedef struct hw_auditor hw_auditor;

/* pool: where each group's connection comes from. NULL on out of memory. */
hw_auditor *hw_auditor_create(hw_pg_pool *pool);
/* Writes rows still waiting, then frees. Call once no read is handing rows
 * over or waiting. NULL ok. */
void hw_auditor_destroy(hw_auditor *a);

/* One row, as hw_audit() would write it; request_id may be NULL. */
typedef struct hw_audit_entry {
    const char *subject, *roles, *org, *action, *record_type, *record_id, *purpose,
        *request_id;
} hw_audit_entry;

/* Told once a group's commit is over: st OK (committed) or UNAVAILABLE. */
typedef void (*hw_audit_done_fn)(void *arg, const hw_status *st);

/* Hand n rows (copied) to the group commit and return; done(arg, st) runs
 * exactly once, on whichever thread wrote the group: possibly this one,
 * before this returns (it then may also write other reads' groups first).
 * n == 0 calls done at once with OK. */
void hw_audit_write_async(hw_auditor *a, const hw_audit_entry *entries, size_t n,
                          hw_audit_done_fn done, void *arg);

/* The same, waiting up to wait_ms (at most 60 s): 0 once committed; -1 with
 * DEADLINE_EXCEEDED (the rows are still written) or UNAVAILABLE. */
int hw_audit_write(hw_auditor *a, const hw_audit_entry *entries, size_t n, int64_t wait_ms,
                   hw_status *st);

/* Audit n records a read consulted (record_types[i] / record_ids[i]) as
 * the call's principal, method, x-purpose and x-request-id, without waiting,
 * for a call answered later (hw_call_defer): -1 (st set, done never called)
 * when the call has no x-purpose; otherwise 0, and done(arg, st) runs as for
 * hw_audit_write_async. */
int hw_audit_reads_async(hw_auditor *a, hw_call *call, size_t n, const char *const *record_types,
                         const char *const *record_ids, hw_audit_done_fn done, void *arg,
                         hw_status *st);

#endif
