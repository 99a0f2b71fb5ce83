/* forms.c -- checks of the interview forms against the guide, Appendix 4 and R-RET-2. */
#include "forms.h"

#include <ctype.h>
#include <string.h>

#include "rules.h"

bool forms_has_text(const char *s)
{
    if (!s)
        return false;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

/* A single selection: empty is allowed unless required; otherwise a code of
 * the list, and an "Other" code needs its text. */
static void check_single(hw_status *st, const char *field, const char *list_name, const char *code,
                         bool required, const char *other_text, const char *other_field)
{
    const rules_value_list *list = rules_value_list_find(list_name);
    if (!code || !*code) {
        if (required)
            hw_status_violation(st, field, "required: a code of value list %s", list_name);
        return;
    }
    const rules_value *v = rules_value_find(list, code);
    if (!v) {
        hw_status_violation(st, field, "not a code of value list %s", list_name);
        return;
    }
    if (v->needs_text && !forms_has_text(other_text))
        hw_status_violation(st, other_field ? other_field : field, "required when %s is %s", field, code);
}

/* A multiple selection: every code known, none twice, "Other" with its text. */
static void check_multi(hw_status *st, const char *field, const char *list_name, size_t n,
                        char *const *codes, const char *other_text, const char *other_field)
{
    const rules_value_list *list = rules_value_list_find(list_name);
    for (size_t i = 0; i < n; i++) {
        const rules_value *v = rules_value_find(list, codes[i]);
        if (!v) {
            hw_status_violation(st, field, "entry %zu is not a code of value list %s", i, list_name);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(codes[j], codes[i]) == 0)
                hw_status_violation(st, field, "entry %zu repeats %s", i, codes[i]);
        if (v->needs_text && !forms_has_text(other_text))
            hw_status_violation(st, other_field ? other_field : field, "required when %s includes %s",
                                field, codes[i]);
    }
}

static void check_time(hw_status *st, const char *field, int64_t at_ms, int64_t located_at_ms,
                       int64_t now_ms)
{
    if (at_ms <= 0)
        hw_status_violation(st, field, "required: when the interview took place (Unix ms)");
    else if (!rules_interview_time_plausible(located_at_ms, at_ms, now_ms))
        hw_status_violation(st, field, "must be after the child was located and not in the future");
}

static void check_date(hw_status *st, const char *field, const char *s)
{
    if (s && *s && !rules_is_date(s))
        hw_status_violation(st, field, "expected a date YYYY-MM-DD");
}

static bool any_text(const char *const *texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (forms_has_text(texts[i]))
            return true;
    return false;
}

void forms_check_prevention(const prevention_form *f, int64_t located_at_ms, int64_t now_ms,
                            hw_status *st)
{
    if (!f) {
        hw_status_violation(st, "form", "required");
        return;
    }
    check_time(st, "form.interview_at_ms", f->interview_at_ms, located_at_ms, now_ms);

    /* The guide's four sections (LLR p.12): each needs at least one answer,
     * even if the answer is that the child would not say. */
    const Homeward__Interviews__V1__ReasonsForGoing *g = f->reasons_for_going;
    const Homeward__Interviews__V1__CircumstancesWhileAway *c = f->circumstances_while_away;
    const Homeward__Interviews__V1__ReasonsForReturning *r = f->reasons_for_returning;
    const Homeward__Interviews__V1__VulnerabilityIssues *v = f->vulnerability;
    if (!g || !any_text((const char *const[]){g->life_pressures, g->to_clear_head, g->to_get_family_contact,
                                             g->encouraged_to_stay_out_by, g->under_influence,
                                             g->unfamiliar_places, g->bullying, g->mental_health_concerns,
                                             g->learning_difficulties, g->other}, 10))
        hw_status_violation(st, "form.reasons_for_going", "at least one answer required");
    if (!c || !any_text((const char *const[]){c->transport_and_distance, c->who_with, c->what_they_did,
                                             c->where_stayed, c->money_phones_social_media,
                                             c->contacted_anyone, c->crime_witness_victim_perpetrator,
                                             c->under_influence, c->hurt_abused_injured_drugged, c->other},
                        10))
        hw_status_violation(st, "form.circumstances_while_away", "at least one answer required");
    if (!r || !any_text((const char *const[]){r->why_returned, r->would_have_returned_sooner_if, r->traced_by,
                                             r->would_have_returned_own_accord, r->help_wanted, r->other},
                        6))
        hw_status_violation(st, "form.reasons_for_returning", "at least one answer required");
    if (r)
        check_single(st, "form.reasons_for_returning.traced_by", "traced_by", r->traced_by, false, NULL, NULL);
    if (!v || !any_text((const char *const[]){v->felt_vulnerable_or_in_danger, v->injuries,
                                             v->tried_to_get_help, v->considered_or_tried_suicide,
                                             v->talked_to_anyone_before_leaving, v->other},
                        6))
        hw_status_violation(st, "form.vulnerability", "at least one answer required");

    check_multi(st, "form.disclosures", "disclosure_kinds", f->n_disclosures, f->disclosures, NULL, NULL);
    check_multi(st, "form.evidence_to_preserve", "evidence_kinds", f->n_evidence_to_preserve,
                f->evidence_to_preserve, NULL, NULL);
    if (f->n_disclosures > 0 && !forms_has_text(f->disclosure_details))
        hw_status_violation(st, "form.disclosure_details", "required when a disclosure is flagged");
}

void forms_check_return(const return_form *f, int64_t located_at_ms, int64_t now_ms, bool *within,
                        hw_status *st)
{
    *within = false;
    if (!f) {
        hw_status_violation(st, "form", "required");
        return;
    }
    check_time(st, "form.contact_at_ms", f->contact_at_ms, located_at_ms, now_ms);
    check_date(st, "form.date_notification_received", f->date_notification_received);
    check_date(st, "form.date_of_missing", f->date_of_missing);

    check_single(st, "form.conducted_with", "conducted_with", f->conducted_with, true, NULL, NULL);
    check_single(st, "form.seen_independently", "yes_no", f->seen_independently, true, NULL, NULL);
    check_single(st, "form.method", "interview_methods", f->method, true, f->method_other, "form.method_other");
    check_single(st, "form.location", "interview_locations", f->location, true, f->location_other,
                 "form.location_other");
    check_single(st, "form.ran_from", "ran_from", f->ran_from, true, f->ran_from_other, "form.ran_from_other");
    check_single(st, "form.closed_after_interview", "yes_no", f->closed_after_interview, true, NULL, NULL);
    check_single(st, "form.status_of_child", "status_of_child", f->status_of_child, false, NULL, NULL);
    check_single(st, "form.education_status", "education_status", f->education_status, false, NULL, NULL);
    check_single(st, "form.disability", "disability", f->disability, false, f->disability_other,
                 "form.disability_other");
    check_single(st, "form.triggered_la_meeting", "yes_no", f->triggered_la_meeting, false, NULL, NULL);
    check_single(st, "form.trigger_level", "trigger_levels", f->trigger_level, false, NULL, NULL);
    check_single(st, "form.meeting_taken_place", "yes_no", f->meeting_taken_place, false, NULL, NULL);
    check_single(st, "form.reported_missing_from", "reported_missing_from", f->reported_missing_from, false,
                 NULL, NULL);

    check_multi(st, "form.time_frame_comments", "time_frame_comments", f->n_time_frame_comments,
                f->time_frame_comments, NULL, NULL);
    check_multi(st, "form.locations_visited", "locations_visited", f->n_locations_visited,
                f->locations_visited, f->locations_visited_other, "form.locations_visited_other");
    check_multi(st, "form.relevant_information", "relevant_information", f->n_relevant_information,
                f->relevant_information, NULL, NULL);
    check_multi(st, "form.contributory_factors", "contributory_factors", f->n_contributory_factors,
                f->contributory_factors, NULL, NULL);
    check_multi(st, "form.reasons_for_running", "reasons_for_running", f->n_reasons_for_running,
                f->reasons_for_running, NULL, NULL);
    check_multi(st, "form.social_media", "social_media", f->n_social_media, f->social_media,
                f->social_media_other, "form.social_media_other");
    check_multi(st, "form.impact", "impact", f->n_impact, f->impact, NULL, NULL);

    if (f->lead_professional_email && *f->lead_professional_email &&
        !strchr(f->lead_professional_email, '@'))
        hw_status_violation(st, "form.lead_professional_email", "expected an email address");

    /* R-RET-2: computed, never taken from the client; a late interview says why. */
    if (f->contact_at_ms > 0) {
        *within = rules_within_time_frame(located_at_ms, f->contact_at_ms);
        if (!rules_lateness_explained(*within, f->n_time_frame_comments, f->time_frame_note))
            hw_status_violation(st, "form.time_frame_comments",
                                "not within 72 hours of being located: give a time-frame comment or note");
    }
}

bool forms_return_mentions_cse(const return_form *f)
{
    if (!f)
        return false;
    for (size_t i = 0; i < f->n_contributory_factors; i++)
        if (rules_is_cse_code(f->contributory_factors[i]))
            return true;
    for (size_t i = 0; i < f->n_reasons_for_running; i++)
        if (rules_is_cse_code(f->reasons_for_running[i]))
            return true;
    return false;
}
