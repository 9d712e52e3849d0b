/* Timestamps as text: strftime-style parsing and formatting, RFC 3339, epoch numbers, and the
 * fixed stamps of syslog (RFC 3164) and access logs (CLF). Calendar arithmetic is our own
 * (proleptic Gregorian): no strptime, timegm, TZ or locale, no global state, no allocation.
 * Zones (fixed or IANA, with DST) come from tz.c as struct lw_tz; the choice of format and of
 * zone is left to the caller. */
#ifndef LW_TIMEFMT_H
#define LW_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

struct lw_buf;
struct lw_tz;

/* A timestamp is an int64_t ns, nanoseconds since 1970-01-01T00:00:00Z (so 1677-09-21T00:12:43Z
 * to 2262-04-11T23:47:16Z), plus an int32_t off, the UTC offset in seconds it was written with,
 * used again when it is formatted. Offsets are within +-23:59:59 (one beyond is taken as 0, UTC);
 * offsets read from text are whole minutes, but an IANA zone's local mean time before about
 * 1900-1940 has seconds ("Europe/Amsterdam" 1937: +00:19:32), which %z, %:z and rfc3339 then
 * write as +hhmmss / +hh:mm:ss (as Python does) so the text still names the exact instant.
 *
 * Directives (parse and format):
 *   %Y year, 4 digits          %m month 01-12             %d day 01-31
 *   %e day, space-padded       %y year 00-99 (69-99: 19xx, 00-68: 20xx)
 *   %j day of year 001-366     %H hour 00-23              %I hour 01-12, with %p AM/PM
 *   %M minute 00-59            %S second 00-60            %s seconds since the epoch
 *   %f fraction of a second (format: 6 digits; %1f..%9f: that many digits, truncated)
 *   %b %h month abbreviation   %B month name              %a %A weekday abbreviation, name
 *   %z +hhmm                   %:z %Ez +hh:mm             %Z the zone's abbreviation
 *   (%Z: "EST", "CEST", "+0530" when formatting in an IANA zone, else "UTC" when off is 0 and
 *   +hh:mm otherwise)
 *   %T = %H:%M:%S   %F = %Y-%m-%d   %D = %m/%d/%y   %R = %H:%M   %n newline   %t tab   %% '%'
 * Any other byte is literal; a format directive we do not know is written as it is.
 *
 * Parsing rules (decisions documented here, tested in tests/unit/test_time.c):
 * - %Y takes exactly 4 digits. %m %d %e %H %I %M %S %y take 1 or 2 digits (2 when there are 2,
 *   so "%H%M" reads "0930"); %j takes 1-3. %e also skips one leading space. No sign anywhere
 *   except %s, which takes an optional '-'.
 * - %f takes 1-9 digits (more is an error); %Nf takes exactly N. A literal '.' or ',' just before
 *   %f in the format is optional: "%S.%f" reads "05" and "05.25" (Go trims zero fractions).
 * - Names (%b %h %B and %a %A) are English, case-insensitive, full or abbreviated for either
 *   directive. Weekdays are checked for spelling only, not against the date. %p is AM/PM in any
 *   case and only applies with %I; %I without %p is a morning hour (12 is 00).
 * - %z and %Z read Z, +hh, +hhmm or +hh:mm (hh at most 23, mm at most 59); %Z also UTC and GMT.
 * - A run of spaces in the format matches one or more spaces or tabs; %n and %t match one or more
 *   whitespace bytes. Every other byte must match exactly. The whole input must be used.
 * - Fields default to 1970-01-01 00:00:00, so a time-only format gives a time on 1970-01-01. A
 *   format with a month, day or day of year but no year takes the latest year that puts the
 *   stamp at most LW_TIME_FUTURE_S (one day) after the reference time (lw_time_parse_ref),
 *   from the year after the reference's down to 8 years before it. Logs are read after they
 *   are written, so "Mar 20" read on Mar 12 is last year's, "Dec 31" read on Jan 1 too, "Jan 1"
 *   read late on Dec 31 (a clock a little ahead) is next year's, and "Feb 29" is the latest
 *   leap year's. The day covers clock skew and stamps read in a zone behind the sender's
 *   (a +14:00 clock read as UTC is 14 hours ahead); a longer margin would put lines of a
 *   year-old log read again (an archive, a replay) in the future. parse_syslog uses this rule.
 * - Ranges are checked: month 1-12, the day within its month (leap years included), hour 0-23
 *   (24:00 is rejected), minute 0-59, second 0-60. A leap second :60 is read as :59.999999999,
 *   so it sorts between :59 and the next :00. If %j and a month or day are both given they must
 *   agree.
 * - %s gives the instant by itself, floor-based: %f counts forward from it, as `date +%s.%N`
 *   writes ("-2.5" with "%s.%f" is -1.5 s). Other date and time fields beside %s are checked but
 *   do not change the result; %z beside %s only sets the offset kept for formatting.
 * - The offset is the one in the text (%z %Z), else the default zone's (lw_time_parse_zone) at
 *   that local time. A local time in a zone's spring-forward gap or fall-back overlap is read as
 *   lw_tz_off_local says: the offset in effect before the transition, i.e. the earlier instant
 *   of an overlap, and for a gap the instant the skipped wall time would have been ("02:30" on
 *   a night that skips 02:00-03:00 is 03:30 daylight time); the stamp keeps the offset really
 *   in effect at the instant, so it is written back as 03:30.
 * - A result outside the int64 nanosecond range is an error, never wraps.
 *
 * Named formats, accepted as the whole format string, in any case ("ISO8601" is iso8601):
 *   rfc3339, iso8601  parse YYYY-MM-DD(T|t| )hh:mm:ss[(.|,)1-9 digits][Z|+hh:mm|+hhmm|+hh], with
 *                     exactly 2 digits per field, the zone optional (the default zone); format as
 *                     lw_time_rfc3339.
 *   epoch, epoch_s    a signed decimal number of seconds, "1700000000" or "-1.5" (the sign
 *                     applies to the fraction too); format writes 0, 3, 6 or 9 fraction digits,
 *                     as many as the stamp needs.
 *   epoch_ms epoch_us a signed integer of milli/microseconds, with an optional fraction down to
 *                     the nanosecond on parse; format writes the integer, rounded down.
 *   epoch_ns          a signed integer of nanoseconds.
 *   rfc3164           syslog's "Mmm dd hh:mm:ss" or "Mmm  d hh:mm:ss": %b %e %H:%M:%S, no year.
 *   clf               access logs: %d/%b/%Y:%H:%M:%S %z ("10/Oct/2000:13:55:36 -0700").
 */

/* The year rule's margin, in seconds: a stamp without a year may lie this far after the
 * reference time (see "Parsing rules" above). */
#define LW_TIME_FUTURE_S 86400

/* lw_time_parse_ref: parse s (len bytes) with the format fmt (fmtlen bytes) as described above.
 * default_off applies when the text carries no zone. ref_ns is the reference time for formats
 * without a year (the rule above: the latest year that puts the stamp at most LW_TIME_FUTURE_S
 * after ref_ns); 0 means "now" (the system clock is read only then).
 * On success sets *ns and *off and returns 0. On failure returns -1, leaves *ns and *off alone,
 * writes a lowercase message into err (errcap bytes, always NUL-terminated when errcap > 0;
 * err may be NULL when errcap is 0) and the byte offset in s it refers to into *erroff (may be
 * NULL). Messages look like "expected 2 digits for %d at byte 3, found 'x'", "day 31 out of range
 * for April", "unexpected text 'abc' after the time", "input ends before %H". */
int lw_time_parse_ref(const char *s, size_t len, const char *fmt, size_t fmtlen,
                      int32_t default_off, int64_t ref_ns, int64_t *ns, int32_t *off, char *err,
                      size_t errcap, size_t *erroff);

/* lw_time_parse_zone: lw_time_parse_ref with the default zone zone (borrowed, not NULL)
 * instead of a fixed default offset: zone-less text is local time in zone, and *off is the
 * zone's offset at the resulting instant (the text's own offset when it has one). */
int lw_time_parse_zone(const char *s, size_t len, const char *fmt, size_t fmtlen,
                       const struct lw_tz *zone, int64_t ref_ns, int64_t *ns, int32_t *off,
                       char *err, size_t errcap, size_t *erroff);

/* lw_time_parse: lw_time_parse_ref with ref_ns 0, so a stamp without a year is placed in the
 * year the rule above picks for the current time. Everything else as lw_time_parse_ref. */
int lw_time_parse(const char *s, size_t len, const char *fmt, size_t fmtlen, int32_t default_off,
                  int64_t *ns, int32_t *off, char *err, size_t errcap, size_t *erroff);

/* lw_time_format: append the stamp ns, shown at offset off, to b using the format fmt (fmtlen
 * bytes, directives and named formats as above). Never fails: unknown directives are written
 * literally. */
void lw_time_format(struct lw_buf *b, int64_t ns, int32_t off, const char *fmt, size_t fmtlen);

/* lw_time_format_zone: lw_time_format, shown in zone when zone is not NULL (its offset at ns,
 * and its abbreviation for %Z), else at off. */
void lw_time_format_zone(struct lw_buf *b, int64_t ns, int32_t off, const struct lw_tz *zone,
                         const char *fmt, size_t fmtlen);

/* lw_time_rfc3339: append YYYY-MM-DDThh:mm:ss[.fff|.ffffff|.fffffffff](Z|+hh:mm) to b, with as
 * many fraction digits as the stamp needs (0, 3, 6 or 9), and Z when off is 0. This is how
 * logwash writes timestamps in JSON. */
void lw_time_rfc3339(struct lw_buf *b, int64_t ns, int32_t off);

/* lw_time_zone: parse a fixed zone: "UTC", "GMT" or "Z" (any case), or an offset +hh:mm, +hhmm
 * or +hh (or '-'), hh at most 23 and mm at most 59. Sets *off (seconds east of UTC) and returns
 * 0, or returns -1 with a message in err (errcap bytes). IANA names are lw_tz_load's. */
int lw_time_zone(const char *s, size_t len, int32_t *off, char *err, size_t errcap);

/* lw_time_fmt_check: check that fmt (fmtlen bytes) is a named format (in any case) or has
 * directives and uses only those above, so a template can reject a bad constant format when it
 * is compiled. Returns 0, or -1 with a message in err (errcap bytes) and, for a bad directive,
 * its byte offset in fmt in *erroff (may be NULL; left alone when the message is about the
 * whole format: a format with no '%' that is not a name, "unknown time format 'rfc3399' (did
 * you mean rfc3339?); a strftime format has % directives"). */
int lw_time_fmt_check(const char *fmt, size_t fmtlen, char *err, size_t errcap, size_t *erroff);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d, and back (for tz.c's rules). */
int64_t lw_time_days_from_civil(int64_t y, int m, int d);
void lw_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
