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
#include "lw/metrics.h"
#include "lw/opts.h"
#include "lw/patlist.h"
#include "lw/pipeline.h"
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

/* compile: o's template through the library (logwash.h): the built-in grok patterns, then each
 * --patterns directory in order (a later definition wins), loaded before the template, so a bad
 * file is reported even when no grok() uses it. Errors go to stderr; the first line of the
 * first one into why. Returns the template, or NULL with *rc the exit status (2 for an
 * unreadable file or pattern directory, 3 for a wrong template). */
struct first_error {
    struct compile_errors ce;
    char *why;
    size_t cap;
};

static void
on_error_first(void *ud, const struct logwash_compile_error *e)
{
    struct first_error *fe = ud;
    if (e->line != 0 && fe->why[0] == '\0')
        snprintf(fe->why, fe->cap, "%.*s", (int)strcspn(e->text, "\n"), e->text);
    on_error(&fe->ce, e);
}

static struct logwash_template *
compile(const struct lw_opts *o, int *rc, char *why, size_t cap)
{
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.name = o->template_file ? NULL : "-e";
    co.jit = !o->no_jit;
    co.pattern_dirs = o->patterns;
    co.npattern_dirs = (size_t)o->npatterns;
    co.import_paths = (const char *const *)o->libs;
    co.nimport_paths = (size_t)o->nlibs;
    struct first_error fe = { .why = why, .cap = cap };
    why[0] = '\0';
    co.on_error = on_error_first;
    co.on_error_ud = &fe;
    /* the --table names: a lookup() of another table is a compile error */
    const char **tables = lw_xcalloc((size_t)o->ntables + 1, sizeof *tables);
    for (int i = 0; i < o->ntables; i++)
        tables[i] = o->tables[i].name;
    co.tables = tables;
    co.ntables = (size_t)o->ntables;
    struct logwash_error e;
    struct logwash_template *t =
        o->template_file ? logwash_compile_file(o->template_file, &co, &e)
                         : logwash_compile(o->template_text, strlen(o->template_text), &co, &e);
    free(tables);
    if (t == NULL) {
        struct compile_errors *ce = &fe.ce;
        const char *name = o->template_file ? o->template_file : "-e";
        if (!ce->template_wrong) {
            fprintf(stderr, "logwash: %s\n", e.message);
            snprintf(why, cap, "%s", e.message);
        } else if (ce->more) {
            fprintf(stderr, "%s: too many errors: stopped after %u\n", name, ce->count);
        } else if (ce->count > 1) {
            fprintf(stderr, "%s: %u errors\n", name, ce->count);
        }
        *rc = o->validate || !ce->template_wrong ? 2 : 3;
        return NULL;
    }
    if (o->verbosity >= 0) { /* warnings: the template compiled, but says something doubtful */
        size_t wlen;
        const char *w = logwash_template_warnings(t, &wlen);
        fwrite(w, 1, wlen, stderr);
    }
    return t;
}

/* ---- reloads (lw_pipeline_run calls these between two records) ---- */

struct args {
    int argc;
    char **argv;
};

/* file_stamp: what tells a file changed: device, inode, size, modification time. */
struct stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool ok;
};

static struct stamp
file_stamp(const char *path)
{
    struct stat st;
    struct stamp s = { 0 };
    if (path == NULL || stat(path, &st) != 0) return s;
    s = (struct stamp){ st.st_dev, st.st_ino, st.st_size, st.st_mtim, true };
    return s;
}

static bool
stamp_same(struct stamp a, struct stamp b)
{
    return a.ok == b.ok && a.dev == b.dev && a.ino == b.ino && a.size == b.size &&
           a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec;
}

/* reload_load: the command line parsed again (the job file read again, its ${VAR}s
 * interpolated from the environment as it is now) and the template compiled. A job file or
 * template that changed while it was read (an editor's write in progress) is refused: the
 * next SIGHUP reads it whole. */
static int
reload_load(void *ud, struct lw_opts **op, struct logwash_template **tp, char *why, size_t cap)
{
    const struct args *a = ud;
    struct lw_opts *o = lw_xcalloc(1, sizeof *o);
    char err[512];
    /* the job file and template named by the command line as it stands, stamped before */
    int r = lw_opts_parse(o, a->argc, a->argv, stderr, err, sizeof err);
    if (r != 0) {
        snprintf(why, cap, "%s", r > 0 ? "the command line asks for no run" : err);
        fprintf(stderr, "logwash: %s\n", why);
        lw_opts_fini(o);
        free(o);
        return -1;
    }
    const char *job = o->config_file, *tf = o->template_file;
    struct stamp j0 = file_stamp(job), t0 = file_stamp(tf);
    lw_opts_fini(o);
    r = lw_opts_parse(o, a->argc, a->argv, stderr, err, sizeof err);
    struct logwash_template *t = NULL;
    int rc;
    if (r != 0) {
        snprintf(why, cap, "%s", r > 0 ? "the command line asks for no run" : err);
        fprintf(stderr, "logwash: %s\n", why);
    } else if ((t = compile(o, &rc, why, cap)) != NULL) {
        bool same = stamp_same(j0, file_stamp(o->config_file)) &&
                    stamp_same(t0, file_stamp(o->template_file));
        if (same) {
            *op = o;
            *tp = t;
            return 0;
        }
        snprintf(why, cap, "%s changed while it was read: reload again once it is written",
                 stamp_same(j0, file_stamp(o->config_file)) ? o->template_file : o->config_file);
        fprintf(stderr, "logwash: %s\n", why);
        logwash_template_free(t);
    }
    lw_opts_fini(o);
    free(o);
    return -1;
}

static void
reload_release(void *ud, struct lw_opts *o, struct logwash_template *t)
{
    logwash_template_free(t);
    lw_opts_fini(o);
    free(o);
}

/* run: the pipeline, with the metrics registry when --metrics-listen or --metrics-file asks for
 * one (its pipeline named after the job file, else "main"). Returns the exit status. */
static int
run(const struct logwash_template *t, const struct lw_opts *o, struct args *a)
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
    struct lw_reloader rl = { .load = reload_load, .release = reload_release, .ud = a };
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

    int rc;
    char why[512];
    struct logwash_template *t = compile(&o, &rc, why, sizeof why);
    if (t == NULL) {
        lw_opts_fini(&o);
        return rc;
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
        /* SIGHUP reloads (logwash(1) SIGNALS): restarted calls (SA_RESTART), so a read or a
         * write it comes in is not taken for a stop. Under nohup (SIGHUP ignored) it stays
         * ignored. */
        struct sigaction old, hup = sa;
        hup.sa_flags = SA_RESTART;
        if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(SIGHUP, &hup, NULL);
        struct args a = { argc, argv };
        status = run(t, &o, &a);
    }
    logwash_template_free(t);
    lw_opts_fini(&o);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) status = 4;
    }
    return status;
}
