/* test_rules.c -- unit tests of the episodes service's pure protocol rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hw_roles.h"
#include "hw_time.h"
#include "rules.h"

#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(hw_parse_rfc3339(rfc3339, &ms), 0);
    return ms;
}

/* Home ids for principals built by hand: verify would malloc them, here
 * each distinct id gets one static slot that every principal naming it shares. */
static char (*home_slot(const char *home))[HW_HOME_ID_MAX]
{
    static char ids[16][HW_HOME_ID_MAX];
    static size_t n_ids;
    for (size_t i = 0; i < n_ids; i++)
        if (strcmp(ids[i], home) == 0)
            return &ids[i];
    assert_true(n_ids < sizeof ids / sizeof ids[0]);
    assert_true(strlen(home) < HW_HOME_ID_MAX);
    strcpy(ids[n_ids], home);
    return &ids[n_ids++];
}

static hw_principal who(const char *role, const char *org, const char *home)
{
    hw_principal p;
    memset(&p, 0, sizeof p);
    strcpy(p.sub, "user-1");
    strcpy(p.org, org);
    p.n_roles = 1;
    strcpy(p.roles[0], role);
    if (home) {
        p.homes = home_slot(home);
        p.n_homes = 1;
    }
    return p;
}

/* R-DEF-3: looked-after -> missing from care; any other child -> from home. */
static void test_R_DEF_3_classification(void **state)
{
    (void)state;
    assert_int_equal(ep_classify_missing(true), EP_MISSING_FROM_CARE);
    assert_int_equal(ep_classify_missing(false), EP_MISSING_FROM_HOME);
    assert_string_equal(ep_classification_text(EP_MISSING_FROM_CARE), "missing_from_care");
    assert_int_equal(ep_classification_parse("missing_from_home"), EP_MISSING_FROM_HOME);
    assert_int_equal(ep_classification_parse("lost"), 0);
}

/* R-DEF-2: an absence is for a looked-after child away from a placement. */
static void test_R_DEF_2_absence_applies(void **state)
{
    (void)state;
    assert_true(ep_absence_applies(true, true));
    assert_false(ep_absence_applies(false, true));
    assert_false(ep_absence_applies(true, false));
}

/* R-EPI-3: the lifecycle's allowed and impossible transitions. */
static void test_R_EPI_3_transitions(void **state)
{
    (void)state;
    assert_true(ep_transition_allowed(EP_ABSENT, EP_MISSING));
    assert_true(ep_transition_allowed(EP_MISSING, EP_LOCATED));
    assert_true(ep_transition_allowed(EP_ABSENT, EP_LOCATED));
    assert_true(ep_transition_allowed(EP_LOCATED, EP_PREVENTION_DONE));
    assert_true(ep_transition_allowed(EP_PREVENTION_DONE, EP_RETURN_DONE));
    assert_true(ep_transition_allowed(EP_PREVENTION_DONE, EP_RETURN_DECLINED));
    assert_true(ep_transition_allowed(EP_RETURN_DECLINED, EP_CLOSED));
    /* impossible ones */
    assert_false(ep_transition_allowed(EP_MISSING, EP_ABSENT));
    assert_false(ep_transition_allowed(EP_MISSING, EP_CLOSED));
    assert_false(ep_transition_allowed(EP_MISSING, EP_PREVENTION_DONE));
    assert_false(ep_transition_allowed(EP_LOCATED, EP_MISSING));
    assert_false(ep_transition_allowed(EP_CLOSED, EP_MISSING));
    assert_false(ep_transition_allowed(EP_CLOSED, EP_LOCATED));
    for (int s = EP_REPORTED; s <= EP_CLOSED; s++)
        assert_int_equal(ep_status_parse(ep_status_text((enum ep_status)s)), s);
    assert_int_equal(ep_status_parse("vanished"), 0);
}

/* R-DEF-7 / R-EPI-3: closing needs the prevention interview, or a
 * supervisor with a reason; never while the child is still missing. */
static void test_R_DEF_7_close(void **state)
{
    (void)state;
    assert_int_equal(ep_can_close(EP_MISSING, true, false, true, true), EP_CLOSE_NEEDS_LOCATED);
    assert_int_equal(ep_can_close(EP_ABSENT, false, false, true, true), EP_CLOSE_NEEDS_LOCATED);
    assert_int_equal(ep_can_close(EP_LOCATED, true, false, false, true),
                     EP_CLOSE_NEEDS_PREVENTION_INTERVIEW);
    assert_int_equal(ep_can_close(EP_LOCATED, true, false, true, false), EP_CLOSE_NEEDS_REASON);
    assert_int_equal(ep_can_close(EP_LOCATED, true, false, true, true), EP_CLOSE_OK);
    assert_int_equal(ep_can_close(EP_PREVENTION_DONE, true, true, false, false), EP_CLOSE_OK);
    assert_int_equal(ep_can_close(EP_RETURN_DECLINED, true, true, false, false), EP_CLOSE_OK);
    assert_int_equal(ep_can_close(EP_LOCATED, false, false, false, false), EP_CLOSE_OK);
    assert_int_equal(ep_can_close(EP_CLOSED, true, true, true, true), EP_CLOSE_ALREADY_CLOSED);
}

/* R-EPI-4: rolling 90 days and previous 12 months as of a date. */
static void test_R_EPI_4_windows(void **state)
{
    (void)state;
    int64_t as_of = at("2025-06-30T12:00:00Z");
    assert_int_equal(ep_window_90_days_start(as_of), as_of - 90 * DAY);
    assert_int_equal(ep_window_12_months_start(as_of), at("2024-06-30T12:00:00Z"));
    /* 29 February maps to 28 February the year before. */
    assert_int_equal(ep_window_12_months_start(at("2024-02-29T08:30:00Z")),
                     at("2023-02-28T08:30:00Z"));
}

/* R-EPI-4 and R-DEF-4: counting and the repeat flag. */
static void test_R_EPI_4_R_DEF_4_counts(void **state)
{
    (void)state;
    int64_t as_of = at("2025-06-30T12:00:00Z");
    int64_t when[] = {
        as_of - 1 * DAY,           /* missing, in both windows */
        as_of - 90 * DAY,          /* missing, exactly 90 days: outside the 90, inside 12 months */
        as_of - 89 * DAY,          /* absence, in both */
        at("2024-06-30T12:00:00Z"),/* missing, exactly 12 months: outside */
        as_of + 1 * HOUR,          /* after as_of: never counted */
        as_of - 200 * DAY,         /* absence, 12 months only */
    };
    bool missing[] = {true, true, false, true, true, false};
    ep_counts c = ep_count_episodes(when, missing, 6, as_of);
    assert_int_equal(c.missing_90_days, 1);
    assert_int_equal(c.missing_12_months, 2);
    assert_int_equal(c.absences_90_days, 1);
    assert_int_equal(c.absences_12_months, 2);
    assert_true(c.repeat_missing);

    /* R-DEF-4: once is not repeat; absences never make a repeat. */
    ep_counts one = ep_count_episodes(when, missing, 1, as_of);
    assert_false(one.repeat_missing);
    bool absences[] = {false, false, false};
    ep_counts none = ep_count_episodes(when, absences, 3, as_of);
    assert_false(none.repeat_missing);
    assert_false(ep_is_repeat_missing(1));
    assert_true(ep_is_repeat_missing(2));
}

/* R-NOT-4: Regulation 41 due exactly 24 h after arrival. */
static void test_R_NOT_4_reg41(void **state)
{
    (void)state;
    int64_t arrival = at("2025-03-29T22:00:00Z"); /* across the March clock change */
    assert_int_equal(ep_reg41_due(arrival), at("2025-03-30T22:00:00Z"));
    assert_int_equal(ep_reg41_status(true, false, arrival, arrival + 23 * HOUR), EP_REG41_DUE);
    assert_int_equal(ep_reg41_status(true, false, arrival, arrival + 24 * HOUR), EP_REG41_OVERDUE);
    assert_int_equal(ep_reg41_status(true, true, arrival, arrival + 48 * HOUR), EP_REG41_SUBMITTED);
    assert_int_equal(ep_reg41_status(false, false, arrival, arrival + 48 * HOUR),
                     EP_REG41_NOT_REQUIRED);
    assert_int_equal(ep_reg41_parse(ep_reg41_text(EP_REG41_OVERDUE)), EP_REG41_OVERDUE);
}

/* R-DEF-6 / R-LONG-3: long-term missing at 28 days. */
static void test_R_LONG_3_long_term(void **state)
{
    (void)state;
    int64_t since = at("2025-10-10T03:00:00Z"); /* across the October clock change */
    assert_int_equal(ep_long_term_due(since), at("2025-11-07T03:00:00Z"));
}

/* R-DEF-5: age in whole years; 12 is a child. */
static void test_R_DEF_5_age(void **state)
{
    (void)state;
    int dob = hw_days_from_civil((hw_date){2012, 7, 15});
    assert_int_equal(ep_age_years(dob, hw_days_from_civil((hw_date){2025, 7, 14})), 12);
    assert_int_equal(ep_age_years(dob, hw_days_from_civil((hw_date){2025, 7, 15})), 13);
    assert_int_equal(ep_age_years(dob, dob - 1), -1);
}

/* R-SEC-1: who sees which record. */
static void test_R_SEC_1_access(void **state)
{
    (void)state;
    ep_scope ep = {"force-staffs", "la-stoke", "la-staffs", "home-a", "officer-9", false};
    hw_principal officer = who(HW_ROLE_OFFICER, "force-staffs", NULL);
    hw_principal other_force = who(HW_ROLE_OFFICER, "force-llr", NULL);
    hw_principal spoc_a = who(HW_ROLE_SPOC, "force-llr", "home-a");
    hw_principal spoc_b = who(HW_ROLE_SPOC, "force-llr", "home-b");
    hw_principal sw = who(HW_ROLE_SOCIAL_WORKER, "la-stoke", NULL);
    hw_principal placing = who(HW_ROLE_SOCIAL_WORKER, "la-staffs", NULL);
    hw_principal sw_other = who(HW_ROLE_SOCIAL_WORKER, "la-leics", NULL);
    hw_principal carer_a = who(HW_ROLE_CARE_STAFF, "provider-x", "home-a");
    hw_principal carer_b = who(HW_ROLE_CARE_STAFF, "provider-x", "home-b");
    hw_principal service = who(HW_ROLE_SERVICE, "homeward", NULL);
    hw_principal assigned = who(HW_ROLE_OFFICER, "force-llr", NULL);
    strcpy(assigned.sub, "officer-9");
    /* A carer claiming the home of the episode, but in a police org, still
     * is not police: a home claim gives no force-wide view. */
    hw_principal carer_with_force_org = who(HW_ROLE_CARE_STAFF, "force-staffs", "home-b");

    assert_true(ep_may_see(&officer, &ep));
    assert_false(ep_may_see(&other_force, &ep));
    assert_true(ep_may_see(&spoc_a, &ep));
    assert_false(ep_may_see(&spoc_b, &ep));
    assert_true(ep_may_see(&sw, &ep));
    assert_true(ep_may_see(&placing, &ep));
    assert_false(ep_may_see(&sw_other, &ep));
    assert_true(ep_may_see(&carer_a, &ep));
    assert_false(ep_may_see(&carer_b, &ep));
    assert_true(ep_may_see(&service, &ep));
    assert_true(ep_may_see(&assigned, &ep));
    assert_false(ep_may_see(&carer_with_force_org, &ep));

    /* A child known to another force through an episode there. */
    ep_scope child = {"force-llr", "la-leics", "", "", "", true};
    assert_true(ep_may_see(&officer, &child));
    child.episode_in_force = false;
    assert_false(ep_may_see(&officer, &child));

    assert_true(ep_is_supervisor(&(hw_principal){.n_roles = 1, .roles = {HW_ROLE_LPT_SERGEANT}}));
    assert_false(ep_is_supervisor(&officer));
}

/* R-SEC-3: special-category groups by role. */
static void test_R_SEC_3_special_categories(void **state)
{
    (void)state;
    hw_principal officer = who(HW_ROLE_OFFICER, "force-staffs", NULL);
    hw_principal spoc = who(HW_ROLE_SPOC, "force-staffs", "home-a");
    hw_principal carer = who(HW_ROLE_CARE_STAFF, "provider-x", "home-a");
    hw_principal pod = who(HW_ROLE_POD_COORDINATOR, "la-stoke", NULL);
    hw_principal service = who(HW_ROLE_SERVICE, "homeward", NULL);
    hw_principal cse_sw = who(HW_ROLE_CSE_SOCIAL_WORKER, "la-stoke", NULL);
    assert_int_equal(ep_special_allowed(&officer), EP_SPECIAL_ALL);
    assert_int_equal(ep_special_allowed(&spoc), EP_SPECIAL_CSE);
    assert_int_equal(ep_special_allowed(&carer), EP_SPECIAL_HEALTH | EP_SPECIAL_BELIEFS);
    assert_int_equal(ep_special_allowed(&pod), 0);
    assert_int_equal(ep_special_allowed(&service), 0);
    assert_int_equal(ep_special_allowed(&cse_sw), EP_SPECIAL_CSE);
    /* Roles add up. */
    strcpy(spoc.roles[spoc.n_roles++], HW_ROLE_CARE_STAFF);
    assert_int_equal(ep_special_allowed(&spoc), EP_SPECIAL_ALL);
    assert_string_equal(ep_special_name(EP_SPECIAL_BELIEFS), "beliefs");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_DEF_3_classification),
        cmocka_unit_test(test_R_DEF_2_absence_applies),
        cmocka_unit_test(test_R_EPI_3_transitions),
        cmocka_unit_test(test_R_DEF_7_close),
        cmocka_unit_test(test_R_EPI_4_windows),
        cmocka_unit_test(test_R_EPI_4_R_DEF_4_counts),
        cmocka_unit_test(test_R_NOT_4_reg41),
        cmocka_unit_test(test_R_LONG_3_long_term),
        cmocka_unit_test(test_R_DEF_5_age),
        cmocka_unit_test(test_R_SEC_1_access),
        cmocka_unit_test(test_R_SEC_3_special_categories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
