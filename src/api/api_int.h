/* What liblogwash's API files share beyond logwash.h: api_table.c (lookup tables) reaches the
 * runner, whose struct is api.c's, through this. */
#ifndef LW_API_INT_H
#define LW_API_INT_H

#include "logwash.h"
#include "lw/state.h"
#include "lw/table.h"

/* lw_api_runner_tables: r reads set s (NULL: none) from its next record: r takes a reference
 * to s and drops the one it held. */
void lw_api_runner_tables(struct logwash_runner *r, struct lw_tableset *s);

/* lw_api_ua_load: the compiler's parse_user_agent loader (lw_compile_opts.ua) over the
 * caller's logwash_compile_options.ua_rules; ud is those options (api_ua.c). */
struct lw_uarules;
struct lw_uarules *lw_api_ua_load(void *ud, char *msg, size_t msgsize);
/* api_state.c reaches a runner's state side (NULL when its template keeps no state) and a
 * template's program through these. */
struct lw_vmstate *lw_api_runner_vmstate(struct logwash_runner *r);
const struct lw_program *lw_api_template_program(const struct logwash_template *t);

#endif
