/* test_escalation.c -- the meetings rules: thresholds per profile (R-ESC-1,
 * R-ESC-2, R-ESC-3, R-ESC-5), the 90-day window, due dates in working days
 * (R-ESC-1 across Easter and Christmas), invitees and chairs, long episodes
 * (R-LONG-1, R-LONG-2, R-ESC-5), the R-ESC-3 letter, R-ESC-4 escalation and
 * who manages meetings (R-SEC-1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "escalation.h"
#include "hw_roles.h"
#include "hw_time.h"

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(hw_parse_rfc3339(rfc3339, &ms), 0);
    return ms;
}

static hw_principal person(const char *org, const char *role)
{
    hw_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.sub, sizeof p.sub, "%s-1", role);
    snprintf(p.org, sizeof p.org, "%s", org);
    snprintf(p.roles[0], sizeof p.roles[0], "%s", role);
    p.n_roles = 1;
    return p;
}

/* ---- thresholds ---- */

static void test_R_ESC_1_2_3_staffs_thresholds_at_2_3_4_5_9_10(void **state)
{
    (void)state;
    mt_profile s = MT_PROFILE_STAFFS;
    assert_int_equal(mt_kind_for_count(s, 0), MT_KIND_NONE);
    assert_int_equal(mt_kind_for_count(s, 2), MT_KIND_NONE);
    assert_int_equal(mt_kind_for_count(s, 3), MT_KIND_LEVEL_1);  /* R-ESC-1 */
    assert_int_equal(mt_kind_for_count(s, 4), MT_KIND_LEVEL_1);
    assert_int_equal(mt_kind_for_count(s, 5), MT_KIND_LEVEL_2);  /* R-ESC-2 */
    assert_int_equal(mt_kind_for_count(s, 8), MT_KIND_LEVEL_2);
    assert_int_equal(mt_kind_for_count(s, 9), MT_KIND_LEVEL_3);  /* R-ESC-3 */
    assert_int_equal(mt_kind_for_count(s, 10), MT_KIND_LEVEL_3);
    assert_int_equal(mt_threshold(s, MT_KIND_LEVEL_1), 3);
    assert_int_equal(mt_threshold(s, MT_KIND_LEVEL_2), 5);
    assert_int_equal(mt_threshold(s, MT_KIND_LEVEL_3), 9);
    assert_int_equal(mt_threshold(s, MT_KIND_STRATEGY), 0);
    assert_int_equal(mt_threshold(s, MT_KIND_CASE_REVIEW), 0);
}

static void test_R_ESC_5_llr_strategy_at_3_only(void **state)
{
    (void)state;
    mt_profile l = MT_PROFILE_LLR;
    assert_int_equal(mt_kind_for_count(l, 2), MT_KIND_NONE);
    assert_int_equal(mt_kind_for_count(l, 3), MT_KIND_STRATEGY);
    assert_int_equal(mt_kind_for_count(l, 4), MT_KIND_STRATEGY);
    assert_int_equal(mt_kind_for_count(l, 5), MT_KIND_STRATEGY);  /* no level 2 in LLR */
    assert_int_equal(mt_kind_for_count(l, 9), MT_KIND_STRATEGY);
    assert_int_equal(mt_kind_for_count(l, 10), MT_KIND_STRATEGY);
    assert_int_equal(mt_threshold(l, MT_KIND_STRATEGY), 3);
    assert_int_equal(mt_threshold(l, MT_KIND_LEVEL_1), 0);
    assert_true(mt_kind_in_profile(l, MT_KIND_STRATEGY));
    assert_false(mt_kind_in_profile(l, MT_KIND_LEVEL_1));
    assert_false(mt_kind_in_profile(l, MT_KIND_CASE_REVIEW));
    assert_true(mt_kind_in_profile(MT_PROFILE_STAFFS, MT_KIND_LEVEL_3));
    assert_true(mt_kind_in_profile(MT_PROFILE_STAFFS, MT_KIND_CASE_REVIEW));
    assert_false(mt_kind_in_profile(MT_PROFILE_STAFFS, MT_KIND_STRATEGY));
}

static void test_profiles_parse(void **state)
{
    (void)state;
    bool known = false;
    assert_int_equal(mt_profile_parse("LLR", &known), MT_PROFILE_LLR);
    assert_true(known);
    assert_int_equal(mt_profile_parse("STAFFS", &known), MT_PROFILE_STAFFS);
    assert_true(known);
    assert_int_equal(mt_profile_parse("llr", &known), MT_PROFILE_STAFFS);
    assert_false(known);
    assert_int_equal(mt_profile_parse(NULL, &known), MT_PROFILE_STAFFS);
    assert_false(known);
    assert_string_equal(mt_profile_name(MT_PROFILE_LLR), "LLR");
    for (int k = 1; k < MT_KIND_COUNT; k++)
        assert_int_equal(mt_kind_parse(mt_kind_name((mt_kind)k)), k);
    assert_int_equal(mt_kind_parse("level_1"), MT_KIND_NONE);
}

/* One meeting per child and level while one is open; the exact crossing
 * always creates one; a count above the threshold creates one only if none
 * of that kind was held in the window (R-ESC-1..3, R-ESC-5). */
static void test_R_ESC_1_repeat_meeting_decision(void **state)
{
    (void)state;
    mt_profile s = MT_PROFILE_STAFFS;
    assert_int_equal(mt_repeat_meeting(s, 2, 0, false), MT_KIND_NONE);
    assert_int_equal(mt_repeat_meeting(s, 3, 0, false), MT_KIND_LEVEL_1);
    assert_int_equal(mt_repeat_meeting(s, 3, 0, true), MT_KIND_LEVEL_1);   /* a new crossing */
    assert_int_equal(mt_repeat_meeting(s, 3, 1, false), MT_KIND_NONE);     /* level 1 open */
    assert_int_equal(mt_repeat_meeting(s, 4, 0, true), MT_KIND_NONE);      /* held already */
    assert_int_equal(mt_repeat_meeting(s, 4, 0, false), MT_KIND_LEVEL_1);  /* catch up */
    assert_int_equal(mt_repeat_meeting(s, 5, 1, true), MT_KIND_LEVEL_2);   /* R-ESC-2 over an open 1 */
    assert_int_equal(mt_repeat_meeting(s, 3, 2, false), MT_KIND_NONE);     /* late 3rd after the 5th */
    assert_int_equal(mt_repeat_meeting(s, 9, 2, true), MT_KIND_LEVEL_3);   /* R-ESC-3 */
    assert_int_equal(mt_repeat_meeting(s, 10, 3, false), MT_KIND_NONE);
    assert_int_equal(mt_repeat_meeting(s, 10, 0, true), MT_KIND_NONE);
    mt_profile l = MT_PROFILE_LLR;
    assert_int_equal(mt_repeat_meeting(l, 2, 0, false), MT_KIND_NONE);
    assert_int_equal(mt_repeat_meeting(l, 3, 0, false), MT_KIND_STRATEGY); /* R-ESC-5 */
    assert_int_equal(mt_repeat_meeting(l, 3, 1, false), MT_KIND_NONE);
    assert_int_equal(mt_repeat_meeting(l, 5, 0, true), MT_KIND_NONE);
    assert_int_equal(mt_repeat_meeting(l, 5, 0, false), MT_KIND_STRATEGY);
}

/* ---- the 90-day window (R-EPI-4 as the meetings count it) ---- */

static void test_R_ESC_1_window_edges(void **state)
{
    (void)state;
    int64_t now = at("2025-06-30T12:00:00.000Z");
    assert_true(mt_in_window(now, now));
    assert_false(mt_in_window(now + 1, now));                  /* the future is not counted */
    assert_true(mt_in_window(now - 90 * DAY_MS + 1, now));     /* just inside */
    assert_false(mt_in_window(now - 90 * DAY_MS, now));        /* exactly 90 days: out */
    assert_false(mt_in_window(now - 91 * DAY_MS, now));
    /* Three episodes, the first exactly at the edge: two count, no meeting. */
    int64_t eps[] = {now - 90 * DAY_MS, now - 30 * DAY_MS, now};
    assert_int_equal(mt_count_in_window(eps, 3, now), 2);
    assert_int_equal(mt_kind_for_count(MT_PROFILE_STAFFS, mt_count_in_window(eps, 3, now)),
                     MT_KIND_NONE);
    /* One millisecond later it is inside: the third episode calls a level 1. */
    eps[0] += 1;
    assert_int_equal(mt_count_in_window(eps, 3, now), 3);
    assert_int_equal(mt_kind_for_count(MT_PROFILE_STAFFS, 3), MT_KIND_LEVEL_1);
    assert_int_equal(mt_count_in_window(eps, 0, now), 0);
}

/* ---- due dates: 5 working days, bank holidays skipped ---- */

static void test_R_ESC_1_due_in_5_working_days_plain_week(void **state)
{
    (void)state;
    /* Monday 2025-06-02 10:00 BST -> end of Monday 2025-06-09 (BST). */
    int64_t t = at("2025-06-02T09:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_LEVEL_1, t), at("2025-06-09T22:59:59.999Z"));
    /* Friday evening -> the next Friday. */
    t = at("2025-06-06T19:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_LEVEL_2, t), at("2025-06-13T22:59:59.999Z"));
}

static void test_R_ESC_1_due_across_easter(void **state)
{
    (void)state;
    /* Maundy Thursday 2025-04-17: Good Friday 18th and Easter Monday 21st
     * are bank holidays: Tue 22, Wed 23, Thu 24, Fri 25, Mon 28. */
    int64_t t = at("2025-04-17T10:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_LEVEL_1, t), at("2025-04-28T22:59:59.999Z"));
    assert_int_equal(mt_due_by(MT_KIND_STRATEGY, t), at("2025-04-28T22:59:59.999Z")); /* LLR too */
    /* 2026: Good Friday 3 April, Easter Monday 6 April. From Wed 1 April:
     * Thu 2, Tue 7, Wed 8, Thu 9, Fri 10. */
    t = at("2026-04-01T08:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_LEVEL_3, t), at("2026-04-10T22:59:59.999Z"));
}

static void test_R_ESC_1_due_across_christmas(void **state)
{
    (void)state;
    /* 2026: Christmas Friday 25th, Boxing Day Saturday -> substitute Monday
     * 28th; New Year's Day Friday. From Wed 23 Dec: Thu 24, Tue 29, Wed 30,
     * Thu 31, Mon 4 Jan (GMT). */
    int64_t t = at("2026-12-23T10:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_LEVEL_1, t), at("2027-01-04T23:59:59.999Z"));
    /* 2027: Christmas Saturday -> substitute Mon 27, Boxing Day Sunday ->
     * Tue 28. From Thu 23 Dec: Fri 24, Wed 29, Thu 30, Fri 31, Mon 3 Jan
     * (New Year's Day Saturday -> substitute Monday 3rd) -> Tue 4 Jan. */
    t = at("2027-12-23T10:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_STRATEGY, t), at("2028-01-04T23:59:59.999Z"));
}

static void test_R_LONG_2_case_review_urgent(void **state)
{
    (void)state;
    /* Maundy Thursday 2025-04-17: the next working day after it is Tuesday
     * 22nd (Good Friday and Easter Monday are bank holidays). */
    int64_t t = at("2025-04-17T10:00:00.000Z");
    assert_int_equal(mt_due_by(MT_KIND_CASE_REVIEW, t), at("2025-04-22T22:59:59.999Z"));
}

/* ---- invitees and chairs ---- */

static const mt_invitee_rule *find(const mt_meeting_rule *r, const char *role)
{
    for (size_t i = 0; i < r->n_invitees; i++)
        if (strcmp(r->invitees[i].role, role) == 0)
            return &r->invitees[i];
    return NULL;
}

static void assert_roles(mt_kind k, const char *const *roles, size_t n)
{
    const mt_meeting_rule *r = mt_meeting_rule_for(k);
    assert_non_null(r);
    assert_int_equal(r->n_invitees, n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(find(r, roles[i]));
    int chairs = 0;
    for (size_t i = 0; i < r->n_invitees; i++)
        if (r->invitees[i].chair) {
            chairs++;
            assert_string_equal(r->invitees[i].role, r->chair_role);
        }
    assert_int_equal(chairs, 1);
}

static void test_R_ESC_1_level_1_invitees_13_15(void **state)
{
    (void)state;
    static const char *const roles[] = {"social_worker", "child", "parent", "police_officer",
                                        "care_staff", "return_interview_worker"};
    assert_roles(MT_KIND_LEVEL_1, roles, 6);
    const mt_meeting_rule *r = mt_meeting_rule_for(MT_KIND_LEVEL_1);
    assert_string_equal(r->chair_role, "social_worker");
    assert_string_equal(r->rule_id, "R-ESC-1");
    assert_true(find(r, "return_interview_worker")->as_appropriate);  /* "where appropriate" */
    assert_false(find(r, "police_officer")->as_appropriate);
    assert_false(mt_invites(MT_KIND_LEVEL_1, "iro"));
    assert_false(mt_invites(MT_KIND_LEVEL_1, "team_manager"));
}

static void test_R_ESC_2_level_2_invitees_13_17(void **state)
{
    (void)state;
    static const char *const roles[] = {"team_manager", "child", "advocate", "parent",
                                        "police_officer", "residential_manager", "social_worker",
                                        "health", "education", "return_interview_worker"};
    assert_roles(MT_KIND_LEVEL_2, roles, 10);
    const mt_meeting_rule *r = mt_meeting_rule_for(MT_KIND_LEVEL_2);
    assert_string_equal(r->chair_role, "team_manager");
    assert_true(find(r, "health")->as_appropriate);
    assert_true(find(r, "education")->as_appropriate);
    assert_false(mt_invites(MT_KIND_LEVEL_2, "iro"));
    assert_false(mt_invites(MT_KIND_LEVEL_2, "csc_lead"));
}

static void test_R_ESC_3_level_3_invitees_13_18(void **state)
{
    (void)state;
    static const char *const roles[] = {"csc_lead", "child", "advocate", "parent", "team_manager",
                                        "fostering_team_manager", "missing_person_coordinator",
                                        "residential_manager", "social_worker", "health",
                                        "education", "return_interview_worker", "iro"};
    assert_roles(MT_KIND_LEVEL_3, roles, 13);
    const mt_meeting_rule *r = mt_meeting_rule_for(MT_KIND_LEVEL_3);
    assert_string_equal(r->chair_role, "csc_lead");
    assert_true(find(r, "residential_manager")->as_appropriate);
    assert_false(find(r, "iro")->as_appropriate);
}

static void test_R_ESC_5_and_R_LONG_2_invitees(void **state)
{
    (void)state;
    static const char *const strat[] = {"social_worker", "police_officer", "care_staff",
                                        "return_interview_worker"};
    assert_roles(MT_KIND_STRATEGY, strat, 4);
    assert_string_equal(mt_meeting_rule_for(MT_KIND_STRATEGY)->chair_role, "social_worker");
    static const char *const review[] = {"social_worker", "police_officer", "care_staff",
                                         "other_professional"};
    assert_roles(MT_KIND_CASE_REVIEW, review, 4);
    assert_null(mt_meeting_rule_for(MT_KIND_NONE));
    assert_null(mt_meeting_rule_for((mt_kind)42));
}

/* ---- long episodes ---- */

static void test_R_LONG_1_R_LONG_2_staffs_deadlines(void **state)
{
    (void)state;
    const mt_long_rule *r;
    size_t n = mt_long_rules(MT_PROFILE_STAFFS, &r);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].deadline_kind, MT_DEADLINE_LINE_MANAGER);
    assert_int_equal(r[0].hours, 48);                 /* R-LONG-1 */
    assert_int_equal(r[0].meeting, MT_KIND_NONE);
    assert_string_equal(r[1].deadline_kind, MT_DEADLINE_CASE_REVIEW);
    assert_int_equal(r[1].hours, 72);                 /* R-LONG-2: 3 days */
    assert_int_equal(r[1].meeting, MT_KIND_CASE_REVIEW);
    /* Exact durations, across the clocks going forward (PROTOCOL "Time"). */
    int64_t reported = at("2025-03-29T12:00:00.000Z");
    assert_int_equal(hw_add_hours(reported, r[0].hours), at("2025-03-31T12:00:00.000Z"));
}

static void test_R_ESC_5_llr_strategy_when_missing_over_72h(void **state)
{
    (void)state;
    const mt_long_rule *r;
    size_t n = mt_long_rules(MT_PROFILE_LLR, &r);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].deadline_kind, MT_DEADLINE_STRATEGY_72H);
    assert_int_equal(r[0].hours, 72);
    assert_int_equal(r[0].meeting, MT_KIND_STRATEGY);
    assert_string_equal(r[0].rule_id, "R-ESC-5");
    /* No line-manager alert in LLR. */
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(r[i].deadline_kind, MT_DEADLINE_LINE_MANAGER);
    const mt_long_rule *all;
    assert_int_equal(mt_all_long_rules(&all), 3);
    assert_ptr_equal(mt_long_rule_for(MT_DEADLINE_CASE_REVIEW), &all[1]);
    assert_null(mt_long_rule_for("meetings.unknown"));
}

/* ---- R-ESC-3: the letter to the placing authority ---- */

static void test_R_ESC_3_letter_for_child_placed_by_another_authority(void **state)
{
    (void)state;
    assert_true(mt_level3_letter_needed(MT_KIND_LEVEL_3, "la-birmingham", "la-staffs", ""));
    assert_true(mt_level3_letter_needed(MT_KIND_LEVEL_3, "la-birmingham", "la-birmingham",
                                        "la-staffs"));  /* host known: placed from outside */
    assert_false(mt_level3_letter_needed(MT_KIND_LEVEL_3, "la-staffs", "la-staffs", ""));
    assert_false(mt_level3_letter_needed(MT_KIND_LEVEL_3, "la-staffs", "la-staffs", "la-staffs"));
    assert_false(mt_level3_letter_needed(MT_KIND_LEVEL_3, "", "la-staffs", ""));
    assert_false(mt_level3_letter_needed(MT_KIND_LEVEL_2, "la-birmingham", "la-staffs", ""));
}

/* ---- R-ESC-4 ---- */

static void test_R_ESC_4_escalation_by_hand(void **state)
{
    (void)state;
    assert_int_equal(mt_escalates_to(MT_KIND_LEVEL_1), MT_KIND_LEVEL_2);
    assert_int_equal(mt_escalates_to(MT_KIND_LEVEL_2), MT_KIND_LEVEL_3);
    assert_int_equal(mt_escalates_to(MT_KIND_LEVEL_3), MT_KIND_NONE);
    assert_int_equal(mt_escalates_to(MT_KIND_STRATEGY), MT_KIND_NONE);
    assert_int_equal(mt_escalates_to(MT_KIND_CASE_REVIEW), MT_KIND_NONE);
}

/* ---- access ---- */

static void test_R_SEC_1_who_manages_meetings(void **state)
{
    (void)state;
    const char *managers[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD,
                              HW_ROLE_IRO};
    for (size_t i = 0; i < 4; i++) {
        hw_principal p = person("la-stoke", managers[i]);
        assert_true(mt_may_manage(&p, "la-stoke"));
        assert_false(mt_may_manage(&p, "la-leic"));   /* another authority's child */
        assert_false(mt_may_manage(&p, ""));
    }
    hw_principal officer = person("force-staffs", HW_ROLE_OFFICER);
    assert_false(mt_may_manage(&officer, "la-stoke"));
    hw_principal staff = person("la-stoke", HW_ROLE_CARE_STAFF);
    assert_false(mt_may_manage(&staff, "la-stoke"));
    hw_principal pod = person("la-stoke", HW_ROLE_POD_COORDINATOR);
    assert_false(mt_may_manage(&pod, "la-stoke"));
}

static void test_R_ESC_4_who_may_request(void **state)
{
    (void)state;
    hw_principal sw = person("la-stoke", HW_ROLE_SOCIAL_WORKER);
    assert_true(mt_may_request(&sw, "la-stoke", "force-staffs", "home-1"));
    hw_principal officer = person("force-staffs", HW_ROLE_OFFICER);
    assert_true(mt_may_request(&officer, "la-stoke", "force-staffs", "home-1"));
    assert_false(mt_may_request(&officer, "la-stoke", "force-leics", "home-1"));
    hw_principal riw = person("la-stoke", HW_ROLE_RETURN_WORKER);
    assert_true(mt_may_request(&riw, "la-stoke", "", ""));
    hw_principal staff = person("provider-x", HW_ROLE_CARE_STAFF);
    assert_false(mt_may_request(&staff, "la-stoke", "force-staffs", "home-1"));
    char staff_homes[1][HW_HOME_ID_MAX]; /* a principal built by hand owns its homes */
    staff.homes = staff_homes;
    staff.n_homes = 1;
    snprintf(staff.homes[0], sizeof staff.homes[0], "home-1");
    assert_true(mt_may_request(&staff, "la-stoke", "force-staffs", "home-1"));
    assert_false(mt_may_request(&staff, "la-stoke", "force-staffs", "home-2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_ESC_1_2_3_staffs_thresholds_at_2_3_4_5_9_10),
        cmocka_unit_test(test_R_ESC_5_llr_strategy_at_3_only),
        cmocka_unit_test(test_profiles_parse),
        cmocka_unit_test(test_R_ESC_1_repeat_meeting_decision),
        cmocka_unit_test(test_R_ESC_1_window_edges),
        cmocka_unit_test(test_R_ESC_1_due_in_5_working_days_plain_week),
        cmocka_unit_test(test_R_ESC_1_due_across_easter),
        cmocka_unit_test(test_R_ESC_1_due_across_christmas),
        cmocka_unit_test(test_R_LONG_2_case_review_urgent),
        cmocka_unit_test(test_R_ESC_1_level_1_invitees_13_15),
        cmocka_unit_test(test_R_ESC_2_level_2_invitees_13_17),
        cmocka_unit_test(test_R_ESC_3_level_3_invitees_13_18),
        cmocka_unit_test(test_R_ESC_5_and_R_LONG_2_invitees),
        cmocka_unit_test(test_R_LONG_1_R_LONG_2_staffs_deadlines),
        cmocka_unit_test(test_R_ESC_5_llr_strategy_when_missing_over_72h),
        cmocka_unit_test(test_R_ESC_3_letter_for_child_placed_by_another_authority),
        cmocka_unit_test(test_R_ESC_4_escalation_by_hand),
        cmocka_unit_test(test_R_SEC_1_who_manages_meetings),
        cmocka_unit_test(test_R_ESC_4_who_may_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
