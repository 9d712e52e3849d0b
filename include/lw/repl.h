/* `logwash repl` (src/app/repl.c). */
#ifndef LW_REPL_H
#define LW_REPL_H

/* lw_repl_main: logwash repl's argv (argv[0] is "repl"); returns the exit status: 0; 1 when
 * standard input is not a terminal and some input failed; 2 for a usage error. */
int lw_repl_main(int argc, char **argv);

#endif
