/* hw_time.h -- time as the protocol counts it (PROTOCOL "Time").
 *
 * Instants are Unix milliseconds (UTC). Hours-based deadlines are exact
 * durations (hw_add_hours). Local time is Europe/London, computed from the
 * UK rule (BST from 01:00 UTC on the last Sunday of March to 01:00 UTC on
 * the last Sunday of October) so no process-wide TZ state is touched.
 * Working days skip weekends and England & Wales bank holidays: New Year's
 * Day, Good Friday, Easter Monday, early May, spring and summer bank
 * holidays, Christmas Day and Boxing Day with substitute days, plus a table
 * of one-off days (e.g. 2022-09-19, 2023-05-08) and moved days (2020 VE
 * day). All functions are pure and thread-safe. */
#ifndef HW_TIME_H
#define HW_TIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct hw_date { int y, m, d; } hw_date;

int64_t hw_now_ms(void);                 /* wall clock; see hw_clock_* */

/* Waits that must not jump with the wall clock: a condition variable timed
 * on CLOCK_MONOTONIC (0 or an errno value), and the CLOCK_MONOTONIC instant
 * ms from now (a negative ms counts as 0) for its pthread_cond_timedwait. */
int hw_cond_init_monotonic(pthread_cond_t *cv);
struct timespec hw_monotonic_after_ms(int64_t ms);
/* Injectable clock for tests: HOMEWARD_CLOCK_OFFSET_MS (env) is added to
 * the wall clock when set; hw_clock_set_offset overrides. */
void hw_clock_set_offset(int64_t offset_ms);
/* The offset now in force (so a scheduler using Redis TIME as its clock
 * can apply the same shift). */
int64_t hw_clock_offset_ms(void);

int64_t hw_add_hours(int64_t at_ms, int hours);
/* UTC offset of Europe/London at instant (0 or 3600000 ms). */
int64_t hw_london_offset_ms(int64_t at_ms);
/* Local calendar date and minutes since local midnight at instant. */
hw_date hw_london_date(int64_t at_ms, int *minute_of_day);
/* Instant of local date + hh:mm in Europe/London (for a time in the spring
 * gap, the instant one hour later; in the autumn overlap, the first). */
int64_t hw_london_instant(hw_date d, int hh, int mm);
/* Next instant strictly after at_ms whose London local time is hh:mm. */
int64_t hw_next_london_time(int64_t at_ms, int hh, int mm);

bool hw_is_bank_holiday(hw_date d);
bool hw_is_working_day(hw_date d);
/* Add n >= 0 working days to a local date: the end of the n-th working day
 * after d (23:59:59.999 local) -- "within 5 working days" of an event. */
int64_t hw_working_days_deadline(int64_t from_ms, int n);
hw_date hw_add_working_days(hw_date d, int n);
hw_date hw_easter_sunday(int year);
int hw_days_from_civil(hw_date d);       /* days since 1970-01-01 */
hw_date hw_civil_from_days(int days);
/* RFC 3339 "2026-11-23T11:15:49.000Z" into buf (>= 32 bytes); parse back
 * (accepts Z or +hh:mm offsets); parse returns -1 if malformed. */
void hw_format_rfc3339(int64_t at_ms, char *buf);
int hw_parse_rfc3339(const char *s, int64_t *out_ms);

#endif
