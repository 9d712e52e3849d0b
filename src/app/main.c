/* main(): options -> template -> pipeline -> exit status. No logic of its own (STYLE §3);
 * the only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw/arena.h"
#include "lw/buf.h"
#include "lw/grok.h"
#include "lw/opts.h"
#include "lw/pipeline.h"
#include "lw/program.h"
#include "lw/test.h"
#include "lw/validate.h"

static volatile sig_atomic_t interrupted, hangup;

/* on_signal: the first signal stops reading (the pipeline finishes, writes and commits); a
 * second SIGINT or SIGTERM ends logwash at once. A repeated SIGHUP only asks again: two quick
 * `systemctl reload`s must not lose what the first one is flushing. */
static void
on_signal(int sig)
{
    if (sig == SIGHUP) {
        hangup = 1;
    } else if (interrupted) {
        _exit(130);
    } else {
        interrupted = 1;
    }
    lw_pipeline_stop();
}

/* std_fds: descriptors 0-2 open before anything else. Started with one closed (`>&-`), the next
 * file opened (the dead-letter file) would take its number, and stdout's records would go into
 * it. A closed one is opened on /dev/null read-only: a write to it still fails (EBADF) and is
 * reported as before, but the number is taken. */
static void
std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        int n = open("/dev/null", O_RDONLY);
        if (n >= 0 && n != fd) { /* not the lowest free number: cannot happen, but be sure */
            dup2(n, fd);
            close(n);
        }
    }
}

int
main(int argc, char **argv)
{
    std_fds();
    if (argc >= 2 && strcmp(argv[1], "test") == 0) return lw_test_main(argc - 1, argv + 1);
    struct lw_opts o;
    char err[512];
    int r = lw_opts_parse(&o, argc, argv, stdout, err, sizeof err);
    if (r != 0) {
        lw_opts_fini(&o);
        if (r > 0) return 0;
        fprintf(stderr, "logwash: %s\ntry 'logwash --help'\n", err);
        return 2;
    }
    /* --print-config: the options as a job file, nothing read or compiled (with --validate:
     * once everything checked out, below) */
    if (o.print_config && !o.validate) {
        r = lw_print_config(&o, stdout);
        lw_opts_fini(&o);
        return r != 0 ? 4 : 0;
    }
    /* --validate: every check the run would make at start, each problem said; then the
     * patterns and the template, as for --check; exit 2 for any problem */
    int problems = o.validate ? lw_validate(&o, stderr) : 0;

    struct lw_buf src;
    lw_buf_init(&src);
    const char *name = "-e";
    if (o.template_file != NULL) {
        name = o.template_file;
        if (lw_buf_read_file(&src, o.template_file) != 0) {
            fprintf(stderr, "logwash: cannot read %s: %s\n", o.template_file, strerror(errno));
            lw_opts_fini(&o);
            return 2;
        }
    } else {
        lw_buf_adds(&src, o.template_text);
    }

    /* --patterns: the built-ins, then each directory in order (a later definition wins), loaded
     * before the template, so a bad file is reported even when no grok() uses it; the library
     * lives until the program is compiled. */
    struct lw_arena grok_arena;
    struct lw_grok_lib grok;
    lw_arena_init(&grok_arena, 64 * 1024);
    if (o.npatterns > 0) {
        lw_grok_lib_init(&grok, &grok_arena);
    }
    for (int i = 0; i < o.npatterns; i++) {
        if ((i == 0 && lw_grok_lib_builtin(&grok, err, sizeof err) != 0) ||
            lw_grok_lib_load_dir(&grok, o.patterns[i], err, sizeof err) != 0) {
            fprintf(stderr, "logwash: %s\n", err);
            lw_arena_fini(&grok_arena);
            lw_buf_fini(&src);
            lw_opts_fini(&o);
            return 2;
        }
    }

    struct lw_diag d = { 0 };
    /* the --table names: a lookup() of another table is a compile error */
    const char **tables = lw_xcalloc((size_t)o.ntables + 1, sizeof *tables);
    for (int i = 0; i < o.ntables; i++)
        tables[i] = o.tables[i].name;
    struct lw_compile_opts co = { .jit = !o.no_jit,
                                  .grok = o.npatterns > 0 ? &grok : NULL,
                                  .path = o.template_file,
                                  .lib = (const char *const *)o.libs,
                                  .nlib = (size_t)o.nlibs,
                                  .tables = tables,
                                  .ntables = (size_t)o.ntables };
    struct lw_str text = { src.p ? src.p : "", src.len };
    struct lw_program *prog = lw_compile(lw_str_c(name), text, &co, &d);
    lw_arena_fini(&grok_arena);
    free(tables);
    if (prog == NULL) {
        lw_diag_print(stderr, name, text, &d);
        lw_diag_fini(&d);
        lw_buf_fini(&src);
        lw_opts_fini(&o);
        return o.validate ? 2 : 3;
    }
    lw_buf_fini(&src);

    int status = 0;
    if (o.validate) {
        status = problems ? 2 : 0;
        if (status == 0 && o.print_config && lw_print_config(&o, stdout) != 0) status = 4;
    } else if (o.disasm) {
        lw_disasm(prog, stdout);
    } else if (!o.check) {
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* SIGHUP (a closed terminal; systemd's reload until logwash reloads in place) stops
         * as cleanly as SIGTERM: what is finished is written and committed, never lost. Then
         * logwash ends by SIGHUP itself (below), so a supervisor tells a reload request from a
         * stop: logwash@.service restarts it (RestartForceExitStatus=SIGHUP). Under nohup
         * (SIGHUP ignored) it stays ignored. */
        struct sigaction old;
        if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(SIGHUP, &sa, NULL);
        status = lw_pipeline_run(prog, &o, NULL);
    }
    lw_program_free(prog);
    lw_opts_fini(&o);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) status = 4;
    }
    if (hangup && status == 0) { /* everything is written: die by the signal that asked */
        signal(SIGHUP, SIG_DFL);
        raise(SIGHUP);
    }
    return status;
}
