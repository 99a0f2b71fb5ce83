/* recipients.h -- who must hear of each event: the protocol's notification
 * rules as data plus small pure functions (no I/O, no allocation).
 *
 * Rules (PROTOCOL.md): R-EPI-6 a new or changed episode reaches the assigned
 * officer, the SPOC of the child's home and the social worker; R-NOT-1 when
 * a child is found everyone informed is told, except family contacts marked
 * "do not notify"; R-NOT-2 the 07:00 daily alert goes to pod coordinators,
 * managers and the CSE social worker; R-NOT-3 / R-ESC-3 letters to a placing
 * authority; R-NOT-4 Regulation 41 overdue; R-NOT-5 the missing alert;
 * R-NOT-6 abduction notice served; R-NOT-7 return interview completed;
 * R-LONG-1 the 48-hour line-manager alert.
 *
 * Addresses: "user:<subject>" (a person by their token subject),
 * "role:<role>@<organisation>" (everyone holding a role in a force or
 * authority), "home-staff:<home id>" (care staff of a home). Strings in
 * nt_facts are borrowed: the caller keeps them alive while it uses the
 * results. Thread-safe (no shared state). */
#ifndef NT_RECIPIENTS_H
#define NT_RECIPIENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "hw_auth.h"

#define NT_MAX_IDS 16
#define NT_MAX_CONTACTS 16
#define NT_MAX_RECIPIENTS 48
#define NT_ADDRESS_MAX 200

typedef struct nt_contact {
    const char *name;
    const char *relationship;
    const char *phone;
    bool do_not_notify;          /* R-NOT-1: telling them could put the child at risk */
} nt_contact;

/* What is known about an event: its payload, completed (where a rule needs
 * it) from the episodes service. NULL or "" means unknown / none. */
typedef struct nt_facts {
    const char *episode_id, *child_id, *home_id, *placement_id;
    const char *interview_id, *meeting_id, *action_id;
    const char *status;                 /* episode status, "missing" */
    const char *force;                  /* the episode's police force */
    const char *responsible_authority;
    const char *placing_authority;
    const char *host_authority;         /* the authority the home is in */
    const char *assigned_officer;
    const char *social_worker, *team_manager, *iro;
    const char *owner, *chair;          /* a meeting action's owner, the meeting's chair */
    const char *spocs[NT_MAX_IDS];
    int n_spocs;
    bool spocs_known;                   /* the home's SPOC list was given (maybe empty) */
    nt_contact contacts[NT_MAX_CONTACTS];
    int n_contacts;
    bool contacts_known;                /* the child's family contacts were read */
    bool looked_after;
} nt_facts;

/* Who a rule tells (bits of nt_rule.who). */
enum nt_who {
    NT_ASSIGNED_OFFICER = 1u << 0,
    NT_SPOC = 1u << 1,
    NT_SOCIAL_WORKER = 1u << 2,
    NT_TEAM_MANAGER = 1u << 3,          /* the social worker's line manager */
    NT_IRO = 1u << 4,
    NT_HOME_STAFF = 1u << 5,
    NT_FAMILY = 1u << 6,                /* external: family contacts, R-NOT-1 */
    NT_POD_COORDINATORS = 1u << 7,      /* role, responsible authority */
    NT_LA_MANAGERS = 1u << 8,           /* team managers and CSC lead, responsible authority */
    NT_CSE_SOCIAL_WORKER = 1u << 9,     /* role, responsible authority */
    NT_CSC_LEAD = 1u << 10,             /* role, responsible authority */
    NT_MPC = 1u << 11,                  /* missing person coordinator / champion, the force */
    NT_SUPERVISORS = 1u << 12,          /* LPT sergeants and control room managers, the force */
    NT_ACTION_OWNER = 1u << 13,
    NT_CHAIR = 1u << 14,
    NT_PLACING_AUTHORITY = 1u << 15,    /* CSC lead of the placing authority */
};

enum nt_letter_kind {
    NT_LETTER_NONE = 0,
    NT_LETTER_OTHER_AUTHORITY = 1,      /* R-NOT-3, only for a child placed by another authority */
    NT_LETTER_LEVEL3 = 2,               /* R-ESC-3 */
    NT_LETTER_MISSING_ALERT = 3,        /* R-NOT-5 */
};

typedef struct nt_rule {
    const char *event_type;             /* "episodes.reported" */
    const char *kind;                   /* notification kind, "episode_reported" */
    const char *rule;                   /* "R-EPI-6" */
    bool urgent;
    unsigned who;                       /* nt_who bits */
    const char *title;                  /* never a child's name */
    enum nt_letter_kind letter;
} nt_rule;

/* The rule for an event type, or NULL when nobody is told of it. */
const nt_rule *nt_rule_for(const char *event_type);

typedef struct nt_recipient {
    char address[NT_ADDRESS_MAX];
    const char *reason;                 /* static string: "spoc", "social_worker", ... */
} nt_recipient;

typedef struct nt_recipients {
    int n;
    nt_recipient r[NT_MAX_RECIPIENTS];
    int n_family;                       /* family contacts to tell (indexes into facts) */
    int family[NT_MAX_CONTACTS];
    int n_family_withheld;              /* marked "do not notify": not told (R-NOT-1) */
} nt_recipients;

/* Which people a rule needs that are not yet known in f: nt_who bits the
 * caller should look up (a person's id, SPOCs, contacts, organisations). */
unsigned nt_missing_facts(const nt_rule *rule, const nt_facts *f);

/* The recipients of rule for f, without duplicates (the first reason
 * wins), in a stable order. Returns the number of in-app recipients. */
int nt_resolve(const nt_rule *rule, const nt_facts *f, nt_recipients *out);

/* Add one address (no-op if already there or full). Returns 0, -1 if full. */
int nt_add(nt_recipients *out, const char *address, const char *reason);
void nt_user_address(char out[NT_ADDRESS_MAX], const char *subject);
void nt_role_address(char out[NT_ADDRESS_MAX], const char *role, const char *org);
void nt_home_address(char out[NT_ADDRESS_MAX], const char *home_id);

/* Every address a signed-in person answers to: their subject, each role in
 * their organisation, and for care staff each of their homes. Returns the
 * number written (at most max). */
int nt_principal_addresses(const hw_principal *p, char (*out)[NT_ADDRESS_MAX], int max);

/* R-NOT-3: a looked-after child placed in a home by an authority other
 * than the one the home is in. */
bool nt_placed_by_other_authority(const nt_facts *f);
/* The authority a placing-authority letter goes to (placing, else responsible). */
const char *nt_placing_authority(const nt_facts *f);

/* R-NOT-2: the daily alert's recipients for one authority. */
void nt_daily_alert_recipients(const char *authority, nt_recipients *out);
/* The daily alert is due at 07:00 Europe/London: the next such instant
 * strictly after now_ms, and the local date (YYYY-MM-DD) it belongs to. */
int64_t nt_daily_alert_next(int64_t now_ms, char date_out[11]);

/* R-NOT-5: may a missing alert be raised? ground: 1 high-risk CSE, 2
 * high-risk trafficking, 3 unaccompanied asylum seeker. The child must be
 * missing now (status "reported" or "missing"), for at least
 * NT_ALERT_MIN_DAYS days; CSE and trafficking grounds need a high risk
 * level. Returns 0 and *days, or -1 with *field and *why set. */
#define NT_ALERT_MIN_DAYS 3
int nt_missing_alert_allowed(const char *status, const char *risk_level, int ground,
                             int64_t missing_since_ms, int64_t now_ms, int *days,
                             const char **field, const char **why);

#endif
