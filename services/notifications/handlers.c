/* handlers.c -- the Notifications gRPC methods: stream, inbox, letters, alerts, outbox. */
#include "handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "homeward/notifications/v1/notifications.pb-c.h"
#include "hw_audit.h"
#include "hw_idem.h"
#include "hw_log.h"
#include "hw_roles.h"
#include "hw_time.h"
#include "letters.h"
#include "message.h"
#include "people.h"
#include "store.h"

#define MAX_ADDRESSES (1 + HW_MAX_ROLES + HW_MAX_HOMES)

typedef Homeward__Notifications__V1__Notification pb_note;
typedef Homeward__Notifications__V1__Letter pb_letter;

/* Letters and the external outbox are the authority's business (and the
 * police missing person champion's, who is copied on level-3 letters). */
static const char *const r_letters[] = {HW_LA_ROLES, HW_ROLE_MPC, NULL};
static const char *const r_alert[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                      HW_ROLE_CSC_LEAD, HW_ROLE_CSE_SOCIAL_WORKER, HW_ROLE_MPC,
                                      NULL};
static const char *const r_outbox[] = {HW_ROLE_CSC_LEAD, HW_ROLE_TEAM_MANAGER, HW_ROLE_MPC,
                                       HW_ROLE_POD_COORDINATOR, HW_ROLE_SOCIAL_WORKER, NULL};

static bool known(const char *s) { return s && *s; }

static nt_service *svc_of(void *ctx) { return hw_app_state((hw_app *)ctx); }

static hw_db *lease(nt_service *svc, hw_call *call, hw_status *st)
{
    int64_t left = hw_call_ms_left(call);
    if (left <= 0) {
        hw_status_set(st, HW_DEADLINE_EXCEEDED, "deadline passed");
        return NULL;
    }
    return hw_pg_acquire(hw_app_pool(svc->app), left < 5000 ? left : 5000, st);
}

static int page(int32_t size, const char *token, int *limit, int *offset, hw_status *st)
{
    *limit = size > 0 ? (size > 200 ? 200 : size) : 50;
    *offset = 0;
    if (known(token)) {
        char *end = NULL;
        long v = strtol(token, &end, 10);
        if (*end || v < 0 || v > 1000000) {
            hw_status_violation(st, "page_token", "not a token this service gave");
            return -1;
        }
        *offset = (int)v;
    }
    return 0;
}

static char *next_token(hw_call *call, int rows, int limit, int offset)
{
    return rows == limit ? hw_call_printf(call, "%d", offset + limit) : hw_call_strdup(call, "");
}

/* ------------------------------------------------------------ Subscribe */

static void h_subscribe(hw_stream *stream, const ProtobufCMessage *rm, hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__SubscribeRequest *in = (const void *)rm;
    if (in->after_id < 0) {
        hw_status_violation(st, "after_id", "must be 0 or a notification id");
        return;
    }
    nt_hub_subscribe(svc_of(ctx)->hub, stream, in->after_id, st);
}

/* ------------------------------------------------------------ inbox */

/* A copy of the notes' messages in the call arena (they outlive nt_note). */
static pb_note **notes_to_pb(hw_call *call, const nt_note *notes, int n)
{
    pb_note **out = hw_call_alloc(call, (size_t)(n > 0 ? n : 1) * sizeof *out);
    for (int i = 0; i < n; i++) {
        nt_message m;
        nt_message_fill(&m, &notes[i]);
        pb_note *p = hw_call_alloc(call, sizeof *p);
        *p = m.msg;
        p->kind = hw_call_strdup(call, notes[i].kind);
        p->rule = hw_call_strdup(call, notes[i].rule);
        p->title = hw_call_strdup(call, notes[i].title);
        p->body = hw_call_strdup(call, notes[i].body);
        p->subject = hw_call_strdup(call, notes[i].subject);
        p->episode_id = hw_call_strdup(call, notes[i].episode_id);
        p->child_id = hw_call_strdup(call, notes[i].child_id);
        p->letter_id = hw_call_strdup(call, notes[i].letter_id);
        p->event_id = hw_call_strdup(call, notes[i].event_id);
        p->created_at = hw_call_strdup(call, notes[i].created_at);
        p->acknowledged_at = hw_call_strdup(call, notes[i].acknowledged_at);
        p->n_recipients = (size_t)notes[i].n_recipients;
        p->recipients = hw_call_alloc(call, (p->n_recipients ? p->n_recipients : 1) *
                                                sizeof *p->recipients);
        for (size_t j = 0; j < p->n_recipients; j++) {
            Homeward__Notifications__V1__Recipient *r = hw_call_alloc(call, sizeof *r);
            homeward__notifications__v1__recipient__init(r);
            r->address = hw_call_strdup(call, notes[i].addresses[j]);
            r->reason = hw_call_strdup(call, notes[i].reasons[j]);
            p->recipients[j] = r;
        }
        nt_message_clear(&m);
        out[i] = p;
    }
    return out;
}

static void h_list_inbox(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                         hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__ListInboxRequest *in = (const void *)rm;
    nt_service *svc = svc_of(ctx);
    const hw_principal *who = hw_call_principal(call);
    int limit, offset;
    if (page(in->page_size, in->page_token, &limit, &offset, st) != 0)
        return;
    char(*addrs)[NT_ADDRESS_MAX] = hw_call_alloc(call, MAX_ADDRESSES * sizeof *addrs);
    int n_addrs = nt_principal_addresses(who, addrs, MAX_ADDRESSES);

    hw_db *db = lease(svc, call, st);
    if (!db)
        return;
    nt_note *notes = NULL;
    int n = nt_store_inbox(db, who->sub, addrs, n_addrs, in->unread_only, limit, offset, &notes, st);
    int unread = n < 0 ? -1 : nt_store_unread_count(db, who->sub, addrs, n_addrs, st);
    hw_pg_release(db);
    if (n < 0 || unread < 0) {
        nt_notes_free(notes, n < 0 ? 0 : n);
        return;
    }
    Homeward__Notifications__V1__ListInboxResponse *r = hw_call_alloc(call, sizeof *r);
    homeward__notifications__v1__list_inbox_response__init(r);
    r->notifications = notes_to_pb(call, notes, n);
    r->n_notifications = (size_t)n;
    r->unread_count = unread;
    r->next_page_token = next_token(call, n, limit, offset);
    nt_notes_free(notes, n);
    *out = &r->base;
}

static void h_acknowledge(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                          hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__AcknowledgeRequest *in = (const void *)rm;
    nt_service *svc = svc_of(ctx);
    const hw_principal *who = hw_call_principal(call);
    if (!known(in->request_id))
        hw_status_violation(st, "request_id", "required");
    if (in->n_ids == 0 && in->up_to_id <= 0)
        hw_status_violation(st, "ids", "give ids or up_to_id");
    if (!hw_ok(st))
        return;
    hw_call_set_request_id(call, in->request_id);
    char(*addrs)[NT_ADDRESS_MAX] = hw_call_alloc(call, MAX_ADDRESSES * sizeof *addrs);
    int n_addrs = nt_principal_addresses(who, addrs, MAX_ADDRESSES);

    hw_db *db = lease(svc, call, st);
    if (!db)
        return;
    if (hw_db_begin(db, st) != 0)
        goto out_release;
    ProtobufCMessage *first = NULL;
    int idem = hw_idem_begin(db, call, in->request_id,
                             &homeward__notifications__v1__acknowledge_response__descriptor,
                             &first, st);
    if (idem < 0)
        goto out_rollback;
    if (idem == 1) {
        *out = first;
        goto out_rollback;
    }
    int n = nt_store_acknowledge(db, who->sub, addrs, n_addrs, in->ids, (int)in->n_ids,
                                 in->up_to_id, st);
    if (n < 0)
        goto out_rollback;
    int unread = nt_store_unread_count(db, who->sub, addrs, n_addrs, st);
    if (unread < 0)
        goto out_rollback;
    Homeward__Notifications__V1__AcknowledgeResponse *r = hw_call_alloc(call, sizeof *r);
    homeward__notifications__v1__acknowledge_response__init(r);
    r->acknowledged = n;
    r->unread_count = unread;
    if (hw_idem_finish(db, call, in->request_id, &r->base, st) != 0)
        goto out_rollback;
    if (hw_db_commit(db, st) != 0)
        goto out_release;
    *out = &r->base;
    goto out_release;

out_rollback:
    hw_db_rollback(db);
out_release:
    hw_pg_release(db);
}

/* ------------------------------------------------------------ letters */

static Homeward__Notifications__V1__LetterKind kind_to_pb(const char *kind)
{
    if (strcmp(kind, "other_authority_missing") == 0)
        return HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_OTHER_AUTHORITY_MISSING;
    if (strcmp(kind, "level3_escalation") == 0)
        return HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_LEVEL3_ESCALATION;
    if (strcmp(kind, "missing_alert") == 0)
        return HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_MISSING_ALERT;
    return HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_UNSPECIFIED;
}

static const char *kind_from_pb(Homeward__Notifications__V1__LetterKind k)
{
    switch (k) {
    case HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_OTHER_AUTHORITY_MISSING:
        return "other_authority_missing";
    case HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_LEVEL3_ESCALATION:
        return "level3_escalation";
    case HOMEWARD__NOTIFICATIONS__V1__LETTER_KIND__LETTER_KIND_MISSING_ALERT:
        return "missing_alert";
    default:
        return NULL;
    }
}

static pb_letter *letter_to_pb(hw_call *call, const nt_letter *l)
{
    pb_letter *p = hw_call_alloc(call, sizeof *p);
    homeward__notifications__v1__letter__init(p);
    p->id = hw_call_strdup(call, l->id);
    p->kind = kind_to_pb(l->kind);
    p->rule = hw_call_strdup(call, l->rule);
    p->episode_id = hw_call_strdup(call, l->episode_id);
    p->child_id = hw_call_strdup(call, l->child_id);
    p->from_authority = hw_call_strdup(call, l->from_authority);
    p->to_authority = hw_call_strdup(call, l->to_authority);
    p->addressee = hw_call_strdup(call, l->addressee);
    p->copy_to = hw_call_strdup(call, l->copy_to);
    p->subject_line = hw_call_strdup(call, l->subject_line);
    p->text = hw_call_strdup(call, l->body);
    p->created_at = hw_call_strdup(call, l->created_at);
    p->event_id = hw_call_strdup(call, l->event_id);
    p->n_external_message_ids = (size_t)l->n_external;
    p->external_message_ids = hw_call_alloc(call, (size_t)(l->n_external ? l->n_external : 1) *
                                                      sizeof(char *));
    for (int i = 0; i < l->n_external; i++)
        p->external_message_ids[i] = hw_call_strdup(call, l->external_ids[i]);
    return p;
}

static bool same(const char *a, const char *b) { return known(a) && known(b) && strcmp(a, b) == 0; }

static void h_get_letter(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                         hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__GetLetterRequest *in = (const void *)rm;
    nt_service *svc = svc_of(ctx);
    const hw_principal *who = hw_call_principal(call);
    if (!known(in->letter_id) || strlen(in->letter_id) != 36)
        hw_status_violation(st, "letter_id", "required: a letter id");
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st))
        return;
    hw_db *db = lease(svc, call, st);
    if (!db)
        return;
    nt_letter l;
    memset(&l, 0, sizeof l);
    if (hw_db_begin(db, st) != 0 || nt_store_get_letter(db, in->letter_id, &l, st) != 0)
        goto out_rollback;
    /* Only the authorities written from and to, and the copied force. */
    if (!same(who->org, l.from_authority) && !same(who->org, l.to_authority) &&
        !same(who->org, l.copy_org)) {
        hw_status_set(st, HW_PERMISSION_DENIED, "this letter is not your organisation's");
        goto out_rollback;
    }
    /* The PDF is laid out on read from the stored text rather than stored
     * at creation: what was sent (the e-mail in the outbox) is that text,
     * kept unchanged in the letters table, and the layout is deterministic
     * (no compression, no creation date), so the same letter always gives
     * the same PDF without a second copy of a child's details in the
     * database. Laid out before the audit so a failure audits no read. */
    size_t pdf_len = 0;
    unsigned char *pdf = nt_letter_pdf(l.subject_line, l.body, &pdf_len);
    if (!pdf) {
        hw_status_set(st, HW_INTERNAL, "the letter could not be laid out as a PDF");
        goto out_rollback;
    }
    if (hw_audit(db, call, NULL, "letter", l.id, st) != 0 || hw_db_commit(db, st) != 0)
        goto out_free_pdf;
    pb_letter *p = letter_to_pb(call, &l);
    p->pdf.data = hw_call_alloc(call, pdf_len);
    memcpy(p->pdf.data, pdf, pdf_len);
    p->pdf.len = pdf_len;
    *out = &p->base;
    free(pdf);
    goto out_release;

out_free_pdf:
    free(pdf);
out_rollback:
    hw_db_rollback(db);
out_release:
    nt_letter_free(&l);
    hw_pg_release(db);
}

static void h_list_letters(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                           hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__ListLettersRequest *in = (const void *)rm;
    nt_service *svc = svc_of(ctx);
    const hw_principal *who = hw_call_principal(call);
    int limit, offset;
    page(in->page_size, in->page_token, &limit, &offset, st);
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st))
        return;
    hw_db *db = lease(svc, call, st);
    if (!db)
        return;
    nt_letter *letters = NULL;
    int n = -1;
    if (hw_db_begin(db, st) != 0)
        goto out_release;
    n = nt_store_list_letters(db, who->org, in->child_id, in->episode_id, kind_from_pb(in->kind),
                              limit, offset, &letters, st);
    if (n < 0 || hw_audit(db, call, NULL, "letters", known(in->child_id) ? in->child_id : who->org,
                          st) != 0 ||
        hw_db_commit(db, st) != 0) {
        hw_db_rollback(db);
        goto out_release;
    }
    Homeward__Notifications__V1__ListLettersResponse *r = hw_call_alloc(call, sizeof *r);
    homeward__notifications__v1__list_letters_response__init(r);
    r->letters = hw_call_alloc(call, (size_t)(n ? n : 1) * sizeof *r->letters);
    for (int i = 0; i < n; i++)
        r->letters[i] = letter_to_pb(call, &letters[i]);
    r->n_letters = (size_t)n;
    r->next_page_token = next_token(call, n, limit, offset);
    *out = &r->base;
out_release:
    nt_letters_free(letters, n > 0 ? n : 0);
    hw_pg_release(db);
}

/* ------------------------------------------------------------ R-NOT-5 */

static const char *ground_name(Homeward__Notifications__V1__AlertGround g)
{
    switch (g) {
    case HOMEWARD__NOTIFICATIONS__V1__ALERT_GROUND__ALERT_GROUND_HIGH_RISK_CSE: return "high_risk_cse";
    case HOMEWARD__NOTIFICATIONS__V1__ALERT_GROUND__ALERT_GROUND_HIGH_RISK_TRAFFICKING:
        return "high_risk_trafficking";
    case HOMEWARD__NOTIFICATIONS__V1__ALERT_GROUND__ALERT_GROUND_UNACCOMPANIED_ASYLUM_SEEKER:
        return "unaccompanied_asylum_seeker";
    default: return NULL;
    }
}

static const char *status_name(Homeward__Episodes__V1__EpisodeStatus s)
{
    switch (s) {
    case HOMEWARD__EPISODES__V1__EPISODE_STATUS__EPISODE_STATUS_REPORTED: return "reported";
    case HOMEWARD__EPISODES__V1__EPISODE_STATUS__EPISODE_STATUS_MISSING: return "missing";
    default: return "not_missing";
    }
}

static int alert_externals(hw_db *db, const Homeward__Notifications__V1__RaiseMissingAlertRequest *in,
                           const nt_facts *f, const char *letter_id, const char *subject,
                           const char *body, int64_t now, hw_status *st)
{
    /* STAFFS 21: the request goes to the authority's own missing-children
     * mailbox, which sends it nationally or to the authorities listed. */
    size_t n = in->scope == HOMEWARD__NOTIFICATIONS__V1__ALERT_SCOPE__ALERT_SCOPE_NATIONAL
                   ? 1 : in->n_authorities;
    for (size_t i = 0; i < n; i++) {
        const char *to = in->scope == HOMEWARD__NOTIFICATIONS__V1__ALERT_SCOPE__ALERT_SCOPE_NATIONAL
                             ? f->responsible_authority : in->authorities[i];
        char mailbox[256];
        int found = nt_store_mailbox(db, to, "missing_children", mailbox, st);
        if (found < 0)
            return -1;
        nt_new_external e = {
            .channel = "email", .to_name = "Missing children mailbox",
            .to_address = found == 0 ? mailbox : "", .to_authority = to,
            .from_authority = f->responsible_authority, .reason = "missing_alert",
            .rule = "R-NOT-5", .subject_line = subject, .body = body, .letter_id = letter_id,
            .episode_id = f->episode_id, .created_at_ms = now,
            .last_error = found == 0 ? NULL : "no mailbox on file for this authority",
        };
        if (nt_store_add_external(db, &e, st) != 0)
            return -1;
    }
    return 0;
}

static void h_raise_alert(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                          hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__RaiseMissingAlertRequest *in = (const void *)rm;
    nt_service *svc = svc_of(ctx);
    const hw_principal *who = hw_call_principal(call);
    const char *ground = ground_name(in->ground);
    bool national = in->scope == HOMEWARD__NOTIFICATIONS__V1__ALERT_SCOPE__ALERT_SCOPE_NATIONAL;
    bool listed = in->scope == HOMEWARD__NOTIFICATIONS__V1__ALERT_SCOPE__ALERT_SCOPE_AUTHORITIES;

    if (!known(in->request_id))
        hw_status_violation(st, "request_id", "required");
    if (!known(in->episode_id) || strlen(in->episode_id) != 36)
        hw_status_violation(st, "episode_id", "required: an episode id");
    if (!ground)
        hw_status_violation(st, "ground",
                            "required: high-risk CSE, high-risk trafficking or unaccompanied asylum seeker");
    if (!national && !listed)
        hw_status_violation(st, "scope", "required: national or listed authorities");
    if (listed && in->n_authorities == 0)
        hw_status_violation(st, "authorities", "required for alerts to listed authorities");
    if (!known(in->rationale))
        hw_status_violation(st, "rationale", "required: why an alert is needed");
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st))
        return;
    hw_call_set_request_id(call, in->request_id);

    /* The episode and child, from their owner. */
    nt_people people = {0};
    if (nt_people_fetch(svc, NT_FETCH_EPISODE | NT_FETCH_CHILD | NT_FETCH_HOME, NULL,
                        in->episode_id, NULL, "missing alert (R-NOT-5)", &people, st) != 0)
        return;
    const Homeward__Episodes__V1__Episode *e = people.episode ? people.episode->episode : NULL;
    if (!e) {
        nt_people_free(&people);
        hw_status_set(st, HW_NOT_FOUND, "no such episode");
        return;
    }
    nt_facts f;
    memset(&f, 0, sizeof f);
    f.episode_id = e->id;
    nt_people_complete(&people, &f);
    /* R-SEC-1: the child's authority (or the placing one) or its force. */
    if (!same(who->org, e->responsible_authority) && !same(who->org, e->placing_authority) &&
        !same(who->org, e->force)) {
        nt_people_free(&people);
        hw_status_set(st, HW_PERMISSION_DENIED, "this child is not your organisation's");
        return;
    }
    int64_t now = hw_now_ms(), since = 0;
    const char *since_text = known(e->missing_since) ? e->missing_since : e->reported_at;
    if (!known(since_text) || hw_parse_rfc3339(since_text, &since) != 0)
        since = 0;
    int days = 0;
    const char *field = NULL, *why = NULL;
    if (nt_missing_alert_allowed(status_name(e->status), e->risk_level, (int)in->ground, since,
                                 now, &days, &field, &why) != 0) {
        nt_people_free(&people);
        hw_status_set(st, HW_FAILED_PRECONDITION, "%s", why);
        return;
    }

    hw_db *db = lease(svc, call, st);
    if (!db) {
        nt_people_free(&people);
        return;
    }
    char *subject = NULL, *body = NULL;
    if (hw_db_begin(db, st) != 0)
        goto out_release;
    ProtobufCMessage *first = NULL;
    int idem = hw_idem_begin(db, call, in->request_id,
                             &homeward__notifications__v1__missing_alert__descriptor, &first, st);
    if (idem < 0)
        goto out_rollback;
    if (idem == 1) {
        *out = first;
        goto out_rollback;
    }
    if (nt_store_lock_writers(db, st) != 0)
        goto out_rollback;

    char scope_text[512];
    if (national) {
        snprintf(scope_text, sizeof scope_text, "All local authorities (national alert)");
    } else {
        size_t off = (size_t)snprintf(scope_text, sizeof scope_text, "Missing children leads:");
        for (size_t i = 0; i < in->n_authorities && off < sizeof scope_text; i++)
            off += (size_t)snprintf(scope_text + off, sizeof scope_text - off, "%s %s",
                                    i ? "," : "", in->authorities[i]);
    }
    nt_letter_facts lf;
    char today[11], dob[16], name[300];
    nt_letter_facts_from(&people, &f, now, &lf, today, dob, name);
    lf.host_authority = known(f.responsible_authority) ? f.responsible_authority : f.host_authority;
    lf.ground = ground;
    lf.scope = scope_text;
    lf.rationale = in->rationale;
    lf.raised_by = who->name[0] ? who->name : who->sub;
    lf.days_missing = days;
    body = nt_letter_render(NT_LETTER_MISSING_ALERT, &lf, &subject);
    char letter_id[40];
    nt_new_letter nl = {
        .kind = "missing_alert", .rule = "R-NOT-5", .episode_id = e->id, .child_id = e->child_id,
        .from_authority = f.responsible_authority, .to_authority = national ? "national" : in->authorities[0],
        .copy_org = e->force, .addressee = nt_letter_addressee(NT_LETTER_MISSING_ALERT),
        .copy_to = "", .subject_line = subject, .body = body, .created_at_ms = now,
    };
    if (nt_store_add_letter(db, &nl, letter_id, st) < 0)
        goto out_rollback;
    if (alert_externals(db, in, &f, letter_id, subject, body, now, st) != 0)
        goto out_rollback;
    char alert_id[40];
    nt_new_alert na = {
        .episode_id = e->id, .child_id = e->child_id, .ground = ground,
        .scope = national ? "national" : "authorities",
        .authorities = (const char *const *)in->authorities, .n_authorities = (int)in->n_authorities,
        .rationale = in->rationale, .days_missing = days, .raised_by = who->sub,
        .raised_org = who->org, .letter_id = letter_id, .raised_at_ms = now,
    };
    if (nt_store_add_alert(db, &na, alert_id, st) != 0)
        goto out_rollback;
    /* Those who own the case hear that an alert went out. */
    nt_recipients r;
    memset(&r, 0, sizeof r);
    char a[NT_ADDRESS_MAX];
    if (known(f.social_worker)) {
        nt_user_address(a, f.social_worker);
        nt_add(&r, a, "social_worker");
    }
    if (known(f.responsible_authority)) {
        nt_role_address(a, HW_ROLE_CSC_LEAD, f.responsible_authority);
        nt_add(&r, a, "csc_lead");
    }
    if (known(e->force)) {
        nt_role_address(a, HW_ROLE_MPC, e->force);
        nt_add(&r, a, "missing_person_coordinator");
    }
    char subj[64], event[64];
    snprintf(subj, sizeof subj, "episode:%s", e->id);
    snprintf(event, sizeof event, "missing_alert:%s", alert_id);
    nt_new_note note = {.event_id = event, .kind = "missing_alert_raised", .rule = "R-NOT-5",
                        .urgent = true, .title = "A missing child alert has been raised",
                        .body = scope_text, .subject = subj, .episode_id = e->id,
                        .child_id = e->child_id, .letter_id = letter_id, .created_at_ms = now};
    if (r.n > 0 && nt_store_add_note(db, &note, &r, st) < 0)
        goto out_rollback;
    if (hw_audit(db, call, NULL, "episode", e->id, st) != 0)
        goto out_rollback;

    Homeward__Notifications__V1__MissingAlert *m = hw_call_alloc(call, sizeof *m);
    homeward__notifications__v1__missing_alert__init(m);
    m->id = hw_call_strdup(call, alert_id);
    m->episode_id = hw_call_strdup(call, e->id);
    m->child_id = hw_call_strdup(call, e->child_id);
    m->ground = in->ground;
    m->scope = in->scope;
    m->n_authorities = in->n_authorities;
    m->authorities = hw_call_alloc(call, (in->n_authorities ? in->n_authorities : 1) * sizeof(char *));
    for (size_t i = 0; i < in->n_authorities; i++)
        m->authorities[i] = hw_call_strdup(call, in->authorities[i]);
    m->rationale = hw_call_strdup(call, in->rationale);
    m->days_missing = days;
    m->raised_by = hw_call_strdup(call, who->sub);
    char at[32];
    hw_format_rfc3339(now, at);
    m->raised_at = hw_call_strdup(call, at);
    m->letter_id = hw_call_strdup(call, letter_id);
    if (hw_idem_finish(db, call, in->request_id, &m->base, st) != 0)
        goto out_rollback;
    hw_db_after_commit(db, nt_hub_kick, svc->hub, false);
    if (hw_db_commit(db, st) != 0)
        goto out_release;
    hw_info("missing alert %s raised for episode %s (R-NOT-5)", alert_id, e->id);
    *out = &m->base;
    goto out_release;

out_rollback:
    hw_db_rollback(db);
out_release:
    free(subject);
    free(body);
    hw_pg_release(db);
    nt_people_free(&people);
}

/* ------------------------------------------------------------ external outbox */

static void h_list_external(hw_call *call, const ProtobufCMessage *rm, ProtobufCMessage **out,
                            hw_status *st, void *ctx)
{
    const Homeward__Notifications__V1__ListExternalMessagesRequest *in = (const void *)rm;
    nt_service *svc = svc_of(ctx);
    const hw_principal *who = hw_call_principal(call);
    int limit, offset;
    page(in->page_size, in->page_token, &limit, &offset, st);
    if (known(in->status) && strcmp(in->status, "pending") != 0 &&
        strcmp(in->status, "sent") != 0 && strcmp(in->status, "failed") != 0)
        hw_status_violation(st, "status", "one of pending, sent, failed");
    hw_audit_require_purpose(call, st);
    if (!hw_ok(st))
        return;
    hw_db *db = lease(svc, call, st);
    if (!db)
        return;
    nt_external *rows = NULL;
    int n = -1;
    if (hw_db_begin(db, st) != 0)
        goto out_release;
    n = nt_store_list_external(db, who->org, in->status, limit, offset, &rows, st);
    if (n < 0 || hw_audit(db, call, NULL, "external_messages", who->org, st) != 0 ||
        hw_db_commit(db, st) != 0) {
        hw_db_rollback(db);
        goto out_release;
    }
    Homeward__Notifications__V1__ListExternalMessagesResponse *r = hw_call_alloc(call, sizeof *r);
    homeward__notifications__v1__list_external_messages_response__init(r);
    r->messages = hw_call_alloc(call, (size_t)(n ? n : 1) * sizeof *r->messages);
    for (int i = 0; i < n; i++) {
        Homeward__Notifications__V1__ExternalMessage *m = hw_call_alloc(call, sizeof *m);
        homeward__notifications__v1__external_message__init(m);
        m->id = hw_call_strdup(call, rows[i].id);
        m->channel = hw_call_strdup(call, rows[i].channel);
        m->to_name = hw_call_strdup(call, rows[i].to_name);
        m->to_address = hw_call_strdup(call, rows[i].to_address);
        m->to_authority = hw_call_strdup(call, rows[i].to_authority);
        m->reason = hw_call_strdup(call, rows[i].reason);
        m->rule = hw_call_strdup(call, rows[i].rule);
        m->subject_line = hw_call_strdup(call, rows[i].subject_line);
        m->status = hw_call_strdup(call, rows[i].status);
        m->attempts = rows[i].attempts;
        m->last_error = hw_call_strdup(call, rows[i].last_error);
        m->created_at = hw_call_strdup(call, rows[i].created_at);
        m->sent_at = hw_call_strdup(call, rows[i].sent_at);
        m->letter_id = hw_call_strdup(call, rows[i].letter_id);
        m->notification_id = rows[i].notification_id;
        m->episode_id = hw_call_strdup(call, rows[i].episode_id);
        r->messages[i] = m;
    }
    r->n_messages = (size_t)n;
    r->next_page_token = next_token(call, n, limit, offset);
    *out = &r->base;
out_release:
    nt_externals_free(rows, n > 0 ? n : 0);
    hw_pg_release(db);
}

/* ------------------------------------------------------------ the table */

static const hw_method methods[] = {
    {"Subscribe", NULL, h_subscribe, NULL},
    {"ListInbox", h_list_inbox, NULL, NULL},
    {"Acknowledge", h_acknowledge, NULL, NULL},
    {"GetLetter", h_get_letter, NULL, r_letters},
    {"ListLetters", h_list_letters, NULL, r_letters},
    {"RaiseMissingAlert", h_raise_alert, NULL, r_alert},
    {"ListExternalMessages", h_list_external, NULL, r_outbox},
};

const hw_service_def nt_service_def = {
    &homeward__notifications__v1__notifications__descriptor, methods,
    sizeof methods / sizeof methods[0], NULL,
};
