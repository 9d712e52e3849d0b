/* --list-patterns [NAME]: the grok patterns a run would have, through the library
 * (logwash_patterns_describe); this file holds only the command's arguments and exit status. */
#include "lw/patlist.h"

#include "logwash.h"

int
lw_list_patterns(const struct lw_opts *o, FILE *out, FILE *err)
{
    if (o->ninputs > 1) {
        fprintf(err, "logwash: --list-patterns takes one NAME at most\ntry 'logwash --help'\n");
        return 2;
    }
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.pattern_dirs = o->patterns;
    co.npattern_dirs = (size_t)o->npatterns;
    struct logwash_error e;
    if (logwash_patterns_describe(&co, o->ninputs == 1 ? o->inputs[0] : NULL, o->verbosity > 0, out,
                                  &e) != 0) {
        fprintf(err, "logwash: %s%s\n", o->ninputs == 1 ? "--list-patterns: " : "", e.message);
        return 2;
    }
    return 0;
}
