/* store.c -- the interviews schema: every statement of the service, parameterised. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exact conversions between Unix ms and timestamptz (no floating point). */
#define TS(p) "(timestamptz 'epoch' + " p "::bigint * interval '1 millisecond')"
#define MS(col) "coalesce(floor(extract(epoch from " col ") * 1000)::bigint, 0)"

/* The columns store_interview_from_row decodes, in order. */
#define COLS                                                                                         \
    "i.id::text, i.kind, i.state, i.episode_id, i.child_id, i.home_id, i.responsible_authority, "    \
    "i.force, i.profile, i.placement_type, i.assignee, coalesce(i.conducted_by, ''), "               \
    "coalesce(i.conducted_by_role, ''), " MS("i.located_at") ", " MS("i.due_at") ", "                 \
    MS("i.offered_at") ", " MS("i.started_at") ", " MS("i.submitted_at") ", " MS("i.declined_at")     \
    ", " MS("i.draft_saved_at") ", " MS("i.overdue_at") ", i.within_72h IS NOT NULL, "                \
    "coalesce(i.within_72h, false), i.draft_version, "                                               \
    "(SELECT count(*) FROM contact_attempts a WHERE a.interview_id = i.id), i.cse_prompted, "        \
    "i.decline_reason, array_to_string(i.disclosure_kinds, ','), i.draft, i.form"

enum {
    C_ID, C_KIND, C_STATE, C_EPISODE, C_CHILD, C_HOME, C_AUTHORITY, C_FORCE, C_PROFILE, C_PLACEMENT,
    C_ASSIGNEE, C_CONDUCTED_BY, C_CONDUCTED_ROLE, C_LOCATED, C_DUE, C_OFFERED, C_STARTED, C_SUBMITTED,
    C_DECLINED, C_DRAFT_SAVED, C_OVERDUE, C_WITHIN_KNOWN, C_WITHIN, C_DRAFT_VERSION, C_ATTEMPTS, C_CSE,
    C_DECLINE_REASON, C_DISCLOSURES, C_DRAFT, C_FORM,
};

static void ms_text(int64_t ms, char buf[24])
{
    snprintf(buf, 24, "%" PRId64, ms);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static char *dup_or_null(const hw_res *r, int row, int col)
{
    return hw_res_isnull(r, row, col) ? NULL : strdup(hw_res_get(r, row, col));
}

/* bytea travels as text "\x<hex>" (Postgres's hex format). */
static char *bytea_hex(const unsigned char *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = malloc(2 * n + 3);
    if (!out)
        abort();
    out[0] = '\\';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = digits[b[i] >> 4];
        out[3 + 2 * i] = digits[b[i] & 15];
    }
    out[2 + 2 * n] = 0;
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char *bytea_decode(const char *s, size_t *len)
{
    *len = 0;
    if (!s || s[0] != '\\' || s[1] != 'x')
        return NULL;
    size_t n = strlen(s + 2) / 2;
    unsigned char *out = malloc(n ? n : 1);
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n;
    return out;
}

char *store_text_array(const char *const *items, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(items[i]) + 3;
    char *out = malloc(cap);
    if (!out)
        abort();
    size_t k = 0;
    out[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[k++] = ',';
        out[k++] = '"';
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                out[k++] = '\\';
            out[k++] = *c;
        }
        out[k++] = '"';
    }
    out[k++] = '}';
    out[k] = 0;
    return out;
}

void store_interview_clear(store_interview *iv)
{
    free(iv->decline_reason);
    free(iv->disclosures);
    free(iv->draft);
    free(iv->form);
    memset(iv, 0, sizeof *iv);
}

rules_interview store_rules_view(const store_interview *iv)
{
    rules_interview v = {iv->kind,     iv->force,          iv->responsible_authority, iv->home_id,
                         iv->profile,  iv->placement_type, iv->assignee,              iv->conducted_by};
    return v;
}

bool store_is_open(const store_interview *iv)
{
    return strcmp(iv->state, "due") == 0 || strcmp(iv->state, "draft") == 0;
}

int store_interview_from_row(const hw_res *r, int row, store_interview *out)
{
    memset(out, 0, sizeof *out);
    copy(out->id, sizeof out->id, hw_res_get(r, row, C_ID));
    out->kind = strcmp(hw_res_get(r, row, C_KIND), "return") == 0 ? RULES_RETURN : RULES_PREVENTION;
    copy(out->state, sizeof out->state, hw_res_get(r, row, C_STATE));
    copy(out->episode_id, sizeof out->episode_id, hw_res_get(r, row, C_EPISODE));
    copy(out->child_id, sizeof out->child_id, hw_res_get(r, row, C_CHILD));
    copy(out->home_id, sizeof out->home_id, hw_res_get(r, row, C_HOME));
    copy(out->responsible_authority, sizeof out->responsible_authority, hw_res_get(r, row, C_AUTHORITY));
    copy(out->force, sizeof out->force, hw_res_get(r, row, C_FORCE));
    copy(out->profile, sizeof out->profile, hw_res_get(r, row, C_PROFILE));
    copy(out->placement_type, sizeof out->placement_type, hw_res_get(r, row, C_PLACEMENT));
    copy(out->assignee, sizeof out->assignee, hw_res_get(r, row, C_ASSIGNEE));
    copy(out->conducted_by, sizeof out->conducted_by, hw_res_get(r, row, C_CONDUCTED_BY));
    copy(out->conducted_by_role, sizeof out->conducted_by_role, hw_res_get(r, row, C_CONDUCTED_ROLE));
    out->located_at_ms = hw_res_int(r, row, C_LOCATED);
    out->due_at_ms = hw_res_int(r, row, C_DUE);
    out->offered_at_ms = hw_res_int(r, row, C_OFFERED);
    out->started_at_ms = hw_res_int(r, row, C_STARTED);
    out->submitted_at_ms = hw_res_int(r, row, C_SUBMITTED);
    out->declined_at_ms = hw_res_int(r, row, C_DECLINED);
    out->draft_saved_at_ms = hw_res_int(r, row, C_DRAFT_SAVED);
    out->overdue_at_ms = hw_res_int(r, row, C_OVERDUE);
    out->within_72h_known = hw_res_bool(r, row, C_WITHIN_KNOWN);
    out->within_72h = hw_res_bool(r, row, C_WITHIN);
    out->draft_version = (int)hw_res_int(r, row, C_DRAFT_VERSION);
    out->no_contact_attempts = (int)hw_res_int(r, row, C_ATTEMPTS);
    out->cse_prompted = hw_res_bool(r, row, C_CSE);
    out->decline_reason = dup_or_null(r, row, C_DECLINE_REASON);
    out->disclosures = dup_or_null(r, row, C_DISCLOSURES);
    if (!hw_res_isnull(r, row, C_DRAFT))
        out->draft = bytea_decode(hw_res_get(r, row, C_DRAFT), &out->draft_len);
    if (!hw_res_isnull(r, row, C_FORM))
        out->form = bytea_decode(hw_res_get(r, row, C_FORM), &out->form_len);
    return 0;
}

/* ---- creation from the located event ---- */

static int insert_expected(hw_db *db, const store_located *l, const char *kind, int64_t due_ms,
                           const char *assignee, char *out_id, hw_status *st)
{
    char located[24], due[24];
    ms_text(l->located_at_ms, located);
    ms_text(due_ms, due);
    const char *p[] = {kind, l->episode_id, l->child_id, l->home_id ? l->home_id : "",
                       l->responsible_authority ? l->responsible_authority : "", l->force ? l->force : "",
                       l->profile, l->placement_type ? l->placement_type : "", located, due,
                       assignee ? assignee : ""};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO interviews (kind, episode_id, child_id, home_id, responsible_authority, "
                           "force, profile, placement_type, located_at, due_at, assignee) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " TS("$9") ", " TS("$10") ", $11) "
                           "ON CONFLICT (episode_id, kind) DO NOTHING RETURNING id::text",
                           11, p, st);
    if (!r)
        return -1;
    out_id[0] = 0;
    if (hw_res_rows(r) == 1)
        copy(out_id, 37, hw_res_get(r, 0, 0));
    hw_res_free(r);
    return 0;
}

int store_create_expected(hw_db *db, const store_located *l, int64_t return_due_ms,
                          char *prevention_id, char *return_id, hw_status *st)
{
    /* The prevention interview is due "as soon as possible" (STAFFS 13.3):
     * at the located time, so it sorts first; the officer the episode is
     * assigned to is expected to do it. */
    if (insert_expected(db, l, "prevention", l->located_at_ms, l->assigned_officer, prevention_id, st) != 0)
        return -1;
    return insert_expected(db, l, "return", return_due_ms, "", return_id, st);
}

int store_load(hw_db *db, const char *id, bool lock, store_interview *out, hw_status *st)
{
    const char *p[] = {id};
    memset(out, 0, sizeof *out); /* callers clear it on every path */
    hw_res *r = hw_db_exec(db,
                           lock ? "SELECT " COLS " FROM interviews i WHERE i.id = $1::uuid FOR UPDATE"
                                : "SELECT " COLS " FROM interviews i WHERE i.id = $1::uuid",
                           1, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) != 1) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "no such interview");
    }
    store_interview_from_row(r, 0, out);
    hw_res_free(r);
    return 0;
}

hw_res *store_list_open(hw_db *db, const char *by, const char *key, const char *kind, int limit,
                        hw_status *st)
{
    char lim[24];
    ms_text(limit, lim);
    const char *p[] = {key, kind, lim};
    const char *sql;
    if (strcmp(by, "assignee") == 0)
        sql = "SELECT " COLS " FROM interviews i WHERE i.assignee = $1 AND i.state IN ('due', 'draft') "
              "AND ($2 = '' OR i.kind = $2) ORDER BY i.due_at, i.id LIMIT $3::int";
    else if (strcmp(by, "homes") == 0)
        sql = "SELECT " COLS " FROM interviews i WHERE i.home_id = ANY($1::text[]) "
              "AND i.state IN ('due', 'draft') AND ($2 = '' OR i.kind = $2) ORDER BY i.due_at, i.id LIMIT $3::int";
    else
        sql = "SELECT " COLS " FROM interviews i WHERE (i.force = $1 OR i.responsible_authority = $1) "
              "AND i.state IN ('due', 'draft') AND ($2 = '' OR i.kind = $2) ORDER BY i.due_at, i.id LIMIT $3::int";
    return hw_db_exec(db, sql, 3, p, st);
}

/* ---- changes ---- */

static int expect_one(hw_res *r, hw_status *st, const char *what)
{
    if (!r)
        return -1;
    int64_t n = hw_res_affected(r);
    hw_res_free(r);
    if (n != 1)
        return hw_status_set(st, HW_FAILED_PRECONDITION, "%s", what);
    return 0;
}

int store_start(hw_db *db, const char *id, const char *sub, hw_status *st)
{
    const char *p[] = {id, sub};
    return expect_one(hw_db_exec(db,
                                 "UPDATE interviews SET state = 'draft', "
                                 "started_at = coalesce(started_at, now()), "
                                 "assignee = CASE WHEN assignee = '' THEN $2 ELSE assignee END, "
                                 "offered_at = CASE WHEN kind = 'return' THEN coalesce(offered_at, now()) "
                                 "ELSE offered_at END "
                                 "WHERE id = $1::uuid AND state IN ('due', 'draft')",
                                 2, p, st),
                      st, "the interview is no longer open");
}

int store_save_draft(hw_db *db, const char *id, const unsigned char *packed, size_t len, const char *sub,
                     hw_status *st)
{
    char *hex = bytea_hex(packed, len);
    const char *p[] = {id, hex, sub};
    int rc = expect_one(hw_db_exec(db,
                                   "UPDATE interviews SET draft = $2::bytea, draft_version = draft_version + 1, "
                                   "draft_saved_at = now(), draft_saved_by = $3, state = 'draft', "
                                   "started_at = coalesce(started_at, now()), "
                                   "assignee = CASE WHEN assignee = '' THEN $3 ELSE assignee END, "
                                   "offered_at = CASE WHEN kind = 'return' THEN coalesce(offered_at, now()) "
                                   "ELSE offered_at END "
                                   "WHERE id = $1::uuid AND state IN ('due', 'draft')",
                                   3, p, st),
                        st, "the interview is no longer open");
    free(hex);
    return rc;
}

int store_submit(hw_db *db, const char *id, const store_submission *s, hw_status *st)
{
    char at[24];
    ms_text(s->interview_at_ms, at);
    char *hex = bytea_hex(s->form, s->form_len);
    char *late = store_text_array(s->lateness_codes, s->n_lateness_codes);
    char *disc = store_text_array(s->disclosures, s->n_disclosures);
    const char *within = s->within_72h < 0 ? NULL : s->within_72h ? "true" : "false";
    const char *p[] = {id,  hex, at, within, late, s->lateness_note ? s->lateness_note : "",
                       s->conducted_by, s->conducted_by_role, s->conducted_by_org, disc,
                       s->cse_prompted ? "true" : "false"};
    int rc = expect_one(hw_db_exec(db,
                                   "UPDATE interviews SET state = 'submitted', form = $2::bytea, "
                                   "interview_at = " TS("$3") ", within_72h = $4::boolean, "
                                   "lateness_codes = $5::text[], lateness_note = $6, conducted_by = $7, "
                                   "conducted_by_role = $8, conducted_by_org = $9, disclosure_kinds = $10::text[], "
                                   "cse_prompted = $11::boolean, submitted_at = now(), "
                                   "started_at = coalesce(started_at, now()), "
                                   "offered_at = CASE WHEN kind = 'return' THEN coalesce(offered_at, now()) "
                                   "ELSE offered_at END "
                                   "WHERE id = $1::uuid AND state IN ('due', 'draft')",
                                   11, p, st),
                        st, "the interview is no longer open");
    free(hex);
    free(late);
    free(disc);
    return rc;
}

int store_decline(hw_db *db, const char *id, int64_t at_ms, const char *reason, const char *sub,
                  hw_status *st)
{
    char at[24];
    ms_text(at_ms, at);
    const char *p[] = {id, at, reason, sub};
    return expect_one(hw_db_exec(db,
                                 "UPDATE interviews SET state = 'declined', declined_at = " TS("$2") ", "
                                 "decline_reason = $3, declined_by = $4, "
                                 "offered_at = coalesce(offered_at, " TS("$2") ") "
                                 "WHERE id = $1::uuid AND state IN ('due', 'draft')",
                                 4, p, st),
                      st, "the interview is no longer open");
}

int store_add_contact_attempt(hw_db *db, const char *id, int64_t at_ms, const char *method,
                              const char *note, const char *sub, hw_status *st)
{
    char at[24];
    ms_text(at_ms, at);
    const char *p[] = {id, at, method, note ? note : "", sub};
    return hw_db_run(db,
                     "INSERT INTO contact_attempts (interview_id, attempted_at, method, note, recorded_by) "
                     "VALUES ($1::uuid, " TS("$2") ", $3, $4, $5)",
                     5, p, st);
}

hw_res *store_contact_attempts(hw_db *db, const char *id, hw_status *st)
{
    const char *p[] = {id};
    return hw_db_exec(db,
                      "SELECT " MS("attempted_at") ", method, note, recorded_by FROM contact_attempts "
                      "WHERE interview_id = $1::uuid ORDER BY id",
                      1, p, st);
}

void store_consent_clear(store_consent *c)
{
    free(c->shared_with);
    free(c->when_shared);
    free(c->why_shared);
    free(c->notes);
    free(c->recorded_by);
    memset(c, 0, sizeof *c);
}

int store_add_consent(hw_db *db, const char *id, const char *shared_with, const char *when_shared,
                      const char *why_shared, int64_t told_at_ms, bool given, const char *notes,
                      const char *sub, const char *role, hw_status *st)
{
    char at[24];
    ms_text(told_at_ms, at);
    const char *p[] = {id, shared_with, when_shared, why_shared, at, given ? "true" : "false",
                       notes ? notes : "", sub, role};
    return hw_db_run(db,
                     "INSERT INTO consents (interview_id, shared_with, when_shared, why_shared, told_at, "
                     "consent_given, notes, recorded_by, recorded_role) "
                     "VALUES ($1::uuid, $2, $3, $4, " TS("$5") ", $6::boolean, $7, $8, $9)",
                     9, p, st);
}

int store_latest_consent(hw_db *db, const char *id, store_consent *out, hw_status *st)
{
    const char *p[] = {id};
    memset(out, 0, sizeof *out);
    hw_res *r = hw_db_exec(db,
                           "SELECT shared_with, when_shared, why_shared, " MS("told_at") ", consent_given, "
                           "notes, recorded_by, " MS("recorded_at") " FROM consents "
                           "WHERE interview_id = $1::uuid ORDER BY id DESC LIMIT 1",
                           1, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 1) {
        out->present = true;
        out->shared_with = strdup(hw_res_get(r, 0, 0));
        out->when_shared = strdup(hw_res_get(r, 0, 1));
        out->why_shared = strdup(hw_res_get(r, 0, 2));
        out->told_at_ms = hw_res_int(r, 0, 3);
        out->consent_given = hw_res_bool(r, 0, 4);
        out->notes = strdup(hw_res_get(r, 0, 5));
        out->recorded_by = strdup(hw_res_get(r, 0, 6));
        out->recorded_at_ms = hw_res_int(r, 0, 7);
    }
    hw_res_free(r);
    return 0;
}

void store_sharing_clear(store_sharing *s)
{
    free(s->reason);
    free(s->shared_with);
    free(s->decided_by);
    memset(s, 0, sizeof *s);
}

int store_add_sharing(hw_db *db, const char *id, const char *reason, const char *shared_with,
                      const char *sub, const char *role, hw_status *st)
{
    const char *p[] = {id, reason, shared_with ? shared_with : "", sub, role};
    return hw_db_run(db,
                     "INSERT INTO sharing_decisions (interview_id, reason, shared_with, decided_by, decided_role) "
                     "VALUES ($1::uuid, $2, $3, $4, $5)",
                     5, p, st);
}

int store_latest_sharing(hw_db *db, const char *id, store_sharing *out, hw_status *st)
{
    const char *p[] = {id};
    memset(out, 0, sizeof *out);
    hw_res *r = hw_db_exec(db,
                           "SELECT reason, shared_with, decided_by, " MS("decided_at") " FROM sharing_decisions "
                           "WHERE interview_id = $1::uuid ORDER BY id DESC LIMIT 1",
                           1, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 1) {
        out->present = true;
        out->reason = strdup(hw_res_get(r, 0, 0));
        out->shared_with = strdup(hw_res_get(r, 0, 1));
        out->decided_by = strdup(hw_res_get(r, 0, 2));
        out->decided_at_ms = hw_res_int(r, 0, 3);
    }
    hw_res_free(r);
    return 0;
}

int store_mark_overdue(hw_db *db, const char *id, store_interview *out, hw_status *st)
{
    const char *p[] = {id};
    memset(out, 0, sizeof *out);
    hw_res *r = hw_db_exec(db,
                           "WITH u AS (UPDATE interviews SET overdue_at = coalesce(overdue_at, now()) "
                           "WHERE id = $1::uuid AND state IN ('due', 'draft') RETURNING *) "
                           "SELECT " COLS " FROM u i",
                           1, p, st);
    if (!r)
        return -1;
    int found = hw_res_rows(r) == 1;
    if (found)
        store_interview_from_row(r, 0, out);
    hw_res_free(r);
    return found;
}

/* ---- timeliness report (R-RET-2) ---- */

int store_timeliness(hw_db *db, const char *authority, int64_t from_ms, int64_t to_ms, int64_t now_ms,
                     store_report *out, hw_status *st)
{
    char from[24], to[24], now[24];
    ms_text(from_ms, from);
    ms_text(to_ms, to);
    ms_text(now_ms, now);
    const char *p[] = {authority, from, to, now};
    hw_res *r = hw_db_exec(
        db,
        "SELECT count(*), count(*) FILTER (WHERE i.offered_at IS NOT NULL), "
        "count(*) FILTER (WHERE i.state IN ('draft', 'submitted')), "
        "count(*) FILTER (WHERE i.state = 'submitted'), "
        "count(*) FILTER (WHERE i.state = 'submitted' AND i.within_72h), "
        "count(*) FILTER (WHERE i.state = 'declined'), "
        "count(*) FILTER (WHERE i.state IN ('due', 'draft') AND i.due_at < " TS("$4") "), "
        "coalesce(sum((SELECT count(*) FROM contact_attempts a WHERE a.interview_id = i.id)), 0), "
        "count(*) FILTER (WHERE i.state = 'submitted' AND NOT i.within_72h "
        "AND cardinality(i.lateness_codes) = 0) "
        "FROM interviews i WHERE i.responsible_authority = $1 AND i.kind = 'return' "
        "AND i.located_at >= " TS("$2") " AND i.located_at < " TS("$3"),
        4, p, st);
    if (!r)
        return -1;
    out->located = (int)hw_res_int(r, 0, 0);
    out->offered = (int)hw_res_int(r, 0, 1);
    out->accepted = (int)hw_res_int(r, 0, 2);
    out->completed = (int)hw_res_int(r, 0, 3);
    out->completed_within_72h = (int)hw_res_int(r, 0, 4);
    out->declined = (int)hw_res_int(r, 0, 5);
    out->overdue_open = (int)hw_res_int(r, 0, 6);
    out->no_contact_attempts = (int)hw_res_int(r, 0, 7);
    out->late_note_only = (int)hw_res_int(r, 0, 8);
    hw_res_free(r);
    return 0;
}

hw_res *store_lateness_reasons(hw_db *db, const char *authority, int64_t from_ms, int64_t to_ms,
                               hw_status *st)
{
    char from[24], to[24];
    ms_text(from_ms, from);
    ms_text(to_ms, to);
    const char *p[] = {authority, from, to};
    return hw_db_exec(db,
                      "SELECT c.code, count(*) FROM interviews i, unnest(i.lateness_codes) AS c(code) "
                      "WHERE i.responsible_authority = $1 AND i.kind = 'return' AND i.state = 'submitted' "
                      "AND NOT i.within_72h AND i.located_at >= " TS("$2") " AND i.located_at < " TS("$3")
                      " GROUP BY c.code ORDER BY count(*) DESC, c.code",
                      3, p, st);
}
