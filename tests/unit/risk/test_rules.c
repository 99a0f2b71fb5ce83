/* test_rules.c -- the risk service's proposal and validation rules, each test
 * named after the PROTOCOL rule it proves, at the boundary ages and dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static const hw_date TODAY = {2025, 6, 15};

static risk_facts base_facts(void)
{
    risk_facts f;
    memset(&f, 0, sizeof f);
    f.dob_known = true;
    f.dob = (hw_date){2010, 1, 1}; /* 15 on TODAY */
    f.today = TODAY;
    f.missing = true;
    f.profile = "STAFFS";
    f.profile_min_missing_rank = RISK_RANK_LOWEST;
    f.cse_matrix_rank = RISK_RANK_NONE;
    f.alternative_rank = RISK_RANK_NONE;
    return f;
}

/* Ten NDMM concern answers, all "no": a well-known 15-year-old. */
static risk_answer_fact all_no[10];
static void set_all(risk_answer_fact *a, int n, int concern)
{
    static const char *codes[10] = {"ndmm.1", "ndmm.2", "ndmm.3", "ndmm.4", "ndmm.5",
                                    "ndmm.6", "ndmm.7", "ndmm.8", "ndmm.9", "ndmm.10"};
    for (int i = 0; i < n; i++) {
        a[i].question_code = codes[i % 10];
        a[i].concern = concern;
        a[i].raises_to = RISK_RANK_MEDIUM;
    }
}

static bool has_reason(const risk_proposal *p, const char *rule, const char *rtype,
                       const char *rid)
{
    for (int i = 0; i < p->n_reasons; i++)
        if (strcmp(p->reasons[i].rule_id, rule) == 0 &&
            (!rtype || strcmp(p->reasons[i].record_type, rtype) == 0) &&
            (!rid || strcmp(p->reasons[i].record_id, rid) == 0))
            return true;
    return false;
}

static risk_proposal propose(const risk_facts *f)
{
    risk_proposal p;
    risk_propose(f, &p);
    return p;
}

static void test_age_years_birthdays(void **s)
{
    (void)s;
    hw_date dob = {2012, 6, 15};
    assert_int_equal(risk_age_years(dob, (hw_date){2025, 6, 14}), 12);
    assert_int_equal(risk_age_years(dob, (hw_date){2025, 6, 15}), 13);
    assert_int_equal(risk_age_years(dob, (hw_date){2025, 6, 16}), 13);
    assert_int_equal(risk_age_years(dob, (hw_date){2011, 1, 1}), -1);
    /* 29 February: 13 on 1 March in a common year, on 29 February in a leap year. */
    hw_date leap = {2012, 2, 29};
    assert_int_equal(risk_age_years(leap, (hw_date){2025, 2, 28}), 12);
    assert_int_equal(risk_age_years(leap, (hw_date){2025, 3, 1}), 13);
    assert_int_equal(risk_age_years(leap, (hw_date){2024, 2, 28}), 11);
    assert_int_equal(risk_age_years(leap, (hw_date){2024, 2, 29}), 12);
}

/* R-RISK-3: answers drive the proposal; all "no" for a missing child: low. */
static void test_r_risk_3_answers_raise(void **s)
{
    (void)s;
    risk_facts f = base_facts();
    set_all(all_no, 10, RISK_CONCERN_NO);
    f.answers = all_no;
    f.n_answers = 10;
    risk_proposal p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOW);
    assert_int_equal(p.n_reasons, 0);

    risk_answer_fact a[10];
    set_all(a, 10, RISK_CONCERN_NO);
    a[7].concern = RISK_CONCERN_YES; /* likely to attempt suicide */
    a[7].raises_to = RISK_RANK_HIGH;
    f.answers = a;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_HIGH);
    assert_true(has_reason(&p, "R-RISK-3", "answer", "ndmm.8"));

    /* Absent (whereabouts known): lowest level possible. */
    f.answers = all_no;
    f.missing = false;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOWEST);
}

/* R-RISK-2: 12 on the day before the 13th birthday -> medium; 13 on the
 * birthday -> not raised by age. */
static void test_r_risk_2_age_boundary(void **s)
{
    (void)s;
    risk_facts f = base_facts();
    set_all(all_no, 10, RISK_CONCERN_NO);
    f.answers = all_no;
    f.n_answers = 10;

    f.dob = (hw_date){2012, 6, 16}; /* 12 on TODAY (13 tomorrow) */
    risk_proposal p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-2", NULL, NULL));

    f.dob = (hw_date){2012, 6, 15}; /* 13th birthday TODAY */
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOW);
    assert_false(has_reason(&p, "R-RISK-2", NULL, NULL));

    f.dob = (hw_date){2021, 3, 1}; /* 4 years old, even when "absent" */
    f.missing = false;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);

    /* Never lowers a higher proposal. */
    risk_answer_fact a[10];
    set_all(a, 10, RISK_CONCERN_NO);
    a[0].concern = RISK_CONCERN_YES;
    a[0].raises_to = RISK_RANK_HIGH;
    f.answers = a;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_HIGH);

    /* Unknown date of birth: treated as possibly 12 or under (R-RISK-4). */
    f = base_facts();
    f.answers = all_no;
    f.n_answers = 10;
    f.dob_known = false;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-4", "child", NULL));
}

/* R-RISK-4: little knowledge (half or more unknown) raises one step;
 * exactly below half does not; disagreement takes the higher view. */
static void test_r_risk_4_little_knowledge_and_disagreement(void **s)
{
    (void)s;
    risk_facts f = base_facts();
    risk_answer_fact a[10];
    set_all(a, 10, RISK_CONCERN_NO);
    for (int i = 0; i < 4; i++)
        a[i].concern = RISK_CONCERN_UNKNOWN;
    f.answers = a;
    f.n_answers = 10;
    risk_proposal p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOW);
    assert_false(risk_little_knowledge(a, 10));

    a[4].concern = RISK_CONCERN_UNANSWERED; /* 5 of 10 */
    assert_true(risk_little_knowledge(a, 10));
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-4", "", NULL));

    /* Nothing asked at all is little knowledge. */
    f.n_answers = 0;
    f.answers = NULL;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);

    /* Little knowledge at high stays high. */
    a[9].concern = RISK_CONCERN_YES;
    a[9].raises_to = RISK_RANK_HIGH;
    f.answers = a;
    f.n_answers = 10;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_HIGH);

    /* Disagreement: another view at high wins over a low proposal. */
    set_all(a, 10, RISK_CONCERN_NO);
    f.alternative_rank = RISK_RANK_HIGH;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_HIGH);
    assert_true(has_reason(&p, "R-RISK-4", NULL, NULL));
    /* A lower view changes nothing. */
    f.alternative_rank = RISK_RANK_LOWEST;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOW);
    assert_false(has_reason(&p, "R-RISK-4", NULL, NULL));
}

/* R-RISK-10: a current medium/high CSE matrix, a CSE or trafficking flag or a
 * served abduction notice raise to at least medium, each record named. A
 * low matrix does not. */
static void test_r_risk_10_records_raise_and_are_named(void **s)
{
    (void)s;
    risk_facts f = base_facts();
    set_all(all_no, 10, RISK_CONCERN_NO);
    f.answers = all_no;
    f.n_answers = 10;

    f.cse_matrix_rank = RISK_RANK_LOW;
    f.cse_matrix_id = "m-low";
    risk_proposal p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOW);
    assert_false(has_reason(&p, "R-RISK-10", NULL, NULL));

    f.cse_matrix_rank = RISK_RANK_MEDIUM;
    f.cse_matrix_id = "m-1";
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-10", "cse_matrix", "m-1"));

    f.cse_matrix_rank = RISK_RANK_HIGH;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);

    f = base_facts();
    f.answers = all_no;
    f.n_answers = 10;
    f.cse_flag = true;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-10", "child_flag", "cse"));

    f.cse_flag = false;
    f.trafficking_flag = true;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-10", "child_flag", "trafficking"));

    f.trafficking_flag = false;
    f.n_notices = 2;
    f.notice_ids[0] = "n-1";
    f.notice_ids[1] = "n-2";
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-10", "abduction_notice", "n-1"));
    assert_true(has_reason(&p, "R-RISK-10", "abduction_notice", "n-2"));
    assert_non_null(strstr(p.reasons[0].text, "n-1"));

    /* Other held records (an evaluation matrix ticking trafficking). */
    f.n_notices = 0;
    risk_held_record held[1] = {{"evaluation_matrix", "e-1", "trafficking"}};
    f.held = held;
    f.n_held = 1;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-10", "evaluation_matrix", "e-1"));
    f.n_held = 0;
    f.n_notices = 2;

    /* Named even when the answers already put the child at high. */
    risk_answer_fact a[10];
    set_all(a, 10, RISK_CONCERN_NO);
    a[6].concern = RISK_CONCERN_YES;
    a[6].raises_to = RISK_RANK_HIGH;
    f.answers = a;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_HIGH);
    assert_true(has_reason(&p, "R-RISK-10", "abduction_notice", "n-2"));
}

/* R-RISK-1: the LLR profile proposes and records a missing child only as
 * medium or high; STAFFS allows low; an absent child is not floored. */
static void test_r_risk_1_profile_floor(void **s)
{
    (void)s;
    risk_facts f = base_facts();
    set_all(all_no, 10, RISK_CONCERN_NO);
    f.answers = all_no;
    f.n_answers = 10;
    f.profile = "LLR";
    f.profile_min_missing_rank = RISK_RANK_MEDIUM;
    risk_proposal p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_MEDIUM);
    assert_true(has_reason(&p, "R-RISK-1", "profile", "LLR"));

    f.missing = false;
    p = propose(&f);
    assert_int_equal(p.rank, RISK_RANK_LOWEST);

    hw_status st = HW_STATUS_INIT;
    assert_int_equal(risk_check_decision(RISK_RANK_LOW, RISK_RANK_LOW, "seen nearby", true,
                                         RISK_RANK_MEDIUM, "LLR", &st), -1);
    assert_int_equal(st.code, HW_INVALID_ARGUMENT);
    assert_string_equal(st.violations[0].field, "level");
    hw_status ok = HW_STATUS_INIT;
    assert_int_equal(risk_check_decision(RISK_RANK_LOW, RISK_RANK_LOW, "", true,
                                         RISK_RANK_LOWEST, "STAFFS", &ok), 0);
    assert_int_equal(risk_check_decision(RISK_RANK_LOW, RISK_RANK_MEDIUM, "", true,
                                         RISK_RANK_MEDIUM, "LLR", &ok), 0);
    assert_int_equal(risk_check_decision(RISK_RANK_LOWEST, RISK_RANK_LOWEST, "", false,
                                         RISK_RANK_MEDIUM, "LLR", &ok), 0);
    assert_int_equal(ok.code, HW_OK);
}

/* R-RISK-3: a decision below the proposal needs a rationale; at or above
 * it does not. */
static void test_r_risk_3_rationale_below_proposal(void **s)
{
    (void)s;
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(risk_check_decision(RISK_RANK_HIGH, RISK_RANK_MEDIUM, "", true,
                                         RISK_RANK_LOWEST, "STAFFS", &st), -1);
    assert_string_equal(st.violations[0].field, "rationale");
    hw_status st2 = HW_STATUS_INIT;
    assert_int_equal(risk_check_decision(RISK_RANK_HIGH, RISK_RANK_MEDIUM, NULL, true,
                                         RISK_RANK_LOWEST, "STAFFS", &st2), -1);
    hw_status ok = HW_STATUS_INIT;
    assert_int_equal(risk_check_decision(RISK_RANK_HIGH, RISK_RANK_MEDIUM, "located on CCTV",
                                         true, RISK_RANK_LOWEST, "STAFFS", &ok), 0);
    assert_int_equal(risk_check_decision(RISK_RANK_MEDIUM, RISK_RANK_MEDIUM, "", true,
                                         RISK_RANK_LOWEST, "STAFFS", &ok), 0);
    assert_int_equal(risk_check_decision(RISK_RANK_MEDIUM, RISK_RANK_HIGH, "", true,
                                         RISK_RANK_LOWEST, "STAFFS", &ok), 0);
    assert_int_equal(risk_check_decision(RISK_RANK_MEDIUM, 7, "x", true, RISK_RANK_LOWEST,
                                         "STAFFS", &ok), -1);
    /* Both violations at once in LLR. */
    hw_status both = HW_STATUS_INIT;
    assert_int_equal(risk_check_decision(RISK_RANK_HIGH, RISK_RANK_LOW, "", true,
                                         RISK_RANK_MEDIUM, "LLR", &both), -1);
    assert_int_equal(both.n_violations, 2);

    assert_true(risk_stage_allowed(RISK_STAGE_INITIAL, true, false, false));
    assert_false(risk_stage_allowed(RISK_STAGE_INITIAL, false, true, false));
    assert_true(risk_stage_allowed(RISK_STAGE_SECONDARY, false, true, false));
    assert_false(risk_stage_allowed(RISK_STAGE_SECONDARY, true, false, false));
    assert_false(risk_stage_allowed(9, true, true, true));
}

/* R-RISK-6: step 1 is the control room manager's, step 2 the LPT sergeant's. */
static void test_r_risk_6_dispute_steps(void **s)
{
    (void)s;
    assert_true(risk_dispute_may_resolve(1, true, false));
    assert_false(risk_dispute_may_resolve(1, false, true));
    assert_true(risk_dispute_may_resolve(2, false, true));
    assert_false(risk_dispute_may_resolve(2, true, false));
    assert_false(risk_dispute_may_resolve(3, true, true));
}

/* R-RISK-7: highest ticked weight unless raised; never lowered; blank refused. */
static void test_r_risk_7_cse_matrix_level(void **s)
{
    (void)s;
    int w[] = {RISK_RANK_LOW, RISK_RANK_MEDIUM, RISK_RANK_LOW};
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(risk_cse_matrix_level(w, 3, RISK_RANK_NONE, NULL, &st), RISK_RANK_MEDIUM);
    assert_int_equal(risk_cse_matrix_level(w, 1, RISK_RANK_NONE, NULL, &st), RISK_RANK_LOW);
    assert_int_equal(risk_cse_matrix_level(w, 3, RISK_RANK_HIGH, "seen with known adult", &st),
                     RISK_RANK_HIGH);
    assert_int_equal(risk_cse_matrix_level(w, 3, RISK_RANK_MEDIUM, NULL, &st), RISK_RANK_MEDIUM);
    assert_int_equal(st.code, HW_OK);

    hw_status lower = HW_STATUS_INIT;
    assert_int_equal(risk_cse_matrix_level(w, 3, RISK_RANK_LOW, "x", &lower), -1);
    assert_string_equal(lower.violations[0].field, "raised_level");
    hw_status norat = HW_STATUS_INIT;
    assert_int_equal(risk_cse_matrix_level(w, 3, RISK_RANK_HIGH, "", &norat), -1);
    assert_string_equal(norat.violations[0].field, "raise_rationale");
    hw_status blank = HW_STATUS_INIT;
    assert_int_equal(risk_cse_matrix_level(NULL, 0, RISK_RANK_NONE, NULL, &blank), -1);
    assert_string_equal(blank.violations[0].field, "indicator_codes");
    /* Nothing ticked but an assessed level given (with its reason) is a raise. */
    hw_status only = HW_STATUS_INIT;
    assert_int_equal(risk_cse_matrix_level(NULL, 0, RISK_RANK_MEDIUM, "disclosure", &only),
                     RISK_RANK_MEDIUM);

    /* Routing and consent: ALL LOW RISK CASES MUST HAVE CONSENT. */
    assert_int_equal(risk_cse_routing(RISK_RANK_HIGH, RISK_CONSENT_NO), RISK_CSE_REFERRED);
    assert_int_equal(risk_cse_routing(RISK_RANK_MEDIUM, RISK_CONSENT_UNKNOWN), RISK_CSE_REFERRED);
    assert_int_equal(risk_cse_routing(RISK_RANK_LOW, RISK_CONSENT_YES), RISK_CSE_LOW_CONSENTED);
    assert_int_equal(risk_cse_routing(RISK_RANK_LOW, RISK_CONSENT_NO), RISK_CSE_LOW_HELD);
    assert_int_equal(risk_cse_routing(RISK_RANK_LOW, RISK_CONSENT_UNKNOWN), RISK_CSE_LOW_HELD);
    assert_false(risk_cse_share_allowed(RISK_RANK_LOW, RISK_CONSENT_NO));
    assert_false(risk_cse_share_allowed(RISK_RANK_LOW, RISK_CONSENT_UNKNOWN));
    assert_true(risk_cse_share_allowed(RISK_RANK_LOW, RISK_CONSENT_YES));
    assert_true(risk_cse_share_allowed(RISK_RANK_MEDIUM, RISK_CONSENT_NO));
}

/* R-CAWN-1: s.2 under 16; s.49 under 18 in care; contradictions refused;
 * boundary ages 15/16 and 17/18. */
static void test_r_cawn_1_legal_basis(void **s)
{
    (void)s;
    int basis;
    bool s2;
    hw_status st = HW_STATUS_INIT;
    /* 15 at home: s.2. */
    assert_int_equal(risk_cawn_basis(15, false, RISK_BASIS_NONE, &basis, &s2, &st), 0);
    assert_int_equal(basis, RISK_BASIS_S2_CAA_1984);
    assert_true(s2);
    /* 17 in care: s.49, not citing s.2. */
    assert_int_equal(risk_cawn_basis(17, true, RISK_BASIS_NONE, &basis, &s2, &st), 0);
    assert_int_equal(basis, RISK_BASIS_S49_CA_1989);
    assert_false(s2);
    /* 15 in care: s.49 citing s.2 as well. */
    assert_int_equal(risk_cawn_basis(15, true, RISK_BASIS_NONE, &basis, &s2, &st), 0);
    assert_int_equal(basis, RISK_BASIS_S49_CA_1989);
    assert_true(s2);
    assert_int_equal(risk_cawn_basis(15, true, RISK_BASIS_S2_CAA_1984, &basis, &s2, &st), 0);
    assert_int_equal(basis, RISK_BASIS_S2_CAA_1984);
    assert_int_equal(st.code, HW_OK);

    /* Contradictions. */
    hw_status a = HW_STATUS_INIT;
    assert_int_equal(risk_cawn_basis(17, true, RISK_BASIS_S2_CAA_1984, &basis, &s2, &a), -1);
    assert_string_equal(a.violations[0].field, "legal_basis");
    hw_status b = HW_STATUS_INIT;
    assert_int_equal(risk_cawn_basis(15, false, RISK_BASIS_S49_CA_1989, &basis, &s2, &b), -1);
    assert_string_equal(b.violations[0].field, "legal_basis");
    /* 16 at home: no basis; 18 in care: not a child. */
    hw_status c = HW_STATUS_INIT;
    assert_int_equal(risk_cawn_basis(16, false, RISK_BASIS_NONE, &basis, &s2, &c), -1);
    assert_string_equal(c.violations[0].field, "child_id");
    hw_status d = HW_STATUS_INIT;
    assert_int_equal(risk_cawn_basis(18, true, RISK_BASIS_NONE, &basis, &s2, &d), -1);
    hw_status e = HW_STATUS_INIT;
    assert_int_equal(risk_cawn_basis(16, true, RISK_BASIS_S2_CAA_1984, &basis, &s2, &e), -1);
    assert_int_equal(risk_cawn_basis(16, true, RISK_BASIS_NONE, &basis, &s2, &st), 0);
    assert_int_equal(basis, RISK_BASIS_S49_CA_1989);
    assert_false(s2);
}

/* R-CPS-1: 1, 2, 8, 9, 10 at once; 3-7 within 3 days (72 h exact). */
static void test_r_cps_1_checklist(void **s)
{
    (void)s;
    bool ans[11] = {false};
    hw_status st = HW_STATUS_INIT;
    assert_int_equal(risk_cps_check_initial(ans, &st), -1);
    assert_int_equal(st.n_violations, 5);
    ans[1] = ans[2] = ans[8] = ans[9] = true;
    hw_status st2 = HW_STATUS_INIT;
    assert_int_equal(risk_cps_check_initial(ans, &st2), -1);
    assert_int_equal(st2.n_violations, 1);
    assert_non_null(strstr(st2.violations[0].description, "10"));
    ans[10] = true;
    hw_status ok = HW_STATUS_INIT;
    assert_int_equal(risk_cps_check_initial(ans, &ok), 0);
    assert_false(risk_cps_followup_complete(ans));
    for (int q = 3; q <= 6; q++)
        ans[q] = true;
    assert_false(risk_cps_followup_complete(ans));
    ans[7] = true;
    assert_true(risk_cps_followup_complete(ans));
    /* Exactly 72 hours, across the October clock change too. */
    int64_t t0 = 1761350400000; /* 2025-10-25T00:00:00Z */
    assert_int_equal(risk_cps_followup_due(t0), t0 + 72LL * 3600 * 1000);
}

/* R-RISK-8: emergency placement plan due within 3 working days (weekend
 * and bank holiday skipped); planned at the pre-placement meeting; review
 * 6 months on. */
static void test_r_risk_8_lac_plan_dates(void **s)
{
    (void)s;
    /* Friday 2025-08-22 10:00 London; Monday 25 August is a bank holiday:
     * working days Tue 26, Wed 27, Thu 28 -> end of Thursday 28 August. */
    int64_t fri = hw_london_instant((hw_date){2025, 8, 22}, 10, 0);
    int64_t due = risk_lac_plan_due(RISK_PLACEMENT_EMERGENCY, fri, 0);
    int minute;
    hw_date dd = hw_london_date(due, &minute);
    assert_int_equal(dd.y, 2025);
    assert_int_equal(dd.m, 8);
    assert_int_equal(dd.d, 28);
    assert_int_equal(due, hw_working_days_deadline(fri, 3));

    int64_t meeting = fri - 86400000;
    assert_int_equal(risk_lac_plan_due(RISK_PLACEMENT_PLANNED, fri, meeting), meeting);
    assert_int_equal(risk_lac_plan_due(RISK_PLACEMENT_PLANNED, fri, 0), fri);

    hw_date r = risk_add_months((hw_date){2025, 8, 31}, 6);
    assert_int_equal(r.y, 2026);
    assert_int_equal(r.m, 2);
    assert_int_equal(r.d, 28);
    r = risk_add_months((hw_date){2025, 6, 15}, 6);
    assert_int_equal(r.y, 2025);
    assert_int_equal(r.m, 12);
    assert_int_equal(r.d, 15);
    r = risk_add_months((hw_date){2023, 8, 29}, 6);
    assert_int_equal(r.m, 2);
    assert_int_equal(r.d, 29); /* 2024 is a leap year */
}

static void test_parse_date_and_weights(void **s)
{
    (void)s;
    hw_date d;
    assert_int_equal(risk_parse_date("2012-02-29", &d), 0);
    assert_int_equal(d.d, 29);
    assert_int_equal(risk_parse_date("2013-02-29", &d), -1);
    assert_int_equal(risk_parse_date("2013-2-1", &d), -1);
    assert_int_equal(risk_parse_date("2013-02-01x", &d), -1);
    assert_int_equal(risk_parse_date("", &d), -1);
    assert_int_equal(risk_parse_date(NULL, &d), -1);
    assert_int_equal(risk_weight_rank("medium"), RISK_RANK_MEDIUM);
    assert_int_equal(risk_weight_rank("High"), RISK_RANK_NONE);
    assert_int_equal(risk_weight_rank(NULL), RISK_RANK_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_years_birthdays),
        cmocka_unit_test(test_r_risk_3_answers_raise),
        cmocka_unit_test(test_r_risk_2_age_boundary),
        cmocka_unit_test(test_r_risk_4_little_knowledge_and_disagreement),
        cmocka_unit_test(test_r_risk_10_records_raise_and_are_named),
        cmocka_unit_test(test_r_risk_1_profile_floor),
        cmocka_unit_test(test_r_risk_3_rationale_below_proposal),
        cmocka_unit_test(test_r_risk_6_dispute_steps),
        cmocka_unit_test(test_r_risk_7_cse_matrix_level),
        cmocka_unit_test(test_r_cawn_1_legal_basis),
        cmocka_unit_test(test_r_cps_1_checklist),
        cmocka_unit_test(test_r_risk_8_lac_plan_dates),
        cmocka_unit_test(test_parse_date_and_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
