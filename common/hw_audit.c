/* hw_audit.c -- append a row to the audit log for each read or change of a child's record. */
#include "hw_audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_log.h"
#include "hw_time.h"

/* "role1,role2" of the caller. */
static void roles_text(const hw_principal *who, char *roles, size_t cap)
{
    size_t used = 0;
    roles[0] = '\0';
    for (int i = 0; i < who->n_roles && i < HW_MAX_ROLES; i++) {
        int n = snprintf(roles + used, cap - used, "%s%s", i ? "," : "", who->roles[i]);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

int hw_audit_require_purpose(hw_call *call, hw_status *st)
{
    const char *purpose = hw_call_purpose(call);
    if (!purpose || !*purpose) {
        hw_status_violation(st, "x-purpose",
                            "required: state the reason for accessing this record");
        return -1;
    }
    return 0;
}

int hw_audit(hw_db *db, hw_call *call, const char *action, const char *record_type,
             const char *record_id, hw_status *st)
{
    if (hw_audit_require_purpose(call, st) != 0)
        return -1;
    const hw_principal *who = hw_call_principal(call);
    char roles[HW_MAX_ROLES * 33 + 1];
    roles_text(who, roles, sizeof roles);
    /* The client's request id, when it sent one as metadata, ties the row
     * to the call's log line. */
    const char *request_id = hw_call_metadata(call, "x-request-id");
    const char *p[] = {
        who->sub, roles, who->org,
        action && *action ? action : hw_call_method(call),
        record_type ? record_type : "", record_id ? record_id : "",
        hw_call_purpose(call), request_id,
    };
    return hw_db_run(db,
                     "INSERT INTO audit (subject, roles, org, action, record_type, record_id,"
                     " purpose, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                     8, p, st);
}

/* ---------------------------------------------------------------- reads */

/* One read's row, its strings packed after it in the same allocation. */
typedef struct audit_row {
    int64_t at_ms;
    const char *f[8]; /* subject, roles, org, action, type, id, purpose, request_id (may be NULL) */
} audit_row;

/* Who to tell when a group's commit is over. */
typedef struct audit_waiter {
    hw_audit_done_fn done;
    void *arg;
} audit_waiter;

/* The rows one commit writes, and whom to tell. */
typedef struct audit_group {
    audit_row **rows;
    size_t n, cap;
    audit_waiter *waiters;
    size_t n_waiters, cap_waiters;
} audit_group;

/* Group commit without a thread of its own: rows handed over while a group
 * is being written collect in the open group; the thread that hands rows
 * over when nobody is writing becomes the writer and writes groups until
 * none is open, telling each group's readers as it goes. A reader is thus
 * never woken just to be told, and nothing changes threads just to write. */
struct hw_auditor {
    hw_pg_pool *pool;
    pthread_mutex_t lock;
    audit_group *open; /* collecting rows */
    bool writing;      /* a thread is writing groups */
};

static void group_free(audit_group *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->rows[i]);
    free(g->rows);
    free(g->waiters);
    free(g);
}

/* A Postgres array literal being built: {"a","b",NULL}. */
typedef struct array_lit {
    char *b;
    size_t len, cap;
    bool failed;
} array_lit;

static void lit_reserve(array_lit *l, size_t more)
{
    if (l->failed || l->len + more + 1 <= l->cap)
        return;
    size_t ncap = l->cap ? l->cap : 256;
    while (ncap < l->len + more + 1)
        ncap *= 2;
    char *nb = realloc(l->b, ncap);
    if (!nb) {
        l->failed = true;
        return;
    }
    l->b = nb;
    l->cap = ncap;
}

static void lit_char(array_lit *l, char c)
{
    lit_reserve(l, 1);
    if (l->failed)
        return;
    l->b[l->len++] = c;
    l->b[l->len] = '\0';
}

/* An element: NULL, or double-quoted with backslash and double quote escaped. */
static void lit_elem(array_lit *l, const char *s)
{
    lit_char(l, l->len ? ',' : '{');
    if (!s) {
        for (const char *k = "NULL"; *k; k++)
            lit_char(l, *k);
        return;
    }
    lit_reserve(l, 2 * strlen(s) + 2);
    lit_char(l, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            lit_char(l, '\\');
        lit_char(l, *s);
    }
    lit_char(l, '"');
}

/* One INSERT of the whole group: nine parallel arrays, unnested. */
static void write_group(hw_auditor *a, const audit_group *g, hw_status *st)
{
    array_lit col[9] = {0};
    const char *p[9];
    for (size_t i = 0; i < g->n; i++) {
        char at[24];
        snprintf(at, sizeof at, "%lld", (long long)g->rows[i]->at_ms);
        lit_elem(&col[0], at);
        for (int c = 1; c < 9; c++)
            lit_elem(&col[c], g->rows[i]->f[c - 1]);
    }
    for (int c = 0; c < 9; c++) {
        lit_char(&col[c], '}');
        if (col[c].failed) {
            hw_status_set(st, HW_UNAVAILABLE, "out of memory writing the audit log");
            goto out;
        }
        p[c] = col[c].b;
    }
    hw_db *db = hw_pg_acquire(a->pool, 5000, st);
    if (!db)
        goto out;
    hw_db_run(db,
              "INSERT INTO audit (at, subject, roles, org, action, record_type, record_id,"
              " purpose, request_id)"
              " SELECT timestamptz 'epoch' + u.at * interval '1 millisecond',"
              "        u.subject, u.roles, u.org, u.action, u.record_type, u.record_id,"
              "        u.purpose, u.request_id"
              "   FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
              "               $6::text[], $7::text[], $8::text[], $9::text[])"
              "     AS u(at, subject, roles, org, action, record_type, record_id, purpose,"
              "          request_id)",
              9, p, st);
    hw_pg_release(db);
out:
    for (int c = 0; c < 9; c++)
        free(col[c].b);
}

/* Called with the lock held, a->open set and a->writing false: write groups
 * until none is open, telling their readers (outside the lock). Returns with
 * the lock held. */
static void write_open_groups(hw_auditor *a)
{
    a->writing = true;
    while (a->open) {
        audit_group *g = a->open;
        a->open = NULL;
        pthread_mutex_unlock(&a->lock);

        hw_status st = HW_STATUS_INIT;
        write_group(a, g, &st);
        if (!hw_ok(&st)) {
            hw_error("audit log: %zu read rows not written: %s %s", g->n, hw_code_name(st.code),
                     st.message);
            hw_status_set(&st, HW_UNAVAILABLE,
                          "the audit log could not be written, so nothing is shown: try again");
        }
        for (size_t i = 0; i < g->n_waiters; i++)
            g->waiters[i].done(g->waiters[i].arg, &st);
        group_free(g);

        pthread_mutex_lock(&a->lock);
    }
    a->writing = false;
}

hw_auditor *hw_auditor_create(hw_pg_pool *pool)
{
    hw_auditor *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->pool = pool;
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

void hw_auditor_destroy(hw_auditor *a)
{
    if (!a)
        return;
    /* Nothing should be waiting (the server has stopped); write it if so. */
    pthread_mutex_lock(&a->lock);
    if (a->open && !a->writing)
        write_open_groups(a);
    pthread_mutex_unlock(&a->lock);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* A row with its strings copied, so the call may end before it is written. */
static audit_row *row_new(int64_t at_ms, const char *const f[8])
{
    size_t sz = sizeof(audit_row);
    for (int i = 0; i < 8; i++)
        sz += f[i] ? strlen(f[i]) + 1 : 0;
    audit_row *r = malloc(sz);
    if (!r)
        return NULL;
    char *o = (char *)(r + 1);
    r->at_ms = at_ms;
    for (int i = 0; i < 8; i++) {
        if (!f[i]) {
            r->f[i] = NULL;
            continue;
        }
        size_t n = strlen(f[i]) + 1;
        memcpy(o, f[i], n);
        r->f[i] = o;
        o += n;
    }
    return r;
}

/* Grow an array of elements of size sz to hold want; false on OOM. */
static bool grow(void **arr, size_t *cap, size_t want, size_t sz)
{
    if (want <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < want)
        ncap *= 2;
    void *n = realloc(*arr, ncap * sz);
    if (!n)
        return false;
    *arr = n;
    *cap = ncap;
    return true;
}

void hw_audit_write_async(hw_auditor *a, const hw_audit_entry *entries, size_t n,
                          hw_audit_done_fn done, void *arg)
{
    hw_status st = HW_STATUS_INIT;
    if (n == 0) {
        done(arg, &st);
        return;
    }
    if (!a) {
        hw_status_set(&st, HW_INTERNAL, "no audit writer");
        done(arg, &st);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t at_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;

    audit_row **rows = calloc(n, sizeof *rows);
    for (size_t i = 0; rows && i < n; i++) {
        const hw_audit_entry *e = &entries[i];
        const char *f[8] = {e->subject ? e->subject : "", e->roles ? e->roles : "",
                            e->org ? e->org : "", e->action ? e->action : "",
                            e->record_type ? e->record_type : "",
                            e->record_id ? e->record_id : "", e->purpose ? e->purpose : "",
                            e->request_id};
        if (!(rows[i] = row_new(at_ms, f))) {
            for (size_t j = 0; j < i; j++)
                free(rows[j]);
            free(rows);
            rows = NULL;
        }
    }

    pthread_mutex_lock(&a->lock);
    if (rows && !a->open)
        a->open = calloc(1, sizeof *a->open);
    audit_group *g = rows ? a->open : NULL;
    if (!g || !grow((void **)&g->rows, &g->cap, g->n + n, sizeof *g->rows) ||
        !grow((void **)&g->waiters, &g->cap_waiters, g->n_waiters + 1, sizeof *g->waiters)) {
        pthread_mutex_unlock(&a->lock);
        for (size_t i = 0; rows && i < n; i++)
            free(rows[i]);
        free(rows);
        hw_status_set(&st, HW_UNAVAILABLE, "out of memory writing the audit log");
        done(arg, &st);
        return;
    }
    memcpy(g->rows + g->n, rows, n * sizeof *rows);
    g->n += n;
    free(rows);
    g->waiters[g->n_waiters++] = (audit_waiter){done, arg};
    if (!a->writing)
        write_open_groups(a);
    pthread_mutex_unlock(&a->lock);
}

/* ---- waiting for it ---- */

/* Shared by a waiting caller and the group's callback; the last frees it. */
typedef struct audit_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int refs;
    hw_status st;
} audit_wait;

static void wait_unref_unlock(audit_wait *w)
{
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
}

static void wait_done(void *arg, const hw_status *st)
{
    audit_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->st = *st;
    pthread_cond_signal(&w->cv);
    wait_unref_unlock(w);
}

int hw_audit_write(hw_auditor *a, const hw_audit_entry *entries, size_t n, int64_t wait_ms,
                   hw_status *st)
{
    audit_wait *w = calloc(1, sizeof *w);
    if (!w)
        return hw_status_set(st, HW_UNAVAILABLE, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    hw_cond_init_monotonic(&w->cv);
    w->refs = 2; /* ours and the callback's */
    hw_audit_write_async(a, entries, n, wait_done, w);

    if (wait_ms < 0 || wait_ms > 60000)
        wait_ms = 60000;
    struct timespec until = hw_monotonic_after_ms(wait_ms);
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    while (!w->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
    int out = 0;
    if (!w->done)
        out = hw_status_set(st, HW_DEADLINE_EXCEEDED,
                            "deadline exceeded while writing the audit log");
    else if (!hw_ok(&w->st))
        out = hw_status_set(st, w->st.code, "%s", w->st.message);
    wait_unref_unlock(w);
    return out;
}

/* Rows of what a read consulted, as hw_audit() would write them. */
static hw_audit_entry *read_entries(hw_call *call, size_t n, const char *const *record_types,
                                    const char *const *record_ids, char *roles, size_t roles_cap)
{
    const hw_principal *who = hw_call_principal(call);
    roles_text(who, roles, roles_cap);
    hw_audit_entry *e = calloc(n ? n : 1, sizeof *e);
    for (size_t i = 0; e && i < n; i++)
        e[i] = (hw_audit_entry){who->sub, roles, who->org, hw_call_method(call), record_types[i],
                                record_ids[i], hw_call_purpose(call),
                                hw_call_metadata(call, "x-request-id")};
    return e;
}

int hw_audit_reads_async(hw_auditor *a, hw_call *call, size_t n, const char *const *record_types,
                         const char *const *record_ids, hw_audit_done_fn done, void *arg,
                         hw_status *st)
{
    if (hw_audit_require_purpose(call, st) != 0)
        return -1;
    char roles[HW_MAX_ROLES * 33 + 1];
    hw_audit_entry *e = read_entries(call, n, record_types, record_ids, roles, sizeof roles);
    if (!e)
        return hw_status_set(st, HW_UNAVAILABLE, "out of memory");
    hw_audit_write_async(a, e, n, done, arg);
    free(e);
    return 0;
}
