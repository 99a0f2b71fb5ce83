/* people.c -- the people and facts of a child, episode and home, from the episodes service. */
#include "people.h"

#include <stdlib.h>
#include <string.h>

#include "hw_log.h"

#define LOOKUP_TIMEOUT_MS 4000

static bool known(const char *s) { return s && *s; }

unsigned nt_fetch_for(unsigned missing, const nt_facts *f)
{
    unsigned what = 0;
    if (missing & (NT_SOCIAL_WORKER | NT_TEAM_MANAGER | NT_IRO | NT_FAMILY))
        what |= NT_FETCH_CHILD;
    if (missing & (NT_ASSIGNED_OFFICER | NT_MPC | NT_CSC_LEAD | NT_HOME_STAFF))
        what |= known(f->episode_id) ? NT_FETCH_EPISODE : NT_FETCH_CHILD;
    if (missing & (NT_SPOC | NT_PLACING_AUTHORITY)) {
        what |= NT_FETCH_HOME;
        if (!known(f->home_id))
            what |= known(f->episode_id) ? NT_FETCH_EPISODE : NT_FETCH_CHILD;
    }
    return what;
}

static int call(nt_service *svc, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp,
                const char *purpose, hw_status *st)
{
    if (!svc->episodes)
        return hw_status_set(st, HW_UNAVAILABLE, "EPISODES_ADDR is not configured");
    char *token = hw_app_service_token(svc->app);
    hw_call_opts opts = {.token = token, .purpose = purpose, .timeout_ms = LOOKUP_TIMEOUT_MS,
                         .idempotent = true};
    int rc = hw_client_unary(svc->episodes, method, req, desc, resp, &opts, st);
    free(token);
    if (rc == 0 && hw_ok(st))
        return 0;
    if (st->code == HW_NOT_FOUND) {
        /* The record is gone: tell whoever else we can rather than retry forever. */
        hw_warn("episodes %s: not found; going on without it", method);
        *st = (hw_status)HW_STATUS_INIT;
        *resp = NULL;
        return 0;
    }
    hw_warn("episodes %s failed: %s %s", method, hw_code_name(st->code), st->message);
    if (hw_ok(st))
        hw_status_set(st, HW_UNAVAILABLE, "episodes lookup failed");
    return -1;
}

int nt_people_fetch(nt_service *svc, unsigned what, const char *child_id,
                    const char *episode_id, const char *home_id, const char *purpose,
                    nt_people *out, hw_status *st)
{
    ProtobufCMessage *resp = NULL;

    if ((what & NT_FETCH_EPISODE) && known(episode_id) && !out->episode) {
        Homeward__Episodes__V1__GetEpisodeRequest req = HOMEWARD__EPISODES__V1__GET_EPISODE_REQUEST__INIT;
        req.episode_id = (char *)episode_id;
        if (call(svc, "/homeward.episodes.v1.Episodes/GetEpisode", &req.base,
                 &homeward__episodes__v1__get_episode_response__descriptor, &resp, purpose, st) != 0)
            return -1;
        out->episode = (Homeward__Episodes__V1__GetEpisodeResponse *)resp;
        const Homeward__Episodes__V1__Episode *e = out->episode ? out->episode->episode : NULL;
        if (e && !known(child_id))
            child_id = e->child_id;
        if (e && !known(home_id))
            home_id = e->home_id;
    }
    if ((what & NT_FETCH_CHILD) && known(child_id) && !out->child) {
        Homeward__Episodes__V1__GetChildRequest req = HOMEWARD__EPISODES__V1__GET_CHILD_REQUEST__INIT;
        req.child_id = (char *)child_id;
        resp = NULL;
        if (call(svc, "/homeward.episodes.v1.Episodes/GetChild", &req.base,
                 &homeward__episodes__v1__child__descriptor, &resp, purpose, st) != 0)
            return -1;
        out->child = (Homeward__Episodes__V1__Child *)resp;
        if (out->child && !known(home_id) && out->child->current_placement)
            home_id = out->child->current_placement->home_id;
    }
    if ((what & NT_FETCH_HOME) && known(home_id) && !out->roster) {
        Homeward__Episodes__V1__GetHomeRosterRequest req =
            HOMEWARD__EPISODES__V1__GET_HOME_ROSTER_REQUEST__INIT;
        req.home_id = (char *)home_id;
        resp = NULL;
        if (call(svc, "/homeward.episodes.v1.Episodes/GetHomeRoster", &req.base,
                 &homeward__episodes__v1__get_home_roster_response__descriptor, &resp, purpose,
                 st) != 0)
            return -1;
        out->roster = (Homeward__Episodes__V1__GetHomeRosterResponse *)resp;
        if (out->roster && out->roster->n_homes > 0)
            out->home = out->roster->homes[0]->home;
    }
    return 0;
}

void nt_people_free(nt_people *p)
{
    if (p->child)
        protobuf_c_message_free_unpacked(&p->child->base, NULL);
    if (p->episode)
        protobuf_c_message_free_unpacked(&p->episode->base, NULL);
    if (p->roster)
        protobuf_c_message_free_unpacked(&p->roster->base, NULL);
    memset(p, 0, sizeof *p);
}

static const char *user_of(const Homeward__Episodes__V1__Professional *p)
{
    return p && p->user_id ? p->user_id : "";
}

void nt_people_complete(const nt_people *p, nt_facts *f)
{
    const Homeward__Episodes__V1__Episode *e = p->episode ? p->episode->episode : NULL;
    const Homeward__Episodes__V1__Child *c = p->child;
    const Homeward__Episodes__V1__Home *h = p->home;

    if (e) {
        if (!known(f->child_id)) f->child_id = e->child_id;
        if (!known(f->home_id)) f->home_id = e->home_id;
        if (!f->assigned_officer) f->assigned_officer = e->assigned_officer_id ? e->assigned_officer_id : "";
        if (!known(f->force)) f->force = e->force;
        if (!known(f->responsible_authority)) f->responsible_authority = e->responsible_authority;
        if (!known(f->placing_authority)) f->placing_authority = e->placing_authority;
    }
    if (c) {
        if (!known(f->child_id)) f->child_id = c->id;
        if (!f->social_worker) f->social_worker = user_of(c->social_worker);
        if (!f->team_manager) f->team_manager = user_of(c->team_manager);
        if (!f->iro) f->iro = user_of(c->iro);
        if (!known(f->responsible_authority)) f->responsible_authority = c->responsible_authority;
        if (!known(f->home_id) && c->current_placement) f->home_id = c->current_placement->home_id;
        if (!known(f->placing_authority) && c->current_placement)
            f->placing_authority = c->current_placement->placing_authority;
        f->looked_after = f->looked_after || c->looked_after;
        if (!f->contacts_known) {
            f->n_contacts = 0;
            for (size_t i = 0; i < c->n_family_contacts && f->n_contacts < NT_MAX_CONTACTS; i++) {
                const Homeward__Episodes__V1__FamilyContact *fc = c->family_contacts[i];
                f->contacts[f->n_contacts++] =
                    (nt_contact){fc->name, fc->relationship, fc->phone, fc->do_not_notify};
            }
            f->contacts_known = true;
        }
    }
    if (h) {
        if (!known(f->host_authority)) f->host_authority = h->host_authority;
        if (!known(f->force)) f->force = h->force;
        if (!f->spocs_known) {
            f->n_spocs = 0;
            for (size_t i = 0; i < h->n_spoc_officers && f->n_spocs < NT_MAX_IDS; i++)
                if (known(user_of(h->spoc_officers[i])))
                    f->spocs[f->n_spocs++] = h->spoc_officers[i]->user_id;
            f->spocs_known = true;
        }
    }
    /* Looked up and still unknown: known to be nobody, not asked again. */
    if (c || e) {
        if (!f->assigned_officer && e) f->assigned_officer = "";
    }
}
