/* --list-patterns (src/app/patlist.c): the grok patterns of a run, or one of them. */
#ifndef LW_PATLIST_H
#define LW_PATLIST_H

#include <stdio.h>

#include "lw/opts.h"

/* lw_list_patterns: load the built-in patterns and o's --patterns directories, then print to
 * out every name with the file:line defining it, sorted; or, with one input NAME, that
 * pattern's file:line, definition, the fields it captures with their types and, with -v, its
 * expansion. Returns the exit status: 0, or 2 after a message on err (a pattern file that does
 * not load, an unknown NAME with the nearest name and the standard library file defining it). */
int lw_list_patterns(const struct lw_opts *o, FILE *out, FILE *err);

#endif
