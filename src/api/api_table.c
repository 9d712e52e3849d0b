/* liblogwash's lookup tables (logwash.h "Lookup tables"): tables and sets of them over
 * table.h. A struct logwash_table is an lw_table handle; a struct logwash_tables wraps an
 * lw_tableset with whether a runner has it (then it may no longer change). Loading allocates
 * with malloc only and reports every failure, so nothing here needs an out-of-memory exit. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

struct logwash_tables {
    struct lw_tableset *s;
    atomic_bool used; /* attached to a runner: fixed (runners of several threads may set it) */
};

static void
tseterr(struct logwash_error *err, const char *msg)
{
    if (err == NULL) return;
    err->line = err->col = 0;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

void
logwash_table_options_default(struct logwash_table_options *o)
{
    *o = (struct logwash_table_options){ .max_bytes = LOGWASH_DEFAULT_MAX_STATE };
}

static void
to_opts(struct lw_table_opts *d, const struct logwash_table_options *o)
{
    static const enum lw_table_format f[] = { LW_TABLE_AUTO, LW_TABLE_CSV, LW_TABLE_JSONL };
    *d = (struct lw_table_opts){ .format = (unsigned)o->format < 3 ? f[o->format] : LW_TABLE_AUTO,
                                 .ip = o->ip,
                                 .key = o->key,
                                 .last_wins = o->last_wins,
                                 .max_bytes = o->max_bytes };
}

struct logwash_table *
logwash_table_load(const char *name, const char *data, size_t len,
                   const struct logwash_table_options *o, struct logwash_error *err)
{
    struct logwash_table_options def;
    if (o == NULL) logwash_table_options_default(&def);
    struct lw_table_opts to;
    to_opts(&to, o ? o : &def);
    char e[512];
    if (name == NULL) name = "table";
    if (len > to.max_bytes) {
        snprintf(e, sizeof e, "%s: %zu bytes, more than the table's bound of %zu bytes", name, len,
                 to.max_bytes);
        tseterr(err, e);
        return NULL;
    }
    char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        tseterr(err, "out of memory");
        return NULL;
    }
    if (len) memcpy(copy, data, len);
    struct lw_table *t = lw_table_load(name, copy, len, &to, e, sizeof e);
    if (t == NULL) tseterr(err, e);
    return (struct logwash_table *)t;
}

struct logwash_table *
logwash_table_load_file(const char *path, const struct logwash_table_options *o,
                        struct logwash_error *err)
{
    if (path == NULL) {
        tseterr(err, "no table file named");
        return NULL;
    }
    struct logwash_table_options def;
    if (o == NULL) logwash_table_options_default(&def);
    struct lw_table_opts to;
    to_opts(&to, o ? o : &def);
    char e[512];
    struct lw_table *t = lw_table_load_file(path, &to, e, sizeof e);
    if (t == NULL) tseterr(err, e);
    return (struct logwash_table *)t;
}

size_t
logwash_table_rows(const struct logwash_table *t)
{
    return lw_table_rows((const struct lw_table *)t);
}

size_t
logwash_table_bytes(const struct logwash_table *t)
{
    return lw_table_bytes((const struct lw_table *)t);
}

size_t
logwash_table_duplicates(const struct logwash_table *t)
{
    return lw_table_dups((const struct lw_table *)t);
}

void
logwash_table_free(struct logwash_table *t)
{
    lw_table_unref((struct lw_table *)t);
}

struct logwash_tables *
logwash_tables_new(void)
{
    struct logwash_tables *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    atomic_init(&s->used, false);
    if ((s->s = lw_tableset_new()) == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

int
logwash_tables_add(struct logwash_tables *s, const char *name, struct logwash_table *t,
                   struct logwash_error *err)
{
    if (atomic_load(&s->used)) {
        tseterr(err, "the set of tables is in use by a runner: make a new set");
        return -1;
    }
    if (name == NULL || name[0] == '\0' || t == NULL) {
        tseterr(err, "a table needs a name and a table");
        return -1;
    }
    if (lw_tableset_put(s->s, name, (struct lw_table *)t) != 0) {
        tseterr(err, "out of memory");
        return -1;
    }
    return 0;
}

void
logwash_tables_free(struct logwash_tables *s)
{
    if (s == NULL) return;
    lw_tableset_unref(s->s);
    free(s);
}

void
logwash_runner_set_tables(struct logwash_runner *r, struct logwash_tables *s)
{
    if (s != NULL) atomic_store(&s->used, true);
    lw_api_runner_tables(r, s ? s->s : NULL);
}
