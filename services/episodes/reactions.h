/* reactions.h -- what the episodes service does when a deadline falls due
 * or another service's event arrives. */
#ifndef EPISODES_REACTIONS_H
#define EPISODES_REACTIONS_H

#include "hw_app.h"

/* Register the deadline handlers (reg41_due, long_term) on the app's scheduler. */
void ep_reactions_register(hw_app *app);

/* hw_app_def.on_event: interviews.prevention_submitted,
 * interviews.return_completed (formerly return_submitted) / return_declined,
 * risk.level_changed (each about one episode); interviews.return_overdue and
 * meetings.action_added / action_overdue / action_completed (the roster's
 * follow-ups, R-SPOC-1). Other types are ignored. */
int ep_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                const char *type, const char *subject, int64_t occurred_at_ms,
                const char *payload_json, hw_status *st);

#endif
