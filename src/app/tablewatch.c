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
            s->format = LW_TABLE_CSV;
        } else if (w == 5 && memcmp(p, "jsonl", 5) == 0) {
            s->format = LW_TABLE_JSONL;
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
    size_t max_state;
    int verbosity;
    struct lw_tableset *set;
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

/* load: table i's file within what the other tables of the current set leave of max_state. */
static struct lw_table *
load(struct lw_tablewatch *w, int i, char *err, size_t errcap)
{
    const struct lw_table_spec *s = w->w[i].spec;
    size_t others = 0;
    for (size_t k = 0; k < lw_tableset_count(w->set); k++) {
        if (strcmp(lw_tableset_name(w->set, k), s->name) != 0)
            others += lw_table_bytes(lw_tableset_table(w->set, k));
    }
    struct lw_table_opts o = { .format = s->format,
                               .ip = s->ip,
                               .key = s->key,
                               .last_wins = s->last_wins,
                               .max_bytes = others < w->max_state ? w->max_state - others : 0 };
    char e[512];
    struct lw_table *t = lw_table_load_file(s->path, &o, e, sizeof e);
    if (t == NULL && strstr(e, "bound") != NULL && others > 0) {
        snprintf(err, errcap, "table '%s': %s: --max-state is %zu, the other tables take %zu",
                 s->name, e, w->max_state, others);
    } else if (t == NULL) {
        snprintf(err, errcap, "table '%s': %s%s", s->name, e,
                 strstr(e, "bound") ? " (--max-state)" : "");
    }
    return t;
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
    w->set = lw_tableset_new();
    if (w->set == NULL) lw_oom(sizeof *w);
    for (int i = 0; i < n; i++) {
        struct watched *x = &w->w[i];
        x->spec = &specs[i];
        x->seen_ok = x->given_ok = stat(specs[i].path, &x->seen) == 0;
        x->given = x->seen;
        struct lw_table *t = load(w, i, err, errcap);
        if (t == NULL) {
            *bad = i;
            lw_tablewatch_free(w);
            return NULL;
        }
        if (lw_tableset_put(w->set, specs[i].name, t) != 0) lw_oom(0);
        lw_table_unref(t);
        if (lw_table_dups(t) > 0 && verbosity >= 0) {
            fprintf(stderr,
                    "logwash: table '%s': %zu repeated key%s: the last row kept (last-wins)\n",
                    specs[i].name, lw_table_dups(t), lw_table_dups(t) == 1 ? "" : "s");
        }
    }
    return w;
}

struct lw_tableset *
lw_tablewatch_set(const struct lw_tablewatch *w)
{
    return w ? w->set : NULL;
}

/* reload: table i's file changed and settled: load it; on success, a new set with it. */
static struct lw_tableset *
reload(struct lw_tablewatch *w, int i, struct lw_tableset *old)
{
    struct watched *x = &w->w[i];
    char err[700];
    x->given = x->seen;
    x->given_ok = x->seen_ok;
    struct lw_table *t = x->seen_ok ? load(w, i, err, sizeof err) : NULL;
    if (!x->seen_ok) {
        snprintf(err, sizeof err, "table '%s': cannot read %s: %s", x->spec->name, x->spec->path,
                 strerror(errno));
    }
    if (t == NULL) {
        w->failures++;
        fprintf(stderr, "logwash: %s; keeping the version loaded before\n", err);
        return old;
    }
    struct lw_tableset *s = lw_tableset_copy(w->set);
    if (s == NULL || lw_tableset_put(s, x->spec->name, t) != 0) lw_oom(0);
    lw_table_unref(t);
    w->reloads++;
    if (w->verbosity >= 0) {
        fprintf(stderr, "logwash: table '%s': reloaded %s (%zu rows, %zu bytes)\n", x->spec->name,
                x->spec->path, lw_table_rows(t), lw_table_bytes(t));
    }
    if (old == NULL)
        old = w->set; /* the first change of this poll: the set the VMs hold */
    else
        lw_tableset_unref(w->set); /* a set made earlier in this poll, never handed out */
    w->set = s;
    return old;
}

struct lw_tableset *
lw_tablewatch_poll(struct lw_tablewatch *w, int64_t now_ms)
{
    if (w == NULL || now_ms < w->next_ms) return NULL;
    w->next_ms = now_ms + CHECK_MS;
    struct lw_tableset *old = NULL;
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
        if (settled && changed) old = reload(w, i, old);
        if (!settled && changed) w->next_ms = now_ms + CHECK_MS / 4; /* look again soon */
    }
    return old;
}

void
lw_tablewatch_counts(const struct lw_tablewatch *w, uint64_t *reloads, uint64_t *failures)
{
    *reloads = w ? w->reloads : 0;
    *failures = w ? w->failures : 0;
}

void
lw_tablewatch_free(struct lw_tablewatch *w)
{
    if (w == NULL) return;
    lw_tableset_unref(w->set);
    free(w->w);
    free(w);
}
