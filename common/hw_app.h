/* hw_app.h -- the shape every service's main() shares.
 *
 * hw_app_run: reads configuration, initialises logging, migrates the
 * schema, opens the Postgres pool and Redis, loads the token key, starts
 * the gRPC server (the service's methods, the event sink if it consumes
 * events, health), the outbox relay and the deadline scheduler, keeps health
 * in step with Postgres and Redis, and on SIGTERM/SIGINT shuts everything
 * down gracefully and returns 0. Signals are taken by sigwait() in the main
 * thread, never by a handler, so no gRPC function runs in signal context.
 *
 * Environment (each with a clear error when missing or malformed):
 *   HOMEWARD_LISTEN         host:port to serve on (default per service)
 *   DATABASE_URL            libpq URL for the service's runtime role
 *   MIGRATE_DATABASE_URL    libpq URL for the schema owner (default DATABASE_URL)
 *   DB_RUNTIME_ROLE         role granted DML (default: none granted)
 *   REDIS_ADDR              host:port
 *   JWT_PUBLIC_KEY_FILE     PEM EC P-256 public key
 *   JWT_ISSUER, JWT_AUDIENCE
 *   SERVICE_TOKEN_KEY_FILE  PEM private key to mint this service's own
 *                           identity for calls to peers (optional)
 *   EVENT_SUBSCRIBERS       comma-separated host:port of event receivers
 *   HOMEWARD_WORKERS        handler threads (default 4)
 *   HOMEWARD_DB_POOL        Postgres connections (default workers + 5)
 *   HOMEWARD_GRACE_MS       shutdown grace (default 10000)
 *   HOMEWARD_MIGRATIONS_DIR root holding common/sql and services/<name>/migrations
 *                           (default: the source tree compiled in) */
#ifndef HW_APP_H
#define HW_APP_H

#include "hw_audit.h"
#include "hw_deadline.h"
#include "hw_outbox.h"
#include "hw_pg.h"
#include "hw_redis.h"
#include "hw_server.h"

typedef struct hw_app hw_app;

/* Handle an event delivered to this service. Runs inside a transaction on
 * db in which the event id has already been claimed (repeats never reach
 * here). Return 0 to commit, -1 (st set) to roll back: the sender retries. */
typedef int (*hw_event_fn)(hw_app *app, hw_db *db, const char *event_id,
                           const char *source, const char *type,
                           const char *subject, int64_t occurred_at_ms,
                           const char *payload_json, hw_status *st);

typedef struct hw_app_def {
    const char *name;              /* "episodes": schema, log service, key namespace */
    const char *default_listen;    /* "127.0.0.1:50051" */
    const hw_service_def *service; /* its gRPC service; ctx is set to the hw_app */
    hw_event_fn on_event;          /* NULL if it consumes no events */
    /* Called after the pool and scheduler exist, before serving: register
     * deadline handlers, set up service state. Return 0 or -1. */
    int (*init)(hw_app *app);
    void (*fini)(hw_app *app);     /* after the server has stopped; may be NULL */
} hw_app_def;

int hw_app_run(const hw_app_def *def, int argc, char **argv);

hw_pg_pool *hw_app_pool(hw_app *app);
/* Writes reads' audit rows in groups: hw_audit_reads_async (hw_audit.h). */
hw_auditor *hw_app_auditor(hw_app *app);
hw_redis *hw_app_redis(hw_app *app);
hw_scheduler *hw_app_scheduler(hw_app *app);
hw_relay *hw_app_relay(hw_app *app);
const char *hw_app_name(hw_app *app);
/* This service's own bearer token for calls to peers (refreshed before
 * expiry), or NULL when SERVICE_TOKEN_KEY_FILE is not set. Caller frees. */
char *hw_app_service_token(hw_app *app);
void *hw_app_state(hw_app *app);
void hw_app_set_state(hw_app *app, void *state);

#endif
