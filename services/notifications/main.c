/* main.c -- homeward-notifications: starts, migrates its schema, serves health and
 * shuts down cleanly. Its domain calls come with their own issue. */
#include "homeward/notifications/v1/notifications.pb-c.h"
#include "hw_app.h"

static const hw_service_def service = {
    &homeward__notifications__v1__notifications__descriptor, NULL, 0, NULL,
};

static const hw_app_def app = {
    .name = "notifications",
    .default_listen = "127.0.0.1:50054",
    .service = &service,
};

int main(int argc, char **argv)
{
    return hw_app_run(&app, argc, argv);
}
