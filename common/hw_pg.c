/* hw_pg.c -- Postgres connection pool, prepared statements, transactions, reconnect. */
#include "hw_pg.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_log.h"
#include "hw_time.h"

/* Statements each connection keeps prepared on its session. Past the cap a
 * statement runs unprepared (PQexecParams) rather than evicting, so a
 * service that builds many distinct texts cannot grow a session without
 * bound. The table is twice the cap, so probes stay short. */
#define STMT_CAP 512
#define STMT_SLOTS 1024

typedef struct stmt_slot {
    char *sql;       /* NULL: empty slot */
    uint64_t hash;
    unsigned id;     /* prepared as "hw_<id>" */
} stmt_slot;

typedef struct commit_hook {
    void (*fn)(void *);
    void *arg;
    bool free_arg;
} commit_hook;

struct hw_db {
    hw_pg_pool *pool;
    PGconn *conn;
    bool leased;
    bool in_tx;
    /* search_path not yet set on this session (fresh or reset connection). */
    bool needs_setup;
    /* The server sent FATAL: it is closing this session. */
    bool server_gone;
    commit_hook *hooks;
    size_t n_hooks, cap_hooks;
    /* SQL text -> prepared statement on this session. Owned by the slot;
     * used only by its leaser, so no lock. Emptied on every connect or
     * reset (the server forgets prepared statements with the session). */
    stmt_slot *stmts;    /* STMT_SLOTS entries, allocated on first prepare */
    int n_stmts;
    unsigned last_stmt_id;   /* names are never reused within a session */
    /* The map was dropped while the transaction had failed, so the server
     * still holds statements we no longer know: DEALLOCATE ALL once idle. */
    bool stmts_orphaned;
};

struct hw_pg_pool {
    char *conninfo;
    char *schema;
    int size;
    pthread_mutex_t lock;
    pthread_cond_t freed;   /* signalled when a connection is returned */
    hw_db *slots;
    /* Monotonic ms of the last statement that succeeded: lets hw_pg_ping
     * answer "up" when every connection is busy rather than flap health. */
    _Atomic int64_t last_ok_ms;
};

struct hw_res {
    PGresult *r;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void first_line(const char *s, char *out, size_t outlen)
{
    size_t i = 0;
    while (s && s[i] && s[i] != '\n' && i + 1 < outlen) {
        out[i] = s[i];
        i++;
    }
    out[i] = '\0';
}

/* Server notices would otherwise go raw to stderr, between JSON log lines.
 * A FATAL arriving on an idle session is the server saying goodbye (shut
 * down, restarted, or pg_terminate_backend): mark the connection so it is
 * reset before its next use even if the socket has not closed yet. */
static void notice_to_log(void *arg, const PGresult *res)
{
    hw_db *db = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    bool fatal = sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
    if (fatal && db)
        db->server_gone = true;
    char line[200];
    first_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), line, sizeof line);
    hw_logf(fatal ? HW_LOG_INFO : HW_LOG_DEBUG, "postgres %s %s: %s", sev ? sev : "notice",
            state ? state : "", line);
}

/* connect_timeout and application name first, so values in the caller's
 * URL (expanded from dbname) override them. */
static PGconn *pg_connect(const char *conninfo, hw_db *db)
{
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {"5", "homeward", conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c)
        PQsetNoticeReceiver(c, notice_to_log, db);
    return c;
}

/* Map a failed result to a status. The server's message can quote values
 * (e.g. "invalid input syntax for type uuid: ..."), so only the SQLSTATE
 * and constraint name reach the status and the log. */
static void set_error(hw_db *db, const PGresult *r, const char *sql, hw_status *st)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    bool lost = PQstatus(db->conn) != CONNECTION_OK;
    char stmt[80];
    first_line(sql, stmt, sizeof stmt);

    if (lost || !state || strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0) {
        hw_warn("postgres connection lost (%s) during: %s", state ? state : "no sqlstate", stmt);
        hw_status_set(st, HW_UNAVAILABLE, "database unavailable");
        return;
    }
    if (strcmp(state, "23505") == 0) {
        hw_status_set(st, HW_ALREADY_EXISTS, "already exists (%s)",
                      constraint ? constraint : "unique");
        return;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        hw_status_set(st, HW_ABORTED, "transaction conflict, retry (SQLSTATE %s)", state);
        return;
    }
    if (strcmp(state, "23514") == 0 || strcmp(state, "23503") == 0 ||
        strcmp(state, "23P01") == 0) {
        hw_status_set(st, HW_FAILED_PRECONDITION, "constraint %s not met",
                      constraint ? constraint : state);
        return;
    }
    if (strcmp(state, "57014") == 0) {
        hw_status_set(st, HW_DEADLINE_EXCEEDED, "statement cancelled (timeout)");
        return;
    }
    hw_error("postgres error SQLSTATE %s%s%s during: %s", state, constraint ? " constraint " : "",
             constraint ? constraint : "", stmt);
    hw_status_set(st, HW_INTERNAL, "database error (SQLSTATE %s)", state);
}

/* A connection idle in the pool learns of a server restart or a
 * pg_terminate_backend only by reading: the server sends a FATAL message
 * and closes. Read what is waiting (libpq sockets are non-blocking) so a
 * dead connection is seen, and reset, before it is handed out. */
static bool conn_alive(PGconn *c)
{
    if (!c || PQstatus(c) != CONNECTION_OK)
        return false;
    for (int i = 0; i < 4; i++) {
        int fd = PQsocket(c);
        if (fd < 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, 0);
        if (n <= 0)
            break;
        if (!PQconsumeInput(c))
            return false;
        PGnotify *note;
        while ((note = PQnotifies(c)))
            PQfreemem(note);
        if (PQstatus(c) != CONNECTION_OK)
            return false;
    }
    return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}

/* ---- the per-connection prepared statement map ---- */

/* Empty the map. on_server: the session lives on, so also drop what it
 * holds (DEALLOCATE ALL), now if it can take a statement, else once the
 * failed transaction has ended. Ids keep counting up, so a statement
 * prepared later can never collide with one the server still holds. */
static void forget_statements(hw_db *db, bool on_server)
{
    if (db->stmts) {
        for (int i = 0; i < STMT_SLOTS; i++) {
            free(db->stmts[i].sql);
            db->stmts[i].sql = NULL;
        }
    }
    db->n_stmts = 0;
    if (!on_server) {
        db->last_stmt_id = 0;
        db->stmts_orphaned = false;
        return;
    }
    db->stmts_orphaned = true;
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK) {
        PGTransactionStatusType ts = PQtransactionStatus(db->conn);
        if (ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS) {
            PGresult *r = PQexec(db->conn, "DEALLOCATE ALL");
            if (PQresultStatus(r) == PGRES_COMMAND_OK)
                db->stmts_orphaned = false;
            PQclear(r);
        }
    }
}

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot holding sql, or the empty slot where it would go; NULL if the
 * table cannot be allocated. Never full: at most STMT_CAP of STMT_SLOTS
 * are used, so linear probing always meets an empty slot. */
static stmt_slot *find_statement(hw_db *db, const char *sql, uint64_t h)
{
    if (!db->stmts && !(db->stmts = calloc(STMT_SLOTS, sizeof *db->stmts)))
        return NULL;
    for (size_t i = (size_t)h & (STMT_SLOTS - 1);; i = (i + 1) & (STMT_SLOTS - 1)) {
        stmt_slot *s = &db->stmts[i];
        if (!s->sql || (s->hash == h && strcmp(s->sql, sql) == 0))
            return s;
    }
}

static bool ascii_word_is(const char *s, const char *upper)
{
    size_t i = 0;
    for (; upper[i]; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != upper[i])
            return false;
    }
    char next = s[i];
    return !((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
             (next >= '0' && next <= '9') || next == '_');
}

/* Only statements the server plans gain from preparing. Utility commands
 * (BEGIN, SET, DDL, DEALLOCATE ...) are not planned, and DDL texts often
 * carry names, so they would only fill the map. */
static bool is_planned(const char *sql)
{
    static const char *const verbs[] = {"SELECT", "INSERT", "UPDATE", "DELETE",
                                        "WITH",   "VALUES", "TABLE",  "MERGE"};
    const char *s = sql;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '(')
            s++;
        if (s[0] == '-' && s[1] == '-') {
            if (!(s = strchr(s, '\n')))
                return false;
        } else if (s[0] == '/' && s[1] == '*') {
            if (!(s = strstr(s + 2, "*/")))
                return false;
            s += 2;
        } else {
            break;
        }
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (ascii_word_is(s, verbs[i]))
            return true;
    return false;
}

/* The server no longer has the statement under that name (26000: someone
 * ran DEALLOCATE or DISCARD), or a table it reads changed shape (0A000
 * "cached plan must not change result type", after a migration). Any
 * 0A000 counts, not only that message, because the message is localised;
 * most other 0A000 errors are raised when a statement is prepared, and a
 * rare one raised while running costs only a re-prepare and one retry
 * that fails the same way. */
static bool statement_outdated(const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0);
}

static PGresult *exec_prepared(hw_db *db, unsigned id, int n, const char *const *params)
{
    char name[24];
    snprintf(name, sizeof name, "hw_%u", id);
    return PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
}

/* Run sql as a statement prepared on this session, preparing it on first
 * use. Returns the result as PQexecParams would: a failed PQprepare comes
 * back as the failed result, so the caller maps it as for any statement,
 * and the text is not kept. */
static PGresult *run_statement(hw_db *db, const char *sql, int n, const char *const *params)
{
    if (db->stmts_orphaned && PQstatus(db->conn) == CONNECTION_OK &&
        PQtransactionStatus(db->conn) != PQTRANS_INERROR)
        forget_statements(db, true);
    if (!is_planned(sql))
        return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);

    uint64_t h = sql_hash(sql);
    stmt_slot *s = find_statement(db, sql, h);
    if (s && s->sql) {
        PGresult *r = exec_prepared(db, s->id, n, params);
        ExecStatusType rs = PQresultStatus(r);
        if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK || !r || !statement_outdated(r))
            return r;
        /* Other cached statements may read the same changed table, so
         * start the map afresh. Inside a transaction the failure has
         * already aborted it: report it, the next transaction re-prepares.
         * Outside one nothing ran, so prepare again and retry once. */
        bool in_block = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
        hw_info("prepared statements on a connection outdated (SQLSTATE %s): preparing again",
                PQresultErrorField(r, PG_DIAG_SQLSTATE));
        forget_statements(db, true);
        if (in_block)
            return r;
        PQclear(r);
        s = find_statement(db, sql, h);
    }
    char *copy = NULL;
    if (!s || db->n_stmts >= STMT_CAP || !(copy = strdup(sql)))
        return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);

    /* NULL types, as PQexecParams was given: the server infers them. */
    unsigned id = ++db->last_stmt_id;
    char name[24];
    snprintf(name, sizeof name, "hw_%u", id);
    PGresult *prep = PQprepare(db->conn, name, sql, 0, NULL);
    if (PQresultStatus(prep) != PGRES_COMMAND_OK) {
        free(copy);
        return prep;
    }
    PQclear(prep);
    *s = (stmt_slot){.sql = copy, .hash = h, .id = id};
    db->n_stmts++;
    return exec_prepared(db, id, n, params);
}

static int setup_session(hw_db *db)
{
    char *ident = PQescapeIdentifier(db->conn, db->pool->schema, strlen(db->pool->schema));
    if (!ident)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql, "SET search_path TO %s", ident);
    PQfreemem(ident);
    PGresult *r = PQexec(db->conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        return -1;
    db->needs_setup = false;
    return 0;
}

/* Make the slot's connection usable: connect, or reset a broken one. */
static int ensure_conn(hw_db *db, char *err, size_t errlen)
{
    /* conn_alive reads what is waiting, which may deliver the FATAL. */
    bool alive = db->conn && conn_alive(db->conn) && !db->server_gone;
    if (alive && !db->needs_setup)
        return 0;
    if (!db->conn || !alive)
        forget_statements(db, false);   /* a new session has none prepared */
    if (!db->conn) {
        db->conn = pg_connect(db->pool->conninfo, db);
        db->needs_setup = true;
    } else if (!alive) {
        db->server_gone = false;
        PQreset(db->conn);
        db->needs_setup = true;
    }
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        if (err) {
            char line[200];
            first_line(db->conn ? PQerrorMessage(db->conn) : "out of memory", line, sizeof line);
            snprintf(err, errlen, "cannot connect to postgres: %s", line);
        }
        return -1;
    }
    if (db->needs_setup && setup_session(db) != 0) {
        if (err)
            snprintf(err, errlen, "cannot set search_path to schema %s", db->pool->schema);
        return -1;
    }
    return 0;
}

hw_pg_pool *hw_pg_pool_create(const char *conninfo, const char *schema, int size,
                              char *err, size_t errlen)
{
    if (!conninfo || !schema || !*schema || size < 1) {
        snprintf(err, errlen, "postgres pool: conninfo, schema and size >= 1 are required");
        return NULL;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        char line[200];
        first_line(perr ? perr : "malformed", line, sizeof line);
        snprintf(err, errlen, "postgres connection string: %s", line);
        PQfreemem(perr);
        return NULL;
    }
    PQconninfoFree(opts);

    hw_pg_pool *p = calloc(1, sizeof *p);
    if (!p)
        goto out_nomem;
    p->conninfo = strdup(conninfo);
    p->schema = strdup(schema);
    p->slots = calloc((size_t)size, sizeof *p->slots);
    if (!p->conninfo || !p->schema || !p->slots)
        goto out_free_pool;
    p->size = size;
    pthread_mutex_init(&p->lock, NULL);
    hw_cond_init_monotonic(&p->freed);
    for (int i = 0; i < size; i++)
        p->slots[i].pool = p;

    /* Open one connection now so a wrong URL or password is reported at
     * start-up; the rest are opened when first needed. */
    if (ensure_conn(&p->slots[0], err, errlen) != 0) {
        hw_pg_pool_destroy(p);
        return NULL;
    }
    atomic_store(&p->last_ok_ms, mono_ms());
    return p;

out_free_pool:
    free(p->conninfo);
    free(p->schema);
    free(p->slots);
    free(p);
out_nomem:
    snprintf(err, errlen, "postgres pool: out of memory");
    return NULL;
}

static void drop_hooks(hw_db *db)
{
    for (size_t i = 0; i < db->n_hooks; i++)
        if (db->hooks[i].free_arg)
            free(db->hooks[i].arg);
    db->n_hooks = 0;
}

void hw_pg_pool_destroy(hw_pg_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++) {
        drop_hooks(&p->slots[i]);
        free(p->slots[i].hooks);
        forget_statements(&p->slots[i], false);
        free(p->slots[i].stmts);
        if (p->slots[i].conn)
            PQfinish(p->slots[i].conn);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->slots);
    free(p->conninfo);
    free(p->schema);
    free(p);
}

static hw_db *take_slot(hw_pg_pool *p)
{
    hw_db *any = NULL;
    for (int i = 0; i < p->size; i++) {
        hw_db *db = &p->slots[i];
        if (db->leased)
            continue;
        if (db->conn)   /* prefer one already connected */
            return db;
        if (!any)
            any = db;
    }
    return any;
}

static void put_slot(hw_db *db)
{
    hw_pg_pool *p = db->pool;
    pthread_mutex_lock(&p->lock);
    db->leased = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

hw_db *hw_pg_acquire(hw_pg_pool *p, int64_t timeout_ms, hw_status *st)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    struct timespec until = hw_monotonic_after_ms(timeout_ms > 86400000 ? 86400000 : timeout_ms);

    pthread_mutex_lock(&p->lock);
    hw_db *db;
    while (!(db = take_slot(p))) {
        int rc = pthread_cond_timedwait(&p->freed, &p->lock, &until);
        if (rc == ETIMEDOUT && !(db = take_slot(p)))
            break;
    }
    if (db)
        db->leased = true;
    pthread_mutex_unlock(&p->lock);
    if (!db) {
        hw_status_set(st, HW_UNAVAILABLE, "no database connection free within %lld ms",
                      (long long)timeout_ms);
        return NULL;
    }

    char err[256];
    if (ensure_conn(db, err, sizeof err) != 0) {
        hw_warn("%s", err);
        put_slot(db);
        hw_status_set(st, HW_UNAVAILABLE, "database unavailable");
        return NULL;
    }
    db->in_tx = false;
    return db;
}

void hw_pg_release(hw_db *db)
{
    if (!db)
        return;
    if (db->in_tx)
        hw_db_rollback(db);
    /* A transaction opened with a plain "BEGIN" statement ends here too. */
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK &&
        PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        PQclear(PQexec(db->conn, "ROLLBACK"));
    drop_hooks(db);
    put_slot(db);
}

bool hw_pg_ping(hw_pg_pool *p)
{
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(p, 1000, &st);
    if (!db) {
        /* All connections busy is not an outage if they are working. */
        pthread_mutex_lock(&p->lock);
        bool all_busy = take_slot(p) == NULL;
        pthread_mutex_unlock(&p->lock);
        return all_busy && mono_ms() - atomic_load(&p->last_ok_ms) < 5000;
    }
    hw_res *r = hw_db_exec(db, "SELECT 1", 0, NULL, &st);
    bool ok = r && hw_res_rows(r) == 1;
    hw_res_free(r);
    hw_pg_release(db);
    return ok;
}

hw_res *hw_db_exec(hw_db *db, const char *sql, int n, const char *const *params,
                   hw_status *st)
{
    PGresult *r = run_statement(db, sql, n, params);
    ExecStatusType s = PQresultStatus(r);
    if (r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)) {
        hw_res *res = malloc(sizeof *res);
        if (!res) {
            PQclear(r);
            hw_status_set(st, HW_INTERNAL, "out of memory");
            return NULL;
        }
        res->r = r;
        atomic_store(&db->pool->last_ok_ms, mono_ms());
        return res;
    }
    set_error(db, r, sql, st);
    PQclear(r);
    return NULL;
}

int hw_db_run(hw_db *db, const char *sql, int n, const char *const *params, hw_status *st)
{
    hw_res *r = hw_db_exec(db, sql, n, params, st);
    if (!r)
        return -1;
    hw_res_free(r);
    return 0;
}

int hw_res_rows(const hw_res *r) { return r ? PQntuples(r->r) : 0; }
int hw_res_cols(const hw_res *r) { return r ? PQnfields(r->r) : 0; }

const char *hw_res_get(const hw_res *r, int row, int col)
{
    if (!r || row < 0 || row >= PQntuples(r->r) || col < 0 || col >= PQnfields(r->r))
        return "";
    return PQgetvalue(r->r, row, col);
}

bool hw_res_isnull(const hw_res *r, int row, int col)
{
    if (!r || row < 0 || row >= PQntuples(r->r) || col < 0 || col >= PQnfields(r->r))
        return true;
    return PQgetisnull(r->r, row, col) != 0;
}

int64_t hw_res_int(const hw_res *r, int row, int col)
{
    if (hw_res_isnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r->r, row, col), NULL, 10);
}

bool hw_res_bool(const hw_res *r, int row, int col)
{
    return !hw_res_isnull(r, row, col) && PQgetvalue(r->r, row, col)[0] == 't';
}

int64_t hw_res_affected(const hw_res *r)
{
    if (!r)
        return 0;
    const char *n = PQcmdTuples(r->r);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

void hw_res_free(hw_res *r)
{
    if (!r)
        return;
    PQclear(r->r);
    free(r);
}

int hw_db_begin(hw_db *db, hw_status *st)
{
    if (db->in_tx)
        return hw_status_set(st, HW_INTERNAL, "transaction already open");
    if (hw_db_run(db, "BEGIN", 0, NULL, st) != 0)
        return -1;
    db->in_tx = true;
    drop_hooks(db);
    return 0;
}

int hw_db_commit(hw_db *db, hw_status *st)
{
    if (!db->in_tx)
        return hw_status_set(st, HW_INTERNAL, "no transaction to commit");
    PGresult *r = PQexec(db->conn, "COMMIT");
    ExecStatusType s = PQresultStatus(r);
    db->in_tx = false;
    if (s != PGRES_COMMAND_OK) {
        set_error(db, r, "COMMIT", st);
        PQclear(r);
        drop_hooks(db);
        return -1;
    }
    /* COMMIT of a transaction that had failed answers "ROLLBACK". */
    bool committed = strcmp(PQcmdStatus(r), "COMMIT") == 0;
    PQclear(r);
    if (!committed) {
        drop_hooks(db);
        return hw_status_set(st, HW_ABORTED, "transaction was rolled back after an error");
    }
    atomic_store(&db->pool->last_ok_ms, mono_ms());
    /* Hooks may add hooks of their own (outside any transaction they run at
     * once), so walk by index and detach the list first. */
    commit_hook *hooks = db->hooks;
    size_t n = db->n_hooks;
    db->hooks = NULL;
    db->n_hooks = db->cap_hooks = 0;
    for (size_t i = 0; i < n; i++) {
        hooks[i].fn(hooks[i].arg);
        if (hooks[i].free_arg)
            free(hooks[i].arg);
    }
    free(hooks);
    return 0;
}

void hw_db_rollback(hw_db *db)
{
    if (!db)
        return;
    drop_hooks(db);
    if (!db->in_tx)
        return;
    db->in_tx = false;
    if (PQstatus(db->conn) != CONNECTION_OK)
        return;
    PGresult *r = PQexec(db->conn, "ROLLBACK");
    PQclear(r);
}

void hw_db_after_commit(hw_db *db, void (*fn)(void *), void *arg, bool free_arg)
{
    /* Outside a transaction the work is already committed. */
    if (!db->in_tx) {
        fn(arg);
        if (free_arg)
            free(arg);
        return;
    }
    if (db->n_hooks == db->cap_hooks) {
        size_t cap = db->cap_hooks ? db->cap_hooks * 2 : 4;
        commit_hook *h = realloc(db->hooks, cap * sizeof *h);
        if (!h) {
            hw_error("after-commit hook dropped: out of memory");
            if (free_arg)
                free(arg);
            return;
        }
        db->hooks = h;
        db->cap_hooks = cap;
    }
    db->hooks[db->n_hooks++] = (commit_hook){fn, arg, free_arg};
}

/* ---- migrations ---- */

#include <dirent.h>
#include <openssl/evp.h>

/* Advisory lock class for migrations ("HW"), the second key hashtext(schema). */
#define MIGRATE_LOCK_CLASS "18519"

typedef struct mig_file {
    char version[300];   /* "common/0001_common.sql" or "0001_episodes.sql" */
    char *sql;
    char sha256[65];
} mig_file;

typedef struct mig_list {
    mig_file *files;
    size_t n, cap;
} mig_list;

static bool is_migration_name(const char *name)
{
    size_t len = strlen(name);
    if (len < 10 || strcmp(name + len - 4, ".sql") != 0 || name[4] != '_')
        return false;
    for (int i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    return true;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* Add dir's NNNN_*.sql files, in name order, each recorded as prefix+name. */
static int list_migrations(const char *dir, const char *prefix, bool required, mig_list *l,
                           char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (!required && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot open migrations directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_migration_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                snprintf(err, errlen, "out of memory");
                goto out_names;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = -1;
            snprintf(err, errlen, "out of memory");
            goto out_names;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strncmp(names[i], names[i - 1], 4) == 0) {
            snprintf(err, errlen, "two migrations numbered %.4s in %s", names[i], dir);
            rc = -1;
            goto out_names;
        }
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 16;
            mig_file *nf = realloc(l->files, l->cap * sizeof *nf);
            if (!nf) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                goto out_names;
            }
            l->files = nf;
        }
        mig_file *f = &l->files[l->n];
        memset(f, 0, sizeof *f);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(f->version, sizeof f->version, "%s%s", prefix, names[i]);
        size_t len = 0;
        if (!(f->sql = read_whole(path, &len))) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            rc = -1;
            goto out_names;
        }
        l->n++;
        if (sha256_hex(f->sql, len, f->sha256) != 0) {
            snprintf(err, errlen, "sha256 of %s failed", path);
            rc = -1;
            goto out_names;
        }
    }
out_names:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

/* Run one statement on the migration connection; NULL with err on failure. */
static PGresult *mig_exec(PGconn *c, const char *sql, int n, const char *const *params,
                          char *err, size_t errlen)
{
    PGresult *r = n ? PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0) : PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK))
        return r;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char line[300];
    first_line(PQerrorMessage(c), line, sizeof line);
    snprintf(err, errlen, "SQLSTATE %s: %s", state ? state : "?", line);
    PQclear(r);
    return NULL;
}

static int mig_run(PGconn *c, const char *sql, int n, const char *const *params, char *err,
                   size_t errlen)
{
    PGresult *r = mig_exec(c, sql, n, params, err, errlen);
    PQclear(r);
    return r ? 0 : -1;
}

static void mig_rollback(PGconn *c)
{
    PQclear(PQexec(c, "ROLLBACK"));
}

/* BEGIN and take the schema's migration lock: replicas starting together
 * queue here, and each finds the work done by the first. */
static int mig_begin(PGconn *c, const char *schema, char *err, size_t errlen)
{
    if (mig_run(c, "BEGIN", 0, NULL, err, errlen) != 0)
        return -1;
    const char *p[] = {schema};
    if (mig_run(c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_CLASS ", hashtext($1))", 1, p,
                err, errlen) != 0) {
        mig_rollback(c);
        return -1;
    }
    return 0;
}

static int mig_commit(PGconn *c, char *err, size_t errlen)
{
    PGresult *r = mig_exec(c, "COMMIT", 0, NULL, err, errlen);
    if (!r)
        return -1;
    bool ok = strcmp(PQcmdStatus(r), "COMMIT") == 0;
    PQclear(r);
    if (!ok)
        snprintf(err, errlen, "transaction rolled back");
    return ok ? 0 : -1;
}

/* Check every recorded migration still exists with the same checksum. */
static int mig_verify(PGconn *c, const char *qschema, const mig_list *l, char *err,
                      size_t errlen)
{
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT version, checksum FROM %s.schema_migrations ORDER BY version",
             qschema);
    PGresult *r = mig_exec(c, sql, 0, NULL, err, errlen);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *v = PQgetvalue(r, i, 0), *sum = PQgetvalue(r, i, 1);
        const mig_file *f = NULL;
        for (size_t j = 0; j < l->n; j++)
            if (strcmp(l->files[j].version, v) == 0)
                f = &l->files[j];
        if (!f) {
            snprintf(err, errlen, "applied migration %s is missing from the migrations directory", v);
            rc = -1;
        } else if (strcmp(f->sha256, sum) != 0) {
            snprintf(err, errlen,
                     "applied migration %s has changed (checksum %.12s..., applied %.12s...): "
                     "add a new migration instead of editing an applied one", v, f->sha256, sum);
            rc = -1;
        }
    }
    PQclear(r);
    return rc;
}

static int mig_apply(PGconn *c, const char *schema, const char *qschema, const mig_file *f,
                     char *err, size_t errlen)
{
    char sql[600], e2[400];
    if (mig_begin(c, schema, err, errlen) != 0)
        return -1;
    snprintf(sql, sizeof sql, "SELECT checksum FROM %s.schema_migrations WHERE version = $1",
             qschema);
    const char *p[] = {f->version, f->sha256};
    PGresult *r = mig_exec(c, sql, 1, p, err, errlen);
    if (!r)
        goto out_rollback;
    if (PQntuples(r) > 0) {   /* applied meanwhile by another replica */
        bool same = strcmp(PQgetvalue(r, 0, 0), f->sha256) == 0;
        PQclear(r);
        if (!same) {
            snprintf(err, errlen, "applied migration %s has changed", f->version);
            goto out_rollback;
        }
        mig_rollback(c);
        return 0;
    }
    PQclear(r);
    snprintf(sql, sizeof sql, "SET LOCAL search_path TO %s", qschema);
    if (mig_run(c, sql, 0, NULL, err, errlen) != 0)
        goto out_rollback;
    if (mig_run(c, f->sql, 0, NULL, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "migration %s failed and was rolled back: %s", f->version, e2);
        goto out_rollback;
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.schema_migrations (version, checksum) VALUES ($1, $2)", qschema);
    if (mig_run(c, sql, 2, p, err, errlen) != 0)
        goto out_rollback;
    if (mig_commit(c, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "migration %s failed at commit: %s", f->version, e2);
        return -1;
    }
    hw_info("migration %s applied to schema %s", f->version, schema);
    return 0;

out_rollback:
    mig_rollback(c);
    return -1;
}

/* USAGE on the schema, DML on its tables and sequences, but only INSERT and
 * SELECT on audit and nothing on schema_migrations. */
static int mig_grant(PGconn *c, const char *schema, const char *qschema, const char *role,
                     char *err, size_t errlen)
{
    char *qrole = PQescapeIdentifier(c, role, strlen(role));
    if (!qrole) {
        snprintf(err, errlen, "bad runtime role name");
        return -1;
    }
    const char *const fmts[] = {
        "GRANT USAGE ON SCHEMA %1$s TO %2$s",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %1$s TO %2$s",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %1$s TO %2$s",
        "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %1$s.audit FROM %2$s",
        "GRANT SELECT, INSERT ON %1$s.audit TO %2$s",
        "REVOKE ALL ON %1$s.schema_migrations FROM %2$s",
    };
    int rc = -1;
    char e2[400];
    if (mig_begin(c, schema, err, errlen) != 0)
        goto out_free_role;
    const char *p[] = {role};
    PGresult *r = mig_exec(c, "SELECT current_user = $1", 1, p, e2, sizeof e2);
    if (!r) {
        snprintf(err, errlen, "grants: %s", e2);
        goto out_rollback;
    }
    bool is_owner = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (is_owner) {
        /* Revoking from the owner would only hobble the migrator. */
        hw_warn("runtime role %s is the schema owner: no separate grants made", role);
        mig_rollback(c);
        rc = 0;
        goto out_free_role;
    }
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        char sql[800];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(sql, sizeof sql, fmts[i], qschema, qrole);
#pragma GCC diagnostic pop
        if (mig_run(c, sql, 0, NULL, e2, sizeof e2) != 0) {
            snprintf(err, errlen, "grants to %s: %s", role, e2);
            goto out_rollback;
        }
    }
    if (mig_commit(c, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "grants to %s: %s", role, e2);
        goto out_free_role;
    }
    rc = 0;
    goto out_free_role;

out_rollback:
    mig_rollback(c);
out_free_role:
    PQfreemem(qrole);
    return rc;
}

int hw_migrate(const char *conninfo, const char *schema, const char *common_dir,
               const char *service_dir, const char *runtime_role,
               char *err, size_t errlen)
{
    mig_list l = {0};
    int rc = -1;
    char e2[400];
    char *qschema = NULL;

    if (!conninfo || !schema || !*schema) {
        snprintf(err, errlen, "migrate: conninfo and schema are required");
        return -1;
    }
    if (common_dir && list_migrations(common_dir, "common/", true, &l, err, errlen) != 0)
        goto out_files;
    if (service_dir && list_migrations(service_dir, "", false, &l, err, errlen) != 0)
        goto out_files;

    PGconn *c = pg_connect(conninfo, NULL);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char line[200];
        first_line(c ? PQerrorMessage(c) : "out of memory", line, sizeof line);
        snprintf(err, errlen, "cannot connect to postgres: %s", line);
        goto out_conn;
    }
    PQclear(PQexec(c, "SET client_min_messages TO warning"));
    qschema = PQescapeIdentifier(c, schema, strlen(schema));
    if (!qschema) {
        snprintf(err, errlen, "bad schema name");
        goto out_conn;
    }

    /* Create the schema and ledger, and refuse before touching anything if
     * an applied file was edited or removed. */
    char sql[600];
    if (mig_begin(c, schema, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "migrate: %s", e2);
        goto out_conn;
    }
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", qschema);
    if (mig_run(c, sql, 0, NULL, e2, sizeof e2) != 0)
        goto out_setup_failed;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS %s.schema_migrations ("
             " version text PRIMARY KEY, checksum text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())", qschema);
    if (mig_run(c, sql, 0, NULL, e2, sizeof e2) != 0)
        goto out_setup_failed;
    if (mig_verify(c, qschema, &l, err, errlen) != 0) {
        mig_rollback(c);
        goto out_conn;
    }
    if (mig_commit(c, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "migrate: %s", e2);
        goto out_conn;
    }

    for (size_t i = 0; i < l.n; i++)
        if (mig_apply(c, schema, qschema, &l.files[i], err, errlen) != 0)
            goto out_conn;
    if (runtime_role && *runtime_role &&
        mig_grant(c, schema, qschema, runtime_role, err, errlen) != 0)
        goto out_conn;
    rc = 0;
    goto out_conn;

out_setup_failed:
    snprintf(err, errlen, "migrate: creating schema %s: %s", schema, e2);
    mig_rollback(c);
out_conn:
    if (qschema)
        PQfreemem(qschema);
    if (c)
        PQfinish(c);
out_files:
    for (size_t i = 0; i < l.n; i++)
        free(l.files[i].sql);
    free(l.files);
    return rc;
}
