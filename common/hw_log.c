/* hw_log.c -- one JSON line per event on stderr. */
#include "hw_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* A message longer than this is cut (and says so): a log line is not the
 * place for bulk data, and a fixed bound keeps logging allocation-free. */
#define HW_LOG_MSG_MAX 2048
/* Worst case: every message byte escaped as \u00XX (6 bytes), plus fields. */
/* Other string fields are cut at this many bytes. */
#define HW_LOG_FIELD_MAX 256
#define HW_LOG_LINE_MAX (HW_LOG_MSG_MAX * 6 + 3 * HW_LOG_FIELD_MAX * 6 + 512)

static char hw__log_service[64] = "homeward";
static int hw__log_min = HW_LOG_INFO;
/* One write(2) per line already keeps lines whole on pipes up to PIPE_BUF;
 * the lock also keeps longer lines whole and orders them. */
static pthread_mutex_t hw__log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const hw__level_names[] = {"debug", "info", "warn", "error"};

static int hw__level_from_name(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, hw__level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return HW_LOG_WARN;
    return -1;
}

void hw_log_init(const char *service)
{
    if (service)
        snprintf(hw__log_service, sizeof hw__log_service, "%s", service);
    const char *lvl = getenv("HOMEWARD_LOG_LEVEL");
    if (lvl && *lvl) {
        int l = hw__level_from_name(lvl);
        if (l >= 0)
            hw__log_min = l;
        else
            hw_logf(HW_LOG_WARN, "HOMEWARD_LOG_LEVEL: expected debug, info, warn or error; "
                                 "keeping info");
    }
}

void hw_log_set_level(enum hw_log_level min) { hw__log_min = (int)min; }

/* Output cursor over a fixed buffer. Inputs are length-capped so a line
 * always fits; the clamp in hw__put is only a last guard. */
typedef struct hw__out {
    char *buf;
    size_t len, cap;
} hw__out;

static void hw__put(hw__out *o, const char *s, size_t n)
{
    if (o->len + n > o->cap)
        n = o->cap - o->len;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void hw__puts(hw__out *o, const char *s) { hw__put(o, s, strlen(s)); }

/* Length of a valid UTF-8 sequence starting at s (at most n bytes
 * available), or 0 if it is not valid (overlong, surrogate, truncated). */
static size_t hw__utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Append s as a JSON string (with quotes). Control characters are escaped
 * and invalid UTF-8 becomes U+FFFD so every line parses. */
static void hw__put_json_str(hw__out *o, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strnlen(s, max);
    hw__put(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        char esc[8];
        if (c == '"') { hw__put(o, "\\\"", 2); i++; continue; }
        if (c == '\\') { hw__put(o, "\\\\", 2); i++; continue; }
        if (c == '\n') { hw__put(o, "\\n", 2); i++; continue; }
        if (c == '\r') { hw__put(o, "\\r", 2); i++; continue; }
        if (c == '\t') { hw__put(o, "\\t", 2); i++; continue; }
        if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            hw__put(o, esc, 6);
            i++;
            continue;
        }
        size_t l = hw__utf8_len(p + i, n - i);
        if (l == 0) {
            hw__put(o, "\\ufffd", 6);
            i++;
            continue;
        }
        hw__put(o, (const char *)p + i, l);
        i += l;
    }
    hw__put(o, "\"", 1);
}

static void hw__put_ts(hw__out *o)
{
    struct timespec ts;
    struct tm tm;
    char b[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + n, sizeof b - n, ".%03ldZ", ts.tv_nsec / 1000000L);
    hw__put(o, "{\"ts\":\"", 7);
    hw__puts(o, b);
    hw__put(o, "\"", 1);
}

static void hw__write_line(hw__out *o)
{
    hw__put(o, "}\n", 2);
    pthread_mutex_lock(&hw__log_lock);
    int saved = errno;
    size_t off = 0;
    while (off < o->len) {
        ssize_t w = write(STDERR_FILENO, o->buf + off, o->len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += (size_t)w;
    }
    errno = saved;
    pthread_mutex_unlock(&hw__log_lock);
}

/* Start a line: ts, level, service, msg. Leaves room for "}\n". */
static void hw__begin(hw__out *o, char *buf, size_t cap, int level, const char *msg)
{
    o->buf = buf;
    o->len = 0;
    o->cap = cap - 2;
    hw__put_ts(o);
    hw__puts(o, ",\"level\":\"");
    hw__puts(o, hw__level_names[level]);
    hw__puts(o, "\",\"service\":");
    hw__put_json_str(o, hw__log_service, HW_LOG_FIELD_MAX);
    hw__puts(o, ",\"msg\":");
    hw__put_json_str(o, msg ? msg : "", HW_LOG_MSG_MAX);
}

void hw_logf(enum hw_log_level level, const char *fmt, ...)
{
    int lv = (int)level;
    if (lv < HW_LOG_DEBUG || lv > HW_LOG_ERROR)
        lv = HW_LOG_ERROR;
    if (lv < hw__log_min)
        return;
    char msg[HW_LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof msg)
        memcpy(msg + sizeof msg - 16, "...(truncated)", 15);
    char line[HW_LOG_LINE_MAX];
    hw__out o;
    hw__begin(&o, line, sizeof line, lv, n < 0 ? "(bad log format)" : msg);
    hw__write_line(&o);
}

void hw_log_call(const char *method, const char *request_id, int grpc_code,
                 double duration_ms, const char *msg)
{
    /* Server-side faults are errors; a caller's mistake is routine. */
    int lv = (grpc_code == 2 || grpc_code == 13 || grpc_code == 15) ? HW_LOG_ERROR : HW_LOG_INFO;
    if (lv < hw__log_min)
        return;
    char line[HW_LOG_LINE_MAX];
    char num[64];
    hw__out o;
    hw__begin(&o, line, sizeof line, lv, msg ? msg : "call");
    hw__puts(&o, ",\"method\":");
    hw__put_json_str(&o, method ? method : "", HW_LOG_FIELD_MAX);
    if (request_id) {
        hw__puts(&o, ",\"request_id\":");
        hw__put_json_str(&o, request_id, HW_LOG_FIELD_MAX);
    }
    snprintf(num, sizeof num, ",\"grpc_code\":%d", grpc_code);
    hw__puts(&o, num);
    if (!(duration_ms >= 0 && duration_ms < 1e12)) /* NaN and nonsense: JSON has no NaN */
        duration_ms = 0;
    snprintf(num, sizeof num, ",\"duration_ms\":%.3f", duration_ms);
    hw__puts(&o, num);
    hw__write_line(&o);
}
