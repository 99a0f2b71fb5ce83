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

#endif
