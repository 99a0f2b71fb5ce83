/* main.c -- homeward-risk: risk assessments and the protocol's instruments
 * (PROTOCOL R-RISK, R-CAWN-1, R-INT-1, R-CPS-1). Serves homeward.risk.v1.Risk,
 * takes interviews' CSE prompts as events and fires its deadlines. */
#include <stdlib.h>

#include "handlers.h"
#include "homeward/risk/v1/risk.pb-c.h"
#include "hw_app.h"
#include "hw_log.h"

static hw_service_def service;

static int risk_init(hw_app *app)
{
    risk_service *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->app = app;
    char err[256];
    /* Without the episodes service no proposal can be made; the rest of
     * the service still answers, and those calls say UNAVAILABLE. */
    s->episodes = hw_channel_from_env("EPISODES", err, sizeof err);
    if (!s->episodes)
        hw_error("%s", err);
    hw_app_set_state(app, s);
    hw_scheduler *sched = hw_app_scheduler(app);
    hw_scheduler_on(sched, RISK_DEADLINE_LAC_PLAN_DUE, risk_on_deadline, app);
    hw_scheduler_on(sched, RISK_DEADLINE_LAC_PLAN_REVIEW, risk_on_deadline, app);
    hw_scheduler_on(sched, RISK_DEADLINE_CPS_FOLLOWUP, risk_on_deadline, app);
    return 0;
}

static void risk_fini(hw_app *app)
{
    risk_service *s = hw_app_state(app);
    if (!s)
        return;
    hw_channel_destroy(s->episodes);
    free(s);
    hw_app_set_state(app, NULL);
}

int main(int argc, char **argv)
{
    service.desc = &homeward__risk__v1__risk__descriptor;
    service.methods = risk_methods;
    service.n_methods = risk_n_methods;
    const hw_app_def app = {
        .name = "risk",
        .default_listen = "127.0.0.1:50052",
        .service = &service,
        .on_event = risk_on_event,
        .init = risk_init,
        .fini = risk_fini,
    };
    return hw_app_run(&app, argc, argv);
}
