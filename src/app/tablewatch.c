/* The program's lookup tables (tablewatch.h): --table specs, the first load within
 * --max-state, and reloads. A reload is checked at most once a second by the record loop (a
 * stat per table); a changed file is read only once it has stayed the same for a second (its
 * size, times and inode unchanged between two looks, or its ctime a second old), so a file
 * still being written in place is seldom taken half-written (a rename over the old file is
 * the safe way to change one). The new table is loaded and
 * checked completely before a new set replaces the old one; a bad file changes nothing. */
#include "lw/tablewatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lw/str.h"

#define CHECK_MS 1000 /* between looks; a quarter of it while a change settles */

static bool
letter(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || !letter(s[0])) return false;
    for (size_t i = 0; i < n; i++)
        if (!letter(s[i]) && s[i] != '-' && !(s[i] >= '0' && s[i] <= '9')) return false;
    return true;
}

int
lw_table_spec_parse(const char *arg, struct lw_table_spec *s, char *err, size_t errcap)
{
    *s = (struct lw_table_spec){ .arg = arg };
    size_t n = strcspn(arg, ":=");
    if (arg[n] == '\0') {
        return lw_errf(err, errcap, "--table needs NAME=FILE or NAME:OPTIONS=FILE, found '%s'",
                       arg);
    }
    if (!name_ok(arg, n)) {
        return lw_errf(err, errcap,
                       "--table: '%.*s' is not a table name (a letter or '_', then letters, "
                       "digits, '_' or '-'; at most 64)",
                       (int)(n > 80 ? 80 : n), arg);
    }
    const char *p = arg + n;
    while (*p == ':' || *p == ',') {
        p++;
        size_t w = strcspn(p, ",=");
        if (w == 3 && memcmp(p, "key", 3) == 0 && p[w] == '=') {
            const char *c = p + 4;
            size_t cl = strcspn(c, ",=");
            if (cl == 0 || c[cl] == '\0') {
                lw_table_spec_fini(s);
                return lw_errf(err, errcap, "--table %.*s: key=COLUMN needs a column, then =FILE",
                               (int)n, arg);
            }
            free(s->key);
            s->key = lw_xstrndup(c, cl);
            p = c + cl;
            continue;
        }
        if (w == 2 && memcmp(p, "ip", 2) == 0) {
            s->ip = true;
        } else if (w == 3 && memcmp(p, "csv", 3) == 0) {
            s->format = LOGWASH_TABLE_CSV;
        } else if (w == 5 && memcmp(p, "jsonl", 5) == 0) {
            s->format = LOGWASH_TABLE_JSONL;
        } else if (w == 9 && memcmp(p, "last-wins", 9) == 0) {
            s->last_wins = true;
        } else {
            lw_table_spec_fini(s);
            return lw_errf(err, errcap,
                           "--table %.*s: unknown option '%.*s' (options: ip, csv, jsonl, "
                           "last-wins, key=COLUMN)",
                           (int)n, arg, (int)(w > 40 ? 40 : w), p);
        }
        p += w;
    }
    if (*p != '=' || p[1] == '\0') {
        lw_table_spec_fini(s);
        return lw_errf(err, errcap, "--table %.*s: no file: write %.*s=FILE", (int)n, arg, (int)n,
                       arg);
    }
    s->name = lw_xstrndup(arg, n);
    s->path = p + 1;
    return 0;
}

void
lw_table_spec_fini(struct lw_table_spec *s)
{
    free(s->name);
    free(s->key);
    s->name = s->key = NULL;
}

/* What the watch knows of one table's file. */
struct watched {
    const struct lw_table_spec *spec;
    struct stat seen;  /* at the last look */
    struct stat given; /* of the version loaded or refused last */
    bool seen_ok, given_ok;
};

struct lw_tablewatch {
    const struct lw_table_spec *specs;
    int n;
    struct watched *w;
    struct logwash_table **cur; /* the current version of each table (the watch's handles) */
    size_t max_state;
    int verbosity;
    struct logwash_tables *set; /* cur[0..n) under their names */
    int64_t next_ms;
    uint64_t reloads, failures;
};

static bool
same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* load: table i's file within what the other current tables leave of max_state. */
static struct logwash_table *
load(struct lw_tablewatch *w, int i, char *err, size_t errcap)
{
    const struct lw_table_spec *s = w->w[i].spec;
    size_t others = 0;
    for (int k = 0; k < w->n; k++) {
        if (k != i && w->cur[k] != NULL) others += logwash_table_bytes(w->cur[k]);
    }
    struct logwash_table_options o;
    logwash_table_options_default(&o);
    o.format = s->format;
    o.ip = s->ip;
    o.key = s->key;
    o.last_wins = s->last_wins;
    o.max_bytes = others < w->max_state ? w->max_state - others : 0;
    struct logwash_error e;
    struct logwash_table *t = logwash_table_load_file(s->path, &o, &e);
    if (t == NULL && strstr(e.message, "bound") != NULL && others > 0) {
        snprintf(err, errcap, "table '%s': %s: --max-state is %zu, the other tables take %zu",
                 s->name, e.message, w->max_state, others);
    } else if (t == NULL) {
        snprintf(err, errcap, "table '%s': %s%s", s->name, e.message,
                 strstr(e.message, "bound") ? " (--max-state)" : "");
    }
    return t;
}

/* make_set: a new set of cur[0..n) under their names (NULL when out of memory). */
static struct logwash_tables *
make_set(struct lw_tablewatch *w)
{
    struct logwash_tables *s = logwash_tables_new();
    for (int k = 0; s != NULL && k < w->n; k++) {
        if (logwash_tables_add(s, w->specs[k].name, w->cur[k], NULL) != 0) {
            logwash_tables_free(s);
            s = NULL;
        }
    }
    return s;
}

struct lw_tablewatch *
lw_tablewatch_open(const struct lw_table_spec *specs, int n, size_t max_state, int verbosity,
                   int *bad, char *err, size_t errcap)
{
    struct lw_tablewatch *w = lw_xcalloc(1, sizeof *w);
    *w = (struct lw_tablewatch){
        .specs = specs, .n = n, .max_state = max_state, .verbosity = verbosity
    };
    w->w = lw_xcalloc((size_t)n + 1, sizeof *w->w);
    w->cur = lw_xcalloc((size_t)n + 1, sizeof *w->cur);
    for (int i = 0; i < n; i++) {
        struct watched *x = &w->w[i];
        x->spec = &specs[i];
        x->seen_ok = x->given_ok = stat(specs[i].path, &x->seen) == 0;
        x->given = x->seen;
        struct logwash_table *t = load(w, i, err, errcap);
        if (t == NULL) {
            *bad = i;
            lw_tablewatch_free(w);
            return NULL;
        }
        w->cur[i] = t;
        size_t dups = logwash_table_duplicates(t);
        if (dups > 0 && verbosity >= 0) {
            fprintf(stderr,
                    "logwash: table '%s': %zu repeated key%s: the last row kept (last-wins)\n",
                    specs[i].name, dups, dups == 1 ? "" : "s");
        }
    }
    w->set = make_set(w);
    if (w->set == NULL) lw_oom(sizeof *w);
    return w;
}

struct logwash_tables *
lw_tablewatch_set(const struct lw_tablewatch *w)
{
    return w ? w->set : NULL;
}

/* reload: table i's file changed and settled: load it; on success it replaces cur[i].
 * Returns true when it did. */
static bool
reload(struct lw_tablewatch *w, int i)
{
    struct watched *x = &w->w[i];
    char err[700];
    x->given = x->seen;
    x->given_ok = x->seen_ok;
    /* only a regular file is read again: opening a fifo would stop the record loop until
     * something writes to it */
    bool reg = x->seen_ok && S_ISREG(x->seen.st_mode);
    struct logwash_table *t = reg ? load(w, i, err, sizeof err) : NULL;
    if (!x->seen_ok) {
        snprintf(err, sizeof err, "table '%s': cannot read %s: %s", x->spec->name, x->spec->path,
                 strerror(errno));
    } else if (!reg) {
        snprintf(err, sizeof err,
                 "table '%s': %s is not a regular file now (a reload reads only one)",
                 x->spec->name, x->spec->path);
    }
    if (t == NULL) {
        w->failures++;
        fprintf(stderr, "logwash: %s; keeping the version loaded before\n", err);
        return false;
    }
    logwash_table_free(w->cur[i]); /* the old set keeps its own hold while runners use it */
    w->cur[i] = t;
    w->reloads++;
    if (w->verbosity >= 0) {
        fprintf(stderr, "logwash: table '%s': reloaded %s (%zu rows, %zu bytes)\n", x->spec->name,
                x->spec->path, logwash_table_rows(t), logwash_table_bytes(t));
    }
    return true;
}

bool
lw_tablewatch_poll(struct lw_tablewatch *w, int64_t now_ms)
{
    if (w == NULL || now_ms < w->next_ms) return false;
    w->next_ms = now_ms + CHECK_MS;
    bool changed_any = false;
    for (int i = 0; i < w->n; i++) {
        struct watched *x = &w->w[i];
        struct stat st;
        bool ok = stat(x->spec->path, &st) == 0;
        int e = errno;
        /* settled: unchanged since the last look, or not changed for a second (a slow input
         * may look only once long after the file was written) */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t age = ok ? ((int64_t)now.tv_sec - st.st_ctim.tv_sec) * 1000000000 +
                               (now.tv_nsec - st.st_ctim.tv_nsec)
                         : 0;
        bool settled = (ok == x->seen_ok && (!ok || same(&st, &x->seen))) || age >= 1000000000;
        x->seen_ok = ok;
        if (ok) x->seen = st;
        bool changed = ok != x->given_ok || (ok && !same(&st, &x->given));
        errno = e;
        if (settled && changed && reload(w, i)) changed_any = true;
        if (!settled && changed) w->next_ms = now_ms + CHECK_MS / 4; /* look again soon */
    }
    if (!changed_any) return false;
    struct logwash_tables *s = make_set(w);
    if (s == NULL) lw_oom(0);
    logwash_tables_free(w->set); /* runners holding it keep it until they are switched */
    w->set = s;
    return true;
}

void
lw_tablewatch_counts(const struct lw_tablewatch *w, uint64_t *reloads, uint64_t *failures)
{
    *reloads = w ? w->reloads : 0;
    *failures = w ? w->failures : 0;
}

int
lw_tablewatch_count(const struct lw_tablewatch *w)
{
    return w ? w->n : 0;
}

const struct logwash_table *
lw_tablewatch_table(const struct lw_tablewatch *w, int i, const char **name)
{
    *name = w->specs[i].name;
    return w->cur[i];
}

void
lw_tablewatch_free(struct lw_tablewatch *w)
{
    if (w == NULL) return;
    logwash_tables_free(w->set);
    for (int i = 0; i < w->n; i++)
        logwash_table_free(w->cur[i]);
    free(w->cur);
    free(w->w);
    free(w);
}
