/* store.c -- the notifications schema, through parameterised statements only. */
#include "store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_time.h"

/* An instant column as RFC 3339 UTC text ("" for NULL). */
#define TS(x) "coalesce(to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"

static char *dup_or_null(const char *s) { return s ? strdup(s) : strdup(""); }

static char *get(const hw_res *r, int row, int col) { return dup_or_null(hw_res_get(r, row, col)); }

static const char *opt(const char *s) { return s && *s ? s : NULL; }

static void i64s(char out[24], int64_t v) { snprintf(out, 24, "%lld", (long long)v); }

static char *array_literal(const char *const *items, int n)
{
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 3 + 2 * strlen(items[i]);
    char *out = malloc(cap);
    if (!out)
        abort();
    char *p = out;
    *p++ = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        /* Inside a quoted array element only " and \ need escaping. */
        for (const char *s = items[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

char *nt_pg_text_array_ptrs(const char *const *items, int n) { return array_literal(items, n); }

char *nt_pg_text_array(char (*items)[NT_ADDRESS_MAX], int n)
{
    const char **ptrs = calloc((size_t)(n > 0 ? n : 1), sizeof *ptrs);
    if (!ptrs)
        abort();
    for (int i = 0; i < n; i++)
        ptrs[i] = items[i];
    char *out = array_literal(ptrs, n);
    free(ptrs);
    return out;
}

/* ------------------------------------------------------------ notifications */

void nt_note_free(nt_note *n)
{
    if (!n)
        return;
    free(n->kind);
    free(n->rule);
    free(n->priority);
    free(n->title);
    free(n->body);
    free(n->subject);
    free(n->episode_id);
    free(n->child_id);
    free(n->letter_id);
    free(n->event_id);
    free(n->created_at);
    free(n->acknowledged_at);
    for (int i = 0; i < n->n_recipients; i++) {
        free(n->addresses[i]);
        free(n->reasons[i]);
    }
    free(n->addresses);
    free(n->reasons);
    memset(n, 0, sizeof *n);
}

void nt_notes_free(nt_note *notes, int n)
{
    if (!notes)
        return;
    for (int i = 0; i < n; i++)
        nt_note_free(&notes[i]);
    free(notes);
}

int nt_store_lock_writers(hw_db *db, hw_status *st)
{
    return hw_db_run(db, "SELECT pg_advisory_xact_lock(hashtext('homeward.notifications.ids'))", 0,
                     NULL, st);
}

int64_t nt_store_add_note(hw_db *db, const nt_new_note *n, const nt_recipients *r, hw_status *st)
{
    char created[32];
    hw_format_rfc3339(n->created_at_ms, created);
    const char *p[] = {opt(n->event_id), n->kind, n->rule, n->urgent ? "urgent" : "routine",
                       n->title, n->body ? n->body : "", n->subject ? n->subject : "",
                       opt(n->episode_id), opt(n->child_id), opt(n->letter_id), created};
    hw_res *res = hw_db_exec(
        db,
        "INSERT INTO notifications (event_id, kind, rule, priority, title, body, subject,"
        " episode_id, child_id, letter_id, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::uuid, $11::timestamptz)"
        " ON CONFLICT (event_id, kind, subject) WHERE event_id IS NOT NULL DO NOTHING RETURNING id",
        11, p, st);
    if (!res)
        return -1;
    int64_t id = hw_res_rows(res) ? hw_res_int(res, 0, 0) : 0;
    hw_res_free(res);
    if (id == 0)
        return 0;
    char ids[24];
    i64s(ids, id);
    for (int i = 0; i < r->n; i++) {
        const char *q[] = {ids, r->r[i].address, r->r[i].reason};
        if (hw_db_run(db,
                      "INSERT INTO notification_recipients (notification_id, address, reason)"
                      " VALUES ($1::bigint, $2, $3) ON CONFLICT DO NOTHING",
                      3, q, st) != 0)
            return -1;
    }
    return id;
}

int64_t nt_store_max_id(hw_db *db, hw_status *st)
{
    hw_res *r = hw_db_exec(db, "SELECT coalesce(max(id), 0) FROM notifications", 0, NULL, st);
    if (!r)
        return -1;
    int64_t id = hw_res_int(r, 0, 0);
    hw_res_free(r);
    return id;
}

#define NOTE_COLS                                                                             \
    "n.id, n.kind, n.rule, n.priority, n.title, n.body, n.subject, coalesce(n.episode_id, ''),"  \
    " coalesce(n.child_id, ''), coalesce(n.letter_id::text, ''), coalesce(n.event_id, ''), "    \
    TS("n.created_at") ","                                                                      \
    " coalesce((SELECT json_agg(json_build_array(x.address, x.reason) ORDER BY x.address)::text" \
    "  FROM notification_recipients x WHERE x.notification_id = n.id), '[]')"

/* Columns 0..12 as NOTE_COLS; 13/14 acknowledged, acknowledged_at if with_ack. */
static int notes_from(const hw_res *r, bool with_ack, nt_note **out)
{
    int rows = hw_res_rows(r);
    nt_note *a = calloc((size_t)(rows > 0 ? rows : 1), sizeof *a);
    if (!a)
        abort();
    for (int i = 0; i < rows; i++) {
        nt_note *n = &a[i];
        n->id = hw_res_int(r, i, 0);
        n->kind = get(r, i, 1);
        n->rule = get(r, i, 2);
        n->priority = get(r, i, 3);
        n->title = get(r, i, 4);
        n->body = get(r, i, 5);
        n->subject = get(r, i, 6);
        n->episode_id = get(r, i, 7);
        n->child_id = get(r, i, 8);
        n->letter_id = get(r, i, 9);
        n->event_id = get(r, i, 10);
        n->created_at = get(r, i, 11);
        json_error_t jerr;
        json_t *list = json_loads(hw_res_get(r, i, 12), 0, &jerr);
        size_t k = json_is_array(list) ? json_array_size(list) : 0;
        n->addresses = calloc(k ? k : 1, sizeof *n->addresses);
        n->reasons = calloc(k ? k : 1, sizeof *n->reasons);
        if (!n->addresses || !n->reasons)
            abort();
        for (size_t j = 0; j < k; j++) {
            json_t *pair = json_array_get(list, j);
            n->addresses[j] = dup_or_null(json_string_value(json_array_get(pair, 0)));
            n->reasons[j] = dup_or_null(json_string_value(json_array_get(pair, 1)));
        }
        n->n_recipients = (int)k;
        json_decref(list);
        if (with_ack) {
            n->acknowledged = hw_res_bool(r, i, 13);
            n->acknowledged_at = get(r, i, 14);
        } else {
            n->acknowledged_at = strdup("");
        }
    }
    *out = a;
    return rows;
}

int nt_store_notes_after(hw_db *db, int64_t after_id, int64_t up_to, int limit,
                         char (*addresses)[NT_ADDRESS_MAX], int n_addresses,
                         nt_note **out, hw_status *st)
{
    char a[24], u[24], l[24];
    i64s(a, after_id);
    i64s(u, up_to > 0 ? up_to : INT64_MAX);
    i64s(l, limit);
    char *arr = addresses ? nt_pg_text_array(addresses, n_addresses) : NULL;
    const char *p[] = {a, u, l, arr};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " NOTE_COLS " FROM notifications n WHERE n.id > $1::bigint AND n.id <= $2::bigint"
        " AND ($4::text[] IS NULL OR n.id IN (SELECT notification_id FROM notification_recipients"
        "  WHERE address = ANY($4::text[]) AND notification_id > $1::bigint))"
        " ORDER BY n.id LIMIT $3::int",
        4, p, st);
    free(arr);
    if (!r)
        return -1;
    int rows = notes_from(r, false, out);
    hw_res_free(r);
    return rows;
}

int nt_store_inbox(hw_db *db, const char *user_sub, char (*addresses)[NT_ADDRESS_MAX],
                   int n_addresses, bool unread_only, int limit, int offset,
                   nt_note **out, hw_status *st)
{
    char l[24], o[24];
    i64s(l, limit);
    i64s(o, offset);
    char *arr = nt_pg_text_array(addresses, n_addresses);
    const char *p[] = {arr, user_sub, unread_only ? "t" : "f", l, o};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " NOTE_COLS ", a.at IS NOT NULL, " TS("a.at")
        " FROM notifications n"
        " LEFT JOIN acknowledgements a ON a.notification_id = n.id AND a.user_sub = $2"
        " WHERE n.id IN (SELECT notification_id FROM notification_recipients"
        "  WHERE address = ANY($1::text[]))"
        " AND (NOT $3::boolean OR a.at IS NULL)"
        " ORDER BY (a.at IS NOT NULL), n.id DESC LIMIT $4::int OFFSET $5::int",
        5, p, st);
    free(arr);
    if (!r)
        return -1;
    int rows = notes_from(r, true, out);
    hw_res_free(r);
    return rows;
}

int nt_store_unread_count(hw_db *db, const char *user_sub, char (*addresses)[NT_ADDRESS_MAX],
                          int n_addresses, hw_status *st)
{
    char *arr = nt_pg_text_array(addresses, n_addresses);
    const char *p[] = {arr, user_sub};
    hw_res *r = hw_db_exec(
        db,
        "SELECT count(DISTINCT x.notification_id) FROM notification_recipients x"
        " WHERE x.address = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM acknowledgements a"
        "  WHERE a.user_sub = $2 AND a.notification_id = x.notification_id)",
        2, p, st);
    free(arr);
    if (!r)
        return -1;
    int n = (int)hw_res_int(r, 0, 0);
    hw_res_free(r);
    return n;
}

int nt_store_acknowledge(hw_db *db, const char *user_sub, char (*addresses)[NT_ADDRESS_MAX],
                         int n_addresses, const int64_t *ids, int n_ids, int64_t up_to_id,
                         hw_status *st)
{
    char *arr = nt_pg_text_array(addresses, n_addresses);
    /* The ids as a bigint[] literal: digits only, no quoting needed. */
    size_t cap = 3 + (size_t)n_ids * 22;
    char *idl = malloc(cap);
    if (!idl)
        abort();
    size_t off = 0;
    idl[off++] = '{';
    for (int i = 0; i < n_ids; i++)
        off += (size_t)snprintf(idl + off, cap - off, "%s%lld", i ? "," : "", (long long)ids[i]);
    snprintf(idl + off, cap - off, "}");
    char up[24];
    i64s(up, up_to_id);
    const char *p[] = {user_sub, arr, idl, up};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO acknowledgements (user_sub, notification_id)"
        " SELECT DISTINCT $1, x.notification_id FROM notification_recipients x"
        " WHERE x.address = ANY($2::text[])"
        " AND (x.notification_id = ANY($3::bigint[]) OR x.notification_id <= $4::bigint)"
        " ON CONFLICT DO NOTHING",
        4, p, st);
    free(arr);
    free(idl);
    if (!r)
        return -1;
    int n = (int)hw_res_affected(r);
    hw_res_free(r);
    return n;
}

/* ------------------------------------------------------------ letters */

void nt_letter_free(nt_letter *l)
{
    if (!l)
        return;
    char **f[] = {&l->id, &l->kind, &l->rule, &l->event_id, &l->episode_id, &l->child_id,
                  &l->from_authority, &l->to_authority, &l->copy_org, &l->addressee,
                  &l->copy_to, &l->subject_line, &l->body, &l->created_at};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        free(*f[i]);
    for (int i = 0; i < l->n_external; i++)
        free(l->external_ids[i]);
    free(l->external_ids);
    memset(l, 0, sizeof *l);
}

void nt_letters_free(nt_letter *l, int n)
{
    if (!l)
        return;
    for (int i = 0; i < n; i++)
        nt_letter_free(&l[i]);
    free(l);
}

int nt_store_add_letter(hw_db *db, const nt_new_letter *l, char id_out[40], hw_status *st)
{
    char created[32];
    hw_format_rfc3339(l->created_at_ms, created);
    const char *p[] = {l->kind, l->rule, opt(l->event_id), opt(l->episode_id), opt(l->child_id),
                       l->from_authority ? l->from_authority : "",
                       l->to_authority ? l->to_authority : "", l->copy_org ? l->copy_org : "",
                       l->addressee ? l->addressee : "", l->copy_to ? l->copy_to : "",
                       l->subject_line, l->body, created};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO letters (kind, rule, event_id, episode_id, child_id, from_authority,"
        " to_authority, copy_org, addressee, copy_to, subject_line, body, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::timestamptz)"
        " ON CONFLICT (event_id, kind) WHERE event_id IS NOT NULL DO NOTHING RETURNING id",
        13, p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 1) {
        snprintf(id_out, 40, "%s", hw_res_get(r, 0, 0));
        hw_res_free(r);
        return 1;
    }
    hw_res_free(r);
    const char *q[] = {l->event_id, l->kind};
    r = hw_db_exec(db, "SELECT id FROM letters WHERE event_id = $1 AND kind = $2", 2, q, st);
    if (!r)
        return -1;
    snprintf(id_out, 40, "%s", hw_res_rows(r) ? hw_res_get(r, 0, 0) : "");
    hw_res_free(r);
    return 0;
}

#define LETTER_COLS                                                                          \
    "l.id, l.kind, l.rule, coalesce(l.event_id, ''), coalesce(l.episode_id, ''),"              \
    " coalesce(l.child_id, ''), l.from_authority, l.to_authority, l.copy_org, l.addressee,"    \
    " l.copy_to, l.subject_line, l.body, " TS("l.created_at") ","                              \
    " coalesce((SELECT json_agg(e.id ORDER BY e.created_at)::text FROM external_messages e"    \
    "  WHERE e.letter_id = l.id), '[]')"

static void letter_from(const hw_res *r, int i, bool with_body, nt_letter *l)
{
    memset(l, 0, sizeof *l);
    l->id = get(r, i, 0);
    l->kind = get(r, i, 1);
    l->rule = get(r, i, 2);
    l->event_id = get(r, i, 3);
    l->episode_id = get(r, i, 4);
    l->child_id = get(r, i, 5);
    l->from_authority = get(r, i, 6);
    l->to_authority = get(r, i, 7);
    l->copy_org = get(r, i, 8);
    l->addressee = get(r, i, 9);
    l->copy_to = get(r, i, 10);
    l->subject_line = get(r, i, 11);
    l->body = with_body ? get(r, i, 12) : strdup("");
    l->created_at = get(r, i, 13);
    json_error_t jerr;
    json_t *ids = json_loads(hw_res_get(r, i, 14), 0, &jerr);
    size_t k = json_is_array(ids) ? json_array_size(ids) : 0;
    l->external_ids = calloc(k ? k : 1, sizeof *l->external_ids);
    if (!l->external_ids)
        abort();
    for (size_t j = 0; j < k; j++)
        l->external_ids[j] = dup_or_null(json_string_value(json_array_get(ids, j)));
    l->n_external = (int)k;
    json_decref(ids);
}

int nt_store_get_letter(hw_db *db, const char *id, nt_letter *out, hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db, "SELECT " LETTER_COLS " FROM letters l WHERE l.id = $1::uuid", 1,
                           p, st);
    if (!r)
        return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "no such letter");
    }
    letter_from(r, 0, true, out);
    hw_res_free(r);
    return 0;
}

int nt_store_list_letters(hw_db *db, const char *org, const char *child_id,
                          const char *episode_id, const char *kind, int limit, int offset,
                          nt_letter **out, hw_status *st)
{
    char l[24], o[24];
    i64s(l, limit);
    i64s(o, offset);
    const char *p[] = {org, opt(child_id), opt(episode_id), opt(kind), l, o};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " LETTER_COLS " FROM letters l"
        " WHERE (l.from_authority = $1 OR l.to_authority = $1 OR l.copy_org = $1)"
        " AND ($2::text IS NULL OR l.child_id = $2) AND ($3::text IS NULL OR l.episode_id = $3)"
        " AND ($4::text IS NULL OR l.kind = $4)"
        " ORDER BY l.created_at DESC, l.id LIMIT $5::int OFFSET $6::int",
        6, p, st);
    if (!r)
        return -1;
    int rows = hw_res_rows(r);
    nt_letter *a = calloc((size_t)(rows ? rows : 1), sizeof *a);
    if (!a)
        abort();
    for (int i = 0; i < rows; i++)
        letter_from(r, i, false, &a[i]);
    hw_res_free(r);
    *out = a;
    return rows;
}

/* ------------------------------------------------------------ external outbox */

void nt_external_free(nt_external *e)
{
    if (!e)
        return;
    char **f[] = {&e->id, &e->channel, &e->to_name, &e->to_address, &e->to_authority,
                  &e->reason, &e->rule, &e->subject_line, &e->body, &e->status,
                  &e->last_error, &e->created_at, &e->sent_at, &e->letter_id, &e->episode_id};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        free(*f[i]);
    memset(e, 0, sizeof *e);
}

void nt_externals_free(nt_external *e, int n)
{
    if (!e)
        return;
    for (int i = 0; i < n; i++)
        nt_external_free(&e[i]);
    free(e);
}

int nt_store_add_external(hw_db *db, const nt_new_external *e, hw_status *st)
{
    char created[32], nid[24];
    hw_format_rfc3339(e->created_at_ms, created);
    i64s(nid, e->notification_id);
    const char *p[] = {e->channel, e->to_name ? e->to_name : "",
                       e->to_address ? e->to_address : "",
                       e->to_authority ? e->to_authority : "",
                       e->from_authority ? e->from_authority : "", e->reason, e->rule,
                       e->subject_line, e->body, opt(e->letter_id),
                       e->notification_id > 0 ? nid : NULL, opt(e->episode_id), created,
                       e->last_error ? e->last_error : ""};
    return hw_db_run(
        db,
        "INSERT INTO external_messages (channel, to_name, to_address, to_authority,"
        " from_authority, reason, rule, subject_line, body, letter_id, notification_id,"
        " episode_id, created_at, last_error)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::uuid, $11::bigint, $12,"
        " $13::timestamptz, $14)",
        14, p, st);
}

int nt_store_mailbox(hw_db *db, const char *authority, const char *purpose, char out[256],
                     hw_status *st)
{
    const char *p[] = {authority ? authority : "", purpose};
    hw_res *r = hw_db_exec(db,
                           "SELECT email FROM authority_mailboxes WHERE authority = $1"
                           " ORDER BY (purpose = $2) DESC, purpose LIMIT 1",
                           2, p, st);
    if (!r)
        return -1;
    int rc = 1;
    out[0] = '\0';
    if (hw_res_rows(r)) {
        snprintf(out, 256, "%s", hw_res_get(r, 0, 0));
        rc = 0;
    }
    hw_res_free(r);
    return rc;
}

#define EXT_COLS                                                                           \
    "e.id, e.channel, e.to_name, e.to_address, e.to_authority, e.reason, e.rule,"            \
    " e.subject_line, e.body, e.status, e.last_error, " TS("e.created_at") ", "              \
    TS("e.sent_at") ", coalesce(e.letter_id::text, ''), coalesce(e.episode_id, ''),"         \
    " e.attempts, coalesce(e.notification_id, 0)"

static int externals_from(const hw_res *r, nt_external **out)
{
    int rows = hw_res_rows(r);
    nt_external *a = calloc((size_t)(rows ? rows : 1), sizeof *a);
    if (!a)
        abort();
    for (int i = 0; i < rows; i++) {
        nt_external *e = &a[i];
        e->id = get(r, i, 0);
        e->channel = get(r, i, 1);
        e->to_name = get(r, i, 2);
        e->to_address = get(r, i, 3);
        e->to_authority = get(r, i, 4);
        e->reason = get(r, i, 5);
        e->rule = get(r, i, 6);
        e->subject_line = get(r, i, 7);
        e->body = get(r, i, 8);
        e->status = get(r, i, 9);
        e->last_error = get(r, i, 10);
        e->created_at = get(r, i, 11);
        e->sent_at = get(r, i, 12);
        e->letter_id = get(r, i, 13);
        e->episode_id = get(r, i, 14);
        e->attempts = (int)hw_res_int(r, i, 15);
        e->notification_id = hw_res_int(r, i, 16);
    }
    *out = a;
    return rows;
}

int nt_store_list_external(hw_db *db, const char *org, const char *status, int limit, int offset,
                           nt_external **out, hw_status *st)
{
    char l[24], o[24];
    i64s(l, limit);
    i64s(o, offset);
    const char *p[] = {org, opt(status), l, o};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " EXT_COLS " FROM external_messages e"
        " WHERE (e.from_authority = $1 OR e.to_authority = $1)"
        " AND ($2::text IS NULL OR e.status = $2)"
        " ORDER BY e.created_at DESC, e.id LIMIT $3::int OFFSET $4::int",
        4, p, st);
    if (!r)
        return -1;
    int rows = externals_from(r, out);
    hw_res_free(r);
    return rows;
}

int nt_store_claim_email(hw_db *db, int limit, nt_external **out, hw_status *st)
{
    char l[24];
    i64s(l, limit);
    const char *p[] = {l};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " EXT_COLS " FROM external_messages e"
        " WHERE e.status = 'pending' AND e.channel = 'email' AND e.to_address <> ''"
        " AND e.next_attempt_at <= now()"
        " ORDER BY e.next_attempt_at LIMIT $1::int FOR UPDATE SKIP LOCKED",
        1, p, st);
    if (!r)
        return -1;
    int rows = externals_from(r, out);
    hw_res_free(r);
    return rows;
}

int nt_store_email_result(hw_db *db, const char *id, bool sent, const char *error,
                          int64_t retry_in_ms, int max_attempts, hw_status *st)
{
    char retry[24], max[24];
    i64s(retry, retry_in_ms);
    i64s(max, max_attempts);
    const char *p[] = {id, sent ? "t" : "f", error ? error : "", retry, max};
    return hw_db_run(
        db,
        "UPDATE external_messages SET attempts = attempts + 1,"
        " status = CASE WHEN $2::boolean THEN 'sent'"
        "  WHEN attempts + 1 >= $5::int THEN 'failed' ELSE 'pending' END,"
        " sent_at = CASE WHEN $2::boolean THEN now() ELSE NULL END,"
        " last_error = $3,"
        " next_attempt_at = now() + ($4::bigint * interval '1 millisecond')"
        " WHERE id = $1::uuid",
        5, p, st);
}

/* ------------------------------------------------------------ missing now */

int nt_store_missing_upsert(hw_db *db, const nt_missing_child *c, hw_status *st)
{
    const char *p[] = {c->episode_id, c->child_id ? c->child_id : "",
                       c->responsible_authority ? c->responsible_authority : "",
                       c->force ? c->force : "", c->home_id ? c->home_id : "",
                       c->status ? c->status : "missing", c->risk_level ? c->risk_level : "",
                       c->reported_at ? c->reported_at : ""};
    return hw_db_run(
        db,
        "INSERT INTO missing_now (episode_id, child_id, responsible_authority, force, home_id,"
        " status, risk_level, reported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (episode_id) DO UPDATE SET child_id = EXCLUDED.child_id,"
        " responsible_authority = EXCLUDED.responsible_authority, force = EXCLUDED.force,"
        " home_id = EXCLUDED.home_id, status = EXCLUDED.status,"
        " risk_level = EXCLUDED.risk_level, reported_at = EXCLUDED.reported_at, updated_at = now()",
        8, p, st);
}

int nt_store_missing_remove(hw_db *db, const char *episode_id, hw_status *st)
{
    const char *p[] = {episode_id};
    return hw_db_run(db, "DELETE FROM missing_now WHERE episode_id = $1", 1, p, st);
}

hw_res *nt_store_missing_list(hw_db *db, hw_status *st)
{
    return hw_db_exec(db,
                      "SELECT episode_id, child_id, responsible_authority, status, risk_level,"
                      " reported_at, home_id FROM missing_now"
                      " ORDER BY responsible_authority, reported_at, episode_id",
                      0, NULL, st);
}

int nt_store_daily_claim(hw_db *db, const char *local_date, int64_t fired_at_ms, hw_status *st)
{
    char fired[32];
    hw_format_rfc3339(fired_at_ms, fired);
    const char *p[] = {local_date, fired};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO daily_alert_runs (local_date, fired_at, children,"
                           " notifications) VALUES ($1::date, $2::timestamptz, 0, 0)"
                           " ON CONFLICT DO NOTHING",
                           2, p, st);
    if (!r)
        return -1;
    int claimed = hw_res_affected(r) == 1;
    hw_res_free(r);
    return claimed;
}

int nt_store_daily_done(hw_db *db, const char *local_date, int children, int notifications,
                        hw_status *st)
{
    char c[24], n[24];
    i64s(c, children);
    i64s(n, notifications);
    const char *p[] = {local_date, c, n};
    return hw_db_run(db,
                     "UPDATE daily_alert_runs SET children = $2::int, notifications = $3::int"
                     " WHERE local_date = $1::date",
                     3, p, st);
}

int nt_store_daily_ran(hw_db *db, const char *local_date, hw_status *st)
{
    const char *p[] = {local_date};
    hw_res *r = hw_db_exec(db, "SELECT 1 FROM daily_alert_runs WHERE local_date = $1::date", 1,
                           p, st);
    if (!r)
        return -1;
    int ran = hw_res_rows(r) > 0;
    hw_res_free(r);
    return ran;
}

hw_res *nt_store_pending_daily(hw_db *db, const char *keep, hw_status *st)
{
    const char *p[] = {keep};
    return hw_db_exec(db,
                      "SELECT subject FROM deadlines WHERE kind = 'daily_alert'"
                      " AND state = 'pending' AND subject <> $1",
                      1, p, st);
}

/* ------------------------------------------------------------ missing alerts */

int nt_store_add_alert(hw_db *db, const nt_new_alert *a, char id_out[40], hw_status *st)
{
    char days[24], at[32];
    i64s(days, a->days_missing);
    hw_format_rfc3339(a->raised_at_ms, at);
    char *auths = array_literal(a->authorities, a->n_authorities);
    const char *p[] = {a->episode_id, a->child_id ? a->child_id : "", a->ground, a->scope, auths,
                       a->rationale, days, a->raised_by, a->raised_org, at, opt(a->letter_id)};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO missing_alerts (episode_id, child_id, ground, scope, authorities, rationale,"
        " days_missing, raised_by, raised_org, raised_at, letter_id)"
        " VALUES ($1, $2, $3, $4, $5::text[], $6, $7::int, $8, $9, $10::timestamptz, $11::uuid)"
        " RETURNING id",
        11, p, st);
    free(auths);
    if (!r)
        return -1;
    snprintf(id_out, 40, "%s", hw_res_get(r, 0, 0));
    hw_res_free(r);
    return 0;
}
