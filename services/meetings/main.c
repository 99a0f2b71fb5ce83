/* main.c -- homeward-meetings: starts, migrates its schema, serves health and
 * shuts down cleanly. Its domain calls come with their own issue. */
#include "homeward/meetings/v1/meetings.pb-c.h"
#include "hw_app.h"

static const hw_service_def service = {
    &homeward__meetings__v1__meetings__descriptor, NULL, 0, NULL,
};

static const hw_app_def app = {
    .name = "meetings",
    .default_listen = "127.0.0.1:50055",
    .service = &service,
};

int main(int argc, char **argv)
{
    return hw_app_run(&app, argc, argv);
}
