/* The file-descriptor writer and the stdout sink. The writer writes whole buffers, retries
 * short writes and EINTR, and says how much of a failed write got through, so a record is
 * acknowledged only when every byte of its output was written; EPIPE (the reader went away,
 * e.g. `| head`) is flagged, since for stdout it is a quiet, normal stop. The stdout sink
 * writes the loop's output buffer when the loop says so; with an acknowledging source it keeps
 * each record held until its output's last byte is written. Dead-letter files are
 * deadletter.c's, through the same writer. A pipe or socket nobody reads would hold a write,
 * and the stop with it, for ever: lw_fd_stoppable writes those without blocking, waits in poll
 * (for ever, as backpressure should) and gives up --flush-timeout after a stop request. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lw/kafka.h"
#include "lw/sink.h"

void
lw_fd_open(struct lw_fd *s, int fd, const char *name)
{
    *s = (struct lw_fd){ .name = name, .fd = fd, .wfd = fd };
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stop request (lw_fd_stop): the time of the first, 0 before it. Lock-free atomics. */
static int64_t stop_at;

void
lw_fd_stop(void)
{
    int64_t none = 0, t = mono_ms();
    __atomic_compare_exchange_n(&stop_at, &none, t ? t : 1, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
}

void
lw_fd_stoppable(struct lw_fd *s, uint64_t stop_ms)
{
    struct stat st;
    s->stop_ms = stop_ms;
    if (s->fd < 0 || s->own_wfd || fstat(s->fd, &st) != 0) return;
    if (S_ISSOCK(st.st_mode)) { /* per call: the description is left alone */
        s->dontwait = true;
    } else if (S_ISFIFO(st.st_mode) && s->owned) {
        int fl = fcntl(s->fd, F_GETFL);
        if (fl >= 0) fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
    } else if (S_ISFIFO(st.st_mode) && (fcntl(s->fd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
        /* (a read end given as stdout stays one: its writes fail with EBADF, as before)
         * stdout's description is the parent's too (a shell, a supervisor): O_NONBLOCK set on
         * it would make their writes fail with EAGAIN, and stay if logwash is killed. Opening
         * the pipe again gives one of logwash's own. It fails with no reader left (ENXIO: the
         * writes then fail with EPIPE as before) or without /proc: blocking writes, as before. */
        char path[40];
        snprintf(path, sizeof path, "/proc/self/fd/%d", s->fd);
        int n = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (n >= 0) {
            s->wfd = n;
            s->own_wfd = true;
        }
    }
}

/* wait_room: a non-blocking write found no room: wait for it, for ever, or after a stop
 * request until stop_ms after it (then -1, d set, gave_up). The stop is looked at every 100
 * ms: the signal may have gone to another thread, and no write returns EINTR then. */
static int
wait_room(struct lw_fd *s, struct lw_diag *d)
{
    for (;;) {
        int ms = 100;
        int64_t at = __atomic_load_n(&stop_at, __ATOMIC_SEQ_CST);
        if (at != 0) {
            int64_t left = at + (int64_t)s->stop_ms - mono_ms();
            if (left <= 0) {
                s->gave_up = true;
                lw_diag_setf(d,
                             "cannot write %s: not read within the flush timeout (%" PRIu64
                             " ms) after the stop request",
                             s->name, s->stop_ms);
                return -1;
            }
            if (left < ms) ms = (int)left;
        }
        struct pollfd pf = { .fd = s->wfd, .events = POLLOUT };
        int r = poll(&pf, 1, ms);
        if (r > 0) return 0; /* room, or an error the write will say (EPIPE) */
        if (r < 0 && errno != EINTR) {
            lw_diag_setf(d, "cannot write %s: poll: %s", s->name, strerror(errno));
            return -1;
        }
    }
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
    s->fd = s->wfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644); /* truncated once checked */
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
    s->fd = s->wfd = -1;
    return -1;
}

int
lw_fd_write(struct lw_fd *s, const char *p, size_t n, struct lw_diag *d)
{
    s->wrote = 0;
    while (n > 0) {
        ssize_t w = s->dontwait ? send(s->wfd, p, n, MSG_DONTWAIT) : write(s->wfd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_room(s, d) != 0) return -1;
                continue;
            }
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
    if (s->own_wfd) close(s->wfd); /* a second description of fd: nothing more to report */
    s->own_wfd = false;
    s->wfd = s->fd;
    if (!s->owned || s->fd < 0) return 0;
    int r = close(s->fd);
    s->fd = s->wfd = -1;
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
    bool said;          /* what a stop left unwritten was said */
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
    lw_fd_stoppable(&o->fd, c->flush_timeout_ms);
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

/* count_lines: the newlines of p[from, n) */
static uint64_t
count_lines(const char *p, size_t n, size_t from)
{
    uint64_t k = 0;
    for (const char *q = p + from, *e = p + n; q < e && (q = memchr(q, '\n', (size_t)(e - q))); q++)
        k++;
    return k;
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
    if (o->fd.gave_up && !o->said) { /* what a stop left unwritten: said once */
        size_t total = b->len + s->ext_len;
        uint64_t lines = count_lines(b->p, b->len, wrote) +
                         count_lines(s->ext, s->ext_len, wrote > b->len ? wrote - b->len : 0);
        size_t l = strlen(o->err.msg);
        snprintf(o->err.msg + l, sizeof o->err.msg - l,
                 ": %zu bytes (%" PRIu64 " lines) not written", total - wrote, lines);
        o->said = true;
    }
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
    lw_fd_close(&o->fd, NULL); /* stdout stays open: only the description of its own */
    free(o->waiting);
    free(o);
    s->state = NULL;
}

const struct lw_sink_ops lw_sink_stdout = {
    .name = "stdout", .open = out_open, .put = out_put, .write = out_write, .close = out_close
};
