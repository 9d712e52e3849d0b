/* The file source: stdin and named files in order, framed into lines. Reads in large blocks
 * and hands out slices of its buffer (no copy per record). A CR before the LF is removed; a
 * last line without a newline is a record; a line longer than --max-line is cut there,
 * marked too_long, and the rest of it skipped, so the stream goes on.
 * Multiline framing (--multiline-*) joins such lines into records, with '\n' between them, in
 * a buffer of its own: a record ends where a line that does not continue it begins, at the end
 * of each file, at the end of input, or when a live input (a pipe, a terminal, a socket) has
 * been quiet for --multiline-timeout. Before it would wait on a live input, next() returns 2
 * once, so the pipeline writes what it holds: `tail -f | logwash` shows each record without
 * waiting for a full block. Framing knows nothing of decoding or the template.
 * The bytes are read into blocks (struct blk) the caller may retain (-j N: the batches keep the
 * records where they were read instead of copying them); a retained block is never moved or
 * overwritten: the next read goes to a block no one holds, with the unconsumed tail copied over.
 * Without a retain (-j 1, multiline records), one block is reused as a plain buffer. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcre2.h>

#include "lw/buf.h"
#include "lw/source.h"

#define BLOCK          (256 * 1024)
#define QUIET_SLICE_MS 500

/* A read block: f->cap bytes of data, shared with the records handed out from it. refs and
 * owner are only touched by the caller's thread (retain, release, next, close). */
struct blk {
    struct files *owner; /* NULL once the source closed: the last release frees it */
    uint32_t refs;       /* retains not yet released */
    struct blk *all;     /* the owner's blocks, a list */
    char data[];
};

struct files {
    struct lw_source *src;      /* for its say hook */
    struct logwash_meta meta;   /* the current file's, for lw_recpos.meta (line_next) */
    struct logwash_meta mlmeta; /* a joined record's (ml_next) */
    char **names;
    int n, cur; /* cur: index of the open file, -1 before the first */
    int fd;
    const char *name;
    char *buf;              /* cur->data */
    struct blk *rd, *blks;  /* the block read into, and every block of the source (a list) */
    bool shared;            /* a block was retained: reads of at most BLOCK, so each block
                               a batch holds stays about that size in memory */
    size_t cap, start, end; /* unconsumed bytes are buf[start..end) */
    size_t scanned;         /* buf[start..start + scanned) holds no '\n': not searched again */
    bool eof;
    bool skipping;  /* inside the rest of a too-long line */
    bool live;      /* not a regular file: a read may wait */
    bool idle_said; /* next() returned 2 (or 3) since the last bytes came */
    int wait_ms;    /* how long the next wait on a live input may last; -1: for ever */
    uint64_t line;
    uint64_t off;   /* bytes read from the current file */
    uint64_t size0; /* its size when opened */
    bool shrunk;    /* it was truncated while read (logrotate's copytruncate) */
    int verbosity;
    size_t max_line;
    struct ml *ml; /* NULL: one record per line */
};

/* Multiline state: the record being joined (pend) and the one handed out (out), swapped when
 * a line starts a new record, so the one handed out stays valid until the next call. */
struct ml {
    pcre2_code *start, *cont;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    bool indent;
    uint64_t max_lines;
    size_t max_bytes;
    int timeout_ms; /* 0: a pending record waits for its end or the end of input */
    struct lw_buf pend, out;
    bool has_pend;
    int pfile;       /* index of the file the pending record is in */
    uint64_t plines; /* its lines */
    struct lw_recpos ppos, opos;
    char pwhy[96], owhy[96]; /* cut reasons of pend and out */
};

static pcre2_code *
ml_regex(const char *re, bool jit, struct lw_diag *d)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *p = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (p == NULL) {
        lw_diag_setf(d, "invalid multiline regex '%s'", re); /* lw_opts_parse said why */
        return NULL;
    }
    if (jit) pcre2_jit_compile(p, PCRE2_JIT_COMPLETE); /* without JIT pcre2_match interprets */
    return p;
}

static void
ml_free(struct ml *m)
{
    if (m == NULL) return;
    pcre2_code_free(m->start);
    pcre2_code_free(m->cont);
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mc);
    lw_buf_fini(&m->pend);
    lw_buf_fini(&m->out);
    free(m);
}

static struct ml *
ml_new(const struct lw_stage_conf *o, struct lw_diag *d)
{
    struct ml *m = lw_xcalloc(1, sizeof *m);
    m->indent = o->ml_indent;
    m->max_lines = o->ml_max_lines ? o->ml_max_lines : 1000;
    m->max_bytes = o->ml_max_bytes ? o->ml_max_bytes : o->max_line;
    m->timeout_ms = (int)o->ml_timeout_ms;
    lw_buf_init(&m->pend);
    lw_buf_init(&m->out);
    if ((o->ml_start && (m->start = ml_regex(o->ml_start, o->jit, d)) == NULL) ||
        (o->ml_continue && (m->cont = ml_regex(o->ml_continue, o->jit, d)) == NULL)) {
        ml_free(m);
        return NULL;
    }
    m->md = pcre2_match_data_create(1, NULL);
    m->mc = pcre2_match_context_create(NULL);
    if (m->md == NULL || m->mc == NULL) abort();
    pcre2_set_match_limit(m->mc, o->match_limit);
    pcre2_set_depth_limit(m->mc, o->depth_limit);
    return m;
}

/* use_block: switch to a block no one retains (made when there is none), with the unconsumed
 * bytes copied to its start. */
static void
use_block(struct files *f)
{
    struct blk *k = f->blks;
    while (k != NULL && (k->refs > 0 || k == f->rd))
        k = k->all;
    if (k == NULL) {
        k = lw_xmalloc(sizeof *k + f->cap);
        *k = (struct blk){ .owner = f, .all = f->blks };
        f->blks = k;
    }
    size_t n = f->end - f->start;
    if (n > 0) memcpy(k->data, f->buf + f->start, n);
    f->start = 0;
    f->end = n;
    f->rd = k;
    f->buf = k->data;
    if (f->ml == NULL) f->src->blk = k; /* multiline records lie in ml's buffers */
}

static void
files_retain(struct lw_source *s, const void *blk)
{
    struct files *f = s->state;
    f->shared = true;
    ((struct blk *)blk)->refs++;
}

static void
files_release(struct lw_source *s, const void *blk)
{
    struct blk *k = (struct blk *)blk;
    if (--k->refs == 0 && k->owner == NULL) free(k); /* after close: s->state is gone */
}

static int
files_open(struct lw_source *s, const struct lw_stage_conf *o, struct lw_diag *d)
{
    struct files *f = lw_xcalloc(1, sizeof *f);
    f->src = s;
    static char *dash[] = { "-" };
    f->names = o->ninputs ? o->inputs : dash;
    f->n = o->ninputs ? o->ninputs : 1;
    f->cur = -1;
    f->fd = -1;
    f->wait_ms = -1;
    f->max_line = o->max_line;
    f->verbosity = o->verbosity;
    f->cap = BLOCK > o->max_line + 1 ? BLOCK : o->max_line + 1;
    f->eof = true;
    s->state = f;
    s->blk = NULL;
    if (o->ml_start || o->ml_continue || o->ml_indent) {
        if ((f->ml = ml_new(o, d)) == NULL) return -1;
    }
    use_block(f);
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
    struct stat st;
    bool stat_ok = fstat(f->fd, &st) == 0;
    f->live = stat_ok && !S_ISREG(st.st_mode);
    f->size0 = stat_ok && !f->live ? (uint64_t)st.st_size : 0;
    f->idle_said = false;
    f->eof = false;
    f->line = f->off = 0;
    /* the template's meta: {"source": the file's name, "line": the record's number} */
    f->meta = (struct logwash_meta){ .kind = LOGWASH_META_FILE,
                                     .source = f->name,
                                     .source_len = strlen(f->name) };
    f->shrunk = false;
    f->start = f->end = f->scanned = 0;
    if (f->rd->refs > 0) use_block(f); /* the last file's records are still held */
    f->skipping = false;
    return 1;
}

/* interrupted: a read interrupted by SIGINT or SIGTERM (installed without SA_RESTART; SIGHUP,
 * a reload, restarts calls): stop reading, so the pipeline finishes, flushes and exits. A
 * signal during the wait of a live input is only a quiet moment (2): the pipeline looks at its
 * flags. */
static int
interrupted(struct files *f)
{
    f->eof = true;
    f->n = f->cur + 1;
    return 0;
}

/* quiet: on a live input, before a read that would wait: 2 the first time (nothing to read
 * now: the caller may write what it holds), then, with f->wait_ms >= 0, 3 when that long
 * passed without input, else 2 again after each QUIET_SLICE_MS without input; 0 to read (-1
 * when a signal stopped the wait: *r is the result). */
static int
quiet(struct files *f, int *r)
{
    struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
    if (!f->idle_said) {
        if (poll(&pfd, 1, 0) != 0) return 0; /* ready, or an error the read will report */
        f->idle_said = true;
        return 2;
    }
    /* Without a timeout, wait in slices of QUIET_SLICE_MS, returning 2 after each: a signal that
     * came just before the wait (after the pipeline looked at its stop flag, so the wait is not
     * interrupted) would otherwise leave logwash waiting until input comes. */
    int n = poll(&pfd, 1, f->wait_ms < 0 ? QUIET_SLICE_MS : f->wait_ms);
    if (n < 0 && errno == EINTR) return 2; /* the pipeline looks at why (a stop, a reload) */
    if (n != 0) return 0;
    if (f->wait_ms < 0) return 2;
    f->idle_said = false; /* after the timeout's record, say 2 again before waiting */
    return 3;
}

/* check_shrunk: at the end of a regular file, is it now shorter than what was read? Then it
 * was truncated under us (logrotate's copytruncate, or `> app.log`): the bytes after the last
 * newline may be the head of a record whose tail was never written here, so they are not
 * handed out as a complete last line (line_next fails them). */
static void
check_shrunk(struct files *f)
{
    struct stat st;
    /* a file of size 0 at open that gave bytes is a pseudo-file (/proc): its size means nothing */
    if (f->live || f->size0 == 0 || fstat(f->fd, &st) != 0 || (uint64_t)st.st_size >= f->off)
        return;
    f->shrunk = true;
    if (f->verbosity >= 0) {
        if (f->src->say) f->src->say(f->src->ud);
        fprintf(stderr,
                "logwash: %s: truncated while being read (%" PRIu64 " bytes read, %" PRIu64
                " now; copytruncate?): reading stops here%s\n",
                f->name, f->off, (uint64_t)st.st_size,
                f->start < f->end ? ", and its unfinished last line is not a record" : "");
    }
}

/* fill: read more bytes after the unconsumed ones: 1, 0 at end of file, -1 on an error, and on
 * a live input 2 or 3 as quiet() says (nothing read). */
static int
fill(struct files *f, struct lw_diag *d)
{
    if (f->start > 0 && f->rd->refs > 0) {
        use_block(f);
    } else if (f->start > 0) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }
    if (f->end == f->cap) return 1; /* full: the caller cuts the line */
    if (f->live) {
        int r, q = quiet(f, &r);
        if (q < 0) return r;
        if (q > 0) return q;
    }
    for (;;) {
        size_t want = f->cap - f->end;
        if (f->shared && want > BLOCK) want = BLOCK;
        ssize_t n = read(f->fd, f->buf + f->end, want);
        if (n > 0) {
            f->end += (size_t)n;
            f->off += (uint64_t)n;
            f->idle_said = false;
            return 1;
        }
        if (n == 0) {
            f->eof = true;
            check_shrunk(f);
            return 0;
        }
        if (errno == EINTR) return interrupted(f);
        lw_diag_setf(d, "cannot read %s: %s", f->name, strerror(errno));
        return -1;
    }
}

static int
line_next(struct files *f, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d)
{
    for (;;) {
        if (f->fd < 0 || (f->eof && f->start == f->end)) {
            int r = advance(f, d);
            if (r <= 0) return r;
            continue;
        }
        char *p = f->buf + f->start;
        size_t avail = f->end - f->start;
        size_t look = avail < f->max_line + 1 ? avail : f->max_line + 1;
        /* a long line arrives in many reads (64 KiB from a pipe): only the new bytes are
         * searched, or a 100 MB line would cost ~1500 scans of what came before */
        size_t from = f->scanned < look ? f->scanned : look;
        char *nl = look > from ? memchr(p + from, '\n', look - from) : NULL;
        f->scanned = nl ? 0 : look;
        if (f->skipping) { /* discard the rest of a cut line, wherever its newline is */
            f->scanned = 0;
            nl = avail ? memchr(p, '\n', avail) : NULL;
            if (nl) {
                f->start += (size_t)(nl - p) + 1;
                f->skipping = false;
            } else {
                f->start = f->end;
                int r = f->eof ? 1 : fill(f, d);
                if (r < 0 || r >= 2) return r;
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
            f->scanned = 0;
        } else if (!f->eof) {
            int r = fill(f, d);
            if (r < 0 || r >= 2) return r;
            continue;
        } else {
            len = avail; /* the last line has no newline */
            f->start = f->end;
            f->scanned = 0;
        }
        if (!cut && len > 0 && p[len - 1] == '\r') len--;
        f->line++;
        *rec = (struct lw_str){ p, len };
        f->meta.line = f->line;
        *pos = (struct lw_recpos){
            .name = f->name, .line = f->line, .too_long = cut, .meta = &f->meta
        };
        if (f->shrunk && nl == NULL && !cut) { /* torn: see check_shrunk */
            pos->too_long = true;
            pos->why = "file truncated while read (copytruncate?): a torn last line";
        }
        return 1;
    }
}

/* A regex matching fails safe: an error (a match limit) counts as no match. */
static bool
ml_match(struct ml *m, const pcre2_code *re, struct lw_str line)
{
    return pcre2_match(re, (PCRE2_SPTR)line.p, line.len, 0, 0, m->md, m->mc) >= 0;
}

/* Does line continue the pending record? */
static bool
continues(struct ml *m, struct lw_str line)
{
    if (m->start != NULL) return !ml_match(m, m->start, line);
    if (m->indent && line.len > 0 && (line.p[0] == ' ' || line.p[0] == '\t')) return true;
    return m->cont != NULL && ml_match(m, m->cont, line);
}

static void
ml_cut(struct ml *m, const char *why)
{
    m->ppos.too_long = true;
    if (why != NULL) {
        snprintf(m->pwhy, sizeof m->pwhy, "%s", why);
        m->ppos.why = m->pwhy;
    }
}

/* Add a line to the pending record, unless that record has been cut: then the lines that
 * continue it are skipped (counted, not kept), so the rest of it does not become records. */
static void
ml_add(struct ml *m, struct lw_str line, const struct lw_recpos *lp)
{
    if (m->ppos.too_long) return;
    char why[96];
    if (m->plines >= m->max_lines) {
        snprintf(why, sizeof why,
                 "record longer than %" PRIu64 " lines (--multiline-max-lines): "
                 "cut",
                 m->max_lines);
        ml_cut(m, why);
        return;
    }
    size_t room = m->max_bytes - m->pend.len, sep = m->plines > 0;
    if (line.len + sep > room) {
        snprintf(why, sizeof why, "record longer than %zu bytes (--multiline-max-bytes): cut",
                 m->max_bytes);
        if (room > sep) lw_buf_add(&m->pend, "\n", sep), lw_buf_add(&m->pend, line.p, room - sep);
        ml_cut(m, why);
        return;
    }
    if (sep) lw_buf_addc(&m->pend, '\n');
    lw_buf_add(&m->pend, line.p, line.len);
    m->plines++;
    if (lp->too_long) ml_cut(m, lp->why); /* a line cut at --max-line, or torn */
}

/* Hand out the pending record: it becomes out, and pend is empty. */
static void
ml_hand_out(struct ml *m, struct lw_str *rec, struct lw_recpos *pos)
{
    struct lw_buf t = m->out;
    m->out = m->pend;
    m->pend = t;
    m->pend.len = 0;
    m->opos = m->ppos;
    memcpy(m->owhy, m->pwhy, sizeof m->owhy);
    if (m->opos.why != NULL) m->opos.why = m->owhy;
    m->has_pend = false;
    *rec = (struct lw_str){ m->out.p ? m->out.p : "", m->out.len };
    *pos = m->opos;
}

static int
ml_next(struct files *f, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d)
{
    struct ml *m = f->ml;
    for (;;) {
        struct lw_str line;
        struct lw_recpos lp;
        f->wait_ms = m->has_pend && m->timeout_ms > 0 ? m->timeout_ms : -1;
        int r = line_next(f, &line, &lp, d);
        if (r < 0 || r == 2) return r;
        if (r == 3) { /* quiet for --multiline-timeout: the pending record is complete */
            if (!m->has_pend) continue;
            ml_hand_out(m, rec, pos);
            return 1;
        }
        if (r == 0) {
            if (!m->has_pend) return 0;
            ml_hand_out(m, rec, pos); /* the end of input ends the last record */
            return 1;
        }
        if (m->has_pend && f->cur == m->pfile && continues(m, line)) {
            ml_add(m, line, &lp);
            continue;
        }
        bool had = m->has_pend;
        if (had) ml_hand_out(m, rec, pos);
        m->has_pend = true;
        m->pfile = f->cur;
        m->plines = 0;
        m->ppos = (struct lw_recpos){ .name = lp.name, .line = lp.line };
        ml_add(m, line, &lp);
        if (had) return 1;
    }
}

static int
files_next(struct lw_source *s, struct lw_str *rec, struct lw_recpos *pos, struct lw_diag *d)
{
    struct files *f = s->state;
    if (f->ml == NULL) return line_next(f, rec, pos, d); /* it sets pos->meta */
    int rc = ml_next(f, rec, pos, d);
    if (rc != 1) return rc;
    /* a joined record's position is its first line's, kept while later lines were read (the
     * next file may be open by now): its own meta */
    if (f->mlmeta.source != pos->name) {
        f->mlmeta = (struct logwash_meta){ .kind = LOGWASH_META_FILE,
                                           .source = pos->name,
                                           .source_len = strlen(pos->name) };
    }
    f->mlmeta.line = pos->line;
    pos->meta = &f->mlmeta;
    return 1;
}

static int
files_close(struct lw_source *s, struct lw_diag *d)
{
    struct files *f = s->state;
    if (f == NULL) return 0;
    if (f->fd > 0) close(f->fd);
    for (struct blk *k = f->blks, *next; k != NULL; k = next) {
        next = k->all;
        if (k->refs > 0)
            k->owner = NULL; /* its last release frees it */
        else
            free(k);
    }
    s->blk = NULL;
    ml_free(f->ml);
    free(f);
    s->state = NULL;
    return 0;
}

const struct lw_source_ops lw_source_files = { .name = "files",
                                               .open = files_open,
                                               .next = files_next,
                                               .close = files_close,
                                               .retain = files_retain,
                                               .release = files_release,
                                               .names_stay = true };
