/* letters.c -- letters to other authorities, rendered from templates (plain text and PDF). */
#include "letters.h"

#include <hpdf.h>
#include <stdbool.h>
#include <stdint.h>
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

/* ------------------------------------------------------------------ PDF */

/* Windows-1252 bytes 0x80-0x9F and the characters they stand for: the rest
 * of Latin-1 (U+00A0-U+00FF) has the same number in both. */
static const struct {
    uint32_t cp;
    unsigned char byte;
} cp1252_extra[] = {
    {0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85},
    {0x2020, 0x86}, {0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A},
    {0x2039, 0x8B}, {0x0152, 0x8C}, {0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92},
    {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97},
    {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B}, {0x0153, 0x9C},
    {0x017E, 0x9E}, {0x0178, 0x9F},
};

static unsigned char to_cp1252(uint32_t cp)
{
    if (cp == '\t')
        return ' ';
    if (cp < 0x20 || cp == 0x7F)
        return '?';
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
        return (unsigned char)cp;
    for (size_t i = 0; i < sizeof cp1252_extra / sizeof cp1252_extra[0]; i++)
        if (cp1252_extra[i].cp == cp)
            return cp1252_extra[i].byte;
    return '?';
}

/* One line of UTF-8 (n bytes, no newline) as a NUL-terminated
 * Windows-1252 string, the encoding of the standard fonts under
 * WinAnsiEncoding. Malformed UTF-8 prints as '?'. Returns malloc'd. */
static char *line_to_cp1252(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        abort();
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char c = u[i];
        int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                  : (c & 0xF8) == 0xF0 ? 3 : -1;
        uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1Fu) : extra == 2 ? (c & 0x0Fu)
                                                                          : (c & 0x07u);
        bool ok = extra >= 0 && i + (size_t)extra < n;
        for (int k = 1; ok && k <= extra; k++) {
            if ((u[i + (size_t)k] & 0xC0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (u[i + (size_t)k] & 0x3Fu);
        }
        /* Overlong forms and surrogates are not characters. */
        static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (ok && (cp < least[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF))
            ok = false;
        out[o++] = ok ? (char)to_cp1252(cp) : '?';
        i += ok ? (size_t)extra + 1 : 1;
    }
    out[o] = '\0';
    return out;
}

/* A4 in points, with margins of about 20 mm. */
#define PDF_MARGIN_X 56.0f
#define PDF_MARGIN_TOP 64.0f
#define PDF_MARGIN_BOTTOM 56.0f
#define PDF_SUBJECT_SIZE 13.0f
#define PDF_TEXT_SIZE 10.5f

typedef struct pdf_layout {
    HPDF_Doc doc;
    HPDF_Page page;   /* current page, in text mode */
    HPDF_Font font;   /* current font */
    HPDF_REAL size, leading, y, width;
} pdf_layout;

static int pdf_set_font(pdf_layout *l, HPDF_Font font, HPDF_REAL size)
{
    l->font = font;
    l->size = size;
    l->leading = size * 1.35f;
    return HPDF_Page_SetFontAndSize(l->page, font, size) == HPDF_OK ? 0 : -1;
}

static int pdf_new_page(pdf_layout *l)
{
    if (l->page && HPDF_Page_EndText(l->page) != HPDF_OK)
        return -1;
    l->page = HPDF_AddPage(l->doc);
    if (!l->page || HPDF_Page_SetSize(l->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT) != HPDF_OK ||
        HPDF_Page_BeginText(l->page) != HPDF_OK)
        return -1;
    l->width = HPDF_Page_GetWidth(l->page) - 2 * PDF_MARGIN_X;
    l->y = HPDF_Page_GetHeight(l->page) - PDF_MARGIN_TOP;
    return l->font ? pdf_set_font(l, l->font, l->size) : 0;
}

/* Print one line of UTF-8 text (no newline), wrapped at spaces to the
 * page width; a word wider than the page is cut where it must be. An empty
 * line is a blank line. */
static int pdf_paragraph(pdf_layout *l, const char *utf8, size_t n)
{
    char *line = line_to_cp1252(utf8, n);
    char *rest = line;
    do {
        if (l->y < PDF_MARGIN_BOTTOM && pdf_new_page(l) != 0)
            goto out_free_line;
        size_t fit = HPDF_Page_MeasureText(l->page, rest, l->width, HPDF_TRUE, NULL);
        if (fit == 0)
            fit = HPDF_Page_MeasureText(l->page, rest, l->width, HPDF_FALSE, NULL);
        if (fit == 0 && *rest)
            fit = 1;
        size_t shown = fit;
        while (shown > 0 && rest[shown - 1] == ' ')
            shown--;
        if (shown > 0) {
            char saved = rest[shown];
            rest[shown] = '\0';
            HPDF_STATUS st = HPDF_Page_TextOut(l->page, PDF_MARGIN_X, l->y, rest);
            rest[shown] = saved;
            if (st != HPDF_OK)
                goto out_free_line;
        }
        l->y -= l->leading;
        rest += fit;
        while (*rest == ' ')
            rest++;
    } while (*rest);
    free(line);
    return 0;

out_free_line:
    free(line);
    return -1;
}

static int pdf_text(pdf_layout *l, const char *text)
{
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (n && s[n - 1] == '\r')
            n--;
        if (pdf_paragraph(l, s, n) != 0)
            return -1;
        s += nl ? (size_t)(nl - s) + 1 : n;
    }
    return 0;
}

unsigned char *nt_letter_pdf(const char *subject, const char *text, size_t *len_out)
{
    unsigned char *bytes = NULL;
    *len_out = 0;
    /* No error handler: libharu then records the error on the document and
     * returns it, which every call below checks (no longjmp). */
    pdf_layout l = {.doc = HPDF_New(NULL, NULL)};
    if (!l.doc)
        return NULL;
    /* Uncompressed: a letter is a page or two, and its words stay findable
     * by a plain search of the file (and by the tests). */
    if (HPDF_SetCompressionMode(l.doc, HPDF_COMP_NONE) != HPDF_OK)
        goto out_free_doc;
    HPDF_Font bold = HPDF_GetFont(l.doc, "Helvetica-Bold", "WinAnsiEncoding");
    HPDF_Font regular = HPDF_GetFont(l.doc, "Helvetica", "WinAnsiEncoding");
    if (!bold || !regular || pdf_new_page(&l) != 0)
        goto out_free_doc;
    if (subject && *subject) {
        if (pdf_set_font(&l, bold, PDF_SUBJECT_SIZE) != 0 ||
            pdf_text(&l, subject) != 0)
            goto out_free_doc;
        l.y -= l.leading * 0.5f;
    }
    if (pdf_set_font(&l, regular, PDF_TEXT_SIZE) != 0 || pdf_text(&l, text ? text : "") != 0 ||
        HPDF_Page_EndText(l.page) != HPDF_OK)
        goto out_free_doc;
    if (HPDF_SaveToStream(l.doc) != HPDF_OK)
        goto out_free_doc;
    HPDF_UINT32 size = HPDF_GetStreamSize(l.doc);
    if (size == 0 || HPDF_GetError(l.doc) != HPDF_OK)
        goto out_free_doc;
    bytes = malloc(size);
    if (!bytes)
        abort();
    /* The memory stream reports STREAM_EOF when a read reaches its end. */
    HPDF_UINT32 got = size;
    HPDF_STATUS st = HPDF_ReadFromStream(l.doc, bytes, &got);
    if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || got != size) {
        free(bytes);
        bytes = NULL;
        goto out_free_doc;
    }
    *len_out = size;

out_free_doc:
    HPDF_Free(l.doc);
    return bytes;
}
