/* mailer.c -- the external outbox worker: e-mails to an SMTP relay, with retries. */
#include "mailer.h"

#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hw_config.h"
#include "hw_log.h"
#include "store.h"

#define MAILER_POLL_MS 2000
#define MAILER_BATCH 10
#define MAX_ATTEMPTS 20
#define RETRY_BASE_MS 30000LL
#define RETRY_MAX_MS 3600000LL

struct nt_mailer {
    hw_pg_pool *pool;
    char host[256];
    int port;
    char from[256];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

/* ---- SMTP ---- */

static int smtp_reply(int fd, char *line, size_t n)
{
    /* Read a whole (possibly multi-line) reply; return its code. */
    size_t len = 0;
    for (;;) {
        char c;
        ssize_t got = recv(fd, &c, 1, 0);
        if (got <= 0)
            return -1;
        if (len + 1 < n)
            line[len++] = c;
        if (c == '\n') {
            line[len] = '\0';
            if (len >= 4 && line[3] == '-') { /* continuation */
                len = 0;
                continue;
            }
            return len >= 3 ? atoi(line) : -1;
        }
    }
}

static int smtp_send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int smtp_cmd(int fd, const char *cmd, int want, char *err, size_t errlen)
{
    char line[512];
    if (cmd && smtp_send_all(fd, cmd, strlen(cmd)) != 0) {
        snprintf(err, errlen, "relay connection lost");
        return -1;
    }
    int code = smtp_reply(fd, line, sizeof line);
    if (code / 100 != want / 100) {
        snprintf(err, errlen, "relay answered %d", code);
        return -1;
    }
    return 0;
}

int nt_smtp_send(const char *host, int port, const char *from, const char *to,
                 const char *subject, const char *body, char *err, size_t errlen)
{
    char portstr[16];
    struct addrinfo hints = {0}, *ai = NULL;
    int fd = -1, rc = -1;

    if (strpbrk(to, "\r\n<>") || strpbrk(from, "\r\n<>")) {
        snprintf(err, errlen, "malformed address");
        return -1;
    }
    snprintf(portstr, sizeof portstr, "%d", port);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "relay address not resolved");
        return -1;
    }
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    struct timeval tv = {10, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(err, errlen, "relay not reachable");
        goto out_close;
    }
    char cmd[600];
    if (smtp_cmd(fd, NULL, 220, err, errlen) != 0 ||
        smtp_cmd(fd, "HELO homeward\r\n", 250, err, errlen) != 0)
        goto out_close;
    snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", from);
    if (smtp_cmd(fd, cmd, 250, err, errlen) != 0)
        goto out_close;
    snprintf(cmd, sizeof cmd, "RCPT TO:<%s>\r\n", to);
    if (smtp_cmd(fd, cmd, 250, err, errlen) != 0 || smtp_cmd(fd, "DATA\r\n", 354, err, errlen) != 0)
        goto out_close;
    /* Headers, then the body with CRLF line ends and dot-stuffing. */
    char *msg = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&msg, &len);
    fprintf(mem, "From: <%s>\r\nTo: <%s>\r\nSubject: ", from, to);
    for (const char *s = subject; *s; s++)
        if (*s != '\r' && *s != '\n')
            fputc(*s, mem);
    fprintf(mem, "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    bool line_start = true;
    for (const char *s = body; *s; s++) {
        if (line_start && *s == '.')
            fputc('.', mem);
        if (*s == '\n')
            fputs("\r\n", mem);
        else if (*s != '\r')
            fputc(*s, mem);
        line_start = *s == '\n';
    }
    fputs("\r\n.\r\n", mem);
    fclose(mem);
    int sent = smtp_send_all(fd, msg, len);
    free(msg);
    if (sent != 0) {
        snprintf(err, errlen, "relay connection lost");
        goto out_close;
    }
    if (smtp_cmd(fd, NULL, 250, err, errlen) != 0)
        goto out_close;
    smtp_cmd(fd, "QUIT\r\n", 221, err, errlen);
    rc = 0;

out_close:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

/* ---- the worker ---- */

static int64_t retry_delay(int attempts)
{
    int64_t d = RETRY_BASE_MS;
    for (int i = 0; i < attempts && d < RETRY_MAX_MS; i++)
        d *= 2;
    return d > RETRY_MAX_MS ? RETRY_MAX_MS : d;
}

static int pass(nt_mailer *m)
{
    hw_status st = HW_STATUS_INIT;
    nt_external *rows = NULL;
    int n = -1;

    hw_db *db = hw_pg_acquire(m->pool, 2000, &st);
    if (!db)
        return -1;
    if (hw_db_begin(db, &st) != 0)
        goto out_release;
    n = nt_store_claim_email(db, MAILER_BATCH, &rows, &st);
    for (int i = 0; i < n; i++) {
        char err[256] = "";
        int ok = nt_smtp_send(m->host, m->port, m->from, rows[i].to_address, rows[i].subject_line,
                              rows[i].body, err, sizeof err) == 0;
        if (!ok)
            hw_warn("external message %s: not sent (%s); retried later", rows[i].id, err);
        if (nt_store_email_result(db, rows[i].id, ok, ok ? "" : err, retry_delay(rows[i].attempts),
                                  MAX_ATTEMPTS, &st) != 0)
            break;
    }
    if (n < 0 || !hw_ok(&st) || hw_db_commit(db, &st) != 0) {
        hw_db_rollback(db);
        n = -1;
    }
out_release:
    hw_pg_release(db);
    nt_externals_free(rows, n > 0 ? n : 0);
    return n;
}

static void *mailer_main(void *arg)
{
    nt_mailer *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        pthread_mutex_unlock(&m->lock);
        int n = pass(m);
        pthread_mutex_lock(&m->lock);
        if (n == MAILER_BATCH || m->stopping)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += MAILER_POLL_MS / 1000;
        pthread_cond_timedwait(&m->wake, &m->lock, &ts);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

nt_mailer *nt_mailer_start(hw_pg_pool *pool)
{
    char err[256];
    const char *relay = NULL;
    if (hw_config_get_str("SMTP_RELAY", "", &relay, err, sizeof err) != 0 || !*relay) {
        hw_info("SMTP_RELAY not set: external e-mails are kept pending");
        return NULL;
    }
    nt_mailer *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (hw_config_get_addr("SMTP_RELAY", NULL, m->host, &m->port, err, sizeof err) != 0) {
        hw_error("%s: external e-mails are kept pending", err);
        free(m);
        return NULL;
    }
    snprintf(m->from, sizeof m->from, "%s", hw_config_str("SMTP_FROM", "homeward@localhost"));
    m->pool = pool;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    if (pthread_create(&m->thread, NULL, mailer_main, m) != 0) {
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
    }
    hw_info("external e-mails go to the relay %s:%d", m->host, m->port);
    return m;
}

void nt_mailer_stop(nt_mailer *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m);
}
