/* escalation.c -- when repeat and long episodes call for a meeting, who is
 * invited, who chairs and by when (PROTOCOL R-ESC-*, R-LONG-*, R-MEET-1). */
#include "escalation.h"

#include <string.h>

#include "hw_roles.h"
#include "hw_time.h"

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool empty(const char *s)
{
    return !s || !*s;
}

/* ------------------------------------------------------------ profiles */

mt_profile mt_profile_parse(const char *s, bool *known)
{
    bool k = true;
    mt_profile p = MT_PROFILE_STAFFS;
    if (eq(s, "LLR"))
        p = MT_PROFILE_LLR;
    else if (!eq(s, "STAFFS"))
        k = false;
    if (known)
        *known = k;
    return p;
}

const char *mt_profile_name(mt_profile p)
{
    return p == MT_PROFILE_LLR ? "LLR" : "STAFFS";
}

static const char *const kind_names[MT_KIND_COUNT] = {
    [MT_KIND_NONE] = "",
    [MT_KIND_LEVEL_1] = "intervention_level_1",
    [MT_KIND_LEVEL_2] = "intervention_level_2",
    [MT_KIND_LEVEL_3] = "intervention_level_3",
    [MT_KIND_STRATEGY] = "strategy",
    [MT_KIND_CASE_REVIEW] = "case_review",
};

const char *mt_kind_name(mt_kind k)
{
    return (int)k >= 0 && (int)k < MT_KIND_COUNT ? kind_names[k] : "";
}

mt_kind mt_kind_parse(const char *s)
{
    if (empty(s))
        return MT_KIND_NONE;
    for (int k = 1; k < MT_KIND_COUNT; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return (mt_kind)k;
    return MT_KIND_NONE;
}

int mt_kind_level(mt_kind k)
{
    return k >= MT_KIND_LEVEL_1 && k <= MT_KIND_LEVEL_3 ? (int)k : 0;
}

/* Profile table: STAFFS escalates through three intervention levels and
 * holds a case review at 3 days; LLR has the one strategy meeting for both
 * repeat and long episodes. */
bool mt_kind_in_profile(mt_profile p, mt_kind k)
{
    if (p == MT_PROFILE_LLR)
        return k == MT_KIND_STRATEGY;
    return mt_kind_level(k) > 0 || k == MT_KIND_CASE_REVIEW;
}

/* ------------------------------------------------------------ thresholds */

int mt_threshold(mt_profile p, mt_kind k)
{
    if (p == MT_PROFILE_LLR)
        return k == MT_KIND_STRATEGY ? 3 : 0; /* R-ESC-5: 3 in a rolling 90 days */
    switch (k) {
    case MT_KIND_LEVEL_1: return 3;           /* R-ESC-1, STAFFS 13.15 */
    case MT_KIND_LEVEL_2: return 5;           /* R-ESC-2, STAFFS 13.17 */
    case MT_KIND_LEVEL_3: return 9;           /* R-ESC-3, STAFFS 13.18 */
    default: return 0;
    }
}

mt_kind mt_kind_for_count(mt_profile p, int missing_90_days)
{
    if (p == MT_PROFILE_LLR)
        return missing_90_days >= mt_threshold(p, MT_KIND_STRATEGY) ? MT_KIND_STRATEGY : MT_KIND_NONE;
    for (mt_kind k = MT_KIND_LEVEL_3; k >= MT_KIND_LEVEL_1; k--)
        if (missing_90_days >= mt_threshold(p, k))
            return k;
    return MT_KIND_NONE;
}

bool mt_in_window(int64_t reported_ms, int64_t as_of_ms)
{
    return reported_ms > as_of_ms - MT_WINDOW_MS && reported_ms <= as_of_ms;
}

int mt_count_in_window(const int64_t *reported_ms, size_t n, int64_t as_of_ms)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += mt_in_window(reported_ms[i], as_of_ms);
    return c;
}

mt_kind mt_repeat_meeting(mt_profile p, int count, int open_level, bool kind_in_window)
{
    mt_kind k = mt_kind_for_count(p, count);
    if (k == MT_KIND_NONE)
        return MT_KIND_NONE;
    int level = p == MT_PROFILE_LLR ? 1 : mt_kind_level(k);
    if (open_level >= level)
        return MT_KIND_NONE;
    if (count == mt_threshold(p, k) || !kind_in_window)
        return k;
    return MT_KIND_NONE;
}

/* ------------------------------------------------------------ invitees */

/* R-ESC-1, STAFFS 13.15: after three episodes within a 90-day period. */
static const mt_invitee_rule level_1[] = {
    {"social_worker", "the child's social worker (chair)", true, false},
    {"child", "the young person", false, false},
    {"parent", "their parent(s)", false, false},
    {"police_officer", "the relevant police officer", false, false},
    {"care_staff", "residential worker / foster carer / fostering social worker", false, false},
    {"return_interview_worker", "the person who conducted the return interview", false, true},
};

/* R-ESC-2, STAFFS 13.17: after five episodes within a 90-day period. */
static const mt_invitee_rule level_2[] = {
    {"team_manager", "the relevant practice / team manager (chair)", true, false},
    {"child", "the child", false, false},
    {"advocate", "the child's advocate (except in exceptional circumstances)", false, false},
    {"parent", "parent(s)", false, false},
    {"police_officer", "the relevant police officer", false, false},
    {"residential_manager", "residential unit manager / assistant or fostering team manager", false,
     false},
    {"social_worker", "the child's social worker", false, false},
    {"health", "a representative from health", false, true},
    {"education", "a representative from education", false, true},
    {"return_interview_worker", "the person who conducted the return interview", false, false},
};

/* R-ESC-3, STAFFS 13.18: after nine episodes within a 90-day period. The
 * paragraph names no chair; the children's social care lead, named first
 * and the most senior attendee, chairs. */
static const mt_invitee_rule level_3[] = {
    {"csc_lead", "the relevant children's social care lead (chair)", true, false},
    {"child", "the child", false, false},
    {"advocate", "the child's advocate", false, false},
    {"parent", "parent(s)", false, false},
    {"team_manager", "children's practice / principal / team manager", false, false},
    {"fostering_team_manager", "fostering team manager", false, false},
    {"missing_person_coordinator", "police missing person coordinator / champion", false, false},
    {"residential_manager", "residential manager", false, true},
    {"social_worker", "the child's social worker", false, false},
    {"health", "a representative from health", false, true},
    {"education", "a representative from education", false, true},
    {"return_interview_worker", "the person who conducted the return interview", false, false},
    {"iro", "the Independent Reviewing Officer (IRO)", false, false},
};

/* R-ESC-5, LLR "Strategy meetings": the pack names only who arranges it
 * (the child's social worker); invited are the agencies a strategy meeting
 * exists to join up: police, the care provider the pack is written for,
 * and the return interview worker where there has been one. */
static const mt_invitee_rule strategy[] = {
    {"social_worker", "the child's social worker (arranges the meeting)", true, false},
    {"police_officer", "the police", false, false},
    {"care_staff", "the care provider / carer", false, false},
    {"return_interview_worker", "the person who conducted the return interview", false, true},
};

/* R-LONG-2, STAFFS 17.2: the police and the child's social worker hold it. */
static const mt_invitee_rule case_review[] = {
    {"social_worker", "the child's social worker (chair, with the police)", true, false},
    {"police_officer", "the police", false, false},
    {"care_staff", "foster carer / carer", false, false},
    {"other_professional", "any other care professional(s) involved in the care of the child", false,
     true},
};

#define RULE(k, id, src, chair, list) {k, id, src, chair, list, sizeof list / sizeof list[0]}
static const mt_meeting_rule meeting_rules[MT_KIND_COUNT] = {
    [MT_KIND_LEVEL_1] = RULE(MT_KIND_LEVEL_1, "R-ESC-1", "STAFFS 13.15", "social_worker", level_1),
    [MT_KIND_LEVEL_2] = RULE(MT_KIND_LEVEL_2, "R-ESC-2", "STAFFS 13.17", "team_manager", level_2),
    [MT_KIND_LEVEL_3] = RULE(MT_KIND_LEVEL_3, "R-ESC-3", "STAFFS 13.18", "csc_lead", level_3),
    [MT_KIND_STRATEGY] = RULE(MT_KIND_STRATEGY, "R-ESC-5", "LLR strategy meetings", "social_worker",
                              strategy),
    [MT_KIND_CASE_REVIEW] = RULE(MT_KIND_CASE_REVIEW, "R-LONG-2", "STAFFS 17.2", "social_worker",
                                 case_review),
};
#undef RULE

const mt_meeting_rule *mt_meeting_rule_for(mt_kind k)
{
    if ((int)k <= 0 || (int)k >= MT_KIND_COUNT)
        return NULL;
    return &meeting_rules[k];
}

bool mt_invites(mt_kind k, const char *role)
{
    const mt_meeting_rule *r = mt_meeting_rule_for(k);
    for (size_t i = 0; r && i < r->n_invitees; i++)
        if (eq(r->invitees[i].role, role))
            return true;
    return false;
}

int64_t mt_due_by(mt_kind k, int64_t trigger_ms)
{
    if (k == MT_KIND_CASE_REVIEW)
        return hw_working_days_deadline(trigger_ms, MT_CASE_REVIEW_DUE_WORKING_DAYS);
    return hw_working_days_deadline(trigger_ms, MT_MEETING_DUE_WORKING_DAYS);
}

/* ------------------------------------------------------------ long episodes */

static const mt_long_rule long_rules[] = {
    /* STAFFS */
    {MT_DEADLINE_LINE_MANAGER, 48, "R-LONG-1", MT_KIND_NONE},       /* STAFFS 17.1 */
    {MT_DEADLINE_CASE_REVIEW, 72, "R-LONG-2", MT_KIND_CASE_REVIEW}, /* STAFFS 17.2: 3 days */
    /* LLR */
    {MT_DEADLINE_STRATEGY_72H, 72, "R-ESC-5", MT_KIND_STRATEGY},    /* missing > 72 hours */
};

size_t mt_long_rules(mt_profile p, const mt_long_rule **out)
{
    if (p == MT_PROFILE_LLR) {
        *out = &long_rules[2];
        return 1;
    }
    *out = &long_rules[0];
    return 2;
}

size_t mt_all_long_rules(const mt_long_rule **out)
{
    *out = long_rules;
    return sizeof long_rules / sizeof long_rules[0];
}

const mt_long_rule *mt_long_rule_for(const char *deadline_kind)
{
    for (size_t i = 0; i < sizeof long_rules / sizeof long_rules[0]; i++)
        if (eq(long_rules[i].deadline_kind, deadline_kind))
            return &long_rules[i];
    return NULL;
}

/* ------------------------------------------------------------ R-ESC-3 letter */

bool mt_level3_letter_needed(mt_kind k, const char *placing_authority,
                             const char *responsible_authority, const char *host_authority)
{
    if (k != MT_KIND_LEVEL_3 || empty(placing_authority))
        return false;
    const char *local = !empty(host_authority) ? host_authority : responsible_authority;
    return !eq(placing_authority, local);
}

/* ------------------------------------------------------------ R-ESC-4 */

mt_kind mt_escalates_to(mt_kind k)
{
    if (k == MT_KIND_LEVEL_1)
        return MT_KIND_LEVEL_2;
    if (k == MT_KIND_LEVEL_2)
        return MT_KIND_LEVEL_3;
    return MT_KIND_NONE;
}

/* ------------------------------------------------------------ access */

bool mt_may_manage(const hw_principal *p, const char *responsible_authority)
{
    if (empty(responsible_authority) || strcmp(p->org, responsible_authority) != 0)
        return false;
    return hw_principal_has_role(p, HW_ROLE_SOCIAL_WORKER) ||
           hw_principal_has_role(p, HW_ROLE_TEAM_MANAGER) ||
           hw_principal_has_role(p, HW_ROLE_CSC_LEAD) || hw_principal_has_role(p, HW_ROLE_IRO);
}

bool mt_is_police(const hw_principal *p)
{
    static const char *const police[] = {HW_POLICE_ROLES, NULL};
    for (int i = 0; police[i]; i++)
        if (hw_principal_has_role(p, police[i]))
            return true;
    return false;
}

bool mt_may_request(const hw_principal *p, const char *responsible_authority, const char *force,
                    const char *home_id)
{
    if (mt_may_manage(p, responsible_authority))
        return true;
    if (mt_is_police(p) && !empty(force) && strcmp(p->org, force) == 0)
        return true;
    if (hw_principal_has_role(p, HW_ROLE_RETURN_WORKER) && !empty(responsible_authority) &&
        strcmp(p->org, responsible_authority) == 0)
        return true;
    return hw_principal_has_role(p, HW_ROLE_CARE_STAFF) && !empty(home_id) &&
           hw_principal_has_home(p, home_id);
}
