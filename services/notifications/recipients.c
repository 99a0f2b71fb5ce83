/* recipients.c -- who must hear of each event: rules as data, pure functions. */
#include "recipients.h"

#include <stdio.h>
#include <string.h>

#include "hw_roles.h"
#include "hw_time.h"

/* The people an episode change reaches by push within seconds (R-EPI-6). */
#define EPI6 (NT_ASSIGNED_OFFICER | NT_SPOC | NT_SOCIAL_WORKER)

static const nt_rule rules[] = {
    /* R-EPI-6: new or changed episodes. R-NOT-3: the letter to a placing
     * authority is made with the report, only when the child was placed by
     * another authority (nt_placed_by_other_authority). */
    {"episodes.reported", "episode_reported", "R-EPI-6", true, EPI6 | NT_HOME_STAFF,
     "A child has been reported missing", NT_LETTER_OTHER_AUTHORITY},
    {"episodes.updated", "episode_changed", "R-EPI-6", false, EPI6,
     "A missing episode has been updated", NT_LETTER_NONE},
    {"episodes.absence_recorded", "absence_recorded", "R-EPI-6", false, EPI6 | NT_HOME_STAFF,
     "A child is recorded absent from placement", NT_LETTER_NONE},
    /* R-NOT-1: when a child is found, everyone informed is told at once,
     * family contacts included unless marked "do not notify". */
    {"episodes.located", "child_found", "R-NOT-1", true,
     EPI6 | NT_TEAM_MANAGER | NT_IRO | NT_HOME_STAFF | NT_FAMILY | NT_PLACING_AUTHORITY,
     "A missing child has been found", NT_LETTER_NONE},
    {"episodes.closed", "episode_closed", "R-EPI-6", false, EPI6,
     "A missing episode has been closed", NT_LETTER_NONE},
    /* R-LONG-3 / R-DEF-6: 28 days. */
    {"episodes.long_term", "long_term_missing", "R-LONG-3", true,
     EPI6 | NT_TEAM_MANAGER | NT_IRO | NT_CSC_LEAD | NT_MPC,
     "A child is now long-term missing (28 days)", NT_LETTER_NONE},
    /* R-NOT-4: the Regulation 41 notification is 24 hours overdue. */
    {"episodes.reg41_overdue", "reg41_overdue", "R-NOT-4", false,
     NT_HOME_STAFF | NT_SOCIAL_WORKER | NT_TEAM_MANAGER | NT_SPOC,
     "Regulation 41 placement notification overdue", NT_LETTER_NONE},
    /* R-NOT-6: a served abduction notice is notified to the local authority. */
    {"risk.abduction_notice_served", "abduction_notice_served", "R-NOT-6", false,
     NT_SOCIAL_WORKER | NT_TEAM_MANAGER | NT_CSC_LEAD,
     "A Child Abduction Warning Notice has been served", NT_LETTER_NONE},
    /* R-NOT-7: a completed return interview goes to the social worker and police. */
    {"interviews.return_completed", "return_interview_completed", "R-NOT-7", false,
     NT_SOCIAL_WORKER | NT_ASSIGNED_OFFICER | NT_MPC,
     "A return interview has been completed", NT_LETTER_NONE},
    /* R-RET-2: due within 72 hours of being located. */
    {"interviews.return_overdue", "return_interview_overdue", "R-RET-2", false,
     NT_SOCIAL_WORKER | NT_TEAM_MANAGER | NT_POD_COORDINATORS,
     "A return interview is overdue (72 hours)", NT_LETTER_NONE},
    /* R-RET-1: a disclosure needs police attendance without delay. */
    {"interviews.disclosure", "disclosure", "R-RET-1", true,
     NT_ASSIGNED_OFFICER | NT_SPOC | NT_SUPERVISORS | NT_SOCIAL_WORKER,
     "Disclosure in a prevention interview: police attendance needed now", NT_LETTER_NONE},
    /* R-RISK-7: a CSE-related factor prompts a CSE matrix. */
    {"interviews.cse_prompt", "cse_matrix_prompt", "R-RISK-7", false,
     NT_SOCIAL_WORKER | NT_CSE_SOCIAL_WORKER,
     "A return interview suggests a CSE risk matrix is needed", NT_LETTER_NONE},
    /* R-LONG-1: missing 48 hours, the social worker informs their line manager. */
    {"meetings.line_manager_alert", "line_manager_alert", "R-LONG-1", true,
     NT_SOCIAL_WORKER | NT_TEAM_MANAGER,
     "A child has been missing for 48 hours", NT_LETTER_NONE},
    /* R-ESC-3: level 3; a placing authority is informed in writing, with a
     * copy to the police missing person champion. */
    {"meetings.level3_letter", "level3_escalation", "R-ESC-3", false,
     NT_SOCIAL_WORKER | NT_CSC_LEAD | NT_IRO | NT_MPC | NT_PLACING_AUTHORITY,
     "Level 3 escalation: letter to the placing authority", NT_LETTER_LEVEL3},
    /* R-MEET-1: overdue actions are visible. */
    {"meetings.action_overdue", "meeting_action_overdue", "R-MEET-1", false,
     NT_ACTION_OWNER | NT_CHAIR, "A meeting action is overdue", NT_LETTER_NONE},
};

const nt_rule *nt_rule_for(const char *event_type)
{
    if (!event_type)
        return NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].event_type, event_type) == 0)
            return &rules[i];
    return NULL;
}

static bool known(const char *s) { return s && *s; }

void nt_user_address(char out[NT_ADDRESS_MAX], const char *subject)
{
    snprintf(out, NT_ADDRESS_MAX, "user:%s", subject);
}

void nt_role_address(char out[NT_ADDRESS_MAX], const char *role, const char *org)
{
    snprintf(out, NT_ADDRESS_MAX, "role:%s@%s", role, org);
}

void nt_home_address(char out[NT_ADDRESS_MAX], const char *home_id)
{
    snprintf(out, NT_ADDRESS_MAX, "home-staff:%s", home_id);
}

int nt_add(nt_recipients *out, const char *address, const char *reason)
{
    for (int i = 0; i < out->n; i++)
        if (strcmp(out->r[i].address, address) == 0)
            return 0;
    if (out->n >= NT_MAX_RECIPIENTS)
        return -1;
    snprintf(out->r[out->n].address, NT_ADDRESS_MAX, "%s", address);
    out->r[out->n].reason = reason;
    out->n++;
    return 0;
}

static void add_user(nt_recipients *out, const char *subject, const char *reason)
{
    char a[NT_ADDRESS_MAX];
    if (!known(subject))
        return;
    nt_user_address(a, subject);
    nt_add(out, a, reason);
}

static void add_role(nt_recipients *out, const char *role, const char *org, const char *reason)
{
    char a[NT_ADDRESS_MAX];
    if (!known(org))
        return;
    nt_role_address(a, role, org);
    nt_add(out, a, reason);
}

const char *nt_placing_authority(const nt_facts *f)
{
    if (known(f->placing_authority))
        return f->placing_authority;
    return known(f->responsible_authority) ? f->responsible_authority : NULL;
}

bool nt_placed_by_other_authority(const nt_facts *f)
{
    const char *placing = nt_placing_authority(f);
    return f->looked_after && placing && known(f->host_authority) &&
           strcmp(placing, f->host_authority) != 0;
}

unsigned nt_missing_facts(const nt_rule *rule, const nt_facts *f)
{
    unsigned need = 0, who = rule->who;

    if ((who & NT_ASSIGNED_OFFICER) && !f->assigned_officer)
        need |= NT_ASSIGNED_OFFICER;
    if ((who & NT_SPOC) && !f->spocs_known)
        need |= NT_SPOC;
    if ((who & NT_SOCIAL_WORKER) && !f->social_worker)
        need |= NT_SOCIAL_WORKER;
    if ((who & NT_TEAM_MANAGER) && !f->team_manager)
        need |= NT_TEAM_MANAGER;
    if ((who & NT_IRO) && !f->iro)
        need |= NT_IRO;
    if ((who & NT_FAMILY) && !f->contacts_known)
        need |= NT_FAMILY;
    if ((who & NT_HOME_STAFF) && !known(f->home_id))
        need |= NT_HOME_STAFF;
    if ((who & (NT_POD_COORDINATORS | NT_LA_MANAGERS | NT_CSE_SOCIAL_WORKER | NT_CSC_LEAD)) &&
        !known(f->responsible_authority))
        need |= NT_CSC_LEAD;
    if ((who & (NT_MPC | NT_SUPERVISORS)) && !known(f->force))
        need |= NT_MPC;
    if ((who & NT_PLACING_AUTHORITY) && !known(f->host_authority))
        need |= NT_PLACING_AUTHORITY;
    return need;
}

int nt_resolve(const nt_rule *rule, const nt_facts *f, nt_recipients *out)
{
    unsigned who = rule->who;
    const char *la = f->responsible_authority;

    memset(out, 0, sizeof *out);
    if (who & NT_ASSIGNED_OFFICER)
        add_user(out, f->assigned_officer, "assigned_officer");
    if (who & NT_SPOC)
        for (int i = 0; i < f->n_spocs && i < NT_MAX_IDS; i++)
            add_user(out, f->spocs[i], "spoc");
    if (who & NT_SOCIAL_WORKER)
        add_user(out, f->social_worker, "social_worker");
    if (who & NT_TEAM_MANAGER)
        add_user(out, f->team_manager, "team_manager");
    if (who & NT_IRO)
        add_user(out, f->iro, "iro");
    if ((who & NT_HOME_STAFF) && known(f->home_id)) {
        char a[NT_ADDRESS_MAX];
        nt_home_address(a, f->home_id);
        nt_add(out, a, "home_staff");
    }
    if (who & NT_ACTION_OWNER)
        add_user(out, f->owner, "action_owner");
    if (who & NT_CHAIR)
        add_user(out, f->chair, "chair");
    if (who & NT_POD_COORDINATORS)
        add_role(out, HW_ROLE_POD_COORDINATOR, la, "pod_coordinator");
    if (who & NT_LA_MANAGERS) {
        add_role(out, HW_ROLE_TEAM_MANAGER, la, "manager");
        add_role(out, HW_ROLE_CSC_LEAD, la, "manager");
    }
    if (who & NT_CSE_SOCIAL_WORKER)
        add_role(out, HW_ROLE_CSE_SOCIAL_WORKER, la, "cse_social_worker");
    if (who & NT_CSC_LEAD)
        add_role(out, HW_ROLE_CSC_LEAD, la, "csc_lead");
    if (who & NT_MPC)
        add_role(out, HW_ROLE_MPC, f->force, "missing_person_coordinator");
    if (who & NT_SUPERVISORS) {
        add_role(out, HW_ROLE_LPT_SERGEANT, f->force, "supervisor");
        add_role(out, HW_ROLE_CONTROL_ROOM_MANAGER, f->force, "supervisor");
    }
    /* The placing authority is told only when it is another authority
     * than the host's (it was written to under R-NOT-3). */
    if ((who & NT_PLACING_AUTHORITY) && nt_placed_by_other_authority(f))
        add_role(out, HW_ROLE_CSC_LEAD, nt_placing_authority(f), "placing_authority");
    /* R-NOT-1: a contact marked "do not notify" is never told. */
    if (who & NT_FAMILY) {
        for (int i = 0; i < f->n_contacts && i < NT_MAX_CONTACTS; i++) {
            if (f->contacts[i].do_not_notify) {
                out->n_family_withheld++;
                continue;
            }
            out->family[out->n_family++] = i;
        }
    }
    return out->n;
}

int nt_principal_addresses(const hw_principal *p, char (*out)[NT_ADDRESS_MAX], int max)
{
    int n = 0;

    if (n < max)
        nt_user_address(out[n++], p->sub);
    for (int i = 0; i < p->n_roles && n < max; i++)
        if (p->org[0])
            nt_role_address(out[n++], p->roles[i], p->org);
    if (hw_principal_has_role(p, HW_ROLE_CARE_STAFF))
        for (int i = 0; i < p->n_homes && n < max; i++)
            nt_home_address(out[n++], p->homes[i]);
    return n;
}

void nt_daily_alert_recipients(const char *authority, nt_recipients *out)
{
    memset(out, 0, sizeof *out);
    /* R-NOT-2 (STAFFS 9.5): pod coordinators, managers, the CSE social worker. */
    add_role(out, HW_ROLE_POD_COORDINATOR, authority, "pod_coordinator");
    add_role(out, HW_ROLE_TEAM_MANAGER, authority, "manager");
    add_role(out, HW_ROLE_CSC_LEAD, authority, "manager");
    add_role(out, HW_ROLE_CSE_SOCIAL_WORKER, authority, "cse_social_worker");
}

int64_t nt_daily_alert_next(int64_t now_ms, char date_out[11])
{
    int64_t at = hw_next_london_time(now_ms, 7, 0);
    hw_date d = hw_london_date(at, NULL);
    snprintf(date_out, 11, "%04d-%02d-%02d", d.y, d.m, d.d);
    return at;
}

int nt_missing_alert_allowed(const char *status, const char *risk_level, int ground,
                             int64_t missing_since_ms, int64_t now_ms, int *days,
                             const char **field, const char **why)
{
    *days = 0;
    if (ground < 1 || ground > 3) {
        *field = "ground";
        *why = "one of high-risk CSE, high-risk trafficking, unaccompanied asylum seeker";
        return -1;
    }
    if (!status || (strcmp(status, "missing") != 0 && strcmp(status, "reported") != 0)) {
        *field = "episode_id";
        *why = "the child is not missing now";
        return -1;
    }
    if (missing_since_ms <= 0 || now_ms < missing_since_ms) {
        *field = "episode_id";
        *why = "the episode has no missing-since time";
        return -1;
    }
    *days = (int)((now_ms - missing_since_ms) / (24LL * 3600 * 1000));
    if (*days < NT_ALERT_MIN_DAYS) {
        *field = "episode_id";
        *why = "an alert is for a child missing several days (at least 3)";
        return -1;
    }
    if (ground != 3 && (!risk_level || strcmp(risk_level, "high") != 0)) {
        *field = "ground";
        *why = "high-risk CSE or trafficking needs the episode's risk level to be high";
        return -1;
    }
    return 0;
}
