/* intake.c -- meetings from episode events, long-episode deadlines and
 * requests by hand, with invitees resolved to the child's people. */
#include "intake.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "hw_log.h"
#include "hw_time.h"

#define LOOKUP_TIMEOUT_MS 3000

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static bool empty(const char *s)
{
    return !s || !*s;
}

static const char *const manual_reason_names[] = {"", "very_high_risk", "immediate_action",
                                                  "quick_succession", "extended_duration"};

const char *mt_manual_reason_name(int reason)
{
    return reason > 0 && reason < 5 ? manual_reason_names[reason] : "";
}

/* ------------------------------------------------------------ events out */

static void kick_relay(void *arg)
{
    hw_relay_kick(arg);
}

int mt_publish(hw_app *app, hw_db *db, const char *type, const char *subject,
               const char *payload_json, hw_status *st)
{
    if (hw_outbox_add(db, type, subject, payload_json, NULL, st) != 0)
        return -1;
    if (hw_app_relay(app))
        hw_db_after_commit(db, kick_relay, hw_app_relay(app), false);
    return 0;
}

/* ------------------------------------------------------------ people */

static void person_from(mt_person *p, const Homeward__Episodes__V1__Professional *pro)
{
    if (!pro || (empty(pro->user_id) && empty(pro->name)))
        return;
    copy(p->id, sizeof p->id, pro->user_id);
    copy(p->name, sizeof p->name, pro->name);
}

int mt_resolve_people(hw_app *app, const char *child_id, const mt_episode *facts,
                      bool require_child, mt_people *out, hw_status *st)
{
    memset(out, 0, sizeof *out);
    if (facts) {
        copy(out->social_worker.id, sizeof out->social_worker.id, facts->social_worker_id);
        copy(out->police_officer.id, sizeof out->police_officer.id, facts->assigned_officer);
        copy(out->spoc.id, sizeof out->spoc.id, facts->spoc_id);
        copy(out->responsible_authority, sizeof out->responsible_authority,
             facts->responsible_authority);
        copy(out->placing_authority, sizeof out->placing_authority, facts->placing_authority);
        copy(out->force, sizeof out->force, facts->force);
        copy(out->home_id, sizeof out->home_id, facts->home_id);
    }
    mt_state *state = hw_app_state(app);
    char *token = hw_app_service_token(app);
    if (!state || !state->episodes || !token) {
        free(token);
        if (require_child && !facts)
            return hw_status_set(st, HW_UNAVAILABLE, "the child's record cannot be reached");
        hw_warn("child record look-up not configured: invitees stay unresolved by role");
        return 0;
    }
    Homeward__Episodes__V1__GetChildRequest req = HOMEWARD__EPISODES__V1__GET_CHILD_REQUEST__INIT;
    req.child_id = (char *)child_id;
    hw_call_opts opts = {.token = token,
                         .purpose = "meetings: invitees of a multi-agency meeting (R-MEET-1)",
                         .timeout_ms = LOOKUP_TIMEOUT_MS,
                         .idempotent = false};
    ProtobufCMessage *resp = NULL;
    hw_status cst = HW_STATUS_INIT;
    int rc = hw_client_unary(state->episodes, "/homeward.episodes.v1.Episodes/GetChild", &req.base,
                             &homeward__episodes__v1__child__descriptor, &resp, &opts, &cst);
    free(token);
    if (rc != 0) {
        if (require_child && !facts) {
            if (cst.code == HW_NOT_FOUND)
                return hw_status_set(st, HW_NOT_FOUND, "no such child");
            return hw_status_set(st, HW_UNAVAILABLE, "the child's record cannot be reached: %s",
                                 hw_code_name(cst.code));
        }
        hw_warn("child %s: record look-up failed (%s): invitees stay unresolved by role", child_id,
                hw_code_name(cst.code));
        return 0;
    }
    const Homeward__Episodes__V1__Child *c = (const void *)resp;
    person_from(&out->social_worker, c->social_worker);
    person_from(&out->team_manager, c->team_manager);
    person_from(&out->iro, c->iro);
    if (!empty(c->responsible_authority))
        copy(out->responsible_authority, sizeof out->responsible_authority, c->responsible_authority);
    if (c->current_placement) {
        if (empty(out->home_id))
            copy(out->home_id, sizeof out->home_id, c->current_placement->home_id);
        if (empty(out->placing_authority))
            copy(out->placing_authority, sizeof out->placing_authority,
                 c->current_placement->placing_authority);
    }
    out->from_child_record = true;
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

/* Who fills a role for this child, and the organisation it is drawn from. */
static void fill_invitee(const mt_people *pp, const mt_invitee_rule *rule, mt_invitee *inv)
{
    memset(inv, 0, sizeof *inv);
    inv->role = rule->role;
    inv->label = rule->label;
    inv->chair = rule->chair;
    inv->as_appropriate = rule->as_appropriate;
    const mt_person *who = NULL;
    const char *org = "";
    const char *r = rule->role;
    if (strcmp(r, "social_worker") == 0) {
        who = &pp->social_worker;
        org = pp->responsible_authority;
    } else if (strcmp(r, "team_manager") == 0) {
        who = &pp->team_manager;
        org = pp->responsible_authority;
    } else if (strcmp(r, "iro") == 0) {
        who = &pp->iro;
        org = pp->responsible_authority;
    } else if (strcmp(r, "police_officer") == 0) {
        who = &pp->police_officer;
        org = pp->force;
    } else if (strcmp(r, "spoc") == 0) {
        who = &pp->spoc;
        org = pp->force;
    } else if (strcmp(r, "missing_person_coordinator") == 0) {
        org = pp->force;
    } else if (strcmp(r, "care_staff") == 0 || strcmp(r, "residential_manager") == 0) {
        org = pp->home_id;
    } else if (strcmp(r, "csc_lead") == 0 || strcmp(r, "return_interview_worker") == 0 ||
               strcmp(r, "fostering_team_manager") == 0) {
        org = pp->responsible_authority;
    }
    inv->person_id = who ? who->id : "";
    inv->person_name = who ? who->name : "";
    inv->organisation = org;
}

/* ------------------------------------------------------------ meetings */

int mt_create_meeting(hw_app *app, hw_db *db, const mt_new_meeting *nm, const mt_people *people,
                      const char *host_authority, char id[37], bool *created, hw_status *st)
{
    const mt_meeting_rule *rule = mt_meeting_rule_for(nm->kind);
    if (!rule)
        return hw_status_set(st, HW_INTERNAL, "no rule for meeting kind");
    if (mt_store_meeting_insert(db, nm, id, created, st) != 0)
        return -1;
    if (!*created)
        return 0;
    int unresolved = 0;
    for (size_t i = 0; i < rule->n_invitees; i++) {
        mt_invitee inv;
        fill_invitee(people, &rule->invitees[i], &inv);
        unresolved += empty(inv.person_id);
        if (mt_store_invitee_insert(db, id, (int)i + 1, &inv, st) != 0)
            return -1;
    }
    char subject[64];
    snprintf(subject, sizeof subject, "meeting:%s", id);
    char *payload = NULL;
    if (mt_store_meeting_payload(db, id, &payload, st) != 0)
        return -1;
    int rc = mt_publish(app, db, MT_EV_CREATED, subject, payload, st);
    free(payload);
    if (rc != 0)
        return -1;
    /* R-ESC-3 / STAFFS 20.6: the placing authority's designated safeguarding
     * lead is told in writing, copied to the police missing person champion. */
    if (mt_level3_letter_needed(nm->kind, nm->placing_authority, nm->responsible_authority,
                                host_authority)) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "child_id", nm->child_id,
                              "episode_id", nm->episode_id ? nm->episode_id : "",
                              "meeting_id", id, "placing_authority", nm->placing_authority,
                              "responsible_authority",
                              nm->responsible_authority ? nm->responsible_authority : "",
                              "copy_to", "missing_person_coordinator", "force",
                              nm->force ? nm->force : "", "episodes_in_90_days",
                              nm->episodes_in_90_days);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text)
            return hw_status_set(st, HW_INTERNAL, "cannot encode the letter event");
        rc = mt_publish(app, db, MT_EV_LEVEL3_LETTER, subject, text, st);
        free(text);
        if (rc != 0)
            return -1;
    }
    hw_info("meeting %s created: %s for child %s (%s, %d episodes in 90 days, %d of %zu invitees "
            "unresolved)",
            id, mt_kind_name(nm->kind), nm->child_id, nm->trigger, nm->episodes_in_90_days,
            unresolved, rule->n_invitees);
    return 0;
}

/* ------------------------------------------------------------ events in */

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static int parse_episode(json_t *o, const char *event_id, const char *type, int64_t occurred_ms,
                         mt_episode *e, hw_status *st)
{
    memset(e, 0, sizeof *e);
    const char *episode_id = jstr(o, "episode_id"), *child_id = jstr(o, "child_id");
    if (empty(episode_id) || empty(child_id) || strlen(episode_id) >= MT_ID_MAX ||
        strlen(child_id) >= MT_ID_MAX) {
        /* The sender retries; both logs name the event. */
        hw_error("event %s (%s) lacks a valid episode_id or child_id", event_id, type);
        return hw_status_set(st, HW_INVALID_ARGUMENT, "%s: episode_id and child_id required", type);
    }
    copy(e->episode_id, sizeof e->episode_id, episode_id);
    copy(e->child_id, sizeof e->child_id, child_id);
    bool known;
    e->profile = mt_profile_parse(jstr(o, "profile"), &known);
    if (!known)
        hw_warn("event %s: profile missing or unknown, STAFFS assumed", event_id);
    copy(e->responsible_authority, sizeof e->responsible_authority, jstr(o, "responsible_authority"));
    copy(e->placing_authority, sizeof e->placing_authority, jstr(o, "placing_authority"));
    copy(e->host_authority, sizeof e->host_authority, jstr(o, "host_authority"));
    copy(e->force, sizeof e->force, jstr(o, "force"));
    copy(e->home_id, sizeof e->home_id, jstr(o, "home_id"));
    copy(e->social_worker_id, sizeof e->social_worker_id, jstr(o, "social_worker_id"));
    copy(e->assigned_officer, sizeof e->assigned_officer, jstr(o, "assigned_officer"));
    json_t *spocs = json_object_get(o, "spoc_ids");
    if (json_is_array(spocs) && json_array_size(spocs) > 0 &&
        json_is_string(json_array_get(spocs, 0)))
        copy(e->spoc_id, sizeof e->spoc_id, json_string_value(json_array_get(spocs, 0)));
    json_t *count = json_object_get(o, "missing_90_days");
    e->missing_90_days = json_is_integer(count) ? (int)json_integer_value(count) : -1;
    const char *reported = jstr(o, "reported_at");
    if (empty(reported) || hw_parse_rfc3339(reported, &e->reported_ms) != 0)
        e->reported_ms = occurred_ms;
    return 0;
}

static int schedule_long_deadlines(hw_app *app, hw_db *db, const mt_episode *e, hw_status *st)
{
    const mt_long_rule *rules;
    size_t n = mt_long_rules(e->profile, &rules);
    char subject[MT_ID_MAX + 16];
    snprintf(subject, sizeof subject, "episode:%s", e->episode_id);
    json_t *o = json_pack("{s:s, s:s}", "episode_id", e->episode_id, "child_id", e->child_id);
    char *payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!payload)
        return hw_status_set(st, HW_INTERNAL, "cannot encode deadline payload");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        /* Exact durations from the report (PROTOCOL "Time"); one already
         * past fires at once (the service was down or the event late). */
        rc = hw_schedule(hw_app_scheduler(app), db, rules[i].deadline_kind, subject,
                         hw_add_hours(e->reported_ms, rules[i].hours), payload, st);
    free(payload);
    return rc;
}

static int cancel_long_deadlines(hw_app *app, hw_db *db, const char *episode_id, hw_status *st)
{
    const mt_long_rule *rules;
    size_t n = mt_all_long_rules(&rules);
    char subject[MT_ID_MAX + 16];
    snprintf(subject, sizeof subject, "episode:%s", episode_id);
    for (size_t i = 0; i < n; i++)
        if (hw_cancel(hw_app_scheduler(app), db, rules[i].deadline_kind, subject, st) != 0)
            return -1;
    return 0;
}

/* R-ESC-1, R-ESC-2, R-ESC-3, R-ESC-5: a newly reported episode. */
static int on_reported(hw_app *app, hw_db *db, json_t *o, const mt_episode *e, hw_status *st)
{
    json_t *was_missing = json_object_get(o, "was_missing");
    if (json_is_false(was_missing))
        return 0; /* an absence (R-DEF-2) is not a missing episode */
    bool ended;
    if (mt_store_episode_reported(db, e, &ended, st) != 0)
        return -1;
    if (!ended && schedule_long_deadlines(app, db, e, st) != 0)
        return -1;

    int count = e->missing_90_days;
    if (count < 0 && mt_store_child_count(db, e->child_id, e->reported_ms, &count, st) != 0)
        return -1;
    int open_level;
    if (mt_store_open_level(db, e->child_id, e->profile, &open_level, st) != 0)
        return -1;
    mt_kind called = mt_kind_for_count(e->profile, count);
    bool in_window = false;
    if (called != MT_KIND_NONE &&
        mt_store_kind_in_window(db, e->child_id, called, e->reported_ms, &in_window, st) != 0)
        return -1;
    mt_kind k = mt_repeat_meeting(e->profile, count, open_level, in_window);
    if (k == MT_KIND_NONE)
        return 0;

    mt_people people;
    if (mt_resolve_people(app, e->child_id, e, false, &people, st) != 0)
        return -1;
    const mt_meeting_rule *rule = mt_meeting_rule_for(k);
    char reason[160];
    snprintf(reason, sizeof reason, "%d missing episodes in 90 days (%s, %s)", count,
             rule->rule_id, rule->source);
    mt_new_meeting nm = {
        .child_id = e->child_id,
        .kind = k,
        .profile = e->profile,
        .trigger = "repeat_episodes",
        .reason = reason,
        .episode_id = e->episode_id,
        .episodes_in_90_days = count,
        .responsible_authority = people.responsible_authority,
        .placing_authority = people.placing_authority,
        .force = e->force,
        .home_id = people.home_id,
        .due_by_ms = mt_due_by(k, e->reported_ms),
    };
    char id[37];
    bool created;
    return mt_create_meeting(app, db, &nm, &people, e->host_authority, id, &created, st);
}

int mt_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source, const char *type,
                const char *subject, int64_t occurred_at_ms, const char *payload_json,
                hw_status *st)
{
    bool reported = strcmp(type, "episodes.reported") == 0;
    bool located = strcmp(type, "episodes.located") == 0;
    bool closed = strcmp(type, "episodes.closed") == 0;
    if (!reported && !located && !closed)
        return 0;
    json_error_t jerr;
    json_t *o = json_loads(payload_json ? payload_json : "", 0, &jerr);
    int rc = -1;
    if (!json_is_object(o)) {
        hw_status_set(st, HW_INVALID_ARGUMENT, "%s: payload is not a JSON object", type);
        goto out;
    }
    mt_episode e;
    if (parse_episode(o, event_id, type, occurred_at_ms, &e, st) != 0)
        goto out;
    if (reported) {
        rc = on_reported(app, db, o, &e, st);
        goto out;
    }
    /* Located or closed: the long-episode deadlines are satisfied (R-LONG-1,
     * R-LONG-2, R-ESC-5). Recorded even before the report arrives, so a late
     * report schedules nothing. */
    int64_t at = occurred_at_ms;
    const char *at_text = jstr(o, located ? "located_at" : "closed_at");
    if (!empty(at_text))
        hw_parse_rfc3339(at_text, &at);
    if (mt_store_episode_ended(db, &e, at, closed, st) != 0 ||
        cancel_long_deadlines(app, db, e.episode_id, st) != 0)
        goto out;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

/* ------------------------------------------------------------ deadlines */

static const char *subject_id(const char *subject, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(subject, prefix, n) == 0 ? subject + n : NULL;
}

/* R-LONG-1 (48 h line-manager alert), R-LONG-2 (3-day case review),
 * R-ESC-5 (LLR strategy meeting after 72 h), for an episode still open. */
static int on_long_episode(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                           const char *payload_json, void *arg, hw_status *st)
{
    hw_app *app = arg;
    const mt_long_rule *rule = mt_long_rule_for(kind);
    const char *episode_id = subject_id(subject, "episode:");
    if (!rule || !episode_id) {
        hw_warn("deadline %s for subject %s: not ours, dropped", kind, subject);
        return 0;
    }
    mt_episode e;
    bool found;
    if (mt_store_episode_get(db, episode_id, &e, &found, st) != 0)
        return -1;
    if (!found || e.ended)
        return 0; /* located in the meantime */

    if (rule->meeting == MT_KIND_NONE) {
        bool inserted;
        if (mt_store_alert(db, kind, e.episode_id, e.child_id, &inserted, st) != 0)
            return -1;
        if (!inserted)
            return 0;
        char since[32];
        hw_format_rfc3339(e.reported_ms, since);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "episode_id",
                              e.episode_id, "child_id", e.child_id, "responsible_authority",
                              e.responsible_authority, "force", e.force, "home_id", e.home_id,
                              "social_worker_id", e.social_worker_id, "missing_since", since,
                              "hours", rule->hours, "rule", rule->rule_id);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text)
            return hw_status_set(st, HW_INTERNAL, "cannot encode the alert");
        int rc = mt_publish(app, db, MT_EV_LINE_MANAGER, subject, text, st);
        free(text);
        hw_info("episode %s missing %d hours: line-manager alert raised (%s)", e.episode_id,
                rule->hours, rule->rule_id);
        return rc;
    }

    mt_people people;
    if (mt_resolve_people(app, e.child_id, &e, false, &people, st) != 0)
        return -1;
    char reason[160];
    snprintf(reason, sizeof reason, "missing for %d hours (%s)", rule->hours, rule->rule_id);
    mt_new_meeting nm = {
        .child_id = e.child_id,
        .kind = rule->meeting,
        .profile = e.profile,
        .trigger = "long_duration",
        .reason = reason,
        .episode_id = e.episode_id,
        .episodes_in_90_days = e.missing_90_days > 0 ? e.missing_90_days : 0,
        .responsible_authority = people.responsible_authority,
        .placing_authority = people.placing_authority,
        .force = e.force,
        .home_id = people.home_id,
        .due_by_ms = mt_due_by(rule->meeting, due_at_ms),
    };
    char id[37];
    bool created;
    return mt_create_meeting(app, db, &nm, &people, e.host_authority, id, &created, st);
}

/* R-MEET-1: an action past its due date is raised once. */
static int on_action_due(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                         const char *payload_json, void *arg, hw_status *st)
{
    hw_app *app = arg;
    const char *action_id = subject_id(subject, "action:");
    if (!action_id) {
        hw_warn("deadline %s for subject %s: not ours, dropped", kind, subject);
        return 0;
    }
    char *payload;
    if (mt_store_action_overdue(db, action_id, &payload, st) != 0)
        return -1;
    if (!payload)
        return 0; /* completed in time */
    int rc = mt_publish(app, db, MT_EV_ACTION_OVERDUE, subject, payload, st);
    free(payload);
    hw_info("action %s overdue", action_id);
    return rc;
}

int mt_init(hw_app *app)
{
    mt_state *state = calloc(1, sizeof *state);
    if (!state)
        return -1;
    char err[256];
    state->episodes = hw_channel_from_env("EPISODES", err, sizeof err);
    if (!state->episodes)
        hw_warn("%s: invitees will not be resolved from the child record", err);
    hw_app_set_state(app, state);
    hw_scheduler *s = hw_app_scheduler(app);
    const mt_long_rule *rules;
    size_t n = mt_all_long_rules(&rules);
    for (size_t i = 0; i < n; i++)
        hw_scheduler_on(s, rules[i].deadline_kind, on_long_episode, app);
    hw_scheduler_on(s, MT_DEADLINE_ACTION_DUE, on_action_due, app);
    return 0;
}

void mt_fini(hw_app *app)
{
    mt_state *state = hw_app_state(app);
    if (!state)
        return;
    if (state->episodes)
        hw_channel_destroy(state->episodes);
    free(state);
    hw_app_set_state(app, NULL);
}
