/* test_time.c -- Europe/London time, bank holidays, working days and RFC 3339 (hw_time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hw_time.h"

/* Expected instants come from libc's timegm, not from the code under test.
 * DST dates and holiday lists below were checked against tzdata
 * (Europe/London) and the published GOV.UK lists. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000;
}

static hw_date D(int y, int m, int d) {
    hw_date r = {y, m, d};
    return r;
}

static void assert_date(hw_date got, int y, int m, int d) {
    assert_int_equal(got.y, y);
    assert_int_equal(got.m, m);
    assert_int_equal(got.d, d);
}

/* Must run first: the environment offset is read once, on first use. */
static void test_clock_offset_env_and_override(void **state) {
    (void)state;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t real = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t now = hw_now_ms();
    assert_int_equal(hw_clock_offset_ms(), 5000);
    assert_true(now - real >= 5000 && now - real < 6000);

    hw_clock_set_offset(-72LL * 3600000);
    clock_gettime(CLOCK_REALTIME, &ts);
    real = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    now = hw_now_ms();
    assert_true(real - now >= 72LL * 3600000 && real - now < 72LL * 3600000 + 1000);
    hw_clock_set_offset(0);
    assert_int_equal(hw_clock_offset_ms(), 0);
}

static void test_civil_days(void **state) {
    (void)state;
    assert_int_equal(hw_days_from_civil(D(1970, 1, 1)), 0);
    assert_int_equal(hw_days_from_civil(D(1969, 12, 31)), -1);
    assert_int_equal((int64_t)hw_days_from_civil(D(2026, 3, 29)) * 86400000, utc(2026, 3, 29, 0, 0, 0));
    assert_int_equal((int64_t)hw_days_from_civil(D(2000, 2, 29)) * 86400000, utc(2000, 2, 29, 0, 0, 0));
    assert_int_equal((int64_t)hw_days_from_civil(D(1900, 3, 1)) * 86400000, utc(1900, 3, 1, 0, 0, 0));
    for (int days = -200000; days <= 200000; days += 7) {
        hw_date d = hw_civil_from_days(days);
        assert_int_equal(hw_days_from_civil(d), days);
        assert_int_equal((int64_t)days * 86400000, utc(d.y, d.m, d.d, 0, 0, 0));
    }
}

static void test_easter(void **state) {
    (void)state;
    static const int tab[][3] = {
        {2020, 4, 12}, {2021, 4, 4}, {2022, 4, 17}, {2023, 4, 9}, {2024, 3, 31}, {2025, 4, 20},
        {2026, 4, 5}, {2027, 3, 28}, {2028, 4, 16}, {2029, 4, 1}, {2030, 4, 21},
        {2000, 4, 23}, {2038, 4, 25}, {2285, 3, 22}, {1818, 3, 22},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        assert_date(hw_easter_sunday(tab[i][0]), tab[i][0], tab[i][1], tab[i][2]);
}

static void test_dst_transitions(void **state) {
    (void)state;
    /* {year, March day, October day}: clocks change at 01:00 UTC. */
    static const int tab[][3] = {
        {2020, 29, 25}, {2021, 28, 31}, {2022, 27, 30}, {2023, 26, 29}, {2024, 31, 27},
        {2025, 30, 26}, {2026, 29, 25}, {2027, 28, 31}, {2028, 26, 29}, {2029, 25, 28},
        {2030, 31, 27},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        int y = tab[i][0];
        int64_t spring = utc(y, 3, tab[i][1], 1, 0, 0);
        int64_t autumn = utc(y, 10, tab[i][2], 1, 0, 0);
        assert_int_equal(hw_london_offset_ms(spring - 1), 0);
        assert_int_equal(hw_london_offset_ms(spring), 3600000);
        assert_int_equal(hw_london_offset_ms(autumn - 1), 3600000);
        assert_int_equal(hw_london_offset_ms(autumn), 0);
        assert_int_equal(hw_london_offset_ms(utc(y, 1, 15, 12, 0, 0)), 0);
        assert_int_equal(hw_london_offset_ms(utc(y, 7, 15, 12, 0, 0)), 3600000);
        assert_int_equal(hw_london_offset_ms(utc(y, 12, 31, 23, 59, 59)), 0);
    }
    /* 2026: local clock jumps 00:59:59 -> 02:00 on 29 March. */
    int mins = -1;
    hw_date d = hw_london_date(utc(2026, 3, 29, 0, 59, 59), &mins);
    assert_date(d, 2026, 3, 29);
    assert_int_equal(mins, 59);
    d = hw_london_date(utc(2026, 3, 29, 1, 0, 0), &mins);
    assert_int_equal(mins, 120);
    /* 25 October: 01:59 BST is followed by 01:00 GMT. */
    d = hw_london_date(utc(2026, 10, 25, 0, 59, 0), &mins);
    assert_int_equal(mins, 119);
    d = hw_london_date(utc(2026, 10, 25, 1, 0, 0), &mins);
    assert_date(d, 2026, 10, 25);
    assert_int_equal(mins, 60);
    /* Late evening UTC in summer is already tomorrow in London. */
    d = hw_london_date(utc(2026, 6, 1, 23, 30, 0), &mins);
    assert_date(d, 2026, 6, 2);
    assert_int_equal(mins, 30);
}

static void test_london_instant(void **state) {
    (void)state;
    assert_int_equal(hw_london_instant(D(2026, 1, 15), 7, 0), utc(2026, 1, 15, 7, 0, 0));
    assert_int_equal(hw_london_instant(D(2026, 7, 15), 7, 0), utc(2026, 7, 15, 6, 0, 0));
    /* Spring gap: 01:30 does not exist; the instant one hour later. */
    assert_int_equal(hw_london_instant(D(2026, 3, 29), 1, 30), utc(2026, 3, 29, 1, 30, 0));
    assert_int_equal(hw_london_instant(D(2026, 3, 29), 2, 0), utc(2026, 3, 29, 1, 0, 0));
    assert_int_equal(hw_london_instant(D(2026, 3, 29), 0, 59), utc(2026, 3, 29, 0, 59, 0));
    /* Autumn overlap: 01:30 happens twice; the first. */
    assert_int_equal(hw_london_instant(D(2026, 10, 25), 1, 30), utc(2026, 10, 25, 0, 30, 0));
    assert_int_equal(hw_london_instant(D(2026, 10, 25), 2, 0), utc(2026, 10, 25, 2, 0, 0));
    assert_int_equal(hw_london_instant(D(2026, 10, 25), 0, 30), utc(2026, 10, 24, 23, 30, 0));
}

static void test_next_0700(void **state) {
    (void)state;
    /* Saturday 07:00 GMT -> Sunday 07:00 BST across the spring change. */
    assert_int_equal(hw_next_london_time(utc(2026, 3, 28, 7, 0, 0), 7, 0), utc(2026, 3, 29, 6, 0, 0));
    /* Saturday 07:00 BST -> Sunday 07:00 GMT across the autumn change. */
    assert_int_equal(hw_next_london_time(utc(2026, 10, 24, 6, 0, 0), 7, 0), utc(2026, 10, 25, 7, 0, 0));
    /* Mid-night of the change days themselves. */
    assert_int_equal(hw_next_london_time(utc(2026, 3, 29, 0, 30, 0), 7, 0), utc(2026, 3, 29, 6, 0, 0));
    assert_int_equal(hw_next_london_time(utc(2026, 10, 25, 1, 30, 0), 7, 0), utc(2026, 10, 25, 7, 0, 0));
    assert_int_equal(hw_next_london_time(utc(2025, 10, 25, 22, 0, 0), 7, 0), utc(2025, 10, 26, 7, 0, 0));
    /* From 06:59:58 local: two seconds later, same day, winter and summer. */
    assert_int_equal(hw_next_london_time(utc(2026, 1, 15, 6, 59, 58), 7, 0), utc(2026, 1, 15, 7, 0, 0));
    assert_int_equal(hw_next_london_time(utc(2026, 7, 15, 5, 59, 58), 7, 0), utc(2026, 7, 15, 6, 0, 0));
    /* Strictly after: exactly 07:00 goes to tomorrow. */
    assert_int_equal(hw_next_london_time(utc(2026, 7, 15, 6, 0, 0), 7, 0), utc(2026, 7, 16, 6, 0, 0));
    assert_int_equal(hw_next_london_time(utc(2026, 12, 31, 7, 0, 1), 7, 0), utc(2027, 1, 1, 7, 0, 0));
    /* 01:30 comes twice on 25 October 2026: after the first, the second. */
    assert_int_equal(hw_next_london_time(utc(2026, 10, 25, 0, 45, 0), 1, 30), utc(2026, 10, 25, 1, 30, 0));
    assert_int_equal(hw_next_london_time(utc(2026, 10, 25, 1, 30, 0), 1, 30), utc(2026, 10, 26, 1, 30, 0));
}

static void test_add_hours_is_exact(void **state) {
    (void)state;
    /* 24 hours across the spring change is 24 real hours (13:00 local next day). */
    int64_t t = hw_add_hours(utc(2026, 3, 28, 12, 0, 0), 24);
    assert_int_equal(t, utc(2026, 3, 29, 12, 0, 0));
    int mins = 0;
    hw_london_date(t, &mins);
    assert_int_equal(mins, 13 * 60);
    assert_int_equal(hw_add_hours(utc(2026, 10, 24, 12, 0, 0), 72), utc(2026, 10, 27, 12, 0, 0));
}

/* Weekday bank holidays of England & Wales (GOV.UK), MMDD. */
static const struct {
    int year;
    const char *days;
} bank_holidays[] = {
    {2020, "0101 0410 0413 0508 0525 0831 1225 1228"},
    {2021, "0101 0402 0405 0503 0531 0830 1227 1228"},
    {2022, "0103 0415 0418 0502 0602 0603 0829 0919 1226 1227"},
    {2023, "0102 0407 0410 0501 0508 0529 0828 1225 1226"},
    {2024, "0101 0329 0401 0506 0527 0826 1225 1226"},
    {2025, "0101 0418 0421 0505 0526 0825 1225 1226"},
    {2026, "0101 0403 0406 0504 0525 0831 1225 1228"},
    {2027, "0101 0326 0329 0503 0531 0830 1227 1228"},
    {2028, "0103 0414 0417 0501 0529 0828 1225 1226"},
    {2029, "0101 0330 0402 0507 0528 0827 1225 1226"},
    {2030, "0101 0419 0422 0506 0527 0826 1225 1226"},
};

static void test_bank_holidays_2020_2030(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bank_holidays / sizeof bank_holidays[0]; i++) {
        int y = bank_holidays[i].year;
        int first = hw_days_from_civil(D(y, 1, 1)), last = hw_days_from_civil(D(y, 12, 31));
        int found = 0;
        for (int days = first; days <= last; days++) {
            hw_date d = hw_civil_from_days(days);
            int wd = (int)(((int64_t)days % 7 + 7 + 4) % 7);
            if (wd == 0 || wd == 6) {
                assert_false(hw_is_working_day(d));
                continue;
            }
            char mmdd[8];
            snprintf(mmdd, sizeof mmdd, "%02d%02d", d.m, d.d);
            bool listed = strstr(bank_holidays[i].days, mmdd) != NULL;
            if (hw_is_bank_holiday(d) != listed)
                fail_msg("%04d-%s: computed %d, GOV.UK %d", y, mmdd, hw_is_bank_holiday(d), listed);
            assert_true(hw_is_working_day(d) == !listed);
            found += listed;
        }
        assert_int_equal(found, (int)(strlen(bank_holidays[i].days) + 1) / 5);
    }
}

static void test_bank_holiday_specials(void **state) {
    (void)state;
    /* Substitute days. */
    assert_true(hw_is_bank_holiday(D(2021, 12, 27)));
    assert_true(hw_is_bank_holiday(D(2021, 12, 28)));
    assert_true(hw_is_bank_holiday(D(2022, 12, 26)));
    assert_true(hw_is_bank_holiday(D(2022, 12, 27)));
    assert_true(hw_is_bank_holiday(D(2027, 12, 27)));
    assert_true(hw_is_bank_holiday(D(2027, 12, 28)));
    assert_true(hw_is_bank_holiday(D(2022, 1, 3)));
    assert_true(hw_is_bank_holiday(D(2023, 1, 2)));
    assert_false(hw_is_bank_holiday(D(2023, 1, 3)));
    assert_false(hw_is_bank_holiday(D(2024, 12, 27)));
    /* Moved and one-off days. */
    assert_true(hw_is_bank_holiday(D(2020, 5, 8)));
    assert_false(hw_is_bank_holiday(D(2020, 5, 4)));
    assert_true(hw_is_bank_holiday(D(2012, 6, 4)));
    assert_true(hw_is_bank_holiday(D(2012, 6, 5)));
    assert_false(hw_is_bank_holiday(D(2012, 5, 28)));
    assert_true(hw_is_bank_holiday(D(2022, 6, 2)));
    assert_false(hw_is_bank_holiday(D(2022, 5, 30)));
    assert_true(hw_is_bank_holiday(D(2011, 4, 29)));
    assert_true(hw_is_bank_holiday(D(2022, 9, 19)));
    assert_true(hw_is_bank_holiday(D(2023, 5, 8)));
    assert_false(hw_is_bank_holiday(D(2023, 5, 9)));
    /* Ordinary days. */
    assert_false(hw_is_bank_holiday(D(2026, 4, 7)));
    assert_true(hw_is_working_day(D(2026, 4, 7)));
    assert_false(hw_is_working_day(D(2026, 4, 4)));
    assert_false(hw_is_working_day(D(2026, 4, 6)));
}

static void test_working_days(void **state) {
    (void)state;
    /* Maundy Thursday + 1: Good Friday, weekend and Easter Monday skipped. */
    assert_date(hw_add_working_days(D(2024, 3, 28), 1), 2024, 4, 2);
    assert_date(hw_add_working_days(D(2026, 4, 1), 5), 2026, 4, 10);
    /* Christmas. */
    assert_date(hw_add_working_days(D(2025, 12, 24), 1), 2025, 12, 29);
    assert_date(hw_add_working_days(D(2026, 12, 24), 1), 2026, 12, 29);
    assert_date(hw_add_working_days(D(2027, 12, 23), 2), 2027, 12, 29);
    /* Zero days: the date itself, even on a holiday. */
    assert_date(hw_add_working_days(D(2026, 12, 25), 0), 2026, 12, 25);
    /* From a weekend. */
    assert_date(hw_add_working_days(D(2026, 6, 6), 1), 2026, 6, 8);

    /* "Within 5 working days": end of the 5th working day, local time. */
    assert_int_equal(hw_working_days_deadline(utc(2026, 4, 1, 10, 0, 0), 5),
                     utc(2026, 4, 10, 22, 59, 59) + 999);
    assert_int_equal(hw_working_days_deadline(utc(2026, 12, 23, 15, 0, 0), 5),
                     utc(2027, 1, 4, 23, 59, 59) + 999);
    /* 23:30 UTC on Friday 5 June 2026 is already Saturday in London. */
    assert_int_equal(hw_working_days_deadline(utc(2026, 6, 5, 23, 30, 0), 1),
                     utc(2026, 6, 8, 22, 59, 59) + 999);
    /* Deadline ending on the day the clocks go back: Friday 23 Oct + 1 -> Monday 26 Oct (GMT). */
    assert_int_equal(hw_working_days_deadline(utc(2026, 10, 23, 9, 0, 0), 1),
                     utc(2026, 10, 26, 23, 59, 59) + 999);
    /* Ending on the Friday before the clocks go forward. */
    assert_int_equal(hw_working_days_deadline(utc(2026, 3, 26, 9, 0, 0), 1),
                     utc(2026, 3, 27, 23, 59, 59) + 999);
}

static void test_rfc3339(void **state) {
    (void)state;
    char buf[32];
    hw_format_rfc3339(utc(2026, 11, 23, 11, 15, 49), buf);
    assert_string_equal(buf, "2026-11-23T11:15:49.000Z");
    hw_format_rfc3339(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    hw_format_rfc3339(utc(2024, 2, 29, 0, 0, 0) + 7, buf);
    assert_string_equal(buf, "2024-02-29T00:00:00.007Z");

    int64_t ms = 0;
    assert_int_equal(hw_parse_rfc3339("2026-11-23T11:15:49.000Z", &ms), 0);
    assert_int_equal(ms, utc(2026, 11, 23, 11, 15, 49));
    assert_int_equal(hw_parse_rfc3339("2026-11-23T11:15:49Z", &ms), 0);
    assert_int_equal(ms, utc(2026, 11, 23, 11, 15, 49));
    assert_int_equal(hw_parse_rfc3339("2026-07-01T12:00:00.5+01:00", &ms), 0);
    assert_int_equal(ms, utc(2026, 7, 1, 11, 0, 0) + 500);
    assert_int_equal(hw_parse_rfc3339("2026-07-01T12:00:00.1239999-05:30", &ms), 0);
    assert_int_equal(ms, utc(2026, 7, 1, 17, 30, 0) + 123);
    assert_int_equal(hw_parse_rfc3339("2026-07-01t12:00:00z", &ms), 0);
    assert_int_equal(ms, utc(2026, 7, 1, 12, 0, 0));

    /* Round trip, including before 1970 and leap days. */
    for (int64_t t = utc(1960, 1, 1, 0, 0, 0); t < utc(2100, 1, 1, 0, 0, 0); t += 86400000LL * 37 + 3723456) {
        hw_format_rfc3339(t, buf);
        int64_t back = 0;
        assert_int_equal(hw_parse_rfc3339(buf, &back), 0);
        assert_int_equal(back, t);
    }

    static const char *bad[] = {
        "", "garbage", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00",
        "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:61Z",
        "2026-01-01T00:00:00Z ", "2026-1-01T00:00:00Z", "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+01:60",
        "2026-01-01T00:00:00+01", "2026-01-01", "2026-01-01T00:00Z", "20260101T000000Z",
        "2026-01-01T00:00:00ZZ", "+2026-01-01T00:00:00Z", "2026-01-01T0a:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 42;
        if (hw_parse_rfc3339(bad[i], &ms) != -1) fail_msg("accepted malformed \"%s\"", bad[i]);
        assert_int_equal(ms, 42);
    }
    assert_int_equal(hw_parse_rfc3339(NULL, &ms), -1);
    assert_int_equal(hw_parse_rfc3339("2024-02-29T00:00:00Z", &ms), 0);
}

int main(void) {
    /* Read once by hw_time on first use: set before any test runs. */
    setenv("HOMEWARD_CLOCK_OFFSET_MS", "5000", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_offset_env_and_override),
        cmocka_unit_test(test_civil_days),
        cmocka_unit_test(test_easter),
        cmocka_unit_test(test_dst_transitions),
        cmocka_unit_test(test_london_instant),
        cmocka_unit_test(test_next_0700),
        cmocka_unit_test(test_add_hours_is_exact),
        cmocka_unit_test(test_bank_holidays_2020_2030),
        cmocka_unit_test(test_bank_holiday_specials),
        cmocka_unit_test(test_working_days),
        cmocka_unit_test(test_rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
