/* service.h -- the notifications service's shared state (hw_app_state). */
#ifndef NT_SERVICE_H
#define NT_SERVICE_H

#include "hub.h"
#include "hw_app.h"
#include "hw_client.h"

typedef struct nt_mailer nt_mailer;

typedef struct nt_service {
    hw_app *app;
    nt_hub *hub;
    nt_mailer *mailer;          /* NULL when SMTP_RELAY is not configured */
    hw_channel *episodes;       /* EPISODES_ADDR; NULL if unset (lookups then fail: retried) */
} nt_service;

#endif
