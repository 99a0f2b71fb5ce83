/* hw_time.c -- UTC instants, Europe/London local time and England & Wales working days. */
#include "hw_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_PER_MINUTE 60000LL
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL

/* ---- clock ---- */

static atomic_llong g_offset_ms;
static pthread_once_t g_offset_once = PTHREAD_ONCE_INIT;

/* The environment is read once: tests that shift time set it before the
 * process starts, and hw_clock_set_offset wins over it afterwards. */
static void hw__offset_from_env(void) {
    const char *v = getenv("HOMEWARD_CLOCK_OFFSET_MS");
    if (!v || !*v) return;
    char *end = NULL;
    errno = 0;
    long long off = strtoll(v, &end, 10);
    if (errno == 0 && end && *end == '\0') atomic_store(&g_offset_ms, off);
}

void hw_clock_set_offset(int64_t offset_ms) {
    pthread_once(&g_offset_once, hw__offset_from_env);
    atomic_store(&g_offset_ms, (long long)offset_ms);
}

int64_t hw_clock_offset_ms(void) {
    pthread_once(&g_offset_once, hw__offset_from_env);
    return (int64_t)atomic_load(&g_offset_ms);
}

int64_t hw_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + hw_clock_offset_ms();
}

int64_t hw_add_hours(int64_t at_ms, int hours) {
    return at_ms + (int64_t)hours * MS_PER_HOUR;
}

/* ---- calendar ---- */

static int64_t hw__floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* Proleptic Gregorian day count (the era/day-of-era method: 400-year
 * eras of 146097 days, years starting in March so leap days come last). */
int hw_days_from_civil(hw_date dt) {
    int y = dt.y - (dt.m <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (dt.m + (dt.m > 2 ? -3 : 9)) + 2) / 5 + dt.d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

hw_date hw_civil_from_days(int days) {
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    hw_date r;
    r.d = doy - (153 * mp + 2) / 5 + 1;
    r.m = mp < 10 ? mp + 3 : mp - 9;
    r.y = yoe + era * 400 + (r.m <= 2);
    return r;
}

/* 0 = Sunday ... 6 = Saturday; 1970-01-01 was a Thursday. */
static int hw__weekday(int days) {
    return (int)(((int64_t)days % 7 + 7 + 4) % 7);
}

static bool hw__is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int hw__days_in_month(int y, int m) {
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && hw__is_leap(y)) return 29;
    return dim[m - 1];
}

static hw_date hw__date(int y, int m, int d) {
    hw_date r = {y, m, d};
    return r;
}

static bool hw__same(hw_date a, hw_date b) {
    return a.y == b.y && a.m == b.m && a.d == b.d;
}

/* Day number of the last Sunday of a month with 31 days (March, October). */
static int hw__last_sunday(int y, int m) {
    int d31 = hw_days_from_civil(hw__date(y, m, 31));
    return d31 - hw__weekday(d31);
}

/* ---- Europe/London ---- */

int64_t hw_london_offset_ms(int64_t at_ms) {
    int y = hw_civil_from_days((int)hw__floor_div(at_ms, MS_PER_DAY)).y;
    /* UK rule since 1996 (EU harmonised): the change is at 01:00 UTC. */
    int64_t start = (int64_t)hw__last_sunday(y, 3) * MS_PER_DAY + MS_PER_HOUR;
    int64_t end = (int64_t)hw__last_sunday(y, 10) * MS_PER_DAY + MS_PER_HOUR;
    return (at_ms >= start && at_ms < end) ? MS_PER_HOUR : 0;
}

hw_date hw_london_date(int64_t at_ms, int *minute_of_day) {
    int64_t local = at_ms + hw_london_offset_ms(at_ms);
    int64_t days = hw__floor_div(local, MS_PER_DAY);
    if (minute_of_day) *minute_of_day = (int)((local - days * MS_PER_DAY) / MS_PER_MINUTE);
    return hw_civil_from_days((int)days);
}

int64_t hw_london_instant(hw_date d, int hh, int mm) {
    int64_t local = (int64_t)hw_days_from_civil(d) * MS_PER_DAY
                    + (int64_t)hh * MS_PER_HOUR + (int64_t)mm * MS_PER_MINUTE;
    /* Read as BST first: that is the earlier instant in the autumn overlap.
     * If BST was not in force then, read as GMT; in the spring gap that
     * gives the instant one hour later on the clock (01:30 -> 02:30 BST). */
    if (hw_london_offset_ms(local - MS_PER_HOUR) == MS_PER_HOUR) return local - MS_PER_HOUR;
    return local;
}

int64_t hw_next_london_time(int64_t at_ms, int hh, int mm) {
    int target = hh * 60 + mm;
    int days = hw_days_from_civil(hw_london_date(at_ms, NULL));
    for (int i = 0; i < 3; i++) {
        hw_date d = hw_civil_from_days(days + i);
        int64_t first = hw_london_instant(d, hh, mm);
        if (first > at_ms) return first;
        /* In the autumn overlap the same wall time comes round again an
         * hour later. */
        int64_t second = first + MS_PER_HOUR;
        int mins = 0;
        hw_date d2 = hw_london_date(second, &mins);
        if (second > at_ms && hw__same(d2, d) && mins == target) return second;
    }
    /* Unreachable for valid hh:mm: some day within three has it ahead. */
    return hw_london_instant(hw_civil_from_days(days + 3), hh, mm);
}

/* ---- bank holidays (England & Wales) ---- */

hw_date hw_easter_sunday(int year) {
    /* Anonymous Gregorian computus (Meeus/Jones/Butcher). */
    int a = year % 19, b = year / 100, c = year % 100;
    int d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31;
    int day = (h + l - 7 * m + 114) % 31 + 1;
    return hw__date(year, month, day);
}

/* Days proclaimed for one year only, on top of the regular ones. */
static const hw_date hw__one_off[] = {
    {1999, 12, 31}, /* millennium */
    {2002, 6, 3},   /* Golden Jubilee */
    {2011, 4, 29},  /* royal wedding */
    {2012, 6, 5},   /* Diamond Jubilee */
    {2022, 6, 3},   /* Platinum Jubilee */
    {2022, 9, 19},  /* state funeral of Queen Elizabeth II */
    {2023, 5, 8},   /* coronation of King Charles III */
};

/* First Monday of May, except years it was moved. */
static hw_date hw__early_may(int y) {
    if (y == 1995) return hw__date(1995, 5, 8);  /* VE day 50th */
    if (y == 2020) return hw__date(2020, 5, 8);  /* VE day 75th, a Friday */
    int d1 = hw_days_from_civil(hw__date(y, 5, 1));
    return hw_civil_from_days(d1 + (8 - hw__weekday(d1)) % 7);
}

/* Last Monday of May, except jubilee years when it moved into June. */
static hw_date hw__spring(int y) {
    if (y == 2002) return hw__date(2002, 6, 4);
    if (y == 2012) return hw__date(2012, 6, 4);
    if (y == 2022) return hw__date(2022, 6, 2);
    int d31 = hw_days_from_civil(hw__date(y, 5, 31));
    return hw_civil_from_days(d31 - (hw__weekday(d31) + 6) % 7);
}

static hw_date hw__summer(int y) {
    int d31 = hw_days_from_civil(hw__date(y, 8, 31));
    return hw_civil_from_days(d31 - (hw__weekday(d31) + 6) % 7);
}

bool hw_is_bank_holiday(hw_date d) {
    int y = d.y;
    int days = hw_days_from_civil(d);

    /* New Year's Day; on a weekend, the following Monday as well. */
    if (d.m == 1) {
        if (d.d == 1) return true;
        int nyd = hw__weekday(hw_days_from_civil(hw__date(y, 1, 1)));
        if (nyd == 6 && d.d == 3) return true;
        if (nyd == 0 && d.d == 2) return true;
    }

    int easter = hw_days_from_civil(hw_easter_sunday(y));
    if (days == easter - 2 || days == easter + 1) return true;

    if (hw__same(d, hw__early_may(y)) || hw__same(d, hw__spring(y)) || hw__same(d, hw__summer(y)))
        return true;

    /* Christmas and Boxing Day; a day that falls on a weekend is made up
     * on the next weekday not already a holiday. */
    if (d.m == 12) {
        if (d.d == 25 || d.d == 26) return true;
        int xmas = hw__weekday(hw_days_from_civil(hw__date(y, 12, 25)));
        if (xmas == 6 && (d.d == 27 || d.d == 28)) return true;  /* Sat: Mon+Tue */
        if (xmas == 0 && d.d == 27) return true;                 /* Sun: Tue */
        if (xmas == 5 && d.d == 28) return true;                 /* Fri: Boxing Sat -> Mon */
    }

    for (size_t i = 0; i < sizeof hw__one_off / sizeof hw__one_off[0]; i++)
        if (hw__same(d, hw__one_off[i])) return true;
    return false;
}

bool hw_is_working_day(hw_date d) {
    int wd = hw__weekday(hw_days_from_civil(d));
    if (wd == 0 || wd == 6) return false;
    return !hw_is_bank_holiday(d);
}

hw_date hw_add_working_days(hw_date d, int n) {
    int days = hw_days_from_civil(d);
    while (n > 0) {
        days++;
        if (hw_is_working_day(hw_civil_from_days(days))) n--;
    }
    return hw_civil_from_days(days);
}

int64_t hw_working_days_deadline(int64_t from_ms, int n) {
    if (n < 0) n = 0;
    hw_date end = hw_add_working_days(hw_london_date(from_ms, NULL), n);
    hw_date next = hw_civil_from_days(hw_days_from_civil(end) + 1);
    return hw_london_instant(next, 0, 0) - 1;
}

/* ---- RFC 3339 ---- */

void hw_format_rfc3339(int64_t at_ms, char *buf) {
    int64_t days = hw__floor_div(at_ms, MS_PER_DAY);
    int64_t in_day = at_ms - days * MS_PER_DAY;
    hw_date d = hw_civil_from_days((int)days);
    int hh = (int)(in_day / MS_PER_HOUR);
    int mi = (int)(in_day % MS_PER_HOUR / MS_PER_MINUTE);
    int ss = (int)(in_day % MS_PER_MINUTE / 1000);
    int ms = (int)(in_day % 1000);
    /* Through a buffer wide enough for any int, so the compiler can see no
     * truncation; the fields are in range, so 24 characters are copied. */
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.y, d.m, d.d, hh, mi, ss, ms);
    size_t n = strlen(tmp);
    if (n > 31)
        n = 31;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

/* Exactly n decimal digits at *p; advances p. -1 if not. */
static int hw__digits(const char **p, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

int hw_parse_rfc3339(const char *s, int64_t *out_ms) {
    if (!s || !out_ms) return -1;
    const char *p = s;
    int y, mo, d, hh, mi, ss, ms = 0;
    if ((y = hw__digits(&p, 4)) < 0 || *p++ != '-') return -1;
    if ((mo = hw__digits(&p, 2)) < 0 || *p++ != '-') return -1;
    if ((d = hw__digits(&p, 2)) < 0) return -1;
    if (*p != 'T' && *p != 't') return -1;
    p++;
    if ((hh = hw__digits(&p, 2)) < 0 || *p++ != ':') return -1;
    if ((mi = hw__digits(&p, 2)) < 0 || *p++ != ':') return -1;
    if ((ss = hw__digits(&p, 2)) < 0) return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -1;
        /* Keep milliseconds; further digits are truncated. */
        int scale = 100;
        while (*p >= '0' && *p <= '9') {
            ms += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    int64_t offset_ms = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh, om;
        if ((oh = hw__digits(&p, 2)) < 0 || *p++ != ':') return -1;
        if ((om = hw__digits(&p, 2)) < 0) return -1;
        if (oh > 23 || om > 59) return -1;
        offset_ms = sign * ((int64_t)oh * MS_PER_HOUR + (int64_t)om * MS_PER_MINUTE);
    } else {
        return -1;
    }
    if (*p != '\0') return -1;
    /* Leap seconds (ss = 60) are refused: Unix time has no place for them. */
    if (mo < 1 || mo > 12 || d < 1 || d > hw__days_in_month(y, mo) || hh > 23 || mi > 59 || ss > 59)
        return -1;
    int64_t days = hw_days_from_civil(hw__date(y, mo, d));
    *out_ms = days * MS_PER_DAY + (int64_t)hh * MS_PER_HOUR + (int64_t)mi * MS_PER_MINUTE
              + (int64_t)ss * 1000 + ms - offset_ms;
    return 0;
}

int hw_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return rc;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

struct timespec hw_monotonic_after_ms(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
