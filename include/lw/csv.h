/* A CSV reader for table files (RFC 4180): records of fields separated by a byte, ended by LF
 * or CRLF; a field in double quotes may hold separators, line ends and doubled quotes. It reads
 * a text in place (a quoted field is unescaped over its own bytes, which only shrink) and never
 * allocates. Strict: a quote inside an unquoted field, text after a closing quote and a quote
 * left open are errors with their line:column. What the fields mean is table.c's business. */
#ifndef LW_CSV_H
#define LW_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "lw/str.h"

struct lw_csv {
    char *p; /* the text, rewritten in place as quoted fields are read */
    size_t len, off;
    char sep;
    uint64_t line;     /* the line at off (from 1) */
    size_t line_start; /* offset of that line's first byte */
    uint64_t rec_line; /* the line the last record returned began on */
};

/* lw_csv_init: read p[0..len) (a leading UTF-8 byte order mark is skipped) with separator sep. */
void lw_csv_init(struct lw_csv *c, char *p, size_t len, char sep);

/* lw_csv_next: the next record's fields into f[0..max) and their number into *n; blank lines
 * are skipped. Fields point into the text. Returns 1 with a record, 0 at the end, or -1 with
 * "LINE:COL: why" in err (errcap bytes): more than max fields, a quote or a lone CR inside an
 * unquoted field, text after a closing quote, a quoted field not closed before the end. */
int lw_csv_next(struct lw_csv *c, struct lw_str *f, size_t max, size_t *n, char *err,
                size_t errcap);

#endif
