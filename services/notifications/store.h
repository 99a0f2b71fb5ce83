/* store.h -- the notifications schema: inbox, recipients, acknowledgements,
 * letters, the external outbox, children missing now and the daily alert.
 *
 * Every statement is parameterised (hw_db_exec). Functions run in the
 * caller's transaction when it has one open. Strings returned inside
 * nt_note / nt_letter / nt_external are malloc'd and owned by the struct:
 * free with the matching *_free function. */
#ifndef NT_STORE_H
#define NT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw_pg.h"
#include "recipients.h"

/* ---- notifications ---- */

typedef struct nt_new_note {
    const char *event_id;       /* NULL for one raised by a user or the clock */
    const char *kind, *rule;
    bool urgent;
    const char *title, *body;
    const char *subject;        /* "episode:<uuid>" */
    const char *episode_id, *child_id, *letter_id;  /* NULL when none */
    int64_t created_at_ms;
} nt_new_note;

typedef struct nt_note {
    int64_t id;
    char *kind, *rule, *priority, *title, *body, *subject, *episode_id, *child_id;
    char *letter_id, *event_id, *created_at, *acknowledged_at;
    bool acknowledged;
    int n_recipients;
    char **addresses, **reasons;
} nt_note;

void nt_note_free(nt_note *n);                     /* the strings; not n itself */
void nt_notes_free(nt_note *notes, int n);         /* each, then the array */

/* Serialise notification writers until commit, so ids become visible in
 * id order (the hub reads "id > last seen" and must never skip one). */
int nt_store_lock_writers(hw_db *db, hw_status *st);
/* Insert a notification and its recipients. Returns its id, 0 if this
 * (event, kind, subject) already has one (shown once), -1 on error. */
int64_t nt_store_add_note(hw_db *db, const nt_new_note *n, const nt_recipients *r, hw_status *st);
/* Highest notification id, 0 if none; -1 on error. */
int64_t nt_store_max_id(hw_db *db, hw_status *st);
/* Notifications with id > after_id (and <= up_to if up_to > 0), in id
 * order, at most limit. addresses: only those addressed to one of them
 * (NULL: all). *out is malloc'd (free with nt_notes_free). Returns the
 * count or -1. */
int nt_store_notes_after(hw_db *db, int64_t after_id, int64_t up_to, int limit,
                         char (*addresses)[NT_ADDRESS_MAX], int n_addresses,
                         nt_note **out, hw_status *st);
/* The inbox of user_sub (answering to addresses): unread first, then newest. */
int nt_store_inbox(hw_db *db, const char *user_sub, char (*addresses)[NT_ADDRESS_MAX],
                   int n_addresses, bool unread_only, int limit, int offset,
                   nt_note **out, hw_status *st);
int nt_store_unread_count(hw_db *db, const char *user_sub, char (*addresses)[NT_ADDRESS_MAX],
                          int n_addresses, hw_status *st);
/* Acknowledge ids (and every one up to up_to_id if > 0) addressed to the
 * user. Returns the number newly acknowledged or -1. */
int nt_store_acknowledge(hw_db *db, const char *user_sub, char (*addresses)[NT_ADDRESS_MAX],
                         int n_addresses, const int64_t *ids, int n_ids, int64_t up_to_id,
                         hw_status *st);

/* ---- letters ---- */

typedef struct nt_new_letter {
    const char *kind;           /* "other_authority_missing" | "level3_escalation" | "missing_alert" */
    const char *rule, *event_id, *episode_id, *child_id;
    const char *from_authority, *to_authority, *copy_org, *addressee, *copy_to;
    const char *subject_line, *body;
    int64_t created_at_ms;
} nt_new_letter;

typedef struct nt_letter {
    char *id, *kind, *rule, *event_id, *episode_id, *child_id;
    char *from_authority, *to_authority, *copy_org, *addressee, *copy_to;
    char *subject_line, *body, *created_at;
    int n_external;
    char **external_ids;
} nt_letter;

void nt_letter_free(nt_letter *l);
void nt_letters_free(nt_letter *l, int n);
/* Insert; the new id (37 bytes) into id_out. Returns 1 inserted, 0 if the
 * event already made this letter (id_out then holds the existing one), -1. */
int nt_store_add_letter(hw_db *db, const nt_new_letter *l, char id_out[40], hw_status *st);
/* NOT_FOUND if there is no such letter. */
int nt_store_get_letter(hw_db *db, const char *id, nt_letter *out, hw_status *st);
/* Letters where org is the sender, addressee or copied force. */
int nt_store_list_letters(hw_db *db, const char *org, const char *child_id,
                          const char *episode_id, const char *kind, int limit, int offset,
                          nt_letter **out, hw_status *st);

/* ---- external outbox ---- */

typedef struct nt_new_external {
    const char *channel;        /* "email" | "phone" */
    const char *to_name, *to_address, *to_authority, *from_authority;
    const char *reason, *rule, *subject_line, *body;
    const char *letter_id, *episode_id;  /* NULL when none */
    int64_t notification_id;             /* 0 when none */
    int64_t created_at_ms;
    const char *last_error;              /* why it cannot go yet, or NULL */
} nt_new_external;

typedef struct nt_external {
    char *id, *channel, *to_name, *to_address, *to_authority, *reason, *rule;
    char *subject_line, *body, *status, *last_error, *created_at, *sent_at, *letter_id;
    char *episode_id;
    int attempts;
    int64_t notification_id;
} nt_external;

void nt_external_free(nt_external *e);
void nt_externals_free(nt_external *e, int n);
int nt_store_add_external(hw_db *db, const nt_new_external *e, hw_status *st);
/* The mailbox of an authority for a purpose, into out (256 bytes); 0 found, 1 none, -1. */
int nt_store_mailbox(hw_db *db, const char *authority, const char *purpose, char out[256],
                     hw_status *st);
/* Messages from or to org, newest first. */
int nt_store_list_external(hw_db *db, const char *org, const char *status, int limit, int offset,
                           nt_external **out, hw_status *st);
/* The mailer: lock up to limit e-mails due now (FOR UPDATE SKIP LOCKED). */
int nt_store_claim_email(hw_db *db, int limit, nt_external **out, hw_status *st);
/* Record a delivery attempt: sent, or an error with the next attempt time
 * (failed for good once attempts reach max_attempts). */
int nt_store_email_result(hw_db *db, const char *id, bool sent, const char *error,
                          int64_t retry_in_ms, int max_attempts, hw_status *st);

/* ---- children missing now (for R-NOT-2) ---- */

typedef struct nt_missing_child {
    const char *episode_id, *child_id, *responsible_authority, *force, *home_id;
    const char *status, *risk_level, *reported_at;
} nt_missing_child;

int nt_store_missing_upsert(hw_db *db, const nt_missing_child *c, hw_status *st);
int nt_store_missing_remove(hw_db *db, const char *episode_id, hw_status *st);
/* Every child missing now, ordered by authority then report time:
 * columns episode_id, child_id, responsible_authority, status, risk_level,
 * reported_at, home_id. Caller frees the result. */
hw_res *nt_store_missing_list(hw_db *db, hw_status *st);
/* Claim the day's run: 1 claimed, 0 already ran, -1 error. */
int nt_store_daily_claim(hw_db *db, const char *local_date, int64_t fired_at_ms, hw_status *st);
int nt_store_daily_done(hw_db *db, const char *local_date, int children, int notifications,
                        hw_status *st);
/* Whether the day's alert has run: 1 yes, 0 no, -1 error. */
int nt_store_daily_ran(hw_db *db, const char *local_date, hw_status *st);
/* Subjects of pending daily-alert deadlines other than keep (for clean-up
 * on start). Caller frees the result (column 0: subject). */
hw_res *nt_store_pending_daily(hw_db *db, const char *keep, hw_status *st);

/* ---- missing alerts (R-NOT-5) ---- */

typedef struct nt_new_alert {
    const char *episode_id, *child_id, *ground, *scope, *rationale;
    const char *const *authorities;
    int n_authorities;
    int days_missing;
    const char *raised_by, *raised_org, *letter_id;
    int64_t raised_at_ms;
} nt_new_alert;

int nt_store_add_alert(hw_db *db, const nt_new_alert *a, char id_out[40], hw_status *st);

/* A Postgres text[] literal for a parameter ("{\"a\",\"b\"}"), malloc'd. */
char *nt_pg_text_array(char (*items)[NT_ADDRESS_MAX], int n);
char *nt_pg_text_array_ptrs(const char *const *items, int n);

#endif
