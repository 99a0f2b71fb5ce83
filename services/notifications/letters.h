/* letters.h -- letters rendered from templates with an episode's facts
 * (plain text and PDF): the other-authority letter (R-NOT-3, STAFFS 20.4 and
 * App. 8), the level-3 letter to a placing authority's designated
 * safeguarding lead with a copy to the police missing person champion
 * (R-ESC-3, STAFFS 20.6), and the missing alert (R-NOT-5, STAFFS 21).
 *
 * Pure functions: no I/O. The text names the child (it is a letter to the
 * authority responsible for them): never log it. The PDF is laid out with
 * libharu (Debian libhpdf-dev). */
#ifndef NT_LETTERS_H
#define NT_LETTERS_H

#include "recipients.h"

typedef struct nt_letter_facts {
    const char *today;                  /* local date, "23 November 2026" style or ISO */
    const char *child_name, *date_of_birth, *child_id, *episode_id;
    const char *home_name, *home_address;
    const char *host_authority, *placing_authority, *force;
    const char *missing_since, *last_seen_place, *police_incident_ref, *mispers_ref;
    const char *risk_level;
    int episodes_90_days;
    /* R-NOT-5 only */
    const char *ground, *scope, *rationale, *raised_by;
    int days_missing;
} nt_letter_facts;

/* "other_authority_missing", "level3_escalation", "missing_alert" ("" for none). */
const char *nt_letter_kind_name(enum nt_letter_kind kind);
/* The rule a letter kind serves: "R-NOT-3", "R-ESC-3", "R-NOT-5". */
const char *nt_letter_rule(enum nt_letter_kind kind);
/* Addressee and copy line of a kind. */
const char *nt_letter_addressee(enum nt_letter_kind kind);

/* Render a template: {{name}} is replaced by the value of name (unknown or
 * empty values become "not recorded"). Returns a malloc'd string. */
char *nt_template_render(const char *tmpl, const char *const *keys, const char *const *values,
                         int n);

/* Render a letter; *subject_out gets a malloc'd subject line. Returns the
 * malloc'd body, or NULL for NT_LETTER_NONE. */
char *nt_letter_render(enum nt_letter_kind kind, const nt_letter_facts *f, char **subject_out);

/* Lay a rendered letter out as a PDF: A4 portrait, the subject line in
 * Helvetica-Bold at the top, then the text (UTF-8) in Helvetica with
 * WinAnsiEncoding, lines wrapped to the page width and new pages as needed.
 * Characters outside Windows-1252 print as '?'. Uncompressed and without a
 * creation date, so the same text always gives the same bytes. Returns
 * malloc'd bytes (the caller frees) and their count in *len_out, or NULL on
 * an error of the library (*len_out is then 0). */
unsigned char *nt_letter_pdf(const char *subject, const char *text, size_t *len_out);

#endif
