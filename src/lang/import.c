/* Imports: before anything is parsed, the template's `import "NAME"` statements are found by
 * lexing it, and each named file is read (looked up next to the importing file, then in each
 * --lib directory), checked, appended to the one text buffer that becomes prog->src, and
 * searched for imports in turn. A cycle, a missing or unfit file is a compile error at the
 * import. What an imported file may hold (functions only) is checked by compile.c. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile_int.h"
#include "lw/json.h"

#define MAX_IMPORT_BYTES (1u << 20) /* one imported file */
#define MAX_NAME         255

/* The text buffer while files are read: prog->src is made from it once all are in. */
struct textbuf {
    char *p;
    size_t len, cap;
};

/* check_name: what an import may name: a relative path ending in .lw, whose parts are neither
 * empty nor '.' or '..', so it names a file inside the directory it is looked up in. */
static void
check_name(struct compiler *c, struct lw_str nm, struct lw_span sp)
{
    if (nm.len == 0) lw_cfail(c, sp, "empty file name in import");
    if (nm.len > MAX_NAME)
        lw_cfail(c, sp, "file name too long in import (%d bytes at most)", MAX_NAME);
    if (nm.len < 4 || memcmp(nm.p + nm.len - 3, ".lw", 3) != 0) {
        lw_cfail(c, sp, "an imported file's name ends in .lw");
    }
    if (nm.p[0] == '/') {
        lw_cfail(c, sp,
                 "an import names a file relative to the importing file or a --lib directory, "
                 "not an absolute path");
    }
    size_t start = 0;
    for (size_t i = 0; i <= nm.len; i++) {
        if (i < nm.len && (nm.p[i] == '\\' || nm.p[i] == '\0' || (unsigned char)nm.p[i] < ' ')) {
            lw_cfail(c, sp, "an imported file's name holds no backslash or control character");
        }
        if (i < nm.len && nm.p[i] != '/') continue;
        size_t n = i - start;
        if (n == 0 || (n == 1 && nm.p[start] == '.') ||
            (n == 2 && nm.p[start] == '.' && nm.p[start + 1] == '.')) {
            lw_cfail(c, sp,
                     "an import cannot name '.', '..' or an empty part: it names a file inside "
                     "the importing file's directory or a --lib directory");
        }
        start = i + 1;
    }
}

/* join: DIR/NAME in the compile arena (NAME alone when dir is empty), NUL-terminated. */
static struct lw_str
join(struct compiler *c, struct lw_str dir, struct lw_str nm)
{
    while (dir.len > 1 && dir.p[dir.len - 1] == '/')
        dir.len--;
    char *p = lw_arena_alloc(&c->ca, dir.len + nm.len + 2);
    size_t n = 0;
    if (dir.len > 0) {
        memcpy(p, dir.p, dir.len);
        n = dir.len;
        if (p[n - 1] != '/') p[n++] = '/';
    }
    memcpy(p + n, nm.p, nm.len);
    n += nm.len;
    p[n] = '\0';
    return (struct lw_str){ p, n };
}

/* dirname: the directory part of path, "" when it has none. */
static struct lw_str
dirname_of(struct lw_str path)
{
    size_t n = path.len;
    while (n > 0 && path.p[n - 1] != '/')
        n--;
    return (struct lw_str){ path.p, n };
}

static void
cycle(struct compiler *c, uint32_t from, uint32_t to, struct lw_span sp)
{
    uint32_t chain[MAXFILES + 1], n = 0;
    for (int32_t f = (int32_t)from; f >= 0 && n < MAXFILES; f = c->files[f].parent) {
        chain[n++] = (uint32_t)f;
        if ((uint32_t)f == to) break;
    }
    char msg[400];
    size_t len = (size_t)snprintf(msg, sizeof msg, "import cycle:");
    for (uint32_t i = n; i-- > 0 && len < sizeof msg;) {
        struct lw_str nm = c->files[chain[i]].name;
        len += (size_t)snprintf(msg + len, sizeof msg - len, " %.*s imports", (int)nm.len, nm.p);
    }
    if (len < sizeof msg) {
        snprintf(msg + len, sizeof msg - len, " %.*s", (int)c->files[to].name.len,
                 c->files[to].name.p);
    }
    lw_cfail(c, sp, "%s", msg);
}

/* read_fd: the regular file open at fd, appended to t; its length. */
static size_t
read_fd(struct compiler *c, int fd, struct lw_str path, struct textbuf *t, struct lw_span sp)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        lw_cfail(c, sp, "cannot import %.*s: %s", (int)path.len, path.p, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        lw_cfail(c, sp, "cannot import %.*s: not a regular file", (int)path.len, path.p);
    }
    if (st.st_size > MAX_IMPORT_BYTES) {
        close(fd);
        lw_cfail(c, sp, "cannot import %.*s: larger than %u bytes", (int)path.len, path.p,
                 MAX_IMPORT_BYTES);
    }
    size_t need = t->len + MAX_IMPORT_BYTES + 2;
    if (t->cap < need) { /* room for the largest file: nothing is parsed yet, nothing points in */
        size_t cap = t->cap * 2 > need ? t->cap * 2 : need;
        t->p = lw_arena_realloc(&c->ca, t->p, t->len, cap);
        t->cap = cap;
    }
    /* a newline apart from the file before: no offset is both one's end and the next's start */
    t->p[t->len] = '\n';
    char *at = t->p + t->len + 1;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, at + n, MAX_IMPORT_BYTES + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            lw_cfail(c, sp, "cannot import %.*s: %s", (int)path.len, path.p, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > MAX_IMPORT_BYTES) {
            close(fd);
            lw_cfail(c, sp, "cannot import %.*s: larger than %u bytes", (int)path.len, path.p,
                     MAX_IMPORT_BYTES);
        }
    }
    close(fd);
    struct lw_str text = { at, n };
    if (memchr(text.p, '\0', n) != NULL || !lw_utf8_valid(text)) {
        lw_cfail(c, sp, "cannot import %.*s: not a template (not UTF-8 text)", (int)path.len,
                 path.p);
    }
    return n;
}

/* open_import: the file import nm of file f names, open; its path in *path. */
static int
open_import(struct compiler *c, uint32_t f, struct lw_str nm, struct lw_span sp,
            struct lw_str *path)
{
    const struct lw_compile_opts *o = c->opts;
    size_t nlib = o ? o->nlib : 0;
    bool own = c->files[f].dir.p != NULL;
    char where[300];
    size_t wl = 0;
    where[0] = '\0';
    for (size_t i = 0; i < nlib + 1; i++) {
        struct lw_str dir;
        if (i == 0 && !own) continue;
        dir = i == 0 ? c->files[f].dir : lw_str_c(o->lib[i - 1]);
        *path = join(c, dir, nm);
        int fd = open(path->p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0) return fd;
        if (errno != ENOENT && errno != ENOTDIR) {
            lw_cfail(c, sp, "cannot import %.*s: %s", (int)path->len, path->p, strerror(errno));
        }
        if (wl < sizeof where) {
            wl += (size_t)snprintf(where + wl, sizeof where - wl, "%s%.*s", wl ? ", " : "",
                                   dir.len ? (int)dir.len : 1, dir.len ? dir.p : ".");
        }
    }
    if (wl == 0) {
        lw_cfail(c, sp,
                 "cannot find '%.*s': a template given as text imports only from --lib "
                 "directories",
                 (int)nm.len, nm.p);
    }
    lw_cfail(c, sp, "cannot find '%.*s' (looked in %s)", (int)nm.len, nm.p, where);
}

static void load(struct compiler *c, struct textbuf *t, uint32_t f);
static void guarded(struct compiler *c, struct textbuf *t, uint32_t f, struct lw_str nm,
                    struct lw_span sp);

/* import: the file nm that file f imports at sp: read and loaded, unless it is already. */
static void
import(struct compiler *c, struct textbuf *t, uint32_t f, struct lw_str nm, struct lw_span sp)
{
    check_name(c, nm, sp);
    struct lw_str path;
    int fd = open_import(c, f, nm, sp, &path);
    struct stat st;
    if (fstat(fd, &st) == 0) {
        for (uint32_t i = 0; i < c->nfiles; i++) {
            if (c->files[i].dev != (uint64_t)st.st_dev || c->files[i].ino != (uint64_t)st.st_ino)
                continue;
            close(fd);
            if (c->files[i].loading) cycle(c, f, i, sp);
            return; /* imported before: its functions are there once */
        }
    }
    if (c->nfiles == MAXFILES) {
        close(fd);
        lw_cfail(c, sp, "too many imported files (%d at most)", MAXFILES - 1);
    }
    size_t n = read_fd(c, fd, path, t, sp);
    uint32_t k = c->nfiles++;
    c->files[k] = (struct srcfile){ .name = path,
                                    .dir = dirname_of(path),
                                    .base = (uint32_t)t->len + 1,
                                    .len = (uint32_t)n,
                                    .parent = (int32_t)f,
                                    .at = sp,
                                    .dev = (uint64_t)st.st_dev,
                                    .ino = (uint64_t)st.st_ino };
    t->len += n + 1;
    c->text = (struct lw_str){ t->p, t->len };
    load(c, t, k);
}

/* load: find file f's top-level imports by lexing it, then import each. */
static void
load(struct compiler *c, struct textbuf *t, uint32_t f)
{
    struct lexer lx;
    struct {
        struct lw_str nm;
        struct lw_span sp;
    } *imp = NULL;
    uint32_t n = 0, cap = 0;
    int depth = 0;
    c->files[f].loading = true;
    lw_lex_init(&lx, (struct lw_str){ t->p, t->len }, c->files[f].base,
                c->files[f].base + c->files[f].len);
    lx.quiet = true; /* the parser reports malformed tokens */
    for (lw_lex_next(c, &lx); lx.tok.t != T_EOF; lw_lex_next(c, &lx)) {
        depth += lx.tok.t == T_LBRACE ? 1 : lx.tok.t == T_RBRACE ? -1 : 0;
        if (lx.tok.t != T_IMPORT || depth != 0) continue;
        lw_lex_next(c, &lx);
        struct token s = lx.tok;
        if (s.t != T_STRING && s.t != T_RAWSTR) continue; /* the parser says what is wrong */
        struct lw_str nm = { t->p + s.span.off + 1, s.span.len - 2 };
        if (s.t == T_STRING && (memchr(nm.p, '\\', nm.len) || memchr(nm.p, '$', nm.len))) {
            lw_cerror(c, s.span, "an import names its file plainly: no escapes, no '${'");
            c->import_failed = true;
            continue;
        }
        if (n == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            imp = lw_arena_realloc(&c->ca, imp, cap * sizeof *imp, nc * sizeof *imp);
            cap = nc;
        }
        imp[n].nm = (struct lw_str){ lw_arena_dup(&c->ca, nm.p, nm.len), nm.len };
        imp[n++].sp = s.span;
    }
    for (uint32_t i = 0; i < n; i++)
        guarded(c, t, f, imp[i].nm, imp[i].sp);
    c->files[f].loading = false;
}

/* guarded: import, whose failure is reported, and the next import is tried. A function the
 * file would have defined is then not reported unknown (c->import_failed). */
static void
guarded(struct compiler *c, struct textbuf *t, uint32_t f, struct lw_str nm, struct lw_span sp)
{
    jmp_buf jb;
    jmp_buf *outer = c->recover;
    c->recover = &jb;
    if (setjmp(jb) == 0) {
        import(c, t, f, nm, sp);
    } else {
        c->import_failed = true;
    }
    c->recover = outer;
}

void
lw_import_load(struct compiler *c)
{
    const char *path = c->opts ? c->opts->path : NULL;
    c->files[0] =
        (struct srcfile){ .name = c->prog->name, .len = (uint32_t)c->text.len, .parent = -1 };
    struct stat st;
    if (path != NULL) {
        c->files[0].dir = dirname_of(lw_str_c(path));
        if (c->files[0].dir.p == NULL) c->files[0].dir.p = "";
        if (stat(path, &st) == 0) {
            c->files[0].dev = (uint64_t)st.st_dev;
            c->files[0].ino = (uint64_t)st.st_ino;
        }
    }
    c->nfiles = 1;
    struct textbuf t = { .p = (char *)c->text.p, .len = c->text.len, .cap = c->text.len };
    load(c, &t, 0);
}

uint32_t
lw_import_file(const struct compiler *c, uint32_t off)
{
    uint32_t f = 0;
    for (uint32_t i = 1; i < c->nfiles; i++) {
        if (c->files[i].base <= off) f = i;
    }
    return f;
}
