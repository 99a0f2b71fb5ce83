/* handlers.h -- the Meetings gRPC service (homeward.meetings.v1.Meetings). */
#ifndef MEETINGS_HANDLERS_H
#define MEETINGS_HANDLERS_H

#include "hw_server.h"

/* The method table; ctx is set to the hw_app by hw_app_run. */
extern const hw_service_def meetings_service;

#endif
