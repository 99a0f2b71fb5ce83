/* handlers.h -- the Notifications gRPC service table (ctx is the hw_app;
 * the nt_service is its state). */
#ifndef NT_HANDLERS_H
#define NT_HANDLERS_H

#include "hw_server.h"

extern const hw_service_def nt_service_def;

#endif
