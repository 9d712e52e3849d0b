/* --list-patterns [NAME]: the grok patterns a run would have (logwash's built-ins, then each
 * --patterns directory), or one pattern: where it is defined, its definition, the fields it
 * captures with their types and, with -v, its whole expansion as PCRE2 reads it. Listing only;
 * the library and the expansion are grok.c's. */
#include "lw/patlist.h"

#include <string.h>

#include "lw/arena.h"
#include "lw/grok.h"

static const char *const type_names[] = { "string", "int", "float" };

/* one: NAME's definition, fields and (verbose) expansion; 2 when lib does not define it. */
static int
one(const struct lw_grok_lib *lib, const char *name, bool verbose, struct lw_arena *a, FILE *out,
    FILE *err)
{
    struct lw_grok_info d;
    if (!lw_grok_lib_find(lib, lw_str_c(name), &d)) {
        char hint[256];
        lw_grok_hint(lib, lw_str_c(name), hint, sizeof hint);
        fprintf(err, "logwash: --list-patterns: no grok pattern '%s'%s\n", name, hint);
        return 2;
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
lw_list_patterns(const struct lw_opts *o, FILE *out, FILE *err)
{
    struct lw_arena a;
    struct lw_grok_lib lib;
    char msg[512];
    lw_arena_init(&a, 64 * 1024);
    lw_grok_lib_init(&lib, &a);
    int rc = lw_grok_lib_builtin(&lib, msg, sizeof msg);
    for (int i = 0; rc == 0 && i < o->npatterns; i++)
        rc = lw_grok_lib_load_dir(&lib, o->patterns[i], msg, sizeof msg);
    if (rc != 0) {
        fprintf(err, "logwash: %s\n", msg);
        lw_arena_fini(&a);
        return 2;
    }
    if (o->ninputs > 1) {
        fprintf(err, "logwash: --list-patterns takes one NAME at most\ntry 'logwash --help'\n");
        rc = 2;
    } else if (o->ninputs == 1) {
        rc = one(&lib, o->inputs[0], o->verbosity > 0, &a, out, err);
    } else {
        struct lw_grok_info *all;
        uint32_t n = lw_grok_lib_list(&lib, &a, &all);
        for (uint32_t i = 0; i < n; i++)
            fprintf(out, "%-28.*s %s:%u\n", (int)all[i].name.len, all[i].name.p, all[i].origin,
                    all[i].line);
    }
    lw_arena_fini(&a);
    return rc;
}
