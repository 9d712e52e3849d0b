/* `logwash explain` (src/app/explain.c). */
#ifndef LW_EXPLAIN_CMD_H
#define LW_EXPLAIN_CMD_H

/* lw_explain_main: logwash explain's argv (argv[0] is "explain"); returns the exit status: 0,
 * 2 for a usage error, 3 when the template does not compile, 4 when stdout fails. */
int lw_explain_main(int argc, char **argv);

#endif
