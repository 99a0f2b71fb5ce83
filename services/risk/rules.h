/* rules.h -- the risk protocol as small pure functions (PROTOCOL R-RISK,
 * R-CAWN-1, R-CPS-1): what level to propose and why, what a decision, a
 * CSE matrix, an abduction notice or a checklist must satisfy.
 *
 * Levels are ranks 0..3 (lowest, low, medium, high). Their codes and labels
 * live in the versioned scales of the database (R-RISK-1): "no apparent
 * risk" in the documents' scale, "very low" in the national one, same rank.
 * Nothing here touches the database, the clock or gRPC: callers pass the
 * facts in, including today's date. All functions are thread-safe. */
#ifndef RISK_RULES_H
#define RISK_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "hw_status.h"
#include "hw_time.h"

enum risk_rank {
    RISK_RANK_NONE = -1,   /* not known / not given */
    RISK_RANK_LOWEST = 0,  /* no apparent risk (v1) / very low (v2) */
    RISK_RANK_LOW = 1,
    RISK_RANK_MEDIUM = 2,
    RISK_RANK_HIGH = 3,
};

/* "low" / "medium" / "high" (the three-step weights of App. 1, 2, 7) ->
 * rank, or RISK_RANK_NONE. */
int risk_weight_rank(const char *weight);
const char *risk_weight_name(int rank);   /* "low".."high", "lowest" for 0 */

/* Whole years of age on `on`. A 29 February birthday falls on 1 March in
 * other years. -1 if on is before dob. */
int risk_age_years(hw_date dob, hw_date on);

/* ---- proposal (R-RISK-2, -3, -4, -10, -1) ---- */

enum risk_concern {
    RISK_CONCERN_UNANSWERED = 0,
    RISK_CONCERN_NO = 1,
    RISK_CONCERN_YES = 2,
    RISK_CONCERN_UNKNOWN = 3,   /* asked, nobody knows */
};

typedef struct risk_answer_fact {
    const char *question_code;  /* "ndmm.7" */
    int concern;                /* enum risk_concern */
    int raises_to;              /* rank a "yes" raises the proposal to (reference data) */
} risk_answer_fact;

#define RISK_MAX_RECORDS 8

/* Another record already held that shows CSE or trafficking (R-RISK-10),
 * e.g. a risk evaluation matrix ticking "Trafficking". */
typedef struct risk_held_record {
    const char *record_type;   /* "evaluation_matrix", "cse_matrix" */
    const char *record_id;
    const char *what;          /* "trafficking", "CSE" */
} risk_held_record;

typedef struct risk_facts {
    bool dob_known;
    hw_date dob;
    hw_date today;                   /* London date the proposal is made */
    bool missing;                    /* whereabouts unknown (not absent, R-DEF-2) */
    int profile_min_missing_rank;    /* R-RISK-1 profile rule: LLR 2, STAFFS 0 */
    const char *profile;             /* "STAFFS" / "LLR", for reasons */
    bool cse_flag;
    bool trafficking_flag;
    int cse_matrix_rank;             /* latest CSE matrix, RISK_RANK_NONE if none */
    const char *cse_matrix_id;
    int n_notices;                   /* served abduction notices */
    const char *notice_ids[RISK_MAX_RECORDS];
    int n_held;
    const risk_held_record *held;    /* each raises to medium, named */
    int n_answers;
    const risk_answer_fact *answers; /* concern questions only */
    int alternative_rank;            /* another view of the level (disagreement), or NONE */
} risk_facts;

typedef struct risk_reason {
    char rule_id[16];       /* "R-RISK-2" */
    int rank;               /* the floor or level this reason asks for */
    char record_type[32];   /* "cse_matrix", "abduction_notice", "child_flag", "answer", "" */
    char record_id[64];
    char text[224];         /* never a name or date of birth */
} risk_reason;

#define RISK_MAX_REASONS 24

typedef struct risk_proposal {
    int rank;
    int n_reasons;
    risk_reason reasons[RISK_MAX_REASONS];
} risk_proposal;

/* Propose a level from the facts. Every rule that applies adds a reason,
 * also when it does not change the rank, so the officer sees each record
 * that would have raised it (R-RISK-10). */
void risk_propose(const risk_facts *f, risk_proposal *out);

/* R-RISK-4: little knowledge = at least half of the concern questions
 * unanswered or answered "unknown" (none asked counts as little knowledge). */
bool risk_little_knowledge(const risk_answer_fact *answers, int n);

/* ---- decisions ---- */

/* R-RISK-3: a decided level below the proposal needs a rationale.
 * R-RISK-1: a profile that records a missing child only from a minimum
 * rank refuses a lower one. Adds field violations to st ("level",
 * "rationale"); returns 0 or -1. */
int risk_check_decision(int proposed_rank, int decided_rank, const char *rationale,
                        bool missing, int profile_min_missing_rank,
                        const char *profile, hw_status *st);

/* Stages of an assessment and who makes them (R-RISK-3, STAFFS 12.2-12.3). */
enum risk_stage { RISK_STAGE_INITIAL = 1, RISK_STAGE_SECONDARY = 2, RISK_STAGE_REVIEW = 3 };
bool risk_stage_allowed(int stage, bool call_handler, bool officer, bool supervisor);

/* ---- disputes (R-RISK-6) ---- */
/* Step 1 is the control room manager's, step 2 the LPT sergeant's. */
bool risk_dispute_may_resolve(int step, bool control_room_manager, bool lpt_sergeant);

/* ---- CSE Risk Factor Matrix (R-RISK-7) ---- */

/* The matrix level: the highest weight ticked, unless the assessor raises
 * it (raised_rank > that, with a rationale). Lowering is refused, as is an
 * empty form ("form will be returned if blank"). Returns the rank or -1
 * with field violations in st. */
int risk_cse_matrix_level(const int *weights, int n, int raised_rank,
                          const char *raise_rationale, hw_status *st);

enum risk_consent { RISK_CONSENT_UNKNOWN = 0, RISK_CONSENT_YES = 1, RISK_CONSENT_NO = 2 };

/* Routing of a matrix: medium/high are referred to the commissioned
 * provider and the CSE link; low is held unless consent is recorded. */
enum risk_cse_routing {
    RISK_CSE_REFERRED = 1,       /* medium/high: provider + CSE link */
    RISK_CSE_LOW_CONSENTED = 2,  /* low, may be shared */
    RISK_CSE_LOW_HELD = 3,       /* low, no consent: not shared */
};
int risk_cse_routing(int level_rank, int child_consent);
/* A low matrix may be shared only with consent; medium/high always. */
bool risk_cse_share_allowed(int level_rank, int child_consent);

/* ---- Child Abduction Warning Notice (R-CAWN-1) ---- */

enum risk_legal_basis {
    RISK_BASIS_NONE = 0,
    RISK_BASIS_S2_CAA_1984 = 1,   /* Child Abduction Act 1984 s.2: under 16 */
    RISK_BASIS_S49_CA_1989 = 2,   /* Children Act 1989 s.49: under 18 in LA care */
};
/* Chooses the basis from age and care status (in care: s.49, citing s.2
 * as well when under 16; at home under 16: s.2). requested (NONE = choose)
 * that contradicts them is refused (field "legal_basis"); a child with no
 * basis (16+ at home, 18+) is refused (field "child_id"). Returns 0 or -1. */
int risk_cawn_basis(int age, bool in_care, int requested, int *chosen,
                    bool *cites_s2, hw_status *st);
const char *risk_legal_basis_name(int basis);  /* "s2_child_abduction_act_1984" */

/* ---- CPS 10-point checklist (R-CPS-1) ---- */
/* answered[1..10]: true if question n has an answer. Questions 1, 2, 8, 9,
 * 10 are required at creation (violations "answers[n]"). */
int risk_cps_check_initial(const bool answered[11], hw_status *st);
/* True when questions 3-7 are all answered (the 3-day deadline is met). */
bool risk_cps_followup_complete(const bool answered[11]);
/* 3 days as an exact duration from creation (PROTOCOL "Time"). */
int64_t risk_cps_followup_due(int64_t created_ms);

/* ---- LAC risk assessment and action plan (R-RISK-8) ---- */
enum risk_placement { RISK_PLACEMENT_PLANNED = 1, RISK_PLACEMENT_EMERGENCY = 2 };
/* When the plan is due: emergency -> end of the 3rd working day after the
 * placement began; planned -> at the pre-placement meeting (its time). */
int64_t risk_lac_plan_due(int placement, int64_t placement_start_ms,
                          int64_t pre_placement_meeting_ms);
/* Review at least every 6 months: the same day 6 months on (clamped to the
 * month's end). */
hw_date risk_add_months(hw_date d, int months);

/* "YYYY-MM-DD" -> date; -1 if malformed or not a real day. */
int risk_parse_date(const char *s, hw_date *out);

#endif
