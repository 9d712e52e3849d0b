/* The file source: stdin and named files in order, framed into lines. Reads in large blocks
 * and hands out slices of its buffer (no copy per record). A CR before the LF is removed; a
 * last line without a newline is a record; a line longer than --max-line is cut there,
 * marked too_long, and the rest of it skipped, so the stream goes on. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw/source.h"

#define BLOCK (256 * 1024)

struct files {
    char **names;
    int n, cur; /* cur: index of the open file, -1 before the first */
    int fd;
    const char *name;
    char *buf;
    size_t cap, start, end; /* unconsumed bytes are buf[start..end) */
    bool eof;
    bool skipping; /* inside the rest of a too-long line */
    uint64_t line;
    size_t max_line;
};

static int
files_open(struct lw_source *s, const struct lw_opts *o, struct lw_diag *d)
{
    struct files *f = lw_xcalloc(1, sizeof *f);
    static char *dash[] = { "-" };
    f->names = o->ninputs ? o->inputs : dash;
    f->n = o->ninputs ? o->ninputs : 1;
    f->cur = -1;
    f->fd = -1;
    f->max_line = o->max_line;
    f->cap = BLOCK > o->max_line + 1 ? BLOCK : o->max_line + 1;
    f->buf = lw_xmalloc(f->cap);
    f->eof = true;
    s->state = f;
    return 0;
}

/* advance: open the next input; 0 when none is left. */
static int
advance(struct files *f, struct lw_diag *d)
{
    if (f->fd > 0) close(f->fd);
    f->fd = -1;
    if (++f->cur >= f->n) return 0;
    const char *name = f->names[f->cur];
    if (strcmp(name, "-") == 0) {
        f->fd = 0;
        f->name = "stdin";
    } else {
        f->fd = open(name, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            lw_diag_setf(d, "cannot open %s: %s", name, strerror(errno));
            return -1;
        }
        f->name = name;
    }
    f->eof = false;
    f->line = 0;
    f->start = f->end = 0;
    f->skipping = false;
    return 1;
}

/* fill: read more bytes after the unconsumed ones; 0 at end of file. */
static int
fill(struct files *f, struct lw_diag *d)
{
    if (f->start > 0) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }
    if (f->end == f->cap) return 1; /* full: the caller cuts the line */
    for (;;) {
        ssize_t n = read(f->fd, f->buf + f->end, f->cap - f->end);
        if (n > 0) {
            f->end += (size_t)n;
            return 1;
        }
        if (n == 0) {
            f->eof = true;
            return 0;
        }
        if (errno == EINTR) {
            /* Only SIGINT/SIGTERM have handlers (installed without SA_RESTART): a signal
             * means stop reading, so the pipeline finishes, flushes and exits. */
            f->eof = true;
            f->n = f->cur + 1;
            return 0;
        }
        lw_diag_setf(d, "cannot read %s: %s", f->name, strerror(errno));
        return -1;
    }
}

static int
files_next(struct lw_source *s, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d)
{
    struct files *f = s->state;
    for (;;) {
        if (f->fd < 0 || (f->eof && f->start == f->end)) {
            int r = advance(f, d);
            if (r <= 0) return r;
            continue;
        }
        char *p = f->buf + f->start;
        size_t avail = f->end - f->start;
        size_t look = avail < f->max_line + 1 ? avail : f->max_line + 1;
        char *nl = look ? memchr(p, '\n', look) : NULL;
        if (f->skipping) { /* discard the rest of a cut line, wherever its newline is */
            nl = avail ? memchr(p, '\n', avail) : NULL;
            if (nl) {
                f->start += (size_t)(nl - p) + 1;
                f->skipping = false;
            } else {
                f->start = f->end;
                if (!f->eof && fill(f, d) < 0) return -1;
            }
            continue;
        }
        size_t len;
        bool cut = false;
        if (nl != NULL) {
            len = (size_t)(nl - p);
            f->start += len + 1;
        } else if (avail > f->max_line) {
            len = f->max_line;
            cut = true;
            f->start += len;
            f->skipping = true;
        } else if (!f->eof) {
            if (fill(f, d) < 0) return -1;
            continue;
        } else {
            len = avail; /* the last line has no newline */
            f->start = f->end;
        }
        if (!cut && len > 0 && p[len - 1] == '\r') len--;
        f->line++;
        *rec = (struct lw_str){ p, len };
        *pos = (struct lw_recpos){ .name = f->name, .line = f->line, .too_long = cut };
        return 1;
    }
}

static int
files_close(struct lw_source *s, struct lw_diag *d)
{
    struct files *f = s->state;
    if (f == NULL) return 0;
    if (f->fd > 0) close(f->fd);
    free(f->buf);
    free(f);
    s->state = NULL;
    return 0;
}

const struct lw_source_ops lw_source_files = {
    .name = "files", .open = files_open, .next = files_next, .close = files_close
};
