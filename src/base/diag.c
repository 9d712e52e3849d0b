/* Formatting of diagnostics: line/column from a byte offset, and the caret display.
 * Columns count UTF-8 code points; tabs in the source line are copied into the caret line
 * so the caret lines up in any terminal. */
#include "lw/diag.h"

#include <stdarg.h>
#include <stdlib.h>

void
lw_diag_fini(struct lw_diag *d)
{
    free(d->text);
    d->text = NULL;
}

void
lw_diag_vset(struct lw_diag *d, const struct lw_span *span, const char *fmt, va_list ap)
{
    if (d->set) return;
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    d->set = true;
    d->has_span = span != NULL;
    if (span != NULL) d->span = *span;
}

void
lw_diag_setf(struct lw_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_diag_vset(d, NULL, fmt, ap);
    va_end(ap);
}

static bool
is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

void
lw_diag_linecol(struct lw_str src, uint32_t off, int *line, int *col)
{
    int l = 1, c = 1;
    if (off > src.len) off = (uint32_t)src.len;
    for (uint32_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)src.p[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if (!is_cont(ch)) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* place: the offset an error at off is shown at: at the end of a template that ends with
 * newlines, just after its last text (not on a line of its own past the end). */
static uint32_t
place(struct lw_str src, uint32_t off)
{
    if (off > src.len) off = (uint32_t)src.len;
    if (off == src.len) {
        while (off > 0 && (src.p[off - 1] == '\n' || src.p[off - 1] == '\r'))
            off--;
    }
    return off;
}

void
lw_diag_place(struct lw_str src, uint32_t off, int *line, int *col)
{
    lw_diag_linecol(src, place(src, off), line, col);
}

void
lw_diag_print(FILE *f, const char *name, struct lw_str src, const struct lw_diag *d)
{
    if (d->text != NULL) {
        fputs(d->text, f);
        return;
    }
    if (!d->has_span || src.p == NULL) {
        fprintf(f, "%s: %s: %s\n", name, d->warning ? "warning" : "error", d->msg);
        return;
    }
    int line, col;
    uint32_t off = place(src, d->span.off);
    lw_diag_linecol(src, off, &line, &col);
    fprintf(f, "%s:%d:%d: %s: %s\n", name, line, col, d->warning ? "warning" : "error", d->msg);

    size_t bol = off, eol = off;
    while (bol > 0 && src.p[bol - 1] != '\n')
        bol--;
    while (eol < src.len && src.p[eol] != '\n')
        eol++;
    if (eol > bol && src.p[eol - 1] == '\r') eol--;
    /* A very long line is shown as a window around the error, marked with "...". */
    const char *more = "";
    if (eol - bol > 160) {
        if (off - bol > 60) {
            bol = off - 60;
            while (bol < off && is_cont((unsigned char)src.p[bol]))
                bol++;
            more = "...";
        }
        if (eol - bol > 160) {
            eol = bol + 160;
            while (eol > off + 1 && is_cont((unsigned char)src.p[eol]))
                eol--;
        }
    }
    fprintf(f, "%5d | %s%.*s\n      | %s", line, more, (int)(eol - bol), src.p + bol,
            *more ? "   " : "");
    for (size_t i = bol; i < off && i < eol; i++) {
        if (src.p[i] == '\t')
            fputc('\t', f);
        else if (!is_cont((unsigned char)src.p[i]))
            fputc(' ', f);
    }
    fputc('^', f);
    /* The tilde run covers the span up to the end of its first line. */
    size_t end = off + d->span.len;
    for (size_t i = off + 1; i < end && i < eol; i++) {
        if (!is_cont((unsigned char)src.p[i])) fputc('~', f);
    }
    fputc('\n', f);
}
