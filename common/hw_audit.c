/* hw_audit.c -- append a row to the audit log for each read or change of a child's record. */
#include "hw_audit.h"

#include <stdio.h>
#include <string.h>

int hw_audit_require_purpose(hw_call *call, hw_status *st)
{
    const char *purpose = hw_call_purpose(call);
    if (!purpose || !*purpose) {
        hw_status_violation(st, "x-purpose",
                            "required: state the reason for accessing this record");
        return -1;
    }
    return 0;
}

int hw_audit(hw_db *db, hw_call *call, const char *action, const char *record_type,
             const char *record_id, hw_status *st)
{
    if (hw_audit_require_purpose(call, st) != 0)
        return -1;
    const hw_principal *who = hw_call_principal(call);
    char roles[HW_MAX_ROLES * 33 + 1] = "";
    size_t used = 0;
    for (int i = 0; i < who->n_roles && i < HW_MAX_ROLES; i++) {
        int n = snprintf(roles + used, sizeof roles - used, "%s%s", i ? "," : "",
                         who->roles[i]);
        if (n < 0 || (size_t)n >= sizeof roles - used)
            break;
        used += (size_t)n;
    }
    /* The client's request id, when it sent one as metadata, ties the row
     * to the call's log line. */
    const char *request_id = hw_call_metadata(call, "x-request-id");
    const char *p[] = {
        who->sub, roles, who->org,
        action && *action ? action : hw_call_method(call),
        record_type ? record_type : "", record_id ? record_id : "",
        hw_call_purpose(call), request_id,
    };
    return hw_db_run(db,
                     "INSERT INTO audit (subject, roles, org, action, record_type, record_id,"
                     " purpose, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                     8, p, st);
}
