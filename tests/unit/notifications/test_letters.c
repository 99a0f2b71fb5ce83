/* test_letters.c -- unit tests of the letters rendered from templates (R-NOT-3, R-ESC-3, R-NOT-5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "letters.h"

static nt_letter_facts facts(void)
{
    nt_letter_facts f;
    memset(&f, 0, sizeof f);
    f.today = "2026-11-23";
    f.child_name = "Sam Example";
    f.date_of_birth = "2011-04-02";
    f.child_id = "c-1";
    f.episode_id = "e-1";
    f.home_name = "Oak House";
    f.home_address = "1 Oak Lane";
    f.host_authority = "la-stoke";
    f.placing_authority = "la-wessex";
    f.force = "force-staffs";
    f.missing_since = "2026-11-22T21:00:00.000Z";
    f.last_seen_place = "bus station";
    f.risk_level = "high";
    f.episodes_90_days = 9;
    return f;
}

/* R-NOT-3: the letter to the placing authority carries the episode's facts
 * and leaves no placeholder unfilled. */
static void test_R_NOT_3_other_authority_letter(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_OTHER_AUTHORITY, &f, &subject);
    assert_non_null(body);
    assert_non_null(strstr(subject, "placed by your authority"));
    assert_non_null(strstr(body, "Designated Safeguarding Lead, la-wessex"));
    assert_non_null(strstr(body, "Sam Example"));
    assert_non_null(strstr(body, "2011-04-02"));
    assert_non_null(strstr(body, "Oak House, 1 Oak Lane"));
    assert_non_null(strstr(body, "2026-11-22T21:00:00.000Z"));
    assert_non_null(strstr(body, "incident reference: not recorded"));
    assert_null(strstr(body, "{{"));
    assert_string_equal(nt_letter_rule(NT_LETTER_OTHER_AUTHORITY), "R-NOT-3");
    free(subject);
    free(body);
}

/* R-ESC-3: nine episodes in 90 days, copy to the police missing person champion. */
static void test_R_ESC_3_level3_letter(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_LEVEL3, &f, &subject);
    assert_non_null(strstr(body, "gone missing\n9 times in the last 90 days"));
    assert_non_null(strstr(body, "Copy: Police missing person champion, force-staffs"));
    assert_null(strstr(body, "{{"));
    assert_string_equal(nt_letter_kind_name(NT_LETTER_LEVEL3), "level3_escalation");
    free(subject);
    free(body);
}

/* R-NOT-5: the alert names the ground and the days missing. */
static void test_R_NOT_5_alert_letter(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    f.ground = "unaccompanied_asylum_seeker";
    f.scope = "All local authorities (national alert)";
    f.rationale = "no contact for five days";
    f.raised_by = "Team Manager";
    f.days_missing = 5;
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_MISSING_ALERT, &f, &subject);
    assert_non_null(strstr(body, "missing for 5 days and is an unaccompanied asylum-seeking child"));
    assert_non_null(strstr(body, "To: All local authorities (national alert)"));
    assert_null(strstr(body, "{{"));
    free(subject);
    free(body);
    assert_null(nt_letter_render(NT_LETTER_NONE, &f, &subject));
}

static void test_template_unknown_and_empty_values(void **state)
{
    (void)state;
    const char *keys[] = {"a", "b"};
    const char *values[] = {"one", ""};
    char *s = nt_template_render("{{a}}-{{b}}-{{c}}-{{", keys, values, 2);
    assert_string_equal(s, "one-not recorded-not recorded-{{");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_NOT_3_other_authority_letter),
        cmocka_unit_test(test_R_ESC_3_level3_letter),
        cmocka_unit_test(test_R_NOT_5_alert_letter),
        cmocka_unit_test(test_template_unknown_and_empty_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
