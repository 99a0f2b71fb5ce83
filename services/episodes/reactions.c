/* reactions.c -- deadlines falling due and events from other services. */
#include "reactions.h"

#include <jansson.h>
#include <string.h>

#include "handlers.h"
#include "hw_log.h"
#include "hw_time.h"
#include "rules.h"
#include "store.h"

/* The id after "placement:" / "episode:" if it is a uuid, else NULL. */
static const char *subject_id(const char *subject, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(subject, prefix, n) != 0 || !ep_is_uuid(subject + n)) return NULL;
    return subject + n;
}

/* R-NOT-4: 24 hours after arrival and no notification: overdue. */
static int on_reg41_due(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                        const char *payload_json, void *arg, hw_status *st)
{
    const char *id = subject_id(subject, "placement:");
    if (!id) {
        hw_warn("deadline %s: malformed subject", kind);
        return 0;
    }
    int changed = ep_store_reg41_mark_overdue(db, id, st);
    if (changed < 0) return -1;
    if (changed == 0) return 0; /* submitted meanwhile */
    if (ep_store_placement_event(db, id, "episodes.reg41_overdue", st) != 0) return -1;
    hw_db_after_commit(db, ep_after_commit_kick, arg, false);
    hw_info("placement %s: Regulation 41 notification overdue", id);
    return 0;
}

/* R-DEF-6 / R-LONG-3: still missing 28 days on: long-term missing. */
static int on_long_term(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                        const char *payload_json, void *arg, hw_status *st)
{
    const char *id = subject_id(subject, "episode:");
    if (!id) {
        hw_warn("deadline %s: malformed subject", kind);
        return 0;
    }
    int changed = ep_store_episode_long_term(db, id, st);
    if (changed < 0) return -1;
    if (changed == 0) return 0; /* located meanwhile */
    if (ep_store_timeline_add(db, id, due_at_ms, "long_term", "episodes", "",
                              "missing for 28 days: long-term missing (R-DEF-6)", "", st) != 0 ||
        ep_store_changed(db, id, "episodes.long_term", "episodes.long_term", st) != 0)
        return -1;
    hw_db_after_commit(db, ep_after_commit_kick, arg, false);
    hw_info("episode %s: long-term missing", id);
    return 0;
}

void ep_reactions_register(hw_app *app)
{
    hw_scheduler *s = hw_app_scheduler(app);
    hw_scheduler_on(s, EP_DEADLINE_REG41, on_reg41_due, app);
    hw_scheduler_on(s, EP_DEADLINE_LONG_TERM, on_long_term, app);
}

/* Move to `to` if R-EPI-3 allows it from the current status. */
static int advance(hw_db *db, const char *id, enum ep_status from, enum ep_status to, hw_status *st)
{
    if (!ep_transition_allowed(from, to)) return 0;
    return ep_store_episode_status(db, id, to, st);
}

/* A string member of the payload, or NULL. */
static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* R-EPI-3, R-EPI-7, R-DEF-7: an interview or risk event about one episode. */
static int on_episode_event(hw_app *app, hw_db *db, const char *source, const char *type,
                            int64_t occurred_at_ms, json_t *p, hw_status *st)
{
    bool prevention = strcmp(type, "interviews.prevention_submitted") == 0;
    /* "return_submitted" was this service's name for the event before the
     * interviews service existed; still accepted, it means the same. */
    bool ret_done = strcmp(type, "interviews.return_completed") == 0 ||
                    strcmp(type, "interviews.return_submitted") == 0;
    bool ret_declined = strcmp(type, "interviews.return_declined") == 0;
    const char *id = jstr(p, "episode_id");
    int rc = -1;
    ep_mem m = {NULL, NULL};
    if (!id || !ep_is_uuid(id)) {
        hw_status_violation(st, "payload_json.episode_id", "required: a uuid");
        goto out;
    }
    ep_episode *e = ep_store_episode_get(db, &m, id, true, false, 0, NULL, st);
    if (!e) goto out;
    enum ep_status status = (enum ep_status)e->status;
    int64_t at = occurred_at_ms > 0 ? occurred_at_ms : hw_now_ms();
    const char *actor = source && *source ? source : "service";
    const char *change = "episodes.updated";
    const char *event = "episodes.updated";
    if (prevention) {
        /* R-DEF-7: the prevention interview lets the record close. */
        if (ep_store_episode_prevention(db, id, at, st) != 0 ||
            advance(db, id, status, EP_PREVENTION_DONE, st) != 0 ||
            ep_store_timeline_add(db, id, at, "prevention_interview", actor, "",
                                  "prevention interview recorded", "", st) != 0)
            goto out;
    } else if (ret_done || ret_declined) {
        /* R-EPI-7: offered either way; accepted only when it was done. */
        json_t *within = json_object_get(p, "within_72h");
        const char *text = ret_declined            ? "return interview declined"
                           : json_is_true(within)  ? "return interview done within 72 hours"
                           : json_is_false(within) ? "return interview done, after 72 hours"
                                                   : "return interview done";
        if (ep_store_episode_return_interview(db, id, ret_done, st) != 0 ||
            advance(db, id, status, ret_done ? EP_RETURN_DONE : EP_RETURN_DECLINED, st) != 0 ||
            ep_store_timeline_add(db, id, at, ret_done ? "return_interview" : "return_interview_declined",
                                  actor, "", text, "", st) != 0)
            goto out;
        /* R-SPOC-1: no longer an overdue interview on the roster. */
        const char *interview = jstr(p, "interview_id");
        if (interview && *interview &&
            ep_store_interview_follow_up(db, interview, e->child_id, id, false, true, st) != 0)
            goto out;
    } else {
        const char *level = jstr(p, "level");
        const char *scale = jstr(p, "scale_version");
        if (!level || !*level) {
            hw_status_violation(st, "payload_json.level", "required");
            goto out;
        }
        char text[160];
        snprintf(text, sizeof text, "risk level %s (scale %s)", level, scale ? scale : "");
        if (ep_store_episode_risk(db, id, level, scale, st) != 0 ||
            ep_store_timeline_add(db, id, at, "risk_changed", actor, "", text, "", st) != 0)
            goto out;
        /* The risk service already told everyone; only watchers need it. */
        change = "risk.level_changed";
        event = NULL;
    }
    if (ep_store_changed(db, id, change, event, st) != 0) goto out;
    hw_db_after_commit(db, ep_after_commit_kick, app, false);
    rc = 0;
out:
    ep_mem_release(&m);
    return rc;
}

/* R-SPOC-1: a return interview past its 72 hours (R-RET-2) shows on the
 * child's roster line until it is done or declined. */
static int on_interview_overdue(hw_db *db, const char *event_id, json_t *p, hw_status *st)
{
    const char *interview = jstr(p, "interview_id"), *child = jstr(p, "child_id");
    if (!interview || !*interview || strlen(interview) > 64) {
        hw_status_violation(st, "payload_json.interview_id", "required");
        return -1;
    }
    if (!child || !ep_is_uuid(child)) {
        /* No child of ours can have such an id: nothing to show. */
        hw_warn("event %s: child_id is not a uuid: not on any roster", event_id);
        return 0;
    }
    return ep_store_interview_follow_up(db, interview, child, jstr(p, "episode_id"), true, false,
                                        st);
}

/* R-SPOC-1: open and overdue actions of the child's meetings (R-MEET-1). */
static int on_meeting_action(hw_db *db, const char *event_id, const char *type, json_t *p,
                             hw_status *st)
{
    const char *action = jstr(p, "action_id"), *child = jstr(p, "child_id");
    if (!action || !*action || strlen(action) > 64) {
        hw_status_violation(st, "payload_json.action_id", "required");
        return -1;
    }
    if (!child || !ep_is_uuid(child)) {
        hw_warn("event %s: child_id is not a uuid: not on any roster", event_id);
        return 0;
    }
    int64_t due = -1;
    const char *due_text = jstr(p, "due_at");
    if (due_text && hw_parse_rfc3339(due_text, &due) != 0) due = -1;
    bool overdue = strcmp(type, "meetings.action_overdue") == 0;
    bool completed = strcmp(type, "meetings.action_completed") == 0;
    return ep_store_meeting_action(db, action, child, jstr(p, "meeting_id"), due, overdue,
                                   completed, st);
}

int ep_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                const char *type, const char *subject, int64_t occurred_at_ms,
                const char *payload_json, hw_status *st)
{
    static const char *const episode_events[] = {
        "interviews.prevention_submitted", "interviews.return_completed",
        "interviews.return_submitted", "interviews.return_declined", "risk.level_changed"};
    static const char *const action_events[] = {
        "meetings.action_added", "meetings.action_overdue", "meetings.action_completed"};
    bool about_episode = false, about_action = false;
    for (size_t i = 0; i < sizeof episode_events / sizeof episode_events[0]; i++)
        if (strcmp(type, episode_events[i]) == 0) about_episode = true;
    for (size_t i = 0; i < sizeof action_events / sizeof action_events[0]; i++)
        if (strcmp(type, action_events[i]) == 0) about_action = true;
    bool interview_overdue = strcmp(type, "interviews.return_overdue") == 0;
    if (!about_episode && !about_action && !interview_overdue) return 0; /* not ours to act on */

    json_error_t jerr;
    json_t *p = json_loads(payload_json ? payload_json : "", 0, &jerr);
    int rc = -1;
    if (!json_is_object(p)) {
        hw_status_set(st, HW_INVALID_ARGUMENT, "%s: payload is not a JSON object", type);
        goto out;
    }
    if (about_episode)
        rc = on_episode_event(app, db, source, type, occurred_at_ms, p, st);
    else if (about_action)
        rc = on_meeting_action(db, event_id, type, p, st);
    else
        rc = on_interview_overdue(db, event_id, p, st);
out:
    json_decref(p);
    return rc;
}
