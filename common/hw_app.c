/* hw_app.c -- the start-up, serving and shutdown every service shares. */
#include "hw_app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homeward/events/v1/events.pb-c.h"
#include "hw_auth.h"
#include "hw_client.h"
#include "hw_config.h"
#include "hw_log.h"
#include "hw_roles.h"

#ifndef HW_SOURCE_DIR
#define HW_SOURCE_DIR "."
#endif

#define HW_MAX_PEERS 16

struct hw_app {
    const hw_app_def *def;
    hw_pg_pool *pool;
    hw_auditor *auditor;
    hw_redis *redis;
    hw_scheduler *scheduler;
    hw_relay *relay;
    hw_server *server;
    hw_auth *auth;
    void *state;

    /* Service identity for calls to peers, refreshed before it expires. */
    pthread_mutex_t token_lock;
    char *token_key_pem;
    char *token;
    int64_t token_exp;

    /* Channels to event subscribers, one per target, made on first use. */
    pthread_mutex_t peers_lock;
    int n_peers;
    char *peer_target[HW_MAX_PEERS];
    hw_channel *peer_channel[HW_MAX_PEERS];

    /* Health follows Postgres and Redis. */
    pthread_t health_thread;
    pthread_mutex_t health_lock;
    pthread_cond_t health_cond;
    int stopping;
};

hw_pg_pool *hw_app_pool(hw_app *app) { return app->pool; }
hw_auditor *hw_app_auditor(hw_app *app) { return app->auditor; }
hw_redis *hw_app_redis(hw_app *app) { return app->redis; }
hw_scheduler *hw_app_scheduler(hw_app *app) { return app->scheduler; }
hw_relay *hw_app_relay(hw_app *app) { return app->relay; }
const char *hw_app_name(hw_app *app) { return app->def->name; }
void *hw_app_state(hw_app *app) { return app->state; }
void hw_app_set_state(hw_app *app, void *state) { app->state = state; }

char *hw_app_service_token(hw_app *app)
{
    char err[256];
    char *out = NULL;

    if (!app->token_key_pem)
        return NULL;
    pthread_mutex_lock(&app->token_lock);
    int64_t now = (int64_t)time(NULL);
    if (!app->token || app->token_exp - now < 300) {
        char claims[512];
        int64_t exp = now + 3600;
        snprintf(claims, sizeof claims,
                 "{\"sub\":\"service:%s\",\"name\":\"homeward-%s\",\"org\":\"homeward\","
                 "\"roles\":[\"%s\"],\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
                 app->def->name, app->def->name, HW_ROLE_SERVICE,
                 hw_config_str("JWT_ISSUER", "homeward-dev"),
                 hw_config_str("JWT_AUDIENCE", "homeward"), (long long)now, (long long)exp);
        char *t = hw_jwt_mint_es256(app->token_key_pem, claims, err, sizeof err);
        if (t) {
            free(app->token);
            app->token = t;
            app->token_exp = exp;
        } else {
            hw_error("cannot mint the service token: %s", err);
        }
    }
    if (app->token)
        out = strdup(app->token);
    pthread_mutex_unlock(&app->token_lock);
    return out;
}

/* ---- events: the relay's delivery and the EventSink receiver ---- */

static hw_channel *peer_channel(hw_app *app, const char *target)
{
    hw_channel *ch = NULL;

    pthread_mutex_lock(&app->peers_lock);
    for (int i = 0; i < app->n_peers; i++)
        if (strcmp(app->peer_target[i], target) == 0)
            ch = app->peer_channel[i];
    if (!ch && app->n_peers < HW_MAX_PEERS) {
        ch = hw_channel_create(target);
        if (ch) {
            app->peer_target[app->n_peers] = strdup(target);
            app->peer_channel[app->n_peers++] = ch;
        }
    }
    pthread_mutex_unlock(&app->peers_lock);
    return ch;
}

static int deliver_event(const char *target, const char *event_id, const char *source,
                         const char *type, const char *subject, int64_t occurred_at_ms,
                         const char *payload_json, void *arg)
{
    hw_app *app = arg;
    hw_status st = HW_STATUS_INIT;
    Homeward__Events__V1__Event ev = HOMEWARD__EVENTS__V1__EVENT__INIT;
    ProtobufCMessage *resp = NULL;

    hw_channel *ch = peer_channel(app, target);
    if (!ch)
        return -1;
    ev.id = (char *)event_id;
    ev.source = (char *)source;
    ev.type = (char *)type;
    ev.subject = (char *)subject;
    ev.occurred_at_ms = occurred_at_ms;
    ev.payload_json = (char *)payload_json;

    char *token = hw_app_service_token(app);
    hw_call_opts opts = {.token = token, .purpose = "event delivery", .timeout_ms = 5000,
                         .idempotent = true};
    int rc = hw_client_unary(ch, "/homeward.events.v1.EventSink/Deliver", &ev.base,
                             &homeward__events__v1__deliver_response__descriptor, &resp, &opts, &st);
    free(token);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    if (rc != 0 || !hw_ok(&st)) {
        hw_warn("event %s to %s not delivered: %s %s", event_id, target, hw_code_name(st.code),
                st.message);
        return -1;
    }
    return 0;
}

static void h_deliver(hw_call *call, const ProtobufCMessage *reqm, ProtobufCMessage **respm,
                      hw_status *st, void *ctx)
{
    hw_app *app = ctx;
    const Homeward__Events__V1__Event *ev = (const Homeward__Events__V1__Event *)reqm;
    Homeward__Events__V1__DeliverResponse *resp;

    if (!ev->id || !*ev->id)
        hw_status_violation(st, "id", "required");
    if (!ev->type || !*ev->type)
        hw_status_violation(st, "type", "required");
    if (!hw_ok(st))
        return;
    hw_call_set_request_id(call, ev->id);

    hw_db *db = hw_pg_acquire(app->pool, hw_call_ms_left(call) < 5000 ? hw_call_ms_left(call) : 5000, st);
    if (!db)
        return;
    if (hw_db_begin(db, st) != 0)
        goto out_release;
    int fresh = hw_inbox_claim(db, ev->id, st);
    if (fresh < 0)
        goto out_rollback;
    if (fresh == 1 &&
        app->def->on_event(app, db, ev->id, ev->source ? ev->source : "", ev->type,
                           ev->subject ? ev->subject : "", ev->occurred_at_ms,
                           ev->payload_json && *ev->payload_json ? ev->payload_json : "{}", st) != 0) {
        if (hw_ok(st))
            hw_status_set(st, HW_INTERNAL, "event not applied");
        goto out_rollback;
    }
    if (hw_db_commit(db, st) != 0)
        goto out_release;
    resp = hw_call_alloc(call, sizeof *resp);
    homeward__events__v1__deliver_response__init(resp);
    resp->duplicate = fresh == 0;
    *respm = &resp->base;
    goto out_release;

out_rollback:
    hw_db_rollback(db);
out_release:
    hw_pg_release(db);
}

static const char *const roles_service[] = {HW_ROLE_SERVICE, NULL};
static const hw_method event_sink_methods[] = {
    {"Deliver", h_deliver, NULL, roles_service},
};

/* ---- health ---- */

static void *health_main(void *arg)
{
    hw_app *app = arg;
    int last = -1;

    pthread_mutex_lock(&app->health_lock);
    while (!app->stopping) {
        pthread_mutex_unlock(&app->health_lock);
        int serving = hw_pg_ping(app->pool) && hw_redis_ping(app->redis);
        if (serving != last) {
            hw_server_set_serving(app->server, serving);
            if (last != -1)
                hw_logf(serving ? HW_LOG_INFO : HW_LOG_WARN, "health: %s",
                        serving ? "SERVING" : "NOT_SERVING (Postgres or Redis unreachable)");
            last = serving;
        }
        pthread_mutex_lock(&app->health_lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!app->stopping)
            pthread_cond_timedwait(&app->health_cond, &app->health_lock, &ts);
    }
    pthread_mutex_unlock(&app->health_lock);
    return NULL;
}

/* ---- run ---- */

static void usage(const char *name)
{
    fprintf(stderr,
            "usage: homeward-%s [--migrate-only]\n"
            "Configuration comes from the environment; see common/hw_app.h.\n",
            name);
}

int hw_app_run(const hw_app_def *def, int argc, char **argv)
{
    char err[512];
    int migrate_only = 0;
    int rc = 1;
    hw_app app_storage;
    hw_app *app = &app_storage;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--migrate-only") == 0) {
            migrate_only = 1;
        } else {
            usage(def->name);
            return 2;
        }
    }

    memset(app, 0, sizeof *app);
    app->def = def;
    pthread_mutex_init(&app->token_lock, NULL);
    pthread_mutex_init(&app->peers_lock, NULL);
    pthread_mutex_init(&app->health_lock, NULL);
    pthread_cond_init(&app->health_cond, NULL);

    hw_log_init(def->name);

    /* Block the shutdown signals in every thread; main takes them with
     * sigwait below, so no gRPC call ever runs in a signal handler. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *listen = hw_config_str("HOMEWARD_LISTEN", def->default_listen);
    const char *db_url = hw_config_str("DATABASE_URL", NULL);
    const char *migrate_url = hw_config_str("MIGRATE_DATABASE_URL", db_url);
    const char *runtime_role = hw_config_str("DB_RUNTIME_ROLE", "");
    const char *root = hw_config_str("HOMEWARD_MIGRATIONS_DIR", HW_SOURCE_DIR);
    long workers = hw_config_int("HOMEWARD_WORKERS", 4, 1, 64);
    long grace_ms = hw_config_int("HOMEWARD_GRACE_MS", 10000, 0, 600000);
    /* One connection per worker, the relay's and the scheduler's, and spares
     * (a read's audit group is written on a connection of its own). */
    long pool_size = hw_config_int("HOMEWARD_DB_POOL", workers + 5, 2, 256);
    char redis_host[256];
    int redis_port;
    if (hw_config_get_addr("REDIS_ADDR", NULL, redis_host, &redis_port, err, sizeof err) != 0) {
        hw_error("%s", err);
        return 2;
    }

    char common_dir[1024], service_dir[1024];
    snprintf(common_dir, sizeof common_dir, "%s/common/sql", root);
    snprintf(service_dir, sizeof service_dir, "%s/services/%s/migrations", root, def->name);
    if (hw_migrate(migrate_url, def->name, common_dir, service_dir,
                   *runtime_role ? runtime_role : NULL, err, sizeof err) != 0) {
        hw_error("migration failed: %s", err);
        return 1;
    }
    hw_info("schema %s migrated", def->name);
    if (migrate_only)
        return 0;

    const char *pub_path = hw_config_str("JWT_PUBLIC_KEY_FILE", NULL);
    char *pub = hw_read_file(pub_path);
    if (!pub) {
        hw_error("JWT_PUBLIC_KEY_FILE: cannot read %s", pub_path);
        return 2;
    }
    app->auth = hw_auth_create(pub, hw_config_str("JWT_ISSUER", "homeward-dev"),
                               hw_config_str("JWT_AUDIENCE", "homeward"), err, sizeof err);
    free(pub);
    if (!app->auth) {
        hw_error("JWT_PUBLIC_KEY_FILE: %s", err);
        return 2;
    }
    const char *key_path = hw_config_str("SERVICE_TOKEN_KEY_FILE", "");
    if (*key_path) {
        app->token_key_pem = hw_read_file(key_path);
        if (!app->token_key_pem) {
            hw_error("SERVICE_TOKEN_KEY_FILE: cannot read %s", key_path);
            goto out_auth;
        }
    }

    app->pool = hw_pg_pool_create(db_url, def->name, (int)pool_size, err, sizeof err);
    if (!app->pool) {
        hw_error("DATABASE_URL: %s", err);
        goto out_auth;
    }
    app->auditor = hw_auditor_create(app->pool);
    if (!app->auditor) {
        hw_error("audit writer: out of memory");
        goto out_pool;
    }
    app->redis = hw_redis_create(redis_host, redis_port, err, sizeof err);
    if (!app->redis) {
        hw_error("REDIS_ADDR: %s", err);
        goto out_auditor;
    }
    hw_scheduler_opts sopts = {.service = def->name};
    app->scheduler = hw_scheduler_create(app->pool, app->redis, &sopts);
    if (!app->scheduler) {
        hw_error("cannot create the deadline scheduler");
        goto out_redis;
    }
    if (def->init && def->init(app) != 0) {
        hw_error("service initialisation failed");
        goto out_scheduler;
    }

    hw_server_opts opts = {
        .name = def->service ? def->service->desc->name : def->name,
        .listen_addr = listen,
        .workers = (int)workers,
        .grace_ms = (int)grace_ms,
        .auth = app->auth,
    };
    app->server = hw_server_create(&opts, err, sizeof err);
    if (!app->server) {
        hw_error("server: %s", err);
        goto out_fini;
    }
    hw_service_def service;
    if (def->service) {
        service = *def->service;
        service.ctx = app;
        hw_server_add_service(app->server, &service);
    }
    hw_service_def sink = {&homeward__events__v1__event_sink__descriptor, event_sink_methods, 1, app};
    if (def->on_event)
        hw_server_add_service(app->server, &sink);
    int port = hw_server_start(app->server, err, sizeof err);
    if (port < 0) {
        hw_error("HOMEWARD_LISTEN %s: %s", listen, err);
        goto out_server;
    }
    hw_server_set_serving(app->server, false);
    pthread_create(&app->health_thread, NULL, health_main, app);

    app->relay = hw_relay_start(app->pool, def->name, hw_config_str("EVENT_SUBSCRIBERS", ""),
                                deliver_event, app);
    if (hw_scheduler_start(app->scheduler) != 0)
        hw_warn("deadline scheduler did not start cleanly; it retries while running");
    hw_info("serving on port %d with %ld workers", port, workers);

    int sig = 0;
    sigwait(&sigs, &sig);
    hw_info("signal %d: shutting down (grace %ld ms)", sig, grace_ms);

    pthread_mutex_lock(&app->health_lock);
    app->stopping = 1;
    pthread_cond_broadcast(&app->health_cond);
    pthread_mutex_unlock(&app->health_lock);
    pthread_join(app->health_thread, NULL);

    hw_server_shutdown(app->server);
    hw_scheduler_stop(app->scheduler);
    if (app->relay)
        hw_relay_stop(app->relay);
    rc = 0;
    hw_info("stopped");

out_server:
    hw_server_destroy(app->server);
out_fini:
    if (def->fini)
        def->fini(app);
out_scheduler:
    hw_scheduler_destroy(app->scheduler);
out_redis:
    hw_redis_destroy(app->redis);
out_auditor:
    hw_auditor_destroy(app->auditor); /* after the server: no read is waiting */
out_pool:
    hw_pg_pool_destroy(app->pool);
out_auth:
    hw_auth_free(app->auth);
    for (int i = 0; i < app->n_peers; i++) {
        hw_channel_destroy(app->peer_channel[i]);
        free(app->peer_target[i]);
    }
    free(app->token_key_pem);
    free(app->token);
    return rc;
}
