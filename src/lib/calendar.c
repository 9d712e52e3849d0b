/* The calendar behind timefmt: days from civil dates and back (proleptic Gregorian, our own, so
 * nothing depends on libc, TZ or the locale), leap years and month lengths, the English month
 * and weekday names, and a stamp broken down at an offset (struct civil). Zones are tz.c's;
 * parsing and formatting text are timeparse.c's and timeformat.c's. */
#include "lw/timefmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "timefmt_int.h"

const char *const lw_cal_month_names[12] = { "January",   "February", "March",    "April",
                                             "May",       "June",     "July",     "August",
                                             "September", "October",  "November", "December" };
const char *const lw_cal_day_names[7] = { "Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday" };

bool
lw_cal_is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int
lw_cal_month_days(int64_t y, int m)
{
    static const unsigned char n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && lw_cal_is_leap(y) ? 29 : n[m - 1];
}

/* Days from 1970-01-01 to y-m-d. Years start in March here, so the leap day ends a year and the
 * month lengths repeat in a 153-day pattern; 400-year eras make negative years work. */
int64_t
lw_time_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
void
lw_time_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int32_t
lw_cal_norm_off(int32_t off)
{
    if (off <= -DAY_S || off >= DAY_S) return 0;
    return off;
}

void
lw_cal_breakdown(int64_t ns, int32_t off, struct civil *c)
{
    c->off = lw_cal_norm_off(off);
    c->abbr = NULL;
    int64_t rem = ns % NS_PER_S;
    c->epoch = ns / NS_PER_S - (rem < 0);
    c->nsec = (int32_t)(rem < 0 ? rem + NS_PER_S : rem);
    int64_t local = c->epoch + c->off;
    int64_t days = local / DAY_S - (local % DAY_S < 0);
    int64_t secs = local - days * DAY_S;
    c->hour = (int)(secs / 3600);
    c->min = (int)(secs / 60 % 60);
    c->sec = (int)(secs % 60);
    lw_time_civil_from_days(days, &c->year, &c->mon, &c->mday);
    c->yday = (int)(days - lw_time_days_from_civil(c->year, 1, 1)) + 1;
    c->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

/* floor(ns / 1e9) */
int64_t
lw_cal_floor_s(int64_t ns)
{
    return ns / NS_PER_S - (ns % NS_PER_S < 0);
}
