/* logwash_patterns_describe (logwash.h): the grok patterns a template would have, or one of
 * them, written for people. Listing only: the libraries and the expansion are grok.c's. */
#include "logwash.h"

#include <stdarg.h>
#include <string.h>

#include "lw/arena.h"
#include "lw/grok.h"

static const char *const type_names[] = { "string", "int", "float" };

static int fail(struct logwash_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct logwash_error *e, const char *fmt, ...)
{
    if (e == NULL) return -1;
    e->line = e->col = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* one: NAME's definition, fields and (verbose) expansion. */
static int
one(const struct lw_grok_lib *lib, const char *name, bool verbose, struct lw_arena *a, FILE *out,
    struct logwash_error *err)
{
    struct lw_grok_info d;
    if (!lw_grok_lib_find(lib, lw_str_c(name), &d)) {
        char hint[256];
        lw_grok_hint(lib, lw_str_c(name), hint, sizeof hint);
        return fail(err, "no grok pattern '%s'%s", name, hint);
    }
    fprintf(out, "%.*s (%s:%u)\n  %.*s\n", (int)d.name.len, d.name.p, d.origin, d.line,
            (int)d.text.len, d.text.p);
    char pat[128], msg[256];
    size_t off;
    struct lw_grok_expansion e;
    snprintf(pat, sizeof pat, "%%{%s}", name);
    if (lw_grok_expand(lib, lw_str_c(pat), a, &e, msg, sizeof msg, &off) != 0) {
        fprintf(out, "does not expand: %s\n", msg);
        return 0;
    }
    fprintf(out, "fields:%s\n", e.nfields == 0 ? " none" : "");
    for (uint32_t i = 0; i < e.nfields; i++) {
        const struct lw_grok_field *f = &e.fields[i];
        char path[256] = "";
        size_t n = 0;
        for (uint32_t k = 0; k < f->npath && n < sizeof path; k++) {
            n += (size_t)snprintf(path + n, sizeof path - n, f->npath > 1 ? "[%.*s]" : "%.*s",
                                  (int)f->path[k].len, f->path[k].p);
        }
        fprintf(out, "  %-30s %s\n", path, type_names[f->type]);
    }
    if (verbose) fprintf(out, "expansion:\n  %.*s\n", (int)e.regex.len, e.regex.p);
    return 0;
}

int
logwash_patterns_describe(const struct logwash_compile_options *o, const char *name, bool verbose,
                          FILE *f, struct logwash_error *err)
{
    struct lw_arena a;
    struct lw_grok_lib lib;
    char msg[512];
    lw_arena_init(&a, 64 * 1024);
    lw_grok_lib_init(&lib, &a);
    int rc = lw_grok_lib_builtin(&lib, msg, sizeof msg);
    for (size_t i = 0; rc == 0 && o != NULL && i < o->npattern_dirs; i++)
        rc = lw_grok_lib_load_dir(&lib, o->pattern_dirs[i], msg, sizeof msg);
    if (rc != 0) {
        rc = fail(err, "%s", msg);
    } else if (name != NULL) {
        rc = one(&lib, name, verbose, &a, f, err);
    } else {
        struct lw_grok_info *all;
        uint32_t n = lw_grok_lib_list(&lib, &a, &all);
        for (uint32_t i = 0; i < n; i++)
            fprintf(f, "%-28.*s %s:%u\n", (int)all[i].name.len, all[i].name.p, all[i].origin,
                    all[i].line);
    }
    lw_arena_fini(&a);
    if (rc == 0 && ferror(f)) rc = fail(err, "cannot write the list");
    return rc;
}
