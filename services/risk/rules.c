/* rules.c -- the risk protocol's rules as pure functions (see rules.h). */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int risk_weight_rank(const char *w)
{
    if (!w)
        return RISK_RANK_NONE;
    if (strcmp(w, "low") == 0)
        return RISK_RANK_LOW;
    if (strcmp(w, "medium") == 0)
        return RISK_RANK_MEDIUM;
    if (strcmp(w, "high") == 0)
        return RISK_RANK_HIGH;
    return RISK_RANK_NONE;
}

const char *risk_weight_name(int rank)
{
    switch (rank) {
    case RISK_RANK_LOWEST: return "lowest";
    case RISK_RANK_LOW: return "low";
    case RISK_RANK_MEDIUM: return "medium";
    case RISK_RANK_HIGH: return "high";
    default: return "none";
    }
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && is_leap(y))
        return 29;
    return dim[m - 1];
}

int risk_age_years(hw_date dob, hw_date on)
{
    int age = on.y - dob.y;
    int bm = dob.m, bd = dob.d;
    /* A 29 February child has their birthday on 1 March in common years. */
    if (bm == 2 && bd == 29 && !is_leap(on.y)) {
        bm = 3;
        bd = 1;
    }
    if (on.m < bm || (on.m == bm && on.d < bd))
        age--;
    return age < 0 ? -1 : age;
}

int risk_parse_date(const char *s, hw_date *out)
{
    int y, m, d, n = 0;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return -1;
    if (s[4] != '-' || s[7] != '-' || y < 1900 || m < 1 || m > 12 || d < 1 ||
        d > days_in_month(y, m))
        return -1;
    out->y = y;
    out->m = m;
    out->d = d;
    return 0;
}

/* ---- proposal ---- */

static void add_reason(risk_proposal *p, const char *rule, int rank, const char *rtype,
                       const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add_reason(risk_proposal *p, const char *rule, int rank, const char *rtype,
                       const char *rid, const char *fmt, ...)
{
    if (p->n_reasons >= RISK_MAX_REASONS)
        return;
    risk_reason *r = &p->reasons[p->n_reasons++];
    snprintf(r->rule_id, sizeof r->rule_id, "%s", rule);
    r->rank = rank;
    snprintf(r->record_type, sizeof r->record_type, "%s", rtype ? rtype : "");
    snprintf(r->record_id, sizeof r->record_id, "%s", rid ? rid : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof r->text, fmt, ap);
    va_end(ap);
}

static void raise_to(risk_proposal *p, int rank)
{
    if (rank > p->rank)
        p->rank = rank;
}

bool risk_little_knowledge(const risk_answer_fact *answers, int n)
{
    if (n <= 0)
        return true;
    int unknown = 0;
    for (int i = 0; i < n; i++)
        if (answers[i].concern == RISK_CONCERN_UNANSWERED ||
            answers[i].concern == RISK_CONCERN_UNKNOWN)
            unknown++;
    return unknown * 2 >= n;
}

void risk_propose(const risk_facts *f, risk_proposal *p)
{
    memset(p, 0, sizeof *p);
    /* A missing child starts at low: "no apparent risk" is the absent
     * child's level (R-DEF-2), whose whereabouts are known. */
    p->rank = f->missing ? RISK_RANK_LOW : RISK_RANK_LOWEST;

    /* R-RISK-3: each concern answered "yes" raises to its question's level. */
    for (int i = 0; i < f->n_answers; i++) {
        const risk_answer_fact *a = &f->answers[i];
        if (a->concern != RISK_CONCERN_YES || a->raises_to < 0)
            continue;
        raise_to(p, a->raises_to);
        add_reason(p, "R-RISK-3", a->raises_to, "answer", a->question_code,
                   "concern answered yes to question %s", a->question_code);
    }

    /* R-RISK-4: little knowledge -> the higher level (one step up); a
     * disagreeing view -> the higher of the two. */
    if (risk_little_knowledge(f->answers, f->n_answers)) {
        int up = p->rank < RISK_RANK_HIGH ? p->rank + 1 : RISK_RANK_HIGH;
        raise_to(p, up);
        add_reason(p, "R-RISK-4", up, "", "",
                   "little knowledge: most concern questions unanswered or unknown");
    }
    if (f->alternative_rank > p->rank) {
        raise_to(p, f->alternative_rank);
        add_reason(p, "R-RISK-4", f->alternative_rank, "", "",
                   "disagreement over the level: the higher view (%s) is taken",
                   risk_weight_name(f->alternative_rank));
    }

    /* R-RISK-2: 12 or under, whereabouts unknown -> never below medium. */
    if (f->dob_known) {
        int age = risk_age_years(f->dob, f->today);
        if (age >= 0 && age <= 12) {
            raise_to(p, RISK_RANK_MEDIUM);
            add_reason(p, "R-RISK-2", RISK_RANK_MEDIUM, "child", "",
                       "child aged 12 or under: automatically at higher risk");
        }
    } else {
        /* Not knowing the age is little knowledge too (R-RISK-4). */
        raise_to(p, RISK_RANK_MEDIUM);
        add_reason(p, "R-RISK-4", RISK_RANK_MEDIUM, "child", "",
                   "date of birth not known: the child may be 12 or under");
    }

    /* R-RISK-10: information already held raises the grade; each record named. */
    if (f->cse_matrix_rank >= RISK_RANK_MEDIUM) {
        raise_to(p, RISK_RANK_MEDIUM);
        add_reason(p, "R-RISK-10", RISK_RANK_MEDIUM, "cse_matrix", f->cse_matrix_id,
                   "current CSE risk factor matrix %s at %s risk",
                   f->cse_matrix_id ? f->cse_matrix_id : "", risk_weight_name(f->cse_matrix_rank));
    }
    if (f->cse_flag) {
        raise_to(p, RISK_RANK_MEDIUM);
        add_reason(p, "R-RISK-10", RISK_RANK_MEDIUM, "child_flag", "cse",
                   "child flagged at risk of sexual exploitation");
    }
    if (f->trafficking_flag) {
        raise_to(p, RISK_RANK_MEDIUM);
        add_reason(p, "R-RISK-10", RISK_RANK_MEDIUM, "child_flag", "trafficking",
                   "child flagged as trafficked or at risk of trafficking");
    }
    for (int i = 0; i < f->n_held; i++) {
        const risk_held_record *h = &f->held[i];
        raise_to(p, RISK_RANK_MEDIUM);
        add_reason(p, "R-RISK-10", RISK_RANK_MEDIUM, h->record_type, h->record_id,
                   "%s %s records %s", h->record_type ? h->record_type : "",
                   h->record_id ? h->record_id : "", h->what ? h->what : "");
    }
    for (int i = 0; i < f->n_notices && i < RISK_MAX_RECORDS; i++) {
        raise_to(p, RISK_RANK_MEDIUM);
        add_reason(p, "R-RISK-10", RISK_RANK_MEDIUM, "abduction_notice", f->notice_ids[i],
                   "child abduction warning notice %s served",
                   f->notice_ids[i] ? f->notice_ids[i] : "");
    }

    /* R-RISK-1: the profile's lowest level for a missing child (LLR: medium). */
    if (f->missing && f->profile_min_missing_rank > RISK_RANK_LOWEST) {
        raise_to(p, f->profile_min_missing_rank);
        add_reason(p, "R-RISK-1", f->profile_min_missing_rank, "profile", f->profile,
                   "the %s protocol records a missing child only as medium or high",
                   f->profile ? f->profile : "");
    }
}

int risk_check_decision(int proposed_rank, int decided_rank, const char *rationale,
                        bool missing, int profile_min_missing_rank,
                        const char *profile, hw_status *st)
{
    int before = st->n_violations;
    if (decided_rank < RISK_RANK_LOWEST || decided_rank > RISK_RANK_HIGH) {
        hw_status_violation(st, "level", "not a level of the current scale");
        return -1;
    }
    /* R-RISK-1 */
    if (missing && decided_rank < profile_min_missing_rank)
        hw_status_violation(st, "level",
                            "the %s protocol records a missing child only as medium or high "
                            "(R-RISK-1)", profile ? profile : "");
    /* R-RISK-3 */
    if (decided_rank < proposed_rank && (!rationale || !*rationale))
        hw_status_violation(st, "rationale",
                            "required when the decided level is below the proposal (R-RISK-3)");
    return st->n_violations > before ? -1 : 0;
}

bool risk_stage_allowed(int stage, bool call_handler, bool officer, bool supervisor)
{
    switch (stage) {
    case RISK_STAGE_INITIAL: return call_handler || supervisor;
    case RISK_STAGE_SECONDARY: return officer || supervisor;
    case RISK_STAGE_REVIEW: return officer || supervisor;
    default: return false;
    }
}

bool risk_dispute_may_resolve(int step, bool control_room_manager, bool lpt_sergeant)
{
    if (step == 1)
        return control_room_manager;
    if (step == 2)
        return lpt_sergeant;
    return false;
}

int risk_cse_matrix_level(const int *weights, int n, int raised_rank,
                          const char *raise_rationale, hw_status *st)
{
    int level = RISK_RANK_NONE;
    for (int i = 0; i < n; i++)
        if (weights[i] > level)
            level = weights[i];
    if (level == RISK_RANK_NONE && raised_rank == RISK_RANK_NONE) {
        hw_status_violation(st, "indicator_codes",
                            "tick at least one indicator or give the assessed level "
                            "(the form is returned if blank)");
        return -1;
    }
    if (raised_rank == RISK_RANK_NONE)
        return level;
    if (raised_rank < RISK_RANK_LOW || raised_rank > RISK_RANK_HIGH) {
        hw_status_violation(st, "raised_level", "must be low, medium or high");
        return -1;
    }
    if (raised_rank < level) {
        hw_status_violation(st, "raised_level",
                            "may raise the level of the ticked indicators (%s), never lower it",
                            risk_weight_name(level));
        return -1;
    }
    if (raised_rank > level && (!raise_rationale || !*raise_rationale)) {
        hw_status_violation(st, "raise_rationale", "required when the assessor raises the level");
        return -1;
    }
    return raised_rank;
}

int risk_cse_routing(int level_rank, int child_consent)
{
    if (level_rank >= RISK_RANK_MEDIUM)
        return RISK_CSE_REFERRED;
    return child_consent == RISK_CONSENT_YES ? RISK_CSE_LOW_CONSENTED : RISK_CSE_LOW_HELD;
}

bool risk_cse_share_allowed(int level_rank, int child_consent)
{
    return level_rank >= RISK_RANK_MEDIUM || child_consent == RISK_CONSENT_YES;
}

const char *risk_legal_basis_name(int basis)
{
    switch (basis) {
    case RISK_BASIS_S2_CAA_1984: return "s2_child_abduction_act_1984";
    case RISK_BASIS_S49_CA_1989: return "s49_children_act_1989";
    default: return "";
    }
}

int risk_cawn_basis(int age, bool in_care, int requested, int *chosen, bool *cites_s2,
                    hw_status *st)
{
    *chosen = RISK_BASIS_NONE;
    *cites_s2 = false;
    if (age < 0 || age >= 18) {
        hw_status_violation(st, "child_id", "a warning notice protects a child under 18");
        return -1;
    }
    bool s2_ok = age < 16;
    bool s49_ok = in_care;
    if (!s2_ok && !s49_ok) {
        hw_status_violation(st, "child_id",
                            "no legal basis: section 2 Child Abduction Act 1984 needs a child "
                            "under 16, section 49 Children Act 1989 a child in local authority care");
        return -1;
    }
    switch (requested) {
    case RISK_BASIS_NONE:
        *chosen = s49_ok ? RISK_BASIS_S49_CA_1989 : RISK_BASIS_S2_CAA_1984;
        break;
    case RISK_BASIS_S2_CAA_1984:
        if (!s2_ok) {
            hw_status_violation(st, "legal_basis",
                                "section 2 Child Abduction Act 1984 applies only under 16");
            return -1;
        }
        *chosen = requested;
        break;
    case RISK_BASIS_S49_CA_1989:
        if (!s49_ok) {
            hw_status_violation(st, "legal_basis",
                                "section 49 Children Act 1989 applies only to a child in local "
                                "authority care");
            return -1;
        }
        *chosen = requested;
        break;
    default:
        hw_status_violation(st, "legal_basis", "unknown legal basis");
        return -1;
    }
    /* The s.49 notice also cites s.2 unless the child is 16 or over (App. 8). */
    *cites_s2 = s2_ok;
    return 0;
}

int risk_cps_check_initial(const bool answered[11], hw_status *st)
{
    static const int required[] = {1, 2, 8, 9, 10};
    int before = st->n_violations;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!answered[required[i]])
            hw_status_violation(st, "answers", "question %d is required at once (R-CPS-1)",
                                required[i]);
    return st->n_violations > before ? -1 : 0;
}

bool risk_cps_followup_complete(const bool answered[11])
{
    for (int q = 3; q <= 7; q++)
        if (!answered[q])
            return false;
    return true;
}

int64_t risk_cps_followup_due(int64_t created_ms) { return hw_add_hours(created_ms, 72); }

int64_t risk_lac_plan_due(int placement, int64_t placement_start_ms,
                          int64_t pre_placement_meeting_ms)
{
    if (placement == RISK_PLACEMENT_EMERGENCY)
        return hw_working_days_deadline(placement_start_ms, 3);
    return pre_placement_meeting_ms > 0 ? pre_placement_meeting_ms : placement_start_ms;
}

hw_date risk_add_months(hw_date d, int months)
{
    int total = d.y * 12 + (d.m - 1) + months;
    hw_date r = {total / 12, total % 12 + 1, d.d};
    int dim = days_in_month(r.y, r.m);
    if (r.d > dim)
        r.d = dim;
    return r;
}
