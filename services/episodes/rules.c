/* rules.c -- the episodes service's protocol rules as data and pure functions. */
#include "rules.h"

#include <string.h>

#include "hw_roles.h"
#include "hw_time.h"

/* ---- lifecycle (R-EPI-3) ---- */

static const char *const status_words[] = {
    [EP_REPORTED] = "reported",
    [EP_ABSENT] = "absent",
    [EP_MISSING] = "missing",
    [EP_LOCATED] = "located",
    [EP_PREVENTION_DONE] = "prevention_interview_done",
    [EP_RETURN_DONE] = "return_interview_done",
    [EP_RETURN_DECLINED] = "return_interview_declined",
    [EP_CLOSED] = "closed",
};

const char *ep_status_text(enum ep_status s)
{
    if (s < EP_REPORTED || s > EP_CLOSED) return "";
    return status_words[s];
}

enum ep_status ep_status_parse(const char *text)
{
    for (int s = EP_REPORTED; s <= EP_CLOSED; s++)
        if (text && strcmp(text, status_words[s]) == 0) return (enum ep_status)s;
    return 0;
}

/* R-EPI-3: reported -> (absent | missing) -> located/returned -> prevention
 * interview done -> return interview done or declined -> closed. An absence
 * becomes missing when whereabouts become unknown (R-DEF-2). A return
 * interview may be recorded straight after an absence's return (there is
 * no prevention interview for a child who was never missing). Closing is a
 * transition too; whether it is allowed *now* is ep_can_close. */
static const struct { enum ep_status from, to; } transitions[] = {
    {EP_REPORTED, EP_ABSENT},
    {EP_REPORTED, EP_MISSING},
    {EP_ABSENT, EP_MISSING},
    {EP_ABSENT, EP_LOCATED},
    {EP_MISSING, EP_LOCATED},
    {EP_LOCATED, EP_PREVENTION_DONE},
    {EP_LOCATED, EP_RETURN_DONE},
    {EP_LOCATED, EP_RETURN_DECLINED},
    {EP_LOCATED, EP_CLOSED},
    {EP_PREVENTION_DONE, EP_RETURN_DONE},
    {EP_PREVENTION_DONE, EP_RETURN_DECLINED},
    {EP_PREVENTION_DONE, EP_CLOSED},
    {EP_RETURN_DONE, EP_CLOSED},
    {EP_RETURN_DECLINED, EP_CLOSED},
};

bool ep_transition_allowed(enum ep_status from, enum ep_status to)
{
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (transitions[i].from == from && transitions[i].to == to) return true;
    return false;
}

/* ---- classification (R-DEF-2, R-DEF-3) ---- */

static const char *const class_words[] = {
    [EP_MISSING_FROM_CARE] = "missing_from_care",
    [EP_MISSING_FROM_HOME] = "missing_from_home",
    [EP_AWAY_FROM_PLACEMENT] = "away_from_placement",
};

const char *ep_classification_text(enum ep_classification c)
{
    if (c < EP_MISSING_FROM_CARE || c > EP_AWAY_FROM_PLACEMENT) return "";
    return class_words[c];
}

enum ep_classification ep_classification_parse(const char *text)
{
    for (int c = EP_MISSING_FROM_CARE; c <= EP_AWAY_FROM_PLACEMENT; c++)
        if (text && strcmp(text, class_words[c]) == 0) return (enum ep_classification)c;
    return 0;
}

enum ep_classification ep_classify_missing(bool looked_after)
{
    /* R-DEF-3 */
    return looked_after ? EP_MISSING_FROM_CARE : EP_MISSING_FROM_HOME;
}

bool ep_absence_applies(bool looked_after, bool has_current_placement)
{
    /* R-DEF-2: "a looked-after child ... not where they should be". */
    return looked_after && has_current_placement;
}

/* ---- closing (R-DEF-7) ---- */

enum ep_close_decision ep_can_close(enum ep_status status, bool was_missing,
                                    bool prevention_done, bool supervisor,
                                    bool has_reason)
{
    if (status == EP_CLOSED) return EP_CLOSE_ALREADY_CLOSED;
    /* R-DEF-7: the record stays live until the child is traced. */
    if (status == EP_REPORTED || status == EP_ABSENT || status == EP_MISSING)
        return EP_CLOSE_NEEDS_LOCATED;
    /* An absence never was a police missing-person record: back is enough. */
    if (!was_missing) return EP_CLOSE_OK;
    /* R-DEF-7: closed by the prevention interview (LLR p.11) ... */
    if (prevention_done || status == EP_PREVENTION_DONE || status == EP_RETURN_DONE ||
        status == EP_RETURN_DECLINED)
        return EP_CLOSE_OK;
    /* ... or by a supervisor who records why. */
    if (!supervisor) return EP_CLOSE_NEEDS_PREVENTION_INTERVIEW;
    return has_reason ? EP_CLOSE_OK : EP_CLOSE_NEEDS_REASON;
}

/* ---- counts (R-EPI-4, R-DEF-4) ---- */

#define MS_PER_DAY (24LL * 3600 * 1000)

int64_t ep_window_90_days_start(int64_t as_of_ms)
{
    return as_of_ms - 90 * MS_PER_DAY;
}

int64_t ep_window_12_months_start(int64_t as_of_ms)
{
    /* Floor division so instants before 1970 still land on the right day. */
    int64_t days = as_of_ms >= 0 ? as_of_ms / MS_PER_DAY : -((-as_of_ms + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t in_day = as_of_ms - days * MS_PER_DAY;
    hw_date d = hw_civil_from_days((int)days);
    d.y -= 1;
    if (d.m == 2 && d.d == 29) d.d = 28;
    return (int64_t)hw_days_from_civil(d) * MS_PER_DAY + in_day;
}

ep_counts ep_count_episodes(const int64_t *reported_ms, const bool *was_missing,
                            int n, int64_t as_of_ms)
{
    ep_counts c = {0, 0, 0, 0, false};
    int64_t from90 = ep_window_90_days_start(as_of_ms);
    int64_t from12 = ep_window_12_months_start(as_of_ms);
    for (int i = 0; i < n; i++) {
        int64_t t = reported_ms[i];
        if (t > as_of_ms) continue;
        bool in90 = t > from90, in12 = t > from12;
        if (was_missing[i]) {
            c.missing_90_days += in90;
            c.missing_12_months += in12;
        } else {
            c.absences_90_days += in90;
            c.absences_12_months += in12;
        }
    }
    c.repeat_missing = ep_is_repeat_missing(c.missing_12_months);
    return c;
}

bool ep_is_repeat_missing(int missing_12_months)
{
    return missing_12_months > 1; /* R-DEF-4: "more than once" */
}

/* ---- deadlines ---- */

int64_t ep_reg41_due(int64_t arrival_ms)
{
    return hw_add_hours(arrival_ms, EP_REG41_HOURS); /* R-NOT-4: exact 24 h */
}

int64_t ep_long_term_due(int64_t missing_since_ms)
{
    return hw_add_hours(missing_since_ms, EP_LONG_TERM_DAYS * 24); /* R-LONG-3 */
}

static const char *const reg41_words[] = {
    [EP_REG41_NOT_REQUIRED] = "not_required",
    [EP_REG41_DUE] = "due",
    [EP_REG41_SUBMITTED] = "submitted",
    [EP_REG41_OVERDUE] = "overdue",
};

const char *ep_reg41_text(enum ep_reg41 r)
{
    if (r < EP_REG41_NOT_REQUIRED || r > EP_REG41_OVERDUE) return "";
    return reg41_words[r];
}

enum ep_reg41 ep_reg41_parse(const char *text)
{
    for (int r = EP_REG41_NOT_REQUIRED; r <= EP_REG41_OVERDUE; r++)
        if (text && strcmp(text, reg41_words[r]) == 0) return (enum ep_reg41)r;
    return 0;
}

enum ep_reg41 ep_reg41_status(bool looked_after, bool submitted, int64_t arrival_ms,
                              int64_t now_ms)
{
    if (!looked_after) return EP_REG41_NOT_REQUIRED;
    if (submitted) return EP_REG41_SUBMITTED;
    return now_ms >= ep_reg41_due(arrival_ms) ? EP_REG41_OVERDUE : EP_REG41_DUE;
}

/* ---- people ---- */

int ep_age_years(int dob_days, int today_days)
{
    if (dob_days > today_days) return -1;
    hw_date b = hw_civil_from_days(dob_days), t = hw_civil_from_days(today_days);
    int age = t.y - b.y;
    if (t.m < b.m || (t.m == b.m && t.d < b.d)) age--;
    return age;
}

/* ---- access (R-SEC-1) ---- */

static const char *const police_roles[] = {HW_POLICE_ROLES, NULL};
static const char *const la_roles[] = {HW_LA_ROLES, NULL};

static bool has_any(const hw_principal *p, const char *const *roles)
{
    for (; *roles; roles++)
        if (hw_principal_has_role(p, *roles)) return true;
    return false;
}

bool ep_is_police(const hw_principal *p) { return has_any(p, police_roles); }
bool ep_is_local_authority(const hw_principal *p) { return has_any(p, la_roles); }

bool ep_is_supervisor(const hw_principal *p)
{
    return hw_principal_has_role(p, HW_ROLE_LPT_SERGEANT) ||
           hw_principal_has_role(p, HW_ROLE_CONTROL_ROOM_MANAGER);
}

static bool nonempty_eq(const char *a, const char *b)
{
    return a && b && a[0] && strcmp(a, b) == 0;
}

bool ep_has_home(const hw_principal *p, const char *home_id)
{
    return home_id && home_id[0] && hw_principal_has_home(p, home_id);
}

bool ep_may_see(const hw_principal *p, const ep_scope *s)
{
    if (hw_principal_has_role(p, HW_ROLE_SERVICE)) return true;
    if (ep_is_police(p)) {
        if (nonempty_eq(p->org, s->force)) return true;
        if (s->episode_in_force) return true;
        if (nonempty_eq(p->sub, s->assigned_officer_id)) return true;
        if (hw_principal_has_role(p, HW_ROLE_SPOC) && ep_has_home(p, s->home_id)) return true;
    }
    if (ep_is_local_authority(p) &&
        (nonempty_eq(p->org, s->responsible_authority) || nonempty_eq(p->org, s->placing_authority)))
        return true;
    if (hw_principal_has_role(p, HW_ROLE_CARE_STAFF) && ep_has_home(p, s->home_id)) return true;
    return false;
}

/* ---- special categories (R-SEC-3) ----
 *
 * Who needs which group, and why:
 *   health  (conditions, medication and the effect of missing it,
 *            disabilities, pregnancy): everyone who takes or works the
 *            missing report (R-EPI-1 lists medical history and pregnancy),
 *            the social worker, team manager and IRO who own the care plan,
 *            and care staff who give the medication.
 *   beliefs (religion, sexual orientation): the report takers and
 *            investigators (R-EPI-1), social worker, team manager, IRO, and
 *            care staff (daily care). Not SPOCs, leads or providers.
 *   cse     (CSE matters): police who assess and investigate (R-RISK-10:
 *            CSE information must raise the grade), the SPOC for the home,
 *            social worker, team manager, CSC lead, IRO, the CSE social
 *            worker and the commissioned return-interview provider, to whom
 *            medium/high matrices are referred (R-RISK-7). Not care staff.
 * Roles not listed (pod coordinator, other services) see none of them. */
static const struct { const char *role; unsigned groups; } special_table[] = {
    {HW_ROLE_CALL_HANDLER, EP_SPECIAL_ALL},
    {HW_ROLE_OFFICER, EP_SPECIAL_ALL},
    {HW_ROLE_CONTROL_ROOM_MANAGER, EP_SPECIAL_ALL},
    {HW_ROLE_LPT_SERGEANT, EP_SPECIAL_ALL},
    {HW_ROLE_MPC, EP_SPECIAL_ALL},
    {HW_ROLE_SPOC, EP_SPECIAL_CSE},
    {HW_ROLE_SOCIAL_WORKER, EP_SPECIAL_ALL},
    {HW_ROLE_TEAM_MANAGER, EP_SPECIAL_ALL},
    {HW_ROLE_IRO, EP_SPECIAL_ALL},
    {HW_ROLE_CSC_LEAD, EP_SPECIAL_CSE},
    {HW_ROLE_CSE_SOCIAL_WORKER, EP_SPECIAL_CSE},
    {HW_ROLE_RETURN_WORKER, EP_SPECIAL_CSE},
    {HW_ROLE_CARE_STAFF, EP_SPECIAL_HEALTH | EP_SPECIAL_BELIEFS},
};

unsigned ep_special_allowed(const hw_principal *p)
{
    unsigned g = 0;
    for (size_t i = 0; i < sizeof special_table / sizeof special_table[0]; i++)
        if (hw_principal_has_role(p, special_table[i].role)) g |= special_table[i].groups;
    return g;
}

const char *ep_special_name(enum ep_special g)
{
    switch (g) {
    case EP_SPECIAL_HEALTH: return "health";
    case EP_SPECIAL_BELIEFS: return "beliefs";
    case EP_SPECIAL_CSE: return "cse";
    }
    return "";
}
