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

int ep_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                const char *type, const char *subject, int64_t occurred_at_ms,
                const char *payload_json, hw_status *st)
{
    bool prevention = strcmp(type, "interviews.prevention_submitted") == 0;
    bool ret_done = strcmp(type, "interviews.return_submitted") == 0;
    bool ret_declined = strcmp(type, "interviews.return_declined") == 0;
    bool risk = strcmp(type, "risk.level_changed") == 0;
    if (!prevention && !ret_done && !ret_declined && !risk) return 0; /* not ours to act on */

    json_error_t jerr;
    json_t *p = json_loads(payload_json, 0, &jerr);
    const char *id = json_string_value(json_object_get(p, "episode_id"));
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
        if (ep_store_episode_return_interview(db, id, ret_done, st) != 0 ||
            advance(db, id, status, ret_done ? EP_RETURN_DONE : EP_RETURN_DECLINED, st) != 0 ||
            ep_store_timeline_add(db, id, at, ret_done ? "return_interview" : "return_interview_declined",
                                  actor, "", ret_done ? "return interview done" : "return interview declined",
                                  "", st) != 0)
            goto out;
    } else {
        const char *level = json_string_value(json_object_get(p, "level"));
        const char *scale = json_string_value(json_object_get(p, "scale_version"));
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
    json_decref(p);
    ep_mem_release(&m);
    return rc;
}
