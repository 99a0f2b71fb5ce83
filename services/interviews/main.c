/* main.c -- homeward-interviews: starts, migrates its schema, serves health and
 * shuts down cleanly. Its domain calls come with their own issue. */
#include "homeward/interviews/v1/interviews.pb-c.h"
#include "hw_app.h"

static const hw_service_def service = {
    &homeward__interviews__v1__interviews__descriptor, NULL, 0, NULL,
};

static const hw_app_def app = {
    .name = "interviews",
    .default_listen = "127.0.0.1:50053",
    .service = &service,
};

int main(int argc, char **argv)
{
    return hw_app_run(&app, argc, argv);
}
