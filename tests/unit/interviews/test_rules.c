/* test_rules.c -- the interview rules: timeliness (R-RET-2), who conducts (R-RET-1),
 * consent and sharing (R-RET-3), value lists (App. 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hw_roles.h"
#include "hw_time.h"
#include "rules.h"

#define HOUR_MS 3600000LL

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(hw_parse_rfc3339(rfc3339, &ms), 0);
    return ms;
}

/* ---- R-RET-2: timeliness ---- */

static void test_R_RET_2_due_exactly_72_hours_after_located(void **state)
{
    (void)state;
    int64_t located = at("2025-06-10T09:15:00.000Z");
    assert_int_equal(rules_return_interview_due_ms(located), located + 72 * HOUR_MS);
    assert_int_equal(rules_return_interview_due_ms(located), at("2025-06-13T09:15:00.000Z"));
}

static void test_R_RET_2_boundary_exactly_72h_is_within_time_frames(void **state)
{
    (void)state;
    int64_t located = at("2025-06-10T09:15:00.000Z");
    assert_true(rules_within_time_frame(located, located));
    assert_true(rules_within_time_frame(located, located + 72 * HOUR_MS - 1));
    assert_true(rules_within_time_frame(located, located + 72 * HOUR_MS));       /* exactly 72 h */
    assert_false(rules_within_time_frame(located, located + 72 * HOUR_MS + 1));  /* 1 ms late */
    assert_false(rules_within_time_frame(located, located + 73 * HOUR_MS));
}

/* Clocks go forward on 2025-03-30 01:00 UTC. A child located at 12:00
 * (GMT) on the 29th is due at 12:00 UTC on 1 April, which is 13:00 BST:
 * 13:00 local is exactly 72 h and in time; "the same local time three days
 * later" (12:00 BST) would be only 71 h. */
static void test_R_RET_2_spring_clock_change_does_not_shift_the_deadline(void **state)
{
    (void)state;
    int64_t located = hw_london_instant((hw_date){2025, 3, 29}, 12, 0);
    assert_int_equal(located, at("2025-03-29T12:00:00.000Z"));
    int64_t due = rules_return_interview_due_ms(located);
    assert_int_equal(due, at("2025-04-01T12:00:00.000Z"));
    assert_int_equal(due - located, 72 * HOUR_MS);

    int64_t local_13 = hw_london_instant((hw_date){2025, 4, 1}, 13, 0);
    assert_int_equal(local_13, due);
    assert_true(rules_within_time_frame(located, local_13));
    assert_false(rules_within_time_frame(located, local_13 + 1));
    /* 12:00 BST on the 1st is 71 h: well in time. */
    int64_t local_12 = hw_london_instant((hw_date){2025, 4, 1}, 12, 0);
    assert_int_equal(due - local_12, HOUR_MS);
    assert_true(rules_within_time_frame(located, local_12));
    /* 13:30 BST is late although the wall clock says "3 days and 1.5 h". */
    assert_false(rules_within_time_frame(located, hw_london_instant((hw_date){2025, 4, 1}, 13, 30)));
}

/* Clocks go back on 2025-10-26 01:00 UTC. A child located at 12:00 BST on
 * the 25th (11:00 UTC) is due at 11:00 UTC on the 28th, which is 11:00 GMT:
 * "the same local time three days later" (12:00 GMT) would be 73 h, late. */
static void test_R_RET_2_autumn_clock_change_does_not_shift_the_deadline(void **state)
{
    (void)state;
    int64_t located = hw_london_instant((hw_date){2025, 10, 25}, 12, 0);
    assert_int_equal(located, at("2025-10-25T11:00:00.000Z"));
    int64_t due = rules_return_interview_due_ms(located);
    assert_int_equal(due, at("2025-10-28T11:00:00.000Z"));

    int64_t local_11 = hw_london_instant((hw_date){2025, 10, 28}, 11, 0);
    assert_int_equal(local_11, due);
    assert_true(rules_within_time_frame(located, local_11));
    assert_false(rules_within_time_frame(located, local_11 + 1));
    int64_t local_12 = hw_london_instant((hw_date){2025, 10, 28}, 12, 0);
    assert_int_equal(local_12 - located, 73 * HOUR_MS);
    assert_false(rules_within_time_frame(located, local_12));
}

/* Located inside the repeated hour of the autumn change (01:30 BST, the
 * first 01:30): still exactly 72 h. */
static void test_R_RET_2_located_in_the_repeated_hour(void **state)
{
    (void)state;
    int64_t located = hw_london_instant((hw_date){2025, 10, 26}, 1, 30);
    assert_int_equal(located, at("2025-10-26T00:30:00.000Z"));
    int64_t due = rules_return_interview_due_ms(located);
    assert_int_equal(due, at("2025-10-29T00:30:00.000Z"));
    assert_true(rules_within_time_frame(located, due));
    assert_false(rules_within_time_frame(located, due + 1));
}

static void test_R_RET_2_late_interview_needs_a_reason(void **state)
{
    (void)state;
    assert_true(rules_lateness_explained(true, 0, NULL));
    assert_true(rules_lateness_explained(true, 0, ""));
    assert_false(rules_lateness_explained(false, 0, NULL));
    assert_false(rules_lateness_explained(false, 0, "  \t\n"));
    assert_true(rules_lateness_explained(false, 1, NULL));
    assert_true(rules_lateness_explained(false, 0, "child on holiday with family"));
}

static void test_R_RET_2_interview_time_must_be_plausible(void **state)
{
    (void)state;
    int64_t located = at("2025-06-10T09:15:00.000Z");
    int64_t now = located + 10 * HOUR_MS;
    assert_false(rules_interview_time_plausible(located, located - 1, now));
    assert_true(rules_interview_time_plausible(located, located, now));
    assert_true(rules_interview_time_plausible(located, now, now));
    assert_true(rules_interview_time_plausible(located, now + RULES_CLOCK_SKEW_MS, now));
    assert_false(rules_interview_time_plausible(located, now + RULES_CLOCK_SKEW_MS + 1, now));
}

/* ---- R-RET-1: who may conduct the prevention interview ---- */

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

static hw_principal person(const char *sub, const char *org, const char *role, const char *home)
{
    hw_principal p;
    memset(&p, 0, sizeof p);
    strcpy(p.sub, sub);
    strcpy(p.org, org);
    strcpy(p.roles[0], role);
    p.n_roles = 1;
    if (home) {
        p.homes = home_slot(home);
        p.n_homes = 1;
    }
    return p;
}

static rules_interview interview(enum rules_kind kind, const char *profile, const char *placement)
{
    rules_interview iv = {kind, "force-staffs", "la-stoke", "home-1", profile, placement, "", ""};
    return iv;
}

static void test_R_RET_1_police_of_the_force_conduct_prevention(void **state)
{
    (void)state;
    rules_interview iv = interview(RULES_PREVENTION, "STAFFS", "residential");
    hw_principal officer = person("pc-1", "force-staffs", HW_ROLE_OFFICER, NULL);
    hw_principal sergeant = person("sgt-1", "force-staffs", HW_ROLE_LPT_SERGEANT, NULL);
    hw_principal other_force = person("pc-2", "force-leics", HW_ROLE_OFFICER, NULL);
    hw_principal handler = person("ch-1", "force-staffs", HW_ROLE_CALL_HANDLER, NULL);
    hw_principal sw = person("sw-1", "la-stoke", HW_ROLE_SOCIAL_WORKER, NULL);
    assert_int_equal(rules_conductor_for(&officer, &iv), RULES_CONDUCTOR_POLICE);
    assert_int_equal(rules_conductor_for(&sergeant, &iv), RULES_CONDUCTOR_POLICE);
    assert_int_equal(rules_conductor_for(&other_force, &iv), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&handler, &iv), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&sw, &iv), RULES_CONDUCTOR_NONE);
    assert_string_equal(rules_conductor_name(RULES_CONDUCTOR_POLICE), "police");
}

static void test_R_RET_1_care_staff_only_llr_residential(void **state)
{
    (void)state;
    hw_principal staff = person("cs-1", "la-leics", HW_ROLE_CARE_STAFF, "home-1");
    hw_principal staff_elsewhere = person("cs-2", "la-leics", HW_ROLE_CARE_STAFF, "home-9");

    rules_interview staffs = interview(RULES_PREVENTION, "STAFFS", "residential");
    rules_interview llr_res = interview(RULES_PREVENTION, "LLR", "residential");
    rules_interview llr_res2 = interview(RULES_PREVENTION, "LLR", "CHILDRENS_HOME");
    rules_interview llr_foster = interview(RULES_PREVENTION, "LLR", "foster");
    rules_interview llr_home = interview(RULES_PREVENTION, "LLR", "");

    assert_int_equal(rules_conductor_for(&staff, &staffs), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&staff, &llr_res), RULES_CONDUCTOR_CARE_STAFF);
    assert_int_equal(rules_conductor_for(&staff, &llr_res2), RULES_CONDUCTOR_CARE_STAFF);
    assert_int_equal(rules_conductor_for(&staff, &llr_foster), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&staff, &llr_home), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&staff_elsewhere, &llr_res), RULES_CONDUCTOR_NONE);

    assert_true(rules_care_staff_may_prevent("LLR", "Residential"));
    assert_true(rules_care_staff_may_prevent("LLR", "children's home"));
    assert_false(rules_care_staff_may_prevent("LLR", "foster"));
    assert_false(rules_care_staff_may_prevent("STAFFS", "residential"));
    assert_false(rules_care_staff_may_prevent(NULL, "residential"));
    assert_false(rules_care_staff_may_prevent("LLR", NULL));
}

static void test_R_RET_2_return_interview_by_the_authority_workers(void **state)
{
    (void)state;
    rules_interview iv = interview(RULES_RETURN, "STAFFS", "foster");
    hw_principal worker = person("rw-1", "la-stoke", HW_ROLE_RETURN_WORKER, NULL);
    hw_principal sw = person("sw-1", "la-stoke", HW_ROLE_SOCIAL_WORKER, NULL);
    hw_principal other_la = person("rw-2", "la-staffs", HW_ROLE_RETURN_WORKER, NULL);
    hw_principal officer = person("pc-1", "force-staffs", HW_ROLE_OFFICER, NULL);
    hw_principal tm = person("tm-1", "la-stoke", HW_ROLE_TEAM_MANAGER, NULL);
    assert_int_equal(rules_conductor_for(&worker, &iv), RULES_CONDUCTOR_RETURN_WORKER);
    assert_int_equal(rules_conductor_for(&sw, &iv), RULES_CONDUCTOR_SOCIAL_WORKER);
    assert_int_equal(rules_conductor_for(&other_la, &iv), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&officer, &iv), RULES_CONDUCTOR_NONE);
    assert_int_equal(rules_conductor_for(&tm, &iv), RULES_CONDUCTOR_NONE);
}

/* ---- R-RET-3: consent and sharing ---- */

static void test_R_RET_3_share_only_with_consent_or_safeguarding_reason(void **state)
{
    (void)state;
    assert_false(rules_may_share(RULES_CONSENT_NOT_RECORDED, false));
    assert_false(rules_may_share(RULES_CONSENT_REFUSED, false));
    assert_true(rules_may_share(RULES_CONSENT_GIVEN, false));
    assert_true(rules_may_share(RULES_CONSENT_REFUSED, true));
    assert_true(rules_may_share(RULES_CONSENT_NOT_RECORDED, true));
}

static void test_R_RET_3_readers_of_a_return_interview(void **state)
{
    (void)state;
    rules_interview iv = interview(RULES_RETURN, "STAFFS", "foster");
    iv.conducted_by = "rw-1";
    hw_principal author = person("rw-1", "la-stoke", HW_ROLE_RETURN_WORKER, NULL);
    hw_principal colleague = person("rw-3", "la-stoke", HW_ROLE_RETURN_WORKER, NULL);
    hw_principal sw = person("sw-1", "la-stoke", HW_ROLE_SOCIAL_WORKER, NULL);
    hw_principal officer = person("pc-1", "force-staffs", HW_ROLE_OFFICER, NULL);
    hw_principal other_force = person("pc-2", "force-leics", HW_ROLE_OFFICER, NULL);
    hw_principal other_la = person("sw-2", "la-leics", HW_ROLE_SOCIAL_WORKER, NULL);
    hw_principal care = person("cs-1", "la-stoke", HW_ROLE_CARE_STAFF, "home-1");
    hw_principal svc = person("service:episodes", "homeward", HW_ROLE_SERVICE, NULL);

    /* Those who hold it read it whatever the consent. */
    assert_int_equal(rules_read_access(&author, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_FULL);
    assert_int_equal(rules_read_access(&colleague, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_FULL);
    /* Social worker and police (R-NOT-7): content only with consent or a
     * critical-to-safeguarding decision. */
    assert_int_equal(rules_read_access(&sw, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_SUMMARY);
    assert_int_equal(rules_read_access(&sw, &iv, RULES_CONSENT_NOT_RECORDED, false), RULES_READ_SUMMARY);
    assert_int_equal(rules_read_access(&sw, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_FULL);
    assert_int_equal(rules_read_access(&sw, &iv, RULES_CONSENT_REFUSED, true), RULES_READ_FULL);
    assert_int_equal(rules_read_access(&officer, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_SUMMARY);
    assert_int_equal(rules_read_access(&officer, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_FULL);
    /* Nobody else (R-SEC-1). */
    assert_int_equal(rules_read_access(&other_force, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_NONE);
    assert_int_equal(rules_read_access(&other_la, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_NONE);
    assert_int_equal(rules_read_access(&care, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_NONE);
    assert_int_equal(rules_read_access(&svc, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_SUMMARY);
}

static void test_R_RET_3_readers_of_a_prevention_interview(void **state)
{
    (void)state;
    rules_interview iv = interview(RULES_PREVENTION, "LLR", "residential");
    hw_principal officer = person("pc-1", "force-staffs", HW_ROLE_OFFICER, NULL);
    hw_principal mpc = person("mpc-1", "force-staffs", HW_ROLE_MPC, NULL);
    hw_principal staff = person("cs-1", "la-stoke", HW_ROLE_CARE_STAFF, "home-1");
    hw_principal sw = person("sw-1", "la-stoke", HW_ROLE_SOCIAL_WORKER, NULL);
    assert_int_equal(rules_read_access(&officer, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_FULL);
    assert_int_equal(rules_read_access(&mpc, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_FULL);
    assert_int_equal(rules_read_access(&staff, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_FULL);
    assert_int_equal(rules_read_access(&sw, &iv, RULES_CONSENT_REFUSED, false), RULES_READ_SUMMARY);
    assert_int_equal(rules_read_access(&sw, &iv, RULES_CONSENT_GIVEN, false), RULES_READ_FULL);
}

static void test_R_RET_3_who_records_a_safeguarding_share(void **state)
{
    (void)state;
    rules_interview iv = interview(RULES_RETURN, "STAFFS", "foster");
    hw_principal worker = person("rw-1", "la-stoke", HW_ROLE_RETURN_WORKER, NULL);
    hw_principal tm = person("tm-1", "la-stoke", HW_ROLE_TEAM_MANAGER, NULL);
    hw_principal iro = person("iro-1", "la-stoke", HW_ROLE_IRO, NULL);
    hw_principal officer = person("pc-1", "force-staffs", HW_ROLE_OFFICER, NULL);
    assert_true(rules_may_record_sharing_decision(&worker, &iv));
    assert_true(rules_may_record_sharing_decision(&tm, &iv));
    assert_false(rules_may_record_sharing_decision(&iro, &iv));
    assert_false(rules_may_record_sharing_decision(&officer, &iv));
}

/* ---- App. 4 value lists ---- */

static void test_R_RET_2_app4_value_lists_complete(void **state)
{
    (void)state;
    static const struct { const char *name; size_t n; bool multiple; } expect[] = {
        {"within_time_frames", 3, false}, {"time_frame_comments", 6, true},
        {"conducted_with", 2, false},     {"interview_methods", 3, false},
        {"interview_locations", 4, false}, {"ran_from", 7, false},
        {"locations_visited", 13, true},  {"relevant_information", 3, true},
        {"contributory_factors", 11, true}, {"reasons_for_running", 46, true},
        {"social_media", 11, true},       {"impact", 13, true},
        {"status_of_child", 10, false},   {"education_status", 7, false},
        {"disability", 6, false},         {"trigger_levels", 3, false},
        {"reported_missing_from", 4, false}, {"yes_no", 2, false},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        const rules_value_list *l = rules_value_list_find(expect[i].name);
        assert_non_null(l);
        assert_int_equal(l->n_values, expect[i].n);
        assert_int_equal(l->multiple, expect[i].multiple);
    }
    size_t n = 0;
    const rules_value_list *all = rules_value_lists(&n);
    for (size_t i = 0; i < n; i++) {
        assert_true(strlen(all[i].question) > 0);
        for (size_t j = 0; j < all[i].n_values; j++) {
            /* Codes unique within a list; only "OTHER" takes free text. */
            for (size_t k = 0; k < j; k++)
                assert_string_not_equal(all[i].values[j].code, all[i].values[k].code);
            assert_int_equal(all[i].values[j].needs_text, strcmp(all[i].values[j].code, "OTHER") == 0 &&
                                                              strcmp(all[i].name, "within_time_frames") != 0);
        }
    }
    assert_null(rules_value_list_find("no_such_list"));
    assert_non_null(rules_value_find(rules_value_list_find("contributory_factors"), "CSE_RELATED"));
    assert_null(rules_value_find(rules_value_list_find("contributory_factors"), "cse_related"));
}

static void test_R_RISK_7_cse_codes_prompt_a_matrix(void **state)
{
    (void)state;
    assert_true(rules_is_cse_code("CSE_RELATED"));
    assert_true(rules_is_cse_code("CSE_RELATED_TO_MISSING"));
    assert_true(rules_is_cse_code("CSE_SOCIAL_NETWORKING"));
    assert_false(rules_is_cse_code("CCE"));
    assert_false(rules_is_cse_code("TRAFFICKING"));
    assert_false(rules_is_cse_code(NULL));
}

static void test_input_shapes(void **state)
{
    (void)state;
    assert_true(rules_is_uuid("0b8f1c2e-7d3a-4c5b-9e6f-123456789abc"));
    assert_false(rules_is_uuid("0b8f1c2e7d3a4c5b9e6f123456789abc"));
    assert_false(rules_is_uuid("0b8f1c2e-7d3a-4c5b-9e6f-123456789abg"));
    assert_false(rules_is_uuid("'; drop table interviews; --"));
    assert_false(rules_is_uuid(NULL));
    assert_true(rules_is_date("2024-02-29"));
    assert_false(rules_is_date("2025-02-29"));
    assert_false(rules_is_date("2025-13-01"));
    assert_false(rules_is_date("25-01-01"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_RET_2_due_exactly_72_hours_after_located),
        cmocka_unit_test(test_R_RET_2_boundary_exactly_72h_is_within_time_frames),
        cmocka_unit_test(test_R_RET_2_spring_clock_change_does_not_shift_the_deadline),
        cmocka_unit_test(test_R_RET_2_autumn_clock_change_does_not_shift_the_deadline),
        cmocka_unit_test(test_R_RET_2_located_in_the_repeated_hour),
        cmocka_unit_test(test_R_RET_2_late_interview_needs_a_reason),
        cmocka_unit_test(test_R_RET_2_interview_time_must_be_plausible),
        cmocka_unit_test(test_R_RET_1_police_of_the_force_conduct_prevention),
        cmocka_unit_test(test_R_RET_1_care_staff_only_llr_residential),
        cmocka_unit_test(test_R_RET_2_return_interview_by_the_authority_workers),
        cmocka_unit_test(test_R_RET_3_share_only_with_consent_or_safeguarding_reason),
        cmocka_unit_test(test_R_RET_3_readers_of_a_return_interview),
        cmocka_unit_test(test_R_RET_3_readers_of_a_prevention_interview),
        cmocka_unit_test(test_R_RET_3_who_records_a_safeguarding_share),
        cmocka_unit_test(test_R_RET_2_app4_value_lists_complete),
        cmocka_unit_test(test_R_RISK_7_cse_codes_prompt_a_matrix),
        cmocka_unit_test(test_input_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
