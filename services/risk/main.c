/* main.c -- homeward-risk: starts, migrates its schema, serves health and
 * shuts down cleanly. Its domain calls come with their own issue. */
#include "homeward/risk/v1/risk.pb-c.h"
#include "hw_app.h"

static const hw_service_def service = {
    &homeward__risk__v1__risk__descriptor, NULL, 0, NULL,
};

static const hw_app_def app = {
    .name = "risk",
    .default_listen = "127.0.0.1:50052",
    .service = &service,
};

int main(int argc, char **argv)
{
    return hw_app_run(&app, argc, argv);
}
