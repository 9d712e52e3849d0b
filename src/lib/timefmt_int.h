/* What timefmt.c (named formats), timeparse.c (parsing), timeformat.c (formatting) and
 * calendar.c (calendar arithmetic) share: constants, the named formats, the broken-down stamp,
 * the month and weekday names, and the helpers each half calls in the others. Private to these
 * four files; the public interface is lw/timefmt.h. */
#ifndef LW_TIMEFMT_INT_H
#define LW_TIMEFMT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_S 1000000000LL
#define DAY_S    86400

/* The named formats that stand for directives. */
#define FMT_RFC3164 "%b %e %H:%M:%S"
#define FMT_CLF     "%d/%b/%Y:%H:%M:%S %z"

/* The formats callers may name instead of writing directives. */
enum named { N_NONE, N_RFC3339, N_EPOCH_S, N_EPOCH_MS, N_EPOCH_US, N_EPOCH_NS, N_RFC3164, N_CLF };

/* A stamp broken down in its local time. */
struct civil {
    int64_t year, epoch; /* epoch: UTC seconds, rounded down */
    int mon, mday, yday, wday, hour, min, sec;
    int32_t nsec, off;
    const char *abbr; /* %Z: the zone's abbreviation, NULL for a fixed offset */
};

/* English month names (January first) and weekday names (Sunday first), defined in calendar.c;
 * every full name starts with its 3-letter abbreviation. */
extern const char *const lw_cal_month_names[12];
extern const char *const lw_cal_day_names[7];

/* calendar.c. lw_cal_is_leap: y is a leap year (proleptic Gregorian). lw_cal_month_days: the
 * days in month m (1-12) of year y. lw_cal_norm_off: off, or 0 (UTC) when it is a day or more
 * away from it. lw_cal_floor_s: floor(ns / 1e9). lw_cal_breakdown: the stamp ns at offset off
 * (normalized as lw_cal_norm_off does) into *c, with c->abbr NULL. */
bool lw_cal_is_leap(int64_t y);
int lw_cal_month_days(int64_t y, int m);
int32_t lw_cal_norm_off(int32_t off);
int64_t lw_cal_floor_s(int64_t ns);
void lw_cal_breakdown(int64_t ns, int32_t off, struct civil *c);

/* timefmt.c. lw_time_named: the named format fmt (fmtlen bytes) is, in any case, or N_NONE. */
enum named lw_time_named(const char *fmt, size_t fmtlen);

/* Length of the directive at f[0] == '%' (flen >= 2): 3 for %Nf, %:z and %Ez, else 2.
 * Inline because the parse and format loops call it for every directive: as a call into
 * another file it made a strftime format_time measurably slower (about 3%). */
static inline size_t
lw_time_dir_len(const char *f, size_t flen)
{
    if (flen >= 3 && f[1] >= '1' && f[1] <= '9' && f[2] == 'f') return 3;
    if (flen >= 3 && (f[1] == ':' || f[1] == 'E') && f[2] == 'z') return 3;
    return 2;
}

/* timeparse.c. lw_time_show: up to max bytes of s (len bytes) copied into out (cap bytes, NUL
 * terminated) for a message, stopping before whitespace after the first byte when word is set,
 * finishing a cut UTF-8 sequence, control bytes escaped as \xhh; returns out. */
const char *lw_time_show(char *out, size_t cap, const char *s, size_t len, size_t max, bool word);

#endif
