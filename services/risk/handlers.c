/* handlers.c -- the Risk service's calls: assessments, disputes and the
 * protocol's instruments (see handlers.h for the shape of every handler). */
#include "handlers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "homeward/risk/v1/risk.pb-c.h"
#include "hw_audit.h"
#include "hw_idem.h"
#include "hw_log.h"
#include "hw_outbox.h"
#include "hw_roles.h"
#include "hw_time.h"
#include "rules.h"
#include "store.h"

#define M(x) Homeward__Risk__V1__##x
#define NEW(call, T, init) init_msg((call), sizeof(T), (void (*)(void *))(init))
#define DB_WAIT_MS 3000

/* ---------------------------------------------------------------- helpers */

static void *init_msg(hw_call *call, size_t size, void (*init)(void *))
{
    void *m = hw_call_alloc(call, size);
    init(m);
    return m;
}

static void *arena_alloc(void *data, size_t n) { return hw_call_alloc(data, n ? n : 1); }
static void arena_free(void *data, void *p) { (void)data; (void)p; }

/* Unpack a packed message stored as bytea into the call's arena. */
static ProtobufCMessage *unpack_stored(hw_call *call, const ProtobufCMessageDescriptor *d,
                                       const char *bytea_text)
{
    size_t len = 0;
    unsigned char *buf = store_bytea_decode(bytea_text, &len);
    if (!buf)
        return NULL;
    ProtobufCAllocator alloc = {.alloc = arena_alloc, .free = arena_free, .allocator_data = call};
    ProtobufCMessage *m = protobuf_c_message_unpack(d, &alloc, len, buf);
    free(buf);
    return m;
}

static char *dup(hw_call *call, const char *s) { return hw_call_strdup(call, s ? s : ""); }

static bool empty(const char *s) { return !s || !*s; }

static char *now_text(hw_call *call, int64_t ms)
{
    char buf[40];
    hw_format_rfc3339(ms, buf);
    return dup(call, buf);
}

/* The first of the principal's roles that is in list (for "recorded by role"). */
static const char *acting_role(const hw_principal *p, const char *const *list)
{
    for (const char *const *r = list; *r; r++)
        if (hw_principal_has_role(p, *r))
            return *r;
    return p->n_roles > 0 ? p->roles[0] : "";
}

static bool has_any(const hw_principal *p, const char *const *list)
{
    for (const char *const *r = list; *r; r++)
        if (hw_principal_has_role(p, *r))
            return true;
    return false;
}

static risk_service *service_of(void *ctx) { return hw_app_state((hw_app *)ctx); }

static hw_db *acquire(hw_app *app, hw_status *st)
{
    return hw_pg_acquire(hw_app_pool(app), DB_WAIT_MS, st);
}

/* Add an event to the outbox in db's transaction. payload is consumed. */
static int publish(hw_db *db, const char *type, const char *subject, json_t *payload,
                   hw_status *st)
{
    if (!payload)
        return hw_status_set(st, HW_INTERNAL, "cannot build the event");
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    if (!text)
        return hw_status_set(st, HW_INTERNAL, "cannot build the event");
    int rc = hw_outbox_add(db, type, subject, text, NULL, st);
    free(text);
    return rc;
}

static void kick(hw_app *app)
{
    hw_relay *r = hw_app_relay(app);
    if (r)
        hw_relay_kick(r);
}

static void kick_after_commit(void *app) { kick(app); }

/* Start the transaction and the idempotency check. Returns 1 when this is
 * a repeat (*resp set to the first answer), 0 to go on, -1 on error. */
static int begin_change(hw_db *db, hw_call *call, const char *request_id,
                        const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp,
                        hw_status *st)
{
    if (hw_db_begin(db, st) != 0)
        return -1;
    ProtobufCMessage *prev = NULL;
    int r = hw_idem_begin(db, call, request_id, d, &prev, st);
    if (r == 1)
        *resp = prev;
    return r;
}

/* Record the answer, commit, wake the relay. */
static int finish_change(hw_app *app, hw_db *db, hw_call *call, const char *request_id,
                         ProtobufCMessage *out, hw_status *st)
{
    if (hw_idem_finish(db, call, request_id, out, st) != 0 || hw_db_commit(db, st) != 0)
        return -1;
    kick(app);
    return 0;
}

static void require(hw_status *st, const char *field, const char *value)
{
    if (empty(value))
        hw_status_violation(st, field, "required");
}

static void require_request_id(hw_call *call, hw_status *st, const char *request_id)
{
    hw_call_set_request_id(call, request_id);
    if (empty(request_id))
        hw_status_violation(st, "request_id", "required: a client-generated id for this change");
}

/* A uuid-shaped id (what our tables hold), so a malformed id is a field
 * violation rather than a database error. */
static bool is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

static void require_uuid(hw_status *st, const char *field, const char *value)
{
    if (empty(value))
        hw_status_violation(st, field, "required");
    else if (!is_uuid(value))
        hw_status_violation(st, field, "not a valid id");
}

static hw_date london_today(void)
{
    int minute;
    return hw_london_date(hw_now_ms(), &minute);
}

static int date_cmp(hw_date a, hw_date b)
{
    if (a.y != b.y)
        return a.y < b.y ? -1 : 1;
    if (a.m != b.m)
        return a.m < b.m ? -1 : 1;
    if (a.d != b.d)
        return a.d < b.d ? -1 : 1;
    return 0;
}

/* ---------------------------------------------------------------- roles */

static const char *const R_ANY_PROFESSIONAL[] = {
    HW_POLICE_ROLES, HW_LA_ROLES, HW_ROLE_CARE_STAFF, NULL};
static const char *const R_PROPOSE[] = {HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER,
                                        HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_LPT_SERGEANT,
                                        HW_ROLE_MPC, NULL};
static const char *const R_ASSESS[] = {HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER,
                                       HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_LPT_SERGEANT, NULL};
static const char *const R_SUPERVISORS[] = {HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_LPT_SERGEANT,
                                            NULL};
static const char *const R_READ_RISK[] = {HW_POLICE_ROLES, HW_ROLE_SOCIAL_WORKER,
                                          HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, HW_ROLE_IRO,
                                          HW_ROLE_CSE_SOCIAL_WORKER, NULL};
static const char *const R_DISPUTE_RAISE[] = {HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER,
                                              HW_ROLE_CONTROL_ROOM_MANAGER, HW_ROLE_LPT_SERGEANT,
                                              HW_ROLE_MPC, HW_ROLE_SOCIAL_WORKER,
                                              HW_ROLE_TEAM_MANAGER, NULL};
static const char *const R_CSE_WRITE[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER, HW_ROLE_IRO,
                                          HW_ROLE_CSE_SOCIAL_WORKER, HW_ROLE_RETURN_WORKER,
                                          HW_ROLE_OFFICER, HW_ROLE_MPC, NULL};
static const char *const R_CSE_READ[] = {HW_POLICE_ROLES, HW_ROLE_SOCIAL_WORKER,
                                         HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, HW_ROLE_IRO,
                                         HW_ROLE_CSE_SOCIAL_WORKER, HW_ROLE_RETURN_WORKER, NULL};
/* R-SEC-3: who sees a matrix's ticked indicators and comments (the level
 * and routing are shown to every reader: they drive R-RISK-10). */
static const char *const R_CSE_DETAIL[] = {HW_ROLE_OFFICER, HW_ROLE_CONTROL_ROOM_MANAGER,
                                           HW_ROLE_LPT_SERGEANT, HW_ROLE_MPC,
                                           HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                           HW_ROLE_CSC_LEAD, HW_ROLE_IRO,
                                           HW_ROLE_CSE_SOCIAL_WORKER, HW_ROLE_RETURN_WORKER, NULL};
static const char *const R_PROMPTS[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                        HW_ROLE_CSC_LEAD, HW_ROLE_IRO, HW_ROLE_CSE_SOCIAL_WORKER,
                                        HW_ROLE_RETURN_WORKER, NULL};
static const char *const R_LAC_WRITE[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER, HW_ROLE_IRO,
                                          NULL};
static const char *const R_EVAL_WRITE[] = {HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                           HW_ROLE_IRO, HW_ROLE_CSE_SOCIAL_WORKER,
                                           HW_ROLE_OFFICER, HW_ROLE_MPC, NULL};
static const char *const R_LAC_READ[] = {HW_POLICE_ROLES, HW_ROLE_SOCIAL_WORKER,
                                         HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, HW_ROLE_IRO,
                                         HW_ROLE_CARE_STAFF, NULL};
static const char *const R_EVAL_READ[] = {HW_POLICE_ROLES, HW_ROLE_SOCIAL_WORKER,
                                          HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, HW_ROLE_IRO,
                                          HW_ROLE_CSE_SOCIAL_WORKER, NULL};
static const char *const R_NOTICE_WRITE[] = {HW_ROLE_OFFICER, HW_ROLE_LPT_SERGEANT, NULL};
static const char *const R_NOTICE_READ[] = {HW_POLICE_ROLES, HW_ROLE_SOCIAL_WORKER,
                                            HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, HW_ROLE_IRO,
                                            HW_ROLE_CSE_SOCIAL_WORKER, NULL};
/* R-SEC-3 / R-INT-1: intelligence details go to those who act on them. */
static const char *const R_INTEL_DETAIL[] = {HW_ROLE_OFFICER, HW_ROLE_LPT_SERGEANT, HW_ROLE_MPC,
                                             HW_ROLE_CSE_SOCIAL_WORKER, NULL};
static const char *const R_CPS_WRITE[] = {HW_ROLE_CARE_STAFF, HW_ROLE_OFFICER, HW_ROLE_SPOC, NULL};
static const char *const R_CPS_READ[] = {HW_ROLE_CARE_STAFF, HW_ROLE_OFFICER, HW_ROLE_SPOC,
                                         HW_ROLE_MPC, HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER,
                                         HW_ROLE_IRO, NULL};

/* ---------------------------------------------------------------- reference data */

static void h_get_reference_data(hw_call *call, const ProtobufCMessage *reqm,
                                 ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    hw_app *app = ctx;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    M(ReferenceData) *out = NEW(call, M(ReferenceData), homeward__risk__v1__reference_data__init);
    hw_res *r = store_list_scales(db, st);
    if (!r)
        goto out_release;
    /* Rows are ordered by version, rank: a new scale starts at each change. */
    int rows = hw_res_rows(r);
    out->scales = hw_call_alloc(call, sizeof(void *) * (size_t)(rows + 1));
    M(RiskScale) *cur = NULL;
    for (int i = 0; i < rows; i++) {
        int version = (int)hw_res_int(r, i, 0);
        if (!cur || cur->version != version) {
            cur = NEW(call, M(RiskScale), homeward__risk__v1__risk_scale__init);
            cur->version = version;
            cur->name = dup(call, hw_res_get(r, i, 1));
            cur->current = hw_res_bool(r, i, 2);
            cur->levels = hw_call_alloc(call, sizeof(void *) * 4);
            out->scales[out->n_scales++] = cur;
        }
        if (cur->n_levels >= 4)
            continue;
        M(RiskLevel) *l = NEW(call, M(RiskLevel), homeward__risk__v1__risk_level__init);
        l->code = dup(call, hw_res_get(r, i, 3));
        l->label = dup(call, hw_res_get(r, i, 4));
        l->rank = (int32_t)hw_res_int(r, i, 5);
        l->definition = dup(call, hw_res_get(r, i, 6));
        cur->levels[cur->n_levels++] = l;
    }
    hw_res_free(r);

    if (!(r = store_list_questions(db, st)))
        goto out_release;
    rows = hw_res_rows(r);
    out->question_sets = hw_call_alloc(call, sizeof(void *) * (size_t)(rows + 1));
    M(QuestionSet) *qs = NULL;
    for (int i = 0; i < rows; i++) {
        if (!qs || strcmp(qs->code, hw_res_get(r, i, 0)) != 0) {
            qs = NEW(call, M(QuestionSet), homeward__risk__v1__question_set__init);
            qs->code = dup(call, hw_res_get(r, i, 0));
            qs->name = dup(call, hw_res_get(r, i, 1));
            qs->source = dup(call, hw_res_get(r, i, 2));
            qs->questions = hw_call_alloc(call, sizeof(void *) * (size_t)rows);
            out->question_sets[out->n_question_sets++] = qs;
        }
        M(Question) *q = NEW(call, M(Question), homeward__risk__v1__question__init);
        q->code = dup(call, hw_res_get(r, i, 3));
        q->number = (int32_t)hw_res_int(r, i, 4);
        q->text = dup(call, hw_res_get(r, i, 5));
        q->section = dup(call, hw_res_get(r, i, 6));
        q->raises_to_rank = *hw_res_get(r, i, 7) ? atoi(hw_res_get(r, i, 7)) : -1;
        qs->questions[qs->n_questions++] = q;
    }
    hw_res_free(r);

    if (!(r = store_list_cse_indicators(db, st)))
        goto out_release;
    rows = hw_res_rows(r);
    out->cse_indicators = hw_call_alloc(call, sizeof(void *) * (size_t)(rows + 1));
    for (int i = 0; i < rows; i++) {
        M(CseIndicator) *c = NEW(call, M(CseIndicator), homeward__risk__v1__cse_indicator__init);
        c->code = dup(call, hw_res_get(r, i, 0));
        c->category = dup(call, hw_res_get(r, i, 1));
        c->text = dup(call, hw_res_get(r, i, 2));
        c->weight = dup(call, hw_res_get(r, i, 3));
        out->cse_indicators[out->n_cse_indicators++] = c;
    }
    hw_res_free(r);

    if (!(r = store_list_lac_indicators(db, st)))
        goto out_release;
    rows = hw_res_rows(r);
    out->lac_indicators = hw_call_alloc(call, sizeof(void *) * (size_t)(rows + 1));
    for (int i = 0; i < rows; i++) {
        M(LacIndicator) *c = NEW(call, M(LacIndicator), homeward__risk__v1__lac_indicator__init);
        c->code = dup(call, hw_res_get(r, i, 0));
        c->section = dup(call, hw_res_get(r, i, 1));
        c->text = dup(call, hw_res_get(r, i, 2));
        out->lac_indicators[out->n_lac_indicators++] = c;
    }
    hw_res_free(r);

    if (!(r = store_list_evaluation_items(db, st)))
        goto out_release;
    rows = hw_res_rows(r);
    out->evaluation_items = hw_call_alloc(call, sizeof(void *) * (size_t)(rows + 1));
    for (int i = 0; i < rows; i++) {
        M(EvaluationItem) *c =
            NEW(call, M(EvaluationItem), homeward__risk__v1__evaluation_item__init);
        c->code = dup(call, hw_res_get(r, i, 0));
        c->kind = dup(call, hw_res_get(r, i, 1));
        c->text = dup(call, hw_res_get(r, i, 2));
        out->evaluation_items[out->n_evaluation_items++] = c;
    }
    hw_res_free(r);

    if (!(r = store_list_profiles(db, st)))
        goto out_release;
    rows = hw_res_rows(r);
    out->profiles = hw_call_alloc(call, sizeof(void *) * (size_t)(rows + 1));
    for (int i = 0; i < rows; i++) {
        M(ProfileRule) *c = NEW(call, M(ProfileRule), homeward__risk__v1__profile_rule__init);
        c->profile = dup(call, hw_res_get(r, i, 0));
        c->lowest_missing_rank = (int32_t)hw_res_int(r, i, 1);
        out->profiles[out->n_profiles++] = c;
    }
    hw_res_free(r);
    *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- proposals */

#define MAX_GRADING 64

typedef struct proposal_work {
    risk_episode_facts ep;
    risk_child_facts ch;
    risk_scale_view scale;
    int alternative_rank;
    risk_proposal rp;
    char notice_ids[RISK_MAX_RECORDS][40];
    char matrix_id[40];
    char eval_id[40];
    char trafficking_matrix_id[40];
} proposal_work;

/* Shape checks of answers and the alternative level that need no database. */
static void check_answers(hw_status *st, M(Answer) *const *answers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char f[64];
        const M(Answer) *a = answers[i];
        if (empty(a->question_code)) {
            snprintf(f, sizeof f, "answers[%zu].question_code", i);
            hw_status_violation(st, f, "required");
        }
        if ((int)a->concern < 0 || (int)a->concern > 3) {
            snprintf(f, sizeof f, "answers[%zu].concern", i);
            hw_status_violation(st, f, "not a known value");
        }
        for (size_t j = 0; j < i; j++)
            if (!empty(a->question_code) && !empty(answers[j]->question_code) &&
                strcmp(a->question_code, answers[j]->question_code) == 0) {
                snprintf(f, sizeof f, "answers[%zu].question_code", i);
                hw_status_violation(st, f, "answered twice");
            }
    }
}

/* Everything from the database a proposal needs, then the rules. The
 * episode and child facts are already in w. Adds violations for unknown
 * question codes or an unknown alternative level. */
static int compute_proposal(hw_db *db, M(Answer) *const *answers, size_t n_answers,
                            const char *alternative, proposal_work *w, hw_status *st)
{
    if (store_current_scale(db, &w->scale, st) != 0)
        return -1;
    w->alternative_rank = RISK_RANK_NONE;
    if (!empty(alternative)) {
        w->alternative_rank = store_scale_rank(&w->scale, alternative);
        if (w->alternative_rank < 0)
            hw_status_violation(st, "alternative_level", "not a level of the current scale");
    }
    bool use_ndmm = false, use_cmd = false;
    for (size_t i = 0; i < n_answers; i++) {
        const char *code = answers[i]->question_code;
        int in_ndmm = store_question_in_set(db, code, "ndmm", st);
        int in_cmd = in_ndmm == 1 ? 0 : store_question_in_set(db, code, "cmd", st);
        if (in_ndmm < 0 || in_cmd < 0)
            return -1;
        if (in_ndmm)
            use_ndmm = true;
        else if (in_cmd)
            use_cmd = true;
        else {
            char f[64];
            snprintf(f, sizeof f, "answers[%zu].question_code", i);
            hw_status_violation(st, f, "not a question of the NDMM or CMD set");
        }
    }
    if (st->n_violations > 0)
        return -1;
    if (!use_ndmm && !use_cmd)
        use_ndmm = true; /* nothing asked: measured against the NDMM set */

    /* Every grading question of the sets used; unasked ones are unanswered
     * (R-RISK-4 counts them as little knowledge). */
    risk_answer_fact facts[MAX_GRADING];
    int n_facts = 0;
    hw_res *q = store_grading_questions(db, st);
    if (!q)
        return -1;
    for (int i = 0; i < hw_res_rows(q) && n_facts < MAX_GRADING; i++) {
        const char *set = hw_res_get(q, i, 1);
        if ((strcmp(set, "ndmm") == 0 && !use_ndmm) || (strcmp(set, "cmd") == 0 && !use_cmd))
            continue;
        risk_answer_fact *f = &facts[n_facts++];
        /* Points into q, kept until the rules have run. */
        f->question_code = hw_res_get(q, i, 0);
        f->raises_to = (int)hw_res_int(q, i, 2);
        f->concern = RISK_CONCERN_UNANSWERED;
        for (size_t j = 0; j < n_answers; j++)
            if (strcmp(answers[j]->question_code, f->question_code) == 0)
                f->concern = (int)answers[j]->concern;
    }

    risk_facts rf;
    memset(&rf, 0, sizeof rf);
    rf.dob_known = w->ch.dob_known;
    rf.dob = w->ch.dob;
    rf.today = london_today();
    rf.missing = w->ep.missing;
    rf.profile = w->ep.profile;
    rf.cse_flag = w->ch.cse_concern;
    rf.trafficking_flag = w->ch.trafficking_concern;   /* R-RISK-10 */
    rf.cse_matrix_rank = RISK_RANK_NONE;
    rf.alternative_rank = w->alternative_rank;
    rf.answers = facts;
    rf.n_answers = n_facts;
    risk_held_record held[3];
    int rc = -1;
    if (store_profile_min_rank(db, w->ep.profile, &rf.profile_min_missing_rank, st) != 0)
        goto out_questions;

    hw_res *r = store_latest_cse_matrix(db, w->ch.child_id, st);
    if (!r)
        goto out_questions;
    if (hw_res_rows(r) > 0) {
        snprintf(w->matrix_id, sizeof w->matrix_id, "%s", hw_res_get(r, 0, 0));
        rf.cse_matrix_id = w->matrix_id;
        rf.cse_matrix_rank = (int)hw_res_int(r, 0, 1);
        if (hw_res_bool(r, 0, 2))
            held[rf.n_held++] = (risk_held_record){"cse_matrix", w->matrix_id, "trafficking"};
    }
    hw_res_free(r);

    if (!(r = store_latest_evaluation_flags(db, w->ch.child_id, st)))
        goto out_questions;
    if (hw_res_rows(r) > 0) {
        snprintf(w->eval_id, sizeof w->eval_id, "%s", hw_res_get(r, 0, 0));
        if (hw_res_bool(r, 0, 1))
            held[rf.n_held++] = (risk_held_record){"evaluation_matrix", w->eval_id, "CSE"};
        if (hw_res_bool(r, 0, 2))
            held[rf.n_held++] =
                (risk_held_record){"evaluation_matrix", w->eval_id, "trafficking"};
    }
    hw_res_free(r);
    rf.held = held;

    if (!(r = store_notice_ids(db, w->ch.child_id, st)))
        goto out_questions;
    /* The most recent notices, if there are more than the reasons hold. */
    int rows = hw_res_rows(r);
    int first = rows > RISK_MAX_RECORDS ? rows - RISK_MAX_RECORDS : 0;
    for (int i = first; i < rows; i++) {
        snprintf(w->notice_ids[rf.n_notices], sizeof w->notice_ids[0], "%s", hw_res_get(r, i, 0));
        rf.notice_ids[rf.n_notices] = w->notice_ids[rf.n_notices];
        rf.n_notices++;
    }
    hw_res_free(r);

    risk_propose(&rf, &w->rp);
    rc = 0;
out_questions:
    hw_res_free(q);
    return rc;
}

static M(Proposal) *proposal_message(hw_call *call, const proposal_work *w)
{
    M(Proposal) *p = NEW(call, M(Proposal), homeward__risk__v1__proposal__init);
    p->episode_id = dup(call, w->ep.episode_id);
    p->child_id = dup(call, w->ch.child_id);
    p->level_rank = w->rp.rank;
    p->level_code = dup(call, w->scale.code[w->rp.rank]);
    p->level_label = dup(call, w->scale.label[w->rp.rank]);
    p->scale_version = w->scale.version;
    p->profile = dup(call, w->ep.profile);
    p->reasons = hw_call_alloc(call, sizeof(void *) * (size_t)(w->rp.n_reasons + 1));
    for (int i = 0; i < w->rp.n_reasons; i++) {
        const risk_reason *rr = &w->rp.reasons[i];
        M(Reason) *r = NEW(call, M(Reason), homeward__risk__v1__reason__init);
        r->rule_id = dup(call, rr->rule_id);
        r->level_code = dup(call, rr->rank >= 0 && rr->rank <= 3 ? w->scale.code[rr->rank] : "");
        r->record_type = dup(call, rr->record_type);
        r->record_id = dup(call, rr->record_id);
        r->text = dup(call, rr->text);
        p->reasons[p->n_reasons++] = r;
    }
    return p;
}

/* Episode (caller's access) and child facts from the episodes service. */
static int fetch_episode_and_child(risk_service *s, hw_call *call, const char *episode_id,
                                   proposal_work *w, hw_status *st)
{
    if (risk_fetch_episode(s->episodes, call, episode_id, "episode_id", &w->ep, st) != 0)
        return -1;
    return risk_fetch_child(s->episodes, call, w->ep.child_id, "episode_id", &w->ch, st);
}

static void h_propose_risk(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp,
                           hw_status *st, void *ctx)
{
    const M(ProposeRiskRequest) *req = (const M(ProposeRiskRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "episode_id", req->episode_id);
    check_answers(st, req->answers, req->n_answers);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    proposal_work *w = hw_call_alloc(call, sizeof *w);
    if (fetch_episode_and_child(service_of(ctx), call, req->episode_id, w, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (compute_proposal(db, req->answers, req->n_answers, req->alternative_level, w, st) != 0)
        goto out_release;
    if (hw_audit(db, call, NULL, "episode", w->ep.episode_id, st) != 0)
        goto out_release;
    *resp = &proposal_message(call, w)->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- assessments */

static M(Assessment) *assessment_from_row(hw_call *call, hw_db *db, hw_res *r, int i,
                                          hw_status *st)
{
    M(Assessment) *a = NEW(call, M(Assessment), homeward__risk__v1__assessment__init);
    a->id = dup(call, hw_res_get(r, i, AS_ID));
    a->episode_id = dup(call, hw_res_get(r, i, AS_EPISODE));
    a->child_id = dup(call, hw_res_get(r, i, AS_CHILD));
    a->stage = (M(Stage))hw_res_int(r, i, AS_STAGE);
    a->scale_version = (int32_t)hw_res_int(r, i, AS_SCALE);
    a->level_code = dup(call, hw_res_get(r, i, AS_CODE));
    a->level_label = dup(call, hw_res_get(r, i, AS_LABEL));
    a->level_rank = (int32_t)hw_res_int(r, i, AS_RANK);
    a->proposal = (M(Proposal) *)unpack_stored(call, &homeward__risk__v1__proposal__descriptor,
                                               hw_res_get(r, i, AS_PROPOSAL));
    a->rationale = dup(call, hw_res_get(r, i, AS_RATIONALE));
    a->very_high_risk = hw_res_bool(r, i, AS_VERY_HIGH);
    a->dispute_id = dup(call, hw_res_get(r, i, AS_DISPUTE));
    a->previous_level_code = dup(call, hw_res_get(r, i, AS_PREVIOUS));
    a->assessed_by_id = dup(call, hw_res_get(r, i, AS_BY_ID));
    a->assessed_by_name = dup(call, hw_res_get(r, i, AS_BY_NAME));
    a->assessed_by_role = dup(call, hw_res_get(r, i, AS_BY_ROLE));
    a->organisation = dup(call, hw_res_get(r, i, AS_ORG));
    a->assessed_at = dup(call, hw_res_get(r, i, AS_AT));
    hw_res *ans = store_answers(db, a->id, st);
    if (!ans)
        return NULL;
    int n = hw_res_rows(ans);
    a->answers = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int j = 0; j < n; j++) {
        M(Answer) *x = NEW(call, M(Answer), homeward__risk__v1__answer__init);
        x->question_code = dup(call, hw_res_get(ans, j, 0));
        x->concern = (M(Concern))hw_res_int(ans, j, 1);
        x->text = dup(call, hw_res_get(ans, j, 2));
        a->answers[a->n_answers++] = x;
    }
    hw_res_free(ans);
    return a;
}

/* The level changed (or was first set): episodes adds it to the timeline
 * and roster. */
static int publish_level(hw_db *db, const char *episode_id, const char *child_id,
                         const char *code, const char *label, int scale_version,
                         const char *assessment_id, hw_status *st)
{
    char subject[80], version[16];
    snprintf(subject, sizeof subject, "episode:%s", episode_id);
    /* A string, as Episode.risk_scale_version is. */
    snprintf(version, sizeof version, "%d", scale_version);
    return publish(db, "risk.level_changed", subject,
                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "episode_id", episode_id,
                             "child_id", child_id, "level", code, "level_label", label,
                             "scale_version", version, "assessment_id", assessment_id),
                   st);
}

static void h_record_assessment(hw_call *call, const ProtobufCMessage *reqm,
                                ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordAssessmentRequest) *req = (const M(RecordAssessmentRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require(st, "episode_id", req->episode_id);
    int stage = (int)req->stage;
    if (stage < RISK_STAGE_INITIAL || stage > RISK_STAGE_REVIEW)
        hw_status_violation(st, "stage", "required: INITIAL, SECONDARY or REVIEW");
    require(st, "level", req->level);
    check_answers(st, req->answers, req->n_answers);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    /* STAFFS 12.2-12.3: call handlers make the initial assessment, officers
     * the secondary; supervisors either. */
    if (!risk_stage_allowed(stage, hw_principal_has_role(who, HW_ROLE_CALL_HANDLER),
                            hw_principal_has_role(who, HW_ROLE_OFFICER), has_any(who, R_SUPERVISORS))) {
        hw_status_set(st, HW_PERMISSION_DENIED, "this stage of assessment is not for your role");
        return;
    }
    proposal_work *w = hw_call_alloc(call, sizeof *w);
    if (fetch_episode_and_child(service_of(ctx), call, req->episode_id, w, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    int r = begin_change(db, call, req->request_id, &homeward__risk__v1__assessment__descriptor,
                         resp, st);
    if (r != 0)
        goto out_release;
    if (compute_proposal(db, req->answers, req->n_answers, req->alternative_level, w, st) != 0)
        goto out_release;
    int decided = store_scale_rank(&w->scale, req->level);
    if (decided < 0) {
        hw_status_violation(st, "level", "not a level of the current scale");
        goto out_release;
    }
    int min_rank = 0;
    if (store_profile_min_rank(db, w->ep.profile, &min_rank, st) != 0)
        goto out_release;
    /* R-RISK-3 (rationale below the proposal), R-RISK-1 (profile floor). */
    if (risk_check_decision(w->rp.rank, decided, req->rationale, w->ep.missing, min_rank,
                            w->ep.profile, st) != 0)
        goto out_release;
    /* R-ESC-4: very high risk asks for an immediate meeting; only at high. */
    if (req->very_high_risk && decided != RISK_RANK_HIGH) {
        hw_status_violation(st, "very_high_risk", "only with level high");
        goto out_release;
    }

    M(Proposal) *proposal = proposal_message(call, w);
    size_t plen = protobuf_c_message_get_packed_size(&proposal->base);
    unsigned char *pbuf = hw_call_alloc(call, plen + 1);
    protobuf_c_message_pack(&proposal->base, pbuf);

    hw_res *prev = store_latest_assessment(db, w->ep.episode_id, st);
    if (!prev)
        goto out_release;
    char prev_code[32] = "";
    int prev_scale = 0;
    if (hw_res_rows(prev) > 0) {
        snprintf(prev_code, sizeof prev_code, "%s", hw_res_get(prev, 0, AS_CODE));
        prev_scale = (int)hw_res_int(prev, 0, AS_SCALE);
    }
    hw_res_free(prev);

    risk_assessment_row row = {
        .episode_id = w->ep.episode_id, .child_id = w->ch.child_id, .stage = stage,
        .scale_version = w->scale.version, .level_rank = decided, .proposed_rank = w->rp.rank,
        .alternative_rank = w->alternative_rank, .level_code = w->scale.code[decided],
        .profile = w->ep.profile, .rationale = req->rationale, .previous_level_code = prev_code,
        .proposal = pbuf, .proposal_len = plen, .very_high_risk = req->very_high_risk,
        .by_id = who->sub, .by_name = who->name, .by_role = acting_role(who, R_ASSESS),
        .org = who->org};
    char id[40] = "", at[40] = "";
    if (store_insert_assessment(db, &row, id, at, st) != 0)
        goto out_release;
    for (size_t i = 0; i < req->n_answers; i++)
        if (store_insert_answer(db, id, req->answers[i]->question_code,
                                (int)req->answers[i]->concern, req->answers[i]->text, st) != 0)
            goto out_release;
    /* R-RISK-5: the current level and its change go to the episode. */
    if ((strcmp(prev_code, row.level_code) != 0 || prev_scale != row.scale_version) &&
        publish_level(db, w->ep.episode_id, w->ch.child_id, row.level_code,
                      w->scale.label[decided], w->scale.version, id, st) != 0)
        goto out_release;
    if (req->very_high_risk) {
        char subject[80];
        snprintf(subject, sizeof subject, "episode:%s", w->ep.episode_id);
        if (publish(db, "risk.very_high", subject,
                    json_pack("{s:s, s:s, s:s}", "episode_id", w->ep.episode_id, "child_id",
                              w->ch.child_id, "assessment_id", id),
                    st) != 0)
            goto out_release;
    }
    if (hw_audit(db, call, NULL, "assessment", id, st) != 0)
        goto out_release;

    M(Assessment) *a = NEW(call, M(Assessment), homeward__risk__v1__assessment__init);
    a->id = dup(call, id);
    a->episode_id = dup(call, w->ep.episode_id);
    a->child_id = dup(call, w->ch.child_id);
    a->stage = (M(Stage))stage;
    a->level_code = dup(call, row.level_code);
    a->level_label = dup(call, w->scale.label[decided]);
    a->level_rank = decided;
    a->scale_version = w->scale.version;
    a->proposal = proposal;
    a->rationale = dup(call, req->rationale);
    a->answers = req->answers;
    a->n_answers = req->n_answers;
    a->assessed_by_id = dup(call, who->sub);
    a->assessed_by_name = dup(call, who->name);
    a->assessed_by_role = dup(call, row.by_role);
    a->organisation = dup(call, who->org);
    a->assessed_at = dup(call, at);
    a->dispute_id = dup(call, "");
    a->very_high_risk = req->very_high_risk;
    a->previous_level_code = dup(call, prev_code);
    if (finish_change(app, db, call, req->request_id, &a->base, st) == 0)
        *resp = &a->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- disputes */

static M(Dispute) *dispute_from_row(hw_call *call, hw_db *db, hw_res *r, int i,
                                    const risk_scale_view *scale, hw_status *st)
{
    M(Dispute) *d = NEW(call, M(Dispute), homeward__risk__v1__dispute__init);
    d->id = dup(call, hw_res_get(r, i, DI_ID));
    d->assessment_id = dup(call, hw_res_get(r, i, DI_ASSESSMENT));
    d->episode_id = dup(call, hw_res_get(r, i, DI_EPISODE));
    d->child_id = dup(call, hw_res_get(r, i, DI_CHILD));
    int disputed = (int)hw_res_int(r, i, DI_DISPUTED), sought = (int)hw_res_int(r, i, DI_SOUGHT);
    d->disputed_level_code = dup(call, scale->code[disputed & 3]);
    d->sought_level_code = dup(call, scale->code[sought & 3]);
    d->reason = dup(call, hw_res_get(r, i, DI_REASON));
    d->raised_by_id = dup(call, hw_res_get(r, i, DI_BY_ID));
    d->raised_by_role = dup(call, hw_res_get(r, i, DI_BY_ROLE));
    d->raised_at = dup(call, hw_res_get(r, i, DI_AT));
    d->awaiting_step = (int32_t)hw_res_int(r, i, DI_STEP);
    d->resolved = d->awaiting_step == 0;
    d->final_level_code =
        dup(call, *hw_res_get(r, i, DI_FINAL) ? scale->code[atoi(hw_res_get(r, i, DI_FINAL)) & 3]
                                              : "");
    d->resulting_assessment_id = dup(call, hw_res_get(r, i, DI_RESULT));
    hw_res *steps = store_dispute_steps(db, d->id, st);
    if (!steps)
        return NULL;
    int n = hw_res_rows(steps);
    d->steps = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int j = 0; j < n; j++) {
        M(DisputeStep) *s = NEW(call, M(DisputeStep), homeward__risk__v1__dispute_step__init);
        s->step = (int32_t)hw_res_int(steps, j, 0);
        s->outcome = (M(DisputeOutcome))hw_res_int(steps, j, 1);
        s->level_code = dup(call, scale->code[hw_res_int(steps, j, 2) & 3]);
        s->rationale = dup(call, hw_res_get(steps, j, 3));
        s->decided_by_id = dup(call, hw_res_get(steps, j, 4));
        s->decided_by_name = dup(call, hw_res_get(steps, j, 5));
        s->decided_by_role = dup(call, hw_res_get(steps, j, 6));
        s->decided_at = dup(call, hw_res_get(steps, j, 7));
        d->steps[d->n_steps++] = s;
    }
    hw_res_free(steps);
    return d;
}

static void h_raise_dispute(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp,
                            hw_status *st, void *ctx)
{
    const M(RaiseDisputeRequest) *req = (const M(RaiseDisputeRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require_uuid(st, "assessment_id", req->assessment_id);
    require(st, "sought_level", req->sought_level);
    require(st, "reason", req->reason);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    /* The assessment's episode, for the caller's access to it. */
    hw_res *a = store_assessment(db, req->assessment_id, st);
    if (!a)
        goto out_release;
    if (hw_res_rows(a) == 0) {
        hw_res_free(a);
        hw_status_set(st, HW_NOT_FOUND, "no such assessment");
        goto out_release;
    }
    char episode_id[64], child_id[64];
    snprintf(episode_id, sizeof episode_id, "%s", hw_res_get(a, 0, AS_EPISODE));
    snprintf(child_id, sizeof child_id, "%s", hw_res_get(a, 0, AS_CHILD));
    int disputed = (int)hw_res_int(a, 0, AS_RANK);
    hw_res_free(a);
    /* Release while the peer answers: no connection held over the network. */
    hw_pg_release(db);
    risk_episode_facts ep;
    if (risk_fetch_episode(service_of(ctx)->episodes, call, episode_id, "assessment_id", &ep,
                           st) != 0)
        return;
    if (!(db = acquire(app, st)))
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__dispute__descriptor, resp,
                     st) != 0)
        goto out_release;
    risk_scale_view scale;
    if (store_current_scale(db, &scale, st) != 0)
        goto out_release;
    int sought = store_scale_rank(&scale, req->sought_level);
    if (sought < 0) {
        hw_status_violation(st, "sought_level", "not a level of the current scale");
        goto out_release;
    }
    if (sought == disputed) {
        hw_status_violation(st, "sought_level", "is the level already assessed");
        goto out_release;
    }
    hw_res *latest = store_latest_assessment(db, episode_id, st);
    if (!latest)
        goto out_release;
    bool current = hw_res_rows(latest) > 0 &&
                   strcmp(hw_res_get(latest, 0, AS_ID), req->assessment_id) == 0;
    hw_res_free(latest);
    if (!current) {
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "only the episode's current assessment can be disputed");
        goto out_release;
    }
    char id[40];
    if (store_insert_dispute(db, req->assessment_id, episode_id, child_id, disputed, sought,
                             req->reason, who->sub, acting_role(who, R_DISPUTE_RAISE), who->org,
                             id, st) != 0) {
        if (st->code == HW_ALREADY_EXISTS)
            hw_status_set(st, HW_FAILED_PRECONDITION,
                          "this assessment already has an open dispute");
        goto out_release;
    }
    if (hw_audit(db, call, NULL, "dispute", id, st) != 0)
        goto out_release;
    hw_res *d = store_dispute(db, id, false, st);
    if (!d)
        goto out_release;
    M(Dispute) *out = dispute_from_row(call, db, d, 0, &scale, st);
    hw_res_free(d);
    if (out && finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_resolve_dispute(hw_call *call, const ProtobufCMessage *reqm,
                              ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ResolveDisputeRequest) *req = (const M(ResolveDisputeRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require_uuid(st, "dispute_id", req->dispute_id);
    int outcome = (int)req->outcome;
    if (outcome < 1 || outcome > 3)
        hw_status_violation(st, "outcome", "required: UPHELD, CHANGED or REFERRED");
    if (outcome == 2)
        require(st, "level", req->level);
    require(st, "rationale", req->rationale);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *d = store_dispute(db, req->dispute_id, false, st);
    if (!d)
        goto out_release;
    if (hw_res_rows(d) == 0) {
        hw_res_free(d);
        hw_status_set(st, HW_NOT_FOUND, "no such dispute");
        goto out_release;
    }
    char episode_id[64];
    snprintf(episode_id, sizeof episode_id, "%s", hw_res_get(d, 0, DI_EPISODE));
    hw_res_free(d);
    hw_pg_release(db);
    risk_episode_facts ep;
    if (risk_fetch_episode(service_of(ctx)->episodes, call, episode_id, "dispute_id", &ep, st) !=
        0)
        return;
    if (!(db = acquire(app, st)))
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__dispute__descriptor, resp,
                     st) != 0)
        goto out_release;
    if (!(d = store_dispute(db, req->dispute_id, true, st)))
        goto out_release;
    int step = (int)hw_res_int(d, 0, DI_STEP);
    int disputed = (int)hw_res_int(d, 0, DI_DISPUTED);
    char assessment_id[40], child_id[64];
    snprintf(assessment_id, sizeof assessment_id, "%s", hw_res_get(d, 0, DI_ASSESSMENT));
    snprintf(child_id, sizeof child_id, "%s", hw_res_get(d, 0, DI_CHILD));
    hw_res_free(d);
    if (step == 0) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "the dispute is already resolved");
        goto out_release;
    }
    /* R-RISK-6: control room manager first, then the LPT sergeant. */
    if (!risk_dispute_may_resolve(step, hw_principal_has_role(who, HW_ROLE_CONTROL_ROOM_MANAGER),
                                  hw_principal_has_role(who, HW_ROLE_LPT_SERGEANT))) {
        hw_status_set(st, HW_PERMISSION_DENIED,
                      step == 1 ? "step 1 of a dispute is the control room manager's (R-RISK-6)"
                                : "step 2 of a dispute is the LPT sergeant's (R-RISK-6)");
        goto out_release;
    }
    if (outcome == 3 && step != 1) {
        hw_status_violation(st, "outcome", "REFERRED only at step 1: step 2 is the last");
        goto out_release;
    }
    risk_scale_view scale;
    if (store_current_scale(db, &scale, st) != 0)
        goto out_release;
    int level = disputed;
    if (outcome == 2) {
        level = store_scale_rank(&scale, req->level);
        if (level < 0) {
            hw_status_violation(st, "level", "not a level of the current scale");
            goto out_release;
        }
        if (level == disputed) {
            hw_status_violation(st, "level", "is the disputed level: use UPHELD");
            goto out_release;
        }
        int min_rank = 0;
        if (store_profile_min_rank(db, ep.profile, &min_rank, st) != 0)
            goto out_release;
        if (risk_check_decision(RISK_RANK_LOWEST, level, req->rationale, ep.missing, min_rank,
                                ep.profile, st) != 0)
            goto out_release;
    }
    const char *role = step == 1 ? HW_ROLE_CONTROL_ROOM_MANAGER : HW_ROLE_LPT_SERGEANT;
    if (store_insert_dispute_step(db, req->dispute_id, step, outcome, level, req->rationale,
                                  who->sub, who->name, role, st) != 0)
        goto out_release;
    char new_id[40] = "";
    if (outcome == 3) {
        if (store_update_dispute(db, req->dispute_id, 2, -1, NULL, st) != 0)
            goto out_release;
    } else if (outcome == 1) {
        if (store_update_dispute(db, req->dispute_id, 0, disputed, NULL, st) != 0)
            goto out_release;
    } else {
        /* The decided level is a new assessment (R-RISK-5), with the
         * disputed one's proposal kept for the record. */
        hw_res *a = store_assessment(db, assessment_id, st);
        if (!a)
            goto out_release;
        size_t plen = 0;
        unsigned char *pbuf = store_bytea_decode(hw_res_get(a, 0, AS_PROPOSAL), &plen);
        risk_assessment_row row = {
            .episode_id = episode_id, .child_id = child_id, .stage = 4,
            .scale_version = scale.version, .level_rank = level,
            .proposed_rank = (int)hw_res_int(a, 0, AS_RANK), .alternative_rank = -1,
            .level_code = scale.code[level], .profile = ep.profile, .rationale = req->rationale,
            .previous_level_code = hw_res_get(a, 0, AS_CODE), .proposal = pbuf,
            .proposal_len = plen, .dispute_id = req->dispute_id, .by_id = who->sub,
            .by_name = who->name, .by_role = role, .org = who->org};
        /* The proposal's rank, not the disputed level, is what was proposed. */
        M(Proposal) *old = pbuf ? (M(Proposal) *)protobuf_c_message_unpack(
                                      &homeward__risk__v1__proposal__descriptor, NULL, plen, pbuf)
                                : NULL;
        if (old) {
            row.proposed_rank = old->level_rank >= 0 && old->level_rank <= 3 ? old->level_rank : 0;
            protobuf_c_message_free_unpacked(&old->base, NULL);
        }
        int rc = pbuf ? store_insert_assessment(db, &row, new_id, NULL, st)
                      : hw_status_set(st, HW_INTERNAL, "stored proposal is corrupt");
        free(pbuf);
        hw_res_free(a);
        if (rc != 0 || store_update_dispute(db, req->dispute_id, 0, level, new_id, st) != 0)
            goto out_release;
        if (publish_level(db, episode_id, child_id, scale.code[level], scale.label[level],
                          scale.version, new_id, st) != 0)
            goto out_release;
    }
    if (hw_audit(db, call, NULL, "dispute", req->dispute_id, st) != 0)
        goto out_release;
    if (!(d = store_dispute(db, req->dispute_id, false, st)))
        goto out_release;
    M(Dispute) *out = dispute_from_row(call, db, d, 0, &scale, st);
    hw_res_free(d);
    if (out && finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_get_risk_history(hw_call *call, const ProtobufCMessage *reqm,
                               ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(GetRiskHistoryRequest) *req = (const M(GetRiskHistoryRequest) *)reqm;
    hw_app *app = ctx;
    risk_service *s = service_of(ctx);
    bool by_child = !empty(req->child_id), by_episode = !empty(req->episode_id);
    if (by_child == by_episode) {
        hw_status_violation(st, by_child ? "episode_id" : "child_id",
                            "give exactly one of child_id and episode_id");
        return;
    }
    if (hw_audit_require_purpose(call, st) != 0)
        return;
    /* The caller's access to the record, decided by its owner. */
    if (by_episode) {
        risk_episode_facts ep;
        if (risk_fetch_episode(s->episodes, call, req->episode_id, "episode_id", &ep, st) != 0)
            return;
    } else {
        risk_child_facts ch;
        if (risk_fetch_child(s->episodes, call, req->child_id, "child_id", &ch, st) != 0)
            return;
    }
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    const char *eid = by_episode ? req->episode_id : NULL, *cid = by_child ? req->child_id : NULL;
    risk_scale_view scale;
    M(RiskHistory) *out = NEW(call, M(RiskHistory), homeward__risk__v1__risk_history__init);
    if (store_current_scale(db, &scale, st) != 0)
        goto out_release;
    hw_res *r = store_assessments(db, eid, cid, st);
    if (!r)
        goto out_release;
    int n = hw_res_rows(r);
    out->assessments = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(Assessment) *a = assessment_from_row(call, db, r, i, st);
        if (!a) {
            hw_res_free(r);
            goto out_release;
        }
        out->assessments[out->n_assessments++] = a;
    }
    hw_res_free(r);
    if (n > 0)
        out->current = out->assessments[n - 1];
    if (!(r = store_disputes(db, eid, cid, st)))
        goto out_release;
    n = hw_res_rows(r);
    out->disputes = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(Dispute) *d = dispute_from_row(call, db, r, i, &scale, st);
        if (!d) {
            hw_res_free(r);
            goto out_release;
        }
        out->disputes[out->n_disputes++] = d;
    }
    hw_res_free(r);
    if (hw_audit(db, call, NULL, by_episode ? "episode" : "child",
                 by_episode ? req->episode_id : req->child_id, st) != 0)
        goto out_release;
    *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- CSE matrix */

static const char *weight_code(int rank)
{
    return rank >= RISK_RANK_LOW && rank <= RISK_RANK_HIGH ? risk_weight_name(rank) : "";
}

static M(CseMatrix) *cse_from_row(hw_call *call, hw_db *db, hw_res *r, int i, bool details,
                                  hw_status *st)
{
    M(CseMatrix) *m = NEW(call, M(CseMatrix), homeward__risk__v1__cse_matrix__init);
    m->id = dup(call, hw_res_get(r, i, CM_ID));
    m->child_id = dup(call, hw_res_get(r, i, CM_CHILD));
    m->episode_id = dup(call, hw_res_get(r, i, CM_EPISODE));
    m->level = dup(call, weight_code((int)hw_res_int(r, i, CM_LEVEL)));
    m->ticked_level = dup(
        call, *hw_res_get(r, i, CM_TICKED) ? weight_code(atoi(hw_res_get(r, i, CM_TICKED))) : "");
    m->raised = hw_res_bool(r, i, CM_RAISED);
    m->review_date = dup(call, hw_res_get(r, i, CM_REVIEW));
    m->child_consent = (M(Consent))hw_res_int(r, i, CM_CONSENT);
    m->parents_aware = (M(Consent))hw_res_int(r, i, CM_PARENTS);
    m->child_present = hw_res_bool(r, i, CM_PRESENT);
    m->routing = (M(CseRouting))hw_res_int(r, i, CM_ROUTING);
    m->prompt_id = dup(call, hw_res_get(r, i, CM_PROMPT));
    m->recorded_by_id = dup(call, hw_res_get(r, i, CM_BY_ID));
    m->recorded_by_role = dup(call, hw_res_get(r, i, CM_BY_ROLE));
    m->recorded_at = dup(call, hw_res_get(r, i, CM_AT));
    m->details_withheld = !details;
    m->raise_rationale = dup(call, details ? hw_res_get(r, i, CM_RAISE_WHY) : "");
    m->category_of_offending = dup(call, details ? hw_res_get(r, i, CM_CATEGORY) : "");
    m->comments = dup(call, details ? hw_res_get(r, i, CM_COMMENTS) : "");
    if (details) {
        hw_res *ind = store_cse_matrix_indicators(db, m->id, st);
        if (!ind)
            return NULL;
        int n = hw_res_rows(ind);
        m->indicator_codes = hw_call_alloc(call, sizeof(char *) * (size_t)(n + 1));
        for (int j = 0; j < n; j++)
            m->indicator_codes[m->n_indicator_codes++] = dup(call, hw_res_get(ind, j, 0));
        hw_res_free(ind);
    }
    hw_res *sh = store_cse_matrix_shares(db, m->id, st);
    if (!sh)
        return NULL;
    int n = hw_res_rows(sh);
    m->shared_with = hw_call_alloc(call, sizeof(char *) * (size_t)(n + 1));
    for (int j = 0; j < n; j++)
        m->shared_with[m->n_shared_with++] = dup(call, hw_res_get(sh, j, 0));
    hw_res_free(sh);
    return m;
}

static int publish_cse_referral(hw_db *db, const char *matrix_id, const char *child_id,
                                const char *level, const char *recipient, hw_status *st)
{
    char subject[80];
    snprintf(subject, sizeof subject, "cse_matrix:%s", matrix_id);
    return publish(db, "risk.cse_referral", subject,
                   json_pack("{s:s, s:s, s:s, s:s}", "matrix_id", matrix_id, "child_id", child_id,
                             "level", level, "recipient", recipient),
                   st);
}

static void h_record_cse_matrix(hw_call *call, const ProtobufCMessage *reqm,
                                ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordCseMatrixRequest) *req = (const M(RecordCseMatrixRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require(st, "child_id", req->child_id);
    hw_date review;
    if (empty(req->review_date))
        hw_status_violation(st, "review_date", "required (R-RISK-7)");
    else if (risk_parse_date(req->review_date, &review) != 0)
        hw_status_violation(st, "review_date", "expected YYYY-MM-DD");
    else if (date_cmp(review, london_today()) <= 0)
        hw_status_violation(st, "review_date", "must be after today");
    int raised = RISK_RANK_NONE;
    if (!empty(req->raised_level) && (raised = risk_weight_rank(req->raised_level)) < 0)
        hw_status_violation(st, "raised_level", "must be low, medium or high");
    if ((int)req->child_consent < 0 || (int)req->child_consent > 2)
        hw_status_violation(st, "child_consent", "not a known value");
    if ((int)req->parents_aware < 0 || (int)req->parents_aware > 2)
        hw_status_violation(st, "parents_aware", "not a known value");
    if (!empty(req->prompt_id) && !is_uuid(req->prompt_id))
        hw_status_violation(st, "prompt_id", "not a valid id");
    for (size_t i = 0; i < req->n_indicator_codes; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(req->indicator_codes[i], req->indicator_codes[j]) == 0) {
                char f[48];
                snprintf(f, sizeof f, "indicator_codes[%zu]", i);
                hw_status_violation(st, f, "ticked twice");
            }
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__cse_matrix__descriptor, resp,
                     st) != 0)
        goto out_release;
    int *weights = hw_call_alloc(call, sizeof(int) * (req->n_indicator_codes + 1));
    for (size_t i = 0; i < req->n_indicator_codes; i++) {
        weights[i] = store_cse_indicator_rank(db, req->indicator_codes[i], st);
        if (weights[i] == -2)
            goto out_release;
        if (weights[i] < 0) {
            char f[48];
            snprintf(f, sizeof f, "indicator_codes[%zu]", i);
            hw_status_violation(st, f, "not an indicator of the CSE Risk Factor Matrix");
        }
    }
    if (!empty(req->prompt_id)) {
        hw_res *p = store_cse_prompt(db, req->prompt_id, st);
        if (!p)
            goto out_release;
        if (hw_res_rows(p) == 0 || strcmp(hw_res_get(p, 0, 0), ch.child_id) != 0)
            hw_status_violation(st, "prompt_id", "no such prompt for this child");
        else if (*hw_res_get(p, 0, 1))
            hw_status_violation(st, "prompt_id", "already answered by a matrix");
        hw_res_free(p);
    }
    if (st->n_violations > 0)
        goto out_release;
    /* R-RISK-7: highest ticked weight unless the assessor raises it. */
    int ticked = RISK_RANK_NONE;
    for (size_t i = 0; i < req->n_indicator_codes; i++)
        if (weights[i] > ticked)
            ticked = weights[i];
    int level = risk_cse_matrix_level(weights, (int)req->n_indicator_codes, raised,
                                      req->raise_rationale, st);
    if (level < 0)
        goto out_release;
    int routing = risk_cse_routing(level, (int)req->child_consent);
    risk_cse_row row = {
        .child_id = ch.child_id, .episode_id = req->episode_id,
        .raise_rationale = req->raise_rationale, .category = req->category_of_offending,
        .review_date = req->review_date, .comments = req->comments,
        .prompt_id = empty(req->prompt_id) ? NULL : req->prompt_id, .level_rank = level,
        .ticked_rank = ticked, .child_consent = (int)req->child_consent,
        .parents_aware = (int)req->parents_aware, .routing = routing, .raised = level > ticked,
        .child_present = req->child_present, .by_id = who->sub,
        .by_role = acting_role(who, R_CSE_WRITE), .org = who->org};
    char id[40];
    if (store_insert_cse_matrix(db, &row, id, st) != 0)
        goto out_release;
    for (size_t i = 0; i < req->n_indicator_codes; i++)
        if (store_insert_cse_indicator(db, id, req->indicator_codes[i], st) != 0)
            goto out_release;
    if (row.prompt_id && store_close_cse_prompt(db, row.prompt_id, id, st) != 0)
        goto out_release;
    /* Medium/high: referred to the commissioned provider and the CSE link. */
    if (routing == RISK_CSE_REFERRED) {
        if (store_insert_cse_share(db, id, "commissioned_provider", who->sub, st) != 0 ||
            store_insert_cse_share(db, id, "cse_link", who->sub, st) != 0 ||
            publish_cse_referral(db, id, ch.child_id, weight_code(level), "commissioned_provider",
                                 st) != 0)
            goto out_release;
    }
    if (hw_audit(db, call, NULL, "cse_matrix", id, st) != 0)
        goto out_release;
    hw_res *m = store_cse_matrix(db, id, st);
    if (!m)
        goto out_release;
    M(CseMatrix) *out = cse_from_row(call, db, m, 0, true, st);
    hw_res_free(m);
    if (out && finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_share_cse_matrix(hw_call *call, const ProtobufCMessage *reqm,
                               ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ShareCseMatrixRequest) *req = (const M(ShareCseMatrixRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require_uuid(st, "matrix_id", req->matrix_id);
    require(st, "recipient", req->recipient);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *m = store_cse_matrix(db, req->matrix_id, st);
    if (!m)
        goto out_release;
    if (hw_res_rows(m) == 0) {
        hw_res_free(m);
        hw_status_set(st, HW_NOT_FOUND, "no such CSE matrix");
        goto out_release;
    }
    char child_id[64];
    snprintf(child_id, sizeof child_id, "%s", hw_res_get(m, 0, CM_CHILD));
    hw_res_free(m);
    hw_pg_release(db);
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, child_id, "matrix_id", &ch, st) != 0)
        return;
    if (!(db = acquire(app, st)))
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__cse_matrix__descriptor, resp,
                     st) != 0)
        goto out_release;
    if (!(m = store_cse_matrix(db, req->matrix_id, st)))
        goto out_release;
    int level = (int)hw_res_int(m, 0, CM_LEVEL), consent = (int)hw_res_int(m, 0, CM_CONSENT);
    hw_res_free(m);
    /* R-RISK-7: ALL LOW RISK CASES MUST HAVE CONSENT BEFORE INFORMATION CAN BE SHARED. */
    if (!risk_cse_share_allowed(level, consent)) {
        hw_status_set(st, HW_FAILED_PRECONDITION,
                      "a low-risk CSE matrix may be shared only with the child's recorded "
                      "consent (R-RISK-7)");
        goto out_release;
    }
    if (store_insert_cse_share(db, req->matrix_id, req->recipient, who->sub, st) != 0 ||
        publish_cse_referral(db, req->matrix_id, child_id, weight_code(level), req->recipient,
                             st) != 0 ||
        hw_audit(db, call, NULL, "cse_matrix", req->matrix_id, st) != 0)
        goto out_release;
    if (!(m = store_cse_matrix(db, req->matrix_id, st)))
        goto out_release;
    M(CseMatrix) *out = cse_from_row(call, db, m, 0, has_any(who, R_CSE_DETAIL), st);
    hw_res_free(m);
    if (out && finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_list_cse_matrices(hw_call *call, const ProtobufCMessage *reqm,
                                ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ListCseMatricesRequest) *req = (const M(ListCseMatricesRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "child_id", req->child_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    bool details = has_any(hw_call_principal(call), R_CSE_DETAIL);
    M(ListCseMatricesResponse) *out = NEW(call, M(ListCseMatricesResponse),
                                          homeward__risk__v1__list_cse_matrices_response__init);
    hw_res *r = store_cse_matrices(db, ch.child_id, st);
    if (!r)
        goto out_release;
    int n = hw_res_rows(r);
    out->matrices = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(CseMatrix) *m = cse_from_row(call, db, r, i, details, st);
        if (!m) {
            hw_res_free(r);
            goto out_release;
        }
        out->matrices[out->n_matrices++] = m;
    }
    hw_res_free(r);
    if (hw_audit(db, call, NULL, "child", ch.child_id, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_list_cse_prompts(hw_call *call, const ProtobufCMessage *reqm,
                               ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ListCsePromptsRequest) *req = (const M(ListCsePromptsRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "child_id", req->child_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    M(ListCsePromptsResponse) *out = NEW(call, M(ListCsePromptsResponse),
                                         homeward__risk__v1__list_cse_prompts_response__init);
    hw_res *r = store_cse_prompts(db, ch.child_id, req->include_closed, st);
    if (!r)
        goto out_release;
    int n = hw_res_rows(r);
    out->prompts = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(CsePrompt) *p = NEW(call, M(CsePrompt), homeward__risk__v1__cse_prompt__init);
        p->id = dup(call, hw_res_get(r, i, 0));
        p->child_id = dup(call, hw_res_get(r, i, 1));
        p->episode_id = dup(call, hw_res_get(r, i, 2));
        p->interview_id = dup(call, hw_res_get(r, i, 3));
        p->created_at = dup(call, hw_res_get(r, i, 4));
        p->matrix_id = dup(call, hw_res_get(r, i, 5));
        p->open = !*p->matrix_id;
        out->prompts[out->n_prompts++] = p;
    }
    hw_res_free(r);
    if (hw_audit(db, call, NULL, "child", ch.child_id, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- LAC plan */

static int parse_instant(hw_status *st, const char *field, const char *value, bool required,
                         int64_t *out)
{
    *out = 0;
    if (empty(value)) {
        if (required)
            hw_status_violation(st, field, "required");
        return required ? -1 : 0;
    }
    if (hw_parse_rfc3339(value, out) != 0) {
        hw_status_violation(st, field, "expected an RFC 3339 instant");
        return -1;
    }
    return 0;
}

static void h_require_lac_plan(hw_call *call, const ProtobufCMessage *reqm,
                               ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RequireLacPlanRequest) *req = (const M(RequireLacPlanRequest) *)reqm;
    hw_app *app = ctx;
    require_request_id(call, st, req->request_id);
    require(st, "child_id", req->child_id);
    int placement = (int)req->placement;
    if (placement != RISK_PLACEMENT_PLANNED && placement != RISK_PLACEMENT_EMERGENCY)
        hw_status_violation(st, "placement", "required: PLANNED or EMERGENCY");
    int64_t started = 0, meeting = 0;
    parse_instant(st, "placement_started_at", req->placement_started_at, true, &started);
    parse_instant(st, "pre_placement_meeting_at", req->pre_placement_meeting_at, false, &meeting);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    if (!ch.looked_after) {
        hw_status_violation(st, "child_id", "the LAC risk assessment is for a looked-after child");
        return;
    }
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__lac_plan_due__descriptor,
                     resp, st) != 0)
        goto out_release;
    /* R-RISK-8: emergency within 3 working days; planned at the meeting. */
    int64_t due = risk_lac_plan_due(placement, started, meeting);
    json_t *pj = json_pack("{s:s, s:i}", "child_id", ch.child_id, "placement", placement);
    char *payload = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
    json_decref(pj);
    int rc = hw_schedule(hw_app_scheduler(app), db, RISK_DEADLINE_LAC_PLAN_DUE, ch.child_id, due,
                         payload, st);
    free(payload);
    if (rc != 0 || hw_audit(db, call, NULL, "child", ch.child_id, st) != 0)
        goto out_release;
    M(LacPlanDue) *out = NEW(call, M(LacPlanDue), homeward__risk__v1__lac_plan_due__init);
    out->child_id = dup(call, ch.child_id);
    out->due_at = now_text(call, due);
    if (finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_record_lac_plan(hw_call *call, const ProtobufCMessage *reqm,
                              ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordLacPlanRequest) *req = (const M(RecordLacPlanRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require(st, "child_id", req->child_id);
    int placement = (int)req->placement;
    if (placement != RISK_PLACEMENT_PLANNED && placement != RISK_PLACEMENT_EMERGENCY)
        hw_status_violation(st, "placement", "required: PLANNED or EMERGENCY");
    hw_date meeting;
    if (empty(req->meeting_date))
        hw_status_violation(st, "meeting_date", "required");
    else if (risk_parse_date(req->meeting_date, &meeting) != 0)
        hw_status_violation(st, "meeting_date", "expected YYYY-MM-DD");
    int64_t started = 0;
    parse_instant(st, "placement_started_at", req->placement_started_at, false, &started);
    require(st, "concluding_assessment", req->concluding_assessment);
    require(st, "action_plan", req->action_plan);
    for (size_t i = 0; i < req->n_indicators; i++) {
        char f[64];
        if (empty(req->indicators[i]->indicator_code)) {
            snprintf(f, sizeof f, "indicators[%zu].indicator_code", i);
            hw_status_violation(st, f, "required");
        }
    }
    for (size_t i = 0; i < req->n_places; i++) {
        const M(KnownPlace) *p = req->places[i];
        char f[64];
        if (empty(p->address)) {
            snprintf(f, sizeof f, "places[%zu].address", i);
            hw_status_violation(st, f, "required");
        }
        if (risk_weight_rank(p->known_risk) < 0) {
            snprintf(f, sizeof f, "places[%zu].known_risk", i);
            hw_status_violation(st, f, "must be low, medium or high");
        }
        if (empty(p->action)) {
            snprintf(f, sizeof f, "places[%zu].action", i);
            hw_status_violation(st, f, "required");
        }
    }
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    if (!ch.looked_after) {
        hw_status_violation(st, "child_id", "the LAC risk assessment is for a looked-after child");
        return;
    }
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__lac_plan__descriptor, resp,
                     st) != 0)
        goto out_release;
    for (size_t i = 0; i < req->n_indicators; i++) {
        int ok = store_lac_indicator_exists(db, req->indicators[i]->indicator_code, st);
        if (ok < 0)
            goto out_release;
        char f[64];
        snprintf(f, sizeof f, "indicators[%zu].indicator_code", i);
        if (!ok)
            hw_status_violation(st, f, "not an indicator of the LAC risk assessment");
        for (size_t j = 0; j < i; j++)
            if (strcmp(req->indicators[i]->indicator_code, req->indicators[j]->indicator_code) == 0)
                hw_status_violation(st, f, "given twice");
    }
    if (st->n_violations > 0)
        goto out_release;
    /* R-RISK-8: reviewed at least every 6 months. */
    hw_date review = risk_add_months(meeting, 6);
    char review_text[16];
    snprintf(review_text, sizeof review_text, "%04d-%02d-%02d", review.y, review.m, review.d);
    char id[40], at[40];
    const char *started_text = started ? req->placement_started_at : NULL;
    if (store_insert_lac_plan(db, ch.child_id, placement, started_text, req->meeting_date,
                              review_text, req->concluding_assessment, req->action_plan,
                              req->copies_given_to, who->sub, acting_role(who, R_LAC_WRITE),
                              who->org, id, at, st) != 0)
        goto out_release;
    for (size_t i = 0; i < req->n_indicators; i++)
        if (store_insert_lac_indicator(db, id, req->indicators[i]->indicator_code,
                                       req->indicators[i]->information, st) != 0)
            goto out_release;
    for (size_t i = 0; i < req->n_places; i++)
        if (store_insert_lac_place(db, id, (int)i + 1, req->places[i]->address,
                                   req->places[i]->known_risk, req->places[i]->action, st) != 0)
            goto out_release;
    /* The plan is done: its due deadline is met; the review is next. */
    if (hw_cancel(hw_app_scheduler(app), db, RISK_DEADLINE_LAC_PLAN_DUE, ch.child_id, st) != 0 ||
        hw_schedule(hw_app_scheduler(app), db, RISK_DEADLINE_LAC_PLAN_REVIEW, ch.child_id,
                    hw_london_instant(review, 9, 0), NULL, st) != 0 ||
        hw_audit(db, call, NULL, "lac_plan", id, st) != 0)
        goto out_release;
    M(LacPlan) *out = NEW(call, M(LacPlan), homeward__risk__v1__lac_plan__init);
    out->id = dup(call, id);
    out->child_id = dup(call, ch.child_id);
    out->placement = req->placement;
    out->placement_started_at = dup(call, req->placement_started_at);
    out->meeting_date = dup(call, req->meeting_date);
    out->review_due = dup(call, review_text);
    out->indicators = req->indicators;
    out->n_indicators = req->n_indicators;
    out->concluding_assessment = dup(call, req->concluding_assessment);
    out->action_plan = dup(call, req->action_plan);
    out->places = req->places;
    out->n_places = req->n_places;
    out->copies_given_to = dup(call, req->copies_given_to);
    out->recorded_by_id = dup(call, who->sub);
    out->recorded_at = dup(call, at);
    if (finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_list_lac_plans(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **resp,
                             hw_status *st, void *ctx)
{
    const M(ListLacPlansRequest) *req = (const M(ListLacPlansRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "child_id", req->child_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *r = store_lac_plans(db, ch.child_id, st);
    if (!r)
        goto out_release;
    M(ListLacPlansResponse) *out =
        NEW(call, M(ListLacPlansResponse), homeward__risk__v1__list_lac_plans_response__init);
    int n = hw_res_rows(r);
    out->plans = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(LacPlan) *p = NEW(call, M(LacPlan), homeward__risk__v1__lac_plan__init);
        p->id = dup(call, hw_res_get(r, i, 0));
        p->child_id = dup(call, hw_res_get(r, i, 1));
        p->placement = (M(PlacementKind))hw_res_int(r, i, 2);
        p->placement_started_at = dup(call, hw_res_get(r, i, 3));
        p->meeting_date = dup(call, hw_res_get(r, i, 4));
        p->review_due = dup(call, hw_res_get(r, i, 5));
        p->concluding_assessment = dup(call, hw_res_get(r, i, 6));
        p->action_plan = dup(call, hw_res_get(r, i, 7));
        p->copies_given_to = dup(call, hw_res_get(r, i, 8));
        p->recorded_by_id = dup(call, hw_res_get(r, i, 9));
        p->recorded_at = dup(call, hw_res_get(r, i, 10));
        out->plans[out->n_plans++] = p;
        hw_res *ind = store_lac_plan_indicators(db, p->id, st);
        hw_res *pl = ind ? store_lac_plan_places(db, p->id, st) : NULL;
        if (!pl) {
            hw_res_free(ind);
            hw_res_free(r);
            goto out_release;
        }
        int ni = hw_res_rows(ind), np = hw_res_rows(pl);
        p->indicators = hw_call_alloc(call, sizeof(void *) * (size_t)(ni + 1));
        for (int j = 0; j < ni; j++) {
            M(LacIndicatorAnswer) *a =
                NEW(call, M(LacIndicatorAnswer), homeward__risk__v1__lac_indicator_answer__init);
            a->indicator_code = dup(call, hw_res_get(ind, j, 0));
            a->information = dup(call, hw_res_get(ind, j, 1));
            p->indicators[p->n_indicators++] = a;
        }
        p->places = hw_call_alloc(call, sizeof(void *) * (size_t)(np + 1));
        for (int j = 0; j < np; j++) {
            M(KnownPlace) *k = NEW(call, M(KnownPlace), homeward__risk__v1__known_place__init);
            k->address = dup(call, hw_res_get(pl, j, 0));
            k->known_risk = dup(call, hw_res_get(pl, j, 1));
            k->action = dup(call, hw_res_get(pl, j, 2));
            p->places[p->n_places++] = k;
        }
        hw_res_free(ind);
        hw_res_free(pl);
    }
    hw_res_free(r);
    if (hw_audit(db, call, NULL, "child", ch.child_id, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- evaluation matrix */

static void h_list_evaluation_matrices(hw_call *call, const ProtobufCMessage *reqm,
                                       ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ListEvaluationMatricesRequest) *req = (const M(ListEvaluationMatricesRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "child_id", req->child_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *r = store_evaluation_matrices(db, ch.child_id, st);
    if (!r)
        goto out_release;
    M(ListEvaluationMatricesResponse) *out =
        NEW(call, M(ListEvaluationMatricesResponse),
            homeward__risk__v1__list_evaluation_matrices_response__init);
    int n = hw_res_rows(r);
    out->matrices = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(EvaluationMatrix) *m =
            NEW(call, M(EvaluationMatrix), homeward__risk__v1__evaluation_matrix__init);
        m->id = dup(call, hw_res_get(r, i, 0));
        m->child_id = dup(call, hw_res_get(r, i, 1));
        m->episode_id = dup(call, hw_res_get(r, i, 2));
        m->vulnerability_comments = dup(call, hw_res_get(r, i, 3));
        m->engages_in_return_interviews = dup(call, hw_res_get(r, i, 4));
        m->identified_level = dup(call, hw_res_get(r, i, 5));
        m->actions = dup(call, hw_res_get(r, i, 6));
        m->recorded_by_id = dup(call, hw_res_get(r, i, 7));
        m->recorded_at = dup(call, hw_res_get(r, i, 8));
        out->matrices[out->n_matrices++] = m;
        hw_res *items = store_evaluation_matrix_items(db, m->id, st);
        if (!items) {
            hw_res_free(r);
            goto out_release;
        }
        int ni = hw_res_rows(items);
        m->vulnerabilities = hw_call_alloc(call, sizeof(char *) * (size_t)(ni + 1));
        m->indicators = hw_call_alloc(call, sizeof(void *) * (size_t)(ni + 1));
        for (int j = 0; j < ni; j++) {
            if (strcmp(hw_res_get(items, j, 1), "vulnerability") == 0) {
                m->vulnerabilities[m->n_vulnerabilities++] = dup(call, hw_res_get(items, j, 0));
                continue;
            }
            M(EvaluatedIndicator) *x =
                NEW(call, M(EvaluatedIndicator), homeward__risk__v1__evaluated_indicator__init);
            x->code = dup(call, hw_res_get(items, j, 0));
            x->impact = dup(call, hw_res_get(items, j, 2));
            x->likelihood = dup(call, hw_res_get(items, j, 3));
            x->details = dup(call, hw_res_get(items, j, 4));
            m->indicators[m->n_indicators++] = x;
        }
        hw_res_free(items);
    }
    hw_res_free(r);
    if (hw_audit(db, call, NULL, "child", ch.child_id, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_record_evaluation_matrix(hw_call *call, const ProtobufCMessage *reqm,
                                       ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordEvaluationMatrixRequest) *req = (const M(RecordEvaluationMatrixRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    const M(EvaluationMatrix) *m = req->matrix;
    if (!m) {
        hw_status_violation(st, "matrix", "required");
        return;
    }
    require(st, "matrix.child_id", m->child_id);
    if (risk_weight_rank(m->identified_level) < 0)
        hw_status_violation(st, "matrix.identified_level", "required: low, medium or high");
    const char *eng = m->engages_in_return_interviews ? m->engages_in_return_interviews : "";
    if (*eng && strcmp(eng, "yes") != 0 && strcmp(eng, "no") != 0 && strcmp(eng, "sometimes") != 0)
        hw_status_violation(st, "matrix.engages_in_return_interviews",
                            "must be yes, no or sometimes");
    for (size_t i = 0; i < m->n_indicators; i++) {
        const M(EvaluatedIndicator) *x = m->indicators[i];
        char f[64];
        if (risk_weight_rank(x->impact) < 0) {
            snprintf(f, sizeof f, "matrix.indicators[%zu].impact", i);
            hw_status_violation(st, f, "required: low, medium or high");
        }
        if (risk_weight_rank(x->likelihood) < 0) {
            snprintf(f, sizeof f, "matrix.indicators[%zu].likelihood", i);
            hw_status_violation(st, f, "required: low, medium or high");
        }
    }
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, m->child_id, "matrix.child_id", &ch,
                         st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__evaluation_matrix__descriptor,
                     resp, st) != 0)
        goto out_release;
    for (size_t i = 0; i < m->n_vulnerabilities; i++) {
        int ok = store_evaluation_item_is(db, m->vulnerabilities[i], "vulnerability", st);
        if (ok < 0)
            goto out_release;
        char f[64];
        snprintf(f, sizeof f, "matrix.vulnerabilities[%zu]", i);
        if (!ok)
            hw_status_violation(st, f, "not a vulnerability of the risk evaluation matrix");
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->vulnerabilities[i], m->vulnerabilities[j]) == 0)
                hw_status_violation(st, f, "given twice");
    }
    for (size_t i = 0; i < m->n_indicators; i++) {
        int ok = store_evaluation_item_is(db, m->indicators[i]->code, "risk_indicator", st);
        if (ok < 0)
            goto out_release;
        char f[64];
        snprintf(f, sizeof f, "matrix.indicators[%zu].code", i);
        if (!ok)
            hw_status_violation(st, f, "not a risk indicator of the risk evaluation matrix");
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->indicators[i]->code, m->indicators[j]->code) == 0)
                hw_status_violation(st, f, "given twice");
    }
    if (st->n_violations > 0)
        goto out_release;
    char id[40], at[40];
    if (store_insert_evaluation(db, ch.child_id, m->episode_id, m->vulnerability_comments, eng,
                                m->identified_level, m->actions, who->sub,
                                acting_role(who, R_EVAL_WRITE), who->org, id, at, st) != 0)
        goto out_release;
    for (size_t i = 0; i < m->n_vulnerabilities; i++)
        if (store_insert_evaluation_item(db, id, m->vulnerabilities[i], NULL, NULL, "", st) != 0)
            goto out_release;
    for (size_t i = 0; i < m->n_indicators; i++)
        if (store_insert_evaluation_item(db, id, m->indicators[i]->code, m->indicators[i]->impact,
                                         m->indicators[i]->likelihood, m->indicators[i]->details,
                                         st) != 0)
            goto out_release;
    if (hw_audit(db, call, NULL, "evaluation_matrix", id, st) != 0)
        goto out_release;
    M(EvaluationMatrix) *out =
        NEW(call, M(EvaluationMatrix), homeward__risk__v1__evaluation_matrix__init);
    *out = *m;
    out->id = dup(call, id);
    out->child_id = dup(call, ch.child_id);
    out->recorded_by_id = dup(call, who->sub);
    out->recorded_at = dup(call, at);
    if (finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- abduction notice */

static M(AbductionNotice) *notice_from_row(hw_call *call, hw_res *r, int i)
{
    M(AbductionNotice) *n = NEW(call, M(AbductionNotice), homeward__risk__v1__abduction_notice__init);
    n->id = dup(call, hw_res_get(r, i, 0));
    n->child_id = dup(call, hw_res_get(r, i, 1));
    n->episode_id = dup(call, hw_res_get(r, i, 2));
    n->legal_basis = (M(LegalBasis))hw_res_int(r, i, 3);
    n->cites_section_2 = hw_res_bool(r, i, 4);
    n->child_age = (int32_t)hw_res_int(r, i, 5);
    n->child_in_care = hw_res_bool(r, i, 6);
    n->responsible_authority = dup(call, hw_res_get(r, i, 7));
    n->recipient_name = dup(call, hw_res_get(r, i, 8));
    n->recipient_date_of_birth = dup(call, hw_res_get(r, i, 9));
    n->recipient_address = dup(call, hw_res_get(r, i, 10));
    n->photograph_shown = hw_res_bool(r, i, 11);
    n->identification_without_photograph = dup(call, hw_res_get(r, i, 12));
    n->officer_collar_number = dup(call, hw_res_get(r, i, 13));
    n->officer_name = dup(call, hw_res_get(r, i, 14));
    n->station = dup(call, hw_res_get(r, i, 15));
    n->served_at = dup(call, hw_res_get(r, i, 16));
    n->recipient_signed = hw_res_bool(r, i, 17);
    n->refusal_reason = dup(call, hw_res_get(r, i, 18));
    n->recorded_by_id = dup(call, hw_res_get(r, i, 19));
    n->recorded_at = dup(call, hw_res_get(r, i, 20));
    return n;
}

static void h_record_abduction_notice(hw_call *call, const ProtobufCMessage *reqm,
                                      ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordAbductionNoticeRequest) *req = (const M(RecordAbductionNoticeRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    const M(AbductionNotice) *n = req->notice;
    if (!n) {
        hw_status_violation(st, "notice", "required");
        return;
    }
    require(st, "notice.child_id", n->child_id);
    require(st, "notice.recipient_name", n->recipient_name);
    require(st, "notice.officer_collar_number", n->officer_collar_number);
    require(st, "notice.officer_name", n->officer_name);
    int64_t served = 0;
    if (parse_instant(st, "notice.served_at", n->served_at, true, &served) == 0 &&
        served > hw_now_ms() + 5 * 60 * 1000)
        hw_status_violation(st, "notice.served_at", "is in the future");
    hw_date rdob;
    if (!empty(n->recipient_date_of_birth) && risk_parse_date(n->recipient_date_of_birth, &rdob) != 0)
        hw_status_violation(st, "notice.recipient_date_of_birth", "expected YYYY-MM-DD");
    if (!n->photograph_shown && empty(n->identification_without_photograph))
        hw_status_violation(st, "notice.identification_without_photograph",
                            "required when no photograph was shown: how the recipient knows "
                            "which young person is meant");
    if (!n->recipient_signed && empty(n->refusal_reason))
        hw_status_violation(st, "notice.refusal_reason",
                            "required when the recipient did not sign");
    int requested = (int)n->legal_basis;
    if (requested < 0 || requested > 2)
        hw_status_violation(st, "notice.legal_basis", "unknown legal basis");
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, n->child_id, "notice.child_id", &ch,
                         st) != 0)
        return;
    if (!ch.dob_known) {
        hw_status_violation(st, "notice.child_id",
                            "the child's date of birth is not recorded: the legal basis depends "
                            "on it");
        return;
    }
    /* R-CAWN-1: age on the day served, and care status. */
    int minute;
    int age = risk_age_years(ch.dob, hw_london_date(served, &minute));
    int basis;
    bool cites_s2;
    hw_status basis_st = HW_STATUS_INIT;
    if (risk_cawn_basis(age, ch.looked_after, requested, &basis, &cites_s2, &basis_st) != 0) {
        /* The rules name bare fields; ours sit inside notice. */
        for (int i = 0; i < basis_st.n_violations; i++)
            hw_status_violation(st, strcmp(basis_st.violations[i].field, "legal_basis") == 0
                                        ? "notice.legal_basis" : "notice.child_id",
                                "%s", basis_st.violations[i].description);
        return;
    }
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__abduction_notice__descriptor,
                     resp, st) != 0)
        goto out_release;
    char served_text[40];
    hw_format_rfc3339(served, served_text);
    risk_notice_row row = {
        .child_id = ch.child_id, .episode_id = n->episode_id,
        .responsible_authority = ch.responsible_authority, .recipient_name = n->recipient_name,
        .recipient_dob = empty(n->recipient_date_of_birth) ? NULL : n->recipient_date_of_birth,
        .recipient_address = n->recipient_address,
        .identification = n->identification_without_photograph,
        .collar = n->officer_collar_number, .officer = n->officer_name, .station = n->station,
        .served_at = served_text, .refusal_reason = n->refusal_reason, .by_id = who->sub,
        .org = who->org, .legal_basis = basis, .child_age = age, .cites_s2 = cites_s2,
        .in_care = ch.looked_after, .photograph_shown = n->photograph_shown,
        .signed_by_recipient = n->recipient_signed};
    char id[40], at[40];
    if (store_insert_notice(db, &row, id, at, st) != 0)
        goto out_release;
    /* R-NOT-6: the local authority is told. */
    char subject[80];
    snprintf(subject, sizeof subject, "abduction_notice:%s", id);
    if (publish(db, "risk.abduction_notice_served", subject,
                json_pack("{s:s, s:s, s:s, s:s}", "notice_id", id, "child_id", ch.child_id,
                          "responsible_authority", ch.responsible_authority, "legal_basis",
                          risk_legal_basis_name(basis)),
                st) != 0 ||
        hw_audit(db, call, NULL, "abduction_notice", id, st) != 0)
        goto out_release;
    M(AbductionNotice) *out = NEW(call, M(AbductionNotice), homeward__risk__v1__abduction_notice__init);
    *out = *n;
    out->id = dup(call, id);
    out->child_id = dup(call, ch.child_id);
    out->legal_basis = (M(LegalBasis))basis;
    out->cites_section_2 = cites_s2;
    out->child_age = age;
    out->child_in_care = ch.looked_after;
    out->responsible_authority = dup(call, ch.responsible_authority);
    out->served_at = dup(call, served_text);
    out->recorded_by_id = dup(call, who->sub);
    out->recorded_at = dup(call, at);
    if (finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_list_abduction_notices(hw_call *call, const ProtobufCMessage *reqm,
                                     ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ListAbductionNoticesRequest) *req = (const M(ListAbductionNoticesRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "child_id", req->child_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *r = store_notices(db, ch.child_id, st);
    if (!r)
        goto out_release;
    M(ListAbductionNoticesResponse) *out =
        NEW(call, M(ListAbductionNoticesResponse),
            homeward__risk__v1__list_abduction_notices_response__init);
    int n = hw_res_rows(r);
    out->notices = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        out->notices[out->n_notices++] = notice_from_row(call, r, i);
    hw_res_free(r);
    if (hw_audit(db, call, NULL, "child", ch.child_id, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- intelligence */

static void h_record_intelligence_report(hw_call *call, const ProtobufCMessage *reqm,
                                         ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordIntelligenceReportRequest) *req =
        (const M(RecordIntelligenceReportRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    const M(IntelligenceReport) *rep = req->report;
    if (!rep) {
        hw_status_violation(st, "report", "required");
        return;
    }
    if ((int)rep->source < 1 || (int)rep->source > 3)
        hw_status_violation(st, "report.source",
                            "required: DISCLOSURE, PROFESSIONAL_OBSERVATION or THIRD_PARTY");
    if (rep->n_items == 0)
        hw_status_violation(st, "report.items",
                            "at least one suspect, vehicle, phone, location, offence or time");
    int64_t *when = hw_call_alloc(call, sizeof(int64_t) * (rep->n_items + 1));
    for (size_t i = 0; i < rep->n_items; i++) {
        const M(IntelligenceItem) *it = rep->items[i];
        char f[64];
        if (empty(it->ref)) {
            snprintf(f, sizeof f, "report.items[%zu].ref", i);
            hw_status_violation(st, f, "required");
        } else {
            for (size_t j = 0; j < i; j++)
                if (!empty(rep->items[j]->ref) && strcmp(rep->items[j]->ref, it->ref) == 0) {
                    snprintf(f, sizeof f, "report.items[%zu].ref", i);
                    hw_status_violation(st, f, "used twice in this report");
                }
        }
        if ((int)it->kind < 1 || (int)it->kind > 6) {
            snprintf(f, sizeof f, "report.items[%zu].kind", i);
            hw_status_violation(st, f, "required");
        }
        if (empty(it->description)) {
            snprintf(f, sizeof f, "report.items[%zu].description", i);
            hw_status_violation(st, f, "required");
        }
        snprintf(f, sizeof f, "report.items[%zu].occurred_at", i);
        parse_instant(st, f, it->occurred_at,
                      it->kind == HOMEWARD__RISK__V1__INTELLIGENCE_KIND__INTELLIGENCE_KIND_TIME,
                      &when[i]);
    }
    for (size_t i = 0; i < rep->n_links; i++) {
        const M(IntelligenceLink) *l = rep->links[i];
        const char *ends[2] = {l->from_ref, l->to_ref};
        for (int e = 0; e < 2; e++) {
            bool found = false;
            for (size_t j = 0; j < rep->n_items && !found; j++)
                found = !empty(ends[e]) && !empty(rep->items[j]->ref) &&
                        strcmp(rep->items[j]->ref, ends[e]) == 0;
            if (!found) {
                char f[64];
                snprintf(f, sizeof f, "report.links[%zu].%s", i, e ? "to_ref" : "from_ref");
                hw_status_violation(st, f, "must name an item of this report");
            }
        }
        if (!empty(l->from_ref) && !empty(l->to_ref) && strcmp(l->from_ref, l->to_ref) == 0) {
            char f[64];
            snprintf(f, sizeof f, "report.links[%zu].to_ref", i);
            hw_status_violation(st, f, "a link joins two different items");
        }
    }
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    memset(&ch, 0, sizeof ch);
    if (!empty(rep->child_id) &&
        risk_fetch_child(service_of(ctx)->episodes, call, rep->child_id, "report.child_id", &ch,
                         st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id,
                     &homeward__risk__v1__intelligence_report__descriptor, resp, st) != 0)
        goto out_release;
    char id[40], at[40];
    if (store_insert_intelligence(db, ch.child_id, (int)rep->source, rep->summary, who->sub,
                                  acting_role(who, R_ANY_PROFESSIONAL), who->org, id, at, st) != 0)
        goto out_release;
    for (size_t i = 0; i < rep->n_items; i++) {
        char occ[40];
        if (when[i])
            hw_format_rfc3339(when[i], occ);
        if (store_insert_intelligence_item(db, id, rep->items[i]->ref, (int)rep->items[i]->kind,
                                           rep->items[i]->description, rep->items[i]->identifier,
                                           when[i] ? occ : NULL, (int)i + 1, st) != 0)
            goto out_release;
    }
    for (size_t i = 0; i < rep->n_links; i++)
        if (store_insert_intelligence_link(db, id, rep->links[i]->from_ref, rep->links[i]->to_ref,
                                           rep->links[i]->description, (int)i + 1, st) != 0)
            goto out_release;
    if (hw_audit(db, call, NULL, "intelligence_report", id, st) != 0)
        goto out_release;
    M(IntelligenceReport) *out =
        NEW(call, M(IntelligenceReport), homeward__risk__v1__intelligence_report__init);
    *out = *rep;
    out->id = dup(call, id);
    out->child_id = dup(call, ch.child_id);
    out->recorded_by_id = dup(call, who->sub);
    out->recorded_by_role = dup(call, acting_role(who, R_ANY_PROFESSIONAL));
    out->recorded_at = dup(call, at);
    if (finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_list_intelligence_reports(hw_call *call, const ProtobufCMessage *reqm,
                                        ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(ListIntelligenceReportsRequest) *req = (const M(ListIntelligenceReportsRequest) *)reqm;
    hw_app *app = ctx;
    require(st, "child_id", req->child_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    bool details = has_any(hw_call_principal(call), R_INTEL_DETAIL);
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *r = store_intelligence_reports(db, ch.child_id, st);
    if (!r)
        goto out_release;
    M(ListIntelligenceReportsResponse) *out =
        NEW(call, M(ListIntelligenceReportsResponse),
            homeward__risk__v1__list_intelligence_reports_response__init);
    int n = hw_res_rows(r);
    out->reports = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(IntelligenceReport) *rep =
            NEW(call, M(IntelligenceReport), homeward__risk__v1__intelligence_report__init);
        rep->id = dup(call, hw_res_get(r, i, 0));
        rep->child_id = dup(call, hw_res_get(r, i, 1));
        rep->source = (M(IntelligenceSource))hw_res_int(r, i, 2);
        rep->recorded_by_id = dup(call, hw_res_get(r, i, 4));
        rep->recorded_by_role = dup(call, hw_res_get(r, i, 5));
        rep->recorded_at = dup(call, hw_res_get(r, i, 6));
        rep->details_withheld = !details;
        rep->summary = dup(call, details ? hw_res_get(r, i, 3) : "");
        out->reports[out->n_reports++] = rep;
        if (!details)
            continue;
        hw_res *items = store_intelligence_items(db, rep->id, st);
        hw_res *links = items ? store_intelligence_links(db, rep->id, st) : NULL;
        if (!links) {
            hw_res_free(items);
            hw_res_free(r);
            goto out_release;
        }
        int ni = hw_res_rows(items), nl = hw_res_rows(links);
        rep->items = hw_call_alloc(call, sizeof(void *) * (size_t)(ni + 1));
        for (int j = 0; j < ni; j++) {
            M(IntelligenceItem) *it =
                NEW(call, M(IntelligenceItem), homeward__risk__v1__intelligence_item__init);
            it->ref = dup(call, hw_res_get(items, j, 0));
            it->kind = (M(IntelligenceKind))hw_res_int(items, j, 1);
            it->description = dup(call, hw_res_get(items, j, 2));
            it->identifier = dup(call, hw_res_get(items, j, 3));
            it->occurred_at = dup(call, hw_res_get(items, j, 4));
            rep->items[rep->n_items++] = it;
        }
        rep->links = hw_call_alloc(call, sizeof(void *) * (size_t)(nl + 1));
        for (int j = 0; j < nl; j++) {
            M(IntelligenceLink) *l =
                NEW(call, M(IntelligenceLink), homeward__risk__v1__intelligence_link__init);
            l->from_ref = dup(call, hw_res_get(links, j, 0));
            l->to_ref = dup(call, hw_res_get(links, j, 1));
            l->description = dup(call, hw_res_get(links, j, 2));
            rep->links[rep->n_links++] = l;
        }
        hw_res_free(items);
        hw_res_free(links);
    }
    hw_res_free(r);
    if (hw_audit(db, call, NULL, "child", ch.child_id, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- CPS checklist */

static M(CpsChecklist) *cps_load(hw_call *call, hw_db *db, const char *id, hw_status *st)
{
    hw_res *r = store_cps(db, id, false, st);
    if (!r)
        return NULL;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        hw_status_set(st, HW_NOT_FOUND, "no such checklist");
        return NULL;
    }
    M(CpsChecklist) *c = NEW(call, M(CpsChecklist), homeward__risk__v1__cps_checklist__init);
    c->id = dup(call, hw_res_get(r, 0, 0));
    c->child_id = dup(call, hw_res_get(r, 0, 1));
    c->episode_id = dup(call, hw_res_get(r, 0, 2));
    c->incident_ref = dup(call, hw_res_get(r, 0, 3));
    c->followup_due_at = dup(call, hw_res_get(r, 0, 4));
    c->complete = *hw_res_get(r, 0, 5) != '\0';
    c->created_by_id = dup(call, hw_res_get(r, 0, 6));
    c->created_at = dup(call, hw_res_get(r, 0, 7));
    hw_res_free(r);
    if (!(r = store_cps_answers(db, id, st)))
        return NULL;
    int n = hw_res_rows(r);
    c->answers = hw_call_alloc(call, sizeof(void *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        M(CpsAnswer) *a = NEW(call, M(CpsAnswer), homeward__risk__v1__cps_answer__init);
        a->number = (int32_t)hw_res_int(r, i, 0);
        a->answer = dup(call, hw_res_get(r, i, 1));
        a->answered_at = dup(call, hw_res_get(r, i, 2));
        c->answers[c->n_answers++] = a;
    }
    hw_res_free(r);
    return c;
}

/* Numbers 1..10, each once, with an answer; marks answered[]. */
static void check_cps_answers(hw_status *st, M(CpsAnswer) *const *answers, size_t n,
                              bool answered[11])
{
    for (size_t i = 0; i < n; i++) {
        char f[48];
        int q = answers[i]->number;
        if (q < 1 || q > 10) {
            snprintf(f, sizeof f, "answers[%zu].number", i);
            hw_status_violation(st, f, "must be 1 to 10");
            continue;
        }
        if (answered[q]) {
            snprintf(f, sizeof f, "answers[%zu].number", i);
            hw_status_violation(st, f, "question %d answered twice", q);
        }
        if (empty(answers[i]->answer)) {
            snprintf(f, sizeof f, "answers[%zu].answer", i);
            hw_status_violation(st, f, "required");
            continue;
        }
        answered[q] = true;
    }
}

static void h_record_cps_checklist(hw_call *call, const ProtobufCMessage *reqm,
                                   ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(RecordCpsChecklistRequest) *req = (const M(RecordCpsChecklistRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require(st, "child_id", req->child_id);
    require(st, "incident_ref", req->incident_ref);
    bool answered[11] = {false};
    check_cps_answers(st, req->answers, req->n_answers, answered);
    /* R-CPS-1: questions 1, 2, 8, 9 and 10 at once. */
    risk_cps_check_initial(answered, st);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, req->child_id, "child_id", &ch, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__cps_checklist__descriptor,
                     resp, st) != 0)
        goto out_release;
    /* R-CPS-1: questions 3-7 within 3 days (an exact duration). */
    int64_t due = risk_cps_followup_due(hw_now_ms());
    char due_text[40], id[40];
    hw_format_rfc3339(due, due_text);
    if (store_insert_cps(db, ch.child_id, req->episode_id, req->incident_ref, due_text, who->sub,
                         who->org, id, st) != 0)
        goto out_release;
    for (size_t i = 0; i < req->n_answers; i++)
        if (store_insert_cps_answer(db, id, req->answers[i]->number, req->answers[i]->answer,
                                    who->sub, st) != 0)
            goto out_release;
    if (risk_cps_followup_complete(answered)) {
        if (store_complete_cps(db, id, st) != 0)
            goto out_release;
    } else if (hw_schedule(hw_app_scheduler(app), db, RISK_DEADLINE_CPS_FOLLOWUP, id, due, NULL,
                           st) != 0) {
        goto out_release;
    }
    if (hw_audit(db, call, NULL, "cps_checklist", id, st) != 0)
        goto out_release;
    M(CpsChecklist) *out = cps_load(call, db, id, st);
    if (out && finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_answer_cps_checklist(hw_call *call, const ProtobufCMessage *reqm,
                                   ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(AnswerCpsChecklistRequest) *req = (const M(AnswerCpsChecklistRequest) *)reqm;
    hw_app *app = ctx;
    const hw_principal *who = hw_call_principal(call);
    require_request_id(call, st, req->request_id);
    require_uuid(st, "checklist_id", req->checklist_id);
    bool given[11] = {false};
    check_cps_answers(st, req->answers, req->n_answers, given);
    if (req->n_answers == 0)
        hw_status_violation(st, "answers", "required");
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    hw_res *c = store_cps(db, req->checklist_id, false, st);
    if (!c)
        goto out_release;
    if (hw_res_rows(c) == 0) {
        hw_res_free(c);
        hw_status_set(st, HW_NOT_FOUND, "no such checklist");
        goto out_release;
    }
    char child_id[64];
    snprintf(child_id, sizeof child_id, "%s", hw_res_get(c, 0, 1));
    hw_res_free(c);
    hw_pg_release(db);
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, child_id, "checklist_id", &ch, st) != 0)
        return;
    if (!(db = acquire(app, st)))
        return;
    if (begin_change(db, call, req->request_id, &homeward__risk__v1__cps_checklist__descriptor,
                     resp, st) != 0)
        goto out_release;
    if (!(c = store_cps(db, req->checklist_id, true, st)))
        goto out_release;
    hw_res_free(c);
    hw_res *a = store_cps_answers(db, req->checklist_id, st);
    if (!a)
        goto out_release;
    bool answered[11] = {false};
    for (int i = 0; i < hw_res_rows(a); i++) {
        int q = (int)hw_res_int(a, i, 0);
        if (q >= 1 && q <= 10)
            answered[q] = true;
    }
    hw_res_free(a);
    for (size_t i = 0; i < req->n_answers; i++) {
        int q = req->answers[i]->number;
        if (answered[q]) {
            char f[48];
            snprintf(f, sizeof f, "answers[%zu].number", i);
            hw_status_violation(st, f, "question %d is already answered: answers are kept as given",
                                q);
        }
    }
    if (st->n_violations > 0)
        goto out_release;
    for (size_t i = 0; i < req->n_answers; i++) {
        if (store_insert_cps_answer(db, req->checklist_id, req->answers[i]->number,
                                    req->answers[i]->answer, who->sub, st) != 0)
            goto out_release;
        answered[req->answers[i]->number] = true;
    }
    if (risk_cps_followup_complete(answered) &&
        (store_complete_cps(db, req->checklist_id, st) != 0 ||
         hw_cancel(hw_app_scheduler(app), db, RISK_DEADLINE_CPS_FOLLOWUP, req->checklist_id, st) !=
             0))
        goto out_release;
    if (hw_audit(db, call, NULL, "cps_checklist", req->checklist_id, st) != 0)
        goto out_release;
    M(CpsChecklist) *out = cps_load(call, db, req->checklist_id, st);
    if (out && finish_change(app, db, call, req->request_id, &out->base, st) == 0)
        *resp = &out->base;
out_release:
    hw_pg_release(db);
}

static void h_get_cps_checklist(hw_call *call, const ProtobufCMessage *reqm,
                                ProtobufCMessage **resp, hw_status *st, void *ctx)
{
    const M(GetCpsChecklistRequest) *req = (const M(GetCpsChecklistRequest) *)reqm;
    hw_app *app = ctx;
    require_uuid(st, "checklist_id", req->checklist_id);
    if (st->n_violations > 0 || hw_audit_require_purpose(call, st) != 0)
        return;
    hw_db *db = acquire(app, st);
    if (!db)
        return;
    M(CpsChecklist) *c = cps_load(call, db, req->checklist_id, st);
    hw_pg_release(db);
    if (!c)
        return;
    risk_child_facts ch;
    if (risk_fetch_child(service_of(ctx)->episodes, call, c->child_id, "checklist_id", &ch, st) != 0)
        return;
    if (!(db = acquire(app, st)))
        return;
    if (hw_audit(db, call, NULL, "cps_checklist", c->id, st) == 0)
        *resp = &c->base;
    hw_pg_release(db);
}

/* ---------------------------------------------------------------- events and deadlines */

int risk_on_event(hw_app *app, hw_db *db, const char *event_id, const char *source,
                  const char *type, const char *subject, int64_t occurred_at_ms,
                  const char *payload_json, hw_status *st)
{
    if (strcmp(type, "interviews.cse_prompt") != 0)
        return 0; /* not for us: acknowledged, nothing to do */
    json_error_t jerr;
    json_t *p = json_loads(payload_json ? payload_json : "", 0, &jerr);
    const char *child_id = p ? json_string_value(json_object_get(p, "child_id")) : NULL;
    if (!child_id || !*child_id) {
        /* A malformed event would be retried for ever: log and drop it. */
        hw_warn("event %s (%s) has no child_id; ignored", event_id, type);
        json_decref(p);
        return 0;
    }
    const char *episode_id = json_string_value(json_object_get(p, "episode_id"));
    const char *interview_id = json_string_value(json_object_get(p, "interview_id"));
    int rc = store_insert_cse_prompt(db, event_id, child_id, episode_id, interview_id, st);
    json_decref(p);
    return rc < 0 ? -1 : 0;
}

int risk_on_deadline(hw_db *db, const char *kind, const char *subject, int64_t due_at_ms,
                     const char *payload_json, void *arg, hw_status *st)
{
    const char *type;
    json_t *payload;
    char subj[96];
    if (strcmp(kind, RISK_DEADLINE_LAC_PLAN_DUE) == 0) {
        type = "risk.lac_plan_overdue"; /* R-RISK-8 */
        payload = json_pack("{s:s, s:I}", "child_id", subject, "due_at_ms", (json_int_t)due_at_ms);
        snprintf(subj, sizeof subj, "child:%s", subject);
    } else if (strcmp(kind, RISK_DEADLINE_LAC_PLAN_REVIEW) == 0) {
        type = "risk.lac_plan_review_due"; /* R-RISK-8: every 6 months */
        payload = json_pack("{s:s, s:I}", "child_id", subject, "due_at_ms", (json_int_t)due_at_ms);
        snprintf(subj, sizeof subj, "child:%s", subject);
    } else if (strcmp(kind, RISK_DEADLINE_CPS_FOLLOWUP) == 0) {
        type = "risk.cps_checklist_overdue"; /* R-CPS-1: questions 3-7 */
        hw_res *c = store_cps(db, subject, true, st);
        if (!c)
            return -1;
        bool done = hw_res_rows(c) == 0 || *hw_res_get(c, 0, 5) != '\0';
        char child[64] = "";
        if (hw_res_rows(c) > 0)
            snprintf(child, sizeof child, "%s", hw_res_get(c, 0, 1));
        hw_res_free(c);
        if (done)
            return 0; /* answered meanwhile: nothing is overdue */
        payload = json_pack("{s:s, s:s, s:I}", "checklist_id", subject, "child_id", child,
                            "due_at_ms", (json_int_t)due_at_ms);
        snprintf(subj, sizeof subj, "cps_checklist:%s", subject);
    } else {
        hw_warn("unknown deadline kind %s; ignored", kind);
        return 0;
    }
    int rc = publish(db, type, subj, payload, st);
    if (rc == 0 && arg)
        hw_db_after_commit(db, kick_after_commit, arg, false);
    return rc;
}

/* ---------------------------------------------------------------- method table */

const hw_method risk_methods[] = {
    {"GetReferenceData", h_get_reference_data, NULL, NULL},
    {"ProposeRisk", h_propose_risk, NULL, R_PROPOSE},
    {"RecordAssessment", h_record_assessment, NULL, R_ASSESS},
    {"GetRiskHistory", h_get_risk_history, NULL, R_READ_RISK},
    {"RaiseDispute", h_raise_dispute, NULL, R_DISPUTE_RAISE},
    {"ResolveDispute", h_resolve_dispute, NULL, R_SUPERVISORS},
    {"RecordCseMatrix", h_record_cse_matrix, NULL, R_CSE_WRITE},
    {"ShareCseMatrix", h_share_cse_matrix, NULL, R_CSE_WRITE},
    {"ListCseMatrices", h_list_cse_matrices, NULL, R_CSE_READ},
    {"ListCsePrompts", h_list_cse_prompts, NULL, R_PROMPTS},
    {"RequireLacPlan", h_require_lac_plan, NULL, R_LAC_WRITE},
    {"RecordLacPlan", h_record_lac_plan, NULL, R_LAC_WRITE},
    {"ListLacPlans", h_list_lac_plans, NULL, R_LAC_READ},
    {"RecordEvaluationMatrix", h_record_evaluation_matrix, NULL, R_EVAL_WRITE},
    {"ListEvaluationMatrices", h_list_evaluation_matrices, NULL, R_EVAL_READ},
    {"RecordAbductionNotice", h_record_abduction_notice, NULL, R_NOTICE_WRITE},
    {"ListAbductionNotices", h_list_abduction_notices, NULL, R_NOTICE_READ},
    {"RecordIntelligenceReport", h_record_intelligence_report, NULL, R_ANY_PROFESSIONAL},
    {"ListIntelligenceReports", h_list_intelligence_reports, NULL, R_ANY_PROFESSIONAL},
    {"RecordCpsChecklist", h_record_cps_checklist, NULL, R_CPS_WRITE},
    {"AnswerCpsChecklist", h_answer_cps_checklist, NULL, R_CPS_WRITE},
    {"GetCpsChecklist", h_get_cps_checklist, NULL, R_CPS_READ},
};
const size_t risk_n_methods = sizeof risk_methods / sizeof risk_methods[0];
