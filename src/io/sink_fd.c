/* The file-descriptor writer and the stdout sink. The writer writes whole buffers, retries
 * short writes and EINTR, and says how much of a failed write got through, so a record is
 * acknowledged only when every byte of its output was written; EPIPE (the reader went away,
 * e.g. `| head`) is flagged, since for stdout it is a quiet, normal stop. The stdout sink
 * writes the loop's output buffer when the loop says so; with an acknowledging source it keeps
 * each record held until its output's last byte is written. Dead-letter files are
 * deadletter.c's, through the same writer. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw/kafka.h"
#include "lw/sink.h"

void
lw_fd_open(struct lw_fd *s, int fd, const char *name)
{
    *s = (struct lw_fd){ .name = name, .fd = fd };
}

void
lw_fd_keep_path(struct lw_fd_keep *keep, int *n, const char *path, const char *what)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        keep[(*n)++] = (struct lw_fd_keep){ st.st_dev, st.st_ino, what };
}

void
lw_fd_keep_fd(struct lw_fd_keep *keep, int *n, int fd, const char *what)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        keep[(*n)++] = (struct lw_fd_keep){ st.st_dev, st.st_ino, what };
}

int
lw_fd_open_file(struct lw_fd *s, const char *path, const struct lw_fd_keep *keep, int nkeep,
                struct lw_diag *d)
{
    *s = (struct lw_fd){ .name = path, .owned = true };
    s->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644); /* truncated once checked */
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) != 0) {
        lw_diag_setf(d, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    for (int i = 0; i < nkeep && S_ISREG(st.st_mode); i++) {
        if (keep[i].dev == st.st_dev && keep[i].ino == st.st_ino) {
            lw_diag_setf(d, "%s is %s: refusing to overwrite it with dead letters", path,
                         keep[i].what);
            goto fail;
        }
    }
    if (S_ISREG(st.st_mode) && ftruncate(s->fd, 0) != 0) {
        lw_diag_setf(d, "cannot truncate %s: %s", path, strerror(errno));
        goto fail;
    }
    return 0;
fail:
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    return -1;
}

int
lw_fd_write(struct lw_fd *s, const char *p, size_t n, struct lw_diag *d)
{
    s->wrote = 0;
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EPIPE) s->broken_pipe = true;
            lw_diag_setf(d, "cannot write %s: %s", s->name, strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
        s->wrote += (size_t)w;
    }
    return 0;
}

int
lw_fd_close(struct lw_fd *s, struct lw_diag *d)
{
    if (!s->owned || s->fd < 0) return 0;
    int r = close(s->fd);
    s->fd = -1;
    if (r != 0) {
        lw_diag_setf(d, "cannot close %s: %s", s->name, strerror(errno));
        return -1;
    }
    return 0;
}

/* The stdout sink's state. */
struct out {
    const struct lw_stage_conf *c;
    struct lw_fd fd;
    struct wait *waiting; /* records finished when their output is written (acking source) */
    uint32_t nwaiting, capwaiting;
    bool failed;        /* a write to stdout failed: nothing more is written there */
    struct lw_diag err; /* why */
};

/* A record whose output sits in the output buffer, ending at out[end]. */
struct wait {
    uint64_t ticket;
    size_t end;
};

static int
out_open(struct lw_sink *s, const struct lw_stage_conf *c, struct lw_diag *d)
{
    struct out *o = lw_xcalloc(1, sizeof *o);
    o->c = c;
    lw_fd_open(&o->fd, 1, "stdout");
    s->state = o;
    return 0;
}

/* out_put: the record's output stays in the output buffer; with an acknowledging source the
 * record is held until it is written. */
static int
out_put(struct lw_sink *s, const struct lw_sink_rec *rec)
{
    struct out *o = s->state;
    if (s->host->hold == NULL || s->out->len <= rec->start) return 0;
    s->host->hold(s->host->ud, rec->pos->ticket);
    if (o->nwaiting == o->capwaiting) {
        o->capwaiting = o->capwaiting ? o->capwaiting * 2 : 16;
        o->waiting = lw_xrealloc(o->waiting, o->capwaiting * sizeof *o->waiting);
    }
    o->waiting[o->nwaiting++] = (struct wait){ rec->pos->ticket, s->out->len };
    return 0;
}

/* out_write: write the output buffer. A record is finished when every byte of its output was
 * written. After a failed write nothing more is written to stdout (the output would have a
 * hole), and every record whose output was not written in full, then or later, is released as
 * failed: the source commits nothing at or after it, so a restart reads it again. Returns -1
 * once stdout failed, with d set, or -2 when the pipe broke (a quiet stop). */
static int
out_write(struct lw_sink *s, struct lw_diag *d)
{
    struct out *o = s->state;
    struct lw_buf *b = s->out;
    size_t wrote = b->len + s->ext_len;
    /* several pipelines of one process may write stdout: each write is whole records, and
     * one pipeline's buffer goes out before another's begins */
    static pthread_mutex_t stdout_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&stdout_mu);
    if (o->failed) {
        wrote = 0;
    } else if (b->len > 0 && lw_fd_write(&o->fd, b->p, b->len, &o->err) != 0) {
        o->failed = true;
        wrote = o->fd.wrote;
    } else if (s->ext_len > 0 && lw_fd_write(&o->fd, s->ext, s->ext_len, &o->err) != 0) {
        o->failed = true;
        wrote = b->len + o->fd.wrote;
    }
    pthread_mutex_unlock(&stdout_mu);
    b->len = 0;
    s->ext_len = 0;
    uint32_t lost = 0;
    for (uint32_t i = 0; i < o->nwaiting; i++) {
        bool ok = o->waiting[i].end <= wrote;
        lost += !ok;
        s->host->done(s->host->ud, o->waiting[i].ticket, ok);
    }
    o->nwaiting = 0;
    if (!o->failed) return 0;
    if (o->fd.broken_pipe) return -2;
    if (lost) {
        lw_kafka_say(o->c, "%u records whose output was not written in full: not committed", lost);
    }
    lw_diag_setf(d, "%s", o->err.msg);
    return -1;
}

static void
out_close(struct lw_sink *s)
{
    struct out *o = s->state;
    if (o == NULL) return;
    free(o->waiting);
    free(o);
    s->state = NULL;
}

const struct lw_sink_ops lw_sink_stdout = {
    .name = "stdout", .open = out_open, .put = out_put, .write = out_write, .close = out_close
};
