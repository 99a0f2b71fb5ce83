/* events.c -- events fanned out to their recipients; the 07:00 daily alert. */
#include "events.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_log.h"
#include "hw_time.h"

#define PURPOSE "notification recipients (R-EPI-6, R-NOT-1)"
/* A daily alert that fell due this long ago (the service was down) is not
 * sent: yesterday's list of missing children would mislead. */
#define DAILY_STALE_MS (12LL * 3600 * 1000)

static bool known(const char *s) { return s && *s; }

/* A string member, NULL when absent, "" when null (known to be none). */
static const char *member(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return NULL;
    if (json_is_null(v))
        return "";
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void facts_from_payload(json_t *pl, const char *subject, nt_facts *f)
{
    memset(f, 0, sizeof *f);
    f->episode_id = member(pl, "episode_id");
    if (!known(f->episode_id) && strncmp(subject, "episode:", 8) == 0)
        f->episode_id = subject + 8;
    f->child_id = member(pl, "child_id");
    f->home_id = member(pl, "home_id");
    f->placement_id = member(pl, "placement_id");
    f->interview_id = member(pl, "interview_id");
    f->meeting_id = member(pl, "meeting_id");
    f->action_id = member(pl, "action_id");
    f->status = member(pl, "status");
    f->force = member(pl, "force");
    f->responsible_authority = member(pl, "responsible_authority");
    f->placing_authority = member(pl, "placing_authority");
    f->host_authority = member(pl, "host_authority");
    f->assigned_officer = member(pl, "assigned_officer");
    if (!f->assigned_officer)
        f->assigned_officer = member(pl, "assigned_officer_id");
    f->social_worker = member(pl, "social_worker_id");
    f->team_manager = member(pl, "team_manager_id");
    f->iro = member(pl, "iro_id");
    f->owner = member(pl, "owner_id");
    f->chair = member(pl, "chair_id");
    json_t *lo = json_object_get(pl, "looked_after");
    f->looked_after = json_is_true(lo);
    json_t *spocs = json_object_get(pl, "spoc_ids");
    if (json_is_array(spocs)) {
        f->spocs_known = true;
        for (size_t i = 0; i < json_array_size(spocs) && f->n_spocs < NT_MAX_IDS; i++)
            if (json_is_string(json_array_get(spocs, i)))
                f->spocs[f->n_spocs++] = json_string_value(json_array_get(spocs, i));
    }
}

/* Keep missing_now in step with the episodes events (for R-NOT-2). */
static int track_missing(hw_db *db, const char *type, json_t *pl, const nt_facts *f,
                         hw_status *st)
{
    if (strncmp(type, "episodes.", 9) != 0 || !known(f->episode_id) || !f->status)
        return 0;
    if (strcmp(f->status, "reported") == 0 || strcmp(f->status, "missing") == 0) {
        nt_missing_child c = {f->episode_id, f->child_id, f->responsible_authority, f->force,
                              f->home_id, f->status, member(pl, "risk_level"),
                              member(pl, "reported_at")};
        return nt_store_missing_upsert(db, &c, st);
    }
    return nt_store_missing_remove(db, f->episode_id, st);
}

static void body_for(const nt_rule *rule, const nt_facts *f, json_t *pl, char *out, size_t n)
{
    const char *risk = member(pl, "risk_level");
    const char *reported = member(pl, "reported_at");
    const char *located = member(pl, "located_at");
    const char *due = member(pl, "due_at");
    int off = snprintf(out, n, "%s.", rule->title);
    if (known(f->episode_id) && off < (int)n)
        off += snprintf(out + off, n - (size_t)off, " Episode %s.", f->episode_id);
    if (known(f->status) && off < (int)n)
        off += snprintf(out + off, n - (size_t)off, " Status: %s.", f->status);
    if (known(risk) && off < (int)n)
        off += snprintf(out + off, n - (size_t)off, " Risk: %s.", risk);
    if (known(reported) && off < (int)n)
        off += snprintf(out + off, n - (size_t)off, " Reported %s.", reported);
    if (known(located) && off < (int)n)
        off += snprintf(out + off, n - (size_t)off, " Found %s.", located);
    if (known(due) && off < (int)n)
        snprintf(out + off, n - (size_t)off, " Was due %s.", due);
}

void nt_letter_facts_from(const nt_people *p, const nt_facts *f, int64_t now_ms,
                          nt_letter_facts *out, char today[11], char dob[16],
                          char name[300])
{
    const Homeward__Episodes__V1__Episode *e = p->episode ? p->episode->episode : NULL;
    const Homeward__Episodes__V1__Child *c = p->child;
    const Homeward__Episodes__V1__Home *h = p->home;
    const Homeward__Episodes__V1__ChildCounts *counts = p->episode ? p->episode->counts : NULL;

    memset(out, 0, sizeof *out);
    hw_date d = hw_london_date(now_ms, NULL);
    snprintf(today, 11, "%04d-%02d-%02d", d.y, d.m, d.d);
    out->today = today;
    name[0] = '\0';
    if (c)
        snprintf(name, 300, "%s %s", c->first_name ? c->first_name : "",
                 c->last_name ? c->last_name : "");
    out->child_name = name;
    snprintf(dob, 16, "%s", c && c->date_of_birth ? c->date_of_birth : "");
    out->date_of_birth = dob;
    out->child_id = f->child_id;
    out->episode_id = f->episode_id;
    out->home_name = h ? h->name : NULL;
    out->home_address = h ? h->address : NULL;
    out->host_authority = f->host_authority;
    out->placing_authority = nt_placing_authority(f);
    out->force = f->force;
    if (e) {
        out->missing_since = known(e->missing_since) ? e->missing_since : e->reported_at;
        out->last_seen_place = e->last_seen_place;
        out->police_incident_ref = e->police_incident_ref;
        out->mispers_ref = e->mispers_ref;
        out->risk_level = e->risk_level;
    }
    out->episodes_90_days = counts ? counts->missing_90_days : 0;
}

/* R-NOT-3 / R-ESC-3: render, store, and queue the e-mail to the placing
 * authority's mailbox (pending when none is on file or no relay). */
static int make_letter(nt_service *svc, hw_db *db, const char *event_id, enum nt_letter_kind kind,
                       const nt_people *p, const nt_facts *f, int64_t now_ms, char letter_id[40],
                       hw_status *st)
{
    nt_letter_facts lf;
    char today[11], dob[16], name[300];
    nt_letter_facts_from(p, f, now_ms, &lf, today, dob, name);
    char *subject = NULL;
    char *body = nt_letter_render(kind, &lf, &subject);
    if (!body)
        return 0;
    const char *to = nt_placing_authority(f);
    char copy_to[160] = "";
    if (kind == NT_LETTER_LEVEL3)
        snprintf(copy_to, sizeof copy_to, "Police missing person champion (%s)",
                 known(f->force) ? f->force : "force not recorded");
    nt_new_letter nl = {
        .kind = nt_letter_kind_name(kind), .rule = nt_letter_rule(kind), .event_id = event_id,
        .episode_id = f->episode_id, .child_id = f->child_id,
        .from_authority = f->host_authority, .to_authority = to,
        .copy_org = kind == NT_LETTER_LEVEL3 ? f->force : "",
        .addressee = nt_letter_addressee(kind), .copy_to = copy_to,
        .subject_line = subject, .body = body, .created_at_ms = now_ms,
    };
    int rc = nt_store_add_letter(db, &nl, letter_id, st);
    if (rc == 1) {
        char mailbox[256];
        int found = nt_store_mailbox(db, to, "safeguarding_lead", mailbox, st);
        if (found < 0)
            rc = -1;
        else {
            nt_new_external ext = {
                .channel = "email", .to_name = "Designated Safeguarding Lead",
                .to_address = found == 0 ? mailbox : "", .to_authority = to,
                .from_authority = f->host_authority, .reason = "placing_authority_letter",
                .rule = nl.rule, .subject_line = subject, .body = body, .letter_id = letter_id,
                .episode_id = f->episode_id, .created_at_ms = now_ms,
                .last_error = found == 0 ? NULL : "no mailbox on file for this authority",
            };
            if (nt_store_add_external(db, &ext, st) != 0)
                rc = -1;
        }
    }
    (void)svc;
    free(subject);
    free(body);
    return rc < 0 ? -1 : 0;
}

/* R-NOT-1: family contacts are told by call or text (no gateway here: the
 * rows wait as "pending" for one), never those marked "do not notify". */
static int tell_family(hw_db *db, const nt_facts *f, const nt_recipients *r, int64_t note_id,
                       int64_t now_ms, hw_status *st)
{
    for (int i = 0; i < r->n_family; i++) {
        const nt_contact *c = &f->contacts[r->family[i]];
        nt_new_external ext = {
            .channel = "phone", .to_name = c->name, .to_address = c->phone,
            .to_authority = "", .from_authority = f->responsible_authority,
            .reason = "family_contact", .rule = "R-NOT-1",
            .subject_line = "Your child has been found",
            .body = "The child you were told was missing has been found and is safe. "
                    "Their social worker will be in touch.",
            .episode_id = f->episode_id, .notification_id = note_id, .created_at_ms = now_ms,
            .last_error = "no text or call gateway configured",
        };
        if (nt_store_add_external(db, &ext, st) != 0)
            return -1;
    }
    return 0;
}

int nt_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                const char *type, const char *subject, int64_t occurred_at_ms,
                const char *payload_json, hw_status *st)
{
    nt_service *svc = hw_app_state(app);
    json_error_t jerr;
    nt_people people = {0};
    int rc = -1;

    json_t *pl = json_loads(payload_json, 0, &jerr);
    if (!json_is_object(pl)) {
        /* A malformed payload will not improve on retry: drop it, loudly. */
        hw_warn("event %s (%s): payload is not a JSON object; ignored", event_id, type);
        json_decref(pl);
        return 0;
    }
    nt_facts f;
    facts_from_payload(pl, subject, &f);
    if (track_missing(db, type, pl, &f, st) != 0)
        goto out;
    const nt_rule *rule = nt_rule_for(type);
    if (!rule) {
        rc = 0;
        goto out;
    }

    unsigned what = nt_fetch_for(nt_missing_facts(rule, &f), &f);
    /* R-NOT-3: decide whether the child was placed by another authority. */
    if (rule->letter == NT_LETTER_OTHER_AUTHORITY && f.looked_after && !known(f.host_authority) &&
        nt_placing_authority(&f))
        what |= NT_FETCH_HOME | (known(f.home_id) ? 0 : NT_FETCH_EPISODE);
    if (what && nt_people_fetch(svc, what, f.child_id, f.episode_id, f.home_id, PURPOSE, &people,
                                st) != 0)
        goto out;
    nt_people_complete(&people, &f);

    enum nt_letter_kind letter = rule->letter;
    if (letter == NT_LETTER_OTHER_AUTHORITY && !nt_placed_by_other_authority(&f))
        letter = NT_LETTER_NONE;
    if (letter == NT_LETTER_LEVEL3 && !nt_placing_authority(&f))
        letter = NT_LETTER_NONE;
    if (letter != NT_LETTER_NONE) {
        /* The letter names the child and the placement: fetch the records. */
        if (nt_people_fetch(svc, NT_FETCH_EPISODE | NT_FETCH_CHILD | NT_FETCH_HOME, f.child_id,
                            f.episode_id, f.home_id, PURPOSE, &people, st) != 0)
            goto out;
        nt_people_complete(&people, &f);
    }

    nt_recipients r;
    nt_resolve(rule, &f, &r);
    int64_t now = hw_now_ms();
    if (nt_store_lock_writers(db, st) != 0)
        goto out;
    char letter_id[40] = "";
    if (letter != NT_LETTER_NONE &&
        make_letter(svc, db, event_id, letter, &people, &f, now, letter_id, st) != 0)
        goto out;
    char body[512];
    body_for(rule, &f, pl, body, sizeof body);
    int64_t note_id = 0;
    if (r.n > 0) {
        nt_new_note n = {
            .event_id = event_id, .kind = rule->kind, .rule = rule->rule, .urgent = rule->urgent,
            .title = rule->title, .body = body, .subject = subject, .episode_id = f.episode_id,
            .child_id = f.child_id, .letter_id = letter_id[0] ? letter_id : NULL,
            .created_at_ms = now,
        };
        note_id = nt_store_add_note(db, &n, &r, st);
        if (note_id < 0)
            goto out;
    }
    if (r.n_family > 0 && tell_family(db, &f, &r, note_id, now, st) != 0)
        goto out;
    if (note_id > 0)
        hw_db_after_commit(db, nt_hub_kick, svc->hub, false);
    hw_info("event %s (%s from %s): %d recipients, %d family contacts told, %d withheld (R-NOT-1)%s",
            event_id, type, source, r.n, r.n_family, r.n_family_withheld,
            letter_id[0] ? ", letter written" : "");
    (void)occurred_at_ms;
    rc = 0;

out:
    nt_people_free(&people);
    json_decref(pl);
    return rc;
}

/* ------------------------------------------------------------ R-NOT-2 daily alert */

static int schedule_next(nt_service *svc, hw_db *db, int64_t after_ms, hw_status *st)
{
    char date[11];
    int64_t at = nt_daily_alert_next(after_ms, date);
    return hw_schedule(hw_app_scheduler(svc->app), db, "daily_alert", date, at, NULL, st);
}

static int add_authority_alert(hw_db *db, const char *date, const char *authority,
                               const char *lines, int children, int64_t now, hw_status *st)
{
    nt_recipients r;
    nt_daily_alert_recipients(authority, &r);
    if (r.n == 0)
        return 0;
    char event[64], subject[160], title[160];
    snprintf(event, sizeof event, "daily_alert:%s", date);
    snprintf(subject, sizeof subject, "authority:%s", authority);
    snprintf(title, sizeof title, "Daily alert %s: %d child%s missing", date, children,
             children == 1 ? "" : "ren");
    nt_new_note n = {.event_id = event, .kind = "daily_alert", .rule = "R-NOT-2",
                     .urgent = false, .title = title, .body = lines, .subject = subject,
                     .created_at_ms = now};
    int64_t id = nt_store_add_note(db, &n, &r, st);
    return id < 0 ? -1 : (id > 0 ? 1 : 0);
}

static int on_daily_alert(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                          const char *payload_json, void *arg, hw_status *st)
{
    nt_service *svc = arg;
    int64_t now = hw_now_ms();
    (void)kind;
    (void)payload_json;

    if (now - due_at_ms > DAILY_STALE_MS) {
        hw_warn("daily alert for %s fell due long ago (service down?): not sent", subject);
        return schedule_next(svc, db, now > due_at_ms ? now : due_at_ms, st);
    }
    int claimed = nt_store_daily_claim(db, subject, now, st);
    if (claimed < 0)
        return -1;
    if (claimed == 1) {
        if (nt_store_lock_writers(db, st) != 0)
            return -1;
        hw_res *r = nt_store_missing_list(db, st);
        if (!r)
            return -1;
        int rows = hw_res_rows(r), notes = 0;
        /* One alert per authority, listing its children missing now (ids
         * only: the app shows the records to those allowed to see them). */
        for (int i = 0; i < rows;) {
            const char *authority = hw_res_get(r, i, 2);
            char *lines = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&lines, &len);
            int children = 0, j = i;
            for (; j < rows && strcmp(hw_res_get(r, j, 2), authority) == 0; j++, children++)
                fprintf(mem, "Child %s, episode %s: %s since %s, risk %s.\n", hw_res_get(r, j, 1),
                        hw_res_get(r, j, 0), hw_res_get(r, j, 3), hw_res_get(r, j, 5),
                        *hw_res_get(r, j, 4) ? hw_res_get(r, j, 4) : "not assessed");
            fclose(mem);
            int added = *authority ? add_authority_alert(db, subject, authority, lines, children,
                                                         now, st)
                                   : 0;
            free(lines);
            if (added < 0) {
                hw_res_free(r);
                return -1;
            }
            notes += added;
            i = j;
        }
        hw_res_free(r);
        if (nt_store_daily_done(db, subject, rows, notes, st) != 0)
            return -1;
        hw_info("daily alert %s: %d children missing, %d alerts (R-NOT-2)", subject, rows, notes);
        hw_db_after_commit(db, nt_hub_kick, svc->hub, false);
    } else {
        hw_info("daily alert %s already sent", subject);
    }
    /* Tomorrow's, strictly after this one (23 or 25 hours on a change day). */
    return schedule_next(svc, db, now > due_at_ms ? now : due_at_ms, st);
}

void nt_daily_register(nt_service *svc)
{
    hw_scheduler_on(hw_app_scheduler(svc->app), "daily_alert", on_daily_alert, svc);
}

int nt_daily_ensure(nt_service *svc, hw_status *st)
{
    hw_db *db = hw_pg_acquire(hw_app_pool(svc->app), 5000, st);
    if (!db)
        return -1;
    int rc = -1;
    if (hw_db_begin(db, st) != 0)
        goto out_release;
    /* Replicas starting together: one at a time. */
    if (hw_db_run(db, "SELECT pg_advisory_xact_lock(hashtext('homeward.notifications.daily'))", 0,
                  NULL, st) != 0)
        goto out_rollback;
    int64_t now = hw_now_ms();
    char date[11];
    int64_t at = nt_daily_alert_next(now, date);
    int ran = nt_store_daily_ran(db, date, st);
    if (ran < 0)
        goto out_rollback;
    if (ran == 1)
        at = nt_daily_alert_next(at, date);
    /* A pending alert for a later date than the next (a clock moved back)
     * would never let today's fire: cancel it. Earlier ones are due and
     * fire (or are skipped as stale) by themselves. */
    hw_res *r = nt_store_pending_daily(db, date, st);
    if (!r)
        goto out_rollback;
    for (int i = 0; i < hw_res_rows(r); i++) {
        if (strcmp(hw_res_get(r, i, 0), date) > 0 &&
            hw_cancel(hw_app_scheduler(svc->app), db, "daily_alert", hw_res_get(r, i, 0), st) != 0) {
            hw_res_free(r);
            goto out_rollback;
        }
    }
    hw_res_free(r);
    if (hw_schedule(hw_app_scheduler(svc->app), db, "daily_alert", date, at, NULL, st) != 0)
        goto out_rollback;
    if (hw_db_commit(db, st) != 0)
        goto out_release;
    char when[32];
    hw_format_rfc3339(at, when);
    hw_info("daily alert scheduled for %s (%s)", date, when);
    rc = 0;
    goto out_release;

out_rollback:
    hw_db_rollback(db);
out_release:
    hw_pg_release(db);
    return rc;
}
