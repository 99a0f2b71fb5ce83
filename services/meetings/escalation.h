/* escalation.h -- the protocol's escalation and meeting rules as data and
 * small pure functions (PROTOCOL R-ESC-1..5, R-LONG-1..2, R-MEET-1,
 * "Protocol profiles"). No database, no gRPC: unit-tested directly.
 *
 * All tables are static and read-only; every returned pointer stays valid
 * for the life of the process. Thread-safe. */
#ifndef MEETINGS_ESCALATION_H
#define MEETINGS_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_auth.h"

/* Each child's area selects its protocol (PROTOCOL "Protocol profiles"). */
typedef enum mt_profile { MT_PROFILE_STAFFS = 0, MT_PROFILE_LLR = 1 } mt_profile;

/* Numbered as homeward.meetings.v1.MeetingKind. */
typedef enum mt_kind {
    MT_KIND_NONE = 0,
    MT_KIND_LEVEL_1 = 1,      /* R-ESC-1 */
    MT_KIND_LEVEL_2 = 2,      /* R-ESC-2 */
    MT_KIND_LEVEL_3 = 3,      /* R-ESC-3 */
    MT_KIND_STRATEGY = 4,     /* R-ESC-5 (LLR) */
    MT_KIND_CASE_REVIEW = 5,  /* R-LONG-2 (STAFFS) */
} mt_kind;

#define MT_KIND_COUNT 6

/* The rolling window of R-EPI-4: reported_at > as_of - 90 x 24 h (the same
 * bound the episodes service counts with). */
#define MT_WINDOW_MS (90LL * 24 * 3600 * 1000)
/* R-ESC-1 (STAFFS 13.14), profile table: meetings within 5 working days. */
#define MT_MEETING_DUE_WORKING_DAYS 5
/* R-LONG-2 says "urgent" without a figure: due by the end of the next
 * working day after the 3-day mark. */
#define MT_CASE_REVIEW_DUE_WORKING_DAYS 1

/* "STAFFS" / "LLR"; *known is false (and STAFFS returned) for anything
 * else. known may be NULL. */
mt_profile mt_profile_parse(const char *s, bool *known);
const char *mt_profile_name(mt_profile p);

/* Stored names: "intervention_level_1", ..., "strategy", "case_review";
 * mt_kind_parse returns MT_KIND_NONE for an unknown name. */
const char *mt_kind_name(mt_kind k);
mt_kind mt_kind_parse(const char *s);
/* 1..3 for intervention meetings, 0 otherwise. */
int mt_kind_level(mt_kind k);
/* Whether the profile has this kind of meeting at all. */
bool mt_kind_in_profile(mt_profile p, mt_kind k);

/* ---- thresholds: R-ESC-1, R-ESC-2, R-ESC-3, R-ESC-5 ---- */

/* Episodes in 90 days at which the kind is called for (STAFFS 3/5/9, LLR
 * strategy 3), or 0 if the kind is not count-triggered in the profile. */
int mt_threshold(mt_profile p, mt_kind k);
/* The meeting a 90-day count calls for: the highest threshold reached, or
 * MT_KIND_NONE below the first. */
mt_kind mt_kind_for_count(mt_profile p, int missing_90_days);

/* Whether an episode reported at reported_ms falls in the 90-day window
 * ending at as_of_ms (start exclusive, end inclusive). */
bool mt_in_window(int64_t reported_ms, int64_t as_of_ms);
/* Episodes of reported_ms[0..n) in the window ending at as_of_ms. */
int mt_count_in_window(const int64_t *reported_ms, size_t n, int64_t as_of_ms);

/* Which meeting a newly reported episode should create, given:
 *   count           the child's 90-day count including this episode;
 *   open_level      the highest intervention level among the child's open
 *                   meetings (0: none), or for LLR 1 if a strategy meeting
 *                   is open;
 *   kind_in_window  whether a meeting of the called-for kind was created
 *                   by count within the window before this episode.
 * A meeting is created when the count reaches the kind's threshold exactly
 * (each report adds one, so a rising count always passes it), or is above
 * it with no such meeting in the window (the service started after earlier
 * episodes). Never while a meeting at that level or higher is open: a
 * repeat or late event changes nothing. */
mt_kind mt_repeat_meeting(mt_profile p, int count, int open_level, bool kind_in_window);

/* ---- who is invited, who chairs (R-ESC-1..3, R-ESC-5, R-LONG-2) ---- */

typedef struct mt_invitee_rule {
    const char *role;         /* hw_roles.h name where one exists ("social_worker") */
    const char *label;        /* the protocol's words */
    bool chair;
    bool as_appropriate;      /* "where appropriate" / "as appropriate" */
} mt_invitee_rule;

typedef struct mt_meeting_rule {
    mt_kind kind;
    const char *rule_id;      /* "R-ESC-1" */
    const char *source;       /* "STAFFS 13.15" */
    const char *chair_role;
    const mt_invitee_rule *invitees;
    size_t n_invitees;
} mt_meeting_rule;

/* NULL for MT_KIND_NONE or an out-of-range kind. */
const mt_meeting_rule *mt_meeting_rule_for(mt_kind k);
/* Whether role appears among the kind's invitees. */
bool mt_invites(mt_kind k, const char *role);

/* Due-by instant for a meeting called at trigger_ms: end of the 5th working
 * day (R-ESC-1 / profile table), end of the next working day for the urgent
 * case review (R-LONG-2). */
int64_t mt_due_by(mt_kind k, int64_t trigger_ms);

/* ---- long episodes: R-LONG-1, R-LONG-2, R-ESC-5 ---- */

typedef struct mt_long_rule {
    const char *deadline_kind;   /* hw_deadline kind, subject "episode:<id>" */
    int hours;                   /* exact duration from the report (PROTOCOL "Time") */
    const char *rule_id;
    mt_kind meeting;             /* the meeting it creates, or NONE (an alert) */
} mt_long_rule;

#define MT_DEADLINE_LINE_MANAGER "meetings.line_manager_alert" /* R-LONG-1 */
#define MT_DEADLINE_CASE_REVIEW "meetings.case_review"         /* R-LONG-2 */
#define MT_DEADLINE_STRATEGY_72H "meetings.strategy_72h"       /* R-ESC-5 */
#define MT_DEADLINE_ACTION_DUE "meetings.action_due"           /* R-MEET-1 */

/* The long-duration deadlines an open episode carries in a profile. */
size_t mt_long_rules(mt_profile p, const mt_long_rule **out);
/* Every long-duration deadline kind of every profile (to cancel on located). */
size_t mt_all_long_rules(const mt_long_rule **out);
const mt_long_rule *mt_long_rule_for(const char *deadline_kind);

/* ---- R-ESC-3 / STAFFS 20.6: the letter to the placing authority ---- */

/* A level 3 meeting for a child placed by another authority (placing
 * authority set and different from host_authority when that is known,
 * else from the responsible authority) sends the placing authority's
 * designated safeguarding lead a letter, copied to the police missing
 * person champion. */
bool mt_level3_letter_needed(mt_kind k, const char *placing_authority,
                             const char *responsible_authority, const char *host_authority);

/* ---- R-ESC-4: escalation by hand ---- */

/* The next level up from k (level 1 -> 2 -> 3), or MT_KIND_NONE. */
mt_kind mt_escalates_to(mt_kind k);

/* ---- access (R-SEC-1) ---- */

/* Social workers, team managers, CSC leads and IROs of the child's
 * responsible authority manage its meetings. */
bool mt_may_manage(const hw_principal *p, const char *responsible_authority);
/* R-ESC-4 "any professional may request a meeting": the managers above,
 * police of the episode's force, the authority's return interview workers
 * and the care staff of the child's home. */
bool mt_may_request(const hw_principal *p, const char *responsible_authority,
                    const char *force, const char *home_id);
bool mt_is_police(const hw_principal *p);

#endif
