/* handlers.c -- the Episodes service's calls: validate, decide access, change, audit, reply. */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "hw_audit.h"
#include "hw_deadline.h"
#include "hw_idem.h"
#include "hw_outbox.h"
#include "hw_roles.h"
#include "hw_time.h"
#include "rules.h"
#include "store.h"
#include "watch.h"

/* A clock a few minutes fast on a phone must not make "now" look future. */
#define FUTURE_LEEWAY_MS (5 * 60 * 1000)

typedef struct req {
    hw_call *call;
    hw_app *app;
    ep_mem m;
    const hw_principal *who;
    hw_db *db;
    /* The records a read consulted, audited before it answers (R-SEC-2). */
    const char **seen_type, **seen_id;
    size_t n_seen, cap_seen;
} req;

static void req_init(req *x, hw_call *call, void *svc_ctx)
{
    x->call = call;
    x->app = svc_ctx;
    x->m = (ep_mem){call, NULL};
    x->who = hw_call_principal(call);
    x->db = NULL;
    x->seen_type = x->seen_id = NULL;
    x->n_seen = x->cap_seen = 0;
}

void ep_after_commit_kick(void *arg)
{
    hw_app *app = arg;
    if (hw_app_relay(app)) hw_relay_kick(hw_app_relay(app));
    ep_watch_kick(hw_app_state(app));
}

/* ------------------------------------------------------------ transactions */

static int acquire(req *x, hw_status *st)
{
    int64_t left = hw_call_ms_left(x->call);
    if (left <= 0) return hw_status_set(st, HW_DEADLINE_EXCEEDED, "deadline exceeded");
    x->db = hw_pg_acquire(hw_app_pool(x->app), left < 5000 ? left : 5000, st);
    if (!x->db) return -1;
    if (hw_db_begin(x->db, st) != 0) {
        hw_pg_release(x->db);
        x->db = NULL;
        return -1;
    }
    return 0;
}

static void abandon(req *x)
{
    if (!x->db) return;
    hw_db_rollback(x->db);
    hw_pg_release(x->db);
    x->db = NULL;
}

/* Begin a mutating call: 1 = a repeat (*out is the first answer, all done),
 * 0 = go ahead, -1 = failed (st set). The handler returns unless 0. */
static int begin_write(req *x, const char *request_id, const ProtobufCMessageDescriptor *rd,
                       ProtobufCMessage **out, hw_status *st)
{
    hw_call_set_request_id(x->call, request_id);
    if (acquire(x, st) != 0) return -1;
    ProtobufCMessage *first = NULL;
    int rc = hw_idem_begin(x->db, x->call, request_id, rd, &first, st);
    if (rc < 0) {
        abandon(x);
        return -1;
    }
    if (rc == 1) {
        hw_status ignore = HW_STATUS_INIT;
        if (hw_db_commit(x->db, &ignore) != 0) hw_db_rollback(x->db);
        hw_pg_release(x->db);
        x->db = NULL;
        *out = first;
        return 1;
    }
    return 0;
}

/* Finish a mutating call: keep the answer for repeats, commit, and wake the
 * relay and watchers. On failure everything is rolled back. */
static void end_write(req *x, const char *request_id, ProtobufCMessage *resp,
                      ProtobufCMessage **out, hw_status *st)
{
    if (hw_ok(st) && hw_idem_finish(x->db, x->call, request_id, resp, st) == 0) {
        hw_db_after_commit(x->db, ep_after_commit_kick, x->app, false);
        if (hw_db_commit(x->db, st) == 0) {
            hw_pg_release(x->db);
            x->db = NULL;
            *out = resp;
            return;
        }
    }
    abandon(x);
}

/* A read runs its statements without a transaction: each gets its own
 * snapshot either way under READ COMMITTED, and a read has nothing to
 * commit; its audit rows go through the auditor's group commit. */
static int acquire_read(req *x, hw_status *st)
{
    int64_t left = hw_call_ms_left(x->call);
    if (left <= 0) return hw_status_set(st, HW_DEADLINE_EXCEEDED, "deadline exceeded");
    x->db = hw_pg_acquire(hw_app_pool(x->app), left < 5000 ? left : 5000, st);
    return x->db ? 0 : -1;
}

/* A record this read consulted. */
static void seen(req *x, const char *record_type, const char *record_id)
{
    if (x->n_seen == x->cap_seen) {
        size_t cap = x->cap_seen ? 2 * x->cap_seen : 8;
        const char **t = ep_alloc(&x->m, cap * sizeof *t);
        const char **i = ep_alloc(&x->m, cap * sizeof *i);
        if (x->n_seen) {
            memcpy(t, x->seen_type, x->n_seen * sizeof *t);
            memcpy(i, x->seen_id, x->n_seen * sizeof *i);
        }
        x->seen_type = t;
        x->seen_id = i;
        x->cap_seen = cap;
    }
    x->seen_type[x->n_seen] = record_type;
    x->seen_id[x->n_seen++] = record_id;
}

/* A read's answer, sent once its audit rows are committed. */
typedef struct read_answer {
    hw_call *call;
    ProtobufCMessage *resp;
} read_answer;

static void read_audited(void *arg, const hw_status *st)
{
    read_answer *ra = arg;
    hw_call_answer(ra->call, ra->resp, st);
}

/* Answer a read only once the audit rows of what it consulted are
 * committed. The connection goes back to the pool first, and the worker
 * does not wait: the call is answered by whichever thread writes the rows. */
static void end_read(req *x, ProtobufCMessage *resp, ProtobufCMessage **out, hw_status *st)
{
    hw_pg_release(x->db);
    x->db = NULL;
    if (!hw_ok(st)) return;
    if (x->n_seen == 0) {
        *out = resp;
        return;
    }
    read_answer *ra = ep_alloc(&x->m, sizeof *ra);
    *ra = (read_answer){x->call, resp};
    hw_call_defer(x->call);
    /* Refused at once (no x-purpose): answer with that ourselves. */
    if (hw_audit_reads_async(hw_app_auditor(x->app), x->call, x->n_seen, x->seen_type, x->seen_id,
                             read_audited, ra, st) != 0)
        hw_call_answer(x->call, NULL, st);
}

/* ------------------------------------------------------------ validation */

static bool empty(const char *s) { return !s || !*s; }

static void need(hw_status *st, const char *field, const char *v)
{
    if (empty(v)) hw_status_violation(st, field, "required");
}

static void need_uuid(hw_status *st, const char *field, const char *v)
{
    if (empty(v))
        hw_status_violation(st, field, "required");
    else if (!ep_is_uuid(v))
        hw_status_violation(st, field, "must be a uuid");
}

static void opt_uuid(hw_status *st, const char *field, const char *v)
{
    if (!empty(v) && !ep_is_uuid(v)) hw_status_violation(st, field, "must be a uuid");
}

/* An instant: *out = ms, or -1 if empty (and required -> violation). */
static void instant(hw_status *st, const char *field, const char *v, bool required, bool past,
                    int64_t *out)
{
    *out = -1;
    if (empty(v)) {
        if (required) hw_status_violation(st, field, "required");
        return;
    }
    if (hw_parse_rfc3339(v, out) != 0) {
        *out = -1;
        hw_status_violation(st, field, "must be an RFC 3339 time, e.g. 2026-01-31T21:30:00Z");
        return;
    }
    if (past && *out > hw_now_ms() + FUTURE_LEEWAY_MS)
        hw_status_violation(st, field, "must not be in the future");
}

/* A calendar date YYYY-MM-DD that exists. */
static bool valid_date(const char *v, int *days)
{
    int y, m, d;
    char tail;
    if (empty(v) || strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return false;
    if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900) return false;
    hw_date date = {y, m, d};
    int n = hw_days_from_civil(date);
    hw_date back = hw_civil_from_days(n);
    if (back.y != y || back.m != m || back.d != d) return false;
    if (days) *days = n;
    return true;
}

static int today_days(void) { return (int)(hw_now_ms() / (24LL * 3600 * 1000)); }

static int deny(hw_status *st)
{
    return hw_status_set(st, HW_PERMISSION_DENIED,
                         "this record is outside what your role and organisation may see (R-SEC-1)");
}

/* ------------------------------------------------------------ method roles */

static const char *const r_read[] = {HW_POLICE_ROLES, HW_LA_ROLES, HW_ROLE_CARE_STAFF,
                                     HW_ROLE_SERVICE, NULL};
static const char *const r_child_write[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                            HW_ROLE_CSC_LEAD, HW_ROLE_CARE_STAFF,
                                            HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER, HW_ROLE_MPC,
                                            HW_ROLE_SERVICE, NULL};
static const char *const r_home_write[] = {HW_ROLE_CSC_LEAD, HW_ROLE_TEAM_MANAGER, HW_ROLE_MPC,
                                           HW_ROLE_SERVICE, NULL};
static const char *const r_placement[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                          HW_ROLE_CSC_LEAD, HW_ROLE_CARE_STAFF, HW_ROLE_SERVICE,
                                          NULL};
static const char *const r_report[] = {HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER,
                                       HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_LPT_SERGEANT,
                                       HW_ROLE_MPC, HW_ROLE_SPOC, HW_ROLE_CARE_STAFF,
                                       HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                       HW_ROLE_SERVICE, NULL};
static const char *const r_absence[] = {HW_ROLE_CARE_STAFF, HW_ROLE_SOCIAL_WORKER,
                                        HW_ROLE_TEAM_MANAGER, HW_ROLE_CALL_HANDLER,
                                        HW_ROLE_SERVICE, NULL};
static const char *const r_update[] = {HW_POLICE_ROLES, HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                       HW_ROLE_CSE_SOCIAL_WORKER, HW_ROLE_CARE_STAFF,
                                       HW_ROLE_SERVICE, NULL};
static const char *const r_assign[] = {HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER,
                                       HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_LPT_SERGEANT,
                                       HW_ROLE_MPC, HW_ROLE_SERVICE, NULL};
static const char *const r_located[] = {HW_POLICE_ROLES, HW_ROLE_CARE_STAFF, HW_ROLE_SOCIAL_WORKER,
                                        HW_ROLE_TEAM_MANAGER, HW_ROLE_SERVICE, NULL};
static const char *const r_close[] = {HW_ROLE_OFFICER, HW_ROLE_CONTROL_ROOM_MANAGER,
                                      HW_ROLE_LPT_SERGEANT, HW_ROLE_MPC, HW_ROLE_SERVICE, NULL};
static const char *const r_roster[] = {HW_POLICE_ROLES, HW_ROLE_CARE_STAFF, HW_ROLE_SERVICE, NULL};
static const char *const r_export[] = {HW_ROLE_CSC_LEAD, HW_ROLE_TEAM_MANAGER, HW_ROLE_SERVICE,
                                       NULL};

/* ------------------------------------------------------------ shared steps */

/* Load an episode the caller may see (PERMISSION_DENIED otherwise). */
static ep_episode *episode_for(req *x, const char *id, bool lock, bool with_report, hw_status *st)
{
    ep_scope scope;
    ep_episode *e = ep_store_episode_get(x->db, &x->m, id, lock, with_report,
                                         ep_special_allowed(x->who), &scope, st);
    if (!e) return NULL;
    if (!ep_may_see(x->who, &scope)) {
        deny(st);
        return NULL;
    }
    return e;
}

/* Load a child the caller may see (PERMISSION_DENIED otherwise). */
static ep_child *child_for(req *x, const char *id, unsigned special, hw_status *st)
{
    ep_scope scope;
    ep_child *c = ep_store_child_get(x->db, &x->m, id, special,
                                     ep_is_police(x->who) ? x->who->org : NULL, &scope, st);
    if (!c) return NULL;
    if (!ep_may_see(x->who, &scope)) {
        deny(st);
        return NULL;
    }
    return c;
}

static const char *actor_name(req *x) { return x->who->name; }

/* Timeline entry, feed row and outbox event: the tail of every episode change. */
static int episode_changed(req *x, const char *episode_id, int64_t at_ms, const char *kind,
                           const char *text, const char *place, const char *event_type,
                           hw_status *st)
{
    if (kind && ep_store_timeline_add(x->db, episode_id, at_ms, kind, x->who->sub, actor_name(x),
                                      text, place, st) != 0)
        return -1;
    if (hw_audit(x->db, x->call, NULL, "episode", episode_id, st) != 0) return -1;
    return ep_store_changed(x->db, episode_id, event_type, event_type, st);
}

static Homeward__Episodes__V1__ChildCounts *counts_msg(req *x, const char *child_id, int64_t as_of,
                                                       hw_status *st)
{
    ep_counts c;
    if (ep_store_counts(x->db, child_id, as_of, &c, st) != 0) return NULL;
    Homeward__Episodes__V1__ChildCounts *m = ep_alloc(&x->m, sizeof *m);
    homeward__episodes__v1__child_counts__init(m);
    m->child_id = ep_strdup(&x->m, child_id);
    m->as_of = ep_ts(&x->m, as_of);
    m->missing_90_days = c.missing_90_days;
    m->missing_12_months = c.missing_12_months;
    m->absences_90_days = c.absences_90_days;
    m->absences_12_months = c.absences_12_months;
    m->repeat_missing = c.repeat_missing;
    return m;
}

static ProtobufCMessage *episode_response(req *x, const char *id, hw_status *st)
{
    ep_episode *e = ep_store_episode_get(x->db, &x->m, id, false, true, ep_special_allowed(x->who),
                                         NULL, st);
    if (!e) return NULL;
    Homeward__Episodes__V1__EpisodeResponse *r = ep_alloc(&x->m, sizeof *r);
    homeward__episodes__v1__episode_response__init(r);
    r->episode = e;
    return &r->base;
}


/* Finish a change to an episode: answer with the episode as it now is. */
static void end_episode_write(req *x, const char *request_id, const char *episode_id,
                              ProtobufCMessage **out, hw_status *st)
{
    ProtobufCMessage *r = episode_response(x, episode_id, st);
    if (r)
        end_write(x, request_id, r, out, st);
    else
        abandon(x);
}

/* ------------------------------------------------------------ children */

static void h_upsert_child(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                           hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__UpsertChildRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    const ep_child *c = in->child;
    need(st, "request_id", in->request_id);
    if (!c) {
        hw_status_violation(st, "child", "required");
    } else {
        opt_uuid(st, "child.id", c->id);
        need(st, "child.first_name", c->first_name);
        need(st, "child.last_name", c->last_name);
        int dob;
        if (empty(c->date_of_birth))
            hw_status_violation(st, "child.date_of_birth", "required");
        else if (!valid_date(c->date_of_birth, &dob))
            hw_status_violation(st, "child.date_of_birth", "must be a date YYYY-MM-DD");
        else if (dob > today_days())
            hw_status_violation(st, "child.date_of_birth", "must not be in the future");
        if (c->looked_after && empty(c->responsible_authority))
            hw_status_violation(st, "child.responsible_authority",
                                "required for a looked-after child");
    }
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;

    if (begin_write(&x, in->request_id, &homeward__episodes__v1__child__descriptor, out, st) != 0)
        return;
    char *auth_force = NULL;
    if (!empty(c->responsible_authority) &&
        ep_store_authority(x.db, c->responsible_authority, &x.m, NULL, &auth_force, st) != 0) {
        if (st->code == HW_NOT_FOUND) {
            *st = (hw_status)HW_STATUS_INIT;
            hw_status_violation(st, "child.responsible_authority", "unknown authority code");
        }
        goto out_abandon;
    }
    bool service = hw_principal_has_role(x.who, HW_ROLE_SERVICE);
    if (!empty(c->id)) {
        /* Changing a record needs sight of it (R-SEC-1). */
        if (!child_for(&x, c->id, 0, st)) goto out_abandon;
    } else if (!service && !ep_is_police(x.who)) {
        /* A new child: the local authority responsible for them creates the
         * record; police may create one for a child not yet known. */
        if (!ep_is_local_authority(x.who) || empty(c->responsible_authority) ||
            strcmp(c->responsible_authority, x.who->org) != 0) {
            deny(st);
            goto out_abandon;
        }
    }
    const char *force = ep_is_police(x.who) && empty(auth_force) ? x.who->org : auth_force;
    char id[37];
    if (ep_store_child_save(x.db, c, force, ep_special_allowed(x.who), id, st) != 0)
        goto out_abandon;
    if (hw_audit(x.db, call, NULL, "child", id, st) != 0) goto out_abandon;
    ep_child *saved = ep_store_child_get(x.db, &x.m, id, ep_special_allowed(x.who), NULL, NULL, st);
    if (!saved) goto out_abandon;
    end_write(&x, in->request_id, &saved->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_get_child(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                        hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__GetChildRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    need_uuid(st, "child_id", in->child_id);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st) || acquire_read(&x, st) != 0) return;
    ep_child *c = child_for(&x, in->child_id, ep_special_allowed(x.who), st);
    if (c) seen(&x, "child", c->id);
    end_read(&x, c ? &c->base : NULL, out, st);
}

static void h_search_children(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                              hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__SearchChildrenRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    if (empty(in->name) && empty(in->date_of_birth))
        hw_status_violation(st, "name", "give a name or a date of birth");
    if (!empty(in->date_of_birth) && !valid_date(in->date_of_birth, NULL))
        hw_status_violation(st, "date_of_birth", "must be a date YYYY-MM-DD");
    if (in->limit < 0 || in->limit > 100) hw_status_violation(st, "limit", "must be 0..100");
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st) || acquire_read(&x, st) != 0) return;
    ep_vis vis;
    ep_vis_of(&x.m, x.who, &vis);
    Homeward__Episodes__V1__SearchChildrenResponse *r = ep_alloc(&x.m, sizeof *r);
    homeward__episodes__v1__search_children_response__init(r);
    if (ep_store_child_search(x.db, &x.m, in->name, in->date_of_birth, in->limit ? in->limit : 20,
                              &vis, &r->children, &r->n_children, st) == 0) {
        /* Each record shown is a consultation (R-SEC-2). */
        for (size_t i = 0; i < r->n_children; i++)
            seen(&x, "child", r->children[i]->id);
    }
    end_read(&x, &r->base, out, st);
}

/* ------------------------------------------------------------ homes */

static void h_upsert_home(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                          hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__UpsertHomeRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    const ep_home *h = in->home;
    need(st, "request_id", in->request_id);
    if (!h) {
        hw_status_violation(st, "home", "required");
    } else {
        opt_uuid(st, "home.id", h->id);
        need(st, "home.name", h->name);
        need(st, "home.host_authority", h->host_authority);
    }
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id, &homeward__episodes__v1__home__descriptor, out, st) != 0)
        return;
    char *force = NULL;
    if (ep_store_authority(x.db, h->host_authority, &x.m, NULL, &force, st) != 0) {
        if (st->code == HW_NOT_FOUND) {
            *st = (hw_status)HW_STATUS_INIT;
            hw_status_violation(st, "home.host_authority", "unknown authority code");
        }
        goto out_abandon;
    }
    /* The host authority (or its force's coordinator) keeps its homes. */
    ep_scope scope = {force, h->host_authority, "", "", "", false};
    if (!empty(h->id)) {
        ep_home *old = ep_store_home_get(x.db, &x.m, h->id, st);
        if (!old) goto out_abandon;
        ep_scope old_scope = {old->force, old->host_authority, "", "", "", false};
        if (!ep_may_see(x.who, &old_scope)) {
            deny(st);
            goto out_abandon;
        }
    }
    if (!ep_may_see(x.who, &scope)) {
        deny(st);
        goto out_abandon;
    }
    char id[37];
    if (ep_store_home_save(x.db, h, id, st) != 0) goto out_abandon;
    ep_home *saved = ep_store_home_get(x.db, &x.m, id, st);
    if (!saved) goto out_abandon;
    end_write(&x, in->request_id, &saved->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

/* ------------------------------------------------------------ placements */

/* May the caller manage placements of this child at this home? The child's
 * authorities (R-SEC-1), or care staff receiving the child at their home. */
static bool may_place(req *x, const ep_scope *child_scope, const char *home_id)
{
    if (ep_may_see(x->who, child_scope) && !ep_is_police(x->who)) return true;
    return hw_principal_has_role(x->who, HW_ROLE_CARE_STAFF) && ep_has_home(x->who, home_id);
}

static void h_upsert_placement(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                               hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__UpsertPlacementRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    const ep_placement *p = in->placement;
    int64_t starts = -1, ends = -1;
    need(st, "request_id", in->request_id);
    if (!p) {
        hw_status_violation(st, "placement", "required");
    } else {
        opt_uuid(st, "placement.id", p->id);
        need_uuid(st, "placement.child_id", p->child_id);
        opt_uuid(st, "placement.home_id", p->home_id);
        if (empty(p->home_id) && empty(p->address))
            hw_status_violation(st, "placement.address", "required when there is no home_id");
        instant(st, "placement.starts_at", p->starts_at, true, false, &starts);
        instant(st, "placement.ends_at", p->ends_at, false, false, &ends);
        if (starts >= 0 && ends >= 0 && ends < starts)
            hw_status_violation(st, "placement.ends_at", "must not be before starts_at");
    }
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__placement__descriptor, out, st) != 0)
        return;
    ep_scope cs;
    ep_child *child = ep_store_child_get(x.db, &x.m, p->child_id, 0, NULL, &cs, st);
    if (!child) goto out_abandon;
    if (!may_place(&x, &cs, p->home_id)) {
        deny(st);
        goto out_abandon;
    }
    const char *auths[] = {p->placing_authority, p->responsible_authority};
    const char *fields[] = {"placement.placing_authority", "placement.responsible_authority"};
    for (int i = 0; i < 2; i++) {
        if (!empty(auths[i]) && ep_store_authority(x.db, auths[i], &x.m, NULL, NULL, st) != 0) {
            if (st->code != HW_NOT_FOUND) goto out_abandon;
            st->code = HW_OK;
            st->message[0] = 0;
            hw_status_violation(st, fields[i], "unknown authority code");
        }
    }
    if (!empty(p->home_id) && !ep_store_home_get(x.db, &x.m, p->home_id, st)) {
        if (st->code == HW_NOT_FOUND) {
            *st = (hw_status)HW_STATUS_INIT;
            hw_status_violation(st, "placement.home_id", "no such home");
        }
    }
    if (!hw_ok(st)) goto out_abandon;

    ep_placement rec = *p;
    if (empty(rec.responsible_authority)) rec.responsible_authority = child->responsible_authority;
    char id[37];
    hw_scheduler *sched = hw_app_scheduler(x.app);
    char subject[64];
    if (empty(p->id)) {
        if (ends < 0 && child->current_placement) {
            hw_status_set(st, HW_FAILED_PRECONDITION,
                          "the child already has a current placement: end it first");
            goto out_abandon;
        }
        if (ep_store_placement_insert(x.db, &rec, starts, ends, child->looked_after, id, st) != 0)
            goto out_abandon;
        snprintf(subject, sizeof subject, "placement:%s", id);
        /* R-NOT-4: the notification is due 24 hours after arrival. */
        if (child->looked_after &&
            hw_schedule(sched, x.db, EP_DEADLINE_REG41, subject, ep_reg41_due(starts), NULL, st) != 0)
            goto out_abandon;
        if (ep_store_placement_event(x.db, id, "episodes.placement_started", st) != 0)
            goto out_abandon;
    } else {
        ep_scope ps;
        ep_placement *old = ep_store_placement_get(x.db, &x.m, p->id, &ps, NULL, st);
        if (!old) goto out_abandon;
        if (strcmp(old->child_id, p->child_id) != 0) {
            hw_status_violation(st, "placement.child_id", "a placement cannot move to another child");
            goto out_abandon;
        }
        snprintf(id, sizeof id, "%s", p->id);
        if (ep_store_placement_update(x.db, &rec, starts, st) != 0) goto out_abandon;
        snprintf(subject, sizeof subject, "placement:%s", id);
        if (old->reg41_status == HOMEWARD__EPISODES__V1__REG41_STATUS__REG41_STATUS_DUE &&
            hw_schedule(sched, x.db, EP_DEADLINE_REG41, subject, ep_reg41_due(starts), NULL, st) != 0)
            goto out_abandon;
        if (ends >= 0 && empty(old->ends_at)) {
            if (ep_store_placement_end(x.db, id, ends, "", st) != 0 ||
                ep_store_placement_event(x.db, id, "episodes.placement_ended", st) != 0)
                goto out_abandon;
        }
    }
    if (hw_audit(x.db, call, NULL, "placement", id, st) != 0) goto out_abandon;
    ep_placement *saved = ep_store_placement_get(x.db, &x.m, id, NULL, NULL, st);
    if (!saved) goto out_abandon;
    end_write(&x, in->request_id, &saved->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_end_placement(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                            hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__EndPlacementRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t ends = -1;
    need(st, "request_id", in->request_id);
    need_uuid(st, "placement_id", in->placement_id);
    instant(st, "ends_at", in->ends_at, false, false, &ends);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__placement__descriptor, out, st) != 0)
        return;
    ep_scope ps;
    int64_t starts = 0;
    ep_placement *p = ep_store_placement_get(x.db, &x.m, in->placement_id, &ps, &starts, st);
    if (!p) goto out_abandon;
    if (!may_place(&x, &ps, p->home_id)) {
        deny(st);
        goto out_abandon;
    }
    if (!empty(p->ends_at)) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "the placement has already ended");
        goto out_abandon;
    }
    if (ends < 0) ends = hw_now_ms();
    if (ends < starts) {
        hw_status_violation(st, "ends_at", "must not be before the placement started");
        goto out_abandon;
    }
    /* The Regulation 41 deadline stays: a notification is owed for every
     * arrival, however short the stay (R-NOT-4). */
    if (ep_store_placement_end(x.db, p->id, ends, in->reason, st) != 0 ||
        ep_store_placement_event(x.db, p->id, "episodes.placement_ended", st) != 0 ||
        hw_audit(x.db, call, NULL, "placement", p->id, st) != 0)
        goto out_abandon;
    ep_placement *saved = ep_store_placement_get(x.db, &x.m, p->id, NULL, NULL, st);
    if (!saved) goto out_abandon;
    end_write(&x, in->request_id, &saved->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_submit_reg41(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                           hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__SubmitRegulation41Request *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    const Homeward__Episodes__V1__Regulation41 *f = in->notification;
    need(st, "request_id", in->request_id);
    if (!f) {
        hw_status_violation(st, "notification", "required");
    } else {
        int64_t arrival;
        need_uuid(st, "notification.placement_id", f->placement_id);
        instant(st, "notification.arrival_at", f->arrival_at, false, true, &arrival);
        need(st, "notification.reason_for_placement", f->reason_for_placement);
        need(st, "notification.completed_by", f->completed_by);
    }
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__placement__descriptor, out, st) != 0)
        return;
    ep_scope ps;
    ep_placement *p = ep_store_placement_get(x.db, &x.m, f->placement_id, &ps, NULL, st);
    if (!p) goto out_abandon;
    if (!may_place(&x, &ps, p->home_id)) {
        deny(st);
        goto out_abandon;
    }
    if (p->reg41_status == HOMEWARD__EPISODES__V1__REG41_STATUS__REG41_STATUS_NOT_REQUIRED) {
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "not a looked-after placement: no Regulation 41 notification is due");
        goto out_abandon;
    }
    char subject[64];
    snprintf(subject, sizeof subject, "placement:%s", p->id);
    if (ep_store_reg41_submit(x.db, p->id, f, st) != 0 ||
        hw_cancel(hw_app_scheduler(x.app), x.db, EP_DEADLINE_REG41, subject, st) != 0 ||
        hw_audit(x.db, call, NULL, "placement", p->id, st) != 0)
        goto out_abandon;
    ep_placement *saved = ep_store_placement_get(x.db, &x.m, p->id, NULL, NULL, st);
    if (!saved) goto out_abandon;
    end_write(&x, in->request_id, &saved->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

/* ------------------------------------------------------------ the missing report */

/* Fields the report must carry once pre-filled (R-EPI-1). */
static void validate_report(hw_status *st, const ep_report *r, bool need_child, int64_t *last_seen)
{
    *last_seen = -1;
    if (!r) {
        hw_status_violation(st, "report", "required");
        return;
    }
    if (need_child) need_uuid(st, "report.child_id", r->child_id);
    else opt_uuid(st, "report.child_id", r->child_id);
    instant(st, "report.last_seen_at", r->last_seen_at, true, true, last_seen);
    need(st, "report.last_seen_place", r->last_seen_place);
    need(st, "report.clothing", r->clothing);
    need(st, "report.circumstances", r->circumstances);
    need(st, "report.reporter_name", r->reporter_name);
}

/* R-EPI-2: what the records already hold fills the report, so the carer
 * sends only what changed. Returns a new report in the arena and the list
 * of fields filled. */
static ep_report *prefill(req *x, const ep_report *in, const ep_child *c, const ep_home *home,
                          char ***filled, size_t *n_filled)
{
    ep_report *r = ep_alloc(&x->m, sizeof *r);
    *r = *in;
    r->child_id = c->id;
    *filled = ep_alloc(&x->m, 12 * sizeof(char *));
    *n_filled = 0;
#define FILLED(name) (*filled)[(*n_filled)++] = (char *)(name)
    if (!r->description && c->description) { r->description = c->description; FILLED("description"); }
    if (!r->health && c->health) { r->health = c->health; FILLED("health"); }
    if (!r->beliefs && c->beliefs) { r->beliefs = c->beliefs; FILLED("beliefs"); }
    if (empty(r->vulnerabilities) && !empty(c->vulnerabilities)) {
        r->vulnerabilities = c->vulnerabilities;
        FILLED("vulnerabilities");
    }
    if (r->n_associates == 0 && c->n_associates > 0) {
        r->n_associates = c->n_associates;
        r->associates = c->associates;
        FILLED("associates");
    }
    if (r->n_known_addresses == 0 && c->n_known_addresses > 0) {
        r->n_known_addresses = c->n_known_addresses;
        r->known_addresses = c->known_addresses;
        FILLED("known_addresses");
    }
    if (empty(r->mobile_number) && !empty(c->mobile_number)) {
        r->mobile_number = c->mobile_number;
        FILLED("mobile_number");
    }
    if (empty(r->missing_from)) {
        const ep_placement *p = c->current_placement;
        if (home) {
            r->missing_from = hw_call_printf(x->call, "%s, %s", home->name, home->address);
            FILLED("missing_from");
        } else if (p && !empty(p->address)) {
            r->missing_from = p->address;
            FILLED("missing_from");
        }
    }
#undef FILLED
    return r;
}

/* Force and profile of an episode: the host area of the child's home (a
 * child placed across a border follows the host area's protocol for the
 * episode, STAFFS 3.3-3.4), else the responsible authority's, else the
 * reporting force's. */
static int episode_area(req *x, const ep_child *c, const ep_home *home, char **force,
                        char **profile, hw_status *st)
{
    if (home) {
        *force = home->force;
        *profile = home->profile;
        return 0;
    }
    if (!empty(c->responsible_authority))
        return ep_store_authority(x->db, c->responsible_authority, &x->m, profile, force, st);
    if (ep_is_police(x->who)) {
        *force = ep_strdup(&x->m, x->who->org);
        *profile = ep_store_force_profile(x->db, &x->m, x->who->org, st);
        return *profile ? 0 : -1;
    }
    return hw_status_set(st, HW_FAILED_PRECONDITION,
                         "cannot tell which police force covers this child: record the "
                         "responsible authority or a placement first");
}

static Homeward__Episodes__V1__ReportMissingResponse *
report_response(req *x, const char *episode_id, const char *child_id, char **filled,
                size_t n_filled, hw_status *st)
{
    Homeward__Episodes__V1__ReportMissingResponse *r = ep_alloc(&x->m, sizeof *r);
    homeward__episodes__v1__report_missing_response__init(r);
    r->episode = ep_store_episode_get(x->db, &x->m, episode_id, false, true,
                                      ep_special_allowed(x->who), NULL, st);
    if (!r->episode) return NULL;
    r->prefilled = filled;
    r->n_prefilled = n_filled;
    r->counts = counts_msg(x, child_id, hw_now_ms(), st);
    return r->counts ? r : NULL;
}

static int schedule_long_term(req *x, const char *episode_id, int64_t missing_since, hw_status *st)
{
    char subject[64];
    snprintf(subject, sizeof subject, "episode:%s", episode_id);
    /* R-DEF-6 / R-LONG-3: long-term missing at 28 days. */
    return hw_schedule(hw_app_scheduler(x->app), x->db, EP_DEADLINE_LONG_TERM, subject,
                       ep_long_term_due(missing_since), NULL, st);
}

static void h_report_missing(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                             hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__ReportMissingRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t last_seen;
    need(st, "request_id", in->request_id);
    validate_report(st, in->report, true, &last_seen);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__report_missing_response__descriptor, out, st) != 0)
        return;
    /* Everything the records hold, special categories included: the stored
     * report is complete; what each reader sees is filtered on the way out. */
    ep_child *c = child_for(&x, in->report->child_id, EP_SPECIAL_ALL, st);
    if (!c) goto out_abandon;
    const ep_placement *p = c->current_placement;
    ep_home *home = NULL;
    if (p && !empty(p->home_id) && !(home = ep_store_home_get(x.db, &x.m, p->home_id, st)))
        goto out_abandon;
    char **filled;
    size_t n_filled;
    ep_report *report = prefill(&x, in->report, c, home, &filled, &n_filled);
    if (empty(report->missing_from)) {
        hw_status_violation(st, "report.missing_from",
                            "required: the child has no placement to take it from");
        goto out_abandon;
    }
    char open_id[37];
    int open = ep_store_open_episode(x.db, c->id, open_id, st);
    if (open < 0) goto out_abandon;
    if (open) {
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "the child already has an open episode %s (convert an absence with "
                      "ConvertAbsenceToMissing)", open_id);
        goto out_abandon;
    }
    char *force, *profile;
    if (episode_area(&x, c, home, &force, &profile, st) != 0) goto out_abandon;

    int64_t now = hw_now_ms();
    ep_new_episode ne = {
        .child_id = c->id,
        .placement_id = p ? p->id : NULL,
        .home_id = p ? p->home_id : NULL,
        .status = EP_MISSING,
        .classification = ep_classify_missing(c->looked_after), /* R-DEF-3 */
        .was_missing = true,
        .force = force,
        .profile = profile,
        .responsible_authority = c->responsible_authority,
        .placing_authority = p ? p->placing_authority : "",
        .reported_by_id = x.who->sub,
        .reported_ms = now,
        .missing_since_ms = now,
        .last_seen_ms = last_seen,
        .last_seen_place = report->last_seen_place,
        .police_incident_ref = report->police_incident_ref,
        .mispers_ref = report->mispers_ref,
        .report = report,
    };
    char id[37];
    if (ep_store_episode_insert(x.db, &ne, id, st) != 0) goto out_abandon;
    char *text = hw_call_printf(call, "reported %s by %s", ep_classification_text(ne.classification),
                                report->reporter_name);
    if (schedule_long_term(&x, id, now, st) != 0 ||
        episode_changed(&x, id, now, "reported", text, report->last_seen_place,
                        "episodes.reported", st) != 0)
        goto out_abandon;
    Homeward__Episodes__V1__ReportMissingResponse *r =
        report_response(&x, id, c->id, filled, n_filled, st);
    if (!r) goto out_abandon;
    end_write(&x, in->request_id, &r->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

/* ------------------------------------------------------------ absences (R-DEF-2) */

static void h_record_absence(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                             hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__RecordAbsenceRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t since;
    need(st, "request_id", in->request_id);
    need_uuid(st, "child_id", in->child_id);
    instant(st, "away_since", in->away_since, true, true, &since);
    need(st, "believed_location", in->believed_location);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__episode_response__descriptor, out, st) != 0)
        return;
    ep_child *c = child_for(&x, in->child_id, 0, st);
    if (!c) goto out_abandon;
    const ep_placement *p = c->current_placement;
    if (!ep_absence_applies(c->looked_after, p != NULL)) {
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "an absence is recorded only for a looked-after child away from a current "
                      "placement (R-DEF-2); report the child missing instead");
        goto out_abandon;
    }
    char open_id[37];
    int open = ep_store_open_episode(x.db, c->id, open_id, st);
    if (open < 0) goto out_abandon;
    if (open) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "the child already has an open episode %s", open_id);
        goto out_abandon;
    }
    ep_home *home = NULL;
    if (!empty(p->home_id) && !(home = ep_store_home_get(x.db, &x.m, p->home_id, st))) goto out_abandon;
    char *force, *profile;
    if (episode_area(&x, c, home, &force, &profile, st) != 0) goto out_abandon;
    int64_t now = hw_now_ms();
    ep_new_episode ne = {
        .child_id = c->id,
        .placement_id = p->id,
        .home_id = p->home_id,
        .status = EP_ABSENT,
        .classification = EP_AWAY_FROM_PLACEMENT,
        .was_missing = false,
        .force = force,
        .profile = profile,
        .responsible_authority = c->responsible_authority,
        .placing_authority = p->placing_authority,
        .reported_by_id = x.who->sub,
        .reported_ms = now,
        .missing_since_ms = -1,
        .last_seen_ms = since,
        .last_seen_place = in->believed_location,
    };
    char id[37];
    if (ep_store_episode_insert(x.db, &ne, id, st) != 0) goto out_abandon;
    char *text = hw_call_printf(call, "away from placement; believed at: %s; with: %s; reason: %s; plan: %s",
                                in->believed_location, in->with_whom, in->reason, in->carer_plan);
    if (episode_changed(&x, id, since, "absent", text, in->believed_location,
                        "episodes.absence_recorded", st) != 0)
        goto out_abandon;
    end_episode_write(&x, in->request_id, id, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_add_absence_log(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                              hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__AddAbsenceLogRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t at;
    need(st, "request_id", in->request_id);
    need_uuid(st, "episode_id", in->episode_id);
    instant(st, "at", in->at, true, true, &at);
    need(st, "decision", in->decision);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__episode_response__descriptor, out, st) != 0)
        return;
    ep_episode *e = episode_for(&x, in->episode_id, true, false, st);
    if (!e) goto out_abandon;
    if ((enum ep_status)e->status != EP_ABSENT) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "the carer's log is kept while a child is absent");
        goto out_abandon;
    }
    /* STAFFS 8.8: a dated, timed record of contacts, risk and decisions. */
    char *text = hw_call_printf(call, "contact: %s; risk: %s; decision: %s", in->contact,
                                in->risk_assessment, in->decision);
    if (episode_changed(&x, e->id, at, "absence_log", text, "", "episodes.updated", st) != 0)
        goto out_abandon;
    end_episode_write(&x, in->request_id, e->id, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_convert_absence(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                              hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__ConvertAbsenceToMissingRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t last_seen;
    need(st, "request_id", in->request_id);
    need_uuid(st, "episode_id", in->episode_id);
    validate_report(st, in->report, false, &last_seen);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__report_missing_response__descriptor, out, st) != 0)
        return;
    ep_episode *e = episode_for(&x, in->episode_id, true, false, st);
    if (!e) goto out_abandon;
    if (!empty(in->report->child_id) && strcmp(in->report->child_id, e->child_id) != 0) {
        hw_status_violation(st, "report.child_id", "is not the child of this episode");
        goto out_abandon;
    }
    /* R-DEF-2 / R-EPI-3: an absence becomes missing when whereabouts become unknown. */
    if (!ep_transition_allowed((enum ep_status)e->status, EP_MISSING) ||
        (enum ep_status)e->status != EP_ABSENT) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "only an absence can become missing (status %s)",
                      ep_status_text((enum ep_status)e->status));
        goto out_abandon;
    }
    ep_scope cs;
    ep_child *c = ep_store_child_get(x.db, &x.m, e->child_id, EP_SPECIAL_ALL, NULL, &cs, st);
    if (!c) goto out_abandon;
    ep_home *home = NULL;
    if (!empty(e->home_id) && !(home = ep_store_home_get(x.db, &x.m, e->home_id, st))) goto out_abandon;
    char **filled;
    size_t n_filled;
    ep_report *report = prefill(&x, in->report, c, home, &filled, &n_filled);
    int64_t now = hw_now_ms();
    if (ep_store_episode_missing(x.db, e->id, now, last_seen, report->last_seen_place, report, st) != 0)
        goto out_abandon;
    char *text = hw_call_printf(call, "absence became missing_from_care, reported by %s",
                                report->reporter_name);
    if (schedule_long_term(&x, e->id, now, st) != 0 ||
        episode_changed(&x, e->id, now, "missing", text, report->last_seen_place,
                        "episodes.reported", st) != 0)
        goto out_abandon;
    Homeward__Episodes__V1__ReportMissingResponse *r =
        report_response(&x, e->id, e->child_id, filled, n_filled, st);
    if (!r) goto out_abandon;
    end_write(&x, in->request_id, &r->base, out, st);
    return;
out_abandon:
    abandon(&x);
}

/* ------------------------------------------------------------ episode changes */

static void h_update_episode(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                             hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__UpdateEpisodeRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t at;
    need(st, "request_id", in->request_id);
    need_uuid(st, "episode_id", in->episode_id);
    const char *kind = in->kind == HOMEWARD__EPISODES__V1__ENTRY_KIND__ENTRY_KIND_SIGHTING ? "sighting"
                       : in->kind == HOMEWARD__EPISODES__V1__ENTRY_KIND__ENTRY_KIND_ACTION ? "action"
                       : in->kind == HOMEWARD__EPISODES__V1__ENTRY_KIND__ENTRY_KIND_NOTE   ? "note"
                                                                                          : NULL;
    if (!kind) hw_status_violation(st, "kind", "required: SIGHTING, ACTION or NOTE");
    need(st, "text", in->text);
    instant(st, "occurred_at", in->occurred_at, false, true, &at);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__episode_response__descriptor, out, st) != 0)
        return;
    ep_episode *e = episode_for(&x, in->episode_id, true, false, st);
    if (!e) goto out_abandon;
    if ((enum ep_status)e->status == EP_CLOSED) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "the episode is closed");
        goto out_abandon;
    }
    if ((!empty(in->police_incident_ref) || !empty(in->mispers_ref)) &&
        ep_store_episode_refs(x.db, e->id, in->police_incident_ref, in->mispers_ref, st) != 0)
        goto out_abandon;
    if (episode_changed(&x, e->id, at >= 0 ? at : hw_now_ms(), kind, in->text, in->place,
                        "episodes.updated", st) != 0)
        goto out_abandon;
    end_episode_write(&x, in->request_id, e->id, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_assign_officer(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                             hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__AssignOfficerRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    need(st, "request_id", in->request_id);
    need_uuid(st, "episode_id", in->episode_id);
    need(st, "officer_id", in->officer_id);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__episode_response__descriptor, out, st) != 0)
        return;
    ep_episode *e = episode_for(&x, in->episode_id, true, false, st);
    if (!e) goto out_abandon;
    if ((enum ep_status)e->status == EP_CLOSED) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "the episode is closed");
        goto out_abandon;
    }
    char *text = hw_call_printf(call, "assigned to %s%s%s", in->officer_id,
                                empty(in->officer_name) ? "" : " ", in->officer_name);
    if (ep_store_episode_assign(x.db, e->id, in->officer_id, in->officer_name, st) != 0 ||
        episode_changed(&x, e->id, hw_now_ms(), "assignment", text, "", "episodes.updated", st) != 0)
        goto out_abandon;
    end_episode_write(&x, in->request_id, e->id, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_mark_located(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                           hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__MarkLocatedRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    const Homeward__Episodes__V1__Located *l = in->located;
    int64_t at = -1;
    need(st, "request_id", in->request_id);
    need_uuid(st, "episode_id", in->episode_id);
    if (!l) {
        hw_status_violation(st, "located", "required");
    } else {
        /* R-EPI-3: when, where, by whom and how the child came back. */
        instant(st, "located.at", l->at, true, true, &at);
        need(st, "located.place", l->place);
        need(st, "located.by", l->by);
        if (empty(ep_return_method_text(l->how)))
            hw_status_violation(st, "located.how", "required: OWN_ACCORD, POLICE, FAMILY, CARERS or OTHER");
    }
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__episode_response__descriptor, out, st) != 0)
        return;
    ep_episode *e = episode_for(&x, in->episode_id, true, false, st);
    if (!e) goto out_abandon;
    if (!ep_transition_allowed((enum ep_status)e->status, EP_LOCATED)) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "cannot mark located: the episode is %s (R-EPI-3)",
                      ep_status_text((enum ep_status)e->status));
        goto out_abandon;
    }
    char subject[64];
    snprintf(subject, sizeof subject, "episode:%s", e->id);
    const char *how = ep_return_method_text(l->how);
    char *text = hw_call_printf(call, "located by %s (%s)%s%s", l->by, how,
                                empty(l->notes) ? "" : ": ", l->notes);
    if (ep_store_episode_located(x.db, e->id, at, l->place, l->by, how, l->notes, x.who->sub, st) != 0 ||
        hw_cancel(hw_app_scheduler(x.app), x.db, EP_DEADLINE_LONG_TERM, subject, st) != 0 ||
        episode_changed(&x, e->id, at, "located", text, l->place, "episodes.located", st) != 0)
        goto out_abandon;
    end_episode_write(&x, in->request_id, e->id, out, st);
    return;
out_abandon:
    abandon(&x);
}

static void h_close_episode(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                            hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__CloseEpisodeRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    need(st, "request_id", in->request_id);
    need_uuid(st, "episode_id", in->episode_id);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    if (begin_write(&x, in->request_id,
                    &homeward__episodes__v1__episode_response__descriptor, out, st) != 0)
        return;
    ep_episode *e = episode_for(&x, in->episode_id, true, false, st);
    if (!e) goto out_abandon;
    switch (ep_can_close((enum ep_status)e->status, e->was_missing, !empty(e->prevention_interview_at),
                         ep_is_supervisor(x.who), !empty(in->reason))) {
    case EP_CLOSE_OK:
        break;
    case EP_CLOSE_NEEDS_LOCATED:
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "the child has not been located: the record stays live (R-DEF-7)");
        goto out_abandon;
    case EP_CLOSE_NEEDS_PREVENTION_INTERVIEW:
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "no prevention interview recorded yet; a supervisor may close with a reason");
        goto out_abandon;
    case EP_CLOSE_NEEDS_REASON:
        hw_status_violation(st, "reason", "required to close without a prevention interview");
        goto out_abandon;
    case EP_CLOSE_ALREADY_CLOSED:
        hw_status_set(st, HW_FAILED_PRECONDITION, "the episode is already closed");
        goto out_abandon;
    }
    int64_t now = hw_now_ms();
    char subject[64];
    snprintf(subject, sizeof subject, "episode:%s", e->id);
    if (ep_store_episode_closed(x.db, e->id, now, x.who->sub, in->reason, st) != 0 ||
        hw_cancel(hw_app_scheduler(x.app), x.db, EP_DEADLINE_LONG_TERM, subject, st) != 0 ||
        episode_changed(&x, e->id, now, "closed", in->reason, "", "episodes.closed", st) != 0)
        goto out_abandon;
    end_episode_write(&x, in->request_id, e->id, out, st);
    return;
out_abandon:
    abandon(&x);
}

/* ------------------------------------------------------------ reads */

static void h_get_episode(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                          hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__GetEpisodeRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    need_uuid(st, "episode_id", in->episode_id);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st) || acquire_read(&x, st) != 0) return;
    Homeward__Episodes__V1__GetEpisodeResponse *r = ep_alloc(&x.m, sizeof *r);
    homeward__episodes__v1__get_episode_response__init(r);
    r->episode = episode_for(&x, in->episode_id, false, true, st);
    if (r->episode && ep_store_timeline(x.db, &x.m, r->episode->id, &r->timeline, &r->n_timeline, st) == 0 &&
        (r->counts = counts_msg(&x, r->episode->child_id, hw_now_ms(), st)) != NULL)
        seen(&x, "episode", r->episode->id);
    end_read(&x, &r->base, out, st);
}

static void h_list_episodes(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                            hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__ListEpisodesRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    ep_list_filter f = {.after_us = -1};
    opt_uuid(st, "child_id", in->child_id);
    opt_uuid(st, "home_id", in->home_id);
    instant(st, "reported_from", in->reported_from, false, false, &f.from_ms);
    instant(st, "reported_to", in->reported_to, false, false, &f.to_ms);
    if (in->page_size < 0 || in->page_size > 500) hw_status_violation(st, "page_size", "must be 0..500");
    char *statuses = NULL;
    if (in->n_statuses > 0) {
        size_t cap = in->n_statuses * 40 + 3;
        statuses = hw_call_alloc(call, cap);
        size_t used = (size_t)snprintf(statuses, cap, "[");
        for (size_t i = 0; i < in->n_statuses; i++) {
            const char *w = ep_status_text((enum ep_status)in->statuses[i]);
            if (empty(w)) {
                hw_status_violation(st, "statuses", "unknown status %d", (int)in->statuses[i]);
                break;
            }
            used += (size_t)snprintf(statuses + used, cap - used, "%s\"%s\"", i ? "," : "", w);
        }
        snprintf(statuses + used, cap - used, "]");
    }
    if (!empty(in->page_token)) {
        long long us = -1;
        char idbuf[40] = "";
        if (sscanf(in->page_token, "%lld_%36s", &us, idbuf) != 2 || us < 0 || !ep_is_uuid(idbuf))
            hw_status_violation(st, "page_token", "not a token this service gave");
        f.after_us = us;
        f.after_id = hw_call_strdup(call, idbuf);
    }
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st) || acquire_read(&x, st) != 0) return;
    f.statuses_json = statuses;
    f.child_id = in->child_id;
    f.home_id = in->home_id;
    f.organisation = in->organisation;
    f.open_only = in->open_only;
    f.limit = in->page_size ? in->page_size : 50;
    ep_vis vis;
    ep_vis_of(&x.m, x.who, &vis);
    Homeward__Episodes__V1__ListEpisodesResponse *r = ep_alloc(&x.m, sizeof *r);
    homeward__episodes__v1__list_episodes_response__init(r);
    int64_t last_us = -1;
    char *last_id = NULL;
    if (ep_store_episode_list(x.db, &x.m, &f, &vis, &r->episodes, &r->n_episodes, &last_us, &last_id,
                              st) == 0) {
        if ((int)r->n_episodes == f.limit && last_id)
            r->next_page_token = hw_call_printf(call, "%lld_%s", (long long)last_us, last_id);
        for (size_t i = 0; i < r->n_episodes; i++)
            seen(&x, "episode", r->episodes[i]->id);
    }
    end_read(&x, &r->base, out, st);
}

static void h_get_home_roster(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                              hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__GetHomeRosterRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    opt_uuid(st, "home_id", in->home_id);
    if (empty(in->home_id) && x.who->n_homes == 0)
        hw_status_violation(st, "home_id", "required: your token names no homes");
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st) || acquire_read(&x, st) != 0) return;
    size_t n = empty(in->home_id) ? (size_t)x.who->n_homes : 1;
    Homeward__Episodes__V1__GetHomeRosterResponse *r = ep_alloc(&x.m, sizeof *r);
    homeward__episodes__v1__get_home_roster_response__init(r);
    int64_t now = hw_now_ms();
    r->as_of = ep_ts(&x.m, now);
    r->homes = ep_alloc(&x.m, n * sizeof *r->homes);
    for (size_t i = 0; i < n && hw_ok(st); i++) {
        const char *home_id = empty(in->home_id) ? x.who->homes[i] : in->home_id;
        if (!ep_is_uuid(home_id)) continue; /* a token home that is not one of ours */
        Homeward__Episodes__V1__HomeRoster *hr = ep_alloc(&x.m, sizeof *hr);
        homeward__episodes__v1__home_roster__init(hr);
        ep_home *h = ep_store_home_roster(x.db, &x.m, home_id, now, &hr->children, &hr->n_children, st);
        if (!h) break;
        /* R-SPOC-1 / R-SEC-1: the SPOC or carers of the home, police of its
         * area; what was read for anyone else is dropped unseen. */
        ep_scope scope = {h->force, "", "", h->id, "", false};
        if (!ep_may_see(x.who, &scope)) {
            deny(st);
            break;
        }
        hr->home = h;
        seen(&x, "home_roster", h->id);
        r->homes[r->n_homes++] = hr;
    }
    end_read(&x, &r->base, out, st);
}

static void h_export_return(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                            hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__ExportStatutoryReturnRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int from = 0, to = 0;
    need(st, "authority", in->authority);
    if (!valid_date(in->period_start, &from))
        hw_status_violation(st, "period_start", "required: a date YYYY-MM-DD");
    if (!valid_date(in->period_end, &to))
        hw_status_violation(st, "period_end", "required: a date YYYY-MM-DD");
    else if (from > to)
        hw_status_violation(st, "period_end", "must not be before period_start");
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st)) return;
    /* R-EPI-7: the local authority exports its own children's episodes. */
    if (!hw_principal_has_role(x.who, HW_ROLE_SERVICE) && strcmp(x.who->org, in->authority) != 0) {
        deny(st);
        return;
    }
    if (acquire_read(&x, st) != 0) return;
    Homeward__Episodes__V1__ExportStatutoryReturnResponse *r = ep_alloc(&x.m, sizeof *r);
    homeward__episodes__v1__export_statutory_return_response__init(r);
    if (ep_store_statutory_return(x.db, &x.m, in->authority, in->period_start, in->period_end,
                                  &r->rows, &r->n_rows, st) == 0)
        seen(&x, "statutory_return", in->authority);
    end_read(&x, &r->base, out, st);
}

static void h_get_child_counts(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                               hw_status *st, void *ctx)
{
    const Homeward__Episodes__V1__GetChildCountsRequest *in = (const void *)rm;
    req x;
    req_init(&x, call, ctx);
    int64_t as_of;
    need_uuid(st, "child_id", in->child_id);
    instant(st, "as_of", in->as_of, false, false, &as_of);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st) || acquire_read(&x, st) != 0) return;
    Homeward__Episodes__V1__ChildCounts *c = NULL;
    if (child_for(&x, in->child_id, 0, st) &&
        (c = counts_msg(&x, in->child_id, as_of >= 0 ? as_of : hw_now_ms(), st)) != NULL)
        seen(&x, "child_counts", in->child_id);
    end_read(&x, c ? &c->base : NULL, out, st);
}

/* ------------------------------------------------------------ the table */

static const hw_method methods[] = {
    {"UpsertChild", h_upsert_child, NULL, r_child_write},
    {"GetChild", h_get_child, NULL, r_read},
    {"SearchChildren", h_search_children, NULL, r_read},
    {"UpsertHome", h_upsert_home, NULL, r_home_write},
    {"UpsertPlacement", h_upsert_placement, NULL, r_placement},
    {"EndPlacement", h_end_placement, NULL, r_placement},
    {"SubmitRegulation41", h_submit_reg41, NULL, r_placement},
    {"ReportMissing", h_report_missing, NULL, r_report},
    {"RecordAbsence", h_record_absence, NULL, r_absence},
    {"AddAbsenceLog", h_add_absence_log, NULL, r_absence},
    {"ConvertAbsenceToMissing", h_convert_absence, NULL, r_report},
    {"UpdateEpisode", h_update_episode, NULL, r_update},
    {"AssignOfficer", h_assign_officer, NULL, r_assign},
    {"MarkLocated", h_mark_located, NULL, r_located},
    {"CloseEpisode", h_close_episode, NULL, r_close},
    {"GetEpisode", h_get_episode, NULL, r_read},
    {"ListEpisodes", h_list_episodes, NULL, r_read},
    {"GetHomeRoster", h_get_home_roster, NULL, r_roster},
    {"WatchEpisodes", NULL, ep_watch_episodes, r_read},
    {"ExportStatutoryReturn", h_export_return, NULL, r_export},
    {"GetChildCounts", h_get_child_counts, NULL, r_read},
};

const hw_service_def ep_service = {
    &homeward__episodes__v1__episodes__descriptor,
    methods,
    sizeof methods / sizeof methods[0],
    NULL,
};
