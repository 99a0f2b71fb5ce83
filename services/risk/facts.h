/* facts.h -- what the risk service learns from the episodes service about a
 * child and an episode, fetched over gRPC for each call.
 *
 * Calls carry the caller's own bearer token and stated reason, with the
 * handler's call as parent (deadline and cancellation propagate). Relaying
 * the caller's identity keeps authorisation where the records live: the
 * episodes service decides per record whether this person may see this
 * child or episode (R-SEC-1), its audit names the person, not a service,
 * and the special-category groups a police assessor needs (CSE, R-RISK-10)
 * are returned to them -- the service identity is given none of them.
 * Its status (NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE...) is passed on.
 *
 * Thread-safe: the channel is shared; results are copied into the structs. */
#ifndef RISK_FACTS_H
#define RISK_FACTS_H

#include <stdbool.h>

#include "hw_client.h"
#include "hw_server.h"
#include "hw_status.h"
#include "hw_time.h"

typedef struct risk_child_facts {
    char child_id[64];
    bool dob_known;
    hw_date dob;
    bool looked_after;
    char responsible_authority[64];
    bool cse_concern;       /* Child.cse.concern (special category) */
    bool trafficking_concern; /* Child.cse.trafficking_concern (same group) */
    bool cse_withheld;      /* the caller may not see the CSE group */
} risk_child_facts;

typedef struct risk_episode_facts {
    char episode_id[64];
    char child_id[64];
    int status;             /* homeward.episodes.v1.EpisodeStatus */
    bool missing;           /* whereabouts unknown (not absent, R-DEF-2) */
    bool closed;
    char profile[16];       /* host area's protocol: "STAFFS" | "LLR" */
    char force[64];
    char responsible_authority[64];
} risk_episode_facts;

/* field: the request field named in a violation if the id is refused. */
int risk_fetch_child(hw_channel *episodes, hw_call *call, const char *child_id,
                     const char *field, risk_child_facts *out, hw_status *st);
int risk_fetch_episode(hw_channel *episodes, hw_call *call, const char *episode_id,
                       const char *field, risk_episode_facts *out, hw_status *st);

#endif
