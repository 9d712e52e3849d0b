/* Syslog lines (RFC 3164 and RFC 5424) cut into slices of the line: priority, header fields,
 * structured data and message. Timestamps go through timeparse.c, which also has the year rule
 * for RFC 3164's stamps without one. No allocation: building template values from the parts is
 * fn_parse.c's job. */
#include "lw/syslog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lw/timefmt.h"

static const char *const facilities[24] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7",
};

static const char *const severities[8] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

const char *
lw_syslog_facility(int code)
{
    return code >= 0 && code < 24 ? facilities[code] : "";
}

const char *
lw_syslog_severity(int code)
{
    return code >= 0 && code < 8 ? severities[code] : "";
}

/* The parser's state: the line, the position, where errors go. */
struct sp {
    const char *s;
    size_t len, i;
    char *err;
    size_t errcap, *erroff;
    bool pri; /* the line starts with <PRI> (for messages: "after the priority") */
};

static int fail(struct sp *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct sp *p, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (p->errcap > 0) vsnprintf(p->err, p->errcap, fmt, ap);
    va_end(ap);
    if (p->erroff != NULL) *p->erroff = at;
    return -1;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* unplaced: drop timefmt's own " at byte N" from its message err, whose offsets count from
 * the stamp; ours, from the start of the line, is added at the end. */
static const char *
unplaced(char *err)
{
    char *at;
    while ((at = strstr(err, " at byte ")) != NULL) {
        char *e = at + 9;
        while (*e >= '0' && *e <= '9') {
            e++;
        }
        memmove(at, e, strlen(e) + 1);
    }
    return err;
}

/* found: a short description of what is at p->i, for messages. */
static const char *
found(const struct sp *p, char *buf, size_t cap)
{
    if (p->i >= p->len) return "the end of the line";
    unsigned char c = (unsigned char)p->s[p->i];
    if (c == ' ') return "a space";
    if (c > 0x20 && c < 0x7f) {
        snprintf(buf, cap, "'%c'", c);
    } else {
        snprintf(buf, cap, "byte 0x%02x", c);
    }
    return buf;
}

static int
priority(struct sp *p, int *pri)
{
    char fb[16];
    p->i = 1; /* past the '<' the caller saw */
    int v = 0;
    size_t d = 0;
    while (p->i < p->len && is_digit(p->s[p->i]) && d < 4) {
        v = v * 10 + (p->s[p->i++] - '0');
        d++;
    }
    if (d == 0) return fail(p, p->i, "expected a priority number after '<'");
    if (d > 3 || v > 191) return fail(p, 1, "priority %.*s out of range 0-191", (int)d, p->s + 1);
    if (p->i >= p->len || p->s[p->i] != '>') {
        return fail(p, p->i, "expected '>' after the priority, found %s", found(p, fb, sizeof fb));
    }
    p->i++;
    *pri = v;
    return 0;
}

/* word: the run of non-space bytes at p->i (moves past it). */
static struct lw_str
word(struct sp *p)
{
    size_t b = p->i;
    while (p->i < p->len && p->s[p->i] != ' ') {
        p->i++;
    }
    return (struct lw_str){ p->s + b, p->i - b };
}

static int
stamp3339(struct sp *p, struct lw_str w, const struct lw_tz *def, struct lw_syslog *o)
{
    char err[160];
    size_t erroff = 0;
    if (lw_time_parse_zone(w.p, w.len, "rfc3339", 7, def, 1, &o->ns, &o->off, err, sizeof err,
                           &erroff) != 0) {
        return fail(p, (size_t)(w.p - p->s) + erroff, "bad timestamp '%.*s': %s",
                    (int)(w.len > 40 ? 40 : w.len), w.p, unplaced(err));
    }
    o->has_time = true;
    return 0;
}

/* tag_at: the end of the tag "app:" or "app[pid]:" at i and of one optional space after it,
 * with its parts in *app and *pid; 0 when there is no tag at i. loose (a tag after a host):
 * also two forms without the colon, read as VRL (syslog_loose) reads them: "app[pid]" and
 * spaces (macOS "sandboxd[129] ([31211]): ..." is sandboxd, 129 and the message
 * "([31211]): ..."; a colon after the spaces is skipped too), and "app VERSION:" (sysklogd's
 * "syslogd 1.4.1: restart." is syslogd and the message "1.4.1: restart."). */
static size_t
tag_at(const struct sp *p, size_t i, struct lw_str *app, struct lw_str *pid, bool loose)
{
    size_t b = i;
    while (i < p->len && p->s[i] != ':' && p->s[i] != '[' && p->s[i] != ' ' && p->s[i] != '\t') {
        i++;
    }
    if (i == b || i == p->len) return 0;
    *app = (struct lw_str){ p->s + b, i - b };
    *pid = (struct lw_str){ NULL, 0 };
    if (p->s[i] == '[') {
        size_t pb = ++i;
        while (i < p->len && p->s[i] != ']' && p->s[i] != ' ') {
            i++;
        }
        if (i == p->len || p->s[i] != ']' || i == pb) return 0;
        *pid = (struct lw_str){ p->s + pb, i - pb };
        i++;
    }
    if (loose && pid->p != NULL && i < p->len && (p->s[i] == ' ' || p->s[i] == '\t')) {
        while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t'))
            i++;
        if (i == p->len || p->s[i] != ':') return i;
    }
    if (loose && pid->p == NULL && i + 1 < p->len && p->s[i] == ' ' && is_digit(p->s[i + 1])) {
        size_t v = i + 1;
        bool dot = false;
        while (v < p->len && (is_digit(p->s[v]) || p->s[v] == '.')) {
            dot = dot || p->s[v] == '.';
            v++;
        }
        if (dot && v < p->len && p->s[v] == ':') return i + 1;
    }
    if (i == p->len || p->s[i] != ':') return 0;
    i++;
    if (i < p->len && p->s[i] == ' ') i++;
    return i;
}

/* tag: the tag at p->i into o; moves past it and returns true, or returns false. */
static bool
tag(struct sp *p, struct lw_syslog *o, bool loose)
{
    struct lw_str app, pid;
    size_t e = tag_at(p, p->i, &app, &pid, loose);
    if (e == 0) return false;
    o->app = app;
    o->procid = pid;
    p->i = e;
    return true;
}

static bool
digits4(const struct sp *p, size_t i)
{
    return i + 4 <= p->len && is_digit(p->s[i]) && is_digit(p->s[i + 1]) && is_digit(p->s[i + 2]) &&
           is_digit(p->s[i + 3]);
}

/* year_after: whether " yyyy" at i (right after the time) may be a year: only when a host that
 * is not itself a tag and then a tag follow it, so that the other reading (yyyy the host, no
 * tag, the message starting with a host and a tag) is the implausible one. " 2024 app: x"
 * keeps 2024 as the host: both readings are whole headers, and we do not guess. */
static bool
year_after(const struct sp *p, size_t i)
{
    if (!(i < p->len && p->s[i] == ' ' && digits4(p, i + 1) && i + 5 < p->len &&
          p->s[i + 5] == ' ')) {
        return false;
    }
    size_t h = i + 6;
    while (h < p->len && p->s[h] == ' ') {
        h++;
    }
    size_t he = h;
    while (he < p->len && p->s[he] != ' ') {
        he++;
    }
    if (he == h || p->s[he - 1] == ':' || he == p->len) return false;
    while (he < p->len && p->s[he] == ' ') {
        he++;
    }
    struct lw_str app, pid;
    return tag_at(p, he, &app, &pid, false) != 0;
}

/* no_stamp: the message for a line whose timestamp is not at p->i at all: what was expected
 * (form), and up to 15 printable bytes of what was found. */
static int
no_stamp(struct sp *p, const char *form)
{
    char fb[24];
    const char *f = fb;
    size_t n = 0;
    while (p->i + n < p->len && n < 15 && p->s[p->i + n] > 0x1f && p->s[p->i + n] < 0x7f) {
        n++;
    }
    if (n > 0) {
        snprintf(fb, sizeof fb, "'%.*s'", (int)n, p->s + p->i);
    } else {
        f = found(p, fb, sizeof fb);
    }
    return fail(p, p->i, "expected %s %s %s, found %s",
                p->pri ? "a timestamp" : "'<PRI>' or a timestamp", form,
                p->pri ? "after the priority" : "at the start", f);
}

/* stamp_bsd: the Mmm dd stamp at p->i and its variants (lw_syslog_parse), in zone def; moves
 * p->i past it. The scan only finds its extent and form; timeparse.c checks the fields. */
static int
stamp_bsd(struct sp *p, int64_t ref_ns, const struct lw_tz *def, struct lw_syslog *o)
{
    static const char plain[] = "%b %e %H:%M:%S.%f", before[] = "%b %e %Y %H:%M:%S.%f",
                      after[] = "%b %e %H:%M:%S.%f %Y";
    size_t i = p->i;
    /* Cisco marks a clock never set ('*') or out of sync ('.') */
    if (i + 1 < p->len && (p->s[i] == '*' || p->s[i] == '.') && is_alpha(p->s[i + 1])) i++;
    size_t st = i;
    if (!(i + 3 <= p->len && is_alpha(p->s[i]) && is_alpha(p->s[i + 1]) && is_alpha(p->s[i + 2]))) {
        return no_stamp(p, "(Mmm dd hh:mm:ss or RFC 3339)");
    }
    i += 3;
    size_t sp = 0, d = 0;
    while (i < p->len && p->s[i] == ' ' && sp < 2) {
        i++;
        sp++;
    }
    while (i < p->len && is_digit(p->s[i]) && d < 2) {
        i++;
        d++;
    }
    if (sp == 0 || d == 0 || i >= p->len || p->s[i] != ' ') goto shape;
    i++;
    const char *fmt = plain;
    size_t fmtlen = sizeof plain - 1;
    if (digits4(p, i) && i + 4 < p->len && p->s[i + 4] == ' ') { /* Mmm dd yyyy hh:mm:ss */
        fmt = before;
        fmtlen = sizeof before - 1;
        i += 5;
    }
    if (i + 8 > p->len || !is_digit(p->s[i]) || p->s[i + 2] != ':' || p->s[i + 5] != ':') {
        goto shape; /* " 1:02:03" too: the hour has two digits, as the minute and second */
    }
    i += 8;
    if (i + 1 < p->len && p->s[i] == '.' && is_digit(p->s[i + 1])) { /* .mmm (Cisco msec) */
        i++;
        while (i < p->len && is_digit(p->s[i])) {
            i++;
        }
    }
    char err[160];
    size_t erroff = 0, stlen = i - st;
    if (fmt == plain && year_after(p, i) &&
        lw_time_parse_zone(p->s + st, stlen + 5, after, sizeof after - 1, def, ref_ns, &o->ns,
                           &o->off, NULL, 0, NULL) == 0) {
        i += 5; /* Mmm dd hh:mm:ss yyyy host tag: (a yyyy that makes no date is the host) */
    } else if (lw_time_parse_zone(p->s + st, stlen, fmt, fmtlen, def, ref_ns, &o->ns, &o->off, err,
                                  sizeof err, &erroff) != 0) {
        if (erroff > stlen) erroff = stlen;
        return fail(p, st + erroff, "bad timestamp '%.*s': %s", (int)stlen, p->s + st,
                    unplaced(err));
    }
    o->has_time = true;
    p->i = i;
    /* a colon after the stamp (Cisco: "Mar 10 2024 22:14:15: %ASA-...") */
    if (i + 1 < p->len && p->s[i] == ':' && p->s[i + 1] == ' ') p->i++;
    return 0;
shape:
    return no_stamp(p, "like 'Mar 10 00:00:00'");
}

/* cisco: what Cisco IOS puts between <PRI> and the stamp: a sequence number "1234: " and a
 * host "host: " (service sequence-numbers, logging origin-id); true when the line then has
 * no stamp at all but a message ("%LINK-3-UPDOWN: ...", ": %SYS-5-..."), which is the rest
 * from the '%'. */
static bool
cisco(struct sp *p, struct lw_syslog *o)
{
    size_t i = p->i, d = i;
    while (d < p->len && is_digit(p->s[d]))
        d++;
    if (d > i && d + 1 < p->len && p->s[d] == ':' && p->s[d + 1] == ' ') {
        o->seq = (struct lw_str){ p->s + i, d - i };
        i = d + 2;
        size_t h = i;
        while (h < p->len && p->s[h] != ' ' && p->s[h] != ':')
            h++;
        /* "host: *Dec  6" or "host: Dec  6": a word, ': ', then a stamp's month (after its
         * '*' or '.' mark) and a space */
        size_t m = h + 2;
        if (m < p->len && (p->s[m] == '*' || p->s[m] == '.')) m++;
        if (h > i && p->s[i] != '%' && m + 4 <= p->len && p->s[h] == ':' && p->s[h + 1] == ' ' &&
            is_alpha(p->s[m]) && is_alpha(p->s[m + 1]) && is_alpha(p->s[m + 2]) &&
            p->s[m + 3] == ' ') {
            o->host = (struct lw_str){ p->s + i, h - i };
            i = h + 2;
        }
        p->i = i;
    }
    size_t m = p->i;
    if (m + 1 < p->len && p->s[m] == ':' && p->s[m + 1] == ' ') m += 2;
    if (m < p->len && p->s[m] == '%') { /* %FACILITY-SEVERITY-MNEMONIC: ... */
        o->msg = (struct lw_str){ p->s + m, p->len - m };
        return true;
    }
    return false;
}

static int
parse3164(struct sp *p, int64_t ref_ns, const struct lw_tz *def, struct lw_syslog *o)
{
    char fb[16];
    if (p->pri && cisco(p, o)) return 0;
    if (p->i + 4 < p->len && is_digit(p->s[p->i]) && is_digit(p->s[p->i + 3]) &&
        p->s[p->i + 4] == '-') {
        if (stamp3339(p, word(p), def, o) != 0) return -1;
    } else if (stamp_bsd(p, ref_ns, def, o) != 0) {
        return -1;
    }
    if (p->i < p->len && p->s[p->i] != ' ') {
        return fail(p, p->i, "expected a space after the timestamp, found %s",
                    found(p, fb, sizeof fb));
    }
    while (p->i < p->len && p->s[p->i] == ' ') {
        p->i++;
    }
    /* No host when the first word is a whole tag ("app:", "app[1]:"); a word with a colon
     * inside, such as an IPv6 address, is a host. */
    size_t we = p->i;
    while (we < p->len && p->s[we] != ' ') {
        we++;
    }
    if (!(we > p->i && p->s[we - 1] == ':' && tag(p, o, false))) {
        size_t hb = p->i;
        struct lw_str h = word(p);
        if (h.len > 0 && p->i < p->len) {
            o->host = h;
            while (p->i < p->len && p->s[p->i] == ' ') {
                p->i++;
            }
            tag(p, o, true);
        } else {
            p->i = hb; /* a single word is the message */
        }
    }
    o->msg = (struct lw_str){ p->s + p->i, p->len - p->i };
    return 0;
}

/* header5424: one header field and the space after it; "-" gives an absent part. */
static int
field(struct sp *p, const char *name, struct lw_str *out)
{
    if (p->i >= p->len) return fail(p, p->i, "line ends before the %s field", name);
    struct lw_str w = word(p);
    if (w.len == 0) return fail(p, p->i, "empty %s field (two spaces)", name);
    for (size_t k = 0; k < w.len; k++) {
        unsigned char c = (unsigned char)w.p[k];
        if (c < 0x21 || c > 0x7e) {
            return fail(p, (size_t)(w.p - p->s) + k, "byte 0x%02x in the %s field", c, name);
        }
    }
    if (p->i >= p->len) return fail(p, p->i, "line ends after the %s field", name);
    p->i++;
    *out = w.len == 1 && w.p[0] == '-' ? (struct lw_str){ NULL, 0 } : w;
    return 0;
}

/* sdvalue: the quoted PARAM-VALUE opening at p->i; moves past the closing quote. */
static int
sdvalue(struct sp *p)
{
    size_t q = p->i;
    for (p->i++; p->i < p->len; p->i++) {
        if (p->s[p->i] == '\\' && p->i + 1 < p->len) {
            p->i++;
        } else if (p->s[p->i] == '"') {
            p->i++;
            return 0;
        }
    }
    return fail(p, q, "unterminated structured data value");
}

static bool
is_sdname(char c)
{
    return c > 0x20 && c < 0x7f && c != '=' && c != ']' && c != '"' && c != ' ';
}

static int
sdname(struct sp *p, const char *what)
{
    char fb[16];
    size_t b = p->i;
    while (p->i < p->len && is_sdname(p->s[p->i])) {
        p->i++;
    }
    if (p->i == b) return fail(p, b, "expected %s, found %s", what, found(p, fb, sizeof fb));
    return 0;
}

static int
sd5424(struct sp *p, struct lw_syslog *o)
{
    char fb[16];
    size_t b = p->i;
    if (p->i < p->len && p->s[p->i] == '-') {
        p->i++;
    } else if (p->i >= p->len || p->s[p->i] != '[') {
        return fail(p, p->i, "expected '-' or '[' for the structured data, found %s",
                    found(p, fb, sizeof fb));
    } else {
        while (p->i < p->len && p->s[p->i] == '[') {
            p->i++;
            if (sdname(p, "an SD-ID after '['") != 0) return -1;
            while (p->i < p->len && p->s[p->i] == ' ') {
                while (p->i < p->len && p->s[p->i] == ' ') /* blanks: VRL's own example */
                    p->i++;
                if (p->i < p->len && p->s[p->i] == ']') break;
                if (sdname(p, "a parameter name") != 0) return -1;
                while (p->i < p->len && p->s[p->i] == ' ')
                    p->i++;
                if (p->i >= p->len || p->s[p->i] != '=') {
                    return fail(p, p->i, "expected '=' after the parameter name, found %s",
                                found(p, fb, sizeof fb));
                }
                p->i++;
                while (p->i < p->len && p->s[p->i] == ' ')
                    p->i++;
                if (p->i >= p->len || p->s[p->i] != '"') {
                    return fail(p, p->i, "expected '\"' to open the parameter value, found %s",
                                found(p, fb, sizeof fb));
                }
                if (sdvalue(p) != 0) return -1;
            }
            if (p->i >= p->len || p->s[p->i] != ']') {
                return fail(p, p->i, "expected ']' or a parameter, found %s",
                            found(p, fb, sizeof fb));
            }
            p->i++;
        }
        o->sd = (struct lw_str){ p->s + b, p->i - b };
    }
    if (p->i < p->len && p->s[p->i] != ' ') {
        return fail(p, p->i, "expected a space after the structured data, found %s",
                    found(p, fb, sizeof fb));
    }
    if (p->i < p->len) p->i++;
    return 0;
}

static int
parse5424(struct sp *p, const struct lw_tz *def, struct lw_syslog *o)
{
    size_t vb = p->i;
    int v = 0;
    while (p->i < p->len && is_digit(p->s[p->i])) {
        v = v * 10 + (p->s[p->i++] - '0');
        if (p->i - vb > 2) return fail(p, vb, "version number too long");
    }
    if (v == 0) return fail(p, vb, "version 0 is not valid");
    o->version = v;
    p->i++; /* the space the caller saw */
    struct lw_str ts;
    if (field(p, "TIMESTAMP", &ts) != 0) return -1;
    if (ts.p != NULL && stamp3339(p, ts, def, o) != 0) return -1;
    if (field(p, "HOSTNAME", &o->host) != 0 || field(p, "APP-NAME", &o->app) != 0 ||
        field(p, "PROCID", &o->procid) != 0) {
        return -1;
    }
    if (p->i >= p->len) return fail(p, p->i, "line ends before the MSGID field");
    struct lw_str w = word(p);
    if (w.len == 0) return fail(p, p->i, "empty MSGID field (two spaces)");
    o->msgid = w.len == 1 && w.p[0] == '-' ? (struct lw_str){ NULL, 0 } : w;
    if (p->i >= p->len) return fail(p, p->i, "line ends before the structured data");
    p->i++;
    if (sd5424(p, o) != 0) return -1;
    size_t m = p->i;
    if (p->len - m >= 3 && memcmp(p->s + m, "\xEF\xBB\xBF", 3) == 0) m += 3;
    o->msg = (struct lw_str){ p->s + m, p->len - m };
    return 0;
}

int
lw_syslog_parse(const char *s, size_t len, int64_t ref_ns, const struct lw_tz *zone,
                struct lw_syslog *out, char *err, size_t errcap, size_t *erroff)
{
    struct sp p = { .s = s, .len = len, .err = err, .errcap = errcap, .erroff = erroff };
    *out = (struct lw_syslog){ .pri = -1, .msg = { s + len, 0 } };
    if (len == 0 || s[0] != '<') return parse3164(&p, ref_ns, zone, out); /* a file's line */
    p.pri = true;
    if (priority(&p, &out->pri) != 0) return -1;
    size_t j = p.i;
    while (j < len && is_digit(s[j])) {
        j++;
    }
    if (j > p.i && j < len && s[j] == ' ') return parse5424(&p, zone, out);
    return parse3164(&p, ref_ns, zone, out);
}

void
lw_syslog_sd_init(struct lw_syslog_sd *it, struct lw_str sd)
{
    *it = (struct lw_syslog_sd){ .sd = sd };
}

int
lw_syslog_sd_next(struct lw_syslog_sd *it, char *scratch, struct lw_str *id, struct lw_str *param)
{
    const char *s = it->sd.p;
    size_t n = it->sd.len, i = it->i;
    if (s == NULL) return 0;
    if (it->in_elem && i < n && s[i] == ']') {
        it->in_elem = false;
        i++;
    }
    if (i >= n) return 0;
    if (!it->in_elem) { /* s[i] == '[' */
        size_t b = ++i;
        while (i < n && s[i] != ' ' && s[i] != ']') {
            i++;
        }
        *id = (struct lw_str){ s + b, i - b };
        *param = (struct lw_str){ NULL, 0 };
        it->in_elem = true;
        it->i = i;
        return 1;
    }
    while (s[i] == ' ') /* the blanks before the name (validated by sd5424) */
        i++;
    if (s[i] == ']') {
        it->in_elem = false;
        it->i = i + 1;
        return lw_syslog_sd_next(it, scratch, id, param);
    }
    size_t b = i;
    while (s[i] != '=' && s[i] != ' ') {
        i++;
    }
    *id = (struct lw_str){ s + b, i - b };
    while (s[i] != '"') /* blanks, '=', blanks */
        i++;
    i++;
    size_t vb = i, k = 0;
    bool esc = false;
    while (s[i] != '"') {
        if (s[i] == '\\') {
            esc = true;
            i++;
        }
        i++;
    }
    if (!esc) {
        *param = (struct lw_str){ s + vb, i - vb };
    } else { /* \" \\ \] stand for the character; other backslashes are kept (RFC 5424 6.3.3) */
        char *o = scratch + vb;
        for (size_t j = vb; j < i; j++) {
            if (s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\' || s[j + 1] == ']')) j++;
            o[k++] = s[j];
        }
        *param = (struct lw_str){ o, k };
    }
    it->i = i + 1;
    return 1;
}
