/* store.h -- the risk service's SQL, every statement parameterised.
 *
 * Reads return an hw_res the caller frees (hw_res_free), with the columns
 * listed beside each function; writes return 0 or -1 with st set. All run
 * on the caller's connection and inside its transaction, if any. */
#ifndef RISK_STORE_H
#define RISK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_pg.h"

/* ---- reference data ---- */

typedef struct risk_scale_view {
    int version;
    char code[4][32];     /* by rank */
    char label[4][64];
} risk_scale_view;

int store_current_scale(hw_db *db, risk_scale_view *out, hw_status *st);
/* Rank of code in the scale, or -1. */
int store_scale_rank(const risk_scale_view *s, const char *code);
/* Lowest rank the profile records for a missing child (0 if unknown profile). */
int store_profile_min_rank(hw_db *db, const char *profile, int *out, hw_status *st);

/* version, name, current, code, label, rank, definition (by version, rank) */
hw_res *store_list_scales(hw_db *db, hw_status *st);
/* set code, set name, source, q code, number, text, section, raises_to_rank (NULL -> "") */
hw_res *store_list_questions(hw_db *db, hw_status *st);
/* code, category, text, weight */
hw_res *store_list_cse_indicators(hw_db *db, hw_status *st);
/* code, section, text */
hw_res *store_list_lac_indicators(hw_db *db, hw_status *st);
/* code, kind, text */
hw_res *store_list_evaluation_items(hw_db *db, hw_status *st);
/* profile, lowest_missing_rank */
hw_res *store_list_profiles(hw_db *db, hw_status *st);
/* The concern questions of the NDMM and CMD sets: code, set_code, raises_to_rank. */
hw_res *store_grading_questions(hw_db *db, hw_status *st);
/* 1 if the code is a question of set, 0 if not, -1 on error. */
int store_question_in_set(hw_db *db, const char *code, const char *set, hw_status *st);
/* Weight rank of a CSE indicator, or -1 if unknown; -2 on error. */
int store_cse_indicator_rank(hw_db *db, const char *code, hw_status *st);
/* 1 / 0 / -1 */
int store_lac_indicator_exists(hw_db *db, const char *code, hw_status *st);
/* 1 / 0 / -1: an App. 7 item of that kind. */
int store_evaluation_item_is(hw_db *db, const char *code, const char *kind, hw_status *st);

/* ---- what is already held on a child (R-RISK-10) ---- */
/* Latest CSE matrix: id, level_rank, has_trafficking_indicator ('t'/'f'). */
hw_res *store_latest_cse_matrix(hw_db *db, const char *child_id, hw_status *st);
/* Served notices: id (oldest first). */
hw_res *store_notice_ids(hw_db *db, const char *child_id, hw_status *st);
/* Latest evaluation matrix: id, has cse vulnerability, has trafficking vulnerability. */
hw_res *store_latest_evaluation_flags(hw_db *db, const char *child_id, hw_status *st);

/* ---- assessments ---- */
typedef struct risk_assessment_row {
    const char *episode_id, *child_id;
    int stage, scale_version, level_rank, proposed_rank, alternative_rank; /* alt -1: none */
    const char *level_code, *profile, *rationale, *previous_level_code;
    const unsigned char *proposal; size_t proposal_len;
    bool very_high_risk;
    const char *dispute_id;   /* NULL if none */
    const char *by_id, *by_name, *by_role, *org;
} risk_assessment_row;

/* Inserts; out_id (37 bytes) receives the id, out_at (40 bytes) the time. */
int store_insert_assessment(hw_db *db, const risk_assessment_row *a, char *out_id,
                            char *out_at, hw_status *st);
int store_insert_answer(hw_db *db, const char *assessment_id, const char *question_code,
                        int concern, const char *text, hw_status *st);
/* Columns of an assessment row (ASSESSMENT_COLS): id, episode_id, child_id,
 * stage, scale_version, level_code, label, level_rank, proposal (hex bytea),
 * rationale, very_high_risk, dispute_id, previous_level_code, assessed_by_id,
 * assessed_by_name, assessed_by_role, organisation, assessed_at (RFC 3339). */
enum {
    AS_ID, AS_EPISODE, AS_CHILD, AS_STAGE, AS_SCALE, AS_CODE, AS_LABEL, AS_RANK, AS_PROPOSAL,
    AS_RATIONALE, AS_VERY_HIGH, AS_DISPUTE, AS_PREVIOUS, AS_BY_ID, AS_BY_NAME, AS_BY_ROLE,
    AS_ORG, AS_AT
};
hw_res *store_latest_assessment(hw_db *db, const char *episode_id, hw_status *st);
hw_res *store_assessment(hw_db *db, const char *id, hw_status *st);
/* By episode or by child (one of them NULL), oldest first. */
hw_res *store_assessments(hw_db *db, const char *episode_id, const char *child_id, hw_status *st);
/* question_code, concern, answer */
hw_res *store_answers(hw_db *db, const char *assessment_id, hw_status *st);

/* ---- disputes ---- */
int store_insert_dispute(hw_db *db, const char *assessment_id, const char *episode_id,
                         const char *child_id, int disputed_rank, int sought_rank,
                         const char *reason, const char *by_id, const char *by_role,
                         const char *org, char *out_id, hw_status *st);
/* DISPUTE_COLS: id, assessment_id, episode_id, child_id, disputed_rank,
 * sought_rank, reason, raised_by_id, raised_by_role, raised_at,
 * awaiting_step, final_rank ("" if none), resulting_assessment_id */
enum {
    DI_ID, DI_ASSESSMENT, DI_EPISODE, DI_CHILD, DI_DISPUTED, DI_SOUGHT, DI_REASON, DI_BY_ID,
    DI_BY_ROLE, DI_AT, DI_STEP, DI_FINAL, DI_RESULT
};
hw_res *store_dispute(hw_db *db, const char *id, bool for_update, hw_status *st);
hw_res *store_disputes(hw_db *db, const char *episode_id, const char *child_id, hw_status *st);
int store_insert_dispute_step(hw_db *db, const char *dispute_id, int step, int outcome,
                              int level_rank, const char *rationale, const char *by_id,
                              const char *by_name, const char *by_role, hw_status *st);
/* awaiting_step, final_rank (-1: NULL), resulting assessment (NULL: none) */
int store_update_dispute(hw_db *db, const char *id, int awaiting_step, int final_rank,
                         const char *resulting_assessment_id, hw_status *st);
/* step, outcome, level_rank, rationale, decided_by_id, name, role, decided_at */
hw_res *store_dispute_steps(hw_db *db, const char *dispute_id, hw_status *st);

/* ---- CSE matrices and prompts ---- */
typedef struct risk_cse_row {
    const char *child_id, *episode_id, *raise_rationale, *category, *review_date, *comments;
    const char *prompt_id;   /* NULL if none */
    int level_rank, ticked_rank, child_consent, parents_aware, routing;  /* ticked -1: none */
    bool raised, child_present;
    const char *by_id, *by_role, *org;
} risk_cse_row;
int store_insert_cse_matrix(hw_db *db, const risk_cse_row *m, char *out_id, hw_status *st);
int store_insert_cse_indicator(hw_db *db, const char *matrix_id, const char *code,
                               hw_status *st);
int store_insert_cse_share(hw_db *db, const char *matrix_id, const char *recipient,
                           const char *by_id, hw_status *st);
/* CSE_COLS: id, child_id, episode_id, level_rank, ticked_rank (""), raised,
 * raise_rationale, category_of_offending, review_date, child_consent,
 * parents_aware, comments, child_present, routing, prompt_id, recorded_by_id,
 * recorded_by_role, recorded_at */
enum {
    CM_ID, CM_CHILD, CM_EPISODE, CM_LEVEL, CM_TICKED, CM_RAISED, CM_RAISE_WHY, CM_CATEGORY,
    CM_REVIEW, CM_CONSENT, CM_PARENTS, CM_COMMENTS, CM_PRESENT, CM_ROUTING, CM_PROMPT,
    CM_BY_ID, CM_BY_ROLE, CM_AT
};
hw_res *store_cse_matrix(hw_db *db, const char *id, hw_status *st);
hw_res *store_cse_matrices(hw_db *db, const char *child_id, hw_status *st);
hw_res *store_cse_matrix_indicators(hw_db *db, const char *matrix_id, hw_status *st);
hw_res *store_cse_matrix_shares(hw_db *db, const char *matrix_id, hw_status *st);

/* Returns 1 if recorded, 0 if the event was seen before. */
int store_insert_cse_prompt(hw_db *db, const char *event_id, const char *child_id,
                            const char *episode_id, const char *interview_id, hw_status *st);
/* id, child_id, episode_id, interview_id, created_at, matrix_id ("" if open) */
hw_res *store_cse_prompts(hw_db *db, const char *child_id, bool include_closed, hw_status *st);
/* child_id, matrix_id ("" if open) of one prompt */
hw_res *store_cse_prompt(hw_db *db, const char *id, hw_status *st);
int store_close_cse_prompt(hw_db *db, const char *prompt_id, const char *matrix_id,
                           hw_status *st);

/* ---- LAC plans ---- */
int store_insert_lac_plan(hw_db *db, const char *child_id, int placement,
                          const char *placement_started_at, const char *meeting_date,
                          const char *review_due, const char *concluding,
                          const char *action_plan, const char *copies, const char *by_id,
                          const char *by_role, const char *org, char *out_id, char *out_at,
                          hw_status *st);
int store_insert_lac_indicator(hw_db *db, const char *plan_id, const char *code,
                               const char *information, hw_status *st);
int store_insert_lac_place(hw_db *db, const char *plan_id, int position, const char *address,
                           const char *known_risk, const char *action, hw_status *st);

/* id, child_id, placement, placement_started_at (""), meeting_date,
 * review_due, concluding_assessment, action_plan, copies_given_to,
 * recorded_by_id, recorded_at -- newest first */
hw_res *store_lac_plans(hw_db *db, const char *child_id, hw_status *st);
/* indicator_code, information */
hw_res *store_lac_plan_indicators(hw_db *db, const char *plan_id, hw_status *st);
/* address, known_risk, action */
hw_res *store_lac_plan_places(hw_db *db, const char *plan_id, hw_status *st);

/* ---- evaluation matrices ---- */
/* id, child_id, episode_id, vulnerability_comments, engages, identified_level,
 * actions, recorded_by_id, recorded_at -- newest first */
hw_res *store_evaluation_matrices(hw_db *db, const char *child_id, hw_status *st);
/* item_code, kind, impact (""), likelihood (""), details */
hw_res *store_evaluation_matrix_items(hw_db *db, const char *matrix_id, hw_status *st);
int store_insert_evaluation(hw_db *db, const char *child_id, const char *episode_id,
                            const char *comments, const char *engages, const char *level,
                            const char *actions, const char *by_id, const char *by_role,
                            const char *org, char *out_id, char *out_at, hw_status *st);
int store_insert_evaluation_item(hw_db *db, const char *matrix_id, const char *code,
                                 const char *impact, const char *likelihood,
                                 const char *details, hw_status *st);

/* ---- abduction notices ---- */
typedef struct risk_notice_row {
    const char *child_id, *episode_id, *responsible_authority, *recipient_name,
        *recipient_dob /* NULL */, *recipient_address, *identification, *collar, *officer,
        *station, *served_at, *refusal_reason, *by_id, *org;
    int legal_basis, child_age;
    bool cites_s2, in_care, photograph_shown, signed_by_recipient;
} risk_notice_row;
int store_insert_notice(hw_db *db, const risk_notice_row *n, char *out_id, char *out_at,
                        hw_status *st);
/* id, child_id, episode_id, legal_basis, cites_section_2, child_age,
 * child_in_care, responsible_authority, recipient_name, recipient_date_of_birth,
 * recipient_address, photograph_shown, identification, collar, officer,
 * station, served_at, recipient_signed, refusal_reason, recorded_by_id,
 * recorded_at */
hw_res *store_notices(hw_db *db, const char *child_id, hw_status *st);

/* ---- intelligence ---- */
int store_insert_intelligence(hw_db *db, const char *child_id, int source, const char *summary,
                              const char *by_id, const char *by_role, const char *org,
                              char *out_id, char *out_at, hw_status *st);
int store_insert_intelligence_item(hw_db *db, const char *report_id, const char *ref, int kind,
                                   const char *description, const char *identifier,
                                   const char *occurred_at, int position, hw_status *st);
int store_insert_intelligence_link(hw_db *db, const char *report_id, const char *from_ref,
                                   const char *to_ref, const char *description, int position,
                                   hw_status *st);
/* id, child_id, source, summary, recorded_by_id, recorded_by_role, recorded_at */
hw_res *store_intelligence_reports(hw_db *db, const char *child_id, hw_status *st);
/* ref, kind, description, identifier, occurred_at */
hw_res *store_intelligence_items(hw_db *db, const char *report_id, hw_status *st);
/* from_ref, to_ref, description */
hw_res *store_intelligence_links(hw_db *db, const char *report_id, hw_status *st);

/* ---- CPS checklists ---- */
int store_insert_cps(hw_db *db, const char *child_id, const char *episode_id,
                     const char *incident_ref, const char *followup_due_at, const char *by_id,
                     const char *org, char *out_id, hw_status *st);
int store_insert_cps_answer(hw_db *db, const char *checklist_id, int number, const char *answer,
                            const char *by_id, hw_status *st);
int store_complete_cps(hw_db *db, const char *checklist_id, hw_status *st);
/* id, child_id, episode_id, incident_ref, followup_due_at, completed_at
 * ("" if not), created_by_id, created_at */
hw_res *store_cps(hw_db *db, const char *id, bool for_update, hw_status *st);
/* number, answer, answered_at */
hw_res *store_cps_answers(hw_db *db, const char *checklist_id, hw_status *st);

/* ---- bytes <-> bytea text ---- */
/* "\x..." hex text of a bytea parameter; malloc'd. */
char *store_bytea_param(const unsigned char *buf, size_t len);
/* Decode a "\x..." bytea value; malloc'd, *len set; NULL if malformed. */
unsigned char *store_bytea_decode(const char *text, size_t *len);

#endif
