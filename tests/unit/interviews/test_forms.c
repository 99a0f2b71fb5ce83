/* test_forms.c -- checks of the prevention interview (R-RET-1) and the return
 * interview form of App. 4 with its timeliness rule (R-RET-2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "forms.h"
#include "hw_time.h"

#define HOUR_MS 3600000LL

static int64_t located_ms;
static int64_t now_ms;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(hw_parse_rfc3339("2025-03-29T12:00:00.000Z", &located_ms), 0);
    now_ms = located_ms + 200 * HOUR_MS;
    return 0;
}

static bool has_violation(const hw_status *st, const char *field)
{
    for (int i = 0; i < st->n_violations; i++)
        if (strcmp(st->violations[i].field, field) == 0)
            return true;
    return false;
}

static char *cse[] = {"CSE_RELATED", "FRIENDS_PEERS"};

static return_form valid_return(int64_t contact_at)
{
    return_form f = HOMEWARD__INTERVIEWS__V1__RETURN_INTERVIEW_FORM__INIT;
    f.contact_at_ms = contact_at;
    f.conducted_with = "CHILD";
    f.seen_independently = "YES";
    f.method = "FACE_TO_FACE";
    f.location = "SCHOOL";
    f.ran_from = "FOSTER_CARE";
    f.closed_after_interview = "NO";
    f.date_of_missing = "2025-03-28";
    return f;
}

static void test_R_RET_2_valid_return_form_within_72h(void **state)
{
    (void)state;
    hw_status st = HW_STATUS_INIT;
    bool within = false;
    return_form f = valid_return(located_ms + 24 * HOUR_MS);
    forms_check_return(&f, located_ms, now_ms, &within, &st);
    assert_int_equal(st.code, HW_OK);
    assert_true(within);
}

/* Exactly 72 h across the spring clock change: in time, no reason needed. */
static void test_R_RET_2_exactly_72h_across_dst_needs_no_reason(void **state)
{
    (void)state;
    hw_status st = HW_STATUS_INIT;
    bool within = false;
    return_form f = valid_return(hw_london_instant((hw_date){2025, 4, 1}, 13, 0));
    forms_check_return(&f, located_ms, now_ms, &within, &st);
    assert_int_equal(st.code, HW_OK);
    assert_true(within);
}

static void test_R_RET_2_late_without_reason_refused(void **state)
{
    (void)state;
    hw_status st = HW_STATUS_INIT;
    bool within = true;
    return_form f = valid_return(located_ms + 72 * HOUR_MS + 1);
    forms_check_return(&f, located_ms, now_ms, &within, &st);
    assert_false(within);
    assert_int_equal(st.code, HW_INVALID_ARGUMENT);
    assert_int_equal(st.n_violations, 1);
    assert_true(has_violation(&st, "form.time_frame_comments"));
}

static void test_R_RET_2_late_with_comment_or_note_accepted(void **state)
{
    (void)state;
    static char *comments[] = {"MULTIPLE_ATTEMPTS"};
    hw_status st = HW_STATUS_INIT;
    bool within = true;
    return_form f = valid_return(located_ms + 96 * HOUR_MS);
    f.n_time_frame_comments = 1;
    f.time_frame_comments = comments;
    forms_check_return(&f, located_ms, now_ms, &within, &st);
    assert_int_equal(st.code, HW_OK);
    assert_false(within);

    hw_status st2 = HW_STATUS_INIT;
    return_form g = valid_return(located_ms + 96 * HOUR_MS);
    g.time_frame_note = "young person away with family";
    forms_check_return(&g, located_ms, now_ms, &within, &st2);
    assert_int_equal(st2.code, HW_OK);
    assert_false(within);
}

static void test_R_RET_2_required_fields_and_value_lists(void **state)
{
    (void)state;
    static char *bad_factors[] = {"CSE_RELATED", "NOT_A_FACTOR"};
    static char *dup_media[] = {"SNAPCHAT", "SNAPCHAT"};
    static char *other_media[] = {"OTHER"};
    hw_status st = HW_STATUS_INIT;
    bool within;
    return_form f = HOMEWARD__INTERVIEWS__V1__RETURN_INTERVIEW_FORM__INIT;
    f.method = "OTHER";                 /* without method_other */
    f.location = "BEACH";               /* not in the list */
    f.n_contributory_factors = 2;
    f.contributory_factors = bad_factors;
    f.n_social_media = 2;
    f.social_media = dup_media;
    f.date_of_missing = "2025-02-30";
    f.lead_professional_email = "not-an-email";
    forms_check_return(&f, located_ms, now_ms, &within, &st);
    assert_int_equal(st.code, HW_INVALID_ARGUMENT);
    const char *expected[] = {"form.contact_at_ms", "form.conducted_with", "form.seen_independently",
                              "form.method_other", "form.location", "form.ran_from",
                              "form.closed_after_interview", "form.contributory_factors",
                              "form.social_media", "form.date_of_missing", "form.lead_professional_email"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_true(has_violation(&st, expected[i]));

    hw_status st2 = HW_STATUS_INIT;
    return_form g = valid_return(located_ms + HOUR_MS);
    g.n_social_media = 1;
    g.social_media = other_media;
    forms_check_return(&g, located_ms, now_ms, &within, &st2);
    assert_true(has_violation(&st2, "form.social_media_other"));
    g.social_media_other = "a gaming chat";
    hw_status st3 = HW_STATUS_INIT;
    forms_check_return(&g, located_ms, now_ms, &within, &st3);
    assert_int_equal(st3.code, HW_OK);
}

static void test_R_RET_2_interview_before_located_or_in_future_refused(void **state)
{
    (void)state;
    hw_status st = HW_STATUS_INIT;
    bool within;
    return_form f = valid_return(located_ms - 1);
    forms_check_return(&f, located_ms, now_ms, &within, &st);
    assert_true(has_violation(&st, "form.contact_at_ms"));
    hw_status st2 = HW_STATUS_INIT;
    f.contact_at_ms = now_ms + HOUR_MS;
    forms_check_return(&f, located_ms, now_ms, &within, &st2);
    assert_true(has_violation(&st2, "form.contact_at_ms"));
    hw_status st3 = HW_STATUS_INIT;
    forms_check_return(NULL, located_ms, now_ms, &within, &st3);
    assert_true(has_violation(&st3, "form"));
}

static void test_R_RISK_7_cse_factor_detected(void **state)
{
    (void)state;
    return_form f = valid_return(located_ms + HOUR_MS);
    assert_false(forms_return_mentions_cse(&f));
    f.n_contributory_factors = 2;
    f.contributory_factors = cse;
    assert_true(forms_return_mentions_cse(&f));
    static char *reasons[] = {"BULLYING", "CSE_SOCIAL_NETWORKING"};
    return_form g = valid_return(located_ms + HOUR_MS);
    g.n_reasons_for_running = 2;
    g.reasons_for_running = reasons;
    assert_true(forms_return_mentions_cse(&g));
}

/* ---- prevention interview (R-RET-1, LLR p.12) ---- */

static void test_R_RET_1_prevention_needs_every_guide_section(void **state)
{
    (void)state;
    hw_status st = HW_STATUS_INIT;
    prevention_form f = HOMEWARD__INTERVIEWS__V1__PREVENTION_INTERVIEW_FORM__INIT;
    f.interview_at_ms = located_ms + HOUR_MS;
    forms_check_prevention(&f, located_ms, now_ms, &st);
    assert_int_equal(st.code, HW_INVALID_ARGUMENT);
    assert_int_equal(st.n_violations, 4);
    assert_true(has_violation(&st, "form.reasons_for_going"));
    assert_true(has_violation(&st, "form.circumstances_while_away"));
    assert_true(has_violation(&st, "form.reasons_for_returning"));
    assert_true(has_violation(&st, "form.vulnerability"));
}

static void test_R_RET_1_prevention_complete_and_disclosure_details(void **state)
{
    (void)state;
    Homeward__Interviews__V1__ReasonsForGoing g = HOMEWARD__INTERVIEWS__V1__REASONS_FOR_GOING__INIT;
    Homeward__Interviews__V1__CircumstancesWhileAway c = HOMEWARD__INTERVIEWS__V1__CIRCUMSTANCES_WHILE_AWAY__INIT;
    Homeward__Interviews__V1__ReasonsForReturning r = HOMEWARD__INTERVIEWS__V1__REASONS_FOR_RETURNING__INIT;
    Homeward__Interviews__V1__VulnerabilityIssues v = HOMEWARD__INTERVIEWS__V1__VULNERABILITY_ISSUES__INIT;
    g.life_pressures = "argument at home";
    c.who_with = "older friends";
    r.traced_by = "POLICE";
    v.injuries = "none";
    prevention_form f = HOMEWARD__INTERVIEWS__V1__PREVENTION_INTERVIEW_FORM__INIT;
    f.interview_at_ms = located_ms + HOUR_MS;
    f.reasons_for_going = &g;
    f.circumstances_while_away = &c;
    f.reasons_for_returning = &r;
    f.vulnerability = &v;
    hw_status st = HW_STATUS_INIT;
    forms_check_prevention(&f, located_ms, now_ms, &st);
    assert_int_equal(st.code, HW_OK);

    static char *disclosures[] = {"VICTIM_OF_CRIME"};
    f.n_disclosures = 1;
    f.disclosures = disclosures;
    hw_status st2 = HW_STATUS_INIT;
    forms_check_prevention(&f, located_ms, now_ms, &st2);
    assert_true(has_violation(&st2, "form.disclosure_details"));
    f.disclosure_details = "assaulted while away";
    hw_status st3 = HW_STATUS_INIT;
    forms_check_prevention(&f, located_ms, now_ms, &st3);
    assert_int_equal(st3.code, HW_OK);

    r.traced_by = "NEIGHBOUR";
    hw_status st4 = HW_STATUS_INIT;
    forms_check_prevention(&f, located_ms, now_ms, &st4);
    assert_true(has_violation(&st4, "form.reasons_for_returning.traced_by"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_RET_2_valid_return_form_within_72h),
        cmocka_unit_test(test_R_RET_2_exactly_72h_across_dst_needs_no_reason),
        cmocka_unit_test(test_R_RET_2_late_without_reason_refused),
        cmocka_unit_test(test_R_RET_2_late_with_comment_or_note_accepted),
        cmocka_unit_test(test_R_RET_2_required_fields_and_value_lists),
        cmocka_unit_test(test_R_RET_2_interview_before_located_or_in_future_refused),
        cmocka_unit_test(test_R_RISK_7_cse_factor_detected),
        cmocka_unit_test(test_R_RET_1_prevention_needs_every_guide_section),
        cmocka_unit_test(test_R_RET_1_prevention_complete_and_disclosure_details),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
