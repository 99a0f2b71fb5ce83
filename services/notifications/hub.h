/* hub.h -- the live push: every open Subscribe stream, indexed by the
 * addresses its person answers to, fed by one thread that reads new
 * notifications in id order.
 *
 * No thread per stream: a stream costs a small struct and a few index
 * entries, so thousands of idle streams are cheap. The hub thread wakes
 * when this process commits a notification (nt_hub_kick, from an
 * after-commit hook) and also polls every poll_ms so notifications
 * committed by other replicas arrive too. Ids become visible in id order
 * (store.c serialises writers), so "id > last read" never skips one.
 *
 * A stream resumed with after_id first gets, in order, every notification
 * addressed to it with after_id < id <= the hub's position at registration,
 * then the hub's pushes: nothing missed, nothing twice. Thread-safe. */
#ifndef NT_HUB_H
#define NT_HUB_H

#include <stdint.h>

#include "hw_pg.h"
#include "hw_server.h"

typedef struct nt_hub nt_hub;

/* Reads the current highest id (so a new stream starts from now), then
 * starts the thread. NULL on failure. */
nt_hub *nt_hub_start(hw_pg_pool *pool, int poll_ms);
/* Wake the hub now (safe from any thread; arg is the hub). */
void nt_hub_kick(void *hub);
/* Stop the thread. Call after the server has ended every stream. */
void nt_hub_stop(nt_hub *hub);

/* The Subscribe handler's work: register the stream for the caller's
 * addresses, send `started`, replay from after_id, keep it open. On
 * failure st is set and the stream is not kept. */
void nt_hub_subscribe(nt_hub *hub, hw_stream *stream, int64_t after_id, hw_status *st);

/* Streams open now (for logs and the benchmark). */
int nt_hub_stream_count(nt_hub *hub);

#endif
