/* Template functions implemented outside builtins.c (one file per family: grok, dissect,
 * parsers, hashes...). builtins.c's table names every function fn_NAME; those defined in other
 * files are declared here so the table can reach them. Deviation from STYLE §4 (file-local
 * functions are static, exported ones lw_-prefixed): these are neither; they are the
 * builtins table's private entries, and this header is the only place that names them. */
#ifndef LW_BUILTINS_INT_H
#define LW_BUILTINS_INT_H

#include "lw/vm.h"

#define LW_FN_DECL(name)                                                                           \
    int fn_##name(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)

LW_FN_DECL(dissect);
LW_FN_DECL(grok);

#endif
