/* main.c -- the episodes service: children, homes, placements and missing episodes. */
#include "handlers.h"
#include "hw_app.h"
#include "reactions.h"
#include "watch.h"

static int episodes_init(hw_app *app)
{
    ep_reactions_register(app);
    ep_watch *w = ep_watch_start(app);
    if (!w) return -1;
    hw_app_set_state(app, w);
    return 0;
}

static void episodes_fini(hw_app *app)
{
    ep_watch_stop(hw_app_state(app));
    hw_app_set_state(app, NULL);
}

static const hw_app_def episodes_app = {
    .name = "episodes",
    .default_listen = "127.0.0.1:50051",
    .service = &ep_service,
    .on_event = ep_on_event,
    .init = episodes_init,
    .fini = episodes_fini,
};

int main(int argc, char **argv)
{
    return hw_app_run(&episodes_app, argc, argv);
}
