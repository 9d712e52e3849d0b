/* Time zones: fixed offsets and IANA zones read from the compiled TZif files of the system's
 * tzdata (our own reader for TZif versions 1-4: transitions, local time types, abbreviations
 * and the POSIX TZ footer for instants after the last transition). No libc localtime, no TZ
 * environment, no global state: a loaded zone is immutable and may be shared by threads.
 * Parsing and formatting stamps is timeparse.c's and timeformat.c's; choosing which zone applies is
 * the caller's. */
#ifndef LW_TZ_H
#define LW_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lw_tz_type {
    int32_t off;   /* seconds east of UTC */
    uint8_t isdst; /* from the file, not used for offsets */
    uint8_t abbr;  /* index into chars */
};

/* One date of a POSIX TZ rule: Jn (kind 'J', a = n), n (kind 'n', a = n) or Mm.w.d (kind 'M',
 * a = m, b = w, c = d), at time seconds after local midnight (-167h to 167h). */
struct lw_tz_date {
    char kind;
    int a, b, c;
    int32_t time;
};

/* A zone. Callers embed a fixed one (lw_tz_fixed) or hold a loaded one (lw_tz_load); the
 * fields are read only by tz.c. */
struct lw_tz {
    char *name; /* as asked for (malloc'd), NULL for lw_tz_fixed */
    size_t namelen;
    bool fixed;
    int32_t fixed_off;
    uint32_t ntrans, ntypes;
    int64_t *trans; /* ntrans ascending UTC seconds */
    uint8_t *idx;   /* type after each transition */
    struct lw_tz_type *types;
    char *chars; /* abbreviations, NUL-terminated, indexed by lw_tz_type.abbr */
    /* the footer: std (and dst when has_dst) for instants after the last transition */
    bool has_rule, has_dst;
    int32_t std_off, dst_off;
    char std_abbr[16], dst_abbr[16];
    struct lw_tz_date start, end;
};

/* lw_tz_fixed: make z the fixed offset off (seconds east of UTC); nothing to free. */
void lw_tz_fixed(struct lw_tz *z, int32_t off);

/* lw_tz_load: the zone named by name (len bytes): "UTC", "GMT", "Z" (any case), an offset
 * +hh[:mm] / +hhmm (or '-'), or an IANA name such as "Europe/Paris", read from $TZDIR or else
 * /usr/share/zoneinfo. Names are checked before any file is opened: only letters, digits and
 * "/_+-." are allowed, no empty, "." or ".." component, no leading '/', at most 255 bytes, so
 * a name taken from a record cannot reach other files. Returns a zone the caller frees with
 * lw_tz_free, or NULL with a lowercase message in err (errcap bytes). */
struct lw_tz *lw_tz_load(const char *name, size_t len, char *err, size_t errcap);

/* lw_tz_parse_tzif: the zone in the TZif image p (len bytes), named name. For tests and
 * lw_tz_load. NULL with a message in err when the image is malformed. */
struct lw_tz *lw_tz_parse_tzif(const unsigned char *p, size_t len, const char *name, size_t namelen,
                               char *err, size_t errcap);

void lw_tz_free(struct lw_tz *z);

/* lw_tz_off_at: the offset (seconds east of UTC) in effect at the UTC instant t (seconds).
 * When abbr is not NULL, sets it to the zone's abbreviation then ("EST", "+0530"), valid as
 * long as z, or to NULL for fixed zones. */
int32_t lw_tz_off_at(const struct lw_tz *z, int64_t t, const char **abbr);

/* lw_tz_off_local: the offset to subtract from the wall-clock time local (seconds since
 * 1970-01-01 00:00 read as if UTC) to get the instant. A time that occurs twice (the fall-back
 * overlap) takes the earlier instant, i.e. the offset before the transition; a time that does
 * not exist (the spring-forward gap) also takes the offset before the transition, so 02:30 on
 * a night that skips from 02:00 to 03:00 is the instant written 03:30 afterwards (as Python's
 * fold=0 and Java's ZonedDateTime do). */
int32_t lw_tz_off_local(const struct lw_tz *z, int64_t local);

/* lw_tz_name_ok: is name (len bytes) acceptable for lw_tz_load as an IANA name (see above). */
bool lw_tz_name_ok(const char *name, size_t len);

/* A small cache of zones named at run time (zone arguments taken from records): at most
 * LW_TZCACHE_N zones, the oldest replaced first, so steady state allocates nothing; and the
 * last LW_TZCACHE_BAD names that failed (up to 64 bytes), with their messages, so a stream of
 * records naming an unknown zone costs no file lookup each. */
#define LW_TZCACHE_N   16
#define LW_TZCACHE_BAD 4
struct lw_tzcache {
    struct lw_tz *z[LW_TZCACHE_N];
    uint32_t n, next;
    struct {
        uint8_t len; /* 0: unused */
        char name[64];
        char err[200];
    } bad[LW_TZCACHE_BAD];
    uint32_t next_bad;
};

/* lw_tzcache_get: the zone named name, from c or loaded into it. The result is valid until the
 * next lw_tzcache_get or lw_tzcache_fini on c. NULL with a message in err when the zone cannot
 * be loaded (the last failures are remembered, see above). */
const struct lw_tz *lw_tzcache_get(struct lw_tzcache *c, const char *name, size_t len, char *err,
                                   size_t errcap);
void lw_tzcache_fini(struct lw_tzcache *c);

#endif
