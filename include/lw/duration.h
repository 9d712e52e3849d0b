/* Durations written as text ("1h30m", "250ms", "1.5s", "2d") read as a number of nanoseconds,
 * and the unit names a template may ask for. Pure: no allocation, no state. */
#ifndef LW_DURATION_H
#define LW_DURATION_H

#include <stddef.h>

/* lw_duration_unit: the length in nanoseconds of the unit named p (len bytes): "ns", "us" (or
 * "µs"), "ms", "s", "m", "h", "d" (86400 s) or "w" (7 d). Returns 0 with *ns set, or -1. */
int lw_duration_unit(const char *p, size_t len, double *ns);

/* lw_duration_parse: s (len bytes) as an optional sign followed by one or more components,
 * each a decimal number (digits, optionally a '.' and digits; or '.' and digits) and a unit
 * as above, with optional spaces between components: "1h30m", "-1.5s", "2d 4h". A lone "0"
 * is 0. Sets *ns (a double: exact for whole nanoseconds up to 2^53, about 104 days) and returns
 * 0, or returns -1 with a lowercase message in err (errcap bytes) that names the byte it refers
 * to counted from 1, and that byte's offset (from 0) in *erroff: "missing unit after '5' at
 * byte 2 (units: ns us ms s m h d w)", "unexpected ' ' at byte 2: write 5s (units: ...)" for
 * "5 sec", "unknown unit 'x' at byte 2 (units: ...)", "expected a number at byte 1, found 'h'". */
int lw_duration_parse(const char *s, size_t len, double *ns, char *err, size_t errcap,
                      size_t *erroff);

/* lw_duration_unit_hint: the unit that p (len bytes), which lw_duration_unit does not know,
 * most likely means: "sec", "seconds" and "S" are "s", "hours" is "h", "msec" is "ms", the
 * Greek "μs" is "us" (words in any case); NULL when there is none ("M" may be months). For
 * messages only. */
const char *lw_duration_unit_hint(const char *p, size_t len);

#endif
