/* liblogwash's public API (include/logwash.h) over the compiler, the VM and the codecs: a
 * template is a compiled program, a runner is a VM with its record arena, output buffer and
 * the outputs of its last record. Every entry point that allocates sets lw_oom_jmp, so
 * running out of memory returns an error and discards the half-done work. Sources, sinks,
 * dead letters and Kafka stay the program's (src/io, src/app). */
#include "logwash.h"

#include "api_int.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw/buf.h"
#include "lw/codec.h"
#include "lw/diag.h"
#include "lw/explain.h"
#include "lw/grok.h"
#include "lw/json.h"
#include "lw/program.h"
#include "lw/timefmt.h"
#include "lw/tz.h"
#include "lw/vm.h"

#define LW_MAX_TEMPLATE_BYTES (16u << 20) /* a template file (an imported one: 1 MiB) */

struct logwash_template {
    struct lw_program *prog;
    char *name;                         /* NUL-terminated copy of the name in messages */
    struct logwash_coverage_point *cov; /* prog->covs for callers (coverage), or NULL */
    char **files;                       /* NUL-terminated copies of prog->files[i].name */
};

/* Where an output's bytes are while its record runs (buffers may move as they grow): the
 * public array is filled from these when it is asked for (logwash_outputs), so a caller that
 * takes the bytes alone (logwash_run_into, logwash_output_count) never pays for it. */
struct place {
    size_t off, len;   /* in the output buffer; len without the '\n' */
    size_t topic, key; /* in rbuf (routed) */
    uint32_t h0;       /* first header in hdrs (routed) */
    bool print;
    bool routed; /* outs[i] holds its has_topic, topic_len, has_key, key_len, nheaders */
};

struct logwash_runner {
    const struct logwash_template *t;
    struct lw_vm vm;
    struct lw_arena arena; /* the record's; reset when the next record starts */
    const struct lw_decoder *dec;
    const struct lw_encoder *enc;
    struct lw_str *topval;
    struct lw_tz *tz;   /* owned; NULL: UTC */
    int64_t now_ns;     /* LOGWASH_NOW_CLOCK: read per record */
    struct lw_buf out;  /* encoded outputs, each followed by '\n' (the runner's own) */
    struct lw_buf ext;  /* the caller's buffer (logwash_run_into), lent for the record */
    size_t base;        /* ext.len when the record began */
    size_t max_end;     /* base + limits.max_output (SIZE_MAX past the end of memory) */
    const char *outp;   /* the buffer's bytes when the record ended (outputs' data) */
    size_t nemit;       /* outputs that are emitted values */
    bool settled;       /* outs[] is filled for the last record */
    uint64_t steps;     /* VM instructions over every record (logwash_runner_steps) */
    struct lw_buf rbuf; /* topics, keys, header names and values (copies) */
    bool routes;        /* keep the emits' routes (logwash_runner_options.routes) */
    const char *(*check_topic)(void *ud, const char *topic, size_t len);
    void *check_topic_ud;
    struct logwash_output *outs;
    struct place *places;
    uint32_t nouts, capouts;
    struct logwash_header *hdrs;
    size_t *hoffs; /* per header: name offset in rbuf, value offset (SIZE_MAX: null) */
    uint32_t nhdrs, caphdrs;
    struct logwash_error err;
    struct lw_tableset *tables; /* held (logwash_runner_set_tables, api_table.c), or NULL */
};

static void seterr(struct logwash_error *e, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
seterr(struct logwash_error *e, int line, int col, const char *fmt, ...)
{
    if (e == NULL) return;
    e->line = line;
    e->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

const char *
logwash_version(void)
{
    return LOGWASH_VERSION;
}

void
logwash_limits_default(struct logwash_limits *l)
{
    *l = (struct logwash_limits){ .steps = LOGWASH_DEFAULT_STEPS,
                                  .match_limit = LOGWASH_DEFAULT_MATCH_LIMIT,
                                  .depth_limit = LOGWASH_DEFAULT_DEPTH_LIMIT,
                                  .max_output = LOGWASH_DEFAULT_MAX_OUTPUT,
                                  .max_memory = LOGWASH_DEFAULT_MAX_MEMORY,
                                  .regex_budget = LOGWASH_DEFAULT_REGEX_BUDGET };
}

void
logwash_compile_options_default(struct logwash_compile_options *o)
{
    *o = (struct logwash_compile_options){ .jit = true };
}

void
logwash_runner_options_default(struct logwash_runner_options *o)
{
    *o = (struct logwash_runner_options){ .input = LOGWASH_INPUT_DEFAULT,
                                          .output = LOGWASH_OUTPUT_JSON,
                                          .now_ns = LOGWASH_NOW_CLOCK,
                                          .routes = true };
    logwash_limits_default(&o->limits);
}

/* ---- compiling ---- */

/* A compilation: what compile() frees after lw_oom's longjmp lives here, in memory. */
struct cjob {
    const char *path, *text;
    size_t len;
    const struct logwash_compile_options *o;
    struct logwash_error *err;
    struct logwash_template *t;
    struct lw_arena grok_arena;
    struct lw_buf file;
};

/* each_error: one compile error to the caller's on_error, with C strings. */
static void
each_error(void *ud, const struct lw_compile_error *e)
{
    const struct logwash_compile_options *o = ud;
    char file[512];
    snprintf(file, sizeof file, "%.*s", (int)e->file.len, e->file.p);
    struct logwash_compile_error ce = { .file = file,
                                        .line = e->line,
                                        .col = e->col,
                                        .message = e->msg,
                                        .text = e->text,
                                        .index = e->index,
                                        .count = e->count,
                                        .more = e->more };
    o->on_error(o->on_error_ud, &ce);
}

/* template_files: t's file names as C strings, and its coverage points as the API gives them. */
static void
template_files(struct logwash_template *t)
{
    const struct lw_program *p = t->prog;
    t->files = lw_xcalloc(p->nfiles + 1, sizeof *t->files);
    for (uint32_t i = 0; i < p->nfiles; i++) { /* file 0 as messages name it */
        struct lw_str n = i == 0 ? lw_str_c(t->name) : p->files[i].name;
        t->files[i] = lw_xstrndup(n.p, n.len);
    }
    if (p->ncovs == 0) return;
    t->cov = lw_xcalloc(p->ncovs, sizeof *t->cov);
    static const enum logwash_coverage_kind kinds[] = {
        [LW_COV_STMT] = LOGWASH_COVERAGE_STATEMENT,   [LW_COV_IF] = LOGWASH_COVERAGE_IF,
        [LW_COV_COND] = LOGWASH_COVERAGE_CONDITIONAL, [LW_COV_DEFAULT] = LOGWASH_COVERAGE_DEFAULT,
        [LW_COV_AND] = LOGWASH_COVERAGE_AND,          [LW_COV_OR] = LOGWASH_COVERAGE_OR,
        [LW_COV_FILTER] = LOGWASH_COVERAGE_FILTER,
    };
    for (uint32_t i = 0; i < p->ncovs; i++) {
        const struct lw_covpoint *c = &p->covs[i];
        struct logwash_coverage_point *o = &t->cov[i];
        o->kind = kinds[c->kind];
        o->outcome = c->outcome;
        for (uint32_t f = 1; f < p->nfiles; f++) { /* as lw_program_where */
            if (p->files[f].base <= c->span.off) o->file = f;
        }
        struct lw_str file;
        lw_program_where(p, c->span.off, &file, &o->line, &o->col);
    }
}

static void
template_free_files(struct logwash_template *t)
{
    for (uint32_t i = 0; t->files != NULL && t->files[i] != NULL; i++)
        free(t->files[i]);
    free(t->files);
    free(t->cov);
}

/* compile_in: the work of compile(), under its out-of-memory exit. Returns 0 or -1. */
static int
compile_in(struct cjob *j)
{
    const struct logwash_compile_options *o = j->o;
    const char *name = o->name ? o->name : j->path ? j->path : "template";
    j->t = lw_xcalloc(1, sizeof *j->t);
    j->t->name = lw_xstrndup(name, strlen(name));
    if (j->path != NULL) {
        /* bounded: a device such as /dev/zero is not read whole */
        if (lw_buf_read_file_max(&j->file, j->path, LW_MAX_TEMPLATE_BYTES) != 0) {
            if (errno == EFBIG)
                seterr(j->err, 0, 0, "cannot read %s: longer than %u MiB (a template)", j->path,
                       LW_MAX_TEMPLATE_BYTES >> 20);
            else
                seterr(j->err, 0, 0, "cannot read %s: %s", j->path, strerror(errno));
            return -1;
        }
        j->text = j->file.p;
        j->len = j->file.len;
    }
    struct lw_grok_lib grok;
    char gerr[512];
    if (o->npattern_dirs > 0) {
        lw_grok_lib_init(&grok, &j->grok_arena);
        if (lw_grok_lib_builtin(&grok, gerr, sizeof gerr) != 0) {
            seterr(j->err, 0, 0, "%s", gerr);
            return -1;
        }
    }
    for (size_t i = 0; i < o->npattern_dirs; i++) {
        if (lw_grok_lib_load_dir(&grok, o->pattern_dirs[i], gerr, sizeof gerr) != 0) {
            seterr(j->err, 0, 0, "%s", gerr);
            return -1;
        }
    }
    struct lw_compile_opts co = { .jit = o->jit,
                                  .grok = o->npattern_dirs > 0 ? &grok : NULL,
                                  .path = j->path,
                                  .lib = o->import_paths,
                                  .nlib = o->import_paths ? o->nimport_paths : 0,
                                  .tables = o->tables,
                                  .ntables = o->tables ? o->ntables : 0,
                                  .coverage = o->coverage };
    if (o->on_error != NULL) { /* every error (one block: on_error, max_errors) */
        co.each = each_error;
        co.each_ud = (void *)o;
    }
    co.max_errors = o->max_errors;
    if (o->ua_rules != NULL) {
        co.ua = lw_api_ua_load;
        co.ua_ud = (void *)o;
    }
    struct lw_diag d = { 0 };
    struct lw_str src = { j->text ? j->text : "", j->text ? j->len : 0 };
    j->t->prog = lw_compile(lw_str_c(j->t->name), src, &co, &d);
    if (j->t->prog == NULL && o->on_error != NULL && !d.has_span && d.text == NULL) {
        struct logwash_compile_error ce = { .file = j->t->name, .message = d.msg, .count = 1 };
        char text[600];
        snprintf(text, sizeof text, "%s: error: %s\n", j->t->name, d.msg);
        ce.text = text;
        o->on_error(o->on_error_ud, &ce); /* out of memory: no error was passed on */
    }
    if (j->t->prog == NULL) {
        int line = 0, col = 0;
        if (d.has_span) lw_diag_place(src, d.span.off, &line, &col); /* as logwash(1) says */
        seterr(j->err, line, col, "%s", d.msg);
        lw_diag_fini(&d);
        return -1;
    }
    template_files(j->t);
    return 0;
}

/* compile: the template of j->path (when not NULL) or of j->text. Runs under its own
 * out-of-memory exit; lw_compile sets an inner one while it compiles. */
static struct logwash_template *
compile(struct cjob *j)
{
    lw_arena_init(&j->grok_arena, 64 * 1024);
    lw_buf_init(&j->file);
    jmp_buf jb, *outer = lw_oom_jmp;
    int rc;
    if (setjmp(jb) != 0) {
        seterr(j->err, 0, 0, "out of memory");
        rc = -1;
    } else {
        lw_oom_jmp = &jb;
        rc = compile_in(j);
    }
    lw_oom_jmp = outer;
    lw_arena_fini(&j->grok_arena);
    lw_buf_fini(&j->file);
    if (rc == 0) return j->t;
    if (j->t != NULL) {
        template_free_files(j->t);
        lw_program_free(j->t->prog);
        free(j->t->name);
        free(j->t);
    }
    return NULL;
}

struct logwash_template *
logwash_compile(const char *text, size_t len, const struct logwash_compile_options *o,
                struct logwash_error *err)
{
    struct logwash_compile_options def;
    if (o == NULL) logwash_compile_options_default(&def);
    struct cjob j = { .text = text, .len = len, .o = o ? o : &def, .err = err };
    return compile(&j);
}

struct logwash_template *
logwash_compile_file(const char *path, const struct logwash_compile_options *o,
                     struct logwash_error *err)
{
    if (path == NULL) {
        seterr(err, 0, 0, "no template file named");
        return NULL;
    }
    struct logwash_compile_options def;
    if (o == NULL) logwash_compile_options_default(&def);
    struct cjob j = { .path = path, .o = o ? o : &def, .err = err };
    return compile(&j);
}

void
logwash_template_free(struct logwash_template *t)
{
    if (t == NULL) return;
    template_free_files(t);
    lw_program_free(t->prog);
    free(t->name);
    free(t);
}

const char *
logwash_template_name(const struct logwash_template *t)
{
    return t->name;
}

const char *
logwash_template_warnings(const struct logwash_template *t, size_t *len)
{
    if (len != NULL) *len = t->prog->warnings.len;
    return t->prog->warnings.len > 0 ? t->prog->warnings.p : "";
}

const struct logwash_coverage_point *
logwash_template_coverage(const struct logwash_template *t, size_t *n)
{
    *n = t->prog->ncovs;
    return t->cov;
}

const char *
logwash_template_file(const struct logwash_template *t, unsigned i, const char **text, size_t *len)
{
    const struct lw_program *p = t->prog;
    if (i >= p->nfiles) return NULL;
    if (text != NULL) *text = p->src.p + p->files[i].base;
    if (len != NULL) *len = p->files[i].len;
    return t->files[i];
}

const uint64_t *
logwash_runner_coverage(const struct logwash_runner *r)
{
    return r->vm.cov;
}

void
logwash_template_framing(const struct logwash_template *t, struct logwash_framing *f)
{
    *f = (struct logwash_framing){ .start = t->prog->ml_start,
                                   .cont = t->prog->ml_continue,
                                   .indent = t->prog->ml_indent };
}

/* ---- runners ---- */

static void
to_limits(struct lw_limits *d, const struct logwash_limits *l)
{
    *d = (struct lw_limits){ .steps = l->steps,
                             .match_limit = l->match_limit,
                             .depth_limit = l->depth_limit,
                             .max_output = l->max_output,
                             .max_memory = l->max_memory,
                             .regex_budget = l->regex_budget };
}

/* runner_free: free what r holds; r may be half-made (zeroed first, then filled). */
static void
runner_free(struct logwash_runner *r)
{
    if (r == NULL) return;
    lw_explain_free(r->vm.explain);
    lw_vmstate_free(r->vm.state);
    lw_vm_fini(&r->vm);
    lw_arena_fini(&r->arena);
    lw_buf_fini(&r->out);
    lw_buf_fini(&r->rbuf);
    free(r->topval);
    free(r->outs);
    free(r->places);
    free(r->hdrs);
    free(r->hoffs);
    lw_tz_free(r->tz);
    lw_tableset_unref(r->tables);
    free(r);
}

struct lw_vmstate *
lw_api_runner_vmstate(struct logwash_runner *r)
{
    return r->vm.state;
}

const struct lw_program *
lw_api_template_program(const struct logwash_template *t)
{
    return t->prog;
}

void
lw_api_runner_tables(struct logwash_runner *r, struct lw_tableset *s)
{
    lw_tableset_ref(s);
    lw_tableset_unref(r->tables);
    r->tables = s;
    r->vm.tables = s;
}

/* load_tz: the zone named tz (NULL: UTC, *z NULL). Returns 0, or -1 with err filled. */
static int
load_tz(const char *tz, struct lw_tz **z, struct logwash_error *err)
{
    *z = NULL;
    if (tz == NULL) return 0;
    char e[300];
    *z = lw_tz_load(tz, strlen(tz), e, sizeof e);
    if (*z != NULL) return 0;
    seterr(err, 0, 0, "%s", e);
    return -1;
}

static int out_cb(void *ud, struct lw_vm *vm, const struct lw_value *v,
                  const struct lw_value *route, bool print);

/* runner_make: the work of logwash_runner_new, under its out-of-memory exit; *rp is set as
 * soon as the runner exists (zeroed), so the exit can free whatever was made. */
static int
runner_make(const struct logwash_template *t, const struct logwash_runner_options *o,
            struct logwash_runner **rp, struct logwash_error *err)
{
    struct logwash_runner *r = *rp = lw_xcalloc(1, sizeof *r);
    const struct lw_program *p = t->prog;
    r->t = t;
    lw_arena_init(&r->arena, 64 * 1024);
    lw_buf_init(&r->out);
    lw_buf_init(&r->rbuf);
    /* storage at once: an empty key or header value must point somewhere (a NULL header
     * value means a null header), even when nothing was ever copied into rbuf */
    lw_buf_grow(&r->rbuf, 256);
    r->topval = lw_xcalloc(p->ntopkeys + 1, sizeof *r->topval);
    struct lw_limits lim;
    to_limits(&lim, &o->limits);
    lw_vm_init(&r->vm, p, &r->arena, &lim);
    if (p->nwindows > 0 || p->uses_seen) r->vm.state = lw_vmstate_new(p);
    r->vm.out = out_cb;
    r->vm.out_ud = r;
    enum logwash_input in = o->input;
    if (in == LOGWASH_INPUT_DEFAULT)
        in = p->input == LW_IN_JSON ? LOGWASH_INPUT_JSON : LOGWASH_INPUT_TEXT;
    r->dec = in == LOGWASH_INPUT_JSON ? &lw_dec_json : &lw_dec_text;
    r->enc = o->output == LOGWASH_OUTPUT_TEXT ? &lw_enc_text : &lw_enc_json;
    r->now_ns = o->now_ns;
    r->routes = o->routes;
    r->check_topic = o->check_topic;
    r->check_topic_ud = o->check_topic_ud;
    if (load_tz(o->tz, &r->tz, err) != 0) return -1;
    r->vm.tz = r->tz;
    return 0;
}

/* A runner being made: what runner_guarded frees after lw_oom's longjmp lives here. */
struct rjob {
    const struct logwash_template *t;
    const struct logwash_runner_options *o;
    struct logwash_error *err;
    struct logwash_runner *r;
};

static struct logwash_runner *
runner_guarded(struct rjob *j)
{
    jmp_buf jb, *outer = lw_oom_jmp;
    int rc;
    if (setjmp(jb) != 0) {
        seterr(j->err, 0, 0, "out of memory");
        rc = -1;
    } else {
        lw_oom_jmp = &jb;
        rc = runner_make(j->t, j->o, &j->r, j->err);
    }
    lw_oom_jmp = outer;
    if (rc == 0) return j->r;
    runner_free(j->r);
    return NULL;
}

struct logwash_runner *
logwash_runner_new(const struct logwash_template *t, const struct logwash_runner_options *o,
                   struct logwash_error *err)
{
    struct logwash_runner_options def;
    if (o == NULL) logwash_runner_options_default(&def);
    const struct logwash_runner_options *opt = o ? o : &def;
    if (t == NULL) {
        seterr(err, 0, 0, "no template");
        return NULL;
    }
    if ((unsigned)opt->input > LOGWASH_INPUT_JSON || (unsigned)opt->output > LOGWASH_OUTPUT_TEXT) {
        seterr(err, 0, 0, "unknown input or output format");
        return NULL;
    }
    struct rjob j = { t, opt, err, NULL };
    return runner_guarded(&j);
}

void
logwash_runner_free(struct logwash_runner *r)
{
    runner_free(r);
}

int
logwash_runner_set_tz(struct logwash_runner *r, const char *tz, struct logwash_error *err)
{
    struct lw_tz *z;
    if (load_tz(tz, &z, err) != 0) return -1;
    lw_tz_free(r->tz);
    r->tz = z;
    r->vm.tz = z;
    return 0;
}

void
logwash_runner_set_now(struct logwash_runner *r, int64_t now_ns)
{
    r->now_ns = now_ns;
}

void
logwash_runner_set_limits(struct logwash_runner *r, const struct logwash_limits *l)
{
    struct lw_limits lim;
    to_limits(&lim, l);
    lw_vm_set_limits(&r->vm, &lim);
}

/* ---- running ---- */

/* no_form: the error for a value the encoder cannot write (as the program says it). */
static int
no_form(struct lw_vm *vm, const char *verb, const struct lw_value *v)
{
    if (v->t == LW_T_ARR || v->t == LW_T_OBJ) {
        return lw_vm_error(vm, "cannot %s %s: nested deeper than %d levels", verb,
                           lw_type_name(v->t), LW_JSON_MAX_DEPTH);
    }
    return lw_vm_error(vm, "cannot %s %s", verb, lw_type_name(v->t));
}

/* route_text: a key or header value into rbuf: strings as they are, numbers and booleans in
 * their text form; its offset in *off. */
static int
route_text(struct logwash_runner *r, const struct lw_value *v, size_t *off, const char *what)
{
    *off = r->rbuf.len;
    if (v->t == LW_T_STR) {
        lw_buf_add(&r->rbuf, v->u.p, v->len);
        return 0;
    }
    if (v->t != LW_T_INT && v->t != LW_T_FLOAT && v->t != LW_T_BOOL) {
        return lw_vm_error(&r->vm, "emit: %s must be a string or a number, found %s", what,
                           lw_type_name(v->t));
    }
    lw_value_write_text(&r->rbuf, v, r->vm.arena);
    return 0;
}

/* route: the topic, key and headers of `emit v to T key K headers H` (route[0..2], null when
 * absent), copied into rbuf, so they outlive the record's bytes. */
static int
route(struct logwash_runner *r, struct logwash_output *o, struct place *pl,
      const struct lw_value *rt)
{
    struct lw_vm *vm = &r->vm;
    if (rt[0].t == LW_T_STR) {
        const char *bad =
            r->check_topic ? r->check_topic(r->check_topic_ud, rt[0].u.p, rt[0].len) : NULL;
        if (bad != NULL) {
            return lw_vm_error(vm, "emit ... to: '%.*s' %s",
                               (int)(rt[0].len > 300 ? 300 : rt[0].len), rt[0].u.p, bad);
        }
        o->has_topic = true;
        o->topic_len = rt[0].len;
        pl->topic = r->rbuf.len;
        lw_buf_add(&r->rbuf, rt[0].u.p, rt[0].len);
    } else if (rt[0].t != LW_T_NULL) {
        return lw_vm_error(vm, "emit ... to: the topic must be a string, found %s",
                           lw_type_name(rt[0].t));
    }
    if (rt[1].t != LW_T_NULL) {
        o->has_key = true;
        if (route_text(r, &rt[1], &pl->key, "the key") != 0) return -1;
        o->key_len = r->rbuf.len - pl->key;
    }
    if (rt[2].t == LW_T_NULL) return 0;
    if (rt[2].t != LW_T_OBJ) {
        return lw_vm_error(vm, "emit ... headers: expected an object, found %s",
                           lw_type_name(rt[2].t));
    }
    struct lw_iter it;
    struct lw_value k, v;
    lw_iter_init(&it, &rt[2]);
    while (lw_iter_next(&it, &k, &v, vm->arena) == 1) {
        if (r->nhdrs == r->caphdrs) {
            uint32_t cap = r->caphdrs ? r->caphdrs * 2 : 16;
            r->hoffs = lw_xrealloc(r->hoffs, cap * 2 * sizeof *r->hoffs);
            r->hdrs = lw_xrealloc(r->hdrs, cap * sizeof *r->hdrs);
            r->caphdrs = cap;
        }
        struct logwash_header *h = &r->hdrs[r->nhdrs];
        size_t *ho = &r->hoffs[2 * r->nhdrs];
        *h = (struct logwash_header){ .name_len = k.len };
        ho[0] = r->rbuf.len;
        lw_buf_add(&r->rbuf, k.u.p, k.len);
        ho[1] = SIZE_MAX;
        if (v.t != LW_T_NULL) {
            if (route_text(r, &v, &ho[1], "a header value") != 0) return -1;
            h->value_len = r->rbuf.len - ho[1];
        }
        r->nhdrs++;
        o->nheaders++;
    }
    return 0;
}

/* out_cb: the VM's output callback: encode v after the record's earlier outputs, within
 * max_output for all of them together, and note where it is and, with routes, its routing. */
static int
out_cb(void *ud, struct lw_vm *vm, const struct lw_value *v, const struct lw_value *rt, bool print)
{
    struct logwash_runner *r = ud;
    struct lw_buf *out = &r->ext;
    size_t start = out->len, max = r->max_end;
    /* the encoders stop at max (an absolute length), so a huge text costs no more than it */
    int rc;
    if (print) {
        rc = lw_value_write_text_max(out, v, vm->arena, max);
        if (rc == 0) lw_buf_addc(out, '\n');
    } else {
        rc = r->enc->encode(out, v, vm->arena, max);
    }
    if (rc == -1) return no_form(vm, print ? "print" : "emit", v);
    if (rc != 0 || out->len > max) {
        return lw_vm_error(vm, "output limit of %zu bytes per record exceeded (--max-output)",
                           vm->limits.max_output);
    }
    if (r->nouts == r->capouts) {
        uint32_t cap = r->capouts ? r->capouts * 2 : 16;
        r->places = lw_xrealloc(r->places, cap * sizeof *r->places);
        r->outs = lw_xrealloc(r->outs, cap * sizeof *r->outs);
        r->capouts = cap;
    }
    struct place *pl = &r->places[r->nouts];
    pl->off = start;
    pl->len = out->len - start - 1;
    pl->print = print;
    pl->routed = rt != NULL && r->routes;
    if (pl->routed) {
        struct logwash_output *o = &r->outs[r->nouts];
        *o = (struct logwash_output){ 0 };
        pl->h0 = r->nhdrs;
        if (route(r, o, pl, rt) != 0) return -1;
    }
    r->nemit += !print;
    r->nouts++;
    return 0;
}

/* meta_value: the template's `meta` from the caller's description (as the program builds it
 * from a file position or a Kafka message). */
static struct lw_value
meta_value(const struct logwash_meta *m, struct lw_arena *a)
{
    if (m == NULL || m->kind == LOGWASH_META_NONE) return LW_NULL;
    if (m->kind == LOGWASH_META_FILE) {
        struct lw_value o = lw_obj_new(a, 2);
        lw_obj_set(a, &o, LW_STR_LIT("source"),
                   lw_strv(m->source ? m->source : "", m->source ? m->source_len : 0));
        lw_obj_set(a, &o, LW_STR_LIT("line"),
                   lw_int(m->line > INT64_MAX ? INT64_MAX : (int64_t)m->line));
        return o;
    }
    struct lw_value o = lw_obj_new(a, 6);
    lw_obj_set(a, &o, LW_STR_LIT("topic"),
               lw_strv(m->topic ? m->topic : "", m->topic ? m->topic_len : 0));
    lw_obj_set(a, &o, LW_STR_LIT("partition"), lw_int(m->partition));
    lw_obj_set(a, &o, LW_STR_LIT("offset"), lw_int(m->offset));
    lw_obj_set(a, &o, LW_STR_LIT("key"),
               m->has_key ? lw_strv(m->key ? m->key : "", m->key ? m->key_len : 0) : LW_NULL);
    bool ts = m->has_timestamp && m->timestamp_ms >= -INT64_MAX / 1000000 &&
              m->timestamp_ms <= INT64_MAX / 1000000; /* a timestamp holds ns since 1970 */
    lw_obj_set(a, &o, LW_STR_LIT("timestamp"),
               ts ? lw_time(m->timestamp_ms * 1000000, 0) : LW_NULL);
    uint32_t nh = m->nheaders > UINT32_MAX ? UINT32_MAX : (uint32_t)m->nheaders;
    struct lw_value h = lw_obj_new(a, nh);
    for (uint32_t i = 0; i < nh; i++) { /* a repeated name: the last one wins */
        const struct logwash_header *x = &m->headers[i];
        struct lw_str name = { x->name ? x->name : "", x->name ? x->name_len : 0 };
        lw_obj_set(a, &h, name, x->value ? lw_strv(x->value, x->value_len) : LW_NULL);
    }
    lw_obj_set(a, &o, LW_STR_LIT("headers"), h);
    return o;
}

/* discard: the record failed: none of its outputs is kept. */
static void
discard(struct logwash_runner *r)
{
    r->nouts = r->nhdrs = 0;
    r->nemit = 0;
    r->ext.len = r->base;
    r->rbuf.len = 0;
}

/* settle: fill the public outputs of the last record (on the first logwash_outputs). */
static void
settle(struct logwash_runner *r)
{
    for (uint32_t i = 0; i < r->nouts; i++) {
        struct logwash_output *o = &r->outs[i];
        const struct place *pl = &r->places[i];
        if (!pl->routed) *o = (struct logwash_output){ 0 };
        o->print = pl->print;
        o->data = r->outp + pl->off;
        o->len = pl->len;
        if (o->has_topic) o->topic = r->rbuf.p + pl->topic;
        if (o->has_key) o->key = r->rbuf.p + pl->key;
        o->headers = o->nheaders ? r->hdrs + pl->h0 : NULL;
    }
    for (uint32_t i = 0; i < r->nhdrs; i++) {
        r->hdrs[i].name = r->rbuf.p + r->hoffs[2 * i];
        r->hdrs[i].value = r->hoffs[2 * i + 1] == SIZE_MAX ? NULL : r->rbuf.p + r->hoffs[2 * i + 1];
    }
    r->settled = true;
}

/* run: one record, under the caller's out-of-memory exit. Inlined into logwash_run_into (the
 * per-record path: a call's cost shows on a short record). */
static inline __attribute__((always_inline)) enum logwash_result
run(struct logwash_runner *r, const char *rec, size_t len, const struct logwash_meta *meta)
{
    const struct lw_program *p = r->t->prog;
    struct lw_record lr;
    char derr[320];
    struct lw_str raw = { rec ? rec : "", rec ? len : 0 };
    if (r->vm.state != NULL) lw_vmstate_begin(r->vm.state);
    if (r->dec->decode(p, raw, &lr, r->topval, &r->arena, derr, sizeof derr) != 0) {
        seterr(&r->err, 0, 0, "%s", derr);
        return LOGWASH_UNDECODABLE;
    }
    lr.meta = p->uses_meta ? meta_value(meta, &r->arena) : LW_NULL;
    /* the clock: read when the record first asks (lw_vm_now), if it does */
    r->vm.now_ns = r->now_ns == LOGWASH_NOW_CLOCK ? LW_NOW_UNREAD : r->now_ns;
    enum lw_vm_result res = lw_vm_run(&r->vm, &lr);
    r->steps += r->vm.limits.steps - r->vm.steps_left;
    if (res == LW_VM_OK || res == LW_VM_DROP) return res == LW_VM_OK ? LOGWASH_OK : LOGWASH_DROP;
    discard(r);
    int line, col;
    lw_diag_linecol(p->src, p->spans[r->vm.err_pc].off, &line, &col);
    seterr(&r->err, line, col, "%s", r->vm.err);
    return res == LW_VM_REJECT ? LOGWASH_REJECT : LOGWASH_ERROR;
}

/* begin: a record starts: the previous one's memory goes (its outputs were valid until now),
 * and its outputs, routes and error are emptied (not the whole error struct: this runs per
 * record). The caller's buffer is lent as r->ext. */
static inline __attribute__((always_inline)) void
begin(struct logwash_runner *r)
{
    lw_arena_reset(&r->arena);
    r->base = r->ext.len;
    size_t lim = r->vm.limits.max_output;
    r->max_end = r->base + lim < r->base ? SIZE_MAX : r->base + lim;
    r->nouts = r->nhdrs = 0;
    r->nemit = 0;
    r->rbuf.len = 0;
    r->settled = false;
    r->err.line = r->err.col = 0;
    r->err.message[0] = '\0';
}

/* explained: run with the explanation's per-record reset and finish around it. */
static inline __attribute__((always_inline)) enum logwash_result
explained(struct logwash_runner *r, const char *rec, size_t len, const struct logwash_meta *meta)
{
    if (__builtin_expect(r->vm.explain == NULL, 1)) return run(r, rec, len, meta);
    lw_explain_reset(r->vm.explain);
    enum logwash_result res = run(r, rec, len, meta);
    lw_explain_finish(r->vm.explain);
    return res;
}

/* nomem: the record failed for memory: every allocator left its structure as before the
 * failed call: drop the record. */
static void
nomem(struct logwash_runner *r)
{
    discard(r);
    lw_arena_reset(&r->arena);
    seterr(&r->err, 0, 0, "out of memory");
}

/* give_back: the caller's buffer, lent to out_cb as r->ext for logwash_run_into or _batch,
 * returned as it grew; the outputs point into it */
static void
give_back(struct logwash_runner *r, struct logwash_buffer *out)
{
    out->data = r->ext.p;
    out->len = r->ext.len;
    out->cap = r->ext.cap;
    r->outp = out->data;
}

enum logwash_result
logwash_run_into(struct logwash_runner *r, const char *rec, size_t len,
                 const struct logwash_meta *meta, struct logwash_buffer *out)
{
    /* the caller's buffer, lent to out_cb as an lw_buf for the record (it grows it) */
    r->ext = (struct lw_buf){ out->data, out->len, out->data ? out->cap : 0 };
    begin(r);
    jmp_buf jb, *outer = lw_oom_jmp;
    enum logwash_result res;
    if (setjmp(jb) != 0) {
        nomem(r);
        res = LOGWASH_NOMEM;
    } else {
        lw_oom_jmp = &jb;
        res = explained(r, rec, len, meta);
    }
    lw_oom_jmp = outer;
    give_back(r, out);
    return res;
}

size_t
logwash_run_batch(struct logwash_runner *r, const struct logwash_record *recs, size_t n,
                  struct logwash_buffer *out, size_t max_len, struct logwash_record_result *res)
{
    if (n == 0) return 0;
    r->ext = (struct lw_buf){ out->data, out->len, out->data ? out->cap : 0 };
    jmp_buf jb, *outer = lw_oom_jmp;
    volatile size_t done = 0; /* records finished: read again after a longjmp */
    if (setjmp(jb) != 0) {
        nomem(r);
        res[done] = (struct logwash_record_result){ .result = LOGWASH_NOMEM, .end = r->ext.len };
        done = done + 1;
    } else {
        lw_oom_jmp = &jb;
        for (size_t i = 0;;) {
            begin(r);
            enum logwash_result x = explained(r, recs[i].data, recs[i].len, recs[i].meta);
            res[i] = (struct logwash_record_result){
                .result = x, .outputs = r->nouts, .emitted = (uint32_t)r->nemit, .end = r->ext.len
            };
            done = ++i;
            if (i == n || x > LOGWASH_DROP || (r->routes && r->nouts > 0) || r->ext.len >= max_len)
                break;
            size_t oplen = 0; /* its state operations: the next record would empty them */
            if (r->vm.state != NULL && (lw_vmstate_log(r->vm.state, &oplen), oplen > 0)) break;
        }
    }
    lw_oom_jmp = outer;
    give_back(r, out);
    return done;
}

enum logwash_result
logwash_run(struct logwash_runner *r, const char *rec, size_t len, const struct logwash_meta *meta)
{
    /* into the runner's own buffer, emptied: the previous record's outputs go now */
    struct logwash_buffer b = { r->out.p, 0, r->out.cap };
    enum logwash_result res = logwash_run_into(r, rec, len, meta, &b);
    r->out = (struct lw_buf){ b.data, b.len, b.cap };
    return res;
}

const struct logwash_output *
logwash_outputs(const struct logwash_runner *r, size_t *n)
{
    *n = r->nouts;
    if (r->nouts == 0) return NULL;
    /* filled on the first request: the runner is the caller's and never const itself */
    if (!r->settled) settle((struct logwash_runner *)r);
    return r->outs;
}

size_t
logwash_output_count(const struct logwash_runner *r, size_t *emitted)
{
    if (emitted != NULL) *emitted = r->nemit;
    return r->nouts;
}

const struct logwash_error *
logwash_runner_error(const struct logwash_runner *r)
{
    return &r->err;
}

uint64_t
logwash_runner_steps(const struct logwash_runner *r)
{
    return r->steps;
}

/* ---- helpers for programs ---- */

int
logwash_template_disasm(const struct logwash_template *t, FILE *f)
{
    lw_disasm(t->prog, f);
    return ferror(f) ? -1 : 0;
}

int
logwash_tz_check(const char *tz, struct logwash_error *err)
{
    struct lw_tz *z;
    if (load_tz(tz, &z, err) != 0) return -1;
    lw_tz_free(z);
    return 0;
}

int
logwash_parse_time(const char *text, size_t len, int64_t *ns)
{
    int32_t off;
    if (text == NULL) return -1;
    if (lw_time_parse_ref(text, len, "rfc3339", 7, 0, 1, ns, &off, NULL, 0, NULL) == 0) return 0;
    return lw_time_parse_ref(text, len, "epoch", 5, 0, 1, ns, &off, NULL, 0, NULL) == 0 ? 0 : -1;
}

/* Explaining records ------------------------------------------------------------------- */

int
logwash_runner_set_explain(struct logwash_runner *r, bool on)
{
    if (on && r->vm.explain == NULL) {
        r->vm.explain = lw_explain_new();
        if (r->vm.explain == NULL) return -1;
        jmp_buf jb, *outer = lw_oom_jmp;
        if (setjmp(jb) != 0) { /* the first bytes of its text */
            lw_oom_jmp = outer;
            lw_explain_free(r->vm.explain);
            r->vm.explain = NULL;
            return -1;
        }
        lw_oom_jmp = &jb;
        lw_explain_reset(r->vm.explain);
        lw_oom_jmp = outer;
    } else if (!on) {
        lw_explain_free(r->vm.explain);
        r->vm.explain = NULL;
    }
    return 0;
}

const char *
logwash_explanation(const struct logwash_runner *r, size_t *len)
{
    const struct lw_explain *x = r->vm.explain;
    if (len != NULL) *len = x ? x->text.len : 0;
    return x != NULL && x->text.p != NULL ? x->text.p : "";
}

unsigned
logwash_explanation_misses(const struct logwash_runner *r)
{
    const struct lw_explain *x = r->vm.explain;
    return x != NULL ? x->misses : 0;
}
