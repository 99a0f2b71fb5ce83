/* handlers.c -- the Interviews calls: who may do what (rules.c), what is well formed
 * (forms.c), what is kept (store.c), and the events the change publishes. */
#include "handlers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forms.h"
#include "homeward/interviews/v1/interviews.pb-c.h"
#include "hw_audit.h"
#include "hw_idem.h"
#include "hw_log.h"
#include "hw_roles.h"
#include "hw_time.h"
#include "rules.h"
#include "store.h"

typedef Homeward__Interviews__V1__Interview pb_interview;
typedef Homeward__Interviews__V1__Consent pb_consent;
typedef Homeward__Interviews__V1__SharingDecision pb_sharing;
typedef Homeward__Interviews__V1__ContactAttempt pb_attempt;

#define MAX_LIST 500
#define DEFAULT_LIST 100

/* ---- small helpers ---- */

static void *arena_alloc(void *call, size_t n)
{
    return hw_call_alloc(call, n ? n : 1);
}

/* Freed with the call. */
static void arena_free(void *call, void *p)
{
    (void)call;
    (void)p;
}

static ProtobufCMessage *unpack_in_call(hw_call *call, const ProtobufCMessageDescriptor *d,
                                        const unsigned char *buf, size_t len)
{
    ProtobufCAllocator alloc = {.alloc = arena_alloc, .free = arena_free, .allocator_data = call};
    return protobuf_c_message_unpack(d, &alloc, len, buf);
}

static unsigned char *pack_in_call(hw_call *call, const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    unsigned char *buf = hw_call_alloc(call, *len + 1);
    protobuf_c_message_pack(m, buf);
    return buf;
}

static char *s(hw_call *call, const char *v)
{
    return hw_call_strdup(call, v ? v : "");
}

static void require_uuid(hw_status *st, const char *field, const char *v)
{
    if (!v || !*v)
        hw_status_violation(st, field, "required");
    else if (!rules_is_uuid(v))
        hw_status_violation(st, field, "not an interview id");
}

static void require_text(hw_status *st, const char *field, const char *v)
{
    if (!forms_has_text(v))
        hw_status_violation(st, field, "required");
}

static const char *primary_role(const hw_principal *p)
{
    return p->n_roles > 0 ? p->roles[0] : "";
}

static enum rules_consent consent_of(const store_consent *c)
{
    if (!c->present)
        return RULES_CONSENT_NOT_RECORDED;
    return c->consent_given ? RULES_CONSENT_GIVEN : RULES_CONSENT_REFUSED;
}

/* Lease a connection and open a transaction, after checking the stated
 * reason so a refused call touches nothing. */
static hw_db *begin(hw_app *app, hw_call *call, hw_status *st)
{
    if (hw_audit_require_purpose(call, st) != 0)
        return NULL;
    int64_t left = hw_call_ms_left(call);
    hw_db *db = hw_pg_acquire(hw_app_pool(app), left < 5000 ? left : 5000, st);
    if (!db)
        return NULL;
    if (hw_db_begin(db, st) != 0) {
        hw_pg_release(db);
        return NULL;
    }
    return db;
}

/* ---- events (written in the same transaction as the change) ---- */

static int publish(hw_db *db, const char *type, const store_interview *iv, json_t *payload, hw_status *st)
{
    json_object_set_new(payload, "episode_id", json_string(iv->episode_id));
    json_object_set_new(payload, "child_id", json_string(iv->child_id));
    json_object_set_new(payload, "interview_id", json_string(iv->id));
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    if (!text)
        return hw_status_set(st, HW_INTERNAL, "cannot encode event");
    char subject[64];
    snprintf(subject, sizeof subject, "interview:%s", iv->id);
    int rc = hw_outbox_add(db, type, subject, text, NULL, st);
    free(text);
    return rc;
}

static void deadline_subject(const char *id, char out[64])
{
    snprintf(out, 64, "interview:%s", id);
}

/* ---- the Interview message ---- */

typedef struct sharing_state {
    store_consent consent;
    store_sharing sharing;
} sharing_state;

static void sharing_state_clear(sharing_state *s)
{
    store_consent_clear(&s->consent);
    store_sharing_clear(&s->sharing);
}

static int load_sharing_state(hw_db *db, const char *id, sharing_state *out, hw_status *st)
{
    memset(out, 0, sizeof *out);
    if (store_latest_consent(db, id, &out->consent, st) != 0)
        return -1;
    return store_latest_sharing(db, id, &out->sharing, st);
}

static enum rules_read access_for(hw_call *call, const store_interview *iv, const sharing_state *ss)
{
    rules_interview v = store_rules_view(iv);
    return rules_read_access(hw_call_principal(call), &v, consent_of(&ss->consent), ss->sharing.present);
}

static Homeward__Interviews__V1__InterviewState state_enum(const char *state)
{
    if (strcmp(state, "due") == 0)
        return HOMEWARD__INTERVIEWS__V1__INTERVIEW_STATE__INTERVIEW_STATE_DUE;
    if (strcmp(state, "draft") == 0)
        return HOMEWARD__INTERVIEWS__V1__INTERVIEW_STATE__INTERVIEW_STATE_DRAFT;
    if (strcmp(state, "submitted") == 0)
        return HOMEWARD__INTERVIEWS__V1__INTERVIEW_STATE__INTERVIEW_STATE_SUBMITTED;
    if (strcmp(state, "declined") == 0)
        return HOMEWARD__INTERVIEWS__V1__INTERVIEW_STATE__INTERVIEW_STATE_DECLINED;
    return HOMEWARD__INTERVIEWS__V1__INTERVIEW_STATE__INTERVIEW_STATE_UNSPECIFIED;
}

static bool overdue(const store_interview *iv, int64_t now_ms)
{
    if (iv->kind != RULES_RETURN)
        return false;
    if (strcmp(iv->state, "submitted") == 0)
        return !iv->within_72h;
    if (strcmp(iv->state, "declined") == 0)
        return false;
    return iv->overdue_at_ms > 0 || now_ms > iv->due_at_ms;
}

/* Build the reply for iv as the caller may see it. Summary readers get the
 * facts and timeliness but no form (R-RET-3). ss may be NULL (summary list
 * without consent details). */
static pb_interview *interview_msg(hw_call *call, hw_db *db, const store_interview *iv,
                                   const sharing_state *ss, enum rules_read access, bool with_forms,
                                   hw_status *st)
{
    pb_interview *m = hw_call_alloc(call, sizeof *m);
    homeward__interviews__v1__interview__init(m);
    m->id = s(call, iv->id);
    m->kind = iv->kind == RULES_RETURN ? HOMEWARD__INTERVIEWS__V1__INTERVIEW_KIND__INTERVIEW_KIND_RETURN
                                       : HOMEWARD__INTERVIEWS__V1__INTERVIEW_KIND__INTERVIEW_KIND_PREVENTION;
    m->state = state_enum(iv->state);
    m->episode_id = s(call, iv->episode_id);
    m->child_id = s(call, iv->child_id);
    m->home_id = s(call, iv->home_id);
    m->responsible_authority = s(call, iv->responsible_authority);
    m->force = s(call, iv->force);
    m->profile = s(call, iv->profile);
    m->placement_type = s(call, iv->placement_type);
    m->located_at_ms = iv->located_at_ms;
    m->due_at_ms = iv->due_at_ms;
    m->assignee = s(call, iv->assignee);
    m->overdue = overdue(iv, hw_now_ms());
    m->offered_at_ms = iv->offered_at_ms;
    m->started_at_ms = iv->started_at_ms;
    m->submitted_at_ms = iv->submitted_at_ms;
    m->conducted_by = s(call, iv->conducted_by);
    m->conducted_by_role = s(call, iv->conducted_by_role);
    m->within_72h = iv->within_72h_known && iv->within_72h;
    m->no_contact_attempts = iv->no_contact_attempts;
    m->declined_at_ms = iv->declined_at_ms;
    m->decline_reason = s(call, iv->decline_reason);
    m->cse_prompted = iv->cse_prompted;
    m->draft_version = iv->draft_version;
    m->draft_saved_at_ms = iv->draft_saved_at_ms;

    if (ss && ss->consent.present) {
        pb_consent *c = hw_call_alloc(call, sizeof *c);
        homeward__interviews__v1__consent__init(c);
        c->shared_with = s(call, ss->consent.shared_with);
        c->when_shared = s(call, ss->consent.when_shared);
        c->why_shared = s(call, ss->consent.why_shared);
        c->told_at_ms = ss->consent.told_at_ms;
        c->consent_given = ss->consent.consent_given;
        c->notes = s(call, ss->consent.notes);
        c->recorded_by = s(call, ss->consent.recorded_by);
        c->recorded_at_ms = ss->consent.recorded_at_ms;
        m->consent = c;
    }
    if (ss && ss->sharing.present) {
        pb_sharing *d = hw_call_alloc(call, sizeof *d);
        homeward__interviews__v1__sharing_decision__init(d);
        d->critical_to_safeguarding_reason = s(call, ss->sharing.reason);
        d->shared_with = s(call, ss->sharing.shared_with);
        d->decided_by = s(call, ss->sharing.decided_by);
        d->decided_at_ms = ss->sharing.decided_at_ms;
        m->sharing_decision = d;
    }
    if (!with_forms)
        return m;

    if (access != RULES_READ_FULL) {
        if (iv->form || iv->draft || iv->no_contact_attempts > 0) {
            m->content_withheld = true;
            m->withheld_reason = s(call, "the child has not consented to sharing and no critical-to-"
                                         "safeguarding reason is recorded (R-RET-3)");
        }
        return m;
    }

    if (iv->disclosures && *iv->disclosures) {
        char *list = s(call, iv->disclosures);
        size_t n = 1;
        for (char *c = list; *c; c++)
            n += *c == ',';
        m->disclosures = hw_call_alloc(call, n * sizeof(char *));
        for (char *tok = list, *next; tok; tok = next) {
            next = strchr(tok, ',');
            if (next)
                *next++ = 0;
            m->disclosures[m->n_disclosures++] = tok;
        }
    }
    const ProtobufCMessageDescriptor *form_desc =
        iv->kind == RULES_RETURN ? &homeward__interviews__v1__return_interview_form__descriptor
                                 : &homeward__interviews__v1__prevention_interview_form__descriptor;
    if (iv->form) {
        ProtobufCMessage *f = unpack_in_call(call, form_desc, iv->form, iv->form_len);
        if (!f) {
            hw_status_set(st, HW_DATA_LOSS, "stored form does not decode");
            return NULL;
        }
        if (iv->kind == RULES_RETURN)
            m->return_interview = (Homeward__Interviews__V1__ReturnInterviewForm *)f;
        else
            m->prevention = (Homeward__Interviews__V1__PreventionInterviewForm *)f;
    }
    if (iv->draft) {
        ProtobufCMessage *f = unpack_in_call(call, form_desc, iv->draft, iv->draft_len);
        if (!f) {
            hw_status_set(st, HW_DATA_LOSS, "stored draft does not decode");
            return NULL;
        }
        if (iv->kind == RULES_RETURN)
            m->return_draft = (Homeward__Interviews__V1__ReturnInterviewForm *)f;
        else
            m->prevention_draft = (Homeward__Interviews__V1__PreventionInterviewForm *)f;
    }
    if (iv->no_contact_attempts > 0) {
        hw_res *r = store_contact_attempts(db, iv->id, st);
        if (!r)
            return NULL;
        int n = hw_res_rows(r);
        m->contact_attempts = hw_call_alloc(call, (size_t)n * sizeof(pb_attempt *) + 1);
        for (int i = 0; i < n; i++) {
            pb_attempt *a = hw_call_alloc(call, sizeof *a);
            homeward__interviews__v1__contact_attempt__init(a);
            a->attempted_at_ms = hw_res_int(r, i, 0);
            a->method = s(call, hw_res_get(r, i, 1));
            a->note = s(call, hw_res_get(r, i, 2));
            a->recorded_by = s(call, hw_res_get(r, i, 3));
            m->contact_attempts[m->n_contact_attempts++] = a;
        }
        hw_res_free(r);
    }
    return m;
}

/* Reload iv after a change and build the reply, auditing the change. */
static int reply_after_change(hw_call *call, hw_db *db, const char *id, const char *action,
                              ProtobufCMessage **resp, hw_status *st)
{
    store_interview iv;
    sharing_state ss;
    int rc = -1;
    if (store_load(db, id, false, &iv, st) != 0)
        return -1;
    if (load_sharing_state(db, id, &ss, st) != 0)
        goto out_interview;
    pb_interview *m = interview_msg(call, db, &iv, &ss, access_for(call, &iv, &ss), true, st);
    if (!m)
        goto out_sharing;
    if (hw_audit(db, call, action, "interview", id, st) != 0)
        goto out_sharing;
    *resp = &m->base;
    rc = 0;
out_sharing:
    sharing_state_clear(&ss);
out_interview:
    store_interview_clear(&iv);
    return rc;
}

/* Load for a change, locked, and check the caller may conduct it. */
static int load_for_conduct(hw_call *call, hw_db *db, const char *id, store_interview *iv,
                            enum rules_conductor *who, hw_status *st)
{
    if (store_load(db, id, true, iv, st) != 0)
        return -1;
    rules_interview v = store_rules_view(iv);
    *who = rules_conductor_for(hw_call_principal(call), &v);
    if (*who == RULES_CONDUCTOR_NONE) {
        if (iv->kind == RULES_PREVENTION &&
            hw_principal_has_role(hw_call_principal(call), HW_ROLE_CARE_STAFF))
            return hw_status_set(st, HW_PERMISSION_DENIED,
                                 "care staff may complete a prevention interview only for a residential "
                                 "placement of their home in the LLR profile (R-RET-1)");
        return hw_status_set(st, HW_PERMISSION_DENIED,
                             iv->kind == RULES_PREVENTION
                                 ? "prevention interviews are conducted by the force's officers (R-RET-1)"
                                 : "return interviews are conducted by the responsible authority's return "
                                   "interview workers and social workers");
    }
    return 0;
}

static int require_open(const store_interview *iv, hw_status *st)
{
    if (store_is_open(iv))
        return 0;
    return hw_status_set(st, HW_FAILED_PRECONDITION, "the interview is already %s", iv->state);
}

/* ---- mutation runner: idempotency, transaction, commit, relay ---- */

typedef int (*change_fn)(hw_app *app, hw_call *call, hw_db *db, const void *req, ProtobufCMessage **resp,
                         hw_status *st);

static void run_change(hw_call *call, void *ctx, const char *request_id, const void *req, change_fn fn,
                       ProtobufCMessage **respm, hw_status *st)
{
    hw_app *app = ctx;
    ProtobufCMessage *resp = NULL;

    if (!request_id || !*request_id)
        hw_status_violation(st, "request_id", "required: a client-generated id for this change");
    if (!hw_ok(st))
        return;
    hw_call_set_request_id(call, request_id);
    hw_db *db = begin(app, call, st);
    if (!db)
        return;
    int replay = hw_idem_begin(db, call, request_id, &homeward__interviews__v1__interview__descriptor,
                               &resp, st);
    if (replay < 0)
        goto out_rollback;
    if (replay == 0) {
        if (fn(app, call, db, req, &resp, st) != 0) {
            if (hw_ok(st))
                hw_status_set(st, HW_INTERNAL, "change not applied");
            goto out_rollback;
        }
        if (hw_idem_finish(db, call, request_id, resp, st) != 0)
            goto out_rollback;
    }
    if (hw_db_commit(db, st) != 0)
        goto out_release;
    *respm = resp;
    if (replay == 0 && hw_app_relay(app))
        hw_relay_kick(hw_app_relay(app));
    goto out_release;

out_rollback:
    hw_db_rollback(db);
out_release:
    hw_pg_release(db);
}

/* ---- StartInterview ---- */

static int do_start(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                    hw_status *st)
{
    const Homeward__Interviews__V1__StartInterviewRequest *req = reqv;
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    if (require_open(&iv, st) != 0)
        goto out;
    if (store_start(db, iv.id, hw_call_principal(call)->sub, st) != 0)
        goto out;
    rc = reply_after_change(call, db, iv.id, "StartInterview", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_start(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                    void *ctx)
{
    const Homeward__Interviews__V1__StartInterviewRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    run_change(call, ctx, req->request_id, req, do_start, resp, st);
}

/* ---- SaveDraft ---- */

static int do_save_draft(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                         hw_status *st)
{
    const Homeward__Interviews__V1__SaveDraftRequest *req = reqv;
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    if (require_open(&iv, st) != 0)
        goto out;
    const ProtobufCMessage *draft;
    if (iv.kind == RULES_PREVENTION) {
        if (req->draft_case != HOMEWARD__INTERVIEWS__V1__SAVE_DRAFT_REQUEST__DRAFT_PREVENTION) {
            hw_status_violation(st, "prevention", "this is a prevention interview: send a prevention draft");
            goto out;
        }
        draft = &req->prevention->base;
    } else {
        if (req->draft_case != HOMEWARD__INTERVIEWS__V1__SAVE_DRAFT_REQUEST__DRAFT_RETURN_INTERVIEW) {
            hw_status_violation(st, "return_interview", "this is a return interview: send a return draft");
            goto out;
        }
        draft = &req->return_interview->base;
    }
    size_t len;
    unsigned char *packed = pack_in_call(call, draft, &len);
    if (store_save_draft(db, iv.id, packed, len, hw_call_principal(call)->sub, st) != 0)
        goto out;
    rc = reply_after_change(call, db, iv.id, "SaveDraft", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_save_draft(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                         void *ctx)
{
    const Homeward__Interviews__V1__SaveDraftRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    if (req->draft_case == HOMEWARD__INTERVIEWS__V1__SAVE_DRAFT_REQUEST__DRAFT__NOT_SET)
        hw_status_violation(st, "draft", "required: prevention or return_interview");
    run_change(call, ctx, req->request_id, req, do_save_draft, resp, st);
}

/* ---- SubmitPreventionInterview (R-RET-1, R-DEF-7) ---- */

static int require_consent_recorded(hw_db *db, const char *id, hw_status *st)
{
    store_consent c;
    if (store_latest_consent(db, id, &c, st) != 0)
        return -1;
    bool present = c.present;
    store_consent_clear(&c);
    if (!present)
        return hw_status_set(st, HW_FAILED_PRECONDITION,
                             "record what the child was told and whether they consent first (R-RET-3)");
    return 0;
}

static int do_submit_prevention(hw_app *app, hw_call *call, hw_db *db, const void *reqv,
                                ProtobufCMessage **resp, hw_status *st)
{
    const Homeward__Interviews__V1__SubmitPreventionInterviewRequest *req = reqv;
    const hw_principal *p = hw_call_principal(call);
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    if (iv.kind != RULES_PREVENTION) {
        hw_status_violation(st, "interview_id", "not a prevention interview");
        goto out;
    }
    if (require_open(&iv, st) != 0)
        goto out;
    forms_check_prevention(req->form, iv.located_at_ms, hw_now_ms(), st);
    if (!hw_ok(st))
        goto out;
    if (require_consent_recorded(db, iv.id, st) != 0)
        goto out;

    size_t len;
    unsigned char *packed = pack_in_call(call, &req->form->base, &len);
    store_submission sub = {
        .form = packed,
        .form_len = len,
        .interview_at_ms = req->form->interview_at_ms,
        .within_72h = -1,
        .conducted_by = p->sub,
        .conducted_by_role = rules_conductor_name(who),
        .conducted_by_org = p->org,
        .disclosures = (const char *const *)req->form->disclosures,
        .n_disclosures = req->form->n_disclosures,
    };
    if (store_submit(db, iv.id, &sub, st) != 0)
        goto out;

    /* R-DEF-7: the prevention interview lets the episode close. */
    json_t *ev = json_object();
    json_object_set_new(ev, "conducted_by_role", json_string(rules_conductor_name(who)));
    json_object_set_new(ev, "force", json_string(iv.force));
    json_object_set_new(ev, "responsible_authority", json_string(iv.responsible_authority));
    if (publish(db, EV_PREVENTION_SUBMITTED, &iv, ev, st) != 0)
        goto out;
    /* STAFFS 18, LLR p.11: a disclosure needs police attendance without
     * delay and evidence preservation -- an urgent event of its own. */
    if (req->form->n_disclosures > 0) {
        json_t *d = json_object();
        json_t *kinds = json_array();
        for (size_t i = 0; i < req->form->n_disclosures; i++)
            json_array_append_new(kinds, json_string(req->form->disclosures[i]));
        json_t *evidence = json_array();
        for (size_t i = 0; i < req->form->n_evidence_to_preserve; i++)
            json_array_append_new(evidence, json_string(req->form->evidence_to_preserve[i]));
        json_object_set_new(d, "kinds", kinds);
        json_object_set_new(d, "evidence_to_preserve", evidence);
        json_object_set_new(d, "urgent", json_true());
        json_object_set_new(d, "force", json_string(iv.force));
        json_object_set_new(d, "responsible_authority", json_string(iv.responsible_authority));
        json_object_set_new(d, "home_id", json_string(iv.home_id));
        if (publish(db, EV_DISCLOSURE, &iv, d, st) != 0)
            goto out;
        hw_warn("disclosure flagged on prevention interview %s: urgent event raised", iv.id);
    }
    rc = reply_after_change(call, db, iv.id, "SubmitPreventionInterview", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_submit_prevention(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp,
                                hw_status *st, void *ctx)
{
    const Homeward__Interviews__V1__SubmitPreventionInterviewRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    if (!req->form)
        hw_status_violation(st, "form", "required");
    run_change(call, ctx, req->request_id, req, do_submit_prevention, resp, st);
}

/* ---- SubmitReturnInterview (R-RET-2, R-NOT-7) ---- */

static int do_submit_return(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                            hw_status *st)
{
    const Homeward__Interviews__V1__SubmitReturnInterviewRequest *req = reqv;
    const hw_principal *p = hw_call_principal(call);
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    if (iv.kind != RULES_RETURN) {
        hw_status_violation(st, "interview_id", "not a return interview");
        goto out;
    }
    if (require_open(&iv, st) != 0)
        goto out;
    bool within = false;
    forms_check_return(req->form, iv.located_at_ms, hw_now_ms(), &within, st);
    if (!hw_ok(st))
        goto out;
    if (require_consent_recorded(db, iv.id, st) != 0)
        goto out;

    /* "Was the RHI completed within time frames?" is the service's answer,
     * whatever the client sent. */
    Homeward__Interviews__V1__ReturnInterviewForm form = *req->form;
    form.completed_within_time_frames = within ? "YES" : "NO";
    size_t len;
    unsigned char *packed = pack_in_call(call, &form.base, &len);
    bool cse = forms_return_mentions_cse(req->form);
    store_submission sub = {
        .form = packed,
        .form_len = len,
        .interview_at_ms = req->form->contact_at_ms,
        .within_72h = within,
        .lateness_codes = within ? NULL : (const char *const *)req->form->time_frame_comments,
        .n_lateness_codes = within ? 0 : req->form->n_time_frame_comments,
        .lateness_note = within ? "" : req->form->time_frame_note,
        .conducted_by = p->sub,
        .conducted_by_role = rules_conductor_name(who),
        .conducted_by_org = p->org,
        .cse_prompted = cse,
    };
    if (store_submit(db, iv.id, &sub, st) != 0)
        goto out;
    char subject[64];
    deadline_subject(iv.id, subject);
    if (hw_cancel(hw_app_scheduler(app), db, INTERVIEWS_DEADLINE_RETURN_DUE, subject, st) != 0)
        goto out;

    sharing_state ss;
    if (load_sharing_state(db, iv.id, &ss, st) != 0)
        goto out;
    bool shareable = rules_may_share(consent_of(&ss.consent), ss.sharing.present);
    bool consent_given = ss.consent.present && ss.consent.consent_given;
    sharing_state_clear(&ss);

    /* R-NOT-7: the social worker and police are told it is complete; the
     * content follows the sharing decision (R-RET-3). */
    json_t *ev = json_object();
    json_object_set_new(ev, "within_72h", json_boolean(within));
    json_object_set_new(ev, "responsible_authority", json_string(iv.responsible_authority));
    json_object_set_new(ev, "force", json_string(iv.force));
    json_object_set_new(ev, "consent_given", json_boolean(consent_given));
    json_object_set_new(ev, "shareable", json_boolean(shareable));
    if (publish(db, EV_RETURN_COMPLETED, &iv, ev, st) != 0)
        goto out;
    /* R-RISK-7: a CSE-related factor prompts a CSE matrix. */
    if (cse) {
        json_t *c = json_object();
        json_object_set_new(c, "responsible_authority", json_string(iv.responsible_authority));
        json_object_set_new(c, "force", json_string(iv.force));
        if (publish(db, EV_CSE_PROMPT, &iv, c, st) != 0)
            goto out;
    }
    rc = reply_after_change(call, db, iv.id, "SubmitReturnInterview", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_submit_return(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp,
                            hw_status *st, void *ctx)
{
    const Homeward__Interviews__V1__SubmitReturnInterviewRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    if (!req->form)
        hw_status_violation(st, "form", "required");
    run_change(call, ctx, req->request_id, req, do_submit_return, resp, st);
}

/* ---- RecordDeclined ---- */

static int do_declined(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                       hw_status *st)
{
    const Homeward__Interviews__V1__RecordDeclinedRequest *req = reqv;
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    if (iv.kind != RULES_RETURN) {
        hw_status_violation(st, "interview_id", "only a return interview can be declined");
        goto out;
    }
    if (require_open(&iv, st) != 0)
        goto out;
    int64_t now = hw_now_ms();
    int64_t at = req->declined_at_ms > 0 ? req->declined_at_ms : now;
    if (!rules_interview_time_plausible(iv.located_at_ms, at, now)) {
        hw_status_violation(st, "declined_at_ms", "must be after the child was located and not in the future");
        goto out;
    }
    if (store_decline(db, iv.id, at, req->reason, hw_call_principal(call)->sub, st) != 0)
        goto out;
    char subject[64];
    deadline_subject(iv.id, subject);
    if (hw_cancel(hw_app_scheduler(app), db, INTERVIEWS_DEADLINE_RETURN_DUE, subject, st) != 0)
        goto out;
    json_t *ev = json_object();
    json_object_set_new(ev, "responsible_authority", json_string(iv.responsible_authority));
    json_object_set_new(ev, "force", json_string(iv.force));
    if (publish(db, EV_RETURN_DECLINED, &iv, ev, st) != 0)
        goto out;
    rc = reply_after_change(call, db, iv.id, "RecordDeclined", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_declined(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                       void *ctx)
{
    const Homeward__Interviews__V1__RecordDeclinedRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    require_text(st, "reason", req->reason);
    run_change(call, ctx, req->request_id, req, do_declined, resp, st);
}

/* ---- RecordNoContact ---- */

static int do_no_contact(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                         hw_status *st)
{
    const Homeward__Interviews__V1__RecordNoContactRequest *req = reqv;
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    if (require_open(&iv, st) != 0)
        goto out;
    int64_t now = hw_now_ms();
    int64_t at = req->attempted_at_ms > 0 ? req->attempted_at_ms : now;
    if (!rules_interview_time_plausible(iv.located_at_ms, at, now)) {
        hw_status_violation(st, "attempted_at_ms", "must be after the child was located and not in the future");
        goto out;
    }
    if (store_add_contact_attempt(db, iv.id, at, req->method, req->note, hw_call_principal(call)->sub, st) != 0)
        goto out;
    rc = reply_after_change(call, db, iv.id, "RecordNoContact", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_no_contact(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                         void *ctx)
{
    const Homeward__Interviews__V1__RecordNoContactRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    const rules_value *v = rules_value_find(rules_value_list_find("interview_methods"), req->method);
    if (!req->method || !*req->method)
        hw_status_violation(st, "method", "required: a code of value list interview_methods");
    else if (!v)
        hw_status_violation(st, "method", "not a code of value list interview_methods");
    else if (v->needs_text && !forms_has_text(req->note))
        hw_status_violation(st, "note", "required when method is %s", req->method);
    run_change(call, ctx, req->request_id, req, do_no_contact, resp, st);
}

/* ---- RecordConsent (R-RET-3) ---- */

static int do_consent(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                      hw_status *st)
{
    const Homeward__Interviews__V1__RecordConsentRequest *req = reqv;
    const Homeward__Interviews__V1__Consent *c = req->consent;
    const hw_principal *p = hw_call_principal(call);
    store_interview iv;
    enum rules_conductor who;
    int rc = -1;
    if (load_for_conduct(call, db, req->interview_id, &iv, &who, st) != 0)
        goto out;
    int64_t now = hw_now_ms();
    int64_t told = c->told_at_ms > 0 ? c->told_at_ms : now;
    if (told > now + RULES_CLOCK_SKEW_MS) {
        hw_status_violation(st, "consent.told_at_ms", "must not be in the future");
        goto out;
    }
    if (store_add_consent(db, iv.id, c->shared_with, c->when_shared, c->why_shared, told, c->consent_given,
                          c->notes, p->sub, primary_role(p), st) != 0)
        goto out;
    rc = reply_after_change(call, db, iv.id, "RecordConsent", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_consent(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                      void *ctx)
{
    const Homeward__Interviews__V1__RecordConsentRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    if (!req->consent) {
        hw_status_violation(st, "consent", "required");
    } else {
        require_text(st, "consent.shared_with", req->consent->shared_with);
        require_text(st, "consent.when_shared", req->consent->when_shared);
        require_text(st, "consent.why_shared", req->consent->why_shared);
    }
    run_change(call, ctx, req->request_id, req, do_consent, resp, st);
}

/* ---- RecordSharingDecision (R-RET-3) ---- */

static int do_sharing(hw_app *app, hw_call *call, hw_db *db, const void *reqv, ProtobufCMessage **resp,
                      hw_status *st)
{
    const Homeward__Interviews__V1__RecordSharingDecisionRequest *req = reqv;
    const hw_principal *p = hw_call_principal(call);
    store_interview iv;
    int rc = -1;
    if (store_load(db, req->interview_id, true, &iv, st) != 0)
        return -1;
    rules_interview v = store_rules_view(&iv);
    if (!rules_may_record_sharing_decision(p, &v)) {
        hw_status_set(st, HW_PERMISSION_DENIED,
                      "only the interviewer, or a manager of the authority or force, may decide sharing is "
                      "critical to safeguarding");
        goto out;
    }
    if (store_add_sharing(db, iv.id, req->decision->critical_to_safeguarding_reason, req->decision->shared_with,
                          p->sub, primary_role(p), st) != 0)
        goto out;
    rc = reply_after_change(call, db, iv.id, "RecordSharingDecision", resp, st);
out:
    store_interview_clear(&iv);
    return rc;
}

static void h_sharing(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                      void *ctx)
{
    const Homeward__Interviews__V1__RecordSharingDecisionRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    if (!req->decision)
        hw_status_violation(st, "decision", "required");
    else
        require_text(st, "decision.critical_to_safeguarding_reason", req->decision->critical_to_safeguarding_reason);
    run_change(call, ctx, req->request_id, req, do_sharing, resp, st);
}

/* ---- GetInterview ---- */

static void h_get(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                  void *ctx)
{
    const Homeward__Interviews__V1__GetInterviewRequest *req = (const void *)reqm;
    require_uuid(st, "interview_id", req->interview_id);
    if (!hw_ok(st))
        return;
    hw_db *db = begin(ctx, call, st);
    if (!db)
        return;
    store_interview iv;
    sharing_state ss;
    memset(&ss, 0, sizeof ss);
    if (store_load(db, req->interview_id, false, &iv, st) != 0)
        goto out_rollback;
    if (load_sharing_state(db, iv.id, &ss, st) != 0)
        goto out_clear;
    enum rules_read access = access_for(call, &iv, &ss);
    if (access == RULES_READ_NONE) {
        hw_status_set(st, HW_PERMISSION_DENIED, "not an interview of your force, authority or home");
        goto out_clear;
    }
    pb_interview *m = interview_msg(call, db, &iv, &ss, access, true, st);
    if (!m)
        goto out_clear;
    if (hw_audit(db, call, access == RULES_READ_FULL ? "GetInterview" : "GetInterview(summary)", "interview",
                 iv.id, st) != 0)
        goto out_clear;
    if (hw_db_commit(db, st) == 0)
        *resp = &m->base;
    sharing_state_clear(&ss);
    store_interview_clear(&iv);
    hw_pg_release(db);
    return;

out_clear:
    sharing_state_clear(&ss);
    store_interview_clear(&iv);
out_rollback:
    hw_db_rollback(db);
    hw_pg_release(db);
}

/* ---- ListDue ---- */

static bool works_at_homes(const hw_principal *p)
{
    return p->n_homes > 0 && (hw_principal_has_role(p, HW_ROLE_CARE_STAFF) || hw_principal_has_role(p, HW_ROLE_SPOC));
}

static void h_list_due(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                       void *ctx)
{
    const Homeward__Interviews__V1__ListDueRequest *req = (const void *)reqm;
    const hw_principal *p = hw_call_principal(call);
    if (req->limit < 0 || req->limit > MAX_LIST)
        hw_status_violation(st, "limit", "between 0 and %d", MAX_LIST);
    if (!hw_ok(st))
        return;
    int limit = req->limit ? req->limit : DEFAULT_LIST;
    const char *kind = req->kind == HOMEWARD__INTERVIEWS__V1__INTERVIEW_KIND__INTERVIEW_KIND_PREVENTION ? "prevention"
                       : req->kind == HOMEWARD__INTERVIEWS__V1__INTERVIEW_KIND__INTERVIEW_KIND_RETURN  ? "return"
                                                                                                       : "";
    const char *by = "org", *key = p->org;
    char *homes = NULL;
    switch (req->scope) {
    case HOMEWARD__INTERVIEWS__V1__DUE_SCOPE__DUE_SCOPE_TEAM:
        /* Tokens carry no team: a home's staff and SPOCs work as a team per
         * home; everyone else's team is their organisation. */
        if (works_at_homes(p)) {
            const char *list[HW_MAX_HOMES];
            for (int i = 0; i < p->n_homes; i++)
                list[i] = p->homes[i];
            homes = store_text_array(list, (size_t)p->n_homes);
            by = "homes";
            key = homes;
        }
        break;
    case HOMEWARD__INTERVIEWS__V1__DUE_SCOPE__DUE_SCOPE_AUTHORITY:
        break;
    default:
        by = "assignee";
        key = p->sub;
        break;
    }

    hw_db *db = begin(ctx, call, st);
    if (!db) {
        free(homes);
        return;
    }
    hw_res *r = store_list_open(db, by, key, kind, limit, st);
    free(homes);
    if (!r)
        goto out_rollback;
    Homeward__Interviews__V1__ListDueResponse *out = hw_call_alloc(call, sizeof *out);
    homeward__interviews__v1__list_due_response__init(out);
    int n = hw_res_rows(r);
    out->interviews = hw_call_alloc(call, (size_t)n * sizeof(pb_interview *) + 1);
    for (int i = 0; i < n; i++) {
        store_interview iv;
        store_interview_from_row(r, i, &iv);
        rules_interview v = store_rules_view(&iv);
        /* Consent does not change whether a summary may be listed. */
        if (rules_read_access(p, &v, RULES_CONSENT_NOT_RECORDED, false) != RULES_READ_NONE) {
            pb_interview *m = interview_msg(call, db, &iv, NULL, RULES_READ_SUMMARY, false, st);
            if (m && hw_audit(db, call, "ListDue", "interview", iv.id, st) == 0)
                out->interviews[out->n_interviews++] = m;
        }
        store_interview_clear(&iv);
        if (!hw_ok(st))
            break;
    }
    hw_res_free(r);
    if (!hw_ok(st))
        goto out_rollback;
    if (out->n_interviews == 0 && hw_audit(db, call, "ListDue", "interview_list", by, st) != 0)
        goto out_rollback;
    if (hw_db_commit(db, st) == 0)
        *resp = &out->base;
    hw_pg_release(db);
    return;

out_rollback:
    hw_db_rollback(db);
    hw_pg_release(db);
}

/* ---- ListValueLists ---- */

static void h_value_lists(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                          void *ctx)
{
    const Homeward__Interviews__V1__ListValueListsRequest *req = (const void *)reqm;
    size_t n_all;
    const rules_value_list *all = rules_value_lists(&n_all);
    for (size_t i = 0; i < req->n_names; i++)
        if (!rules_value_list_find(req->names[i]))
            hw_status_violation(st, "names", "entry %zu is not a value list", i);
    if (!hw_ok(st))
        return;
    Homeward__Interviews__V1__ListValueListsResponse *out = hw_call_alloc(call, sizeof *out);
    homeward__interviews__v1__list_value_lists_response__init(out);
    out->lists = hw_call_alloc(call, n_all * sizeof(void *));
    for (size_t i = 0; i < n_all; i++) {
        const rules_value_list *l = &all[i];
        bool wanted = req->n_names == 0;
        for (size_t j = 0; j < req->n_names; j++)
            wanted = wanted || strcmp(req->names[j], l->name) == 0;
        if (!wanted)
            continue;
        Homeward__Interviews__V1__ValueList *vl = hw_call_alloc(call, sizeof *vl);
        homeward__interviews__v1__value_list__init(vl);
        /* Static strings: protobuf-c only reads them when packing. */
        vl->name = (char *)l->name;
        vl->question = (char *)l->question;
        vl->multiple = l->multiple;
        vl->values = hw_call_alloc(call, l->n_values * sizeof(void *));
        for (size_t k = 0; k < l->n_values; k++) {
            Homeward__Interviews__V1__ValueListEntry *e = hw_call_alloc(call, sizeof *e);
            homeward__interviews__v1__value_list_entry__init(e);
            e->code = (char *)l->values[k].code;
            e->label = (char *)l->values[k].label;
            e->needs_text = l->values[k].needs_text;
            vl->values[vl->n_values++] = e;
        }
        out->lists[out->n_lists++] = vl;
    }
    *resp = &out->base;
}

/* ---- GetTimelinessReport (R-RET-2) ---- */

static void h_report(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp, hw_status *st,
                     void *ctx)
{
    const Homeward__Interviews__V1__GetTimelinessReportRequest *req = (const void *)reqm;
    const hw_principal *p = hw_call_principal(call);
    const char *authority = req->authority && *req->authority ? req->authority : p->org;
    if (req->from_ms <= 0)
        hw_status_violation(st, "from_ms", "required");
    if (req->to_ms <= req->from_ms)
        hw_status_violation(st, "to_ms", "must be after from_ms");
    if (!hw_ok(st))
        return;
    if (strcmp(authority, p->org) != 0) {
        hw_status_set(st, HW_PERMISSION_DENIED, "a report is for your own authority only");
        return;
    }
    hw_db *db = begin(ctx, call, st);
    if (!db)
        return;
    store_report rep;
    hw_res *r = NULL;
    if (store_timeliness(db, authority, req->from_ms, req->to_ms, hw_now_ms(), &rep, st) != 0)
        goto out_rollback;
    r = store_lateness_reasons(db, authority, req->from_ms, req->to_ms, st);
    if (!r)
        goto out_rollback;
    Homeward__Interviews__V1__TimelinessReport *out = hw_call_alloc(call, sizeof *out);
    homeward__interviews__v1__timeliness_report__init(out);
    out->authority = s(call, authority);
    out->from_ms = req->from_ms;
    out->to_ms = req->to_ms;
    out->located = rep.located;
    out->offered = rep.offered;
    out->accepted = rep.accepted;
    out->completed = rep.completed;
    out->completed_within_72h = rep.completed_within_72h;
    out->completed_within_72h_percent = rep.completed ? 100.0 * rep.completed_within_72h / rep.completed : 0;
    out->within_72h_percent_of_located = rep.located ? 100.0 * rep.completed_within_72h / rep.located : 0;
    out->declined = rep.declined;
    out->overdue_open = rep.overdue_open;
    out->no_contact_attempts = rep.no_contact_attempts;
    int n = hw_res_rows(r);
    const rules_value_list *comments = rules_value_list_find("time_frame_comments");
    out->lateness_reasons = hw_call_alloc(call, (size_t)(n + 1) * sizeof(void *));
    for (int i = 0; i < n; i++) {
        Homeward__Interviews__V1__LatenessReason *lr = hw_call_alloc(call, sizeof *lr);
        homeward__interviews__v1__lateness_reason__init(lr);
        lr->code = s(call, hw_res_get(r, i, 0));
        const rules_value *v = rules_value_find(comments, lr->code);
        lr->label = s(call, v ? v->label : lr->code);
        lr->count = (int32_t)hw_res_int(r, i, 1);
        out->lateness_reasons[out->n_lateness_reasons++] = lr;
    }
    if (rep.late_note_only > 0) {
        Homeward__Interviews__V1__LatenessReason *lr = hw_call_alloc(call, sizeof *lr);
        homeward__interviews__v1__lateness_reason__init(lr);
        lr->code = "NOTE_ONLY";
        lr->label = "Reason given as a note only";
        lr->count = rep.late_note_only;
        out->lateness_reasons[out->n_lateness_reasons++] = lr;
    }
    hw_res_free(r);
    r = NULL;
    if (hw_audit(db, call, "GetTimelinessReport", "timeliness_report", authority, st) != 0)
        goto out_rollback;
    if (hw_db_commit(db, st) == 0)
        *resp = &out->base;
    hw_pg_release(db);
    return;

out_rollback:
    hw_res_free(r);
    hw_db_rollback(db);
    hw_pg_release(db);
}

/* ---- the method table ---- */

static const char *const roles_list_due[] = {HW_POLICE_ROLES, HW_LA_ROLES, HW_ROLE_CARE_STAFF, NULL};
static const char *const roles_conduct[] = {HW_ROLE_OFFICER, HW_ROLE_LPT_SERGEANT, HW_ROLE_CONTROL_ROOM_MANAGER,
                                            HW_ROLE_CARE_STAFF, HW_ROLE_RETURN_WORKER, HW_ROLE_SOCIAL_WORKER,
                                            NULL};
static const char *const roles_prevention[] = {HW_ROLE_OFFICER, HW_ROLE_LPT_SERGEANT,
                                               HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_CARE_STAFF, NULL};
static const char *const roles_return[] = {HW_ROLE_RETURN_WORKER, HW_ROLE_SOCIAL_WORKER, NULL};
static const char *const roles_sharing[] = {HW_ROLE_OFFICER,         HW_ROLE_LPT_SERGEANT, HW_ROLE_CONTROL_ROOM_MANAGER,
                                            HW_ROLE_CARE_STAFF,      HW_ROLE_RETURN_WORKER, HW_ROLE_SOCIAL_WORKER,
                                            HW_ROLE_TEAM_MANAGER,    HW_ROLE_CSC_LEAD,     NULL};
static const char *const roles_report[] = {HW_LA_ROLES, NULL};

static const hw_method methods[] = {
    {"ListDue", h_list_due, NULL, roles_list_due},
    {"StartInterview", h_start, NULL, roles_conduct},
    {"SaveDraft", h_save_draft, NULL, roles_conduct},
    {"SubmitPreventionInterview", h_submit_prevention, NULL, roles_prevention},
    {"SubmitReturnInterview", h_submit_return, NULL, roles_return},
    {"RecordDeclined", h_declined, NULL, roles_return},
    {"RecordNoContact", h_no_contact, NULL, roles_conduct},
    {"RecordConsent", h_consent, NULL, roles_conduct},
    {"RecordSharingDecision", h_sharing, NULL, roles_sharing},
    {"GetInterview", h_get, NULL, NULL},
    {"ListValueLists", h_value_lists, NULL, NULL},
    {"GetTimelinessReport", h_report, NULL, roles_report},
};

const hw_service_def interviews_service = {
    &homeward__interviews__v1__interviews__descriptor,
    methods,
    sizeof methods / sizeof methods[0],
    NULL,
};

/* ---- the located event (R-RET-1, R-RET-2) ---- */

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int interviews_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source, const char *type,
                        const char *subject, int64_t occurred_at_ms, const char *payload_json, hw_status *st)
{
    if (strcmp(type, "episodes.located") != 0)
        return 0;
    json_error_t jerr;
    json_t *o = json_loads(payload_json, 0, &jerr);
    int rc = -1;
    if (!json_is_object(o)) {
        hw_status_set(st, HW_INVALID_ARGUMENT, "episodes.located: payload is not a JSON object");
        goto out;
    }
    store_located l = {
        .episode_id = jstr(o, "episode_id"),
        .child_id = jstr(o, "child_id"),
        .home_id = jstr(o, "home_id"),
        .responsible_authority = jstr(o, "responsible_authority"),
        .force = jstr(o, "force"),
        .assigned_officer = jstr(o, "assigned_officer"),
        .profile = jstr(o, "profile"),
        .placement_type = jstr(o, "placement_type"),
    };
    const char *located_at = jstr(o, "located_at");
    if (!l.episode_id || !*l.episode_id || !l.child_id || !*l.child_id || !located_at ||
        hw_parse_rfc3339(located_at, &l.located_at_ms) != 0) {
        /* The sender retries; its log and ours say which event is malformed. */
        hw_error("event %s (episodes.located) lacks episode_id, child_id or a valid located_at", event_id);
        hw_status_set(st, HW_INVALID_ARGUMENT, "episodes.located: episode_id, child_id and located_at required");
        goto out;
    }
    if (strlen(l.episode_id) >= STORE_ID_MAX || strlen(l.child_id) >= STORE_ID_MAX) {
        hw_status_set(st, HW_INVALID_ARGUMENT, "episodes.located: id too long");
        goto out;
    }
    /* An unknown profile takes STAFFS, the stricter one for R-RET-1 (care
     * staff may not complete the prevention interview). */
    if (!l.profile || (strcmp(l.profile, "LLR") != 0 && strcmp(l.profile, "STAFFS") != 0)) {
        hw_warn("event %s: profile missing or unknown, STAFFS assumed", event_id);
        l.profile = "STAFFS";
    }
    if (!l.responsible_authority || !l.force)
        hw_warn("event %s: responsible_authority or force missing: only the other side can act on it", event_id);

    int64_t due = rules_return_interview_due_ms(l.located_at_ms);
    char prevention_id[37], return_id[37];
    if (store_create_expected(db, &l, due, prevention_id, return_id, st) != 0)
        goto out;
    if (*return_id) {
        char subj[64], payload[128];
        deadline_subject(return_id, subj);
        snprintf(payload, sizeof payload, "{\"interview_id\":\"%s\"}", return_id);
        if (hw_schedule(hw_app_scheduler(app), db, INTERVIEWS_DEADLINE_RETURN_DUE, subj, due, payload, st) != 0)
            goto out;
    }
    hw_info("episode located: prevention interview %s, return interview %s due", prevention_id[0] ? prevention_id : "(exists)",
            return_id[0] ? return_id : "(exists)");
    rc = 0;
out:
    json_decref(o);
    return rc;
}

/* ---- the 72-hour deadline ---- */

static int on_return_due(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                         const char *payload_json, void *arg, hw_status *st)
{
    const char *id = strncmp(subject, "interview:", 10) == 0 ? subject + 10 : "";
    if (!rules_is_uuid(id)) {
        hw_warn("deadline %s for an unknown subject: dropped", kind);
        return 0;
    }
    store_interview iv;
    int open = store_mark_overdue(db, id, &iv, st);
    if (open < 0)
        return -1;
    if (open == 0)
        return 0; /* completed or declined in the meantime */
    char due[32];
    hw_format_rfc3339(due_at_ms, due);
    json_t *ev = json_object();
    json_object_set_new(ev, "responsible_authority", json_string(iv.responsible_authority));
    json_object_set_new(ev, "force", json_string(iv.force));
    json_object_set_new(ev, "due_at", json_string(due));
    int rc = publish(db, EV_RETURN_OVERDUE, &iv, ev, st);
    hw_info("return interview %s overdue", iv.id);
    store_interview_clear(&iv);
    return rc;
}

int interviews_init(hw_app *app)
{
    hw_scheduler_on(hw_app_scheduler(app), INTERVIEWS_DEADLINE_RETURN_DUE, on_return_due, app);
    return 0;
}
