/* test_recipients.c -- unit tests of who hears of each event (notifications' pure rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hw_roles.h"
#include "hw_time.h"
#include "recipients.h"

#define HOUR (3600LL * 1000)
#define DAY (24 * HOUR)

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(hw_parse_rfc3339(rfc3339, &ms), 0);
    return ms;
}

static bool has(const nt_recipients *r, const char *address, const char *reason)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->r[i].address, address) == 0)
            return reason == NULL || strcmp(r->r[i].reason, reason) == 0;
    return false;
}

static nt_facts episode_facts(void)
{
    nt_facts f;
    memset(&f, 0, sizeof f);
    f.episode_id = "e1";
    f.child_id = "c1";
    f.home_id = "h1";
    f.status = "missing";
    f.force = "force-staffs";
    f.responsible_authority = "la-stoke";
    f.host_authority = "la-stoke";
    f.assigned_officer = "officer-7";
    f.social_worker = "sw-3";
    f.team_manager = "tm-2";
    f.iro = "iro-1";
    f.spocs[0] = "spoc-1";
    f.spocs[1] = "spoc-2";
    f.n_spocs = 2;
    f.spocs_known = true;
    f.contacts_known = true;
    f.looked_after = true;
    return f;
}

/* R-EPI-6: a new episode reaches the assigned officer, every SPOC of the
 * home and the social worker; no duplicates. */
static void test_R_EPI_6_reported_reaches_officer_spoc_social_worker(void **state)
{
    (void)state;
    const nt_rule *rule = nt_rule_for("episodes.reported");
    assert_non_null(rule);
    assert_string_equal(rule->rule, "R-EPI-6");
    assert_true(rule->urgent);
    nt_facts f = episode_facts();
    f.spocs[2] = "officer-7"; /* also a SPOC: told once */
    f.n_spocs = 3;
    nt_recipients r;
    nt_resolve(rule, &f, &r);
    assert_true(has(&r, "user:officer-7", "assigned_officer"));
    assert_true(has(&r, "user:spoc-1", "spoc"));
    assert_true(has(&r, "user:spoc-2", "spoc"));
    assert_true(has(&r, "user:sw-3", "social_worker"));
    assert_true(has(&r, "home-staff:h1", "home_staff"));
    int officer = 0;
    for (int i = 0; i < r.n; i++)
        officer += strcmp(r.r[i].address, "user:officer-7") == 0;
    assert_int_equal(officer, 1);
    assert_false(has(&r, "user:tm-2", NULL));
    /* R-EPI-6 also covers a changed episode. */
    const nt_rule *changed = nt_rule_for("episodes.updated");
    assert_non_null(changed);
    assert_string_equal(changed->rule, "R-EPI-6");
    nt_resolve(changed, &f, &r);
    assert_true(has(&r, "user:officer-7", NULL) && has(&r, "user:spoc-1", NULL) &&
                has(&r, "user:sw-3", NULL));
}

/* R-EPI-6: people not known in the payload are looked up, not skipped. */
static void test_R_EPI_6_missing_facts_are_asked_for(void **state)
{
    (void)state;
    const nt_rule *rule = nt_rule_for("episodes.reported");
    nt_facts f;
    memset(&f, 0, sizeof f);
    f.episode_id = "e1";
    unsigned need = nt_missing_facts(rule, &f);
    assert_true(need & NT_ASSIGNED_OFFICER);
    assert_true(need & NT_SPOC);
    assert_true(need & NT_SOCIAL_WORKER);
    f = episode_facts();
    assert_int_equal(nt_missing_facts(rule, &f), 0);
    /* "" means known and none: no assigned officer yet is not a lookup. */
    f.assigned_officer = "";
    assert_int_equal(nt_missing_facts(rule, &f) & NT_ASSIGNED_OFFICER, 0);
}

/* R-NOT-1: when the child is found everyone informed is told, family
 * contacts too -- except a contact marked "do not notify". */
static void test_R_NOT_1_found_skips_do_not_notify_contacts(void **state)
{
    (void)state;
    const nt_rule *rule = nt_rule_for("episodes.located");
    assert_non_null(rule);
    assert_string_equal(rule->rule, "R-NOT-1");
    nt_facts f = episode_facts();
    f.contacts[0] = (nt_contact){"Parent A", "mother", "07700 900001", false};
    f.contacts[1] = (nt_contact){"Parent B", "father", "07700 900002", true};
    f.contacts[2] = (nt_contact){"Aunt", "aunt", "07700 900003", false};
    f.n_contacts = 3;
    nt_recipients r;
    nt_resolve(rule, &f, &r);
    assert_true(has(&r, "user:officer-7", NULL));
    assert_true(has(&r, "user:spoc-1", NULL));
    assert_true(has(&r, "user:sw-3", NULL));
    assert_true(has(&r, "user:tm-2", "team_manager"));
    assert_true(has(&r, "user:iro-1", "iro"));
    assert_int_equal(r.n_family, 2);
    assert_int_equal(r.family[0], 0);
    assert_int_equal(r.family[1], 2);
    assert_int_equal(r.n_family_withheld, 1);
    for (int i = 0; i < r.n_family; i++)
        assert_false(f.contacts[r.family[i]].do_not_notify);
}

/* R-NOT-2: the daily alert goes to pod coordinators, managers and the CSE
 * social worker of the authority, at 07:00 Europe/London. */
static void test_R_NOT_2_daily_alert_recipients_and_time(void **state)
{
    (void)state;
    nt_recipients r;
    nt_daily_alert_recipients("la-stoke", &r);
    assert_true(has(&r, "role:" HW_ROLE_POD_COORDINATOR "@la-stoke", "pod_coordinator"));
    assert_true(has(&r, "role:" HW_ROLE_TEAM_MANAGER "@la-stoke", "manager"));
    assert_true(has(&r, "role:" HW_ROLE_CSC_LEAD "@la-stoke", "manager"));
    assert_true(has(&r, "role:" HW_ROLE_CSE_SOCIAL_WORKER "@la-stoke", "cse_social_worker"));
    assert_false(has(&r, "role:" HW_ROLE_POD_COORDINATOR "@la-staffs", NULL));

    char date[11];
    /* Winter: 07:00 GMT is 07:00Z. */
    assert_true(nt_daily_alert_next(at("2026-01-10T06:59:58Z"), date) == at("2026-01-10T07:00:00Z"));
    assert_string_equal(date, "2026-01-10");
    /* Spring forward (2026-03-29): 07:00 BST is 06:00Z, the same day. */
    assert_true(nt_daily_alert_next(at("2026-03-29T05:59:58Z"), date) == at("2026-03-29T06:00:00Z"));
    assert_string_equal(date, "2026-03-29");
    /* Fired at 07:00 exactly: the next is tomorrow's, 23 h later across the change. */
    assert_true(nt_daily_alert_next(at("2026-03-29T06:00:00Z"), date) == at("2026-03-30T06:00:00Z"));
    assert_string_equal(date, "2026-03-30");
    assert_true(nt_daily_alert_next(at("2026-03-28T07:00:00Z"), date) == at("2026-03-29T06:00:00Z"));
    /* Fall back (2026-10-25): 07:00 GMT is 07:00Z; the day before at 06:00Z. */
    assert_true(nt_daily_alert_next(at("2026-10-24T06:00:00Z"), date) == at("2026-10-25T07:00:00Z"));
    assert_string_equal(date, "2026-10-25");
    assert_true(nt_daily_alert_next(at("2026-10-25T06:59:58Z"), date) == at("2026-10-25T07:00:00Z"));
    assert_string_equal(date, "2026-10-25");
}

/* R-NOT-3: only a looked-after child placed by another authority than the
 * home's makes the placing-authority letter. */
static void test_R_NOT_3_other_authority_placement(void **state)
{
    (void)state;
    const nt_rule *rule = nt_rule_for("episodes.reported");
    assert_int_equal(rule->letter, NT_LETTER_OTHER_AUTHORITY);
    nt_facts f = episode_facts();
    assert_false(nt_placed_by_other_authority(&f)); /* same authority */
    f.placing_authority = "la-wessex";
    assert_true(nt_placed_by_other_authority(&f));
    assert_string_equal(nt_placing_authority(&f), "la-wessex");
    f.looked_after = false;
    assert_false(nt_placed_by_other_authority(&f));
    f.looked_after = true;
    f.host_authority = NULL; /* unknown home: no letter on a guess */
    assert_false(nt_placed_by_other_authority(&f));
    /* Found: the placing authority's lead is told when it was written to. */
    f = episode_facts();
    f.placing_authority = "la-wessex";
    nt_recipients r;
    nt_resolve(nt_rule_for("episodes.located"), &f, &r);
    assert_true(has(&r, "role:" HW_ROLE_CSC_LEAD "@la-wessex", "placing_authority"));
}

/* R-ESC-3: level 3 letter; the police missing person champion and the IRO
 * are told, with the placing authority's lead. */
static void test_R_ESC_3_level3_letter_recipients(void **state)
{
    (void)state;
    const nt_rule *rule = nt_rule_for("meetings.level3_letter");
    assert_non_null(rule);
    assert_string_equal(rule->rule, "R-ESC-3");
    assert_int_equal(rule->letter, NT_LETTER_LEVEL3);
    nt_facts f = episode_facts();
    f.placing_authority = "la-wessex";
    nt_recipients r;
    nt_resolve(rule, &f, &r);
    assert_true(has(&r, "role:" HW_ROLE_MPC "@force-staffs", NULL));
    assert_true(has(&r, "user:iro-1", "iro"));
    assert_true(has(&r, "role:" HW_ROLE_CSC_LEAD "@la-stoke", "csc_lead"));
    assert_true(has(&r, "role:" HW_ROLE_CSC_LEAD "@la-wessex", "placing_authority"));
}

/* R-NOT-4, R-NOT-6, R-NOT-7, R-LONG-1: the other event rules. */
static void test_R_NOT_4_6_7_and_R_LONG_1_rules(void **state)
{
    (void)state;
    nt_facts f = episode_facts();
    nt_recipients r;

    const nt_rule *reg41 = nt_rule_for("episodes.reg41_overdue");
    assert_string_equal(reg41->rule, "R-NOT-4");
    nt_resolve(reg41, &f, &r);
    assert_true(has(&r, "home-staff:h1", NULL) && has(&r, "user:sw-3", NULL) &&
                has(&r, "user:spoc-1", NULL));

    const nt_rule *cawn = nt_rule_for("risk.abduction_notice_served");
    assert_string_equal(cawn->rule, "R-NOT-6");
    nt_resolve(cawn, &f, &r);
    assert_true(has(&r, "user:sw-3", NULL));
    assert_true(has(&r, "role:" HW_ROLE_CSC_LEAD "@la-stoke", NULL));

    const nt_rule *ri = nt_rule_for("interviews.return_completed");
    assert_string_equal(ri->rule, "R-NOT-7");
    nt_resolve(ri, &f, &r);
    assert_true(has(&r, "user:sw-3", "social_worker"));
    assert_true(has(&r, "user:officer-7", "assigned_officer"));
    assert_true(has(&r, "role:" HW_ROLE_MPC "@force-staffs", NULL));

    const nt_rule *lm = nt_rule_for("meetings.line_manager_alert");
    assert_string_equal(lm->rule, "R-LONG-1");
    nt_resolve(lm, &f, &r);
    assert_true(has(&r, "user:tm-2", "team_manager"));

    assert_null(nt_rule_for("episodes.placement_started"));
    assert_null(nt_rule_for(NULL));
}

/* R-NOT-5: only for a child missing several days who is high-risk CSE,
 * high-risk trafficking, or an unaccompanied asylum seeker. */
static void test_R_NOT_5_missing_alert_conditions(void **state)
{
    (void)state;
    int64_t now = at("2026-05-10T12:00:00Z");
    int days;
    const char *field = NULL, *why = NULL;
    assert_int_equal(nt_missing_alert_allowed("missing", "high", 1, now - 4 * DAY, now, &days,
                                              &field, &why), 0);
    assert_int_equal(days, 4);
    assert_int_equal(nt_missing_alert_allowed("missing", "high", 2, now - 3 * DAY, now, &days,
                                              &field, &why), 0);
    /* UASC needs no risk level. */
    assert_int_equal(nt_missing_alert_allowed("reported", "medium", 3, now - 5 * DAY, now, &days,
                                              &field, &why), 0);
    /* Too soon. */
    assert_int_equal(nt_missing_alert_allowed("missing", "high", 1, now - 2 * DAY, now, &days,
                                              &field, &why), -1);
    assert_string_equal(field, "episode_id");
    /* CSE without a high risk level. */
    assert_int_equal(nt_missing_alert_allowed("missing", "medium", 1, now - 9 * DAY, now, &days,
                                              &field, &why), -1);
    assert_string_equal(field, "ground");
    /* Found already. */
    assert_int_equal(nt_missing_alert_allowed("located", "high", 1, now - 9 * DAY, now, &days,
                                              &field, &why), -1);
    /* No ground. */
    assert_int_equal(nt_missing_alert_allowed("missing", "high", 0, now - 9 * DAY, now, &days,
                                              &field, &why), -1);
    assert_string_equal(field, "ground");
}

/* R-SEC-1: a person answers to their own id, their roles in their own
 * organisation and (care staff) their homes -- nothing else. */
static void test_R_SEC_1_principal_addresses(void **state)
{
    (void)state;
    hw_principal p;
    char homes[1][HW_HOME_ID_MAX]; /* a principal built by hand owns its homes */
    memset(&p, 0, sizeof p);
    p.homes = homes;
    strcpy(p.sub, "cs-1");
    strcpy(p.org, "la-stoke");
    p.n_roles = 1;
    strcpy(p.roles[0], HW_ROLE_CARE_STAFF);
    p.n_homes = 1;
    strcpy(p.homes[0], "h1");
    char a[8][NT_ADDRESS_MAX];
    int n = nt_principal_addresses(&p, a, 8);
    assert_int_equal(n, 3);
    assert_string_equal(a[0], "user:cs-1");
    assert_string_equal(a[1], "role:care_staff@la-stoke");
    assert_string_equal(a[2], "home-staff:h1");
    strcpy(p.roles[0], HW_ROLE_SPOC); /* a SPOC's homes are not care-staff addresses */
    n = nt_principal_addresses(&p, a, 8);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_EPI_6_reported_reaches_officer_spoc_social_worker),
        cmocka_unit_test(test_R_EPI_6_missing_facts_are_asked_for),
        cmocka_unit_test(test_R_NOT_1_found_skips_do_not_notify_contacts),
        cmocka_unit_test(test_R_NOT_2_daily_alert_recipients_and_time),
        cmocka_unit_test(test_R_NOT_3_other_authority_placement),
        cmocka_unit_test(test_R_ESC_3_level3_letter_recipients),
        cmocka_unit_test(test_R_NOT_4_6_7_and_R_LONG_1_rules),
        cmocka_unit_test(test_R_NOT_5_missing_alert_conditions),
        cmocka_unit_test(test_R_SEC_1_principal_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
