/* store.h -- all of the episodes service's SQL: children, homes, placements,
 * episodes, timeline, change feed, counts, roster, export.
 *
 * Every statement is parameterised (hw_db_exec); instants travel as Unix ms.
 * Functions that build messages allocate them (and every string in them)
 * from an ep_mem: the call's arena inside a handler, or a malloc'd arena
 * elsewhere (freed with ep_mem_release). Nothing here decides access: the
 * caller gets the facts (ep_scope) and asks rules.c. */
#ifndef EPISODES_STORE_H
#define EPISODES_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "hw_pg.h"
#include "hw_server.h"
#include "rules.h"

typedef Homeward__Episodes__V1__Child ep_child;
typedef Homeward__Episodes__V1__Home ep_home;
typedef Homeward__Episodes__V1__Placement ep_placement;
typedef Homeward__Episodes__V1__Episode ep_episode;
typedef Homeward__Episodes__V1__MissingReport ep_report;
typedef Homeward__Episodes__V1__TimelineEntry ep_entry;
typedef Homeward__Episodes__V1__RosterEntry ep_roster_entry;
typedef Homeward__Episodes__V1__StatutoryReturnRow ep_return_row;
typedef Homeward__Episodes__V1__ChildSummary ep_child_summary;

/* ---- memory ---- */
typedef struct ep_block ep_block;
typedef struct ep_mem {
    hw_call *call;          /* allocate from the call's arena, or */
    ep_block *blocks;       /* from malloc'd blocks freed by ep_mem_release */
} ep_mem;
void *ep_alloc(ep_mem *m, size_t n);              /* zeroed; aborts on OOM */
char *ep_strdup(ep_mem *m, const char *s);        /* NULL -> "" */
void ep_mem_release(ep_mem *m);

/* "" for an unset string; a uuid in canonical text form? */
bool ep_is_uuid(const char *s);
/* RFC 3339 of ms into the arena ("" for ms < 0 meaning unset). */
char *ep_ts(ep_mem *m, int64_t ms);

/* Database word for a ReturnMethod (R-EPI-3: how the child came back). */
const char *ep_return_method_text(int how);

/* ---- visibility for lists (mirrors ep_may_see, R-SEC-1) ---- */
typedef struct ep_vis {
    bool all;
    const char *force;       /* police: the caller's force, else NULL */
    const char *officer;     /* police: the caller's sub (assigned episodes) */
    char *homes_json;        /* SPOC / care staff: JSON array of home ids, else NULL */
    const char *authority;   /* LA roles: the caller's authority, else NULL */
} ep_vis;
void ep_vis_of(ep_mem *m, const hw_principal *p, ep_vis *out);

/* ---- authorities ---- */
/* Profile and force of an authority code; -1 NOT_FOUND if unknown. */
int ep_store_authority(hw_db *db, const char *code, ep_mem *m, char **profile, char **force,
                       hw_status *st);
/* Profile of any authority a force covers ("STAFFS" if none). */
char *ep_store_force_profile(hw_db *db, ep_mem *m, const char *force, hw_status *st);

/* ---- children ---- */
/* Insert (child->id empty: *out_id receives the new id, 37 bytes) or replace.
 * force: police force that may see it (see migrations). Special-category
 * groups not in special_writable keep their stored value (a caller who may
 * not see them cannot wipe them). NOT_FOUND if the id does not exist. */
int ep_store_child_save(hw_db *db, const ep_child *child, const char *force,
                        unsigned special_writable, char *out_id, hw_status *st);
/* Load a child with its current placement. special: the R-SEC-3 groups to
 * load. caller_force: for scope->episode_in_force (may be NULL). Returns
 * NULL with NOT_FOUND. scope strings live in m. */
ep_child *ep_store_child_get(hw_db *db, ep_mem *m, const char *id, unsigned special,
                             const char *caller_force, ep_scope *scope, hw_status *st);
int ep_store_child_search(hw_db *db, ep_mem *m, const char *name, const char *dob, int limit,
                          const ep_vis *vis, ep_child_summary ***out, size_t *n, hw_status *st);

/* ---- homes ---- */
int ep_store_home_save(hw_db *db, const ep_home *home, char *out_id, hw_status *st);
ep_home *ep_store_home_get(hw_db *db, ep_mem *m, const char *id, hw_status *st);

/* ---- placements ---- */
int ep_store_placement_insert(hw_db *db, const ep_placement *p, int64_t starts_ms, int64_t ends_ms,
                              bool reg41_required, char *out_id, hw_status *st);
/* Update an existing placement's details (not its Regulation 41 state). */
int ep_store_placement_update(hw_db *db, const ep_placement *p, int64_t starts_ms,
                              hw_status *st);
/* Loads a placement; *scope receives its child's facts (current home etc.). */
ep_placement *ep_store_placement_get(hw_db *db, ep_mem *m, const char *id, ep_scope *scope,
                                     int64_t *starts_ms, hw_status *st);
int ep_store_placement_end(hw_db *db, const char *id, int64_t ends_ms, const char *reason,
                           hw_status *st);
int ep_store_reg41_submit(hw_db *db, const char *placement_id,
                          const Homeward__Episodes__V1__Regulation41 *form, hw_status *st);
/* Deadline: mark overdue if still due. Returns 1 if it was due, 0 if not. */
int ep_store_reg41_mark_overdue(hw_db *db, const char *placement_id, hw_status *st);

/* ---- episodes ---- */
typedef struct ep_new_episode {
    const char *child_id, *placement_id, *home_id;
    enum ep_status status;
    enum ep_classification classification;
    bool was_missing;
    const char *force, *profile, *responsible_authority, *placing_authority;
    const char *reported_by_id;
    int64_t reported_ms, missing_since_ms, last_seen_ms;   /* -1: unset */
    const char *last_seen_place;
    const char *police_incident_ref, *mispers_ref;
    const ep_report *report;                               /* may be NULL */
} ep_new_episode;
int ep_store_episode_insert(hw_db *db, const ep_new_episode *e, char *out_id, hw_status *st);
/* Load an episode (FOR UPDATE when lock). with_report: include the report,
 * with the special-category groups not in `special` removed. NOT_FOUND if
 * missing. */
ep_episode *ep_store_episode_get(hw_db *db, ep_mem *m, const char *id, bool lock,
                                 bool with_report, unsigned special, ep_scope *scope,
                                 hw_status *st);
/* The child's open (not closed) episode id into out (37 bytes); 0 none, 1 found. */
int ep_store_open_episode(hw_db *db, const char *child_id, char *out, hw_status *st);

/* Set columns; each NULL/negative argument leaves its column alone. */
int ep_store_episode_status(hw_db *db, const char *id, enum ep_status status, hw_status *st);
int ep_store_episode_missing(hw_db *db, const char *id, int64_t missing_since_ms,
                             int64_t last_seen_ms, const char *last_seen_place,
                             const ep_report *report, hw_status *st);
int ep_store_episode_refs(hw_db *db, const char *id, const char *incident, const char *mispers,
                          hw_status *st);
int ep_store_episode_assign(hw_db *db, const char *id, const char *officer_id,
                            const char *officer_name, hw_status *st);
int ep_store_episode_located(hw_db *db, const char *id, int64_t at_ms, const char *place,
                             const char *by, const char *how, const char *notes,
                             const char *recorded_by, hw_status *st);
int ep_store_episode_closed(hw_db *db, const char *id, int64_t at_ms, const char *by,
                            const char *reason, hw_status *st);
int ep_store_episode_prevention(hw_db *db, const char *id, int64_t at_ms, hw_status *st);
int ep_store_episode_return_interview(hw_db *db, const char *id, bool accepted,
                                      hw_status *st);
int ep_store_episode_risk(hw_db *db, const char *id, const char *level, const char *scale,
                          hw_status *st);
/* Deadline: flag long-term if still missing. Returns 1 if flagged, 0 if not. */
int ep_store_episode_long_term(hw_db *db, const char *id, hw_status *st);

/* ---- timeline and change feed ---- */
int ep_store_timeline_add(hw_db *db, const char *episode_id, int64_t at_ms, const char *kind,
                          const char *actor_id, const char *actor_name, const char *text,
                          const char *place, hw_status *st);
int ep_store_timeline(hw_db *db, ep_mem *m, const char *episode_id, ep_entry ***out, size_t *n,
                      hw_status *st);
/* Append to the change feed and, if event_type is not NULL, write the
 * outbox event with the episode's ids and facts. Call last in the
 * transaction: it takes the feed's lock until commit (see 0002 migration). */
int ep_store_changed(hw_db *db, const char *episode_id, const char *change,
                     const char *event_type, hw_status *st);
/* Outbox event about a placement (placement_started / ended / reg41_overdue). */
int ep_store_placement_event(hw_db *db, const char *placement_id, const char *event_type,
                             hw_status *st);

/* ---- counts (R-EPI-4) ---- */
int ep_store_counts(hw_db *db, const char *child_id, int64_t as_of_ms, ep_counts *out,
                    hw_status *st);

/* ---- lists ---- */
typedef struct ep_list_filter {
    const char *statuses_json;   /* JSON array of status words, or NULL */
    const char *child_id, *home_id, *organisation;
    int64_t from_ms, to_ms;      /* -1: open */
    bool open_only;
    int64_t after_us;            /* keyset: reported_at in us, -1 for the first page */
    const char *after_id;
    int limit;
} ep_list_filter;
/* Episodes newest first; *last_us/last_id describe the last row returned. */
int ep_store_episode_list(hw_db *db, ep_mem *m, const ep_list_filter *f, const ep_vis *vis,
                          ep_episode ***out, size_t *n, int64_t *last_us, char **last_id,
                          hw_status *st);

/* ---- roster (R-SPOC-1) ---- */
/* The home (NOT_FOUND if none) and the lines of the children placed there
 * now, as of now_ms, in one statement (the lines of migration 0005). */
ep_home *ep_store_home_roster(hw_db *db, ep_mem *m, const char *home_id, int64_t now_ms,
                              ep_roster_entry ***out, size_t *n, hw_status *st);

/* ---- roster follow-ups from the other services' events (R-SPOC-1) ---- */
/* Record what an interviews event says of a return interview: overdue
 * (72 hours passed) and/or done (completed or declined). Flags are only
 * ever set, so repeated or out-of-order events are harmless. */
int ep_store_interview_follow_up(hw_db *db, const char *interview_id, const char *child_id,
                                 const char *episode_id, bool overdue, bool done, hw_status *st);
/* Record a meeting action: added (due_ms, -1 if unknown), overdue, completed. */
int ep_store_meeting_action(hw_db *db, const char *action_id, const char *child_id,
                            const char *meeting_id, int64_t due_ms, bool overdue, bool completed,
                            hw_status *st);

/* ---- statutory return (R-EPI-7) ---- */
int ep_store_statutory_return(hw_db *db, ep_mem *m, const char *authority, const char *from_date,
                              const char *to_date, ep_return_row ***out, size_t *n,
                              hw_status *st);

/* ---- change feed for WatchEpisodes ---- */
typedef struct ep_change {
    int64_t seq;
    char *change;
    int64_t at_ms;
    ep_episode *episode;       /* report omitted */
    ep_scope scope;
} ep_change;
int64_t ep_store_feed_head(hw_db *db, hw_status *st);
int ep_store_feed(hw_db *db, ep_mem *m, int64_t after_seq, int limit, ep_change **out,
                  size_t *n, hw_status *st);

#endif
