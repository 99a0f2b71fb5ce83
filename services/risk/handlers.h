/* handlers.h -- the Risk service's gRPC handlers, event and deadline
 * handlers. Each handler validates the whole request first (field
 * violations, nothing written), checks the stated reason, asks the episodes
 * service about the child or episode with the caller's identity (facts.h),
 * then does its work in one transaction with its audit row, its events and
 * its idempotency record. */
#ifndef RISK_HANDLERS_H
#define RISK_HANDLERS_H

#include "hw_app.h"
#include "hw_client.h"
#include "hw_server.h"

/* Service state, owned by main.c (hw_app_state). */
typedef struct risk_service {
    hw_app *app;
    hw_channel *episodes;    /* NULL if EPISODES_ADDR is unset: calls that need it are UNAVAILABLE */
} risk_service;

/* Method table for hw_service_def (ctx is the hw_app). */
extern const hw_method risk_methods[];
extern const size_t risk_n_methods;

/* Event sink: "interviews.cse_prompt" records a pending CSE matrix prompt. */
int risk_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                  const char *type, const char *subject, int64_t occurred_at_ms,
                  const char *payload_json, hw_status *st);

/* Deadline kinds and their handler (arg: the hw_app). */
#define RISK_DEADLINE_LAC_PLAN_DUE "lac_plan_due"       /* R-RISK-8 */
#define RISK_DEADLINE_LAC_PLAN_REVIEW "lac_plan_review" /* R-RISK-8 */
#define RISK_DEADLINE_CPS_FOLLOWUP "cps_followup"       /* R-CPS-1 */
int risk_on_deadline(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                     const char *payload_json, void *arg, hw_status *st);

#endif
