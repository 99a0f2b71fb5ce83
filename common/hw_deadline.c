/* hw_deadline.c -- deadlines kept in Postgres, scheduled through Redis sorted sets. */
#include "hw_deadline.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_log.h"
#include "hw_time.h"

#define HW_CLAIM_BATCH 32
#define HW_REARM_BATCH 200          /* members per Lua call while re-arming */
#define HW_RETRY_SOON_MS 1000       /* row locked elsewhere, or Postgres unreachable */
#define HW_BACKOFF_BASE_MS 1000
#define HW_BACKOFF_MAX_MS 300000
#define HW_ACQUIRE_MS 5000

/* The scripts take Redis TIME as the clock so pollers on machines whose
 * clocks disagree still agree on what is due. ARGV carries the process's
 * injectable clock offset (hw_time) so tests that shift time shift this
 * clock too; in production it is 0. All keys share the {service} tag. */

/* KEYS: due, inflight. ARGV: max, lease_ms, offset_ms.
 * Returns {now, member...}: expired leases go back to due first (keeping a
 * score a reschedule may have put there), then up to max due members move
 * to inflight scored by their lease expiry. */
static const char CLAIM_LUA[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])\n"
    "local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)\n"
    "for _, m in ipairs(expired) do\n"
    "  redis.call('ZREM', KEYS[2], m)\n"
    "  redis.call('ZADD', KEYS[1], 'NX', now, m)\n"
    "end\n"
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))\n"
    "for _, m in ipairs(due) do\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), m)\n"
    "end\n"
    "table.insert(due, 1, string.format('%d', now))\n"
    "return due\n";

/* KEYS: due, inflight. ARGV: score, member, mode, offset_ms.
 * mode "at": score is absolute; "after": score is a delay from now.
 * Moves a claimed member back to due (moved deadline, failed handler). */
static const char REQUEUE_LUA[] =
    "local score = tonumber(ARGV[1])\n"
    "if ARGV[3] == 'after' then\n"
    "  local t = redis.call('TIME')\n"
    "  score = score + tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[4])\n"
    "end\n"
    "redis.call('ZREM', KEYS[2], ARGV[2])\n"
    "redis.call('ZADD', KEYS[1], score, ARGV[2])\n"
    "return 1\n";

/* KEYS: inflight. ARGV: delay_ms, member, offset_ms.
 * Shortens the lease of a claim whose row another transaction holds, so it
 * is looked at again soon rather than after a full lease. */
static const char RELEASE_LUA[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])\n"
    "return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])\n";

/* KEYS: due, inflight. ARGV: score1, member1, score2, member2, ...
 * Arms pending rows, skipping members a live claim holds. LT keeps an
 * earlier score already there: a stale later score must never delay a
 * deadline, while a stale earlier one only makes the poller look early and
 * re-queue it at the row's due time. Returns how many were armed. */
static const char REARM_LUA[] =
    "local n = 0\n"
    "for i = 1, #ARGV, 2 do\n"
    "  if not redis.call('ZSCORE', KEYS[2], ARGV[i + 1]) then\n"
    "    redis.call('ZADD', KEYS[1], 'LT', ARGV[i], ARGV[i + 1])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

typedef struct hw_lua {
    const char *src;
    char sha[41];
} hw_lua;

typedef struct hw_handler {
    char *kind;
    hw_deadline_fn fn;
    void *arg;
} hw_handler;

struct hw_scheduler {
    hw_pg_pool *pool;
    hw_redis *redis;
    char *service;
    char *due_key;
    char *inflight_key;
    int poll_ms, lease_ms, rearm_ms;

    hw_handler *handlers;
    size_t n_handlers;

    hw_lua claim, requeue, release, rearm;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool running;
    bool first_rearm_done; /* the poller's re-arm on start has been tried */
    pthread_t thread;
};

/* ---- small helpers ---- */

static int64_t hw__mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *hw__strfmt(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static void hw__lua_init(hw_lua *l, const char *src) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    l->src = src;
    l->sha[0] = '\0';
    if (EVP_Digest(src, strlen(src), md, &len, EVP_sha1(), NULL) != 1 || len != 20) return;
    for (unsigned int i = 0; i < len; i++) snprintf(l->sha + 2 * i, 3, "%02x", md[i]);
}

/* EVALSHA, falling back to EVAL when Redis has lost its script cache
 * (restart, SCRIPT FLUSH). argv holds numkeys, keys and args. */
static hw_redis_reply *hw__eval(hw_scheduler *s, hw_lua *l, int argc, const char **argv,
                                const size_t *argvlen) {
    const char **av = malloc(((size_t)argc + 2) * sizeof *av);
    size_t *al = malloc(((size_t)argc + 2) * sizeof *al);
    hw_redis_reply *rep = NULL;
    if (!av || !al) goto out_free;
    for (int i = 0; i < argc; i++) {
        av[i + 2] = argv[i];
        al[i + 2] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    if (l->sha[0]) {
        av[0] = "EVALSHA";
        av[1] = l->sha;
        al[0] = 7;
        al[1] = 40;
        rep = hw_redis_cmd(s->redis, argc + 2, av, al);
        if (!rep || rep->type != HW_REDIS_ERR || strncmp(rep->str, "NOSCRIPT", 8) != 0) goto out_free;
        hw_redis_reply_free(rep);
    }
    av[0] = "EVAL";
    av[1] = l->src;
    al[0] = 4;
    al[1] = strlen(l->src);
    rep = hw_redis_cmd(s->redis, argc + 2, av, al);
out_free:
    free(av);
    free(al);
    return rep;
}

/* Log a failed Redis call; 0 if the reply is usable. An unreachable Redis
 * is not logged here: hw_redis logs the outage once, and the poller would
 * otherwise repeat it every poll. Re-arming repairs whatever was missed. */
static int hw__redis_check(const char *what, hw_redis_reply *rep) {
    if (!rep) return -1;
    if (rep->type == HW_REDIS_ERR) {
        hw_warn("deadlines: %s: redis error: %s", what, rep->str);
        return -1;
    }
    return 0;
}

static char *hw__member(const char *kind, const char *subject) {
    return hw__strfmt(kind, "|", subject);
}

/* ---- Redis operations ---- */

static void hw__zadd_due(hw_scheduler *s, const char *member, int64_t score) {
    char sc[24];
    snprintf(sc, sizeof sc, "%lld", (long long)score);
    hw_redis_reply *rep = hw_redis_cmdv(s->redis, "ZADD", s->due_key, sc, member, NULL);
    hw__redis_check("arm", rep);
    hw_redis_reply_free(rep);
}

static void hw__zrem(hw_scheduler *s, const char *key, const char *member) {
    hw_redis_reply *rep = hw_redis_cmdv(s->redis, "ZREM", key, member, NULL);
    hw__redis_check("remove", rep);
    hw_redis_reply_free(rep);
}

/* Back to due at an absolute score ("at") or after a delay ("after"). */
static void hw__requeue(hw_scheduler *s, const char *member, int64_t score, const char *mode) {
    char sc[24], off[24];
    snprintf(sc, sizeof sc, "%lld", (long long)score);
    snprintf(off, sizeof off, "%lld", (long long)hw_clock_offset_ms());
    const char *argv[] = {"2", s->due_key, s->inflight_key, sc, member, mode, off};
    hw_redis_reply *rep = hw__eval(s, &s->requeue, 7, argv, NULL);
    hw__redis_check("requeue", rep);
    hw_redis_reply_free(rep);
}

static void hw__retry_soon(hw_scheduler *s, const char *member) {
    char delay[24], off[24];
    snprintf(delay, sizeof delay, "%d", HW_RETRY_SOON_MS);
    snprintf(off, sizeof off, "%lld", (long long)hw_clock_offset_ms());
    const char *argv[] = {"1", s->inflight_key, delay, member, off};
    hw_redis_reply *rep = hw__eval(s, &s->release, 5, argv, NULL);
    hw__redis_check("release", rep);
    hw_redis_reply_free(rep);
}

/* ---- after-commit hooks ---- */

typedef struct hw_arm {
    hw_scheduler *s;
    int64_t score;
    bool cancel;
    char member[];
} hw_arm;

static void hw__arm_hook(void *arg) {
    hw_arm *a = arg;
    if (a->cancel)
        hw__zrem(a->s, a->s->due_key, a->member);
    else
        hw__zadd_due(a->s, a->member, a->score);
}

static int hw__add_hook(hw_scheduler *s, hw_db *db, const char *kind, const char *subject,
                        int64_t score, bool cancel, hw_status *st) {
    size_t n = strlen(kind) + 1 + strlen(subject) + 1;
    hw_arm *a = malloc(sizeof *a + n);
    if (!a) return hw_status_set(st, HW_INTERNAL, "out of memory");
    a->s = s;
    a->score = score;
    a->cancel = cancel;
    snprintf(a->member, n, "%s|%s", kind, subject);
    hw_db_after_commit(db, hw__arm_hook, a, true);
    return 0;
}

/* ---- public: schedule / cancel ---- */

static int hw__check_names(const char *kind, const char *subject, hw_status *st) {
    /* "|" separates kind from subject in the Redis member. */
    if (!kind || !*kind || strchr(kind, '|'))
        return hw_status_set(st, HW_INTERNAL, "deadline kind must be non-empty without '|'");
    if (!subject || !*subject) return hw_status_set(st, HW_INTERNAL, "deadline subject is empty");
    return 0;
}

int hw_schedule(hw_scheduler *s, hw_db *db, const char *kind, const char *subject,
                int64_t due_at_ms, const char *payload_json, hw_status *st) {
    if (hw__check_names(kind, subject, st) != 0) return -1;
    char due[24];
    snprintf(due, sizeof due, "%lld", (long long)due_at_ms);
    const char *params[] = {kind, subject, due, payload_json};
    /* Exact milliseconds: epoch + n ms, not to_timestamp(double). A move
     * is a fresh intent, so the failure count starts again. */
    if (hw_db_run(db,
                  "INSERT INTO deadlines (kind, subject, due_at, payload) "
                  "VALUES ($1, $2, timestamptz 'epoch' + $3::bigint * interval '1 millisecond', $4) "
                  "ON CONFLICT (kind, subject) WHERE state = 'pending' "
                  "DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, attempts = 0",
                  4, params, st) != 0)
        return -1;
    return hw__add_hook(s, db, kind, subject, due_at_ms, false, st);
}

int hw_cancel(hw_scheduler *s, hw_db *db, const char *kind, const char *subject, hw_status *st) {
    if (hw__check_names(kind, subject, st) != 0) return -1;
    const char *params[] = {kind, subject};
    hw_res *r = hw_db_exec(db,
                           "UPDATE deadlines SET state = 'cancelled', done_at = now() "
                           "WHERE kind = $1 AND subject = $2 AND state = 'pending'",
                           2, params, st);
    if (!r) return -1;
    int64_t n = hw_res_affected(r);
    hw_res_free(r);
    if (n == 0) return 0;
    return hw__add_hook(s, db, kind, subject, 0, true, st);
}

/* ---- re-arming ---- */

/* quiet: the poller retries a failed re-arm every second or so while
 * Postgres is down, and logs only the first failure. */
static int hw__rearm(hw_scheduler *s, bool quiet) {
    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(s->pool, HW_ACQUIRE_MS, &st);
    if (!db) {
        if (!quiet) hw_warn("deadlines: re-arm: %s", st.message);
        return -1;
    }
    hw_res *r = hw_db_exec(db,
                           "SELECT kind, subject, (extract(epoch FROM due_at) * 1000)::bigint "
                           "FROM deadlines WHERE state = 'pending' ORDER BY due_at",
                           0, NULL, &st);
    hw_pg_release(db);
    if (!r) {
        if (!quiet) hw_warn("deadlines: re-arm: %s", st.message);
        return -1;
    }
    int rows = hw_res_rows(r), armed = 0, rc = 0;
    const char **argv = malloc((3 + 2 * (size_t)HW_REARM_BATCH) * sizeof *argv);
    char **owned = calloc(2 * (size_t)HW_REARM_BATCH, sizeof *owned);
    if (!argv || !owned) {
        rc = -1;
        goto out_free;
    }
    for (int base = 0; base < rows; base += HW_REARM_BATCH) {
        int n = rows - base < HW_REARM_BATCH ? rows - base : HW_REARM_BATCH;
        argv[0] = "2";
        argv[1] = s->due_key;
        argv[2] = s->inflight_key;
        for (int i = 0; i < n; i++) {
            owned[2 * i] = hw__member(hw_res_get(r, base + i, 0), hw_res_get(r, base + i, 1));
            argv[3 + 2 * i] = hw_res_get(r, base + i, 2);
            argv[4 + 2 * i] = owned[2 * i] ? owned[2 * i] : "";
        }
        hw_redis_reply *rep = hw__eval(s, &s->rearm, 3 + 2 * n, argv, NULL);
        if (hw__redis_check("re-arm", rep) == 0 && rep->type == HW_REDIS_INT)
            armed += (int)rep->integer;
        else
            rc = -1;
        hw_redis_reply_free(rep);
        for (int i = 0; i < n; i++) {
            free(owned[2 * i]);
            owned[2 * i] = NULL;
        }
        if (rc != 0) break;
    }
out_free:
    free(owned);
    free(argv);
    hw_res_free(r);
    if (rc != 0 && !quiet) hw_warn("deadlines: re-arm of %s incomplete: redis unavailable", s->service);
    return rc == 0 ? armed : -1;
}

int hw_scheduler_rearm(hw_scheduler *s) {
    return s ? hw__rearm(s, false) : -1;
}

/* ---- firing ---- */

static const hw_handler *hw__handler(const hw_scheduler *s, const char *kind) {
    for (size_t i = 0; i < s->n_handlers; i++)
        if (strcmp(s->handlers[i].kind, kind) == 0) return &s->handlers[i];
    return NULL;
}

/* Count a failure on the row (in its own statement: the handler's
 * transaction was rolled back) and put the member back after a backoff. */
static void hw__fail(hw_scheduler *s, hw_db *db, const char *id, const char *member,
                     const char *kind, const char *why) {
    hw_status st = HW_STATUS_INIT;
    const char *params[] = {id};
    int attempts = 1;
    hw_res *r = hw_db_exec(db,
                           "UPDATE deadlines SET attempts = attempts + 1 "
                           "WHERE id = $1 AND state = 'pending' RETURNING attempts",
                           1, params, &st);
    if (r && hw_res_rows(r) == 1) attempts = (int)hw_res_int(r, 0, 0);
    hw_res_free(r);
    int64_t backoff = HW_BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && backoff < HW_BACKOFF_MAX_MS; i++) backoff *= 2;
    if (backoff > HW_BACKOFF_MAX_MS) backoff = HW_BACKOFF_MAX_MS;
    hw_warn("deadline %s id %s failed (attempt %d, retry in %lld ms): %s", kind, id, attempts,
            (long long)backoff, why);
    hw__requeue(s, member, backoff, "after");
}

/* One claimed member: lock its row, run the handler and mark it done in
 * one transaction, then drop the claim. */
static void hw__fire(hw_scheduler *s, const char *member, int64_t redis_now) {
    const char *bar = strchr(member, '|');
    if (!bar) {
        hw__zrem(s, s->inflight_key, member);  /* not ours: never arm it again */
        return;
    }
    size_t klen = (size_t)(bar - member);
    char *kind = malloc(klen + 1);
    if (!kind) return;  /* the lease brings it back */
    memcpy(kind, member, klen);
    kind[klen] = '\0';
    const char *subject = bar + 1;

    hw_status st = HW_STATUS_INIT;
    hw_db *db = hw_pg_acquire(s->pool, HW_ACQUIRE_MS, &st);
    if (!db) {
        hw_warn("deadlines: cannot fire %s: %s", kind, st.message);
        hw__retry_soon(s, member);
        goto out_free_kind;
    }
    if (hw_db_begin(db, &st) != 0) {
        hw__retry_soon(s, member);
        goto out_release;
    }
    const char *params[] = {kind, subject};
    hw_res *r = hw_db_exec(db,
                           "SELECT id, (extract(epoch FROM due_at) * 1000)::bigint, payload "
                           "FROM deadlines WHERE kind = $1 AND subject = $2 AND state = 'pending' "
                           "FOR UPDATE SKIP LOCKED",
                           2, params, &st);
    if (!r) {
        hw_db_rollback(db);
        hw_warn("deadlines: cannot read %s: %s", kind, st.message);
        hw__retry_soon(s, member);
        goto out_release;
    }
    if (hw_res_rows(r) == 0) {
        hw_res_free(r);
        hw_db_rollback(db);
        /* Nothing pending we could lock: either it is done or cancelled
         * (drop the claim), or another transaction holds the row -- another
         * replica firing it after our lease ran out, or a caller moving
         * it -- and we look again shortly. */
        r = hw_db_exec(db, "SELECT 1 FROM deadlines WHERE kind = $1 AND subject = $2 AND state = 'pending'",
                       2, params, &st);
        if (r && hw_res_rows(r) > 0)
            hw__retry_soon(s, member);
        else if (r)
            hw__zrem(s, s->inflight_key, member);
        else
            hw__retry_soon(s, member);
        hw_res_free(r);
        goto out_release;
    }
    char id[24];
    snprintf(id, sizeof id, "%s", hw_res_get(r, 0, 0));
    int64_t due_at = hw_res_int(r, 0, 1);
    char *payload = hw_res_isnull(r, 0, 2) ? NULL : strdup(hw_res_get(r, 0, 2));
    hw_res_free(r);

    if (due_at > redis_now) {
        /* Moved later since it was armed. */
        hw_db_rollback(db);
        hw__requeue(s, member, due_at, "at");
        goto out_free_payload;
    }
    const hw_handler *h = hw__handler(s, kind);
    if (!h) {
        hw_db_rollback(db);
        hw__fail(s, db, id, member, kind, "no handler registered for this kind");
        goto out_free_payload;
    }
    /* Done first, then the handler: a handler that schedules the same
     * (kind, subject) again (a daily digest) then inserts a fresh pending
     * row instead of moving this one. Both commit or neither. */
    const char *idp[] = {id};
    if (hw_db_run(db, "UPDATE deadlines SET state = 'done', done_at = now() WHERE id = $1", 1, idp,
                  &st) != 0) {
        hw_db_rollback(db);
        hw__fail(s, db, id, member, kind, st.message);
        goto out_free_payload;
    }
    hw_status hst = HW_STATUS_INIT;
    if (h->fn(db, kind, subject, due_at, payload, h->arg, &hst) != 0) {
        hw_db_rollback(db);
        hw__fail(s, db, id, member, kind, hst.message[0] ? hst.message : hw_code_name(hst.code));
        goto out_free_payload;
    }
    if (hw_db_commit(db, &st) != 0) {
        hw__fail(s, db, id, member, kind, st.message);
        goto out_free_payload;
    }
    hw__zrem(s, s->inflight_key, member);

out_free_payload:
    free(payload);
out_release:
    hw_pg_release(db);
out_free_kind:
    free(kind);
}

/* Claim a batch and fire it. Returns the number claimed, or -1. */
static int hw__poll_once(hw_scheduler *s) {
    char max[16], lease[16], off[24];
    snprintf(max, sizeof max, "%d", HW_CLAIM_BATCH);
    snprintf(lease, sizeof lease, "%d", s->lease_ms);
    snprintf(off, sizeof off, "%lld", (long long)hw_clock_offset_ms());
    const char *argv[] = {"2", s->due_key, s->inflight_key, max, lease, off};
    hw_redis_reply *rep = hw__eval(s, &s->claim, 6, argv, NULL);
    if (hw__redis_check("claim", rep) != 0 || rep->type != HW_REDIS_ARRAY || rep->n < 1 ||
        rep->elem[0]->type != HW_REDIS_STR) {
        hw_redis_reply_free(rep);
        return -1;
    }
    int64_t redis_now = strtoll(rep->elem[0]->str, NULL, 10);
    int n = 0;
    for (size_t i = 1; i < rep->n; i++) {
        if (rep->elem[i]->type != HW_REDIS_STR) continue;
        hw__fire(s, rep->elem[i]->str, redis_now);
        n++;
    }
    hw_redis_reply_free(rep);
    return n;
}

/* Wait up to ms or until stopped; true if stopping. */
static bool hw__sleep(hw_scheduler *s, int ms) {
    struct timespec ts = hw_monotonic_after_ms(ms);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
    }
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void *hw__poller(void *arg) {
    hw_scheduler *s = arg;
    int64_t next_rearm = 0;  /* at once: a deadline that fell due while we were down */
    bool rearm_failing = false;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        if (hw__mono_ms() >= next_rearm) {
            int n = hw__rearm(s, rearm_failing);
            if (n >= 0 && rearm_failing) hw_info("deadlines: re-armed %s (%d pending)", s->service, n);
            rearm_failing = n < 0;
            /* Retry a failed re-arm soon rather than after a full interval. */
            next_rearm = hw__mono_ms() + (n >= 0 ? s->rearm_ms : s->poll_ms * 5);
            pthread_mutex_lock(&s->mu);
            if (!s->first_rearm_done) {
                s->first_rearm_done = true;
                pthread_cond_broadcast(&s->cv);
            }
            pthread_mutex_unlock(&s->mu);
        }
        int n = hw__poll_once(s);
        if (n == HW_CLAIM_BATCH) continue;  /* more may be due */
        if (hw__sleep(s, s->poll_ms)) break;
    }
    return NULL;
}

/* ---- lifecycle ---- */

hw_scheduler *hw_scheduler_create(hw_pg_pool *pool, hw_redis *redis, const hw_scheduler_opts *opts) {
    if (!pool || !redis || !opts || !opts->service || !*opts->service) return NULL;
    hw_scheduler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->pool = pool;
    s->redis = redis;
    s->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : 200;
    s->lease_ms = opts->lease_ms > 0 ? opts->lease_ms : 30000;
    s->rearm_ms = opts->rearm_ms > 0 ? opts->rearm_ms : 30000;
    s->service = strdup(opts->service);
    s->due_key = hw__strfmt("hw:{", opts->service, "}:due");
    s->inflight_key = hw__strfmt("hw:{", opts->service, "}:inflight");
    if (!s->service || !s->due_key || !s->inflight_key) goto out_free;
    hw__lua_init(&s->claim, CLAIM_LUA);
    hw__lua_init(&s->requeue, REQUEUE_LUA);
    hw__lua_init(&s->release, RELEASE_LUA);
    hw__lua_init(&s->rearm, REARM_LUA);

    if (hw_cond_init_monotonic(&s->cv) != 0) goto out_free;
    if (pthread_mutex_init(&s->mu, NULL) != 0) goto out_destroy_cond;
    return s;

out_destroy_cond:
    pthread_cond_destroy(&s->cv);
out_free:
    free(s->service);
    free(s->due_key);
    free(s->inflight_key);
    free(s);
    return NULL;
}

void hw_scheduler_on(hw_scheduler *s, const char *kind, hw_deadline_fn fn, void *arg) {
    if (!s || !kind || !fn) return;
    hw_handler *h = realloc(s->handlers, (s->n_handlers + 1) * sizeof *h);
    if (!h) {
        hw_error("deadlines: cannot register handler for %s: out of memory", kind);
        return;
    }
    s->handlers = h;
    h[s->n_handlers].kind = strdup(kind);
    if (!h[s->n_handlers].kind) {
        hw_error("deadlines: cannot register handler for %s: out of memory", kind);
        return;
    }
    h[s->n_handlers].fn = fn;
    h[s->n_handlers].arg = arg;
    s->n_handlers++;
}

int hw_scheduler_start(hw_scheduler *s) {
    if (!s) return -1;
    pthread_mutex_lock(&s->mu);
    if (s->running) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    s->stop = false;
    s->first_rearm_done = false;
    int rc = pthread_create(&s->thread, NULL, hw__poller, s);
    if (rc == 0) s->running = true;
    /* Return once the re-arm on start has been tried (a few ms; at most 5 s):
     * a schedule or cancel made after start is then never overtaken by
     * that re-arm's view of Postgres from before it. */
    struct timespec until = hw_monotonic_after_ms(5000);
    while (rc == 0 && !s->first_rearm_done &&
           pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) {
        hw_error("deadlines: cannot start poller: %s", strerror(rc));
        return -1;
    }
    hw_info("deadlines: scheduler for %s started (poll %d ms, lease %d ms, re-arm %d ms)", s->service,
            s->poll_ms, s->lease_ms, s->rearm_ms);
    return 0;
}

void hw_scheduler_stop(hw_scheduler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    if (!s->running) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->mu);
    s->running = false;
    pthread_mutex_unlock(&s->mu);
}

void hw_scheduler_destroy(hw_scheduler *s) {
    if (!s) return;
    hw_scheduler_stop(s);
    for (size_t i = 0; i < s->n_handlers; i++) free(s->handlers[i].kind);
    free(s->handlers);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->service);
    free(s->due_key);
    free(s->inflight_key);
    free(s);
}
