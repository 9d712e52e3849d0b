/* main(): options -> template -> pipeline -> exit status. No logic of its own (STYLE §3);
 * the only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logwash.h"
#include "lw/arena.h"
#include "lw/buf.h"
#include "lw/explain_cmd.h"
#include "lw/job.h"
#include "lw/metrics.h"
#include "lw/opts.h"
#include "lw/patlist.h"
#include "lw/pipeline.h"
#include "lw/repl.h"
#include "lw/test.h"
#include "lw/validate.h"

static volatile sig_atomic_t interrupted;

/* on_signal: SIGHUP asks for a reload (served between two records; a storm of them is one or
 * two reloads). The first SIGINT or SIGTERM stops reading (the pipeline finishes, writes and
 * commits); a second one ends logwash at once. */
static void
on_signal(int sig)
{
    if (sig == SIGHUP) {
        lw_pipeline_reload();
        return;
    }
    if (interrupted) _exit(130);
    interrupted = 1;
    lw_pipeline_stop();
}

/* signals: SIGINT and SIGTERM stop, SIGHUP reloads (logwash(1) SIGNALS), with restarted calls
 * (SA_RESTART), so a read or a write it comes in is not taken for a stop. Under nohup (SIGHUP
 * ignored) it stays ignored. */
static void
signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct sigaction old, hup = sa;
    hup.sa_flags = SA_RESTART;
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &hup, NULL);
}

/* early_hup: SIGHUP's handler from the first instruction of a run, before the options, the job
 * file and the template are read: a `systemctl reload` in those milliseconds would otherwise end
 * logwash by the signal, which systemd takes for a clean stop and does not restart. The request
 * is counted; the loop serves those it sees once it runs. */
static void
early_hup(void)
{
    struct sigaction old, hup = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
    sigemptyset(&hup.sa_mask);
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        sigaction(SIGHUP, &hup, NULL);
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

/* run: the pipeline, with the metrics registry when --metrics-listen or --metrics-file asks for
 * one (its pipeline named after the job file, else "main"). Returns the exit status. */
static int
run(const struct logwash_template *t, const struct lw_opts *o, struct lw_job_args *a)
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
    struct lw_reloader rl = { .load = lw_job_load, .release = lw_job_release, .ud = a };
    int status = lw_pipeline_run(t, o, NULL, mp, &rl);
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
    early_hup();
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
    if (o.config.npipelines > 0) { /* a job file of several pipelines: job.c runs them */
        if (!o.validate && !o.print_config && !o.check && !o.disasm) signals();
        r = lw_job_pipelines(&o, argc, argv);
        lw_opts_fini(&o);
        if ((fflush(stdout) != 0 || ferror(stdout)) && errno != EPIPE) r = 4;
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

    int rc;
    char why[512];
    struct logwash_template *t = lw_job_compile(&o, &rc, why, sizeof why);
    if (t == NULL) {
        lw_opts_fini(&o);
        return rc;
    }

    int status = 0;
    if (o.validate) {
        problems += lw_validate_template(&o, t, stderr); /* window statements' to */
        status = problems ? 2 : 0;
        if (status == 0 && o.print_config && lw_print_config(&o, stdout) != 0) status = 4;
    } else if (o.disasm) {
        logwash_template_disasm(t, stdout);
    } else if (!o.check) {
        signals();
        struct lw_job_args a = { argc, argv, NULL };
        status = run(t, &o, &a);
    }
    logwash_template_free(t);
    lw_opts_fini(&o);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) status = 4;
    }
    return status;
}
