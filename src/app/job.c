/* A job: its options and template loaded and compiled (at start and at each reload:
 * lw_job_compile, lw_job_load), and a job file's pipelines run in one process, a thread each,
 * with their metrics, restarts and reloads (lw_job_pipelines). */
#include "lw/job.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lw/metrics.h"
#include "lw/pipeline.h"
#include "lw/uadata.h"
#include "lw/validate.h"

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

struct logwash_template *
lw_job_compile(const struct lw_opts *o, int *rc, char *why, size_t cap)
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
    struct lw_uadata ua = { 0 }; /* read only if the template calls parse_user_agent */
    co.ua_rules = lw_uadata_load;
    co.ua_rules_ud = &ua;
    struct logwash_error e;
    struct logwash_template *t =
        o->template_file ? logwash_compile_file(o->template_file, &co, &e)
                         : logwash_compile(o->template_text, strlen(o->template_text), &co, &e);
    free(tables);
    lw_uadata_fini(&ua);
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

/* ---- reloads (lw_pipeline_run calls these between two records, on its thread) ---- */

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
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

static int load(const struct lw_job_args *a, struct lw_jobfile *jf, struct stamp j0,
                struct lw_opts **op, struct logwash_template **tp, char *why, size_t cap);

int
lw_job_load(void *ud, struct lw_opts **op, struct logwash_template **tp, char *why, size_t cap)
{
    pthread_mutex_lock(&load_mu);
    int rc = load(ud, NULL, (struct stamp){ 0 }, op, tp, why, cap);
    pthread_mutex_unlock(&load_mu);
    return rc;
}

/* load: with jf NULL, the command line parsed once to learn its job file and template, both
 * stamped, then parsed again for the options loaded. With jf (the job file read once for all
 * the pipelines of a reload, stamped j0 before it was read), parsed once from it. */
static int
load(const struct lw_job_args *a, struct lw_jobfile *jf, struct stamp j0, struct lw_opts **op,
     struct logwash_template **tp, char *why, size_t cap)
{
    struct lw_opts *o = lw_xcalloc(1, sizeof *o);
    char err[512];
    /* the job file and template named by the command line as it stands, stamped before */
    int r = lw_opts_parse_from(o, a->argc, a->argv, a->pipeline, jf, stderr, err, sizeof err);
    struct stamp t0 = { 0 };
    if (jf == NULL && r == 0) {
        j0 = file_stamp(o->config_file);
        t0 = file_stamp(o->template_file);
        lw_opts_fini(o);
        r = lw_opts_parse_pipeline(o, a->argc, a->argv, a->pipeline, stderr, err, sizeof err);
    } else if (r == 0) {
        t0 = file_stamp(o->template_file); /* which the compile reads */
    }
    struct logwash_template *t = NULL;
    int rc;
    if (r != 0) {
        snprintf(why, cap, "%s", r > 0 ? "the command line asks for no run" : err);
        fprintf(stderr, "logwash: %s\n", why);
    } else if ((t = lw_job_compile(o, &rc, why, cap)) != NULL) {
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

void
lw_job_release(void *ud, struct lw_opts *o, struct logwash_template *t)
{
    logwash_template_free(t);
    lw_opts_fini(o);
    free(o);
}

/* ---- several pipelines (pipelines: in the job file) ---- */

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000

struct pipe {
    struct lw_job_args args; /* args.pipeline: its name (the job file's; name owns it) */
    char *name;
    struct lw_opts *o; /* owned, with t (lw_job_release) */
    struct logwash_template *t;
    struct lw_metrics_pipe *mp;
    struct lw_counters n; /* across restarts */
    uint64_t restarts;
    int status;
    pthread_t th;
    bool started;
    int done;    /* the thread ended (atomic) */
    int removed; /* a reload removed it (atomic): it stops and is not restarted */
    /* what the main thread's reload (reconfigure) gives the loop: its request number (atomic,
     * read by pipe_asked), and under mu, the new configuration (o and t, taken by pipe_load),
     * or rc -1 and why (the reload failed: the running one is kept), or rc 1 (removed) */
    pthread_mutex_t mu;
    unsigned long gen;
    struct lw_opts *bo;
    struct logwash_template *bt;
    int rc;
    char why[512];
};

static bool
reads_stdin(const struct lw_opts *o)
{
    if (o->from == LW_FROM_KAFKA) return false;
    if (o->ninputs == 0) return true;
    for (int i = 0; i < o->ninputs; i++)
        if (strcmp(o->inputs[i], "-") == 0) return true;
    return false;
}

/* pause_ms: sleep ms in slices, ending early at a stop. */
static void
pause_ms(uint64_t ms)
{
    for (uint64_t t = 0; t < ms && !lw_pipeline_stopping(); t += 100) {
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* pipe_asked, pipe_load: struct lw_reloader's asked and load for a pipeline of pipelines:
 * the main thread loads and checks the whole job file (reconfigure), then hands each pipeline
 * its part. */
static unsigned long
pipe_asked(void *ud)
{
    struct pipe *p = ud;
    return __atomic_load_n(&p->gen, __ATOMIC_SEQ_CST);
}

static int
pipe_load(void *ud, struct lw_opts **o, struct logwash_template **t, char *why, size_t cap)
{
    struct pipe *p = ud;
    pthread_mutex_lock(&p->mu);
    int rc = p->rc;
    if (rc == 0 && p->bo == NULL) { /* taken already: nothing newer */
        rc = -1;
        snprintf(p->why, sizeof p->why, "no new configuration");
    }
    if (rc == 0) {
        *o = p->bo;
        *t = p->bt;
        p->bo = NULL;
        p->bt = NULL;
    }
    if (rc < 0) snprintf(why, cap, "%s", p->why);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* give: hand p the outcome of the reload that served request gen (pipe_load takes it). */
static void
give(struct pipe *p, unsigned long gen, int rc, struct lw_opts *o, struct logwash_template *t,
     const char *why)
{
    pthread_mutex_lock(&p->mu);
    if (p->bo != NULL) lw_job_release(NULL, p->bo, p->bt); /* never taken: a newer one comes */
    p->bo = o;
    p->bt = t;
    p->rc = rc;
    snprintf(p->why, sizeof p->why, "%s", why ? why : "");
    if (rc == 1) __atomic_store_n(&p->removed, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&p->gen, gen, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&p->mu);
}

static bool
removed(struct pipe *p)
{
    return __atomic_load_n(&p->removed, __ATOMIC_SEQ_CST);
}

/* supervise: one pipeline's thread: its run; a Kafka pipeline that ends without being asked
 * to (a final delivery failure, a topic missing at start, ...; with exit_at_eof, one that
 * failed) is said and started again after a backoff (1 s doubling to 60 s), on the job file as
 * it is then when that loads; what it had not committed is read again. A pipeline of files
 * ends at its inputs' end and is not restarted (it would read them again). A pipeline a reload
 * removed ends there. */
static void *
supervise(void *arg)
{
    struct pipe *p = arg;
    uint64_t backoff = BACKOFF_MIN_MS;
    struct lw_reloader rl = {
        .load = pipe_load, .release = lw_job_release, .ud = p, .asked = pipe_asked
    };
    for (;;) {
        lw_metrics_pipe_state(p->mp, true, p->restarts);
        p->status = lw_pipeline_run(p->t, p->o, &p->n, p->mp, &rl);
        bool done = lw_pipeline_stopping() || removed(p) || p->o->from != LW_FROM_KAFKA ||
                    (p->o->exit_at_eof && p->status <= 1); /* read to the end: done */
        bool fail = p->status >= 2 || (p->status == 1 && !done);
        const char *reason = fail ? lw_metrics_reason(p->status, p->n.io_stage) : NULL;
        if (fail) lw_metrics_pipe_failed(p->mp, p->status, p->n.io_stage);
        lw_metrics_pipe_state(p->mp, false, p->restarts);
        if (done) {
            if (reason != NULL) /* the run said its error: this is what the metrics count */
                fprintf(stderr, "logwash: pipeline %s failed (exit status %d, reason %s)\n",
                        p->args.pipeline, p->status, reason);
            break;
        }
        fprintf(stderr, "logwash: pipeline %s stopped (exit status %d%s%s): restarting in %llu s\n",
                p->args.pipeline, p->status, reason ? ", reason " : "", reason ? reason : "",
                (unsigned long long)(backoff / 1000));
        pause_ms(backoff);
        if (lw_pipeline_stopping() || removed(p)) break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        struct lw_opts *o;
        struct logwash_template *t;
        char why[512];
        if (lw_job_load(&p->args, &o, &t, why, sizeof why) == 0) {
            lw_job_release(NULL, p->o, p->t);
            p->o = o;
            p->t = t;
        } else {
            fprintf(stderr, "logwash: pipeline %s: restarting on the configuration it ran\n",
                    p->args.pipeline);
        }
        p->restarts++;
    }
    __atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* on_wake: SIGUSR1, which the main thread sends a pipeline's thread to cut its wait for input
 * short (a stop or a reload asked): the signal itself is all (poll returns EINTR). */
static void
on_wake(int sig)
{
}

/* The pipelines of a job, the main thread's. */
struct job {
    struct pipe **ps;
    int n, cap;
    int argc;
    char **argv;
    struct lw_metrics *m;
    /* the names of pipelines a reload loaded: their options point to them (o->pipeline) */
    char **names;
    int nnames;
};

/* keep_name: name, copied to live as long as the job. */
static char *
keep_name(struct job *j, const char *name)
{
    j->names = lw_xrealloc(j->names, (size_t)(j->nnames + 1) * sizeof *j->names);
    return j->names[j->nnames++] = lw_xstrndup(name, strlen(name));
}

static struct pipe *
pipe_new(struct job *j, const char *name)
{
    struct pipe *p = lw_xcalloc(1, sizeof *p);
    p->name = lw_xstrndup(name, strlen(name));
    p->args = (struct lw_job_args){ j->argc, j->argv, p->name };
    pthread_mutex_init(&p->mu, NULL);
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 8;
        j->ps = lw_xrealloc(j->ps, (size_t)j->cap * sizeof *j->ps);
    }
    j->ps[j->n++] = p;
    return p;
}

static void
pipe_free(struct pipe *p)
{
    if (p->o) lw_job_release(NULL, p->o, p->t);
    if (p->bo) lw_job_release(NULL, p->bo, p->bt);
    pthread_mutex_destroy(&p->mu);
    free(p->name);
    free(p);
}

/* start: p's thread, which takes no signal but SIGUSR1 (watch): the main thread takes the
 * others. Returns 0, or -1 (said). */
static int
start(struct pipe *p)
{
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&p->th, NULL, supervise, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "logwash: cannot start pipeline %s: out of threads\n", p->args.pipeline);
        return -1;
    }
    p->started = true;
    return 0;
}

/* What two pipelines may not share, in the order a pair's message is chosen (the last). */
enum share { SHARE_STDIN, SHARE_DL, SHARE_GROUP };
static const char *const share_what[] = {
    "both read stdin",
    "write the same dead-letter file",
    "have the same consumer group (give each its own group:)",
};

struct member {
    const struct lw_opts *o;
    int i;
};
struct pair {
    int i, k; /* pipelines k < i */
    enum share what;
};

static const char *
or_empty(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

static int
by_dead_letter(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    int c = strcmp(a->o->dead_letter, b->o->dead_letter);
    return c != 0 ? c : (a->i > b->i) - (a->i < b->i);
}

static int
by_group(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    int c = strcmp(or_empty(a->o->group, "logwash"), or_empty(b->o->group, "logwash"));
    if (c == 0) c = strcmp(or_empty(a->o->brokers, ""), or_empty(b->o->brokers, ""));
    return c != 0 ? c : (a->i > b->i) - (a->i < b->i);
}

static int
by_pair(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    if (a->i != b->i) return a->i < b->i ? -1 : 1;
    if (a->k != b->k) return a->k < b->k ? -1 : 1;
    return (a->what < b->what) - (a->what > b->what); /* the last kind first */
}

/* pairs: every pair of ms[0, n) (sorted by what they share: a run of equal ones shares it, as
 * same() says) added to *ps. */
static void
pairs(const struct member *ms, int n, int (*same)(const void *, const void *), enum share what,
      struct pair **ps, size_t *np, size_t *cap)
{
    for (int a = 0; a < n;) {
        int b = a + 1;
        while (b < n && (same == NULL || same(&ms[a], &ms[b]) == 0))
            b++;
        for (int x = a; x < b; x++) {
            for (int y = a; y < x; y++) {
                if (*np == *cap) {
                    *cap = *cap ? *cap * 2 : 16;
                    *ps = lw_xrealloc(*ps, *cap * sizeof **ps);
                }
                (*ps)[(*np)++] = (struct pair){ ms[x].i, ms[y].i, what };
            }
        }
        a = b;
    }
}

static int
same_dead_letter(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    return strcmp(a->o->dead_letter, b->o->dead_letter);
}

static int
same_group(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    int c = strcmp(or_empty(a->o->group, "logwash"), or_empty(b->o->group, "logwash"));
    return c != 0 ? c : strcmp(or_empty(a->o->brokers, ""), or_empty(b->o->brokers, ""));
}

/* clash: the pipelines of one process must not share stdin, a dead-letter file or a consumer
 * group of the same brokers (each would take part of the other's records). Each pair that
 * shares something is said once, by its later pipeline then its earlier one, saying the last of
 * those it shares. The pipelines are grouped by what they share (sorted), not compared pair by
 * pair: n log n for a job of thousands of pipelines, plus the pairs said. Returns the problems
 * said. */
static int
clash(struct lw_opts *const *os, char *const *names, int n)
{
    struct member *ms = lw_xcalloc(n > 0 ? (size_t)n : 1, sizeof *ms);
    struct pair *ps = NULL;
    size_t np = 0, cap = 0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (reads_stdin(os[i])) ms[m++] = (struct member){ os[i], i };
    pairs(ms, m, NULL, SHARE_STDIN, &ps, &np, &cap);
    m = 0;
    for (int i = 0; i < n; i++)
        if (os[i]->dead_letter) ms[m++] = (struct member){ os[i], i };
    qsort(ms, (size_t)m, sizeof *ms, by_dead_letter);
    pairs(ms, m, same_dead_letter, SHARE_DL, &ps, &np, &cap);
    m = 0;
    for (int i = 0; i < n; i++)
        if (os[i]->from == LW_FROM_KAFKA) ms[m++] = (struct member){ os[i], i };
    qsort(ms, (size_t)m, sizeof *ms, by_group);
    pairs(ms, m, same_group, SHARE_GROUP, &ps, &np, &cap);
    free(ms);
    if (np > 1) qsort(ps, np, sizeof *ps, by_pair); /* ps NULL when none: qsort's UB */
    int bad = 0;
    for (size_t x = 0; x < np; x++) {
        if (x > 0 && ps[x].i == ps[x - 1].i && ps[x].k == ps[x - 1].k) continue;
        fprintf(stderr, "logwash: %s: error: pipelines '%s' and '%s' %s\n",
                os[ps[x].k]->config_file, names[ps[x].k], names[ps[x].i], share_what[ps[x].what]);
        bad++;
    }
    free(ps);
    return bad;
}

/* live: the pipeline named name that runs (not removed), or NULL. */
static struct pipe *
live(struct job *j, const char *name)
{
    for (int i = 0; i < j->n; i++)
        if (!removed(j->ps[i]) && strcmp(j->ps[i]->name, name) == 0) return j->ps[i];
    return NULL;
}

/* reconfigure: the main thread's part of reload request gen: the job file read again and
 * every pipeline in it parsed, compiled and validated (lw_validate: nothing opened), and the
 * set checked (clash), before anything changes. Any error: every pipeline is told the reload
 * failed and keeps its configuration. Else each pipeline still there gets its new
 * configuration (its loop swaps the template and reopens stages whose settings changed), each
 * one gone is told to stop (it ends as at a stop: what it read delivered and committed), and
 * each new one starts on a thread of its own. */
static void
reconfigure(struct job *j, unsigned long gen)
{
    struct lw_opts top = { 0 };
    char err[512], why[512] = "";
    struct lw_opts **os = NULL;
    struct logwash_template **ts = NULL;
    char **names = NULL;
    int nn = 0, bad = 0;
    /* the job file read once for all (stamped before: one changed while read is refused), and
     * getopt (global) and that reading's index used by one thread at a time */
    pthread_mutex_lock(&load_mu);
    const char *path = lw_opts_config_file(j->argc, j->argv);
    struct stamp j0 = file_stamp(path);
    struct lw_jobfile *jf = path ? lw_jobfile_open(path, err, sizeof err) : NULL;
    int r = -1; /* without jf, err says why, as the parse would */
    if (path == NULL || jf != NULL)
        r = lw_opts_parse_from(&top, j->argc, j->argv, NULL, jf, stderr, err, sizeof err);
    if (r != 0) {
        snprintf(why, sizeof why, "%s", r > 0 ? "the command line asks for no run" : err);
        fprintf(stderr, "logwash: %s\n", why);
        bad++;
    } else if (top.config.npipelines == 0) {
        snprintf(why, sizeof why, "the job file has no pipelines: any more: that needs a restart");
        fprintf(stderr, "logwash: %s\n", why);
        bad++;
    } else {
        nn = top.config.npipelines;
        os = lw_xcalloc((size_t)nn, sizeof *os);
        ts = lw_xcalloc((size_t)nn, sizeof *ts);
        names = lw_xcalloc((size_t)nn, sizeof *names);
        for (int i = 0; i < nn; i++) {
            names[i] = keep_name(j, top.config.pipelines[i]);
            struct lw_job_args a = { j->argc, j->argv, names[i] };
            char w[400];
            if (load(&a, jf, j0, &os[i], &ts[i], w, sizeof w) != 0) {
                if (why[0] == '\0') snprintf(why, sizeof why, "pipeline %s: %s", names[i], w);
                bad++;
                continue;
            }
            if (lw_validate(os[i], stderr) + lw_validate_template(os[i], ts[i], stderr) != 0) {
                if (why[0] == '\0')
                    snprintf(why, sizeof why, "pipeline %s: its settings are wrong", names[i]);
                bad++;
            }
        }
        if (bad == 0 && clash(os, names, nn) != 0) {
            snprintf(why, sizeof why, "the pipelines clash");
            bad++;
        }
    }
    lw_jobfile_free(jf);
    pthread_mutex_unlock(&load_mu);
    for (int i = 0; i < j->n; i++) {
        struct pipe *p = j->ps[i];
        if (removed(p) || __atomic_load_n(&p->done, __ATOMIC_SEQ_CST)) continue;
        int k = 0;
        while (k < nn && strcmp(names[k], p->name) != 0)
            k++;
        if (bad) {
            give(p, gen, -1, NULL, NULL, why);
        } else if (k == nn) {
            fprintf(stderr, "logwash: pipeline %s: removed from %s\n", p->name, p->o->config_file);
            give(p, gen, 1, NULL, NULL, NULL);
        } else {
            give(p, gen, 0, os[k], ts[k], NULL);
            os[k] = NULL;
        }
    }
    for (int k = 0; k < nn; k++) {
        if (os[k] == NULL) continue;
        struct pipe *q = bad ? NULL : live(j, names[k]);
        if (bad || q != NULL) { /* failed, or one whose run ended (files read to the end) */
            lw_job_release(NULL, os[k], ts[k]);
            continue;
        }
        /* a new pipeline; one of the same name removed before gives its metrics series, once
         * its thread ended (its runs no longer publish) */
        struct pipe *old = NULL;
        for (int i = 0; i < j->n; i++)
            if (strcmp(j->ps[i]->name, names[k]) == 0) old = j->ps[i];
        if (old != NULL && old->started) {
            pthread_join(old->th, NULL);
            old->started = false;
        }
        struct pipe *p = pipe_new(j, names[k]);
        p->o = os[k];
        p->t = ts[k];
        p->gen = gen;
        if (old != NULL) {
            p->mp = old->mp;
            p->n = old->n;
            old->mp = NULL;
        } else if (j->m) {
            p->mp = lw_metrics_pipeline(j->m, p->name);
        }
        fprintf(stderr, "logwash: pipeline %s: added by the reload\n", p->name);
        start(p);
    }
    free(os);
    free(ts);
    free(names);
    lw_opts_fini(&top);
}

/* watch: the main thread, until every pipeline's thread ended: a reload request (which the
 * signal handlers only note) is served (reconfigure), then a stop or reload is passed on to
 * each thread still running by SIGUSR1, so one waiting for input sees it at once rather than
 * at the end of its wait. */
static void
watch(struct job *j)
{
    unsigned long gen = lw_pipeline_reload_asked();
    for (;;) {
        bool all = true, wake = lw_pipeline_stopping();
        unsigned long g = lw_pipeline_reload_asked();
        if (g != gen && !lw_pipeline_stopping()) {
            reconfigure(j, g);
            wake = true;
        }
        gen = g;
        for (int i = 0; i < j->n; i++) {
            struct pipe *p = j->ps[i];
            if (!p->started || __atomic_load_n(&p->done, __ATOMIC_SEQ_CST)) continue;
            all = false;
            if (wake) pthread_kill(p->th, SIGUSR1);
        }
        if (all) return;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

int
lw_job_pipelines(const struct lw_opts *top, int argc, char **argv)
{
    int n = top->config.npipelines;
    struct job j = { .argc = argc, .argv = argv };
    int status = 0, loaded = 0;
    /* the job file read once for all of them (NULL: each reads it, and says why it cannot) */
    char jerr[512];
    struct lw_jobfile *jf = lw_jobfile_open(top->config_file, jerr, sizeof jerr);
    /* every pipeline parsed and compiled (and with --validate checked) before any runs */
    for (int i = 0; i < n; i++) {
        struct pipe *p = pipe_new(&j, top->config.pipelines[i]);
        p->o = lw_xcalloc(1, sizeof *p->o);
        char err[512];
        int r = lw_opts_parse_from(p->o, argc, argv, p->args.pipeline, jf, stdout, err, sizeof err);
        if (r != 0) {
            fprintf(stderr, "logwash: %s\n", err);
            if (status < 2) status = 2;
            lw_opts_fini(p->o);
            free(p->o);
            p->o = NULL;
            continue;
        }
        if (top->validate && lw_validate(p->o, stderr) != 0 && status < 2) status = 2;
        int rc;
        char why[512];
        p->t = lw_job_compile(p->o, &rc, why, sizeof why);
        if (p->t == NULL) {
            if (status < rc) status = rc;
            continue;
        }
        if (top->validate && lw_validate_template(p->o, p->t, stderr) != 0 && status < 2)
            status = 2;
        loaded++;
    }
    lw_jobfile_free(jf);
    if (loaded == n) {
        struct lw_opts **os = lw_xcalloc((size_t)n, sizeof *os);
        char **names = lw_xcalloc((size_t)n, sizeof *names);
        for (int i = 0; i < n; i++) {
            os[i] = j.ps[i]->o;
            names[i] = j.ps[i]->name;
        }
        if (clash(os, names, n) != 0) status = 2;
        free(os);
        free(names);
    }
    if (status == 0 && (top->validate || top->print_config || top->check || top->disasm)) {
        for (int i = 0; i < n; i++) {
            if (top->print_config) {
                printf("--- # pipeline %s\n", j.ps[i]->args.pipeline);
                if (lw_print_config(j.ps[i]->o, stdout) != 0) status = 4;
            } else if (top->disasm) {
                printf("; pipeline %s\n", j.ps[i]->args.pipeline);
                logwash_template_disasm(j.ps[i]->t, stdout);
            }
        }
    } else if (status == 0) {
        struct lw_diag d = { 0 };
        if (top->metrics_listen || top->metrics_file) {
            int st = 2;
            j.m = lw_metrics_new(top, &st, &d);
            if (j.m == NULL) {
                fprintf(stderr, "logwash: %s\n", d.msg);
                status = st;
            }
        }
        for (int i = 0; i < n && status == 0; i++) {
            if (j.m) j.ps[i]->mp = lw_metrics_pipeline(j.m, j.ps[i]->args.pipeline);
            j.ps[i]->gen = lw_pipeline_reload_asked();
        }
        struct sigaction wa = { .sa_handler = on_wake, .sa_flags = SA_RESTART };
        sigemptyset(&wa.sa_mask);
        sigaction(SIGUSR1, &wa, NULL);
        for (int i = 0; i < n && status == 0; i++) {
            if (start(j.ps[i]) != 0) {
                lw_pipeline_stop();
                status = 4;
                break;
            }
        }
        watch(&j);
        for (int i = 0; i < j.n; i++) {
            struct pipe *p = j.ps[i];
            if (p->started) pthread_join(p->th, NULL);
            if (p->status > status) status = p->status;
        }
        if (lw_metrics_free(j.m, &d) != 0) {
            fprintf(stderr, "logwash: %s\n", d.msg);
            if (status == 0) status = 4;
        }
        lw_diag_fini(&d);
    }
    for (int i = 0; i < j.n; i++)
        pipe_free(j.ps[i]);
    free(j.ps);
    for (int i = 0; i < j.nnames; i++)
        free(j.names[i]);
    free(j.names);
    return status;
}
