/* letters.c -- letters to other authorities, rendered from templates (plain text). */
#include "letters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* R-NOT-3 (STAFFS 20.4): the host authority tells the placing authority of
 * a missing episode of a child it placed here. */
static const char other_authority_tmpl[] =
    "{{host_authority}}\n"
    "Children missing from home or care\n"
    "\n"
    "Date: {{today}}\n"
    "\n"
    "To: Designated Safeguarding Lead, {{placing_authority}}\n"
    "\n"
    "Subject: Missing episode of a child placed by your authority\n"
    "\n"
    "Dear colleague,\n"
    "\n"
    "We write, as required by our joint protocol for children missing from home or care\n"
    "(section 20.4), to advise you that the following child, placed in our area by your\n"
    "authority, has been reported missing.\n"
    "\n"
    "Child: {{child_name}}\n"
    "Date of birth: {{date_of_birth}}\n"
    "Homeward child reference: {{child_id}}\n"
    "Placement: {{home_name}}, {{home_address}}\n"
    "Missing since: {{missing_since}}\n"
    "Last seen: {{last_seen_place}}\n"
    "Current risk level: {{risk_level}}\n"
    "Police force: {{force}}; incident reference: {{police_incident_ref}};\n"
    "missing persons reference: {{mispers_ref}}\n"
    "Missing episodes in the last 90 days: {{episodes_90_days}}\n"
    "Homeward episode reference: {{episode_id}}\n"
    "\n"
    "You will be told when the child is found. Please make sure the child's social worker\n"
    "is aware, and that the child is offered an independent return interview on return.\n"
    "\n"
    "Yours faithfully,\n"
    "\n"
    "Missing Children Co-ordinator\n"
    "{{host_authority}}\n";

/* R-ESC-3 (STAFFS 20.6): nine episodes in 90 days; written to the placing
 * authority's designated safeguarding lead, copied to the police missing
 * person champion. */
static const char level3_tmpl[] =
    "{{host_authority}}\n"
    "Children missing from home or care\n"
    "\n"
    "Date: {{today}}\n"
    "\n"
    "To: Designated Safeguarding Lead, {{placing_authority}}\n"
    "Copy: Police missing person champion, {{force}}\n"
    "\n"
    "Subject: Repeated missing episodes (level 3 escalation)\n"
    "\n"
    "Dear colleague,\n"
    "\n"
    "The following child, placed in our area by your authority, has gone missing\n"
    "{{episodes_90_days}} times in the last 90 days. Under section 20.6 of our joint protocol\n"
    "we ask you to ensure that all appropriate measures are in place for the future care and\n"
    "safety of the child, and to send us formal written details so that the child's social\n"
    "care record can be updated.\n"
    "\n"
    "Child: {{child_name}}\n"
    "Date of birth: {{date_of_birth}}\n"
    "Homeward child reference: {{child_id}}\n"
    "Placement: {{home_name}}, {{home_address}}\n"
    "Most recent episode: {{episode_id}} (missing since {{missing_since}})\n"
    "Current risk level: {{risk_level}}\n"
    "\n"
    "A copy of this letter has been sent to the police missing person champion.\n"
    "\n"
    "Yours faithfully,\n"
    "\n"
    "Children's Social Care Lead\n"
    "{{host_authority}}\n";

/* R-NOT-5 (STAFFS 21): a national or other-authority missing alert. */
static const char missing_alert_tmpl[] =
    "{{host_authority}}\n"
    "Missing child alert\n"
    "\n"
    "Date: {{today}}\n"
    "\n"
    "To: {{scope}}\n"
    "\n"
    "Subject: Missing child alert -- please flag on your system and contact us if found\n"
    "\n"
    "The following child has been missing for {{days_missing}} days and is {{ground}}.\n"
    "Please place a flag on your authority's system: if the child is found, contact\n"
    "{{host_authority}} and {{force}} at once.\n"
    "\n"
    "Child: {{child_name}}\n"
    "Date of birth: {{date_of_birth}}\n"
    "Homeward child reference: {{child_id}}\n"
    "Missing since: {{missing_since}}\n"
    "Last seen: {{last_seen_place}}\n"
    "Police incident reference: {{police_incident_ref}}; missing persons reference: {{mispers_ref}}\n"
    "Homeward episode reference: {{episode_id}}\n"
    "\n"
    "Why this alert is raised: {{rationale}}\n"
    "Raised by: {{raised_by}}\n";

const char *nt_letter_kind_name(enum nt_letter_kind kind)
{
    switch (kind) {
    case NT_LETTER_OTHER_AUTHORITY: return "other_authority_missing";
    case NT_LETTER_LEVEL3: return "level3_escalation";
    case NT_LETTER_MISSING_ALERT: return "missing_alert";
    case NT_LETTER_NONE: break;
    }
    return "";
}

const char *nt_letter_rule(enum nt_letter_kind kind)
{
    switch (kind) {
    case NT_LETTER_OTHER_AUTHORITY: return "R-NOT-3";
    case NT_LETTER_LEVEL3: return "R-ESC-3";
    case NT_LETTER_MISSING_ALERT: return "R-NOT-5";
    case NT_LETTER_NONE: break;
    }
    return "";
}

const char *nt_letter_addressee(enum nt_letter_kind kind)
{
    return kind == NT_LETTER_MISSING_ALERT ? "Missing children leads" : "Designated Safeguarding Lead";
}

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 1024;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

char *nt_template_render(const char *tmpl, const char *const *keys, const char *const *values,
                         int n)
{
    buf b = {0};
    const char *s = tmpl;
    put(&b, "", 0);
    while (*s) {
        const char *open = strstr(s, "{{");
        if (!open) {
            put(&b, s, strlen(s));
            break;
        }
        put(&b, s, (size_t)(open - s));
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            put(&b, open, strlen(open));
            break;
        }
        size_t klen = (size_t)(close - open - 2);
        const char *value = NULL;
        for (int i = 0; i < n; i++)
            if (strlen(keys[i]) == klen && strncmp(keys[i], open + 2, klen) == 0)
                value = values[i];
        if (!value || !*value)
            value = "not recorded";
        put(&b, value, strlen(value));
        s = close + 2;
    }
    return b.p;
}

static const char *ground_text(const char *ground)
{
    if (!ground) return "";
    if (strcmp(ground, "high_risk_cse") == 0) return "at high risk of child sexual exploitation";
    if (strcmp(ground, "high_risk_trafficking") == 0) return "at high risk of trafficking";
    if (strcmp(ground, "unaccompanied_asylum_seeker") == 0) return "an unaccompanied asylum-seeking child";
    return ground;
}

char *nt_letter_render(enum nt_letter_kind kind, const nt_letter_facts *f, char **subject_out)
{
    const char *tmpl;
    const char *subject;
    switch (kind) {
    case NT_LETTER_OTHER_AUTHORITY:
        tmpl = other_authority_tmpl;
        subject = "Missing episode of a child placed by your authority";
        break;
    case NT_LETTER_LEVEL3:
        tmpl = level3_tmpl;
        subject = "Repeated missing episodes (level 3 escalation)";
        break;
    case NT_LETTER_MISSING_ALERT:
        tmpl = missing_alert_tmpl;
        subject = "Missing child alert";
        break;
    default:
        *subject_out = NULL;
        return NULL;
    }
    char count[16], days[16];
    snprintf(count, sizeof count, "%d", f->episodes_90_days);
    snprintf(days, sizeof days, "%d", f->days_missing);
    const char *keys[] = {"today", "child_name", "date_of_birth", "child_id", "episode_id",
                          "home_name", "home_address", "host_authority", "placing_authority",
                          "force", "missing_since", "last_seen_place", "police_incident_ref",
                          "mispers_ref", "risk_level", "episodes_90_days", "ground", "scope",
                          "rationale", "raised_by", "days_missing"};
    const char *values[] = {f->today, f->child_name, f->date_of_birth, f->child_id,
                            f->episode_id, f->home_name, f->home_address, f->host_authority,
                            f->placing_authority, f->force, f->missing_since,
                            f->last_seen_place, f->police_incident_ref, f->mispers_ref,
                            f->risk_level, count, ground_text(f->ground), f->scope,
                            f->rationale, f->raised_by, days};
    *subject_out = strdup(subject);
    if (!*subject_out)
        abort();
    return nt_template_render(tmpl, keys, values, (int)(sizeof keys / sizeof keys[0]));
}
