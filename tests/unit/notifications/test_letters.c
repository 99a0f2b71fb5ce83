/* test_letters.c -- unit tests of the letters rendered from templates (R-NOT-3, R-ESC-3, R-NOT-5), as text and PDF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "letters.h"

static nt_letter_facts facts(void)
{
    nt_letter_facts f;
    memset(&f, 0, sizeof f);
    f.today = "2026-11-23";
    f.child_name = "Sam Example";
    f.date_of_birth = "2011-04-02";
    f.child_id = "c-1";
    f.episode_id = "e-1";
    f.home_name = "Oak House";
    f.home_address = "1 Oak Lane";
    f.host_authority = "la-stoke";
    f.placing_authority = "la-wessex";
    f.force = "force-staffs";
    f.missing_since = "2026-11-22T21:00:00.000Z";
    f.last_seen_place = "bus station";
    f.risk_level = "high";
    f.episodes_90_days = 9;
    return f;
}

/* R-NOT-3: the letter to the placing authority carries the episode's facts
 * and leaves no placeholder unfilled. */
static void test_R_NOT_3_other_authority_letter(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_OTHER_AUTHORITY, &f, &subject);
    assert_non_null(body);
    assert_non_null(strstr(subject, "placed by your authority"));
    assert_non_null(strstr(body, "Designated Safeguarding Lead, la-wessex"));
    assert_non_null(strstr(body, "Sam Example"));
    assert_non_null(strstr(body, "2011-04-02"));
    assert_non_null(strstr(body, "Oak House, 1 Oak Lane"));
    assert_non_null(strstr(body, "2026-11-22T21:00:00.000Z"));
    assert_non_null(strstr(body, "incident reference: not recorded"));
    assert_null(strstr(body, "{{"));
    assert_string_equal(nt_letter_rule(NT_LETTER_OTHER_AUTHORITY), "R-NOT-3");
    free(subject);
    free(body);
}

/* R-ESC-3: nine episodes in 90 days, copy to the police missing person champion. */
static void test_R_ESC_3_level3_letter(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_LEVEL3, &f, &subject);
    assert_non_null(strstr(body, "gone missing\n9 times in the last 90 days"));
    assert_non_null(strstr(body, "Copy: Police missing person champion, force-staffs"));
    assert_null(strstr(body, "{{"));
    assert_string_equal(nt_letter_kind_name(NT_LETTER_LEVEL3), "level3_escalation");
    free(subject);
    free(body);
}

/* R-NOT-5: the alert names the ground and the days missing. */
static void test_R_NOT_5_alert_letter(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    f.ground = "unaccompanied_asylum_seeker";
    f.scope = "All local authorities (national alert)";
    f.rationale = "no contact for five days";
    f.raised_by = "Team Manager";
    f.days_missing = 5;
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_MISSING_ALERT, &f, &subject);
    assert_non_null(strstr(body, "missing for 5 days and is an unaccompanied asylum-seeking child"));
    assert_non_null(strstr(body, "To: All local authorities (national alert)"));
    assert_null(strstr(body, "{{"));
    free(subject);
    free(body);
    assert_null(nt_letter_render(NT_LETTER_NONE, &f, &subject));
}

static void test_template_unknown_and_empty_values(void **state)
{
    (void)state;
    const char *keys[] = {"a", "b"};
    const char *values[] = {"one", ""};
    char *s = nt_template_render("{{a}}-{{b}}-{{c}}-{{", keys, values, 2);
    assert_string_equal(s, "one-not recorded-not recorded-{{");
    free(s);
}

/* Where needle (n bytes) first occurs in the n_hay bytes of hay, or NULL:
 * a PDF holds NUL bytes, so strstr will not do. */
static const unsigned char *find_bytes(const unsigned char *hay, size_t n_hay, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= n_hay && i <= n_hay - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

static size_t count_bytes(const unsigned char *hay, size_t n_hay, const char *needle)
{
    size_t count = 0;
    const unsigned char *at = hay;
    while ((at = find_bytes(at, n_hay - (size_t)(at - hay), needle)) != NULL) {
        count++;
        at += strlen(needle);
    }
    return count;
}

/* pdftotext (poppler-utils) reads the PDF back when it is installed: an
 * independent reader that the text really is there, wrapped and in order. */
static void check_with_pdftotext(const unsigned char *pdf, size_t len)
{
    if (system("command -v pdftotext >/dev/null 2>&1") != 0) {
        print_message("pdftotext not installed: reading the PDF back is skipped\n");
        return;
    }
    char in[] = "/tmp/hw-letter-XXXXXX";
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf, len), (ssize_t)len);
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "pdftotext -layout %s -", in);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(in);
    assert_non_null(strstr(out, "Repeated missing episodes (level 3 escalation)"));
    assert_non_null(strstr(out, "Copy: Police missing person champion, force-staffs"));
    assert_non_null(strstr(out, "Caf\xc3\xa9 Ros\xc3\xa9"));
}

/* R-ESC-3 (and R-NOT-3, which shares the layout): the letter as a PDF: a
 * well-formed file, the subject in bold at the top, a long body wrapped
 * onto several A4 pages, Latin-1 letters kept, and the same bytes every
 * time (GetLetter lays it out on each read). */
static void test_R_ESC_3_letter_as_pdf(void **state)
{
    (void)state;
    nt_letter_facts f = facts();
    f.home_name = "Caf\xc3\xa9 Ros\xc3\xa9";   /* UTF-8 "Café Rosé" */
    char *subject = NULL;
    char *body = nt_letter_render(NT_LETTER_LEVEL3, &f, &subject);
    /* A long body: a very long paragraph, then many short lines. */
    size_t cap = strlen(body) + 40000;
    char *text = malloc(cap);
    assert_non_null(text);
    strcpy(text, body);
    for (int i = 0; i < 60; i++)
        strcat(text, "The child was seen near the bus station by a member of staff. ");
    strcat(text, "\n");
    for (int i = 0; i < 120; i++)
        strcat(text, "Chronology entry: contact attempted by the home.\n");
    strcat(text, "End of letter marker\n");

    size_t len = 0;
    unsigned char *pdf = nt_letter_pdf(subject, text, &len);
    assert_non_null(pdf);
    assert_true(len > 1000);
    assert_memory_equal(pdf, "%PDF-", 5);
    size_t end = len;
    while (end > 0 && (pdf[end - 1] == '\n' || pdf[end - 1] == '\r'))
        end--;
    assert_true(end >= 5);
    assert_memory_equal(pdf + end - 5, "%%EOF", 5);

    /* A4, the two standard fonts, and more than one page. */
    assert_non_null(find_bytes(pdf, len, "/MediaBox [ 0 0 595"));
    assert_non_null(find_bytes(pdf, len, "/BaseFont /Helvetica-Bold"));
    assert_non_null(find_bytes(pdf, len, "/BaseFont /Helvetica\n"));
    assert_non_null(find_bytes(pdf, len, "/Encoding /WinAnsiEncoding"));
    assert_true(count_bytes(pdf, len, "/Type /Page\n") >= 3);

    /* Uncompressed, so the shown strings are in the content streams: the
     * subject is shown first, the long paragraph is cut into lines (no
     * single shown string holds it), and the last line made it. */
    /* (libharu writes parentheses inside a string as octal escapes.) */
    const unsigned char *subj =
        find_bytes(pdf, len, "(Repeated missing episodes \\050level 3 escalation\\051) Tj");
    assert_non_null(subj);
    const unsigned char *first_tj = find_bytes(pdf, len, ") Tj");
    assert_ptr_equal(first_tj, find_bytes(subj, len - (size_t)(subj - pdf), ") Tj"));
    assert_non_null(find_bytes(pdf, len, "(Copy: Police missing person champion, force-staffs) Tj"));
    assert_true(count_bytes(pdf, len, "by a member of staff.") >= 60);
    /* The paragraph is about 3,800 characters; a line of 10.5 pt Helvetica
     * across 483 pt holds about a hundred of them. */
    size_t shown = 0, longest = 0;
    for (const unsigned char *tj = pdf; (tj = find_bytes(tj, len - (size_t)(tj - pdf), ") Tj\n"));
         tj += 5) {
        const unsigned char *open = tj;
        while (open > pdf && open[-1] != '\n')
            open--;
        shown++;
        if ((size_t)(tj - open) > longest)
            longest = (size_t)(tj - open);
    }
    assert_true(longest <= 115);
    assert_true(shown >= 1 + 20 + 30 + 120 + 1);
    assert_int_equal(count_bytes(pdf, len, "(Chronology entry: contact attempted by the home.) Tj"), 120);
    assert_non_null(find_bytes(pdf, len, "(End of letter marker) Tj"));
    /* "é" is byte 0xE9 in WinAnsiEncoding, written as an octal escape. */
    assert_non_null(find_bytes(pdf, len, "Caf\\351 Ros\\351"));
    /* The bold font is selected before the regular one. */
    assert_non_null(find_bytes(pdf, len, "/F1 13 Tf"));

    size_t len2 = 0;
    unsigned char *again = nt_letter_pdf(subject, text, &len2);
    assert_non_null(again);
    assert_int_equal(len2, len);
    assert_memory_equal(again, pdf, len);

    check_with_pdftotext(pdf, len);
    free(again);
    free(pdf);
    free(text);
    free(subject);
    free(body);
}

/* Malformed UTF-8 and characters outside Windows-1252 still give a PDF. */
static void test_letter_pdf_odd_text(void **state)
{
    (void)state;
    size_t len = 0;
    unsigned char *pdf = nt_letter_pdf("", "bad \xff\xfe byte, \xe2\x82 cut, \xe4\xb8\xad han,"
                                           " \xe2\x80\x94 dash\n\n\tTabbed", &len);
    assert_non_null(pdf);
    assert_non_null(find_bytes(pdf, len, "(bad ?? byte, ?? cut, ? han, \\227 dash) Tj"));
    assert_non_null(find_bytes(pdf, len, "( Tabbed) Tj"));   /* a tab is a space */
    free(pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_NOT_3_other_authority_letter),
        cmocka_unit_test(test_R_ESC_3_level3_letter),
        cmocka_unit_test(test_R_NOT_5_alert_letter),
        cmocka_unit_test(test_template_unknown_and_empty_values),
        cmocka_unit_test(test_R_ESC_3_letter_as_pdf),
        cmocka_unit_test(test_letter_pdf_odd_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
