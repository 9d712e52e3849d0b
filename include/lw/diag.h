/* Diagnostics: a message with an optional byte span in a template, printed as
 * file:line:col: error: message, the source line and a caret under the span (STYLE §8).
 * The first error set wins, so callers can report the root cause rather than a cascade. */
#ifndef LW_DIAG_H
#define LW_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lw/str.h"

struct lw_span {
    uint32_t off, len;
};

struct lw_diag {
    bool set;
    bool has_span;
    bool warning; /* printed as "warning:" rather than "error:" (compile warnings) */
    struct lw_span span;
    char msg[512];
    char *text; /* NULL, or every error rendered, each with its own file (lw_compile) */
};

/* lw_diag_fini: free d->text (d stays usable, empty of it). */
void lw_diag_fini(struct lw_diag *d);

/* lw_diag_vset: record an error at *span, or with no position when span is NULL (first one
 * wins). lw_diag_setf is its variadic form. */
void lw_diag_vset(struct lw_diag *d, const struct lw_span *span, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* lw_diag_setf: record an error with no template position. */
void lw_diag_setf(struct lw_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* lw_diag_linecol: 1-based line and column (in UTF-8 code points) of byte off in src. */
void lw_diag_linecol(struct lw_str src, uint32_t off, int *line, int *col);

/* lw_diag_place: the line and column lw_diag_print shows for an error at off: those of off,
 * but at the end of a src that ends with newlines, those just after its last text. */
void lw_diag_place(struct lw_str src, uint32_t off, int *line, int *col);

/* lw_diag_print: write "name:line:col: error: msg", the source line and a caret line to f.
 * Without a span only "name: error: msg" is written. When d->text is set, it is written
 * instead (name and src are then not used). */
void lw_diag_print(FILE *f, const char *name, struct lw_str src, const struct lw_diag *d);

#endif
