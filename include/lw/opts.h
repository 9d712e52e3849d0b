/* Command-line options: one getopt_long table with the help text (opts.c) fills struct lw_opts.
 * Nothing here runs anything; main.c hands the options to the pipeline. */
#ifndef LW_OPTS_H
#define LW_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lw/program.h"
#include "lw/vm.h"

enum lw_outformat { LW_OUT_JSON, LW_OUT_TEXT };
enum lw_on_error { LW_ONERR_WARN, LW_ONERR_SKIP, LW_ONERR_ABORT };

struct lw_opts {
    const char *template_file; /* -f */
    const char *template_text; /* -e */
    char **inputs;             /* files; none or "-" means stdin */
    int ninputs;
    enum lw_informat input;    /* -i (LW_IN_DEFAULT: as the template says, else text) */
    enum lw_outformat output;  /* -o */
    enum lw_on_error on_error; /* --on-error */
    const char *dead_letter;   /* --dead-letter FILE */
    const char *patterns_dir;  /* --patterns DIR: grok pattern files */
    bool check, disasm, unbuffered, no_jit;
    int verbosity; /* -q: -1, default 0, -v: 1 */
    struct lw_limits limits;
    size_t max_line;
    int64_t now_ns; /* --now, else the clock at start */
    int32_t tz_off; /* --tz */
};

/* lw_opts_parse: fill o from argv. Returns 0 to run, 1 when the program should exit 0 at once
 * (--help, --version were printed to out), or -1 on a usage error with a one-line message
 * in err (errcap bytes). */
int lw_opts_parse(struct lw_opts *o, int argc, char **argv, FILE *out, char *err, size_t errcap);

#endif
