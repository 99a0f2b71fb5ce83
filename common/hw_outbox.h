/* hw_outbox.h -- events between services (ARCHITECTURE "Events").
 *
 * A change others must learn of is written to <schema>.outbox in the same
 * transaction as the change (hw_outbox_add). A relay thread delivers each
 * event to every configured subscriber by calling
 * /homeward.events.v1.EventSink/Deliver with a homeward.events.v1.Event,
 * at least once, with exponential backoff, rows claimed with FOR UPDATE
 * SKIP LOCKED so several replicas relay safely.
 *
 * Receivers call hw_inbox_claim in the transaction that applies the event:
 * it records the event id and returns 0 if it was already handled, so a
 * repeat delivery changes nothing. */
#ifndef HW_OUTBOX_H
#define HW_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "hw_pg.h"

/* Event: id is generated (uuid). type "episodes.located"; subject the
 * record id ("episode:<uuid>"); payload_json a JSON object with ids and
 * facts, never names or dates of birth. Returns 0 or -1. If out_id is not
 * NULL it receives the id (37 bytes). */
int hw_outbox_add(hw_db *db, const char *type, const char *subject,
                  const char *payload_json, char *out_id, hw_status *st);

/* Delivery function used by the relay: deliver one event to subscriber
 * `target` (host:port). Return 0 when the receiver acknowledged it. */
typedef int (*hw_deliver_fn)(const char *target, const char *event_id,
                             const char *source, const char *type,
                             const char *subject, int64_t occurred_at_ms,
                             const char *payload_json, void *arg);

typedef struct hw_relay hw_relay;

/* subscribers: comma-separated host:port list (may be empty: events are
 * kept, undelivered, and delivered once a subscriber is configured).
 * source: this service's name. */
hw_relay *hw_relay_start(hw_pg_pool *pool, const char *source,
                         const char *subscribers, hw_deliver_fn fn, void *arg);
/* Wake the relay now (after a commit that added events). */
void hw_relay_kick(hw_relay *r);
void hw_relay_stop(hw_relay *r);

/* Returns 1 if the event is new (and records it), 0 if already handled,
 * -1 on error. Call inside the transaction that applies the event. */
int hw_inbox_claim(hw_db *db, const char *event_id, hw_status *st);

#endif
