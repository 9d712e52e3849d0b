/* The file-descriptor sink: stdout or a file. Writes whole buffers, retries short writes and
 * EINTR, and says how much of a failed write got through, so the caller acknowledges only
 * records whose every byte was written; EPIPE (the reader went away, e.g. `| head`) is
 * flagged, since for stdout the caller makes it a quiet, normal stop. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw/sink.h"

void
lw_sink_open_fd(struct lw_sink *s, int fd, const char *name)
{
    *s = (struct lw_sink){ .name = name, .fd = fd };
}

void
lw_sink_keep_path(struct lw_sink_keep *keep, int *n, const char *path, const char *what)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        keep[(*n)++] = (struct lw_sink_keep){ st.st_dev, st.st_ino, what };
}

void
lw_sink_keep_fd(struct lw_sink_keep *keep, int *n, int fd, const char *what)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        keep[(*n)++] = (struct lw_sink_keep){ st.st_dev, st.st_ino, what };
}

int
lw_sink_open_file(struct lw_sink *s, const char *path, const struct lw_sink_keep *keep, int nkeep,
                  struct lw_diag *d)
{
    *s = (struct lw_sink){ .name = path, .owned = true };
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
lw_sink_write(struct lw_sink *s, const char *p, size_t n, struct lw_diag *d)
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
lw_sink_close(struct lw_sink *s, struct lw_diag *d)
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
