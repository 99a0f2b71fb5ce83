/* mailer.h -- the external outbox worker: e-mails to a relay, with retries.
 *
 * Started only when SMTP_RELAY (host:port) is configured; without it the
 * rows stay "pending" and are never dropped (the local stack has no mail
 * server). SMTP_FROM gives the sender (default homeward@localhost). Rows are
 * claimed with FOR UPDATE SKIP LOCKED, so replicas share the work; a kill
 * mid-send leaves the row pending and it is sent again (at least once). */
#ifndef NT_MAILER_H
#define NT_MAILER_H

#include "hw_pg.h"
#include "service.h"

/* NULL (and nothing started) when SMTP_RELAY is unset or malformed. */
nt_mailer *nt_mailer_start(hw_pg_pool *pool);
void nt_mailer_stop(nt_mailer *m);

/* One SMTP conversation (exposed for tests): 0 sent, -1 with err. */
int nt_smtp_send(const char *host, int port, const char *from, const char *to,
                 const char *subject, const char *body, char *err, size_t errlen);

#endif
