/* main.c -- homeward-interviews: prevention interviews and return home interviews. */
#include "handlers.h"
#include "hw_app.h"

static const hw_app_def app = {
    .name = "interviews",
    .default_listen = "127.0.0.1:50053",
    .service = &interviews_service,
    .on_event = interviews_on_event,
    .init = interviews_init,
};

int main(int argc, char **argv)
{
    return hw_app_run(&app, argc, argv);
}
