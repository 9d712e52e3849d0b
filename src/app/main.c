/* main(): options -> template -> pipeline -> exit status. No logic of its own (STYLE §3);
 * the only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logwash.h"
#include "lw/arena.h"
#include "lw/buf.h"
#include "lw/explain_cmd.h"
#include "lw/metrics.h"
#include "lw/opts.h"
#include "lw/patlist.h"
#include "lw/pipeline.h"
#include "lw/repl.h"
#include "lw/test.h"
#include "lw/uadata.h"
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

/* The compile errors of a template, as the library renders them, to stderr; errors without a
 * place (out of memory, a pattern directory) are the run's, said by main from the first error. */
struct compile_errors {
    bool template_wrong; /* some error was the template's (exit 3), not the files' */
    unsigned count;
    bool more;
};

static void
on_error(void *ud, const struct logwash_compile_error *e)
{
    struct compile_errors *ce = ud;
    if (e->line == 0) return;
    ce->template_wrong = true;
    ce->count = e->count;
    ce->more = e->more;
    fputs(e->text, stderr);
}

/* run: the pipeline, with the metrics registry when --metrics-listen or --metrics-file asks for
 * one (its pipeline named after the job file, else "main"). Returns the exit status. */
static int
run(const struct logwash_template *t, const struct lw_opts *o)
{
    struct lw_metrics *m = NULL;
    struct lw_metrics_pipe *mp = NULL;
    struct lw_diag d = { 0 };
    if (o->metrics_listen || o->metrics_file) {
        int st = 2;
        m = lw_metrics_new(o, &st, &d);
        if (m == NULL) {
            fprintf(stderr, "logwash: %s\n", d.msg);
            lw_diag_fini(&d);
            return st;
        }
        char name[256];
        mp = lw_metrics_pipeline(m, lw_metrics_name(o->config_file, name, sizeof name));
    }
    int status = lw_pipeline_run(t, o, NULL, mp);
    if (lw_metrics_free(m, &d) != 0) {
        fprintf(stderr, "logwash: %s\n", d.msg);
        if (status == 0) status = 4;
    }
    lw_diag_fini(&d);
    return status;
}

int
main(int argc, char **argv)
{
    std_fds();
    if (argc >= 2 && strcmp(argv[1], "test") == 0) return lw_test_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "explain") == 0) return lw_explain_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "repl") == 0) return lw_repl_main(argc - 1, argv + 1);
    struct lw_opts o;
    char err[512];
    int r = lw_opts_parse(&o, argc, argv, stdout, err, sizeof err);
    if (r != 0) {
        lw_opts_fini(&o);
        if (r > 0) return 0;
        fprintf(stderr, "logwash: %s\ntry 'logwash --help'\n", err);
        return 2;
    }
    if (o.list_patterns) {
        r = lw_list_patterns(&o, stdout, stderr);
        lw_opts_fini(&o);
        return r;
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

    /* The template through the library (logwash.h): the built-in grok patterns, then each
     * --patterns directory in order (a later definition wins), loaded before the template, so
     * a bad file is reported even when no grok() uses it. */
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.name = o.template_file ? NULL : "-e";
    co.jit = !o.no_jit;
    co.pattern_dirs = o.patterns;
    co.npattern_dirs = (size_t)o.npatterns;
    co.import_paths = (const char *const *)o.libs;
    co.nimport_paths = (size_t)o.nlibs;
    struct compile_errors ce = { 0 };
    co.on_error = on_error;
    co.on_error_ud = &ce;
    /* the --table names: a lookup() of another table is a compile error */
    const char **tables = lw_xcalloc((size_t)o.ntables + 1, sizeof *tables);
    for (int i = 0; i < o.ntables; i++)
        tables[i] = o.tables[i].name;
    co.tables = tables;
    co.ntables = (size_t)o.ntables;
    struct lw_uadata ua = { 0 }; /* read only if the template calls parse_user_agent */
    co.ua_rules = lw_uadata_load;
    co.ua_rules_ud = &ua;
    struct logwash_error e;
    struct logwash_template *t =
        o.template_file ? logwash_compile_file(o.template_file, &co, &e)
                        : logwash_compile(o.template_text, strlen(o.template_text), &co, &e);
    free(tables);
    lw_uadata_fini(&ua);
    if (t == NULL) {
        const char *name = o.template_file ? o.template_file : "-e";
        if (!ce.template_wrong)
            fprintf(stderr, "logwash: %s\n", e.message);
        else if (ce.more)
            fprintf(stderr, "%s: too many errors: stopped after %u\n", name, ce.count);
        else if (ce.count > 1)
            fprintf(stderr, "%s: %u errors\n", name, ce.count);
        int rc = o.validate || !ce.template_wrong ? 2 : 3;
        lw_opts_fini(&o);
        return rc;
    }
    if (o.verbosity >= 0) { /* warnings: the template compiled, but says something doubtful */
        size_t wlen;
        const char *w = logwash_template_warnings(t, &wlen);
        fwrite(w, 1, wlen, stderr);
    }

    int status = 0;
    if (o.validate) {
        status = problems ? 2 : 0;
        if (status == 0 && o.print_config && lw_print_config(&o, stdout) != 0) status = 4;
    } else if (o.disasm) {
        logwash_template_disasm(t, stdout);
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
        status = run(t, &o);
    }
    logwash_template_free(t);
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
