/* store.h -- the interviews schema: every SQL statement of the service, all
 * parameterised, all through hw_db_exec, inside the caller's transaction.
 *
 * Instants are Unix ms; in SQL they are converted exactly
 * ('epoch' + n * 1 ms), never through floating point.
 * A store_interview owns its blobs: release with store_interview_clear. */
#ifndef INTERVIEWS_STORE_H
#define INTERVIEWS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw_pg.h"
#include "rules.h"

#define STORE_ID_MAX 128

typedef struct store_interview {
    char id[37];
    enum rules_kind kind;
    char state[16];                  /* due | draft | submitted | declined */
    char episode_id[STORE_ID_MAX];
    char child_id[STORE_ID_MAX];
    char home_id[STORE_ID_MAX];
    char responsible_authority[STORE_ID_MAX];
    char force[STORE_ID_MAX];
    char profile[16];
    char placement_type[STORE_ID_MAX];
    char assignee[STORE_ID_MAX];
    char conducted_by[STORE_ID_MAX];
    char conducted_by_role[48];
    int64_t located_at_ms, due_at_ms, offered_at_ms, started_at_ms, submitted_at_ms,
        declined_at_ms, draft_saved_at_ms, overdue_at_ms;
    bool within_72h_known, within_72h;
    int draft_version;
    int no_contact_attempts;
    bool cse_prompted;
    char *decline_reason;            /* malloc'd or NULL */
    char *disclosures;               /* comma-separated codes, malloc'd or NULL */
    unsigned char *draft;            /* packed form, malloc'd or NULL */
    size_t draft_len;
    unsigned char *form;
    size_t form_len;
} store_interview;

void store_interview_clear(store_interview *iv);
/* The facts access is decided on (pointers into iv). */
rules_interview store_rules_view(const store_interview *iv);
bool store_is_open(const store_interview *iv);   /* due or draft */

/* What the episodes.located event tells us. */
typedef struct store_located {
    const char *episode_id, *child_id, *home_id, *responsible_authority, *force;
    const char *assigned_officer, *profile, *placement_type;
    int64_t located_at_ms;
} store_located;

/* Create the expected prevention and return interviews of an episode. Ids
 * of rows created now are written to prevention_id / return_id (37 bytes);
 * an interview that already existed leaves its buffer "" (a re-delivered or
 * repeated located event changes nothing). 0 or -1. */
int store_create_expected(hw_db *db, const store_located *l, int64_t return_due_ms,
                          char *prevention_id, char *return_id, hw_status *st);

/* Load one interview (FOR UPDATE if lock). NOT_FOUND if there is none. */
int store_load(hw_db *db, const char *id, bool lock, store_interview *out, hw_status *st);

/* Open interviews for ListDue, in due order; each row decodes with
 * store_interview_from_row. by: "assignee" (key = sub), "homes" (key = a
 * Postgres array literal of home ids) or "org" (key = force or authority).
 * kind: "" for both. */
hw_res *store_list_open(hw_db *db, const char *by, const char *key, const char *kind, int limit,
                        hw_status *st);
int store_interview_from_row(const hw_res *r, int row, store_interview *out);

/* Start (state due -> draft; assignee if none; return: offered). */
int store_start(hw_db *db, const char *id, const char *sub, hw_status *st);
int store_save_draft(hw_db *db, const char *id, const unsigned char *packed, size_t len,
                     const char *sub, hw_status *st);

typedef struct store_submission {
    const unsigned char *form;
    size_t form_len;
    int64_t interview_at_ms;
    int within_72h;                  /* -1: not applicable (prevention), 0/1 */
    const char *const *lateness_codes;
    size_t n_lateness_codes;
    const char *lateness_note;
    const char *conducted_by, *conducted_by_role, *conducted_by_org;
    const char *const *disclosures;
    size_t n_disclosures;
    bool cse_prompted;
} store_submission;
int store_submit(hw_db *db, const char *id, const store_submission *s, hw_status *st);

int store_decline(hw_db *db, const char *id, int64_t at_ms, const char *reason, const char *sub,
                  hw_status *st);
int store_add_contact_attempt(hw_db *db, const char *id, int64_t at_ms, const char *method,
                              const char *note, const char *sub, hw_status *st);
/* Attempts in order: columns attempted_at_ms, method, note, recorded_by. */
hw_res *store_contact_attempts(hw_db *db, const char *id, hw_status *st);

typedef struct store_consent {
    bool present;
    char *shared_with, *when_shared, *why_shared, *notes, *recorded_by; /* malloc'd */
    int64_t told_at_ms, recorded_at_ms;
    bool consent_given;
} store_consent;
void store_consent_clear(store_consent *c);
int store_add_consent(hw_db *db, const char *id, const char *shared_with, const char *when_shared,
                      const char *why_shared, int64_t told_at_ms, bool given, const char *notes,
                      const char *sub, const char *role, hw_status *st);
int store_latest_consent(hw_db *db, const char *id, store_consent *out, hw_status *st);

typedef struct store_sharing {
    bool present;
    char *reason, *shared_with, *decided_by; /* malloc'd */
    int64_t decided_at_ms;
} store_sharing;
void store_sharing_clear(store_sharing *s);
int store_add_sharing(hw_db *db, const char *id, const char *reason, const char *shared_with,
                      const char *sub, const char *role, hw_status *st);
int store_latest_sharing(hw_db *db, const char *id, store_sharing *out, hw_status *st);

/* The return deadline fell due: mark overdue if still open. Returns 1 and
 * fills out if it was open, 0 if done already, -1 on error. */
int store_mark_overdue(hw_db *db, const char *id, store_interview *out, hw_status *st);

typedef struct store_report {
    int located, offered, accepted, completed, completed_within_72h, declined, overdue_open,
        no_contact_attempts, late_note_only;
} store_report;
/* Return interviews of authority located in [from, to); now for "overdue". */
int store_timeliness(hw_db *db, const char *authority, int64_t from_ms, int64_t to_ms, int64_t now_ms,
                     store_report *out, hw_status *st);
/* Lateness comment codes of late completed interviews: columns code, count. */
hw_res *store_lateness_reasons(hw_db *db, const char *authority, int64_t from_ms, int64_t to_ms,
                               hw_status *st);

/* A Postgres text[] literal of the given strings, quoted and escaped;
 * malloc'd. */
char *store_text_array(const char *const *items, size_t n);

#endif
