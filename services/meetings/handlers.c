/* handlers.c -- the Meetings calls: what is well formed, who may do what
 * (escalation.c, R-SEC-1), what is kept (store.c), what is published. */
#include "handlers.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escalation.h"
#include "homeward/meetings/v1/meetings.pb-c.h"
#include "hw_app.h"
#include "hw_audit.h"
#include "hw_idem.h"
#include "hw_log.h"
#include "hw_roles.h"
#include "hw_time.h"
#include "intake.h"
#include "store.h"

#define DEFAULT_PAGE 50
#define MAX_PAGE 200
#define DEFAULT_ACTIONS 100
#define MAX_ACTIONS 500
#define MAX_TEXT 20000

typedef struct req {
    hw_call *call;
    hw_app *app;
    const hw_principal *who;
    hw_db *db;
} req;

/* ------------------------------------------------------------ input checks */

static bool empty(const char *s)
{
    return !s || !*s;
}

static bool is_uuid(const char *s)
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

static void need_uuid(hw_status *st, const char *field, const char *v)
{
    if (empty(v))
        hw_status_violation(st, field, "required");
    else if (!is_uuid(v))
        hw_status_violation(st, field, "must be a uuid");
}

static void need_text(hw_status *st, const char *field, const char *v)
{
    bool blank = true;
    for (const char *c = v ? v : ""; *c; c++)
        if (!isspace((unsigned char)*c)) {
            blank = false;
            break;
        }
    if (blank)
        hw_status_violation(st, field, "required");
    else if (strlen(v) > MAX_TEXT)
        hw_status_violation(st, field, "at most %d characters", MAX_TEXT);
}

static void max_text(hw_status *st, const char *field, const char *v)
{
    if (v && strlen(v) > MAX_TEXT)
        hw_status_violation(st, field, "at most %d characters", MAX_TEXT);
}

/* 1: parsed into *out; 0: empty (not required); -1: violation added. */
static int need_time(hw_status *st, const char *field, const char *v, bool required, int64_t *out)
{
    *out = 0;
    if (empty(v)) {
        if (required)
            hw_status_violation(st, field, "required");
        return required ? -1 : 0;
    }
    if (hw_parse_rfc3339(v, out) != 0) {
        hw_status_violation(st, field, "must be an RFC 3339 instant, e.g. 2026-11-23T11:15:49Z");
        return -1;
    }
    return 1;
}

static bool is_service(const hw_principal *p)
{
    return hw_principal_has_role(p, HW_ROLE_SERVICE);
}

static void deny(hw_status *st)
{
    hw_status_set(st, HW_PERMISSION_DENIED,
                  "only the social workers, team managers, CSC leads and IROs of the child's "
                  "authority manage its meetings; invitees may read them");
}

/* ------------------------------------------------------------ transactions */

/* Lease a connection and open a transaction, after checking the stated
 * reason so a refused call touches nothing. */
static int begin(req *x, hw_call *call, void *ctx, hw_status *st)
{
    memset(x, 0, sizeof *x);
    x->call = call;
    x->app = ctx;
    x->who = hw_call_principal(call);
    if (hw_audit_require_purpose(call, st) != 0)
        return -1;
    int64_t left = hw_call_ms_left(call);
    x->db = hw_pg_acquire(hw_app_pool(x->app), left < 5000 ? left : 5000, st);
    if (!x->db)
        return -1;
    if (hw_db_begin(x->db, st) != 0) {
        hw_pg_release(x->db);
        x->db = NULL;
        return -1;
    }
    return 0;
}

/* Commit (when st is OK) or roll back, and release. */
static void end(req *x, hw_status *st)
{
    if (!x->db)
        return;
    if (hw_ok(st)) {
        if (hw_db_commit(x->db, st) != 0)
            hw_db_rollback(x->db);
    } else {
        hw_db_rollback(x->db);
    }
    hw_pg_release(x->db);
    x->db = NULL;
}

typedef int (*change_fn)(req *x, const void *in, ProtobufCMessage **resp, hw_status *st);

/* Idempotency, transaction, commit: the frame of every mutating call. A
 * change that fails rolls back whole, so a refused call writes nothing. */
static void run_change(hw_call *call, void *ctx, const char *request_id,
                       const ProtobufCMessageDescriptor *resp_desc, const void *in, change_fn fn,
                       ProtobufCMessage **out, hw_status *st)
{
    if (empty(request_id))
        hw_status_violation(st, "request_id", "required: a client-generated id for this change");
    if (!hw_ok(st))
        return;
    hw_call_set_request_id(call, request_id);
    req x;
    if (begin(&x, call, ctx, st) != 0)
        return;
    ProtobufCMessage *resp = NULL;
    int replay = hw_idem_begin(x.db, call, request_id, resp_desc, &resp, st);
    if (replay == 0) {
        if (fn(&x, in, &resp, st) != 0 && hw_ok(st))
            hw_status_set(st, HW_INTERNAL, "change not applied");
        if (hw_ok(st))
            hw_idem_finish(x.db, call, request_id, resp, st);
    }
    end(&x, st);
    if (hw_ok(st))
        *out = resp;
}

/* ------------------------------------------------------------ access */

static int may_read(req *x, const mt_meeting_msg *m, hw_status *st)
{
    if (is_service(x->who) || mt_may_manage(x->who, m->responsible_authority))
        return 0;
    bool invited = false;
    if (mt_store_is_invited(x->db, m->id, x->who, &invited, st) != 0)
        return -1;
    if (!invited) {
        deny(st);
        return -1;
    }
    return 0;
}

static mt_meeting_msg *load_for_manage(req *x, const char *id, hw_status *st)
{
    mt_meeting_msg *m = mt_store_meeting_get(x->db, x->call, id, true, false, st);
    if (!m)
        return NULL;
    if (!mt_may_manage(x->who, m->responsible_authority)) {
        deny(st);
        return NULL;
    }
    return m;
}

static int require_open(const mt_meeting_msg *m, hw_status *st)
{
    if (m->status == HOMEWARD__MEETINGS__V1__MEETING_STATUS__MEETING_STATUS_HELD)
        return hw_status_set(st, HW_FAILED_PRECONDITION, "the meeting has been held (minutes recorded)");
    return 0;
}

/* Reload the meeting whole, audit the change, make it the reply. */
static int reply_meeting(req *x, const char *id, ProtobufCMessage **resp, hw_status *st)
{
    mt_meeting_msg *m = mt_store_meeting_get(x->db, x->call, id, false, true, st);
    if (!m || hw_audit(x->db, x->call, NULL, "meeting", id, st) != 0)
        return -1;
    *resp = &m->base;
    return 0;
}

static int publish_meeting(req *x, const char *type, const char *id, json_t *extra, hw_status *st)
{
    char *payload = NULL;
    if (mt_store_meeting_payload(x->db, id, &payload, st) != 0) {
        json_decref(extra);
        return -1;
    }
    if (extra) {
        json_t *o = json_loads(payload, 0, NULL);
        free(payload);
        payload = NULL;
        if (json_is_object(o)) {
            json_object_update(o, extra);
            payload = json_dumps(o, JSON_COMPACT);
        }
        json_decref(o);
        json_decref(extra);
        if (!payload)
            return hw_status_set(st, HW_INTERNAL, "cannot encode event");
    }
    char subject[64];
    snprintf(subject, sizeof subject, "meeting:%s", id);
    int rc = mt_publish(x->app, x->db, type, subject, payload, st);
    free(payload);
    return rc;
}

/* An action's event (R-MEET-1): the episodes roster shows open and
 * overdue actions per child (R-SPOC-1). */
static int publish_action(req *x, const char *type, const char *action_id, hw_status *st)
{
    char *payload = NULL;
    if (mt_store_action_payload(x->db, action_id, &payload, st) != 0)
        return -1;
    char subject[64];
    snprintf(subject, sizeof subject, "action:%s", action_id);
    int rc = mt_publish(x->app, x->db, type, subject, payload, st);
    free(payload);
    return rc;
}

/* ------------------------------------------------------------ GetMeeting */

static void h_get_meeting(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                          hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__GetMeetingRequest *in = (const void *)rm;
    need_uuid(st, "meeting_id", in->meeting_id);
    if (!hw_ok(st))
        return;
    req x;
    if (begin(&x, call, ctx, st) != 0)
        return;
    mt_meeting_msg *m = mt_store_meeting_get(x.db, call, in->meeting_id, false, true, st);
    if (m && may_read(&x, m, st) == 0 && hw_audit(x.db, call, NULL, "meeting", m->id, st) == 0)
        *out = &m->base;
    end(&x, st);
    if (!hw_ok(st))
        *out = NULL;
}

/* ------------------------------------------------------------ ListMeetings */

static void h_list_meetings(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                            hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__ListMeetingsRequest *in = (const void *)rm;
    int scope = in->scope;
    if (scope < HOMEWARD__MEETINGS__V1__LIST_SCOPE__LIST_SCOPE_MINE ||
        scope > HOMEWARD__MEETINGS__V1__LIST_SCOPE__LIST_SCOPE_OVERDUE)
        hw_status_violation(st, "scope", "required: MINE, CHILD, AUTHORITY or OVERDUE");
    if (scope == HOMEWARD__MEETINGS__V1__LIST_SCOPE__LIST_SCOPE_CHILD && empty(in->child_id))
        hw_status_violation(st, "child_id", "required for the CHILD scope");
    if (in->child_id && strlen(in->child_id) >= MT_ID_MAX)
        hw_status_violation(st, "child_id", "too long");
    if (in->page_size < 0)
        hw_status_violation(st, "page_size", "must not be negative");
    long offset = 0;
    if (!empty(in->page_token)) {
        char *end_ptr;
        offset = strtol(in->page_token, &end_ptr, 10);
        if (*end_ptr || offset < 0 || offset > 1000000)
            hw_status_violation(st, "page_token", "not a token from a previous page");
    }
    if (!hw_ok(st))
        return;
    int limit = in->page_size == 0 ? DEFAULT_PAGE : in->page_size > MAX_PAGE ? MAX_PAGE : in->page_size;
    req x;
    if (begin(&x, call, ctx, st) != 0)
        return;
    mt_list_query q = {
        .scope = scope,
        .child_id = in->child_id,
        .open_only = in->open_only,
        .limit = limit,
        .offset = (int)offset,
        .service = is_service(x.who),
        .manage_org = mt_may_manage(x.who, x.who->org) ? x.who->org : "",
        .who = x.who,
    };
    mt_meeting_msg **ms;
    size_t n;
    if (mt_store_meetings_list(x.db, call, &q, &ms, &n, st) == 0) {
        bool child = scope == HOMEWARD__MEETINGS__V1__LIST_SCOPE__LIST_SCOPE_CHILD;
        if (hw_audit(x.db, call, NULL, child ? "child" : "meetings",
                     child ? in->child_id : x.who->org, st) == 0) {
            Homeward__Meetings__V1__ListMeetingsResponse *r = hw_call_alloc(call, sizeof *r);
            homeward__meetings__v1__list_meetings_response__init(r);
            r->meetings = ms;
            r->n_meetings = n;
            r->next_page_token =
                (int)n == limit ? hw_call_printf(call, "%ld", offset + limit) : hw_call_strdup(call, "");
            *out = &r->base;
        }
    }
    end(&x, st);
    if (!hw_ok(st))
        *out = NULL;
}

/* ------------------------------------------------------------ Schedule */

static int do_schedule(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__ScheduleRequest *in = inv;
    int64_t at;
    hw_parse_rfc3339(in->scheduled_at, &at);
    mt_meeting_msg *m = load_for_manage(x, in->meeting_id, st);
    if (!m || require_open(m, st) != 0)
        return -1;
    if (mt_store_schedule(x->db, m->id, at, in->location, st) != 0 ||
        publish_meeting(x, MT_EV_SCHEDULED, m->id, NULL, st) != 0)
        return -1;
    return reply_meeting(x, m->id, resp, st);
}

static void h_schedule(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                       hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__ScheduleRequest *in = (const void *)rm;
    int64_t at;
    need_uuid(st, "meeting_id", in->meeting_id);
    need_time(st, "scheduled_at", in->scheduled_at, true, &at);
    need_text(st, "location", in->location);
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__meeting__descriptor, in,
               do_schedule, out, st);
}

/* ------------------------------------------------------------ RecordAttendance */

static int do_attendance(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__RecordAttendanceRequest *in = inv;
    mt_meeting_msg *m = load_for_manage(x, in->meeting_id, st);
    if (!m)
        return -1;
    for (size_t i = 0; i < in->n_entries; i++) {
        const Homeward__Meetings__V1__AttendanceEntry *e = in->entries[i];
        if (mt_store_attendance(x->db, m->id, e->invitee_id, e->attended, e->apologies, e->note,
                                x->who->sub, st) != 0) {
            if (st->code == HW_NOT_FOUND) {
                *st = (hw_status)HW_STATUS_INIT;
                char field[64];
                snprintf(field, sizeof field, "entries[%zu].invitee_id", i);
                hw_status_violation(st, field, "not an invitee of this meeting");
            }
            return -1;
        }
    }
    return reply_meeting(x, m->id, resp, st);
}

static void h_record_attendance(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                                hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__RecordAttendanceRequest *in = (const void *)rm;
    need_uuid(st, "meeting_id", in->meeting_id);
    if (in->n_entries == 0)
        hw_status_violation(st, "entries", "at least one entry");
    for (size_t i = 0; i < in->n_entries && i < 200; i++) {
        const char *id = in->entries[i]->invitee_id;
        bool digits = !empty(id) && strlen(id) < 19;
        for (const char *c = id; digits && *c; c++)
            digits = isdigit((unsigned char)*c);
        char field[64];
        if (!digits) {
            snprintf(field, sizeof field, "entries[%zu].invitee_id", i);
            hw_status_violation(st, field, "required: an invitee id from the meeting");
        }
        if (in->entries[i]->attended && in->entries[i]->apologies) {
            snprintf(field, sizeof field, "entries[%zu].apologies", i);
            hw_status_violation(st, field, "an invitee who attended did not send apologies");
        }
        snprintf(field, sizeof field, "entries[%zu].note", i);
        max_text(st, field, in->entries[i]->note);
    }
    if (in->n_entries > 200)
        hw_status_violation(st, "entries", "at most 200 entries");
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__meeting__descriptor, in,
               do_attendance, out, st);
}

/* ------------------------------------------------------------ RecordMinutes */

static int do_minutes(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__RecordMinutesRequest *in = inv;
    int64_t next = 0;
    if (!empty(in->minutes->next_meeting_at))
        hw_parse_rfc3339(in->minutes->next_meeting_at, &next);
    mt_meeting_msg *m = load_for_manage(x, in->meeting_id, st);
    if (!m || require_open(m, st) != 0)
        return -1;
    if (mt_store_minutes(x->db, m->id, in->minutes, next, x->who->sub, st) != 0)
        return -1;
    json_t *extra = json_object();
    /* R-LONG-2 (STAFFS 17.4): minutes go to the children's social care lead
     * and the IRO; the notifications service resolves them by role. */
    json_object_set_new(extra, "distribute_to", json_pack("[s, s]", "csc_lead", "iro"));
    json_object_set_new(extra, "rule", json_string("R-LONG-2"));
    json_object_set_new(extra, "recorded_by_id", json_string(x->who->sub));
    if (next > 0) {
        /* 17.3: the next meeting while the episode continues. */
        char follow[37];
        bool created;
        if (mt_store_follow_up(x->db, m->id, next, follow, &created, st) != 0) {
            json_decref(extra);
            return -1;
        }
        if (created) {
            json_object_set_new(extra, "follow_up_id", json_string(follow));
            if (publish_meeting(x, MT_EV_SCHEDULED, follow, NULL, st) != 0) {
                json_decref(extra);
                return -1;
            }
        }
    }
    if (publish_meeting(x, MT_EV_MINUTES, m->id, extra, st) != 0)
        return -1;
    return reply_meeting(x, m->id, resp, st);
}

static void check_decision(hw_status *st, const char *field, int d)
{
    if (d < 0 || d > HOMEWARD__MEETINGS__V1__DECISION__DECISION_NO)
        hw_status_violation(st, field, "must be UNSPECIFIED, YES or NO");
}

static void h_record_minutes(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                             hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__RecordMinutesRequest *in = (const void *)rm;
    need_uuid(st, "meeting_id", in->meeting_id);
    const mt_minutes_msg *mm = in->minutes;
    if (!mm) {
        hw_status_violation(st, "minutes", "required");
    } else {
        need_text(st, "minutes.plan", mm->plan);
        max_text(st, "minutes.push_factors", mm->push_factors);
        max_text(st, "minutes.pull_factors", mm->pull_factors);
        max_text(st, "minutes.discussion", mm->discussion);
        max_text(st, "minutes.actions_reviewed", mm->actions_reviewed);
        check_decision(st, "minutes.return_to_placement", mm->return_to_placement);
        check_decision(st, "minutes.section_47", mm->section_47);
        if (mm->n_decisions > 100)
            hw_status_violation(st, "minutes.decisions", "at most 100 entries");
        for (size_t i = 0; i < mm->n_decisions && i < 100; i++) {
            char field[64];
            snprintf(field, sizeof field, "minutes.decisions[%zu]", i);
            need_text(st, field, mm->decisions[i]);
        }
        int64_t next;
        if (need_time(st, "minutes.next_meeting_at", mm->next_meeting_at, false, &next) == 1 &&
            next <= hw_now_ms())
            hw_status_violation(st, "minutes.next_meeting_at", "must be in the future");
    }
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__meeting__descriptor, in,
               do_minutes, out, st);
}

/* ------------------------------------------------------------ actions */

static int do_add_action(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__AddActionRequest *in = inv;
    int64_t due;
    hw_parse_rfc3339(in->due_at, &due);
    mt_meeting_msg *m = load_for_manage(x, in->meeting_id, st);
    if (!m)
        return -1;
    char id[37], subject[64];
    if (mt_store_action_insert(x->db, m->id, in->description, in->owner_id, in->owner_name,
                               in->owner_role, due, x->who->sub, id, st) != 0)
        return -1;
    snprintf(subject, sizeof subject, "action:%s", id);
    if (hw_schedule(hw_app_scheduler(x->app), x->db, MT_DEADLINE_ACTION_DUE, subject, due, NULL,
                    st) != 0 ||
        hw_audit(x->db, x->call, NULL, "meeting", m->id, st) != 0 ||
        publish_action(x, MT_EV_ACTION_ADDED, id, st) != 0)
        return -1;
    mt_action_msg *a = mt_store_action_get(x->db, x->call, id, false, NULL, st);
    if (!a)
        return -1;
    *resp = &a->base;
    return 0;
}

static void h_add_action(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                         hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__AddActionRequest *in = (const void *)rm;
    need_uuid(st, "meeting_id", in->meeting_id);
    need_text(st, "description", in->description);
    if (empty(in->owner_id) && empty(in->owner_name))
        hw_status_violation(st, "owner_id", "required: the owner's id or name (owner_name)");
    if (in->owner_id && strlen(in->owner_id) >= MT_ID_MAX)
        hw_status_violation(st, "owner_id", "too long");
    max_text(st, "owner_name", in->owner_name);
    max_text(st, "owner_role", in->owner_role);
    int64_t due;
    if (need_time(st, "due_at", in->due_at, true, &due) == 1 && due <= hw_now_ms())
        hw_status_violation(st, "due_at", "must be in the future");
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__action__descriptor, in,
               do_add_action, out, st);
}

static int do_complete_action(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__CompleteActionRequest *in = inv;
    char *authority;
    mt_action_msg *a = mt_store_action_get(x->db, x->call, in->action_id, true, &authority, st);
    if (!a)
        return -1;
    bool owner = !empty(a->owner_id) && strcmp(a->owner_id, x->who->sub) == 0;
    if (!owner && !mt_may_manage(x->who, authority)) {
        hw_status_set(st, HW_PERMISSION_DENIED,
                      "an action is completed by its owner or by a manager of the child's meetings");
        return -1;
    }
    if (!empty(a->completed_at))
        return hw_status_set(st, HW_FAILED_PRECONDITION, "the action is already complete");
    char subject[64];
    snprintf(subject, sizeof subject, "action:%s", a->id);
    if (mt_store_action_complete(x->db, a->id, x->who->sub, in->outcome, st) != 0 ||
        hw_cancel(hw_app_scheduler(x->app), x->db, MT_DEADLINE_ACTION_DUE, subject, st) != 0 ||
        hw_audit(x->db, x->call, NULL, "meeting", a->meeting_id, st) != 0 ||
        publish_action(x, MT_EV_ACTION_COMPLETED, a->id, st) != 0)
        return -1;
    a = mt_store_action_get(x->db, x->call, in->action_id, false, NULL, st);
    if (!a)
        return -1;
    *resp = &a->base;
    return 0;
}

static void h_complete_action(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                              hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__CompleteActionRequest *in = (const void *)rm;
    need_uuid(st, "action_id", in->action_id);
    need_text(st, "outcome", in->outcome);
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__action__descriptor, in,
               do_complete_action, out, st);
}

/* ------------------------------------------------------------ R-ESC-4 by hand */

static int create_by_hand(req *x, const char *child_id, mt_kind kind, const mt_episode *facts,
                          bool have_facts, int reason, const char *reason_text,
                          const char *episode_id, int count, const char *escalated_from,
                          ProtobufCMessage **resp, hw_status *st)
{
    mt_people people;
    if (mt_resolve_people(x->app, child_id, have_facts ? facts : NULL, !have_facts, &people, st) != 0)
        return -1;
    if (!mt_may_request(x->who, people.responsible_authority, have_facts ? facts->force : "",
                        people.home_id)) {
        deny(st);
        return -1;
    }
    mt_new_meeting nm = {
        .child_id = child_id,
        .kind = kind,
        .profile = have_facts ? facts->profile
                              : (kind == MT_KIND_STRATEGY ? MT_PROFILE_LLR : MT_PROFILE_STAFFS),
        .trigger = "manual",
        .manual_reason = mt_manual_reason_name(reason),
        .reason = reason_text,
        .episode_id = episode_id,
        .episodes_in_90_days = count,
        .responsible_authority = people.responsible_authority,
        .placing_authority = people.placing_authority,
        .force = have_facts ? facts->force : "",
        .home_id = people.home_id,
        .due_by_ms = mt_due_by(kind, hw_now_ms()),
        .requested_by = x->who->sub,
        .escalated_from = escalated_from,
    };
    char id[37];
    bool created;
    if (mt_create_meeting(x->app, x->db, &nm, &people, have_facts ? facts->host_authority : "", id,
                          &created, st) != 0)
        return -1;
    if (!created)
        return hw_status_set(st, HW_ALREADY_EXISTS,
                             "an open %s meeting for this child already exists: %s",
                             mt_kind_name(kind), id);
    return reply_meeting(x, id, resp, st);
}

static int do_request_meeting(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__RequestMeetingRequest *in = inv;
    mt_kind kind = (mt_kind)in->kind;
    mt_episode facts;
    bool found = false;
    if (!empty(in->episode_id)) {
        if (mt_store_episode_get(x->db, in->episode_id, &facts, &found, st) != 0)
            return -1;
        if (found && strcmp(facts.child_id, in->child_id) != 0) {
            hw_status_violation(st, "episode_id", "not an episode of this child");
            return -1;
        }
    }
    if (!found && mt_store_child_latest(x->db, in->child_id, &facts, &found, st) != 0)
        return -1;
    if (found && !mt_kind_in_profile(facts.profile, kind)) {
        hw_status_violation(st, "kind", "the child's area (%s profile) has no such meeting",
                            mt_profile_name(facts.profile));
        return -1;
    }
    return create_by_hand(x, in->child_id, kind, &facts, found, in->reason, in->reason_text,
                          in->episode_id, found && facts.missing_90_days > 0 ? facts.missing_90_days : 0,
                          NULL, resp, st);
}

static void check_manual(hw_status *st, int reason, const char *reason_text)
{
    if (reason < HOMEWARD__MEETINGS__V1__MANUAL_REASON__MANUAL_REASON_VERY_HIGH_RISK ||
        reason > HOMEWARD__MEETINGS__V1__MANUAL_REASON__MANUAL_REASON_EXTENDED_DURATION)
        hw_status_violation(st, "reason",
                            "required: VERY_HIGH_RISK, IMMEDIATE_ACTION, QUICK_SUCCESSION or "
                            "EXTENDED_DURATION (R-ESC-4)");
    need_text(st, "reason_text", reason_text);
}

static void h_request_meeting(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                              hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__RequestMeetingRequest *in = (const void *)rm;
    if (empty(in->child_id))
        hw_status_violation(st, "child_id", "required");
    else if (strlen(in->child_id) >= MT_ID_MAX)
        hw_status_violation(st, "child_id", "too long");
    if (mt_meeting_rule_for((mt_kind)in->kind) == NULL)
        hw_status_violation(st, "kind", "required: a meeting kind");
    check_manual(st, in->reason, in->reason_text);
    if (!empty(in->episode_id) && !is_uuid(in->episode_id))
        hw_status_violation(st, "episode_id", "must be a uuid");
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__meeting__descriptor, in,
               do_request_meeting, out, st);
}

static int do_escalate(req *x, const void *inv, ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Meetings__V1__EscalateRequest *in = inv;
    mt_meeting_msg *m = mt_store_meeting_get(x->db, x->call, in->meeting_id, true, false, st);
    if (!m)
        return -1;
    if (!mt_may_request(x->who, m->responsible_authority, m->force, m->home_id)) {
        deny(st);
        return -1;
    }
    mt_kind next = mt_escalates_to((mt_kind)m->kind);
    if (next == MT_KIND_NONE)
        return hw_status_set(st, HW_FAILED_PRECONDITION,
                             "only intervention meetings at level 1 or 2 escalate; request a "
                             "meeting instead");
    mt_episode facts;
    bool found = false;
    if (!empty(m->episode_id) && mt_store_episode_get(x->db, m->episode_id, &facts, &found, st) != 0)
        return -1;
    if (!found && mt_store_child_latest(x->db, m->child_id, &facts, &found, st) != 0)
        return -1;
    if (!found) {
        /* A meeting requested by hand for a child with no episode known here. */
        memset(&facts, 0, sizeof facts);
        snprintf(facts.child_id, sizeof facts.child_id, "%s", m->child_id);
        snprintf(facts.responsible_authority, sizeof facts.responsible_authority, "%s",
                 m->responsible_authority);
        snprintf(facts.placing_authority, sizeof facts.placing_authority, "%s", m->placing_authority);
        snprintf(facts.force, sizeof facts.force, "%s", m->force);
        snprintf(facts.home_id, sizeof facts.home_id, "%s", m->home_id);
        facts.profile = mt_profile_parse(m->profile, NULL);
        found = true;
    }
    return create_by_hand(x, m->child_id, next, &facts, true, in->reason, in->reason_text,
                          m->episode_id, m->episodes_in_90_days, m->id, resp, st);
}

static void h_escalate(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                       hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__EscalateRequest *in = (const void *)rm;
    need_uuid(st, "meeting_id", in->meeting_id);
    check_manual(st, in->reason, in->reason_text);
    run_change(call, ctx, in->request_id, &homeward__meetings__v1__meeting__descriptor, in,
               do_escalate, out, st);
}

/* ------------------------------------------------------------ ListOverdueActions */

static void h_list_overdue_actions(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                                   hw_status *st, void *ctx)
{
    const Homeward__Meetings__V1__ListOverdueActionsRequest *in = (const void *)rm;
    if (in->n_child_ids > 500)
        hw_status_violation(st, "child_ids", "at most 500");
    for (size_t i = 0; i < in->n_child_ids && i < 500; i++)
        if (empty(in->child_ids[i]) || strlen(in->child_ids[i]) >= MT_ID_MAX) {
            char field[48];
            snprintf(field, sizeof field, "child_ids[%zu]", i);
            hw_status_violation(st, field, "must be a child id");
        }
    if (in->page_size < 0)
        hw_status_violation(st, "page_size", "must not be negative");
    const hw_principal *who = hw_call_principal(call);
    if (is_service(who) && in->n_child_ids == 0 && !in->chaired_by_me)
        hw_status_violation(st, "child_ids", "required for a service: the children of the roster");
    if (!hw_ok(st))
        return;
    req x;
    if (begin(&x, call, ctx, st) != 0)
        return;
    mt_overdue_query q = {
        .child_ids = (const char *const *)in->child_ids,
        .n_child_ids = in->n_child_ids,
        .chaired_by_me = in->chaired_by_me,
        .service = is_service(x.who),
        .manage_org = mt_may_manage(x.who, x.who->org) ? x.who->org : "",
        .who = x.who,
        .limit = in->page_size == 0 ? DEFAULT_ACTIONS
                 : in->page_size > MAX_ACTIONS ? MAX_ACTIONS
                                               : in->page_size,
    };
    mt_action_msg **as;
    size_t n;
    if (mt_store_overdue_actions(x.db, call, &q, &as, &n, st) == 0 &&
        hw_audit(x.db, call, NULL, "actions",
                 in->n_child_ids == 1 ? in->child_ids[0] : "overdue", st) == 0) {
        Homeward__Meetings__V1__ListOverdueActionsResponse *r = hw_call_alloc(call, sizeof *r);
        homeward__meetings__v1__list_overdue_actions_response__init(r);
        r->actions = as;
        r->n_actions = n;
        *out = &r->base;
    }
    end(&x, st);
    if (!hw_ok(st))
        *out = NULL;
}

/* ------------------------------------------------------------ method table */

static const char *const r_manage[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                       HW_ROLE_CSC_LEAD, HW_ROLE_IRO, NULL};
/* R-ESC-4: any professional may request (LLR "Strategy meetings"). */
static const char *const r_request[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                        HW_ROLE_CSC_LEAD, HW_ROLE_IRO, HW_POLICE_ROLES,
                                        HW_ROLE_RETURN_WORKER, HW_ROLE_CARE_STAFF, NULL};

static const hw_method methods[] = {
    {"GetMeeting", h_get_meeting, NULL, NULL},          /* per record: managers, invitees */
    {"ListMeetings", h_list_meetings, NULL, NULL},      /* filtered per record */
    {"Schedule", h_schedule, NULL, r_manage},
    {"RecordAttendance", h_record_attendance, NULL, r_manage},
    {"RecordMinutes", h_record_minutes, NULL, r_manage},
    {"AddAction", h_add_action, NULL, r_manage},
    {"CompleteAction", h_complete_action, NULL, NULL},  /* the owner, or a manager */
    {"RequestMeeting", h_request_meeting, NULL, r_request},
    {"Escalate", h_escalate, NULL, r_request},
    {"ListOverdueActions", h_list_overdue_actions, NULL, NULL},
};

const hw_service_def meetings_service = {
    &homeward__meetings__v1__meetings__descriptor,
    methods,
    sizeof methods / sizeof methods[0],
    NULL,
};
