/* store.c -- the episodes service's SQL: every statement, parameterised. */
#include "store.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_outbox.h"
#include "hw_roles.h"
#include "hw_time.h"

/* Instants: read as Unix ms, written from Unix ms. */
#define MS(col) "floor(extract(epoch from " col ") * 1000)::bigint"
#define TSP(p) "(timestamptz 'epoch' + (" p ")::bigint * interval '1 millisecond')"

/* ------------------------------------------------------------ memory */

struct ep_block {
    ep_block *next;
    max_align_t data[];
};

void *ep_alloc(ep_mem *m, size_t n)
{
    if (m->call) return hw_call_alloc(m->call, n);
    ep_block *b = calloc(1, sizeof *b + n);
    if (!b) abort();
    b->next = m->blocks;
    m->blocks = b;
    return b->data;
}

char *ep_strdup(ep_mem *m, const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    char *d = ep_alloc(m, n + 1);
    memcpy(d, s, n);
    return d;
}

void ep_mem_release(ep_mem *m)
{
    while (m->blocks) {
        ep_block *b = m->blocks;
        m->blocks = b->next;
        free(b);
    }
}

static void *pb_alloc(void *d, size_t n) { return ep_alloc(d, n); }
static void pb_free(void *d, void *p) { (void)d; (void)p; }

bool ep_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

char *ep_ts(ep_mem *m, int64_t ms)
{
    if (ms < 0) return ep_strdup(m, "");
    char *b = ep_alloc(m, 40);
    hw_format_rfc3339(ms, b);
    return b;
}

/* ------------------------------------------------------------ helpers */

static const char *i64s(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* NULL for "" so optional text arrives as SQL NULL. */
static const char *opt(const char *s) { return s && *s ? s : NULL; }

/* A lookup's result with at least one row; otherwise freed, *r NULL and
 * NOT_FOUND ("no such <what>") set, unless the statement already failed. */
static bool found(hw_res **r, const char *what, hw_status *st)
{
    if (!*r) return false;
    if (hw_res_rows(*r) > 0) return true;
    hw_res_free(*r);
    *r = NULL;
    hw_status_set(st, HW_NOT_FOUND, "no such %s", what);
    return false;
}

static char *col(ep_mem *m, const hw_res *r, int row, int c)
{
    return ep_strdup(m, hw_res_get(r, row, c));
}

static int64_t col_ms(const hw_res *r, int row, int c)
{
    return hw_res_isnull(r, row, c) ? -1 : hw_res_int(r, row, c);
}

static char *col_ts(ep_mem *m, const hw_res *r, int row, int c)
{
    return ep_ts(m, col_ms(r, row, c));
}

/* Pack a message as hex for decode($n, 'hex'); NULL for no message. */
static char *pack_hex(const ProtobufCMessage *msg)
{
    if (!msg) return NULL;
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n ? n : 1);
    char *hex = malloc(2 * n + 1);
    if (!buf || !hex) abort();
    protobuf_c_message_pack(msg, buf);
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[buf[i] >> 4];
        hex[2 * i + 1] = digits[buf[i] & 15];
    }
    hex[2 * n] = 0;
    free(buf);
    return hex;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Unpack a hex column (from encode(x, 'hex')) into the arena; NULL if the
 * column is NULL or does not parse. */
static void *unpack_hex(ep_mem *m, const ProtobufCMessageDescriptor *d, const hw_res *r, int row,
                        int c)
{
    if (hw_res_isnull(r, row, c)) return NULL;
    const char *hex = hw_res_get(r, row, c);
    size_t n = strlen(hex) / 2;
    uint8_t *buf = ep_alloc(m, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return NULL;
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    ProtobufCAllocator a = {pb_alloc, pb_free, m};
    return protobuf_c_message_unpack(d, &a, n, buf);
}

static char *json_of_strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* ------------------------------------------------------------ visibility */

void ep_vis_of(ep_mem *m, const hw_principal *p, ep_vis *v)
{
    memset(v, 0, sizeof *v);
    v->all = hw_principal_has_role(p, HW_ROLE_SERVICE);
    if (ep_is_police(p)) {
        v->force = ep_strdup(m, p->org);
        v->officer = ep_strdup(m, p->sub);
    }
    if (ep_is_local_authority(p)) v->authority = ep_strdup(m, p->org);
    if (hw_principal_has_role(p, HW_ROLE_SPOC) || hw_principal_has_role(p, HW_ROLE_CARE_STAFF)) {
        char *homes[HW_MAX_HOMES];
        for (int i = 0; i < p->n_homes; i++) homes[i] = (char *)p->homes[i];
        char *j = json_of_strings(homes, (size_t)p->n_homes);
        v->homes_json = ep_strdup(m, j);
        free(j);
    }
}

/* ------------------------------------------------------------ authorities */

int ep_store_authority(hw_db *db, const char *code, ep_mem *m, char **profile, char **force,
                       hw_status *st)
{
    const char *p[] = {code};
    hw_res *r = hw_db_exec(db, "SELECT profile, force FROM authorities WHERE code = $1", 1, p, st);
    if (!r) return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "unknown authority");
    }
    if (profile) *profile = col(m, r, 0, 0);
    if (force) *force = col(m, r, 0, 1);
    hw_res_free(r);
    return 0;
}

char *ep_store_force_profile(hw_db *db, ep_mem *m, const char *force, hw_status *st)
{
    const char *p[] = {force};
    hw_res *r = hw_db_exec(db,
                           "SELECT coalesce((SELECT profile FROM authorities WHERE force = $1"
                           " ORDER BY code LIMIT 1), 'STAFFS')",
                           1, p, st);
    if (!r) return NULL;
    char *out = col(m, r, 0, 0);
    hw_res_free(r);
    return out;
}

/* ------------------------------------------------------------ placements (row) */

#define PLACEMENT_COLS(p)                                                                      \
    p ".id, " p ".child_id, coalesce(" p ".home_id::text, ''), " p ".address, " p              \
      ".placement_type, " MS(p ".starts_at") ", " MS(p ".ends_at") ", coalesce(" p             \
      ".placing_authority, ''), coalesce(" p ".responsible_authority, ''), " p                 \
      ".reg41_status, " MS(p ".reg41_submitted_at")
#define PLACEMENT_NCOLS 11

static ep_placement *placement_from(ep_mem *m, const hw_res *r, int row, int c0)
{
    if (hw_res_isnull(r, row, c0)) return NULL;
    ep_placement *p = ep_alloc(m, sizeof *p);
    homeward__episodes__v1__placement__init(p);
    p->id = col(m, r, row, c0);
    p->child_id = col(m, r, row, c0 + 1);
    p->home_id = col(m, r, row, c0 + 2);
    p->address = col(m, r, row, c0 + 3);
    p->placement_type = col(m, r, row, c0 + 4);
    int64_t starts = col_ms(r, row, c0 + 5);
    p->starts_at = ep_ts(m, starts);
    p->ends_at = col_ts(m, r, row, c0 + 6);
    p->placing_authority = col(m, r, row, c0 + 7);
    p->responsible_authority = col(m, r, row, c0 + 8);
    enum ep_reg41 stored = ep_reg41_parse(hw_res_get(r, row, c0 + 9));
    int64_t submitted = col_ms(r, row, c0 + 10);
    /* The stored word says what has happened; the clock says whether an
     * unsubmitted notification is already late (R-NOT-4), even before the
     * deadline's handler has run. */
    enum ep_reg41 now = stored == EP_REG41_NOT_REQUIRED
                            ? EP_REG41_NOT_REQUIRED
                            : ep_reg41_status(true, stored == EP_REG41_SUBMITTED, starts, hw_now_ms());
    p->reg41_status = (Homeward__Episodes__V1__Reg41Status)now;
    p->reg41_due_at = stored == EP_REG41_NOT_REQUIRED ? ep_strdup(m, "") : ep_ts(m, ep_reg41_due(starts));
    p->reg41_submitted_at = ep_ts(m, submitted);
    return p;
}

/* ------------------------------------------------------------ children */

int ep_store_child_save(hw_db *db, const ep_child *child, const char *force,
                        unsigned special_writable, char *out_id, hw_status *st)
{
    /* The record column holds everything but identity columns' duplicates
     * are harmless; special-category groups and output-only fields are
     * cleared so they live only in their own columns. */
    ep_child rec = *child;
    rec.id = (char *)"";
    rec.health = NULL;
    rec.beliefs = NULL;
    rec.cse = NULL;
    rec.n_withheld = 0;
    rec.withheld = NULL;
    rec.updated_at = (char *)"";
    rec.current_placement = NULL;
    rec.age_years = 0;

    char *record = pack_hex(&rec.base);
    char *health = pack_hex(child->health ? &child->health->base : NULL);
    char *beliefs = pack_hex(child->beliefs ? &child->beliefs->base : NULL);
    char *cse = pack_hex(child->cse ? &child->cse->base : NULL);
    char *aliases = json_of_strings(child->aliases, child->n_aliases);
    const char *sw = child->social_worker && child->social_worker->user_id ? child->social_worker->user_id : "";
    const char *w_health = special_writable & EP_SPECIAL_HEALTH ? "t" : "f";
    const char *w_beliefs = special_writable & EP_SPECIAL_BELIEFS ? "t" : "f";
    const char *w_cse = special_writable & EP_SPECIAL_CSE ? "t" : "f";
    const char *p[] = {child->first_name, child->last_name, aliases, child->date_of_birth,
                       child->looked_after ? "t" : "f", child->legal_status,
                       opt(child->responsible_authority), force ? force : "", sw, record,
                       health, beliefs, cse, w_health, w_beliefs, w_cse, opt(child->id)};
    int rc = -1;
    hw_res *r;
    if (!child->id || !*child->id) {
        r = hw_db_exec(db,
                       "INSERT INTO children (first_name, last_name, aliases, date_of_birth,"
                       " looked_after, legal_status, responsible_authority, force, social_worker_id,"
                       " record, health, beliefs, cse)"
                       " VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4::date,"
                       " $5::bool, $6, $7, $8, $9, decode($10, 'hex'),"
                       " CASE WHEN $14::bool THEN decode($11, 'hex') END,"
                       " CASE WHEN $15::bool THEN decode($12, 'hex') END,"
                       " CASE WHEN $16::bool THEN decode($13, 'hex') END)"
                       " RETURNING id",
                       16, p, st);
    } else {
        r = hw_db_exec(db,
                       "UPDATE children SET first_name = $1, last_name = $2,"
                       " aliases = ARRAY(SELECT jsonb_array_elements_text($3::jsonb)),"
                       " date_of_birth = $4::date, looked_after = $5::bool, legal_status = $6,"
                       " responsible_authority = $7, force = CASE WHEN $8 = '' THEN force ELSE $8 END,"
                       " social_worker_id = $9, record = decode($10, 'hex'),"
                       " health = CASE WHEN $14::bool THEN decode($11, 'hex') ELSE health END,"
                       " beliefs = CASE WHEN $15::bool THEN decode($12, 'hex') ELSE beliefs END,"
                       " cse = CASE WHEN $16::bool THEN decode($13, 'hex') ELSE cse END,"
                       " updated_at = now()"
                       " WHERE id = $17::uuid RETURNING id",
                       17, p, st);
    }
    if (!r) goto out_free;
    if (hw_res_rows(r) == 0) {
        hw_status_set(st, HW_NOT_FOUND, "no such child");
    } else {
        snprintf(out_id, 37, "%s", hw_res_get(r, 0, 0));
        rc = 0;
    }
    hw_res_free(r);
out_free:
    free(record);
    free(health);
    free(beliefs);
    free(cse);
    free(aliases);
    return rc;
}

ep_child *ep_store_child_get(hw_db *db, ep_mem *m, const char *id, unsigned special,
                             const char *caller_force, ep_scope *scope, hw_status *st)
{
    const char *p[] = {id, special & EP_SPECIAL_HEALTH ? "t" : "f",
                       special & EP_SPECIAL_BELIEFS ? "t" : "f",
                       special & EP_SPECIAL_CSE ? "t" : "f", caller_force ? caller_force : ""};
    hw_res *r = hw_db_exec(
        db,
        "SELECT c.id, c.first_name, c.last_name, c.date_of_birth::text, c.looked_after,"
        " c.legal_status, coalesce(c.responsible_authority, ''), c.force, " MS("c.updated_at") ","
        " encode(c.record, 'hex'),"
        " CASE WHEN $2::bool THEN encode(c.health, 'hex') END,"
        " CASE WHEN $3::bool THEN encode(c.beliefs, 'hex') END,"
        " CASE WHEN $4::bool THEN encode(c.cse, 'hex') END,"
        " array_to_json(c.aliases)::text,"
        " $5 <> '' AND (ha.force = $5 OR EXISTS (SELECT 1 FROM episodes x"
        "   WHERE x.child_id = c.id AND x.force = $5)),"
        " c.date_of_birth - date '1970-01-01', current_date - date '1970-01-01', "
        PLACEMENT_COLS("p")
        " FROM children c"
        " LEFT JOIN placements p ON p.child_id = c.id AND p.ends_at IS NULL"
        " LEFT JOIN homes h ON h.id = p.home_id"
        " LEFT JOIN authorities ha ON ha.code = h.host_authority"
        " WHERE c.id = $1::uuid",
        5, p, st);
    if (!found(&r, "child", st)) return NULL;
    ep_child *c = unpack_hex(m, &homeward__episodes__v1__child__descriptor, r, 0, 9);
    if (!c) {
        c = ep_alloc(m, sizeof *c);
        homeward__episodes__v1__child__init(c);
    }
    c->id = col(m, r, 0, 0);
    c->first_name = col(m, r, 0, 1);
    c->last_name = col(m, r, 0, 2);
    c->date_of_birth = col(m, r, 0, 3);
    c->looked_after = hw_res_bool(r, 0, 4);
    c->legal_status = col(m, r, 0, 5);
    c->responsible_authority = col(m, r, 0, 6);
    c->updated_at = col_ts(m, r, 0, 8);
    c->health = unpack_hex(m, &homeward__episodes__v1__health__descriptor, r, 0, 10);
    c->beliefs = unpack_hex(m, &homeward__episodes__v1__beliefs__descriptor, r, 0, 11);
    c->cse = unpack_hex(m, &homeward__episodes__v1__cse_matters__descriptor, r, 0, 12);
    json_t *aliases = json_loads(hw_res_get(r, 0, 13), 0, NULL);
    c->n_aliases = 0;
    if (json_is_array(aliases) && json_array_size(aliases) > 0) {
        c->aliases = ep_alloc(m, json_array_size(aliases) * sizeof(char *));
        for (size_t i = 0; i < json_array_size(aliases); i++)
            c->aliases[c->n_aliases++] = ep_strdup(m, json_string_value(json_array_get(aliases, i)));
    }
    json_decref(aliases);
    c->age_years = ep_age_years((int)hw_res_int(r, 0, 15), (int)hw_res_int(r, 0, 16));
    c->current_placement = placement_from(m, r, 0, 17);
    /* Which special-category groups were withheld from this caller (R-SEC-3). */
    static const enum ep_special groups[] = {EP_SPECIAL_HEALTH, EP_SPECIAL_BELIEFS, EP_SPECIAL_CSE};
    c->withheld = ep_alloc(m, 3 * sizeof(char *));
    c->n_withheld = 0;
    for (int i = 0; i < 3; i++)
        if (!(special & groups[i])) c->withheld[c->n_withheld++] = (char *)ep_special_name(groups[i]);

    if (scope) {
        memset(scope, 0, sizeof *scope);
        scope->force = col(m, r, 0, 7);
        scope->responsible_authority = c->responsible_authority;
        scope->placing_authority = c->current_placement ? c->current_placement->placing_authority : "";
        scope->home_id = c->current_placement ? c->current_placement->home_id : "";
        scope->assigned_officer_id = "";
        scope->episode_in_force = hw_res_bool(r, 0, 14);
    }
    hw_res_free(r);
    return c;
}

/* LIKE pattern for a prefix, with the user's % and _ taken literally. */
static char *like_prefix(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 2);
    if (!out) abort();
    char *o = out;
    for (const char *c = s; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\') *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '%';
    *o = 0;
    return out;
}

int ep_store_child_search(hw_db *db, ep_mem *m, const char *name, const char *dob, int limit,
                          const ep_vis *vis, ep_child_summary ***out, size_t *n, hw_status *st)
{
    char lim[24];
    char *pattern = name && *name ? like_prefix(name) : NULL;
    const char *p[] = {pattern, opt(dob), vis->all ? "t" : "f", vis->force, vis->officer,
                       vis->homes_json, vis->authority, i64s(lim, limit)};
    hw_res *r = hw_db_exec(
        db,
        "SELECT c.id, c.first_name, c.last_name, c.date_of_birth::text,"
        " coalesce(c.responsible_authority, ''), coalesce(p.home_id::text, ''), c.looked_after"
        " FROM children c"
        " LEFT JOIN placements p ON p.child_id = c.id AND p.ends_at IS NULL"
        " LEFT JOIN homes h ON h.id = p.home_id"
        " LEFT JOIN authorities ha ON ha.code = h.host_authority"
        " WHERE ($1::text IS NULL OR lower(c.first_name) LIKE lower($1)"
        "        OR lower(c.last_name) LIKE lower($1)"
        "        OR EXISTS (SELECT 1 FROM unnest(c.aliases) a WHERE lower(a) LIKE lower($1)))"
        "   AND ($2::date IS NULL OR c.date_of_birth = $2::date)"
        "   AND ($3::bool OR c.force = $4 OR ha.force = $4"
        "        OR EXISTS (SELECT 1 FROM episodes x WHERE x.child_id = c.id"
        "                   AND (x.force = $4 OR x.assigned_officer_id = $5))"
        "        OR p.home_id::text IN (SELECT jsonb_array_elements_text($6::jsonb))"
        "        OR c.responsible_authority = $7 OR p.placing_authority = $7)"
        " ORDER BY lower(c.last_name), lower(c.first_name), c.id LIMIT $8::int",
        8, p, st);
    free(pattern);
    if (!r) return -1;
    *n = (size_t)hw_res_rows(r);
    *out = ep_alloc(m, (*n ? *n : 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        ep_child_summary *s = ep_alloc(m, sizeof *s);
        homeward__episodes__v1__child_summary__init(s);
        s->id = col(m, r, (int)i, 0);
        s->first_name = col(m, r, (int)i, 1);
        s->last_name = col(m, r, (int)i, 2);
        s->date_of_birth = col(m, r, (int)i, 3);
        s->responsible_authority = col(m, r, (int)i, 4);
        s->current_home_id = col(m, r, (int)i, 5);
        s->looked_after = hw_res_bool(r, (int)i, 6);
        (*out)[i] = s;
    }
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ homes */

int ep_store_home_save(hw_db *db, const ep_home *home, char *out_id, hw_status *st)
{
    ep_home rec = *home;
    rec.id = (char *)"";
    rec.force = (char *)"";
    rec.profile = (char *)"";
    char *record = pack_hex(&rec.base);
    char *spocs[HW_MAX_HOMES];
    size_t ns = 0;
    for (size_t i = 0; i < home->n_spoc_officers && ns < HW_MAX_HOMES; i++)
        if (home->spoc_officers[i]->user_id && *home->spoc_officers[i]->user_id)
            spocs[ns++] = home->spoc_officers[i]->user_id;
    char *spoc_json = json_of_strings(spocs, ns);
    const char *p[] = {home->name, home->address, home->provider, home->host_authority, spoc_json,
                       record, opt(home->id)};
    hw_res *r;
    if (!home->id || !*home->id)
        r = hw_db_exec(db,
                       "INSERT INTO homes (name, address, provider, host_authority, spoc_ids, record)"
                       " VALUES ($1, $2, $3, $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),"
                       " decode($6, 'hex')) RETURNING id",
                       6, p, st);
    else
        r = hw_db_exec(db,
                       "UPDATE homes SET name = $1, address = $2, provider = $3, host_authority = $4,"
                       " spoc_ids = ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),"
                       " record = decode($6, 'hex'), updated_at = now()"
                       " WHERE id = $7::uuid RETURNING id",
                       7, p, st);
    free(record);
    free(spoc_json);
    if (!r) return -1;
    int rc = 0;
    if (hw_res_rows(r) == 0)
        rc = hw_status_set(st, HW_NOT_FOUND, "no such home");
    else
        snprintf(out_id, 37, "%s", hw_res_get(r, 0, 0));
    hw_res_free(r);
    return rc;
}

/* How many of the times in a bigint[] in Postgres' text form ("{1,2,3}")
 * lie in (after, until]. */
static int ms_array_count(const char *arr, int64_t after, int64_t until)
{
    int n = 0;
    for (const char *s = arr; *s;) {
        if (*s == '-' || (*s >= '0' && *s <= '9')) {
            char *end;
            long long v = strtoll(s, &end, 10);
            if (end == s) break;
            if (v > after && v <= until) n++;
            s = end;
        } else {
            s++;
        }
    }
    return n;
}

/* Columns 0-7 are the home's, repeated on each line; a home with nobody
 * placed there has one row whose line columns are NULL. */
#define HOME_COLS                                                                            \
    "h.id, h.name, h.address, h.provider, h.host_authority, encode(h.record, 'hex'), a.force," \
    " a.profile"

static ep_home *home_from(ep_mem *m, const hw_res *r)
{
    ep_home *h = unpack_hex(m, &homeward__episodes__v1__home__descriptor, r, 0, 5);
    if (!h) {
        h = ep_alloc(m, sizeof *h);
        homeward__episodes__v1__home__init(h);
    }
    h->id = col(m, r, 0, 0);
    h->name = col(m, r, 0, 1);
    h->address = col(m, r, 0, 2);
    h->provider = col(m, r, 0, 3);
    h->host_authority = col(m, r, 0, 4);
    h->force = col(m, r, 0, 6);
    h->profile = col(m, r, 0, 7);
    return h;
}

ep_home *ep_store_home_get(hw_db *db, ep_mem *m, const char *id, hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           "SELECT " HOME_COLS
                           " FROM homes h JOIN authorities a ON a.code = h.host_authority"
                           " WHERE h.id = $1::uuid",
                           1, p, st);
    if (!found(&r, "home", st)) return NULL;
    ep_home *h = home_from(m, r);
    hw_res_free(r);
    return h;
}

/* ------------------------------------------------------------ placements */

int ep_store_placement_insert(hw_db *db, const ep_placement *pl, int64_t starts_ms, int64_t ends_ms,
                              bool reg41_required, char *out_id, hw_status *st)
{
    char s[24], e[24];
    const char *p[] = {pl->child_id, opt(pl->home_id), pl->address, pl->placement_type,
                       i64s(s, starts_ms), ends_ms >= 0 ? i64s(e, ends_ms) : NULL,
                       opt(pl->placing_authority), opt(pl->responsible_authority),
                       reg41_required ? "due" : "not_required"};
    hw_res *r = hw_db_exec(db,
                           "INSERT INTO placements (child_id, home_id, address, placement_type,"
                           " starts_at, ends_at, placing_authority, responsible_authority, reg41_status)"
                           " VALUES ($1::uuid, $2::uuid, $3, $4, " TSP("$5") ", " TSP("$6") ", $7, $8, $9)"
                           " RETURNING id",
                           9, p, st);
    if (!r) return -1;
    snprintf(out_id, 37, "%s", hw_res_get(r, 0, 0));
    hw_res_free(r);
    return 0;
}

int ep_store_placement_update(hw_db *db, const ep_placement *pl, int64_t starts_ms, hw_status *st)
{
    char s[24];
    const char *p[] = {pl->id, opt(pl->home_id), pl->address, pl->placement_type, i64s(s, starts_ms),
                       opt(pl->placing_authority), opt(pl->responsible_authority)};
    hw_res *r = hw_db_exec(db,
                           "UPDATE placements SET home_id = $2::uuid, address = $3, placement_type = $4,"
                           " starts_at = " TSP("$5") ", placing_authority = $6,"
                           " responsible_authority = $7 WHERE id = $1::uuid",
                           7, p, st);
    if (!r) return -1;
    int rc = hw_res_affected(r) == 1 ? 0 : hw_status_set(st, HW_NOT_FOUND, "no such placement");
    hw_res_free(r);
    return rc;
}

ep_placement *ep_store_placement_get(hw_db *db, ep_mem *m, const char *id, ep_scope *scope,
                                     int64_t *starts_ms, hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           "SELECT " PLACEMENT_COLS("p") ", c.force, coalesce(c.responsible_authority, ''),"
                           " coalesce(ha.force, '')"
                           " FROM placements p JOIN children c ON c.id = p.child_id"
                           " LEFT JOIN homes h ON h.id = p.home_id"
                           " LEFT JOIN authorities ha ON ha.code = h.host_authority"
                           " WHERE p.id = $1::uuid FOR UPDATE OF p",
                           1, p, st);
    if (!found(&r, "placement", st)) return NULL;
    ep_placement *pl = placement_from(m, r, 0, 0);
    if (starts_ms) *starts_ms = col_ms(r, 0, 5);
    if (scope) {
        memset(scope, 0, sizeof *scope);
        /* Police of the home's area see its placements; otherwise the
         * child's own force. */
        const char *home_force = hw_res_get(r, 0, PLACEMENT_NCOLS + 2);
        scope->force = col(m, r, 0, *home_force ? PLACEMENT_NCOLS + 2 : PLACEMENT_NCOLS);
        scope->responsible_authority = *pl->responsible_authority
                                           ? pl->responsible_authority
                                           : col(m, r, 0, PLACEMENT_NCOLS + 1);
        scope->placing_authority = pl->placing_authority;
        scope->home_id = pl->home_id;
        scope->assigned_officer_id = "";
    }
    hw_res_free(r);
    return pl;
}

int ep_store_placement_end(hw_db *db, const char *id, int64_t ends_ms, const char *reason,
                           hw_status *st)
{
    char e[24];
    const char *p[] = {id, i64s(e, ends_ms), reason ? reason : ""};
    return hw_db_run(db,
                     "UPDATE placements SET ends_at = " TSP("$2") ", end_reason = $3"
                     " WHERE id = $1::uuid",
                     3, p, st);
}

int ep_store_reg41_submit(hw_db *db, const char *placement_id,
                          const Homeward__Episodes__V1__Regulation41 *form, hw_status *st)
{
    char *hex = pack_hex(&form->base);
    const char *p[] = {placement_id, hex};
    int rc = hw_db_run(db,
                       "UPDATE placements SET reg41_status = 'submitted', reg41_submitted_at = now(),"
                       " reg41_form = decode($2, 'hex') WHERE id = $1::uuid",
                       2, p, st);
    free(hex);
    return rc;
}

int ep_store_reg41_mark_overdue(hw_db *db, const char *placement_id, hw_status *st)
{
    const char *p[] = {placement_id};
    hw_res *r = hw_db_exec(db,
                           "UPDATE placements SET reg41_status = 'overdue'"
                           " WHERE id = $1::uuid AND reg41_status = 'due'",
                           1, p, st);
    if (!r) return -1;
    int changed = hw_res_affected(r) > 0;
    hw_res_free(r);
    return changed;
}

/* ------------------------------------------------------------ episodes */

#define EPISODE_COLS                                                                            \
    "e.id, e.child_id, c.first_name || ' ' || c.last_name, coalesce(e.home_id::text, ''),"      \
    " coalesce(e.placement_id::text, ''), e.status, e.classification, e.was_missing, e.force,"  \
    " e.profile, e.responsible_authority, e.placing_authority, e.assigned_officer_id,"          \
    " e.assigned_officer_name, " MS("e.reported_at") ", e.reported_by_id, "                     \
    MS("e.missing_since") ", " MS("e.last_seen_at") ", e.last_seen_place, "                    \
    MS("e.located_at") ", e.located_place, e.located_by, e.return_method, e.located_notes,"     \
    " e.located_recorded_by, " MS("e.prevention_interview_at") ", " MS("e.closed_at") ","       \
    " e.close_reason, e.police_incident_ref, e.mispers_ref, e.long_term, e.risk_level,"         \
    " e.risk_scale_version, e.return_interview_offered, e.return_interview_accepted, "          \
    MS("e.updated_at")
#define EPISODE_NCOLS 36

static const char *const return_words[] = {"", "own_accord", "police", "family", "carers", "other"};

static int return_parse(const char *w)
{
    for (int i = 1; i < 6; i++)
        if (strcmp(w, return_words[i]) == 0) return i;
    return 0;
}

const char *ep_return_method_text(int how)
{
    return how >= 1 && how <= 5 ? return_words[how] : "";
}

static ep_episode *episode_from(ep_mem *m, const hw_res *r, int row, int c0, ep_scope *scope)
{
    ep_episode *e = ep_alloc(m, sizeof *e);
    homeward__episodes__v1__episode__init(e);
    int c = c0;
    e->id = col(m, r, row, c++);
    e->child_id = col(m, r, row, c++);
    e->child_name = col(m, r, row, c++);
    e->home_id = col(m, r, row, c++);
    e->placement_id = col(m, r, row, c++);
    e->status = (Homeward__Episodes__V1__EpisodeStatus)ep_status_parse(hw_res_get(r, row, c++));
    e->classification =
        (Homeward__Episodes__V1__Classification)ep_classification_parse(hw_res_get(r, row, c++));
    e->was_missing = hw_res_bool(r, row, c++);
    e->force = col(m, r, row, c++);
    e->profile = col(m, r, row, c++);
    e->responsible_authority = col(m, r, row, c++);
    e->placing_authority = col(m, r, row, c++);
    e->assigned_officer_id = col(m, r, row, c++);
    e->assigned_officer_name = col(m, r, row, c++);
    e->reported_at = col_ts(m, r, row, c++);
    e->reported_by_id = col(m, r, row, c++);
    e->missing_since = col_ts(m, r, row, c++);
    e->last_seen_at = col_ts(m, r, row, c++);
    e->last_seen_place = col(m, r, row, c++);
    if (!hw_res_isnull(r, row, c)) {
        Homeward__Episodes__V1__Located *l = ep_alloc(m, sizeof *l);
        homeward__episodes__v1__located__init(l);
        l->at = col_ts(m, r, row, c);
        l->place = col(m, r, row, c + 1);
        l->by = col(m, r, row, c + 2);
        l->how = (Homeward__Episodes__V1__ReturnMethod)return_parse(hw_res_get(r, row, c + 3));
        l->notes = col(m, r, row, c + 4);
        l->recorded_by_id = col(m, r, row, c + 5);
        e->located = l;
    }
    c += 6;
    e->prevention_interview_at = col_ts(m, r, row, c++);
    e->closed_at = col_ts(m, r, row, c++);
    e->close_reason = col(m, r, row, c++);
    e->police_incident_ref = col(m, r, row, c++);
    e->mispers_ref = col(m, r, row, c++);
    e->long_term = hw_res_bool(r, row, c++);
    e->risk_level = col(m, r, row, c++);
    e->risk_scale_version = col(m, r, row, c++);
    e->return_interview_offered = hw_res_bool(r, row, c++);
    e->return_interview_accepted = hw_res_bool(r, row, c++);
    e->updated_at = col_ts(m, r, row, c++);
    if (scope) {
        memset(scope, 0, sizeof *scope);
        scope->force = e->force;
        scope->responsible_authority = e->responsible_authority;
        scope->placing_authority = e->placing_authority;
        scope->home_id = e->home_id;
        scope->assigned_officer_id = e->assigned_officer_id;
    }
    return e;
}

int ep_store_episode_insert(hw_db *db, const ep_new_episode *e, char *out_id, hw_status *st)
{
    char rep[24], miss[24], seen[24];
    char *report = pack_hex(e->report ? &e->report->base : NULL);
    const char *p[] = {e->child_id,
                       opt(e->placement_id),
                       opt(e->home_id),
                       ep_status_text(e->status),
                       ep_classification_text(e->classification),
                       e->was_missing ? "t" : "f",
                       e->force,
                       e->profile,
                       e->responsible_authority ? e->responsible_authority : "",
                       e->placing_authority ? e->placing_authority : "",
                       e->reported_by_id,
                       i64s(rep, e->reported_ms),
                       e->missing_since_ms >= 0 ? i64s(miss, e->missing_since_ms) : NULL,
                       e->last_seen_ms >= 0 ? i64s(seen, e->last_seen_ms) : NULL,
                       e->last_seen_place ? e->last_seen_place : "",
                       e->police_incident_ref ? e->police_incident_ref : "",
                       e->mispers_ref ? e->mispers_ref : "",
                       report};
    hw_res *r = hw_db_exec(
        db,
        "INSERT INTO episodes (child_id, placement_id, home_id, status, classification,"
        " was_missing, force, profile, responsible_authority, placing_authority, reported_by_id,"
        " reported_at, missing_since, last_seen_at, last_seen_place, police_incident_ref,"
        " mispers_ref, report)"
        " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6::bool, $7, $8, $9, $10, $11, "
        TSP("$12") ", " TSP("$13") ", " TSP("$14") ", $15, $16, $17, decode($18, 'hex'))"
        " RETURNING id",
        18, p, st);
    free(report);
    if (!r) return -1;
    snprintf(out_id, 37, "%s", hw_res_get(r, 0, 0));
    hw_res_free(r);
    return 0;
}

ep_episode *ep_store_episode_get(hw_db *db, ep_mem *m, const char *id, bool lock,
                                 bool with_report, unsigned special, ep_scope *scope,
                                 hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           lock ? "SELECT " EPISODE_COLS ", encode(e.report, 'hex')"
                                  " FROM episodes e JOIN children c ON c.id = e.child_id"
                                  " WHERE e.id = $1::uuid FOR UPDATE OF e"
                                : "SELECT " EPISODE_COLS ", encode(e.report, 'hex')"
                                  " FROM episodes e JOIN children c ON c.id = e.child_id"
                                  " WHERE e.id = $1::uuid",
                           1, p, st);
    if (!found(&r, "episode", st)) return NULL;
    ep_episode *e = episode_from(m, r, 0, 0, scope);
    if (with_report) {
        e->report = unpack_hex(m, &homeward__episodes__v1__missing_report__descriptor, r, 0,
                               EPISODE_NCOLS);
        e->withheld = ep_alloc(m, 2 * sizeof(char *));
        if (e->report && !(special & EP_SPECIAL_HEALTH)) {
            e->report->health = NULL;
            e->withheld[e->n_withheld++] = (char *)ep_special_name(EP_SPECIAL_HEALTH);
        }
        if (e->report && !(special & EP_SPECIAL_BELIEFS)) {
            e->report->beliefs = NULL;
            e->withheld[e->n_withheld++] = (char *)ep_special_name(EP_SPECIAL_BELIEFS);
        }
    }
    hw_res_free(r);
    return e;
}

int ep_store_open_episode(hw_db *db, const char *child_id, char *out, hw_status *st)
{
    const char *p[] = {child_id};
    hw_res *r = hw_db_exec(db,
                           "SELECT id FROM episodes WHERE child_id = $1::uuid AND status <> 'closed'"
                           " ORDER BY reported_at DESC LIMIT 1",
                           1, p, st);
    if (!r) return -1;
    int found = hw_res_rows(r) > 0;
    if (found) snprintf(out, 37, "%s", hw_res_get(r, 0, 0));
    hw_res_free(r);
    return found;
}

static int run1(hw_db *db, const char *sql, int n, const char *const *p, hw_status *st)
{
    hw_res *r = hw_db_exec(db, sql, n, p, st);
    if (!r) return -1;
    int rc = hw_res_affected(r) == 1 ? 0 : hw_status_set(st, HW_NOT_FOUND, "no such episode");
    hw_res_free(r);
    return rc;
}

int ep_store_episode_status(hw_db *db, const char *id, enum ep_status status, hw_status *st)
{
    const char *p[] = {id, ep_status_text(status)};
    return run1(db, "UPDATE episodes SET status = $2, updated_at = now() WHERE id = $1::uuid", 2, p,
                st);
}

int ep_store_episode_missing(hw_db *db, const char *id, int64_t missing_since_ms,
                             int64_t last_seen_ms, const char *last_seen_place,
                             const ep_report *report, hw_status *st)
{
    char ms[24], ls[24];
    char *hex = pack_hex(report ? &report->base : NULL);
    const char *p[] = {id, i64s(ms, missing_since_ms), i64s(ls, last_seen_ms), last_seen_place, hex,
                       report ? report->police_incident_ref : "", report ? report->mispers_ref : ""};
    int rc = run1(db,
                  "UPDATE episodes SET status = 'missing', classification = 'missing_from_care',"
                  " was_missing = true, missing_since = " TSP("$2") ", last_seen_at = " TSP("$3") ","
                  " last_seen_place = $4, report = decode($5, 'hex'),"
                  " police_incident_ref = CASE WHEN $6 = '' THEN police_incident_ref ELSE $6 END,"
                  " mispers_ref = CASE WHEN $7 = '' THEN mispers_ref ELSE $7 END,"
                  " updated_at = now() WHERE id = $1::uuid",
                  7, p, st);
    free(hex);
    return rc;
}

int ep_store_episode_refs(hw_db *db, const char *id, const char *incident, const char *mispers,
                          hw_status *st)
{
    const char *p[] = {id, opt(incident), opt(mispers)};
    return run1(db,
                "UPDATE episodes SET police_incident_ref = coalesce($2, police_incident_ref),"
                " mispers_ref = coalesce($3, mispers_ref), updated_at = now() WHERE id = $1::uuid",
                3, p, st);
}

int ep_store_episode_assign(hw_db *db, const char *id, const char *officer_id,
                            const char *officer_name, hw_status *st)
{
    const char *p[] = {id, officer_id, officer_name ? officer_name : ""};
    return run1(db,
                "UPDATE episodes SET assigned_officer_id = $2, assigned_officer_name = $3,"
                " updated_at = now() WHERE id = $1::uuid",
                3, p, st);
}

int ep_store_episode_located(hw_db *db, const char *id, int64_t at_ms, const char *place,
                             const char *by, const char *how, const char *notes,
                             const char *recorded_by, hw_status *st)
{
    char at[24];
    const char *p[] = {id, i64s(at, at_ms), place, by, how, notes ? notes : "", recorded_by};
    return run1(db,
                "UPDATE episodes SET status = 'located', located_at = " TSP("$2") ","
                " located_place = $3, located_by = $4, return_method = $5, located_notes = $6,"
                " located_recorded_by = $7, updated_at = now() WHERE id = $1::uuid",
                7, p, st);
}

int ep_store_episode_closed(hw_db *db, const char *id, int64_t at_ms, const char *by,
                            const char *reason, hw_status *st)
{
    char at[24];
    const char *p[] = {id, i64s(at, at_ms), by, reason ? reason : ""};
    return run1(db,
                "UPDATE episodes SET status = 'closed', closed_at = " TSP("$2") ", closed_by_id = $3,"
                " close_reason = $4, updated_at = now() WHERE id = $1::uuid",
                4, p, st);
}

int ep_store_episode_prevention(hw_db *db, const char *id, int64_t at_ms, hw_status *st)
{
    char at[24];
    const char *p[] = {id, i64s(at, at_ms)};
    return run1(db,
                "UPDATE episodes SET prevention_interview_at = coalesce(prevention_interview_at, "
                TSP("$2") "), updated_at = now() WHERE id = $1::uuid",
                2, p, st);
}

int ep_store_episode_return_interview(hw_db *db, const char *id, bool accepted, hw_status *st)
{
    const char *p[] = {id, accepted ? "t" : "f"};
    return run1(db,
                "UPDATE episodes SET return_interview_offered = true,"
                " return_interview_accepted = $2::bool, updated_at = now() WHERE id = $1::uuid",
                2, p, st);
}

int ep_store_episode_risk(hw_db *db, const char *id, const char *level, const char *scale,
                          hw_status *st)
{
    const char *p[] = {id, level, scale ? scale : ""};
    return run1(db,
                "UPDATE episodes SET risk_level = $2, risk_scale_version = $3, updated_at = now()"
                " WHERE id = $1::uuid",
                3, p, st);
}

int ep_store_episode_long_term(hw_db *db, const char *id, hw_status *st)
{
    const char *p[] = {id};
    hw_res *r = hw_db_exec(db,
                           "UPDATE episodes SET long_term = true, updated_at = now()"
                           " WHERE id = $1::uuid AND status = 'missing' AND NOT long_term",
                           1, p, st);
    if (!r) return -1;
    int changed = hw_res_affected(r) > 0;
    hw_res_free(r);
    return changed;
}

/* ------------------------------------------------------------ timeline, feed */

int ep_store_timeline_add(hw_db *db, const char *episode_id, int64_t at_ms, const char *kind,
                          const char *actor_id, const char *actor_name, const char *text,
                          const char *place, hw_status *st)
{
    char at[24];
    const char *p[] = {episode_id, i64s(at, at_ms), kind, actor_id, actor_name ? actor_name : "",
                       text ? text : "", place ? place : ""};
    return hw_db_run(db,
                     "INSERT INTO timeline (episode_id, at, kind, actor_id, actor_name, text, place)"
                     " VALUES ($1::uuid, " TSP("$2") ", $3, $4, $5, $6, $7)",
                     7, p, st);
}

int ep_store_timeline(hw_db *db, ep_mem *m, const char *episode_id, ep_entry ***out, size_t *n,
                      hw_status *st)
{
    const char *p[] = {episode_id};
    hw_res *r = hw_db_exec(db,
                           "SELECT id, " MS("at") ", " MS("recorded_at") ", kind, actor_id, actor_name,"
                           " text, place FROM timeline WHERE episode_id = $1::uuid ORDER BY id",
                           1, p, st);
    if (!r) return -1;
    *n = (size_t)hw_res_rows(r);
    *out = ep_alloc(m, (*n ? *n : 1) * sizeof **out);
    for (int i = 0; i < (int)*n; i++) {
        ep_entry *t = ep_alloc(m, sizeof *t);
        homeward__episodes__v1__timeline_entry__init(t);
        t->id = col(m, r, i, 0);
        t->at = col_ts(m, r, i, 1);
        t->recorded_at = col_ts(m, r, i, 2);
        t->kind = col(m, r, i, 3);
        t->actor_id = col(m, r, i, 4);
        t->actor_name = col(m, r, i, 5);
        t->text = col(m, r, i, 6);
        t->place = col(m, r, i, 7);
        (*out)[i] = t;
    }
    hw_res_free(r);
    return 0;
}

/* Ids and facts only: never a name or a date of birth. */
static const char *const episode_payload_sql =
    "SELECT jsonb_build_object("
    " 'episode_id', e.id, 'child_id', e.child_id, 'home_id', e.home_id,"
    " 'placement_id', e.placement_id, 'status', e.status, 'classification', e.classification,"
    " 'was_missing', e.was_missing, 'force', e.force, 'profile', e.profile,"
    " 'responsible_authority', nullif(e.responsible_authority, ''),"
    " 'placing_authority', nullif(e.placing_authority, ''),"
    /* R-ESC-3 (meetings): placed by another authority than the home's area. */
    " 'host_authority', h.host_authority,"
    /* R-RET-1 (interviews): LLR care staff may do a residential placement's
     * prevention interview. */
    " 'placement_type', nullif(p.placement_type, ''),"
    " 'assigned_officer', nullif(e.assigned_officer_id, ''),"
    " 'social_worker_id', nullif(c.social_worker_id, ''),"
    " 'spoc_ids', coalesce(to_jsonb(h.spoc_ids), '[]'::jsonb),"
    " 'looked_after', c.looked_after,"
    " 'aged_12_or_under', age(e.reported_at, c.date_of_birth) < interval '13 years',"
    " 'reported_at', to_char(e.reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " 'located_at', to_char(e.located_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " 'closed_at', to_char(e.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " 'long_term', e.long_term, 'risk_level', nullif(e.risk_level, ''),"
    " 'missing_90_days', (SELECT count(*) FROM episodes x WHERE x.child_id = e.child_id"
    "   AND x.was_missing AND x.reported_at > now() - interval '90 days'))::text"
    " FROM episodes e JOIN children c ON c.id = e.child_id LEFT JOIN homes h ON h.id = e.home_id"
    " LEFT JOIN placements p ON p.id = e.placement_id"
    " WHERE e.id = $1::uuid";

int ep_store_changed(hw_db *db, const char *episode_id, const char *change,
                     const char *event_type, hw_status *st)
{
    if (event_type) {
        const char *p[] = {episode_id};
        hw_res *r = hw_db_exec(db, episode_payload_sql, 1, p, st);
        if (!r) return -1;
        if (hw_res_rows(r) == 0) {
            hw_res_free(r);
            return hw_status_set(st, HW_NOT_FOUND, "no such episode");
        }
        char subject[64];
        snprintf(subject, sizeof subject, "episode:%s", episode_id);
        int rc = hw_outbox_add(db, event_type, subject, hw_res_get(r, 0, 0), NULL, st);
        hw_res_free(r);
        if (rc != 0) return -1;
    }
    /* Serialise feed writers until commit so seq order is commit order. */
    if (hw_db_run(db, "SELECT pg_advisory_xact_lock(hashtext('homeward.episodes.changes'))", 0,
                  NULL, st) != 0)
        return -1;
    const char *p[] = {episode_id, change};
    return hw_db_run(db, "INSERT INTO changes (episode_id, change) VALUES ($1::uuid, $2)", 2, p, st);
}

int ep_store_placement_event(hw_db *db, const char *placement_id, const char *event_type,
                             hw_status *st)
{
    const char *p[] = {placement_id};
    hw_res *r = hw_db_exec(
        db,
        "SELECT jsonb_build_object('placement_id', p.id, 'child_id', p.child_id,"
        " 'home_id', p.home_id, 'placing_authority', p.placing_authority,"
        " 'responsible_authority', coalesce(p.responsible_authority, c.responsible_authority),"
        " 'force', coalesce(ha.force, nullif(c.force, '')), 'profile', ha.profile,"
        " 'placement_type', p.placement_type, 'reg41_status', p.reg41_status,"
        " 'social_worker_id', nullif(c.social_worker_id, ''),"
        " 'spoc_ids', coalesce(to_jsonb(h.spoc_ids), '[]'::jsonb),"
        " 'starts_at', to_char(p.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " 'ends_at', to_char(p.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))::text"
        " FROM placements p JOIN children c ON c.id = p.child_id"
        " LEFT JOIN homes h ON h.id = p.home_id LEFT JOIN authorities ha ON ha.code = h.host_authority"
        " WHERE p.id = $1::uuid",
        1, p, st);
    if (!r) return -1;
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        return hw_status_set(st, HW_NOT_FOUND, "no such placement");
    }
    char subject[64];
    snprintf(subject, sizeof subject, "placement:%s", placement_id);
    int rc = hw_outbox_add(db, event_type, subject, hw_res_get(r, 0, 0), NULL, st);
    hw_res_free(r);
    return rc;
}

/* ------------------------------------------------------------ counts */

int ep_store_counts(hw_db *db, const char *child_id, int64_t as_of_ms, ep_counts *out,
                    hw_status *st)
{
    char a[24], b[24], c[24];
    /* Window bounds come from rules.c so SQL and the unit-tested rule agree. */
    const char *p[] = {child_id, i64s(a, ep_window_90_days_start(as_of_ms)),
                       i64s(b, ep_window_12_months_start(as_of_ms)), i64s(c, as_of_ms)};
    hw_res *r = hw_db_exec(
        db,
        "SELECT count(*) FILTER (WHERE was_missing AND reported_at > " TSP("$2") "),"
        " count(*) FILTER (WHERE was_missing),"
        " count(*) FILTER (WHERE NOT was_missing AND reported_at > " TSP("$2") "),"
        " count(*) FILTER (WHERE NOT was_missing)"
        " FROM episodes WHERE child_id = $1::uuid AND reported_at > " TSP("$3")
        " AND reported_at <= " TSP("$4"),
        4, p, st);
    if (!r) return -1;
    out->missing_90_days = (int)hw_res_int(r, 0, 0);
    out->missing_12_months = (int)hw_res_int(r, 0, 1);
    out->absences_90_days = (int)hw_res_int(r, 0, 2);
    out->absences_12_months = (int)hw_res_int(r, 0, 3);
    out->repeat_missing = ep_is_repeat_missing(out->missing_12_months);
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ lists */

int ep_store_episode_list(hw_db *db, ep_mem *m, const ep_list_filter *f, const ep_vis *vis,
                          ep_episode ***out, size_t *n, int64_t *last_us, char **last_id,
                          hw_status *st)
{
    char from[24], to[24], after[24], lim[24];
    const char *p[] = {f->statuses_json,
                       opt(f->child_id),
                       opt(f->home_id),
                       opt(f->organisation),
                       f->from_ms >= 0 ? i64s(from, f->from_ms) : NULL,
                       f->to_ms >= 0 ? i64s(to, f->to_ms) : NULL,
                       f->open_only ? "t" : "f",
                       f->after_us >= 0 ? i64s(after, f->after_us) : NULL,
                       opt(f->after_id),
                       i64s(lim, f->limit),
                       vis->all ? "t" : "f",
                       vis->force,
                       vis->officer,
                       vis->homes_json,
                       vis->authority};
    hw_res *r = hw_db_exec(
        db,
        "SELECT " EPISODE_COLS ", floor(extract(epoch from e.reported_at) * 1000000)::bigint"
        " FROM episodes e JOIN children c ON c.id = e.child_id"
        " WHERE ($1::jsonb IS NULL OR e.status IN (SELECT jsonb_array_elements_text($1::jsonb)))"
        "   AND ($2::uuid IS NULL OR e.child_id = $2::uuid)"
        "   AND ($3::uuid IS NULL OR e.home_id = $3::uuid)"
        "   AND ($4::text IS NULL OR e.force = $4 OR e.responsible_authority = $4"
        "        OR e.placing_authority = $4)"
        "   AND ($5::bigint IS NULL OR e.reported_at >= " TSP("$5") ")"
        "   AND ($6::bigint IS NULL OR e.reported_at < " TSP("$6") ")"
        "   AND (NOT $7::bool OR e.status <> 'closed')"
        "   AND ($8::bigint IS NULL OR (e.reported_at, e.id) <"
        "        (timestamptz 'epoch' + $8::bigint * interval '1 microsecond', $9::uuid))"
        "   AND ($11::bool OR e.force = $12 OR e.assigned_officer_id = $13"
        "        OR e.home_id::text IN (SELECT jsonb_array_elements_text($14::jsonb))"
        "        OR e.responsible_authority = $15 OR e.placing_authority = $15)"
        " ORDER BY e.reported_at DESC, e.id DESC LIMIT $10::int",
        15, p, st);
    if (!r) return -1;
    *n = (size_t)hw_res_rows(r);
    *out = ep_alloc(m, (*n ? *n : 1) * sizeof **out);
    for (int i = 0; i < (int)*n; i++) (*out)[i] = episode_from(m, r, i, 0, NULL);
    if (*n) {
        *last_us = hw_res_int(r, (int)*n - 1, EPISODE_NCOLS);
        *last_id = col(m, r, (int)*n - 1, 0);
    }
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ roster */

ep_home *ep_store_home_roster(hw_db *db, ep_mem *m, const char *home_id, int64_t now_ms,
                              ep_roster_entry ***out, size_t *n, hw_status *st)
{
    const char *p[] = {home_id};
    int64_t from90 = ep_window_90_days_start(now_ms), from12 = ep_window_12_months_start(now_ms);
    if (from90 < from12) from90 = from12;
    hw_res *r = hw_db_exec(
        db,
        "SELECT " HOME_COLS ","
        "       l.child_id, l.first_name, l.last_name, l.date_of_birth, l.placement_id,"
        "       l.placed_since_ms, l.reg41_status, l.episode_status, l.episode_id, l.risk_level,"
        "       l.long_term, l.missing_at_ms, l.overdue_interviews, l.action_due_ms"
        "  FROM homes h JOIN authorities a ON a.code = h.host_authority"
        "  LEFT JOIN roster_lines l ON l.home_id = h.id"
        " WHERE h.id = $1::uuid"
        " ORDER BY l.last_name, l.first_name, l.child_id",
        1, p, st);
    if (!found(&r, "home", st)) return NULL;
    int rows = hw_res_rows(r);
    ep_home *h = home_from(m, r);
    *n = hw_res_isnull(r, 0, 8) ? 0 : (size_t)rows;
    *out = ep_alloc(m, (*n ? *n : 1) * sizeof **out);
    for (int i = 0; i < (int)*n; i++) {
        ep_roster_entry *e = ep_alloc(m, sizeof *e);
        homeward__episodes__v1__roster_entry__init(e);
        e->child_id = col(m, r, i, 8);
        e->first_name = col(m, r, i, 9);
        e->last_name = col(m, r, i, 10);
        e->date_of_birth = col(m, r, i, 11);
        e->placement_id = col(m, r, i, 12);
        int64_t starts = col_ms(r, i, 13);
        e->placed_since = ep_ts(m, starts);
        enum ep_reg41 stored = ep_reg41_parse(hw_res_get(r, i, 14));
        e->reg41_status = (Homeward__Episodes__V1__Reg41Status)(
            stored == EP_REG41_NOT_REQUIRED
                ? EP_REG41_NOT_REQUIRED
                : ep_reg41_status(true, stored == EP_REG41_SUBMITTED, starts, now_ms));
        e->current_status = (Homeward__Episodes__V1__EpisodeStatus)ep_status_parse(hw_res_get(r, i, 15));
        e->open_episode_id = col(m, r, i, 16);
        e->risk_level = col(m, r, i, 17);
        e->long_term = hw_res_bool(r, i, 18);
        /* The rolling windows and overdue actions as of now (migration 0005). */
        const char *missing = hw_res_get(r, i, 19), *due = hw_res_get(r, i, 21);
        e->missing_90_days = (int32_t)ms_array_count(missing, from90, now_ms);
        e->repeat_missing = ep_is_repeat_missing(ms_array_count(missing, from12, now_ms));
        e->overdue_interviews = (int32_t)hw_res_int(r, i, 20);
        e->open_meeting_actions = (int32_t)ms_array_count(due, INT64_MIN, INT64_MAX);
        e->overdue_meeting_actions = (int32_t)ms_array_count(due, INT64_MIN, now_ms);
        (*out)[i] = e;
    }
    hw_res_free(r);
    return h;
}

/* ------------------------------------------------------------ roster follow-ups */

int ep_store_interview_follow_up(hw_db *db, const char *interview_id, const char *child_id,
                                 const char *episode_id, bool overdue, bool done, hw_status *st)
{
    /* Flags only ever go from false to true, whatever order events come in. */
    const char *p[] = {interview_id, child_id, episode_id ? episode_id : "",
                       overdue ? "t" : "f", done ? "t" : "f"};
    return hw_db_run(db,
                     "INSERT INTO interview_follow_ups (interview_id, child_id, episode_id,"
                     " overdue, done) VALUES ($1, $2::uuid, $3, $4::bool, $5::bool)"
                     " ON CONFLICT (interview_id) DO UPDATE SET"
                     " overdue = interview_follow_ups.overdue OR EXCLUDED.overdue,"
                     " done = interview_follow_ups.done OR EXCLUDED.done, updated_at = now()",
                     5, p, st);
}

int ep_store_meeting_action(hw_db *db, const char *action_id, const char *child_id,
                            const char *meeting_id, int64_t due_ms, bool overdue, bool completed,
                            hw_status *st)
{
    char due[24];
    const char *p[] = {action_id, child_id, meeting_id ? meeting_id : "",
                       due_ms >= 0 ? i64s(due, due_ms) : NULL, overdue ? "t" : "f",
                       completed ? "t" : "f"};
    return hw_db_run(db,
                     "INSERT INTO meeting_actions (action_id, child_id, meeting_id, due_at,"
                     " overdue, completed)"
                     " VALUES ($1, $2::uuid, $3, " TSP("$4") ", $5::bool, $6::bool)"
                     " ON CONFLICT (action_id) DO UPDATE SET"
                     " meeting_id = CASE WHEN EXCLUDED.meeting_id <> '' THEN EXCLUDED.meeting_id"
                     "   ELSE meeting_actions.meeting_id END,"
                     " due_at = coalesce(EXCLUDED.due_at, meeting_actions.due_at),"
                     " overdue = meeting_actions.overdue OR EXCLUDED.overdue,"
                     " completed = meeting_actions.completed OR EXCLUDED.completed,"
                     " updated_at = now()",
                     6, p, st);
}

/* ------------------------------------------------------------ statutory return */

int ep_store_statutory_return(hw_db *db, ep_mem *m, const char *authority, const char *from_date,
                              const char *to_date, ep_return_row ***out, size_t *n,
                              hw_status *st)
{
    const char *p[] = {authority, from_date, to_date};
    /* Looked-after children only: missing from care or away from placement,
     * for the authority responsible at the time of the episode. Dates are
     * local (Europe/London) calendar dates. */
    hw_res *r = hw_db_exec(
        db,
        "SELECT e.child_id, to_char(e.reported_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD'),"
        " coalesce(to_char(e.located_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD'), ''),"
        " CASE WHEN e.was_missing THEN 'M' ELSE 'A' END,"
        " e.return_interview_offered, e.return_interview_accepted"
        " FROM episodes e"
        " WHERE e.responsible_authority = $1"
        "   AND e.classification IN ('missing_from_care', 'away_from_placement')"
        "   AND (e.reported_at AT TIME ZONE 'Europe/London')::date BETWEEN $2::date AND $3::date"
        " ORDER BY e.reported_at, e.id",
        3, p, st);
    if (!r) return -1;
    *n = (size_t)hw_res_rows(r);
    *out = ep_alloc(m, (*n ? *n : 1) * sizeof **out);
    for (int i = 0; i < (int)*n; i++) {
        ep_return_row *row = ep_alloc(m, sizeof *row);
        homeward__episodes__v1__statutory_return_row__init(row);
        row->child_id = col(m, r, i, 0);
        row->start_date = col(m, r, i, 1);
        row->end_date = col(m, r, i, 2);
        row->type = col(m, r, i, 3);
        row->return_interview_offered = hw_res_bool(r, i, 4);
        row->return_interview_accepted = hw_res_bool(r, i, 5);
        (*out)[i] = row;
    }
    hw_res_free(r);
    return 0;
}

/* ------------------------------------------------------------ change feed */

int64_t ep_store_feed_head(hw_db *db, hw_status *st)
{
    hw_res *r = hw_db_exec(db, "SELECT coalesce(max(seq), 0) FROM changes", 0, NULL, st);
    if (!r) return -1;
    int64_t head = hw_res_int(r, 0, 0);
    hw_res_free(r);
    return head;
}

int ep_store_feed(hw_db *db, ep_mem *m, int64_t after_seq, int limit, ep_change **out, size_t *n,
                  hw_status *st)
{
    char a[24], l[24];
    const char *p[] = {i64s(a, after_seq), i64s(l, limit)};
    hw_res *r = hw_db_exec(db,
                           "SELECT " EPISODE_COLS ", ch.seq, ch.change, " MS("ch.at")
                           " FROM changes ch JOIN episodes e ON e.id = ch.episode_id"
                           " JOIN children c ON c.id = e.child_id"
                           " WHERE ch.seq > $1::bigint ORDER BY ch.seq LIMIT $2::int",
                           2, p, st);
    if (!r) return -1;
    *n = (size_t)hw_res_rows(r);
    *out = ep_alloc(m, (*n ? *n : 1) * sizeof **out);
    for (int i = 0; i < (int)*n; i++) {
        ep_change *c = &(*out)[i];
        c->episode = episode_from(m, r, i, 0, &c->scope);
        c->seq = hw_res_int(r, i, EPISODE_NCOLS);
        c->change = col(m, r, i, EPISODE_NCOLS + 1);
        c->at_ms = col_ms(r, i, EPISODE_NCOLS + 2);
    }
    hw_res_free(r);
    return 0;
}
