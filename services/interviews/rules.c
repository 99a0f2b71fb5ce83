/* rules.c -- the interview rules (R-RET-1..3) and the value lists of the forms, as data. */
#include "rules.h"

#include <ctype.h>
#include <string.h>

#include "hw_roles.h"
#include "hw_time.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Appendix 4: return interview form value lists ---- */

static const rules_value yes_no[] = {
    {"YES", "Yes", false},
    {"NO", "No", false},
};

/* Output only: the service computes YES/NO (R-RET-2); listed so the app can
 * show the form's question with its labels. */
static const rules_value within_time_frames[] = {
    {"YES", "Yes", false},
    {"NO", "No", false},
    {"OTHER", "Other", false},
};

static const rules_value time_frame_comments[] = {
    {"MULTIPLE_ATTEMPTS", "Multiple attempts", false},
    {"INCORRECT_DETAILS", "Incorrect Details chase Police/SC", false},
    {"YP_ON_HOLIDAY", "YP On holiday", false},
    {"PARENT_WANTING_TO_BE_PRESENT", "Parent wanting to be present interview", false},
    {"EARLIEST_CONVENIENCE", "Earliest Convenience", false},
    {"PARENT_CARER_WANTED_SEEN_IN_SCHOOL", "Parent/Carer wanted CYP seen in School", false},
};

static const rules_value conducted_with[] = {
    {"CHILD", "Child/Young Person", false},
    {"ADULT_PROFESSIONAL", "Adult /Professional", false},
};

static const rules_value interview_methods[] = {
    {"FACE_TO_FACE", "Face to Face", false},
    {"TELEPHONE", "Telephone", false},
    {"OTHER", "Other- Text box", true},
};

static const rules_value interview_locations[] = {
    {"HOME", "Home", false},
    {"SCHOOL", "School", false},
    {"PLACEMENT", "Placement", false},
    {"OTHER", "Other- Text box", true},
};

static const rules_value ran_from[] = {
    {"FAMILY_HOME", "Family Home", false},
    {"PLACEMENT", "Placement", false},
    {"SEMI_INDEPENDENT", "Semi Independent", false},
    {"FOSTER_CARE", "Foster Care", false},
    {"INPATIENT_CARE", "Inpatient Care", false},
    {"SCHOOL", "School", false},
    {"OTHER", "Other-Text box", true},
};

static const rules_value locations_visited[] = {
    {"FAMILY_HOME", "Family Home", false},
    {"FRIENDS_HOUSE", "Friends House", false},
    {"HOSTEL", "Hostel", false},
    {"HOTEL", "Hotel", false},
    {"PARK", "Park", false},
    {"PUB_CLUB", "Pub/Club", false},
    {"LOCAL_SHOPPING_CENTRE", "Local Shopping centre", false},
    {"OUTSIDE_LA", "Outside LA", false},
    {"PARTNERS_HOUSE", "Partners House", false},
    {"PUBLIC_TRANSPORT", "Public Transport", false},
    {"REFUSED_TO_SAY", "Refused to say", false},
    {"TOWN_CENTRE", "Town Centre", false},
    {"OTHER", "Other – Text box", true},
};

static const rules_value relevant_information[] = {
    {"TAXI", "Taxi", false},
    {"CAR_INFO", "Car Info", false},
    {"PUBLIC_TRANSPORT_TYPE", "Public Transport Type", false},
};

static const rules_value contributory_factors[] = {
    {"CSE_RELATED", "CSE Related", false},
    {"SUBSTANCE_MISUSE", "Substance Misuse", false},
    {"EDUCATION", "Education", false},
    {"FAMILY_CRISIS", "Family Crisis", false},
    {"EMOTIONAL_WELL_BEING", "Emotional Well being", false},
    {"FRIENDS_PEERS", "Friends/Peers", false},
    {"OFFENDING_ASB", "Offending/ASB", false},
    {"CARE_ISSUES", "Care Issues", false},
    {"DOMESTIC_ABUSE", "Domestic Abuse", false},
    {"CCE", "CCE", false},
    {"TRAFFICKING", "Trafficking", false},
};

static const rules_value reasons_for_running[] = {
    {"ABILITY_TO_UNDERSTAND", "Ability to understand", false},
    {"ABUSE_NEGLECT", "Abuse Neglect", false},
    {"ABUSE_PHYSICAL", "Abuse Physical", false},
    {"ABUSE_EMOTIONAL", "Abuse Emotional", false},
    {"ABUSE_SEXUAL", "Abuse Sexual", false},
    {"ABUSE_FINANCIAL", "Abuse Financial", false},
    {"ADOPTION_BREAKDOWN", "Adoption breakdown", false},
    {"ALCOHOL_MISUSE_THEMSELVES", "Alcohol Misuse themselves", false},
    {"ALCOHOL_MISUSE_PARENT_CARER", "Alcohol Misuse Parent/carer", false},
    {"ANGER_MANAGEMENT", "Anger Management", false},
    {"ANTI_SOCIAL_BEHAVIOUR", "Anti-Social Behaviour", false},
    {"ASSOCIATING_WITH_PEERS", "Associating with Peers", false},
    {"ASYLUM_SEEKER", "Asylum Seeker", false},
    {"BEREAVEMENT_LOSS_GRIEF", "Bereavement/Loss/Grief", false},
    {"SOCIALISING", "Socialising", false},
    {"BREAKING_CURFEW", "Breaking Curfew", false},
    {"BULLYING", "Bullying", false},
    {"CARE_PROCEEDINGS", "Care Proceedings", false},
    {"CARE_PLAN", "Care plan", false},
    {"CSE_NOT_RELATED_TO_MISSING", "CSE- Not related to Missing", false},
    {"CSE_RELATED_TO_MISSING", "CSE- Related to Missing", false},
    {"CSE_SOCIAL_NETWORKING", "CSE- Social Networking", false},
    {"FAMILY_ISSUES_DIVORCE_SEPARATION", "Family Issues Divorce separation", false},
    {"FAMILY_ISSUES_CONFLICT", "Family Issues Conflict", false},
    {"FAMILY_ISSUES_STEP_PARENTS", "Family Issues Step Parents", false},
    {"FAMILY_ISSUES_SIBLINGS", "Family Issues Siblings", false},
    {"FORCED_MARRIAGE", "Forced Marriage", false},
    {"GENITAL_MUTILATION", "Genital Mutilation", false},
    {"CCE", "CCE", false},
    {"GANG_RELATED", "Gang Related", false},
    {"HONOUR_BASED_VIOLENCE", "Honour Based Violence", false},
    {"INCIDENT_CARE_HOME", "Incident Care home", false},
    {"MENTAL_WELLBEING_THEMSELVES", "Mental wellbeing themselves", false},
    {"MENTAL_WELLBEING_PARENT_CARER", "Mental wellbeing parental/Carer", false},
    {"OFFENDING", "Offending", false},
    {"PARENTING_SKILLS", "Parenting Skills", false},
    {"PEER_PRESSURE", "Peer Pressure", false},
    {"PLACEMENT_ISSUE", "Placement Issue", false},
    {"TO_SEE_PARTNER", "To See Partner", false},
    {"SCHOOL_ISSUES_TRUANCY", "School Issues/Truancy", false},
    {"SELF_HARM", "Self-harm", false},
    {"SEXUAL_HEALTH_ISSUES", "Sexual Health issues", false},
    {"SUBSTANCE_MISUSE_THEMSELVES", "Substance Misuse themselves", false},
    {"SUBSTANCE_MISUSE_PARENT_CARER", "Substance Misuse Parent/carer", false},
    {"TRAFFICKING", "Trafficking", false},
    {"YOUNG_CARER", "Young Carer", false},
};

static const rules_value social_media[] = {
    {"FACEBOOK", "Facebook", false},
    {"SNAPCHAT", "Snapchat", false},
    {"TWITTER", "Twitter", false},
    {"WHATSAPP", "WhatsApp", false},
    {"INSTAGRAM", "Instagram", false},
    {"KIK", "Kick", false},
    {"ASKFM", "Askfm", false},
    {"OOVOO", "Oovoo", false},
    {"TINDER", "Tinder", false},
    {"GRINDR", "Grinder", false},
    {"OTHER", "Other- Text box", true},
};

static const rules_value impact[] = {
    {"ADVICE_GUIDANCE", "Advice guidance given by the case worker", false},
    {"SHORT_INTERVENTION", "Short Intervention", false},
    {"DIRECT_WORK_ACCEPTED", "Offered Direct Work- Accepted", false},
    {"DIRECT_WORK_NOT_ACCEPTED", "Offered Direct Work –Not Accepted", false},
    {"SAFEGUARDING_REFERRAL_OPEN", "Safeguarding referral (open to social care )", false},
    {"SAFEGUARDING_REFERRAL_NOT_OPEN", "Safeguarding referral (not open to social care)", false},
    {"SENT_TO_SOCIAL_CARE_AND_POLICE", "Return interview sent to Social care and police", false},
    {"EARLY_HELP_SCREENING", "Requested Early Help Screening", false},
    {"REFERRAL_TO_ANOTHER_SERVICE", "Referral to another service", false},
    {"CSE_SCREENING_TOOL_COMPLETE", "CSE screening tool complete", false},
    {"DISCUSSION_WITH_POLICE", "Discussion with police", false},
    {"DISCUSSION_WITH_SOCIAL_CARE", "Discussion with social care", false},
    {"INTELLIGENCE_SHARED", "Intelligence Shared", false},
};

static const rules_value status_of_child[] = {
    {"CAF_TAF", "CAF/TAF", false},
    {"CARE_ORDER", "Care Order", false},
    {"CHILD_PROTECTION", "Child Protection", false},
    {"CIN", "CIN", false},
    {"CURRENT_CSE_FLAG", "Current CSE Flag", false},
    {"PREVIOUS_CSE_FLAG", "Previous CSE Flag", false},
    {"SECTION_20", "Section 20", false},
    {"TROUBLED_FAMILIES", "Troubled Families", false},
    {"UNDERGOING_ASSESSMENT", "Under going assessment", false},
    {"NOT_OPEN_TO_SOCIAL_CARE", "Not Open to Social Care", false},
};

static const rules_value education_status[] = {
    {"IN_SCHOOL", "In School", false},
    {"HOME_SCHOOLED", "Home Schooled", false},
    {"IN_EMPLOYMENT", "In Employment", false},
    {"EXCLUDED", "Excluded", false},
    {"NEET", "NEET", false},
    {"ALTERNATIVE_PROVISION", "Alternative provision", false},
    {"COLLEGE", "College", false},
};

static const rules_value disability[] = {
    {"PHYSICAL_MOBILITY", "Physical/Mobility", false},
    {"LEARNING_DISABILITIES", "Learning Disabilities", false},
    {"SENSORY_HEARING", "Sensory hearing", false},
    {"SENSORY_VISION", "Sensory Vision", false},
    {"AUTISM_ASPERGERS", "Diagnosed Autism or Asperger’s Syndrome", false},
    {"OTHER", "Other Text box", true},
};

static const rules_value trigger_levels[] = {
    {"LEVEL_1", "Level 1", false},
    {"LEVEL_2", "Level 2", false},
    {"LEVEL_3", "Level 3", false},
};

static const rules_value reported_missing_from[] = {
    {"HOME", "Home", false},
    {"CARE", "Care", false},
    {"TWENTY_MILE_RADIUS", "20 Mile radius", false},
    {"CICOLA", "CICOLA", false},
};

/* ---- prevention interview guide (LLR p.11-12, STAFFS 18) ---- */

static const rules_value traced_by[] = {
    {"OWN_ACCORD", "Returned of their own accord", false},
    {"POLICE", "Police", false},
    {"FAMILY", "Family", false},
    {"FRIENDS", "Friends", false},
    {"CARERS", "Carers", false},
};

static const rules_value disclosure_kinds[] = {
    {"VICTIM_OF_CRIME", "Victim of a crime while missing", false},
    {"SEXUAL_OFFENCE", "Sexual abuse or a sexual offence", false},
    {"AT_RISK_FROM_PERSON", "In danger or at risk from a person", false},
    {"INJURED_OR_DRUGGED", "Hurt, abused, injured or drugged", false},
    {"WITNESS_TO_CRIME", "Witness to a crime", false},
    {"OFFENCE_BY_CHILD", "Offence committed by the child", false},
    {"SELF_HARM_OR_SUICIDE", "Considered or tried to take their own life", false},
};

static const rules_value evidence_kinds[] = {
    {"BODILY_FLUIDS", "Bodily fluids on clothing or the child: discourage washing, seek police advice", false},
    {"INJURIES_TO_PHOTOGRAPH", "Injuries that could require photographing", false},
    {"ELECTRONIC_DATA", "Electronic data: mobile phone, tablet, computer", false},
    {"CLOTHING", "Clothing", false},
    {"SCENE_LOCATION", "Location of the scene of a crime or of evidence", false},
};

#define LIST(name, question, multiple, arr) {name, question, multiple, arr, N(arr)}

static const rules_value_list lists[] = {
    LIST("yes_no", "Yes / No", false, yes_no),
    LIST("within_time_frames", "Was the RHI Completed within time frames?", false, within_time_frames),
    LIST("time_frame_comments", "Comment on time frames with regards to contact/return interview", true,
         time_frame_comments),
    LIST("conducted_with", "Interview conducted with", false, conducted_with),
    LIST("interview_methods", "Method of Interview", false, interview_methods),
    LIST("interview_locations", "Location of Return Interview", false, interview_locations),
    LIST("ran_from", "Where has the YP ran from", false, ran_from),
    LIST("locations_visited", "Locations visited by Child during missing episodes", true, locations_visited),
    LIST("relevant_information", "Relevant Information received", true, relevant_information),
    LIST("contributory_factors", "Childs main contributory factors", true, contributory_factors),
    LIST("reasons_for_running", "Reason for Running", true, reasons_for_running),
    LIST("social_media", "Was social media relevant to the missing incident", true, social_media),
    LIST("impact", "Impact", true, impact),
    LIST("status_of_child", "Status of Child", false, status_of_child),
    LIST("education_status", "Education Status", false, education_status),
    LIST("disability", "Disability", false, disability),
    LIST("trigger_levels", "Has this incident reached a trigger episode level", false, trigger_levels),
    LIST("reported_missing_from", "Reported Missing From", false, reported_missing_from),
    LIST("traced_by", "Who traced them - police, family, friends, carers?", false, traced_by),
    LIST("disclosure_kinds", "Disclosure of crime or danger (police attendance without delay)", true,
         disclosure_kinds),
    LIST("evidence_kinds", "Evidence to preserve", true, evidence_kinds),
};

const rules_value_list *rules_value_lists(size_t *n)
{
    *n = N(lists);
    return lists;
}

const rules_value_list *rules_value_list_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N(lists); i++)
        if (strcmp(lists[i].name, name) == 0)
            return &lists[i];
    return NULL;
}

const rules_value *rules_value_find(const rules_value_list *list, const char *code)
{
    if (!list || !code)
        return NULL;
    for (size_t i = 0; i < list->n_values; i++)
        if (strcmp(list->values[i].code, code) == 0)
            return &list->values[i];
    return NULL;
}

/* ---- timeliness (R-RET-2) ---- */

int64_t rules_return_interview_due_ms(int64_t located_at_ms)
{
    /* An exact duration, not "the same local time three days later": across
     * a clock change the two differ by an hour. */
    return hw_add_hours(located_at_ms, RULES_RETURN_INTERVIEW_HOURS);
}

bool rules_within_time_frame(int64_t located_at_ms, int64_t interview_at_ms)
{
    return interview_at_ms <= rules_return_interview_due_ms(located_at_ms);
}

bool rules_lateness_explained(bool within_time_frame, size_t n_comment_codes, const char *note)
{
    if (within_time_frame)
        return true;
    if (n_comment_codes > 0)
        return true;
    if (note)
        for (const char *c = note; *c; c++)
            if (!isspace((unsigned char)*c))
                return true;
    return false;
}

bool rules_interview_time_plausible(int64_t located_at_ms, int64_t interview_at_ms, int64_t now_ms)
{
    return interview_at_ms >= located_at_ms && interview_at_ms <= now_ms + RULES_CLOCK_SKEW_MS;
}

/* ---- who may conduct, read and share ---- */

const char *rules_conductor_name(enum rules_conductor c)
{
    switch (c) {
    case RULES_CONDUCTOR_POLICE: return "police";
    case RULES_CONDUCTOR_CARE_STAFF: return "care_staff";
    case RULES_CONDUCTOR_RETURN_WORKER: return HW_ROLE_RETURN_WORKER;
    case RULES_CONDUCTOR_SOCIAL_WORKER: return HW_ROLE_SOCIAL_WORKER;
    case RULES_CONDUCTOR_NONE: break;
    }
    return "";
}

bool rules_is_residential(const char *placement_type)
{
    /* Compared on letters only, case-folded, so "children's home",
     * "Childrens_Home" and "residential" all match. */
    static const char *const residential[] = {"residential", "childrenshome", "residentialhome",
                                              "childrensresidentialhome", "residentialcare"};
    char norm[64];
    size_t n = 0;
    if (!placement_type)
        return false;
    for (const char *c = placement_type; *c && n + 1 < sizeof norm; c++)
        if (isalpha((unsigned char)*c))
            norm[n++] = (char)tolower((unsigned char)*c);
    norm[n] = 0;
    for (size_t i = 0; i < N(residential); i++)
        if (strcmp(norm, residential[i]) == 0)
            return true;
    return false;
}

bool rules_care_staff_may_prevent(const char *profile, const char *placement_type)
{
    /* Profile parameter "prevention interview by care staff (residential)":
     * STAFFS no (13.3: police), LLR yes (p.11). */
    return profile && strcmp(profile, "LLR") == 0 && rules_is_residential(placement_type);
}

static bool same(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

static bool has_any(const hw_principal *p, const char *const *roles)
{
    for (; *roles; roles++)
        if (hw_principal_has_role(p, *roles))
            return true;
    return false;
}

static const char *const police_roles[] = {HW_POLICE_ROLES, NULL};
static const char *const la_roles[] = {HW_LA_ROLES, NULL};
/* Officers and their supervisors conduct prevention interviews (R-RET-1). */
static const char *const prevention_police[] = {HW_ROLE_OFFICER, HW_ROLE_LPT_SERGEANT,
                                                HW_ROLE_CONTROL_ROOM_MANAGER, NULL};

enum rules_conductor rules_conductor_for(const hw_principal *p, const rules_interview *iv)
{
    if (iv->kind == RULES_PREVENTION) {
        if (has_any(p, prevention_police) && same(p->org, iv->force))
            return RULES_CONDUCTOR_POLICE;
        if (hw_principal_has_role(p, HW_ROLE_CARE_STAFF) && iv->home_id && *iv->home_id &&
            hw_principal_has_home(p, iv->home_id) &&
            rules_care_staff_may_prevent(iv->profile, iv->placement_type))
            return RULES_CONDUCTOR_CARE_STAFF;
        return RULES_CONDUCTOR_NONE;
    }
    if (!same(p->org, iv->responsible_authority))
        return RULES_CONDUCTOR_NONE;
    if (hw_principal_has_role(p, HW_ROLE_RETURN_WORKER))
        return RULES_CONDUCTOR_RETURN_WORKER;
    if (hw_principal_has_role(p, HW_ROLE_SOCIAL_WORKER))
        return RULES_CONDUCTOR_SOCIAL_WORKER;
    return RULES_CONDUCTOR_NONE;
}

bool rules_may_share(enum rules_consent consent, bool critical_to_safeguarding_recorded)
{
    /* STAFFS 13.8-13.9: consent first; without it only what is critical to
     * safeguard the child, and that decision must be on record. */
    return consent == RULES_CONSENT_GIVEN || critical_to_safeguarding_recorded;
}

/* Those who hold the record: they read it whatever the consent, because it
 * is theirs (the interviewer, and the team that owns the record). */
static bool holds(const hw_principal *p, const rules_interview *iv)
{
    if (same(p->sub, iv->conducted_by) || same(p->sub, iv->assignee))
        return true;
    if (iv->kind == RULES_PREVENTION) {
        /* The police record of the missing person (R-DEF-7). */
        if (has_any(p, police_roles) && same(p->org, iv->force))
            return true;
        return rules_conductor_for(p, iv) == RULES_CONDUCTOR_CARE_STAFF;
    }
    /* The independent provider's workers of the authority. */
    return hw_principal_has_role(p, HW_ROLE_RETURN_WORKER) && same(p->org, iv->responsible_authority);
}

/* Those it is shared with, consent permitting (R-NOT-7, STAFFS 13.9). */
static bool other_side(const hw_principal *p, const rules_interview *iv)
{
    if (has_any(p, la_roles) && same(p->org, iv->responsible_authority))
        return true;
    return iv->kind == RULES_RETURN && has_any(p, police_roles) && same(p->org, iv->force);
}

enum rules_read rules_read_access(const hw_principal *p, const rules_interview *iv,
                                  enum rules_consent consent, bool critical_to_safeguarding_recorded)
{
    if (holds(p, iv))
        return RULES_READ_FULL;
    if (other_side(p, iv))
        return rules_may_share(consent, critical_to_safeguarding_recorded) ? RULES_READ_FULL
                                                                           : RULES_READ_SUMMARY;
    if (hw_principal_has_role(p, HW_ROLE_SERVICE))
        return RULES_READ_SUMMARY;
    return RULES_READ_NONE;
}

bool rules_may_record_sharing_decision(const hw_principal *p, const rules_interview *iv)
{
    static const char *const la_managers[] = {HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, NULL};
    static const char *const police_supervisors[] = {HW_ROLE_LPT_SERGEANT, HW_ROLE_CONTROL_ROOM_MANAGER,
                                                     NULL};
    if (rules_conductor_for(p, iv) != RULES_CONDUCTOR_NONE)
        return true;
    if (same(p->sub, iv->conducted_by))
        return true;
    if (has_any(p, la_managers) && same(p->org, iv->responsible_authority))
        return true;
    return iv->kind == RULES_PREVENTION && has_any(p, police_supervisors) && same(p->org, iv->force);
}

/* ---- prompts ---- */

bool rules_is_cse_code(const char *code)
{
    /* contributory_factors CSE_RELATED; reasons_for_running CSE_*. */
    return code && strncmp(code, "CSE_", 4) == 0;
}

/* ---- input shape ---- */

bool rules_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool rules_is_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    hw_date d = {(s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'),
                 (s[5] - '0') * 10 + (s[6] - '0'), (s[8] - '0') * 10 + (s[9] - '0')};
    if (d.m < 1 || d.m > 12 || d.d < 1 || d.d > 31)
        return false;
    /* Round-trip through the civil calendar rejects 2025-02-30. */
    hw_date back = hw_civil_from_days(hw_days_from_civil(d));
    return back.y == d.y && back.m == d.m && back.d == d.d;
}
