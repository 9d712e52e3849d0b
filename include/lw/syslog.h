/* Syslog lines, RFC 3164 (BSD) and RFC 5424, cut into their parts without allocating: the parts
 * are slices of the line; timestamps are read with timefmt.h. Turning the parts into a template
 * value (names, types, the structured-data object) is fn_parse.c's job. */
#ifndef LW_SYSLOG_H
#define LW_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/str.h"

/* A part absent from the line (a 5424 "-", a 3164 line without host or tag) has p == NULL. */
struct lw_syslog {
    int pri;       /* 0..191: facility pri / 8, severity pri % 8; -1 for a line without <PRI> */
    int version;   /* 5424's VERSION (1..99); 0 for RFC 3164 */
    bool has_time; /* false for a 5424 "-" */
    int64_t ns;    /* the timestamp (see timefmt.h) */
    int32_t off;   /* its UTC offset in seconds */
    struct lw_str host, app, procid, msgid;
    struct lw_str seq; /* Cisco's sequence number after <PRI> ("<189>1234: ..."), digits */
    struct lw_str sd;  /* 5424 STRUCTURED-DATA as written, validated; p NULL for "-" */
    struct lw_str msg; /* the rest, without a leading UTF-8 BOM; p != NULL (maybe empty) */
};

/* lw_syslog_parse: cut the line s (len bytes) into *out. The format is RFC 5424 when the
 * priority is followed by a version number and a space ("<34>1 "), else RFC 3164.
 *
 * RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG],
 * each header field "-" or printable ASCII without spaces; TIMESTAMP is RFC 3339 (a stamp
 * without a zone is local time in zone, not NULL); SD is "-" or one or more [ID param="value" ...]
 * elements, where a value may hold \" \\ \] escapes; MSG may start with a BOM, which is dropped.
 *
 * RFC 3164: [<PRI>]TIMESTAMP SP [HOSTNAME SP] [TAG[\[PID\]]: SP] MSG where TIMESTAMP is
 * "Mmm dd hh:mm:ss" (day space-padded or not) in zone, or an RFC 3339 stamp (as rsyslog
 * writes with high-precision stamps). What devices add to Mmm dd hh:mm:ss is read too: a year
 * before the time ("Mar 10 2024 22:14:15", Cisco), a fraction of a second (".123", Cisco's
 * msec), a leading '*' or '.' (Cisco: clock not set / not in sync) and a ':' after the stamp;
 * a year after the time ("22:14:15 2024") only when a host that is not a tag and then a tag
 * follow it, since "22:14:15 2024 app: x" may as well have host 2024 (which it keeps). Without
 * a year, timefmt.h's rule for dates without one picks it (the latest year that puts the
 * stamp at most LW_TIME_FUTURE_S, a day, after ref_ns), so "Dec 31" read on Jan 1 is last
 * year, and "Feb 29" takes the latest leap year. HOSTNAME is absent when the word after the stamp
 * is a whole tag ("app:" or "app[12]:", ending in ':'; "fe80::1" is a host). TAG is a word of
 * characters other than ':' '[' and white space, followed by an optional [PID] and a ':'; when the
 * next word is not such a tag, there is no app and the message starts there. A line that does not
 * start with
 * '<' is RFC 3164 without PRI, as syslog daemons write files (/var/log/syslog, "Mar 10
 * 22:14:15 web-01 sshd[4021]: ..." or with an RFC 3339 stamp): out->pri is then -1.
 * Cisco IOS: after <PRI>, a sequence number "1234: " (out->seq) and a host "host: " before
 * the stamp; a line whose text after them is a Cisco mnemonic ('%', or ': %': "<189>1234:
 * %LINK-3-UPDOWN: ...") is a message without a header (has_time false).
 * In 5424 structured data, blanks around '=' and between parameters are accepted.
 * ref_ns 0 means the system clock.
 *
 * Returns 0, or -1 with a lowercase message in err (errcap bytes) and the byte offset in s it
 * refers to in *erroff: "priority 200 out of range 0-191", "expected '<PRI>' or a timestamp
 * (Mmm dd hh:mm:ss or RFC 3339) at the start, found 'x'", ... */
struct lw_tz;

int lw_syslog_parse(const char *s, size_t len, int64_t ref_ns, const struct lw_tz *zone,
                    struct lw_syslog *out, char *err, size_t errcap, size_t *erroff);

/* Walking the structured data of a parsed line: init with out->sd, then lw_syslog_sd_next
 * returns 1 with the next item, 0 at the end. An item is an element (*param p == NULL, *id the
 * SD-ID) or a parameter of the last element (*id the PARAM-NAME, *param its value). A value
 * holding escapes is unescaped into scratch, which must hold sd.len bytes and is used at the
 * value's own offset (values never overlap); otherwise it points into the line. Only valid on
 * text lw_syslog_parse accepted. */
struct lw_syslog_sd {
    struct lw_str sd;
    size_t i;
    bool in_elem;
};
void lw_syslog_sd_init(struct lw_syslog_sd *it, struct lw_str sd);
int lw_syslog_sd_next(struct lw_syslog_sd *it, char *scratch, struct lw_str *id,
                      struct lw_str *param);

/* lw_syslog_facility, lw_syslog_severity: the names of code 0..23 ("kern", "user", ...,
 * "local7") and 0..7 ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"). */
const char *lw_syslog_facility(int code);
const char *lw_syslog_severity(int code);

#endif
