/* store.c -- the risk service's SQL (see store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Instants leave the database as RFC 3339 UTC with milliseconds. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static hw_res *one(hw_db *db, const char *sql, const char *a, hw_status *st)
{
    const char *p[1] = {a};
    return hw_db_exec(db, sql, 1, p, st);
}

/* Copy a single text column of the first row into out (outlen bytes). */
static int first_text(hw_res *r, int col, char *out, size_t outlen)
{
    if (!r || hw_res_rows(r) < 1)
        return -1;
    snprintf(out, outlen, "%s", hw_res_get(r, 0, col));
    return 0;
}

static const char *itoa_buf(char *buf, size_t n, long v)
{
    /* The buffers are sized for small ranks and codes; a number that does
     * not fit is a programming error, never a truncated value sent to SQL.
     * (Testing the result also keeps -O2's -Wformat-truncation quiet.) */
    if (snprintf(buf, n, "%ld", v) >= (int)n)
        abort();
    return buf;
}

/* ---------------------------------------------------------------- reference */

int store_current_scale(hw_db *db, risk_scale_view *out, hw_status *st)
{
    memset(out, 0, sizeof *out);
    hw_res *r = hw_db_exec(db,
                           "SELECT s.version, l.rank, l.code, l.label FROM risk_scales s "
                           "JOIN risk_levels l ON l.scale_version = s.version "
                           "WHERE s.current ORDER BY l.rank",
                           0, NULL, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) != 4) {
        hw_res_free(r);
        return hw_status_set(st, HW_INTERNAL, "the current risk scale is not complete");
    }
    for (int i = 0; i < 4; i++) {
        int rank = (int)hw_res_int(r, i, 1);
        if (rank < 0 || rank > 3)
            continue;
        out->version = (int)hw_res_int(r, i, 0);
        snprintf(out->code[rank], sizeof out->code[rank], "%s", hw_res_get(r, i, 2));
        snprintf(out->label[rank], sizeof out->label[rank], "%s", hw_res_get(r, i, 3));
    }
    hw_res_free(r);
    return 0;
}

int store_scale_rank(const risk_scale_view *s, const char *code)
{
    if (!code || !*code)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(s->code[i], code) == 0)
            return i;
    return -1;
}

int store_profile_min_rank(hw_db *db, const char *profile, int *out, hw_status *st)
{
    *out = 0;
    hw_res *r = one(db, "SELECT lowest_missing_rank FROM profile_rules WHERE profile = $1",
                    profile ? profile : "", st);
    if (!r)
        return -1;
    if (hw_res_rows(r) > 0)
        *out = (int)hw_res_int(r, 0, 0);
    hw_res_free(r);
    return 0;
}

hw_res *store_list_scales(hw_db *db, hw_status *st)
{
    return hw_db_exec(db,
                      "SELECT s.version, s.name, s.current, l.code, l.label, l.rank, l.definition "
                      "FROM risk_scales s JOIN risk_levels l ON l.scale_version = s.version "
                      "ORDER BY s.version, l.rank",
                      0, NULL, st);
}

hw_res *store_list_questions(hw_db *db, hw_status *st)
{
    return hw_db_exec(db,
                      "SELECT s.code, s.name, s.source, q.code, q.number, q.text, q.section, "
                      "COALESCE(q.raises_to_rank::text, '') FROM question_sets s "
                      "JOIN questions q ON q.set_code = s.code ORDER BY s.code, q.number",
                      0, NULL, st);
}

hw_res *store_list_cse_indicators(hw_db *db, hw_status *st)
{
    return hw_db_exec(db, "SELECT code, category, text, weight FROM cse_indicators ORDER BY position",
                      0, NULL, st);
}

hw_res *store_list_lac_indicators(hw_db *db, hw_status *st)
{
    return hw_db_exec(db, "SELECT code, section, text FROM lac_indicators ORDER BY position", 0,
                      NULL, st);
}

hw_res *store_list_evaluation_items(hw_db *db, hw_status *st)
{
    return hw_db_exec(db, "SELECT code, kind, text FROM evaluation_items ORDER BY position", 0,
                      NULL, st);
}

hw_res *store_list_profiles(hw_db *db, hw_status *st)
{
    return hw_db_exec(db, "SELECT profile, lowest_missing_rank FROM profile_rules ORDER BY profile",
                      0, NULL, st);
}

hw_res *store_grading_questions(hw_db *db, hw_status *st)
{
    return hw_db_exec(db,
                      "SELECT code, set_code, raises_to_rank FROM questions "
                      "WHERE set_code IN ('ndmm', 'cmd') AND raises_to_rank IS NOT NULL "
                      "ORDER BY set_code, number",
                      0, NULL, st);
}

static int exists(hw_db *db, const char *sql, int n, const char *const *p, hw_status *st)
{
    hw_res *r = hw_db_exec(db, sql, n, p, st);
    if (!r)
        return -1;
    int found = hw_res_rows(r) > 0;
    hw_res_free(r);
    return found;
}

int store_question_in_set(hw_db *db, const char *code, const char *set, hw_status *st)
{
    const char *p[2] = {code, set};
    return exists(db, "SELECT 1 FROM questions WHERE code = $1 AND set_code = $2", 2, p, st);
}

int store_cse_indicator_rank(hw_db *db, const char *code, hw_status *st)
{
    hw_res *r = one(db,
                    "SELECT CASE weight WHEN 'low' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END "
                    "FROM cse_indicators WHERE code = $1",
                    code, st);
    if (!r)
        return -2;
    int rank = hw_res_rows(r) > 0 ? (int)hw_res_int(r, 0, 0) : -1;
    hw_res_free(r);
    return rank;
}

int store_lac_indicator_exists(hw_db *db, const char *code, hw_status *st)
{
    const char *p[1] = {code};
    return exists(db, "SELECT 1 FROM lac_indicators WHERE code = $1", 1, p, st);
}

int store_evaluation_item_is(hw_db *db, const char *code, const char *kind, hw_status *st)
{
    const char *p[2] = {code, kind};
    return exists(db, "SELECT 1 FROM evaluation_items WHERE code = $1 AND kind = $2", 2, p, st);
}

/* ---------------------------------------------------------------- held records */

hw_res *store_latest_cse_matrix(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT m.id, m.level_rank, EXISTS (SELECT 1 FROM cse_matrix_indicators i "
               "  JOIN cse_indicators c ON c.code = i.indicator_code "
               "  WHERE i.matrix_id = m.id AND c.category = 'Trafficking') "
               "FROM cse_matrices m WHERE m.child_id = $1 "
               "ORDER BY m.recorded_at DESC, m.id LIMIT 1",
               child_id, st);
}

hw_res *store_notice_ids(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db, "SELECT id FROM abduction_notices WHERE child_id = $1 ORDER BY served_at, id",
               child_id, st);
}

hw_res *store_latest_evaluation_flags(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT e.id, "
               "EXISTS (SELECT 1 FROM evaluation_matrix_items i WHERE i.matrix_id = e.id "
               "        AND i.item_code IN ('vuln.cse', 'ind.victim_of_cse')), "
               "EXISTS (SELECT 1 FROM evaluation_matrix_items i WHERE i.matrix_id = e.id "
               "        AND i.item_code = 'vuln.trafficking') "
               "FROM evaluation_matrices e WHERE e.child_id = $1 "
               "ORDER BY e.recorded_at DESC, e.id LIMIT 1",
               child_id, st);
}

/* ---------------------------------------------------------------- assessments */

int store_insert_assessment(hw_db *db, const risk_assessment_row *a, char *out_id, char *out_at,
                            hw_status *st)
{
    char stage[16], scale[16], rank[16], prank[16], arank[16];
    char *proposal = store_bytea_param(a->proposal, a->proposal_len);
    if (!proposal)
        return hw_status_set(st, HW_INTERNAL, "out of memory");
    const char *p[19] = {
        a->episode_id, a->child_id, itoa_buf(stage, sizeof stage, a->stage),
        itoa_buf(scale, sizeof scale, a->scale_version), a->level_code,
        itoa_buf(rank, sizeof rank, a->level_rank), itoa_buf(prank, sizeof prank, a->proposed_rank),
        proposal, a->profile ? a->profile : "", a->rationale ? a->rationale : "",
        a->alternative_rank >= 0 ? itoa_buf(arank, sizeof arank, a->alternative_rank) : NULL,
        a->very_high_risk ? "true" : "false", a->dispute_id,
        a->previous_level_code ? a->previous_level_code : "", a->by_id, a->by_name ? a->by_name : "",
        a->by_role, a->org, NULL};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO assessments (episode_id, child_id, stage, scale_version, level_code, "
        "level_rank, proposed_rank, proposal, profile, rationale, alternative_rank, "
        "very_high_risk, dispute_id, previous_level_code, assessed_by_id, assessed_by_name, "
        "assessed_by_role, organisation) VALUES ($1, $2, $3::int, $4::int, $5, $6::int, $7::int, "
        "$8::bytea, $9, $10, $11::int, $12::boolean, $13::uuid, $14, $15, $16, $17, $18) "
        "RETURNING id, " TS("assessed_at"),
        18, p, st);
    free(proposal);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    if (out_at)
        first_text(r, 1, out_at, 40);
    hw_res_free(r);
    return 0;
}

int store_insert_answer(hw_db *db, const char *assessment_id, const char *question_code,
                        int concern, const char *text, hw_status *st)
{
    char c[8];
    const char *p[4] = {assessment_id, question_code, itoa_buf(c, sizeof c, concern),
                        text ? text : ""};
    return hw_db_run(db,
                     "INSERT INTO assessment_answers (assessment_id, question_code, concern, answer) "
                     "VALUES ($1::uuid, $2, $3::int, $4)",
                     4, p, st);
}

#define ASSESSMENT_COLS                                                                         \
    "a.id, a.episode_id, a.child_id, a.stage, a.scale_version, a.level_code, l.label, "         \
    "a.level_rank, a.proposal, a.rationale, a.very_high_risk, COALESCE(a.dispute_id::text, ''), " \
    "a.previous_level_code, a.assessed_by_id, a.assessed_by_name, a.assessed_by_role, "         \
    "a.organisation, " TS("a.assessed_at")
#define ASSESSMENT_FROM                                                                         \
    " FROM assessments a JOIN risk_levels l ON l.scale_version = a.scale_version "              \
    "AND l.code = a.level_code "

hw_res *store_latest_assessment(hw_db *db, const char *episode_id, hw_status *st)
{
    return one(db,
               "SELECT " ASSESSMENT_COLS ASSESSMENT_FROM
               "WHERE a.episode_id = $1 ORDER BY a.assessed_at DESC, a.id DESC LIMIT 1",
               episode_id, st);
}

hw_res *store_assessment(hw_db *db, const char *id, hw_status *st)
{
    return one(db, "SELECT " ASSESSMENT_COLS ASSESSMENT_FROM "WHERE a.id = $1::uuid", id, st);
}

hw_res *store_assessments(hw_db *db, const char *episode_id, const char *child_id, hw_status *st)
{
    if (episode_id)
        return one(db,
                   "SELECT " ASSESSMENT_COLS ASSESSMENT_FROM
                   "WHERE a.episode_id = $1 ORDER BY a.assessed_at, a.id",
                   episode_id, st);
    return one(db,
               "SELECT " ASSESSMENT_COLS ASSESSMENT_FROM
               "WHERE a.child_id = $1 ORDER BY a.assessed_at, a.id",
               child_id, st);
}

hw_res *store_answers(hw_db *db, const char *assessment_id, hw_status *st)
{
    return one(db,
               "SELECT a.question_code, a.concern, a.answer FROM assessment_answers a "
               "JOIN questions q ON q.code = a.question_code "
               "WHERE a.assessment_id = $1::uuid ORDER BY q.set_code, q.number",
               assessment_id, st);
}

/* ---------------------------------------------------------------- disputes */

int store_insert_dispute(hw_db *db, const char *assessment_id, const char *episode_id,
                         const char *child_id, int disputed_rank, int sought_rank,
                         const char *reason, const char *by_id, const char *by_role,
                         const char *org, char *out_id, hw_status *st)
{
    char d[8], s[8];
    const char *p[9] = {assessment_id, episode_id, child_id, itoa_buf(d, sizeof d, disputed_rank),
                        itoa_buf(s, sizeof s, sought_rank), reason, by_id, by_role, org};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO disputes (assessment_id, episode_id, child_id, disputed_rank, sought_rank, "
        "reason, raised_by_id, raised_by_role, organisation) "
        "VALUES ($1::uuid, $2, $3, $4::int, $5::int, $6, $7, $8, $9) RETURNING id",
        9, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    hw_res_free(r);
    return 0;
}

#define DISPUTE_COLS                                                                            \
    "id, assessment_id, episode_id, child_id, disputed_rank, sought_rank, reason, "             \
    "raised_by_id, raised_by_role, " TS("raised_at") ", awaiting_step, "                        \
    "COALESCE(final_rank::text, ''), COALESCE(resulting_assessment_id::text, '')"

hw_res *store_dispute(hw_db *db, const char *id, bool for_update, hw_status *st)
{
    if (for_update)
        return one(db, "SELECT " DISPUTE_COLS " FROM disputes WHERE id = $1::uuid FOR UPDATE", id,
                   st);
    return one(db, "SELECT " DISPUTE_COLS " FROM disputes WHERE id = $1::uuid", id, st);
}

hw_res *store_disputes(hw_db *db, const char *episode_id, const char *child_id, hw_status *st)
{
    if (episode_id)
        return one(db,
                   "SELECT " DISPUTE_COLS " FROM disputes WHERE episode_id = $1 "
                   "ORDER BY raised_at, id",
                   episode_id, st);
    return one(db,
               "SELECT " DISPUTE_COLS " FROM disputes WHERE child_id = $1 ORDER BY raised_at, id",
               child_id, st);
}

int store_insert_dispute_step(hw_db *db, const char *dispute_id, int step, int outcome,
                              int level_rank, const char *rationale, const char *by_id,
                              const char *by_name, const char *by_role, hw_status *st)
{
    char s[8], o[8], l[8];
    const char *p[8] = {dispute_id, itoa_buf(s, sizeof s, step), itoa_buf(o, sizeof o, outcome),
                        itoa_buf(l, sizeof l, level_rank), rationale, by_id,
                        by_name ? by_name : "", by_role};
    return hw_db_run(db,
                     "INSERT INTO dispute_steps (dispute_id, step, outcome, level_rank, rationale, "
                     "decided_by_id, decided_by_name, decided_by_role) "
                     "VALUES ($1::uuid, $2::int, $3::int, $4::int, $5, $6, $7, $8)",
                     8, p, st);
}

int store_update_dispute(hw_db *db, const char *id, int awaiting_step, int final_rank,
                         const char *resulting_assessment_id, hw_status *st)
{
    char a[8], f[8];
    const char *p[4] = {id, itoa_buf(a, sizeof a, awaiting_step),
                        final_rank >= 0 ? itoa_buf(f, sizeof f, final_rank) : NULL,
                        resulting_assessment_id};
    return hw_db_run(db,
                     "UPDATE disputes SET awaiting_step = $2::int, final_rank = $3::int, "
                     "resulting_assessment_id = $4::uuid WHERE id = $1::uuid",
                     4, p, st);
}

hw_res *store_dispute_steps(hw_db *db, const char *dispute_id, hw_status *st)
{
    return one(db,
               "SELECT step, outcome, level_rank, rationale, decided_by_id, decided_by_name, "
               "decided_by_role, " TS("decided_at") " FROM dispute_steps "
               "WHERE dispute_id = $1::uuid ORDER BY step",
               dispute_id, st);
}

/* ---------------------------------------------------------------- CSE */

int store_insert_cse_matrix(hw_db *db, const risk_cse_row *m, char *out_id, hw_status *st)
{
    char lr[8], tr[8], cc[8], pa[8], ro[8];
    const char *p[18] = {m->child_id, m->episode_id ? m->episode_id : "",
                         itoa_buf(lr, sizeof lr, m->level_rank),
                         m->ticked_rank >= 0 ? itoa_buf(tr, sizeof tr, m->ticked_rank) : NULL,
                         m->raised ? "true" : "false", m->raise_rationale ? m->raise_rationale : "",
                         m->category ? m->category : "", m->review_date,
                         itoa_buf(cc, sizeof cc, m->child_consent),
                         itoa_buf(pa, sizeof pa, m->parents_aware),
                         m->comments ? m->comments : "", m->child_present ? "true" : "false",
                         itoa_buf(ro, sizeof ro, m->routing), m->prompt_id, m->by_id, m->by_role,
                         m->org, NULL};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO cse_matrices (child_id, episode_id, level_rank, ticked_rank, raised, "
        "raise_rationale, category_of_offending, review_date, child_consent, parents_aware, "
        "comments, child_present, routing, prompt_id, recorded_by_id, recorded_by_role, "
        "organisation) VALUES ($1, $2, $3::int, $4::int, $5::boolean, $6, $7, $8::date, $9::int, "
        "$10::int, $11, $12::boolean, $13::int, $14::uuid, $15, $16, $17) RETURNING id",
        17, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    hw_res_free(r);
    return 0;
}

int store_insert_cse_indicator(hw_db *db, const char *matrix_id, const char *code, hw_status *st)
{
    const char *p[2] = {matrix_id, code};
    return hw_db_run(db,
                     "INSERT INTO cse_matrix_indicators (matrix_id, indicator_code) "
                     "VALUES ($1::uuid, $2)",
                     2, p, st);
}

int store_insert_cse_share(hw_db *db, const char *matrix_id, const char *recipient,
                           const char *by_id, hw_status *st)
{
    const char *p[3] = {matrix_id, recipient, by_id};
    return hw_db_run(db,
                     "INSERT INTO cse_matrix_shares (matrix_id, recipient, shared_by_id) "
                     "VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING",
                     3, p, st);
}

#define CSE_COLS                                                                                \
    "id, child_id, episode_id, level_rank, COALESCE(ticked_rank::text, ''), raised, "           \
    "raise_rationale, category_of_offending, review_date::text, child_consent, parents_aware, "  \
    "comments, child_present, routing, COALESCE(prompt_id::text, ''), recorded_by_id, "          \
    "recorded_by_role, " TS("recorded_at")

hw_res *store_cse_matrix(hw_db *db, const char *id, hw_status *st)
{
    return one(db, "SELECT " CSE_COLS " FROM cse_matrices WHERE id = $1::uuid", id, st);
}

hw_res *store_cse_matrices(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT " CSE_COLS " FROM cse_matrices WHERE child_id = $1 "
               "ORDER BY recorded_at DESC, id",
               child_id, st);
}

hw_res *store_cse_matrix_indicators(hw_db *db, const char *matrix_id, hw_status *st)
{
    return one(db,
               "SELECT i.indicator_code FROM cse_matrix_indicators i "
               "JOIN cse_indicators c ON c.code = i.indicator_code "
               "WHERE i.matrix_id = $1::uuid ORDER BY c.position",
               matrix_id, st);
}

hw_res *store_cse_matrix_shares(hw_db *db, const char *matrix_id, hw_status *st)
{
    return one(db,
               "SELECT recipient FROM cse_matrix_shares WHERE matrix_id = $1::uuid "
               "ORDER BY shared_at, recipient",
               matrix_id, st);
}

int store_insert_cse_prompt(hw_db *db, const char *event_id, const char *child_id,
                            const char *episode_id, const char *interview_id, hw_status *st)
{
    const char *p[4] = {event_id, child_id, episode_id ? episode_id : "",
                        interview_id ? interview_id : ""};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO cse_prompts (event_id, child_id, episode_id, interview_id) "
                           "VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
                           4, p, st);
    if (!r)
        return -1;
    int added = hw_res_affected(r) > 0;
    hw_res_free(r);
    return added;
}

hw_res *store_cse_prompts(hw_db *db, const char *child_id, bool include_closed, hw_status *st)
{
    const char *p[2] = {child_id, include_closed ? "true" : "false"};
    return hw_db_exec(db,
                      "SELECT id, child_id, episode_id, interview_id, " TS("created_at") ", "
                      "COALESCE(matrix_id::text, '') FROM cse_prompts "
                      "WHERE child_id = $1 AND ($2::boolean OR matrix_id IS NULL) "
                      "ORDER BY created_at, id",
                      2, p, st);
}

hw_res *store_cse_prompt(hw_db *db, const char *id, hw_status *st)
{
    return one(db,
               "SELECT child_id, COALESCE(matrix_id::text, '') FROM cse_prompts "
               "WHERE id = $1::uuid FOR UPDATE",
               id, st);
}

int store_close_cse_prompt(hw_db *db, const char *prompt_id, const char *matrix_id,
                           hw_status *st)
{
    const char *p[2] = {prompt_id, matrix_id};
    return hw_db_run(db, "UPDATE cse_prompts SET matrix_id = $2::uuid WHERE id = $1::uuid", 2, p,
                     st);
}

/* ---------------------------------------------------------------- LAC plans */

int store_insert_lac_plan(hw_db *db, const char *child_id, int placement,
                          const char *placement_started_at, const char *meeting_date,
                          const char *review_due, const char *concluding,
                          const char *action_plan, const char *copies, const char *by_id,
                          const char *by_role, const char *org, char *out_id, char *out_at,
                          hw_status *st)
{
    char pl[8];
    const char *p[11] = {child_id, itoa_buf(pl, sizeof pl, placement), placement_started_at,
                         meeting_date, review_due, concluding, action_plan, copies ? copies : "",
                         by_id, by_role, org};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO lac_plans (child_id, placement, placement_started_at, meeting_date, "
        "review_due, concluding_assessment, action_plan, copies_given_to, recorded_by_id, "
        "recorded_by_role, organisation) VALUES ($1, $2::int, $3::timestamptz, $4::date, "
        "$5::date, $6, $7, $8, $9, $10, $11) RETURNING id, " TS("recorded_at"),
        11, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    first_text(r, 1, out_at, 40);
    hw_res_free(r);
    return 0;
}

int store_insert_lac_indicator(hw_db *db, const char *plan_id, const char *code,
                               const char *information, hw_status *st)
{
    const char *p[3] = {plan_id, code, information ? information : ""};
    return hw_db_run(db,
                     "INSERT INTO lac_plan_indicators (plan_id, indicator_code, information) "
                     "VALUES ($1::uuid, $2, $3)",
                     3, p, st);
}

int store_insert_lac_place(hw_db *db, const char *plan_id, int position, const char *address,
                           const char *known_risk, const char *action, hw_status *st)
{
    char pos[8];
    const char *p[5] = {plan_id, itoa_buf(pos, sizeof pos, position), address, known_risk, action};
    return hw_db_run(db,
                     "INSERT INTO lac_plan_places (plan_id, position, address, known_risk, action) "
                     "VALUES ($1::uuid, $2::int, $3, $4, $5)",
                     5, p, st);
}

hw_res *store_lac_plans(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT id, child_id, placement, COALESCE(" TS("placement_started_at") ", ''), "
               "meeting_date::text, review_due::text, concluding_assessment, action_plan, "
               "copies_given_to, recorded_by_id, " TS("recorded_at") " FROM lac_plans "
               "WHERE child_id = $1 ORDER BY recorded_at DESC, id",
               child_id, st);
}

hw_res *store_lac_plan_indicators(hw_db *db, const char *plan_id, hw_status *st)
{
    return one(db,
               "SELECT p.indicator_code, p.information FROM lac_plan_indicators p "
               "JOIN lac_indicators i ON i.code = p.indicator_code "
               "WHERE p.plan_id = $1::uuid ORDER BY i.position",
               plan_id, st);
}

hw_res *store_lac_plan_places(hw_db *db, const char *plan_id, hw_status *st)
{
    return one(db,
               "SELECT address, known_risk, action FROM lac_plan_places "
               "WHERE plan_id = $1::uuid ORDER BY position",
               plan_id, st);
}

/* ---------------------------------------------------------------- evaluation */

hw_res *store_evaluation_matrices(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT id, child_id, episode_id, vulnerability_comments, "
               "engages_in_return_interviews, identified_level, actions, recorded_by_id, "
               TS("recorded_at") " FROM evaluation_matrices WHERE child_id = $1 "
               "ORDER BY recorded_at DESC, id",
               child_id, st);
}

hw_res *store_evaluation_matrix_items(hw_db *db, const char *matrix_id, hw_status *st)
{
    return one(db,
               "SELECT m.item_code, i.kind, COALESCE(m.impact, ''), COALESCE(m.likelihood, ''), "
               "m.details FROM evaluation_matrix_items m "
               "JOIN evaluation_items i ON i.code = m.item_code "
               "WHERE m.matrix_id = $1::uuid ORDER BY i.position",
               matrix_id, st);
}

int store_insert_evaluation(hw_db *db, const char *child_id, const char *episode_id,
                            const char *comments, const char *engages, const char *level,
                            const char *actions, const char *by_id, const char *by_role,
                            const char *org, char *out_id, char *out_at, hw_status *st)
{
    const char *p[10] = {child_id, episode_id ? episode_id : "", comments ? comments : "",
                         engages ? engages : "", level, actions ? actions : "", by_id, by_role,
                         org, NULL};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO evaluation_matrices (child_id, episode_id, vulnerability_comments, "
        "engages_in_return_interviews, identified_level, actions, recorded_by_id, "
        "recorded_by_role, organisation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "RETURNING id, " TS("recorded_at"),
        9, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    first_text(r, 1, out_at, 40);
    hw_res_free(r);
    return 0;
}

int store_insert_evaluation_item(hw_db *db, const char *matrix_id, const char *code,
                                 const char *impact, const char *likelihood,
                                 const char *details, hw_status *st)
{
    const char *p[5] = {matrix_id, code, impact, likelihood, details ? details : ""};
    return hw_db_run(db,
                     "INSERT INTO evaluation_matrix_items (matrix_id, item_code, impact, "
                     "likelihood, details) VALUES ($1::uuid, $2, $3, $4, $5)",
                     5, p, st);
}

/* ---------------------------------------------------------------- notices */

int store_insert_notice(hw_db *db, const risk_notice_row *n, char *out_id, char *out_at,
                        hw_status *st)
{
    char lb[8], age[8];
    const char *p[20] = {n->child_id, n->episode_id ? n->episode_id : "",
                         itoa_buf(lb, sizeof lb, n->legal_basis), n->cites_s2 ? "true" : "false",
                         itoa_buf(age, sizeof age, n->child_age), n->in_care ? "true" : "false",
                         n->responsible_authority ? n->responsible_authority : "",
                         n->recipient_name, n->recipient_dob,
                         n->recipient_address ? n->recipient_address : "",
                         n->photograph_shown ? "true" : "false",
                         n->identification ? n->identification : "", n->collar, n->officer,
                         n->station ? n->station : "", n->served_at,
                         n->signed_by_recipient ? "true" : "false",
                         n->refusal_reason ? n->refusal_reason : "", n->by_id, n->org};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO abduction_notices (child_id, episode_id, legal_basis, cites_section_2, "
        "child_age, child_in_care, responsible_authority, recipient_name, "
        "recipient_date_of_birth, recipient_address, photograph_shown, "
        "identification_without_photograph, officer_collar_number, officer_name, station, "
        "served_at, recipient_signed, refusal_reason, recorded_by_id, organisation) VALUES "
        "($1, $2, $3::int, $4::boolean, $5::int, $6::boolean, $7, $8, $9::date, $10, "
        "$11::boolean, $12, $13, $14, $15, $16::timestamptz, $17::boolean, $18, $19, $20) "
        "RETURNING id, " TS("recorded_at"),
        20, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    first_text(r, 1, out_at, 40);
    hw_res_free(r);
    return 0;
}

hw_res *store_notices(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT id, child_id, episode_id, legal_basis, cites_section_2, child_age, "
               "child_in_care, responsible_authority, recipient_name, "
               "COALESCE(recipient_date_of_birth::text, ''), recipient_address, "
               "photograph_shown, identification_without_photograph, officer_collar_number, "
               "officer_name, station, " TS("served_at") ", recipient_signed, refusal_reason, "
               "recorded_by_id, " TS("recorded_at") " FROM abduction_notices "
               "WHERE child_id = $1 ORDER BY served_at, id",
               child_id, st);
}

/* ---------------------------------------------------------------- intelligence */

int store_insert_intelligence(hw_db *db, const char *child_id, int source, const char *summary,
                              const char *by_id, const char *by_role, const char *org,
                              char *out_id, char *out_at, hw_status *st)
{
    char s[8];
    const char *p[6] = {child_id ? child_id : "", itoa_buf(s, sizeof s, source),
                        summary ? summary : "", by_id, by_role, org};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO intelligence_reports (child_id, source, summary, "
                           "recorded_by_id, recorded_by_role, organisation) "
                           "VALUES ($1, $2::int, $3, $4, $5, $6) RETURNING id, " TS("recorded_at"),
                           6, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    first_text(r, 1, out_at, 40);
    hw_res_free(r);
    return 0;
}

int store_insert_intelligence_item(hw_db *db, const char *report_id, const char *ref, int kind,
                                   const char *description, const char *identifier,
                                   const char *occurred_at, int position, hw_status *st)
{
    char k[8], pos[8];
    const char *p[7] = {report_id, ref, itoa_buf(k, sizeof k, kind), description,
                        identifier ? identifier : "", occurred_at,
                        itoa_buf(pos, sizeof pos, position)};
    return hw_db_run(db,
                     "INSERT INTO intelligence_items (report_id, ref, kind, description, "
                     "identifier, occurred_at, position) VALUES ($1::uuid, $2, $3::int, $4, $5, "
                     "$6::timestamptz, $7::int)",
                     7, p, st);
}

int store_insert_intelligence_link(hw_db *db, const char *report_id, const char *from_ref,
                                   const char *to_ref, const char *description, int position,
                                   hw_status *st)
{
    char pos[8];
    const char *p[5] = {report_id, from_ref, to_ref, description ? description : "",
                        itoa_buf(pos, sizeof pos, position)};
    return hw_db_run(db,
                     "INSERT INTO intelligence_links (report_id, from_ref, to_ref, description, "
                     "position) VALUES ($1::uuid, $2, $3, $4, $5::int)",
                     5, p, st);
}

hw_res *store_intelligence_reports(hw_db *db, const char *child_id, hw_status *st)
{
    return one(db,
               "SELECT id, child_id, source, summary, recorded_by_id, recorded_by_role, "
               TS("recorded_at") " FROM intelligence_reports WHERE child_id = $1 "
               "ORDER BY recorded_at DESC, id",
               child_id, st);
}

hw_res *store_intelligence_items(hw_db *db, const char *report_id, hw_status *st)
{
    return one(db,
               "SELECT ref, kind, description, identifier, COALESCE(" TS("occurred_at") ", '') "
               "FROM intelligence_items WHERE report_id = $1::uuid ORDER BY position",
               report_id, st);
}

hw_res *store_intelligence_links(hw_db *db, const char *report_id, hw_status *st)
{
    return one(db,
               "SELECT from_ref, to_ref, description FROM intelligence_links "
               "WHERE report_id = $1::uuid ORDER BY position",
               report_id, st);
}

/* ---------------------------------------------------------------- CPS */

int store_insert_cps(hw_db *db, const char *child_id, const char *episode_id,
                     const char *incident_ref, const char *followup_due_at, const char *by_id,
                     const char *org, char *out_id, hw_status *st)
{
    const char *p[6] = {child_id, episode_id ? episode_id : "", incident_ref, followup_due_at,
                        by_id, org};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO cps_checklists (child_id, episode_id, incident_ref, "
                           "followup_due_at, created_by_id, organisation) "
                           "VALUES ($1, $2, $3, $4::timestamptz, $5, $6) RETURNING id",
                           6, p, st);
    if (!r)
        return -1;
    first_text(r, 0, out_id, 37);
    hw_res_free(r);
    return 0;
}

int store_insert_cps_answer(hw_db *db, const char *checklist_id, int number, const char *answer,
                            const char *by_id, hw_status *st)
{
    char n[8];
    const char *p[4] = {checklist_id, itoa_buf(n, sizeof n, number), answer, by_id};
    return hw_db_run(db,
                     "INSERT INTO cps_answers (checklist_id, number, answer, answered_by_id) "
                     "VALUES ($1::uuid, $2::int, $3, $4)",
                     4, p, st);
}

int store_complete_cps(hw_db *db, const char *checklist_id, hw_status *st)
{
    const char *p[1] = {checklist_id};
    return hw_db_run(db,
                     "UPDATE cps_checklists SET completed_at = clock_timestamp() "
                     "WHERE id = $1::uuid AND completed_at IS NULL",
                     1, p, st);
}

hw_res *store_cps(hw_db *db, const char *id, bool for_update, hw_status *st)
{
    if (for_update)
        return one(db,
                   "SELECT id, child_id, episode_id, incident_ref, " TS("followup_due_at") ", "
                   "COALESCE(" TS("completed_at") ", ''), created_by_id, " TS("created_at")
                   " FROM cps_checklists WHERE id = $1::uuid FOR UPDATE",
                   id, st);
    return one(db,
               "SELECT id, child_id, episode_id, incident_ref, " TS("followup_due_at") ", "
               "COALESCE(" TS("completed_at") ", ''), created_by_id, " TS("created_at")
               " FROM cps_checklists WHERE id = $1::uuid",
               id, st);
}

hw_res *store_cps_answers(hw_db *db, const char *checklist_id, hw_status *st)
{
    return one(db,
               "SELECT number, answer, " TS("answered_at") " FROM cps_answers "
               "WHERE checklist_id = $1::uuid ORDER BY number",
               checklist_id, st);
}

/* ---------------------------------------------------------------- bytea */

char *store_bytea_param(const unsigned char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = malloc(2 + 2 * len + 1);
    if (!out)
        return NULL;
    out[0] = '\\';
    out[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        out[2 + 2 * i] = hex[buf[i] >> 4];
        out[3 + 2 * i] = hex[buf[i] & 15];
    }
    out[2 + 2 * len] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

unsigned char *store_bytea_decode(const char *text, size_t *len)
{
    if (!text || text[0] != '\\' || text[1] != 'x')
        return NULL;
    size_t n = strlen(text + 2);
    if (n % 2)
        return NULL;
    unsigned char *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(text[2 + 2 * i]), lo = hexval(text[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}
