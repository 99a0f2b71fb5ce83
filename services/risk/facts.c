/* facts.c -- the child and episode facts a proposal needs, from the
 * episodes service (see facts.h for whose token and why). */
#include "facts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "rules.h"

/* The caller's token, without "Bearer ". */
static const char *caller_token(hw_call *call)
{
    const char *auth = hw_call_metadata(call, "authorization");
    if (!auth)
        return NULL;
    if (strncasecmp(auth, "Bearer ", 7) == 0)
        return auth + 7;
    return auth;
}

/* A peer's refusal of the id becomes a field violation of our request;
 * everything else is passed on as it came. */
static int pass_on(hw_status *st, const char *field, const char *what)
{
    if (st->code == HW_INVALID_ARGUMENT) {
        hw_status tmp = HW_STATUS_INIT;
        hw_status_violation(&tmp, field, "not a valid %s id", what);
        *st = tmp;
    } else if (st->code == HW_NOT_FOUND) {
        snprintf(st->message, sizeof st->message, "no such %s", what);
    } else if (st->code == HW_UNAUTHENTICATED) {
        /* Our caller was authenticated by us; if the peer disagrees the
         * deployment's keys are out of step: not the caller's fault. */
        hw_status_set(st, HW_UNAVAILABLE, "the episodes service refused the credentials");
    }
    return -1;
}

int risk_fetch_child(hw_channel *episodes, hw_call *call, const char *child_id,
                     const char *field, risk_child_facts *out, hw_status *st)
{
    memset(out, 0, sizeof *out);
    if (!episodes)
        return hw_status_set(st, HW_UNAVAILABLE, "the episodes service is not configured");
    Homeward__Episodes__V1__GetChildRequest req = HOMEWARD__EPISODES__V1__GET_CHILD_REQUEST__INIT;
    req.child_id = (char *)child_id;
    hw_call_opts opts = {.token = caller_token(call), .purpose = hw_call_purpose(call),
                         .idempotent = true, .parent = call};
    ProtobufCMessage *resp = NULL;
    if (hw_client_unary(episodes, "/homeward.episodes.v1.Episodes/GetChild", &req.base,
                        &homeward__episodes__v1__child__descriptor, &resp, &opts, st) != 0)
        return pass_on(st, field, "child");
    Homeward__Episodes__V1__Child *c = (Homeward__Episodes__V1__Child *)resp;
    snprintf(out->child_id, sizeof out->child_id, "%s", c->id ? c->id : child_id);
    out->dob_known = c->date_of_birth && risk_parse_date(c->date_of_birth, &out->dob) == 0;
    out->looked_after = c->looked_after;
    snprintf(out->responsible_authority, sizeof out->responsible_authority, "%s",
             c->responsible_authority ? c->responsible_authority : "");
    out->cse_concern = c->cse && c->cse->concern;
    out->trafficking_concern = c->cse && c->cse->trafficking_concern;
    for (size_t i = 0; i < c->n_withheld; i++)
        if (c->withheld[i] && strcmp(c->withheld[i], "cse") == 0)
            out->cse_withheld = true;
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}

int risk_fetch_episode(hw_channel *episodes, hw_call *call, const char *episode_id,
                       const char *field, risk_episode_facts *out, hw_status *st)
{
    memset(out, 0, sizeof *out);
    if (!episodes)
        return hw_status_set(st, HW_UNAVAILABLE, "the episodes service is not configured");
    Homeward__Episodes__V1__GetEpisodeRequest req =
        HOMEWARD__EPISODES__V1__GET_EPISODE_REQUEST__INIT;
    req.episode_id = (char *)episode_id;
    hw_call_opts opts = {.token = caller_token(call), .purpose = hw_call_purpose(call),
                         .idempotent = true, .parent = call};
    ProtobufCMessage *resp = NULL;
    if (hw_client_unary(episodes, "/homeward.episodes.v1.Episodes/GetEpisode", &req.base,
                        &homeward__episodes__v1__get_episode_response__descriptor, &resp, &opts,
                        st) != 0)
        return pass_on(st, field, "episode");
    Homeward__Episodes__V1__GetEpisodeResponse *r =
        (Homeward__Episodes__V1__GetEpisodeResponse *)resp;
    const Homeward__Episodes__V1__Episode *e = r->episode;
    if (!e || !e->child_id || !*e->child_id) {
        protobuf_c_message_free_unpacked(resp, NULL);
        return hw_status_set(st, HW_INTERNAL, "the episodes service returned no episode");
    }
    snprintf(out->episode_id, sizeof out->episode_id, "%s", e->id ? e->id : episode_id);
    snprintf(out->child_id, sizeof out->child_id, "%s", e->child_id);
    out->status = (int)e->status;
    /* Absent (whereabouts known) is the only state that is not "missing"
     * for grading; a 12-year-old is never merely absent (R-RISK-2). */
    out->missing = e->status != HOMEWARD__EPISODES__V1__EPISODE_STATUS__EPISODE_STATUS_ABSENT &&
                   e->classification !=
                       HOMEWARD__EPISODES__V1__CLASSIFICATION__CLASSIFICATION_AWAY_FROM_PLACEMENT;
    out->closed = e->status == HOMEWARD__EPISODES__V1__EPISODE_STATUS__EPISODE_STATUS_CLOSED;
    snprintf(out->profile, sizeof out->profile, "%s",
             e->profile && *e->profile ? e->profile : "STAFFS");
    snprintf(out->force, sizeof out->force, "%s", e->force ? e->force : "");
    snprintf(out->responsible_authority, sizeof out->responsible_authority, "%s",
             e->responsible_authority ? e->responsible_authority : "");
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
}
