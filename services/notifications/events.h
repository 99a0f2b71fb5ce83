/* events.h -- events of the other services fanned out to their recipients,
 * and the 07:00 daily alert (R-NOT-2).
 *
 * nt_on_event is the hw_app on_event hook: it runs inside the transaction
 * that claimed the event id, so a notification is made once per event and
 * a kill at any instant either keeps both (claim and notification) or
 * neither (the sender retries). */
#ifndef NT_EVENTS_H
#define NT_EVENTS_H

#include "hw_app.h"
#include "letters.h"
#include "people.h"
#include "service.h"
#include "store.h"

int nt_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                const char *type, const char *subject, int64_t occurred_at_ms,
                const char *payload_json, hw_status *st);

/* Register the daily-alert deadline handler (before the scheduler starts). */
void nt_daily_register(nt_service *svc);
/* Make sure the next 07:00 alert is scheduled (on start; any replica). */
int nt_daily_ensure(nt_service *svc, hw_status *st);

/* Shared by events and RaiseMissingAlert: letter facts from what was fetched. */
void nt_letter_facts_from(const nt_people *p, const nt_facts *f, int64_t now_ms,
                          nt_letter_facts *out, char today[11], char dob[16],
                          char name[300]);

#endif
