/* hw_config.c -- configuration from environment variables, checked strictly. */
#include "hw_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw_log.h"

/* Quote at most this much of a bad value in a message: enough to recognise
 * it, not enough to spill a secret someone pasted in the wrong variable. */
#define HW_CONFIG_QUOTE_MAX 40

static void hw__quote(char *dst, size_t dstlen, const char *v)
{
    size_t n = strlen(v);
    if (n > HW_CONFIG_QUOTE_MAX)
        snprintf(dst, dstlen, "%.*s...", HW_CONFIG_QUOTE_MAX, v);
    else
        snprintf(dst, dstlen, "%s", v);
    /* Control characters would garble a terminal or a log reader. */
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = '?';
}

int hw_config_get_str(const char *name, const char *def, const char **out,
                      char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (v && *v) {
        *out = v;
        return 0;
    }
    if (def) {
        *out = def;
        return 0;
    }
    snprintf(err, errlen, "%s: required but not set", name);
    return -1;
}

/* Strict base-10 integer: optional sign, digits, nothing else (no spaces,
 * no "12abc", no "0x10"). Returns 0 or -1; -1 with *range set on overflow. */
static int hw__parse_long(const char *s, long *out, int *range)
{
    *range = 0;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno == ERANGE) {
        *range = 1;
        return -1;
    }
    if (end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int hw_config_get_int(const char *name, long def, long min, long max, long *out,
                      char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    long x = 0;
    int range = 0;
    char q[HW_CONFIG_QUOTE_MAX + 8];
    hw__quote(q, sizeof q, v);
    int parsed = hw__parse_long(v, &x, &range) == 0;
    if (!parsed || x < min || x > max) {
        /* A number outside the bounds and a non-number read differently. */
        snprintf(err, errlen, "%s: expected an integer in %ld..%ld, got '%s'%s", name, min, max,
                 q, (parsed || range) ? " (out of range)" : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* Split "host:port" (or "[v6]:port"). */
static int hw__parse_addr(const char *name, const char *v, char *out_host, int *out_port,
                          char *err, size_t errlen)
{
    char q[HW_CONFIG_QUOTE_MAX + 8];
    hw__quote(q, sizeof q, v);
    const char *host = v, *host_end, *port;
    if (*v == '[') {
        host = v + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':')
            goto bad;
        port = host_end + 2;
    } else {
        host_end = strrchr(v, ':');
        if (!host_end)
            goto bad;
        port = host_end + 1;
        /* An unbracketed IPv6 address is ambiguous: refuse it. */
        if (memchr(v, ':', (size_t)(host_end - v)))
            goto bad;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= 256)
        goto bad;
    for (size_t i = 0; i < hlen; i++)
        if (isspace((unsigned char)host[i]) || (unsigned char)host[i] < 0x20)
            goto bad;
    long p = 0;
    int range = 0;
    if (hw__parse_long(port, &p, &range) != 0 || port[0] == '+' || port[0] == '-' || p < 1 ||
        p > 65535) {
        snprintf(err, errlen, "%s: port must be an integer in 1..65535, got '%s'", name, q);
        return -1;
    }
    memcpy(out_host, host, hlen);
    out_host[hlen] = '\0';
    *out_port = (int)p;
    return 0;
bad:
    snprintf(err, errlen, "%s: expected host:port, got '%s'", name, q);
    return -1;
}

int hw_config_get_addr(const char *name, const char *def, char *out_host,
                       int *out_port, char *err, size_t errlen)
{
    const char *v = NULL;
    if (hw_config_get_str(name, def, &v, err, errlen) != 0)
        return -1;
    return hw__parse_addr(name, v, out_host, out_port, err, errlen);
}

const char *hw_config_str(const char *name, const char *def)
{
    const char *v = NULL;
    char err[256];
    if (hw_config_get_str(name, def, &v, err, sizeof err) != 0) {
        hw_error("%s", err);
        exit(2);
    }
    return v;
}

long hw_config_int(const char *name, long def, long min, long max)
{
    long v = 0;
    char err[256];
    if (hw_config_get_int(name, def, min, max, &v, err, sizeof err) != 0) {
        hw_error("%s", err);
        exit(2);
    }
    return v;
}
