/* handlers.h -- the Interviews service: its gRPC calls, the episodes.located
 * event and the return-interview deadline. */
#ifndef INTERVIEWS_HANDLERS_H
#define INTERVIEWS_HANDLERS_H

#include "hw_app.h"

/* The gRPC service (ctx is set to the hw_app by hw_app_run). */
extern const hw_service_def interviews_service;

/* hw_app_def.on_event: "episodes.located" creates the expected interviews
 * and the 72-hour deadline; other types are acknowledged and ignored. */
int interviews_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                        const char *type, const char *subject, int64_t occurred_at_ms,
                        const char *payload_json, hw_status *st);

/* hw_app_def.init: registers the "return_interview_due" deadline. */
int interviews_init(hw_app *app);

/* Deadline kind and event types. */
#define INTERVIEWS_DEADLINE_RETURN_DUE "return_interview_due"
#define EV_PREVENTION_SUBMITTED "interviews.prevention_submitted"
#define EV_DISCLOSURE "interviews.disclosure"
#define EV_RETURN_COMPLETED "interviews.return_completed"
#define EV_RETURN_DECLINED "interviews.return_declined"
#define EV_RETURN_OVERDUE "interviews.return_overdue"
#define EV_CSE_PROMPT "interviews.cse_prompt"

#endif
