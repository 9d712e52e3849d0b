/* The file-descriptor sink: stdout or a file. Writes whole buffers, retries short writes and
 * EINTR, and says how much of a failed write got through, so the caller acknowledges only
 * records whose every byte was written; EPIPE (the reader went away, e.g. `| head`) is
 * flagged, since for stdout the caller makes it a quiet, normal stop. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lw/sink.h"

void
lw_sink_open_fd(struct lw_sink *s, int fd, const char *name)
{
    *s = (struct lw_sink){ .name = name, .fd = fd };
}

int
lw_sink_open_file(struct lw_sink *s, const char *path, struct lw_diag *d)
{
    *s = (struct lw_sink){ .name = path, .owned = true };
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        lw_diag_setf(d, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
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
