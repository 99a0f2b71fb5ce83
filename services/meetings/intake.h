/* intake.h -- how meetings come to exist: episode events (R-ESC-1..3,
 * R-ESC-5), long-episode deadlines (R-LONG-1, R-LONG-2, R-ESC-5), requests
 * and escalations by hand (R-ESC-4), follow-ups; invitees resolved to the
 * child's actual people where the records say who. */
#ifndef MEETINGS_INTAKE_H
#define MEETINGS_INTAKE_H

#include "escalation.h"
#include "hw_app.h"
#include "hw_client.h"
#include "store.h"

/* Service state (hw_app_state): the channel to the episodes service, NULL
 * when EPISODES_ADDR is not set (invitees then stay unresolved). */
typedef struct mt_state {
    hw_channel *episodes;
} mt_state;

/* Event types this service publishes. */
#define MT_EV_CREATED "meetings.created"
#define MT_EV_SCHEDULED "meetings.scheduled"
#define MT_EV_MINUTES "meetings.minutes_recorded"
#define MT_EV_LEVEL3_LETTER "meetings.level3_letter"
#define MT_EV_LINE_MANAGER "meetings.line_manager_alert"
#define MT_EV_ACTION_OVERDUE "meetings.action_overdue"
#define MT_EV_ACTION_ADDED "meetings.action_added"
#define MT_EV_ACTION_COMPLETED "meetings.action_completed"

/* The child's people as the records hold them (ids and professionals'
 * names; never the child's). */
typedef struct mt_person {
    char id[MT_ID_MAX];
    char name[128];
} mt_person;

typedef struct mt_people {
    mt_person social_worker, team_manager, iro, police_officer, spoc;
    char responsible_authority[MT_ID_MAX];
    char placing_authority[MT_ID_MAX];
    char force[MT_ID_MAX];
    char home_id[MT_ID_MAX];
    bool from_child_record;   /* the episodes service answered GetChild */
} mt_people;

/* Fill people from the episode's facts, then from the child record held by
 * the episodes service (GetChild, service identity, ~3 s timeout). A
 * failed look-up is logged and leaves those roles unresolved: a meeting
 * must not wait for the directory. Returns 0; -1 only with st set when the
 * child does not exist (NOT_FOUND) and require_child is true. */
int mt_resolve_people(hw_app *app, const char *child_id, const mt_episode *facts,
                      bool require_child, mt_people *out, hw_status *st);

/* Create a meeting with its invitees and publish meetings.created (and the
 * R-ESC-3 letter when due), in db's transaction. *created false (id = the
 * open one) when a meeting of that child and kind is already open. */
int mt_create_meeting(hw_app *app, hw_db *db, const mt_new_meeting *nm, const mt_people *people,
                      const char *host_authority, char id[37], bool *created, hw_status *st);

/* Publish an event in db's transaction and wake the relay after commit. */
int mt_publish(hw_app *app, hw_db *db, const char *type, const char *subject,
               const char *payload_json, hw_status *st);

/* hw_app_def.on_event: episodes.reported / located / closed. */
int mt_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                const char *type, const char *subject, int64_t occurred_at_ms,
                const char *payload_json, hw_status *st);

/* hw_app_def.init / fini: state, channel, deadline handlers. */
int mt_init(hw_app *app);
void mt_fini(hw_app *app);

/* The manual reason's stored name ("very_high_risk"), "" if unspecified. */
const char *mt_manual_reason_name(int reason);

#endif
