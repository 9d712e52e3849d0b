/* The CSV reader of table files (csv.h): RFC 4180 records read in place. Template-side CSV
 * parsing of one string (parse_csv) is fn_parse.c's; this one reads whole files, where a quoted
 * field may span lines and every error needs its line and column. */
#include "lw/csv.h"

#include <stdio.h>
#include <string.h>

void
lw_csv_init(struct lw_csv *c, char *p, size_t len, char sep)
{
    *c = (struct lw_csv){ .p = p, .len = len, .sep = sep, .line = 1 };
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) c->off = c->line_start = 3;
}

/* col: the column (from 1, in UTF-8 characters) of offset off on the current line. */
static size_t
col(const struct lw_csv *c, size_t off)
{
    size_t n = 1;
    for (size_t i = c->line_start; i < off && i < c->len; i++)
        n += ((unsigned char)c->p[i] & 0xc0) != 0x80;
    return n;
}

static int
fail(const struct lw_csv *c, size_t off, char *err, size_t errcap, const char *why)
{
    snprintf(err, errcap, "%llu:%zu: %s", (unsigned long long)c->line, col(c, off), why);
    return -1;
}

/* newline: the record ends at off (LF or CRLF there, or the end of the text): step over it. */
static bool
at_end(const struct lw_csv *c, size_t off, size_t *next)
{
    if (off >= c->len) {
        *next = off;
        return true;
    }
    if (c->p[off] == '\n') {
        *next = off + 1;
        return true;
    }
    if (c->p[off] == '\r' && off + 1 < c->len && c->p[off + 1] == '\n') {
        *next = off + 2;
        return true;
    }
    return false;
}

/* quoted: the quoted field starting at c->off (its opening quote), unescaped in place into *f;
 * c->off is left after the closing quote. */
static int
quoted(struct lw_csv *c, struct lw_str *f, char *err, size_t errcap)
{
    uint64_t line0 = c->line;
    size_t start0 = c->line_start, open = c->off;
    size_t r = c->off + 1, w = r;
    for (;;) {
        if (r >= c->len) {
            c->line = line0;
            c->line_start = start0;
            return fail(c, open, err, errcap, "quoted field not closed before the end of the file");
        }
        char ch = c->p[r];
        if (ch == '"') {
            if (r + 1 < c->len && c->p[r + 1] == '"') {
                c->p[w++] = '"';
                r += 2;
                continue;
            }
            break;
        }
        if (ch == '\n') {
            c->line++;
            c->line_start = r + 1;
        }
        c->p[w++] = ch;
        r++;
    }
    *f = (struct lw_str){ c->p + open + 1, w - open - 1 };
    c->off = r + 1;
    return 0;
}

int
lw_csv_next(struct lw_csv *c, struct lw_str *f, size_t max, size_t *n, char *err, size_t errcap)
{
    size_t next;
    while (c->off < c->len && at_end(c, c->off, &next)) { /* blank lines */
        c->off = next;
        c->line++;
        c->line_start = next;
    }
    *n = 0;
    if (c->off >= c->len) return 0;
    c->rec_line = c->line;
    for (;;) {
        if (*n == max) {
            char why[80];
            snprintf(why, sizeof why, "more than %zu fields", max);
            return fail(c, c->off, err, errcap, why);
        }
        struct lw_str *fl = &f[(*n)++];
        if (c->off < c->len && c->p[c->off] == '"') {
            if (quoted(c, fl, err, errcap) != 0) return -1;
            if (c->off < c->len && c->p[c->off] != c->sep && !at_end(c, c->off, &next)) {
                return fail(c, c->off, err, errcap,
                            "text after a closing quote (a quote inside a quoted field is "
                            "written twice: \"\")");
            }
        } else {
            size_t s = c->off;
            while (c->off < c->len && c->p[c->off] != c->sep && !at_end(c, c->off, &next)) {
                if (c->p[c->off] == '"') {
                    return fail(c, c->off, err, errcap,
                                "a quote inside an unquoted field (quote the whole field and "
                                "write the quote twice)");
                }
                if (c->p[c->off] == '\r') { /* not before LF: at_end took CRLF */
                    return fail(c, c->off, err, errcap,
                                "a carriage return inside an unquoted field (lines must end "
                                "with LF or CRLF)");
                }
                c->off++;
            }
            *fl = (struct lw_str){ c->p + s, c->off - s };
        }
        if (c->off < c->len && c->p[c->off] == c->sep) {
            c->off++;
            continue;
        }
        at_end(c, c->off, &next);
        c->off = next;
        c->line++;
        c->line_start = next;
        return 1;
    }
}
