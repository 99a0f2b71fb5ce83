/* rules.h -- the protocol rules of the episodes service, as data and pure
 * functions (no database, no gRPC): classification, lifecycle, counts,
 * deadlines and access. Each rule names its id in PROTOCOL.md. */
#ifndef EPISODES_RULES_H
#define EPISODES_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "hw_auth.h"

/* ---- lifecycle (R-EPI-3) ---- */
enum ep_status {
    EP_REPORTED = 1,
    EP_ABSENT = 2,
    EP_MISSING = 3,
    EP_LOCATED = 4,
    EP_PREVENTION_DONE = 5,
    EP_RETURN_DONE = 6,
    EP_RETURN_DECLINED = 7,
    EP_CLOSED = 8,
};
/* Numbers equal the proto's EpisodeStatus values. Text is the database form
 * ("missing"); ep_status_parse returns 0 for an unknown word. */
const char *ep_status_text(enum ep_status s);
enum ep_status ep_status_parse(const char *text);
/* R-EPI-3: may an episode move from `from` to `to`? */
bool ep_transition_allowed(enum ep_status from, enum ep_status to);

/* ---- classification (R-DEF-2, R-DEF-3) ---- */
enum ep_classification {
    EP_MISSING_FROM_CARE = 1,
    EP_MISSING_FROM_HOME = 2,
    EP_AWAY_FROM_PLACEMENT = 3,
};
const char *ep_classification_text(enum ep_classification c);
enum ep_classification ep_classification_parse(const char *text);
/* R-DEF-3: a looked-after child whose whereabouts are unknown is missing
 * from care; any other child is missing from home. */
enum ep_classification ep_classify_missing(bool looked_after);
/* R-DEF-2: an absence applies only to a looked-after child in a placement. */
bool ep_absence_applies(bool looked_after, bool has_current_placement);

/* ---- closing (R-DEF-7, R-EPI-3) ---- */
enum ep_close_decision {
    EP_CLOSE_OK = 0,
    EP_CLOSE_NEEDS_LOCATED,            /* still missing/absent: the record stays live */
    EP_CLOSE_NEEDS_PREVENTION_INTERVIEW,
    EP_CLOSE_NEEDS_REASON,             /* supervisor override without a reason */
    EP_CLOSE_ALREADY_CLOSED,
};
/* A missing episode closes once the prevention interview is recorded, or by
 * a supervisor with a reason once the child is located. An absence (never
 * missing) closes once the child is back. */
enum ep_close_decision ep_can_close(enum ep_status status, bool was_missing,
                                    bool prevention_done, bool supervisor,
                                    bool has_reason);

/* ---- counts (R-EPI-4, R-DEF-4) ---- */
/* Rolling 90 days: reported_at in (as_of - 90 x 24 h, as_of]. */
int64_t ep_window_90_days_start(int64_t as_of_ms);
/* Previous 12 months: reported_at in (same instant one calendar year
 * earlier, as_of]; 29 February maps to 28 February. */
int64_t ep_window_12_months_start(int64_t as_of_ms);

typedef struct ep_counts {
    int missing_90_days, missing_12_months;
    int absences_90_days, absences_12_months;
    bool repeat_missing;
} ep_counts;
/* Count episodes (reported_ms[i], was_missing[i]) as of as_of_ms. Episodes
 * reported after as_of are not counted. */
ep_counts ep_count_episodes(const int64_t *reported_ms, const bool *was_missing,
                            int n, int64_t as_of_ms);
/* R-DEF-4: reported missing more than once in the previous 12 months. */
bool ep_is_repeat_missing(int missing_12_months);

/* ---- deadlines (R-NOT-4, R-DEF-6, R-LONG-3) ---- */
#define EP_REG41_HOURS 24
#define EP_LONG_TERM_DAYS 28
#define EP_DEADLINE_REG41 "reg41_due"
#define EP_DEADLINE_LONG_TERM "long_term"
/* R-NOT-4: the Regulation 41 notification is due 24 h after arrival. */
int64_t ep_reg41_due(int64_t arrival_ms);
/* R-DEF-6 / R-LONG-3: long-term missing after 28 days missing. */
int64_t ep_long_term_due(int64_t missing_since_ms);

enum ep_reg41 { EP_REG41_NOT_REQUIRED = 1, EP_REG41_DUE = 2, EP_REG41_SUBMITTED = 3,
                EP_REG41_OVERDUE = 4 };
const char *ep_reg41_text(enum ep_reg41 r);
enum ep_reg41 ep_reg41_parse(const char *text);
/* Status of a placement's notification at `now`. */
enum ep_reg41 ep_reg41_status(bool looked_after, bool submitted, int64_t arrival_ms,
                              int64_t now_ms);

/* ---- people ---- */
/* Whole years of age on `today` (days since 1970) for a date of birth; -1
 * if born after today. R-DEF-5: a child is anyone under 18. */
int ep_age_years(int dob_days, int today_days);

/* ---- access (R-SEC-1, R-SEC-3) ---- */
/* The facts about a record that decide who may see it. Empty strings for
 * what does not apply. */
typedef struct ep_scope {
    const char *force;                 /* episode's force, or child's/home's force */
    const char *responsible_authority;
    const char *placing_authority;
    const char *home_id;               /* the episode's home / the child's current home */
    const char *assigned_officer_id;   /* episodes only */
    bool episode_in_force;             /* child: known to the caller's force (placed in
                                        * its area, or an episode there) */
} ep_scope;

bool ep_is_police(const hw_principal *p);
bool ep_is_local_authority(const hw_principal *p);
/* Supervisors may close an episode without a prevention interview. */
bool ep_is_supervisor(const hw_principal *p);
/* R-SEC-1: police see their force's records (and an officer the episodes
 * assigned to them); a SPOC also the records of their homes; care staff the
 * records of their home; local authority roles their authority's children
 * (responsible or placing); a Homeward service everything. */
bool ep_may_see(const hw_principal *p, const ep_scope *s);
/* Whether the caller's token lets it see home `home_id` as a SPOC or carer. */
bool ep_has_home(const hw_principal *p, const char *home_id);

/* R-SEC-3 special-category groups. */
enum ep_special {
    EP_SPECIAL_HEALTH = 1 << 0,        /* health, medication, disabilities, pregnancy */
    EP_SPECIAL_BELIEFS = 1 << 1,       /* religion, sexual orientation */
    EP_SPECIAL_CSE = 1 << 2,           /* child sexual exploitation matters */
};
#define EP_SPECIAL_ALL (EP_SPECIAL_HEALTH | EP_SPECIAL_BELIEFS | EP_SPECIAL_CSE)
/* The groups the caller's roles may see (union over its roles). */
unsigned ep_special_allowed(const hw_principal *p);
const char *ep_special_name(enum ep_special g);

#endif
