/* rules.h -- the interview rules of the protocol (R-RET-1..3), as data and
 * small pure functions: no database, no I/O, no clock except what the caller
 * passes. Unit-tested in tests/unit/interviews/.
 *
 * Strings passed in are borrowed; everything returned points at static data. */
#ifndef INTERVIEWS_RULES_H
#define INTERVIEWS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_auth.h"

/* ---- value lists (Appendix 4, the prevention interview guide) ---- */

typedef struct rules_value {
    const char *code;      /* "CSE_RELATED" */
    const char *label;     /* "CSE Related", as on the form */
    bool needs_text;       /* "Other - Text box": the *_other text is required */
} rules_value;

typedef struct rules_value_list {
    const char *name;      /* "contributory_factors" */
    const char *question;  /* "Childs main contributory factors" */
    bool multiple;         /* multiple selection */
    const rules_value *values;
    size_t n_values;
} rules_value_list;

const rules_value_list *rules_value_lists(size_t *n);
const rules_value_list *rules_value_list_find(const char *name);
/* The entry for code in list, or NULL if the code is not in the list. */
const rules_value *rules_value_find(const rules_value_list *list, const char *code);

/* ---- timeliness (R-RET-2) ---- */

#define RULES_RETURN_INTERVIEW_HOURS 72

/* Due time of the return interview: exactly 72 hours after the located
 * time. Hours are exact durations, so a clock change in between does not
 * move it (PROTOCOL "Time"). */
int64_t rules_return_interview_due_ms(int64_t located_at_ms);
/* "Was the RHI completed within time frames?": true when the interview took
 * place no later than located + 72 h; exactly 72 h counts as in time. */
bool rules_within_time_frame(int64_t located_at_ms, int64_t interview_at_ms);
/* A late interview must say why (a time-frame comment code or a note). */
bool rules_lateness_explained(bool within_time_frame, size_t n_comment_codes, const char *note);

/* Where an interview time can come from: not before the child was located
 * and not in the future (a small allowance for phone clock skew). */
#define RULES_CLOCK_SKEW_MS (5 * 60 * 1000)
bool rules_interview_time_plausible(int64_t located_at_ms, int64_t interview_at_ms, int64_t now_ms);

/* ---- who may conduct, read and share (R-RET-1, R-RET-3, R-SEC-1) ---- */

enum rules_kind { RULES_PREVENTION, RULES_RETURN };

/* What the service knows of an interview when deciding access. */
typedef struct rules_interview {
    enum rules_kind kind;
    const char *force;                 /* police force code of the episode */
    const char *responsible_authority; /* local authority code */
    const char *home_id;               /* the child's home/placement, may be "" */
    const char *profile;               /* "STAFFS" | "LLR" */
    const char *placement_type;        /* "residential", "foster", "home", ... */
    const char *assignee;              /* sub, may be "" */
    const char *conducted_by;          /* sub of who submitted it, may be "" */
} rules_interview;

enum rules_conductor {
    RULES_CONDUCTOR_NONE = 0,
    RULES_CONDUCTOR_POLICE,
    RULES_CONDUCTOR_CARE_STAFF,
    RULES_CONDUCTOR_RETURN_WORKER,
    RULES_CONDUCTOR_SOCIAL_WORKER,
};

/* "police", "care_staff", "return_interview_worker", "social_worker", "". */
const char *rules_conductor_name(enum rules_conductor c);

/* A residential placement (a children's home), where LLR lets care staff
 * complete the prevention interview. Case-insensitive. */
bool rules_is_residential(const char *placement_type);
/* R-RET-1, the profile parameter: may care staff complete a prevention
 * interview for this profile and placement? (LLR residential only.) */
bool rules_care_staff_may_prevent(const char *profile, const char *placement_type);

/* Who p may act as for interview iv (start, save drafts, submit, record
 * consent / no contact / declined):
 *  prevention: police officers and supervisors of the episode's force; care
 *              staff of the child's home where the profile allows (R-RET-1);
 *  return:     return interview workers and social workers of the
 *              responsible authority.
 * NONE when p may not. */
enum rules_conductor rules_conductor_for(const hw_principal *p, const rules_interview *iv);

/* Consent as last recorded (R-RET-3). */
enum rules_consent { RULES_CONSENT_NOT_RECORDED, RULES_CONSENT_GIVEN, RULES_CONSENT_REFUSED };

/* R-RET-3: may the content go beyond those who hold it? Only with consent,
 * or under a recorded critical-to-safeguarding reason. */
bool rules_may_share(enum rules_consent consent, bool critical_to_safeguarding_recorded);

enum rules_read {
    RULES_READ_NONE = 0,   /* not theirs to see at all */
    RULES_READ_SUMMARY,    /* that it exists, its state and timeliness; no content */
    RULES_READ_FULL,
};

/* What p may read of iv:
 *  - those who hold it read it in full: whoever may conduct it, the one who
 *    conducted it, and for prevention interviews the force's police (it is
 *    their record, R-DEF-7);
 *  - the other side (local authority roles for a prevention interview;
 *    police of the force and the authority's other roles for a return
 *    interview, R-NOT-7) read it in full only when rules_may_share allows,
 *    otherwise a summary;
 *  - a service identity reads a summary;
 *  - anyone else nothing. */
enum rules_read rules_read_access(const hw_principal *p, const rules_interview *iv,
                                  enum rules_consent consent, bool critical_to_safeguarding_recorded);

/* Who may record that sharing without consent is critical to safeguard the
 * child: whoever may conduct the interview, and the authority's team
 * managers and children's social care lead, and the force's supervisors. */
bool rules_may_record_sharing_decision(const hw_principal *p, const rules_interview *iv);

/* ---- prompts ---- */

/* A CSE-related contributory factor or reason for running prompts a CSE
 * matrix (R-RISK-7): true if any of the codes is CSE-related. */
bool rules_is_cse_code(const char *code);

/* ---- input shape ---- */

/* A canonical textual uuid (8-4-4-4-12 hex), as Postgres prints it. */
bool rules_is_uuid(const char *s);
/* A calendar date "YYYY-MM-DD" that exists. */
bool rules_is_date(const char *s);

#endif
