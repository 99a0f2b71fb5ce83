/* people.h -- the people and facts of a child, episode and home, asked of
 * the episodes service (the only owner of those records).
 *
 * Calls use this service's own identity (role "service"), a stated
 * purpose and a bounded timeout. A failure other than NOT_FOUND returns -1
 * with st set, so the event is rolled back and its sender retries. The
 * fetched messages are owned by nt_people (nt_people_free). */
#ifndef NT_PEOPLE_H
#define NT_PEOPLE_H

#include "homeward/episodes/v1/episodes.pb-c.h"
#include "recipients.h"
#include "service.h"

enum nt_fetch {
    NT_FETCH_CHILD = 1,
    NT_FETCH_EPISODE = 2,
    NT_FETCH_HOME = 4,
};

typedef struct nt_people {
    Homeward__Episodes__V1__Child *child;                   /* NULL if not fetched / not found */
    Homeward__Episodes__V1__GetEpisodeResponse *episode;
    Homeward__Episodes__V1__GetHomeRosterResponse *roster;
    const Homeward__Episodes__V1__Home *home;               /* inside roster */
} nt_people;

/* Which lookups the missing people (nt_missing_facts bits) call for. */
unsigned nt_fetch_for(unsigned missing, const nt_facts *f);

/* Fetch in order episode, child, home (the episode gives the child and home
 * ids when the event did not). */
int nt_people_fetch(nt_service *svc, unsigned what, const char *child_id,
                    const char *episode_id, const char *home_id, const char *purpose,
                    nt_people *out, hw_status *st);
void nt_people_free(nt_people *p);

/* Fill what f does not know yet from what was fetched (borrowing strings
 * from p: keep p alive while f is used). */
void nt_people_complete(const nt_people *p, nt_facts *f);

#endif
