/* hw_redis.h -- a Redis connection with reconnect.
 *
 * One connection guarded by a mutex (Redis work here is small: deadline
 * scheduling). A command that fails on a broken connection reconnects once
 * and retries; while Redis is down calls fail fast and hw_redis_ping
 * returns false. Replies are converted to hw_redis_reply, owned by the
 * caller (hw_redis_reply_free). */
#ifndef HW_REDIS_H
#define HW_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hw_redis hw_redis;

enum hw_redis_type { HW_REDIS_NIL, HW_REDIS_INT, HW_REDIS_STR, HW_REDIS_ARRAY, HW_REDIS_STATUS, HW_REDIS_ERR };

typedef struct hw_redis_reply {
    enum hw_redis_type type;
    long long integer;
    char *str;          /* STR, STATUS, ERR */
    size_t len;
    size_t n;           /* ARRAY */
    struct hw_redis_reply **elem;
} hw_redis_reply;

hw_redis *hw_redis_create(const char *host, int port, char *err, size_t errlen);
void hw_redis_destroy(hw_redis *r);

/* argv-style command (binary safe). Returns a reply or NULL when Redis
 * cannot be reached. */
hw_redis_reply *hw_redis_cmd(hw_redis *r, int argc, const char **argv, const size_t *argvlen);
/* Convenience: printf-free, NULL-terminated string arguments. */
hw_redis_reply *hw_redis_cmdv(hw_redis *r, const char *arg0, ...);
void hw_redis_reply_free(hw_redis_reply *rep);
bool hw_redis_ping(hw_redis *r);
/* Redis TIME in milliseconds, or -1. */
int64_t hw_redis_time_ms(hw_redis *r);

#endif
