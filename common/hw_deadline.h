/* hw_deadline.h -- the deadline scheduler (ARCHITECTURE "Deadlines").
 *
 * The truth is a row in <schema>.deadlines (kind, subject, due_at, payload,
 * state pending|done|cancelled); Redis only schedules it, in a sorted set
 * "hw:{<service>}:due" scored by due time in ms, member "<kind>|<subject>".
 * A poller claims due members atomically with a Lua script that moves them
 * to "hw:{<service>}:inflight" scored by lease expiry (Redis TIME is the
 * clock). For each claim it runs the kind's handler inside a transaction
 * that first locks the row (FOR UPDATE SKIP LOCKED, state = pending): the
 * handler's work and marking the row done commit together, so several
 * replicas never fire one deadline twice in effect. A claim whose process
 * dies returns to the due set after its lease. On start and every
 * rearm_interval the pending rows are re-armed into Redis (ZADD), so after
 * a Redis restart or FLUSHALL every pending deadline still fires, and one
 * that fell due while everything was down fires once on start. Keys share
 * the {<service>} hash tag (Redis Cluster). */
#ifndef HW_DEADLINE_H
#define HW_DEADLINE_H

#include <stdint.h>

#include "hw_pg.h"
#include "hw_redis.h"

typedef struct hw_scheduler hw_scheduler;

/* Runs inside the transaction that marks the deadline done; return 0 to
 * commit, -1 (st set) to roll back and retry after a backoff. The handler
 * may write outbox events and schedule further deadlines with db. */
typedef int (*hw_deadline_fn)(hw_db *db, const char *kind, const char *subject,
                              int64_t due_at_ms, const char *payload_json,
                              void *arg, hw_status *st);

typedef struct hw_scheduler_opts {
    const char *service;        /* key namespace */
    int poll_ms;                /* default 200 */
    int lease_ms;               /* default 30000 */
    int rearm_ms;               /* default 30000 */
} hw_scheduler_opts;

hw_scheduler *hw_scheduler_create(hw_pg_pool *pool, hw_redis *redis,
                                  const hw_scheduler_opts *opts);
/* Register before hw_scheduler_start. */
void hw_scheduler_on(hw_scheduler *s, const char *kind, hw_deadline_fn fn, void *arg);
/* Start the poller; returns once its re-arm from Postgres on start has been
 * tried (at most 5 s). */
int hw_scheduler_start(hw_scheduler *s);
void hw_scheduler_stop(hw_scheduler *s);
void hw_scheduler_destroy(hw_scheduler *s);

/* Within the caller's transaction: insert or move the pending deadline
 * (kind, subject); Redis is armed after commit. payload_json may be NULL. */
int hw_schedule(hw_scheduler *s, hw_db *db, const char *kind, const char *subject,
                int64_t due_at_ms, const char *payload_json, hw_status *st);
/* Within the caller's transaction: cancel it (no-op if none pending);
 * removed from Redis after commit. */
int hw_cancel(hw_scheduler *s, hw_db *db, const char *kind, const char *subject,
              hw_status *st);
/* Re-arm Redis from Postgres now; returns the number of pending rows armed
 * or -1. */
int hw_scheduler_rearm(hw_scheduler *s);

#endif
