/* watch.h -- WatchEpisodes: one hub thread feeding every open stream from
 * the change feed (R-EPI-6).
 *
 * Streams are kept with hw_stream_ref and released in their on_close
 * callback; no stream holds a thread. The hub polls the `changes` table
 * (and is kicked after local commits), and sends each stream the changes
 * after its cursor that its caller may see (R-SEC-1). A client that
 * reconnects with the last cursor it received gets every later change
 * exactly once. */
#ifndef EPISODES_WATCH_H
#define EPISODES_WATCH_H

#include "hw_app.h"

typedef struct ep_watch ep_watch;

ep_watch *ep_watch_start(hw_app *app);
/* Wake the hub (after a commit that wrote to the feed). NULL is ignored. */
void ep_watch_kick(ep_watch *w);
/* Stop the hub thread and drop any stream still registered. */
void ep_watch_stop(ep_watch *w);

/* The WatchEpisodes stream handler (svc_ctx is the hw_app). */
void ep_watch_episodes(hw_stream *stream, const ProtobufCMessage *req, hw_status *st,
                       void *svc_ctx);

#endif
