/* handlers.h -- the Episodes gRPC service: method table and handlers. */
#ifndef EPISODES_HANDLERS_H
#define EPISODES_HANDLERS_H

#include "hw_app.h"
#include "hw_pg.h"

/* The service definition for hw_app (ctx is set to the hw_app by hw_app_run). */
extern const hw_service_def ep_service;

/* After a commit that wrote events or feed rows: wake the relay and the
 * watch hub now rather than at their next poll. Registered with
 * hw_db_after_commit; arg is the hw_app. */
void ep_after_commit_kick(void *app);

#endif
