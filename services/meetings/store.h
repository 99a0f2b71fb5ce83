/* store.h -- the meetings schema: episodes as told by events, meetings,
 * invitees, minutes, actions, alerts. All SQL of the service lives in
 * store.c, as parameterised statements through hw_db_exec.
 *
 * Every function runs in the caller's transaction on db and returns 0, or
 * -1 with st set. Messages returned (Meeting, Action) are built in the
 * call's arena (hw_call_alloc) and live until the call ends; the caller
 * owns nothing else unless a comment says "caller frees". */
#ifndef MEETINGS_STORE_H
#define MEETINGS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escalation.h"
#include "homeward/meetings/v1/meetings.pb-c.h"
#include "hw_pg.h"
#include "hw_server.h"

typedef Homeward__Meetings__V1__Meeting mt_meeting_msg;
typedef Homeward__Meetings__V1__Action mt_action_msg;
typedef Homeward__Meetings__V1__Minutes mt_minutes_msg;

#define MT_ID_MAX 128

/* What the episodes service told us of one episode (its event payload). */
typedef struct mt_episode {
    char episode_id[MT_ID_MAX];
    char child_id[MT_ID_MAX];
    mt_profile profile;
    char responsible_authority[MT_ID_MAX];
    char placing_authority[MT_ID_MAX];
    char host_authority[MT_ID_MAX];
    char force[MT_ID_MAX];
    char home_id[MT_ID_MAX];
    char social_worker_id[MT_ID_MAX];
    char assigned_officer[MT_ID_MAX];
    char spoc_id[MT_ID_MAX];          /* the first SPOC of the home, if any */
    int64_t reported_ms;              /* 0 if not known */
    int missing_90_days;              /* -1 if the event did not carry it */
    bool ended;                       /* located or closed */
} mt_episode;

/* Record an "episodes.reported" event (insert or complete the row).
 * *ended: the episode was already located or closed (events out of order). */
int mt_store_episode_reported(hw_db *db, const mt_episode *e, bool *ended, hw_status *st);
/* Record that the episode was located or closed at at_ms. */
int mt_store_episode_ended(hw_db *db, const mt_episode *e, int64_t at_ms, bool closed,
                           hw_status *st);
/* Load an episode; 0 with *found false if unknown. */
int mt_store_episode_get(hw_db *db, const char *episode_id, mt_episode *out, bool *found,
                         hw_status *st);
/* The child's most recently reported episode, for facts (authority, force,
 * home, profile); *found false if none. */
int mt_store_child_latest(hw_db *db, const char *child_id, mt_episode *out, bool *found,
                          hw_status *st);
/* Episodes of the child known here in the 90-day window ending at as_of_ms. */
int mt_store_child_count(hw_db *db, const char *child_id, int64_t as_of_ms, int *count,
                         hw_status *st);

/* Highest intervention level among the child's open meetings (LLR: 1 if a
 * strategy meeting is open), 0 if none. */
int mt_store_open_level(hw_db *db, const char *child_id, mt_profile p, int *level, hw_status *st);
/* Whether a meeting of kind k (not a follow-up) was created for the child
 * in the 90 days before as_of_ms. */
int mt_store_kind_in_window(hw_db *db, const char *child_id, mt_kind k, int64_t as_of_ms,
                            bool *out, hw_status *st);

typedef struct mt_new_meeting {
    const char *child_id;
    mt_kind kind;
    mt_profile profile;
    const char *trigger;              /* "repeat_episodes" | "long_duration" | "manual" | "follow_up" */
    const char *manual_reason;        /* "" or the ManualReason name, lower case */
    const char *reason;
    const char *episode_id;
    int episodes_in_90_days;
    const char *responsible_authority;
    const char *placing_authority;
    const char *force;
    const char *home_id;
    int64_t due_by_ms;
    const char *requested_by;
    const char *escalated_from;       /* meeting id or NULL */
} mt_new_meeting;

/* Insert unless an open meeting of the same child and kind exists (then
 * *created is false and existing_id holds its id). id receives the new id. */
int mt_store_meeting_insert(hw_db *db, const mt_new_meeting *m, char id[37], bool *created,
                            hw_status *st);

typedef struct mt_invitee {
    const char *role;
    const char *label;
    bool chair;
    bool as_appropriate;
    const char *person_id;
    const char *person_name;
    const char *organisation;
} mt_invitee;

int mt_store_invitee_insert(hw_db *db, const char *meeting_id, int position,
                            const mt_invitee *inv, hw_status *st);

/* Load one meeting (NOT_FOUND if none). full: minutes and actions too. */
mt_meeting_msg *mt_store_meeting_get(hw_db *db, hw_call *call, const char *id, bool lock,
                                     bool full, hw_status *st);

/* Whether the caller requested the meeting or is invited: by person, or by
 * role (an unresolved invitee of one of the caller's roles, in the caller's
 * force, authority or home). */
int mt_store_is_invited(hw_db *db, const char *meeting_id, const hw_principal *p, bool *out,
                        hw_status *st);

typedef struct mt_list_query {
    int scope;                        /* Homeward__Meetings__V1__ListScope */
    const char *child_id;
    bool open_only;
    int limit;
    int offset;
    bool service;                     /* the caller is a Homeward service: no filter */
    const char *manage_org;           /* "" unless the caller manages its org's meetings */
    const hw_principal *who;
} mt_list_query;

int mt_store_meetings_list(hw_db *db, hw_call *call, const mt_list_query *q,
                           mt_meeting_msg ***out, size_t *n, hw_status *st);

int mt_store_schedule(hw_db *db, const char *id, int64_t at_ms, const char *location,
                      hw_status *st);
/* 0, or -1: NOT_FOUND when the invitee is not one of the meeting's. */
int mt_store_attendance(hw_db *db, const char *meeting_id, const char *invitee_id,
                        bool attended, bool apologies, const char *note, const char *by,
                        hw_status *st);
int mt_store_minutes(hw_db *db, const char *id, const mt_minutes_msg *m, int64_t next_ms,
                     const char *by, hw_status *st);
/* A follow-up of `from` at at_ms with the same invitees (attendance clear);
 * *created false if one of that kind is already open. */
int mt_store_follow_up(hw_db *db, const char *from, int64_t at_ms, char id[37], bool *created,
                       hw_status *st);

int mt_store_action_insert(hw_db *db, const char *meeting_id, const char *description,
                           const char *owner_id, const char *owner_name, const char *owner_role,
                           int64_t due_ms, const char *by, char id[37], hw_status *st);
/* NOT_FOUND if none. *authority receives the meeting's responsible
 * authority (arena). */
mt_action_msg *mt_store_action_get(hw_db *db, hw_call *call, const char *id, bool lock,
                                   char **authority, hw_status *st);
int mt_store_action_complete(hw_db *db, const char *id, const char *by, const char *outcome,
                             hw_status *st);
/* The action's event payload (caller frees *payload): ids and facts, no
 * description. NOT_FOUND if there is no such action. */
int mt_store_action_payload(hw_db *db, const char *id, char **payload, hw_status *st);
/* Mark the action overdue if still open; *payload (caller frees) receives
 * the event payload, NULL if it was completed or already marked. */
int mt_store_action_overdue(hw_db *db, const char *id, char **payload, hw_status *st);

typedef struct mt_overdue_query {
    const char *const *child_ids;
    size_t n_child_ids;
    bool chaired_by_me;
    bool service;
    const char *manage_org;
    const hw_principal *who;
    int limit;
} mt_overdue_query;

int mt_store_overdue_actions(hw_db *db, hw_call *call, const mt_overdue_query *q,
                             mt_action_msg ***out, size_t *n, hw_status *st);

/* R-LONG-1: record the alert once; *inserted false if already raised. */
int mt_store_alert(hw_db *db, const char *kind, const char *episode_id, const char *child_id,
                   bool *inserted, hw_status *st);

/* Event payload (caller frees) of a meeting: ids, kind, level, due, chair,
 * invitee roles and resolved person ids. Never a name of the child. */
int mt_store_meeting_payload(hw_db *db, const char *id, char **payload, hw_status *st);

#endif
