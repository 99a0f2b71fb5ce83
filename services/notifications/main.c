/* main.c -- homeward-notifications: who is told what, live and in an inbox. */
#include <stdlib.h>

#include "events.h"
#include "handlers.h"
#include "hw_app.h"
#include "hw_config.h"
#include "hw_log.h"
#include "mailer.h"
#include "service.h"

static int notifications_init(hw_app *app)
{
    char err[256];
    hw_status st = HW_STATUS_INIT;
    nt_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return -1;
    svc->app = app;
    svc->episodes = hw_channel_from_env("EPISODES", err, sizeof err);
    if (!svc->episodes)
        hw_warn("%s: recipients not named in an event cannot be looked up (events are retried)", err);
    /* Poll as well as wake on our own commits: other replicas' notifications. */
    svc->hub = nt_hub_start(hw_app_pool(app), (int)hw_config_int("NOTIFY_POLL_MS", 500, 20, 10000));
    if (!svc->hub)
        goto out_channel;
    hw_app_set_state(app, svc);
    nt_daily_register(svc);
    if (nt_daily_ensure(svc, &st) != 0) {
        hw_error("cannot schedule the daily alert: %s", st.message);
        goto out_hub;
    }
    svc->mailer = nt_mailer_start(hw_app_pool(app));
    return 0;

out_hub:
    nt_hub_stop(svc->hub);
    hw_app_set_state(app, NULL);
out_channel:
    hw_channel_destroy(svc->episodes);
    free(svc);
    return -1;
}

static void notifications_fini(hw_app *app)
{
    nt_service *svc = hw_app_state(app);
    if (!svc)
        return;
    nt_mailer_stop(svc->mailer);
    nt_hub_stop(svc->hub);
    hw_channel_destroy(svc->episodes);
    free(svc);
    hw_app_set_state(app, NULL);
}

static const hw_app_def notifications_app = {
    .name = "notifications",
    .default_listen = "127.0.0.1:50054",
    .service = &nt_service_def,
    .on_event = nt_on_event,
    .init = notifications_init,
    .fini = notifications_fini,
};

int main(int argc, char **argv)
{
    return hw_app_run(&notifications_app, argc, argv);
}
