/* main.c -- homeward-meetings: scaled intervention, strategy and case review
 * meetings from episode events, deadlines and requests by hand. */
#include "handlers.h"
#include "hw_app.h"
#include "intake.h"

static const hw_app_def app = {
    .name = "meetings",
    .default_listen = "127.0.0.1:50055",
    .service = &meetings_service,
    .on_event = mt_on_event,
    .init = mt_init,
    .fini = mt_fini,
};

int main(int argc, char **argv)
{
    return hw_app_run(&app, argc, argv);
}
