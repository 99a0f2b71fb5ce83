/* hw_redis.c -- one hiredis connection behind a mutex, reconnected when it breaks. */
#include "hw_redis.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw_log.h"

/* Connecting to a host that is down must not stall the deadline poller for
 * long; a command gets longer because a Lua claim may touch many members. */
#define HW_REDIS_CONNECT_TIMEOUT_MS 1000
#define HW_REDIS_COMMAND_TIMEOUT_MS 3000
/* After a failed connect, calls fail at once for this long instead of
 * each paying the connect timeout again. */
#define HW_REDIS_RETRY_MS 250

struct hw_redis {
    pthread_mutex_t mu;
    redisContext *c;      /* NULL while disconnected */
    char *host;
    int port;
    int64_t retry_at;     /* monotonic ms before which we do not reconnect */
    bool down_logged;
};

static int64_t hw__mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval hw__tv(int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static void hw__drop_locked(hw_redis *r) {
    if (r->c) redisFree(r->c);
    r->c = NULL;
}

/* Connect (replacing any old context). 0, or -1 with err filled. */
static int hw__connect_locked(hw_redis *r, char *err, size_t errlen) {
    hw__drop_locked(r);
    redisContext *c = redisConnectWithTimeout(r->host, r->port, hw__tv(HW_REDIS_CONNECT_TIMEOUT_MS));
    if (!c || c->err) {
        if (err && errlen) snprintf(err, errlen, "redis %s:%d: %s", r->host, r->port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        r->retry_at = hw__mono_ms() + HW_REDIS_RETRY_MS;
        return -1;
    }
    if (redisSetTimeout(c, hw__tv(HW_REDIS_COMMAND_TIMEOUT_MS)) != REDIS_OK ||
        redisEnableKeepAlive(c) != REDIS_OK) {
        if (err && errlen) snprintf(err, errlen, "redis %s:%d: %s", r->host, r->port, c->errstr);
        redisFree(c);
        r->retry_at = hw__mono_ms() + HW_REDIS_RETRY_MS;
        return -1;
    }
    r->c = c;
    if (r->down_logged) hw_info("redis %s:%d reachable again", r->host, r->port);
    r->down_logged = false;
    return 0;
}

static void hw__note_down_locked(hw_redis *r, const char *why) {
    if (r->down_logged) return;
    r->down_logged = true;
    hw_warn("redis %s:%d unavailable: %s", r->host, r->port, why);
}

hw_redis *hw_redis_create(const char *host, int port, char *err, size_t errlen) {
    if (!host || port <= 0 || port > 65535) {
        if (err && errlen) snprintf(err, errlen, "redis: bad address");
        return NULL;
    }
    hw_redis *r = calloc(1, sizeof *r);
    if (!r) goto out_oom;
    r->host = strdup(host);
    if (!r->host) goto out_free_r;
    r->port = port;
    if (pthread_mutex_init(&r->mu, NULL) != 0) goto out_free_host;
    if (hw__connect_locked(r, err, errlen) != 0) goto out_destroy_mutex;
    return r;

out_destroy_mutex:
    pthread_mutex_destroy(&r->mu);
    free(r->host);
    free(r);
    return NULL;
out_free_host:
    free(r->host);
out_free_r:
    free(r);
out_oom:
    if (err && errlen) snprintf(err, errlen, "redis: out of memory");
    return NULL;
}

void hw_redis_destroy(hw_redis *r) {
    if (!r) return;
    hw__drop_locked(r);
    pthread_mutex_destroy(&r->mu);
    free(r->host);
    free(r);
}

void hw_redis_reply_free(hw_redis_reply *rep) {
    if (!rep) return;
    for (size_t i = 0; i < rep->n; i++) hw_redis_reply_free(rep->elem[i]);
    free(rep->elem);
    free(rep->str);
    free(rep);
}

static hw_redis_reply *hw__convert(const redisReply *in) {
    hw_redis_reply *out = calloc(1, sizeof *out);
    if (!out) return NULL;
    switch (in->type) {
    case REDIS_REPLY_INTEGER:
        out->type = HW_REDIS_INT;
        out->integer = in->integer;
        return out;
    case REDIS_REPLY_NIL:
        out->type = HW_REDIS_NIL;
        return out;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out->type = in->type == REDIS_REPLY_STRING ? HW_REDIS_STR
                    : in->type == REDIS_REPLY_STATUS ? HW_REDIS_STATUS : HW_REDIS_ERR;
        out->len = in->len;
        out->str = malloc(in->len + 1);
        if (!out->str) goto out_free;
        if (in->len) memcpy(out->str, in->str, in->len);
        out->str[in->len] = '\0';
        return out;
    case REDIS_REPLY_ARRAY:
        out->type = HW_REDIS_ARRAY;
        if (in->elements == 0) return out;
        out->elem = calloc(in->elements, sizeof *out->elem);
        if (!out->elem) goto out_free;
        for (size_t i = 0; i < in->elements; i++) {
            out->elem[i] = hw__convert(in->element[i]);
            out->n = i + 1;
            if (!out->elem[i]) goto out_free;
        }
        return out;
    default:
        goto out_free;
    }
out_free:
    hw_redis_reply_free(out);
    return NULL;
}

hw_redis_reply *hw_redis_cmd(hw_redis *r, int argc, const char **argv, const size_t *argvlen) {
    if (!r || argc <= 0) return NULL;
    hw_redis_reply *out = NULL;
    pthread_mutex_lock(&r->mu);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!r->c) {
            if (attempt == 0 && hw__mono_ms() < r->retry_at) break;  /* fail fast while down */
            char err[256];
            if (hw__connect_locked(r, err, sizeof err) != 0) {
                hw__note_down_locked(r, err);
                break;
            }
        }
        redisReply *rep = redisCommandArgv(r->c, argc, argv, argvlen);
        if (rep) {
            out = hw__convert(rep);
            freeReplyObject(rep);
            break;
        }
        /* The context is unusable after an I/O or protocol error: drop it
         * and, once, reconnect and send the command again. */
        char why[160];
        snprintf(why, sizeof why, "%s", r->c->errstr);
        hw__drop_locked(r);
        if (attempt == 1) hw__note_down_locked(r, why);
    }
    pthread_mutex_unlock(&r->mu);
    return out;
}

hw_redis_reply *hw_redis_cmdv(hw_redis *r, const char *arg0, ...) {
    if (!arg0) return NULL;
    va_list ap;
    int argc = 1;
    va_start(ap, arg0);
    while (va_arg(ap, const char *)) argc++;
    va_end(ap);

    const char **argv = malloc((size_t)argc * sizeof *argv);
    size_t *argvlen = malloc((size_t)argc * sizeof *argvlen);
    hw_redis_reply *out = NULL;
    if (!argv || !argvlen) goto out_free_args;
    argv[0] = arg0;
    va_start(ap, arg0);
    for (int i = 1; i < argc; i++) argv[i] = va_arg(ap, const char *);
    va_end(ap);
    for (int i = 0; i < argc; i++) argvlen[i] = strlen(argv[i]);
    out = hw_redis_cmd(r, argc, argv, argvlen);
out_free_args:
    free(argv);
    free(argvlen);
    return out;
}

bool hw_redis_ping(hw_redis *r) {
    hw_redis_reply *rep = hw_redis_cmdv(r, "PING", NULL);
    bool ok = rep && rep->type == HW_REDIS_STATUS && strcmp(rep->str, "PONG") == 0;
    hw_redis_reply_free(rep);
    return ok;
}

int64_t hw_redis_time_ms(hw_redis *r) {
    hw_redis_reply *rep = hw_redis_cmdv(r, "TIME", NULL);
    int64_t ms = -1;
    if (rep && rep->type == HW_REDIS_ARRAY && rep->n == 2 && rep->elem[0]->type == HW_REDIS_STR &&
        rep->elem[1]->type == HW_REDIS_STR)
        ms = strtoll(rep->elem[0]->str, NULL, 10) * 1000 + strtoll(rep->elem[1]->str, NULL, 10) / 1000;
    hw_redis_reply_free(rep);
    return ms;
}
