/* The YAML job file. libfyaml builds the document; this file walks it against the schema of
 * logwash.yaml(5) and writes the command-line options each key stands for, each with the
 * line:column of its value. Checking the values is left to opts.c, which reports a bad one at
 * that position; so the file and the command line can never disagree on what a value means.
 * Values (not keys, not template_text) are interpolated from the environment first (interp). */
#include "lw/config.h"

#include <ctype.h>
#include <libfyaml.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw/buf.h"
#include "lw/jsonstr.h"
#include "lw/str.h"

struct ctx {
    const char *path;
    const char *dir; /* of path, with a trailing '/', or "" */
    struct lw_config *c;
    char *err;
    size_t errcap;
    struct lw_str text;                /* the file as read, for the position of a '$' in a value */
    struct lw_buf val;                 /* the last interpolated value */
    const char *want;                  /* the pipeline whose options to add (pipelines:), or NULL */
    struct fy_node *pipes, *pipes_key; /* the pipelines: mapping, kept for after the top */
    bool in_pipeline;                  /* walking one pipeline's keys */
    struct lw_jobfile *jf;             /* the file walked */
};

/* One pipeline of pipelines:, in the index that finds a pipeline's mapping by its name. */
struct pipe_ent {
    const char *name; /* the key's text, in the document */
    size_t len;
    int pos; /* in the file's order: of equal names, the last wins */
    struct fy_node *key, *value;
};

/* A job file read, checked and parsed once; the top level's options and each pipeline's are
 * walked from its document (lw_config_from), so a job of n pipelines reads and parses it once,
 * not n times (each parse costs libfyaml's duplicate-key check of the pipelines: mapping,
 * quadratic in n). */
struct lw_jobfile {
    char *path;
    char *dir; /* of path, with a trailing '/', or "" */
    struct lw_buf text;
    struct fy_diag *diag;
    struct fy_parser *fyp;
    struct fy_document *doc; /* NULL: the file sets nothing (blank, only comments) */
    FILE *fp;
    char *err; /* where libfyaml's first message goes while the file is parsed, else NULL */
    size_t errcap;
    struct pipe_ent *ents; /* pipelines: by name, built at the first pipeline wanted */
    int nents;
    bool indexed;
};

/* A key that stands for one option: KEY: VALUE gives OPTION=VALUE. path: a file name,
 * resolved against the job file's directory. flag: a bool; true gives OPTION alone. */
enum kind { VALUE, PATH, FLAG };
struct key {
    const char *name, *option;
    enum kind kind;
};

static const struct key top_keys[] = {
    { "template", "--file", PATH },
    { "template_text", "--expr", VALUE },
    { "input", "--input", VALUE },
    { "output", "--output", VALUE },
    { "on_error", "--on-error", VALUE },
    { "tz", "--tz", VALUE },
    { "now", "--now", VALUE },
    { "unbuffered", "--unbuffered", FLAG },
    { "no_jit", "--no-jit", FLAG },
    { "workers", "--jobs", VALUE },
    { "explain", "--explain", VALUE }, /* true: --explain; false: nothing; N: --explain=N */
    { NULL, NULL, VALUE },
};
static const struct key source_keys[] = {
    { "type", "--from", VALUE },   { "brokers", "--brokers", VALUE },
    { "group", "--group", VALUE }, { "exit_at_eof", "--exit-at-eof", FLAG },
    { NULL, NULL, VALUE },
};
static const struct key sink_keys[] = {
    { "type", "--to", VALUE },
    { "topic", "--out-topic", VALUE },
    { "brokers", "--brokers", VALUE },
    { NULL, NULL, VALUE },
};
static const struct key dl_keys[] = {
    { "file", "--dead-letter", PATH },
    { "topic", "--dead-letter-topic", VALUE },
    { NULL, NULL, VALUE },
};
static const struct key limit_keys[] = {
    { "max_line", "--max-line", VALUE },
    { "max_steps", "--max-steps", VALUE },
    { "regex_match_limit", "--regex-match-limit", VALUE },
    { "regex_depth_limit", "--regex-depth-limit", VALUE },
    { "regex_budget", "--regex-budget", VALUE },
    { "max_output", "--max-output", VALUE },
    { "max_memory", "--max-memory", VALUE },
    { "max_state", "--max-state", VALUE },
    { NULL, NULL, VALUE },
};
static const struct key multiline_keys[] = {
    { "start", "--multiline-start", VALUE },
    { "continue", "--multiline-continue", VALUE },
    { "indent", "--multiline-indent", FLAG },
    { "max_lines", "--multiline-max-lines", VALUE },
    { "max_bytes", "--multiline-max-bytes", VALUE },
    { "timeout", "--multiline-timeout", VALUE },
    { NULL, NULL, VALUE },
};
static const struct key metrics_keys[] = {
    { "listen", "--metrics-listen", VALUE },
    { "file", "--metrics-file", PATH },
    { "interval", "--metrics-interval", VALUE },
    { "reload", "--metrics-reload", FLAG },
    { NULL, NULL, VALUE },
};
static const struct key kafka_keys[] = {
    { "brokers", "--brokers", VALUE },
    { "flush_timeout_ms", "--flush-timeout", VALUE },
    { "stats_interval", "--stats-interval", VALUE },
    { "partition_idle", "--partition-idle", VALUE },
    { NULL, NULL, VALUE },
};

static void
mark(struct fy_node *n, int *line, int *col)
{
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    *line = m ? m->line + 1 : 0;
    *col = m ? m->column + 1 : 0;
}

static int
vfail_at(struct ctx *x, int line, int col, const char *fmt, va_list ap)
{
    int n = line ? snprintf(x->err, x->errcap, "%s:%d:%d: error: ", x->path, line, col)
                 : snprintf(x->err, x->errcap, "%s: error: ", x->path);
    if (n < 0 || (size_t)n >= x->errcap) return -1;
    vsnprintf(x->err + n, x->errcap - (size_t)n, fmt, ap);
    return -1;
}

static int
fail_at(struct ctx *x, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(x, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

static int
fail(struct ctx *x, struct fy_node *at, const char *fmt, ...)
{
    int line, col;
    mark(at, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    vfail_at(x, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

/* dollar_mark: the position of the k-th '$' (from 0) of node n's value in the file: found in
 * the file's text between the token's marks when that text has as many '$' as the value (an
 * escape such as "\x24" makes a '$' the text lacks: then the value's own position). */
static void
dollar_mark(struct ctx *x, struct fy_node *n, const char *s, size_t len, size_t k, int *line,
            int *col)
{
    mark(n, line, col);
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *a = t ? fy_token_start_mark(t) : NULL,
                         *b = t ? fy_token_end_mark(t) : NULL;
    if (a == NULL || b == NULL || b->input_pos > x->text.len || a->input_pos > b->input_pos) return;
    size_t want = 0, have = 0;
    for (size_t i = 0; i < len; i++)
        want += s[i] == '$';
    for (size_t i = a->input_pos; i < b->input_pos; i++)
        have += x->text.p[i] == '$';
    if (want != have) return;
    int l = a->line, c = a->column;
    for (size_t i = a->input_pos; i < b->input_pos; i++) {
        char ch = x->text.p[i];
        if (ch == '$' && k-- == 0) {
            *line = l + 1;
            *col = c + 1;
            return;
        }
        if (ch == '\n') {
            l++;
            c = 0;
        } else if (((unsigned char)ch & 0xC0) != 0x80) { /* columns count characters */
            c++;
        }
    }
}

/* fail_dollar: an error at the '$' at s[i] of node n's value s[0, len). */
static int
fail_dollar(struct ctx *x, struct fy_node *n, const char *s, size_t len, size_t i, const char *fmt,
            ...)
{
    size_t k = 0;
    for (size_t j = 0; j < i; j++)
        k += s[j] == '$';
    int line, col;
    dollar_mark(x, n, s, len, k, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    vfail_at(x, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

/* scalar: the text of n, which must be a scalar (the value of key, whose node kn gives the
 * position when n has none of its own). NULL after fail(). */
static const char *
scalar(struct ctx *x, struct fy_node *n, const char *key, struct fy_node *kn, size_t *len)
{
    if (n == NULL || !fy_node_is_scalar(n)) {
        fail(x, kn, "'%s' needs a single value, not a list or a mapping", key);
        return NULL;
    }
    const char *s = fy_node_get_scalar(n, len);
    return s ? s : "";
}

/* The longest value interpolation may make: a hostile or mistaken variable (a whole file in
 * it) is an error at its '$', not a huge option. */
#define VALUE_MAX 65536

static bool
name_char(char ch, bool first)
{
    return ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (!first && ch >= '0' && ch <= '9');
}

/* interp: s[0, *len) with ${NAME} and ${NAME:-default} replaced by the environment's values
 * and $$ by $ (logwash.yaml(5) INTERPOLATION), in one pass: what a variable holds is never
 * interpolated again. A '$' before anything else is itself. n: the value's node, for errors at
 * the '$'. Returns s itself when it has no '$', else x->val's text (NUL-terminated, valid until
 * the next call); NULL after fail(). */
static const char *
interp(struct ctx *x, struct fy_node *n, const char *s, size_t *len)
{
    size_t sl = *len;
    if (memchr(s, '$', sl) == NULL) return s;
    struct lw_buf *b = &x->val;
    b->len = 0;
    for (size_t i = 0; i < sl;) {
        if (s[i] != '$' || i + 1 == sl || (s[i + 1] != '$' && s[i + 1] != '{')) {
            lw_buf_addc(b, s[i++]);
            continue;
        }
        if (s[i + 1] == '$') {
            lw_buf_addc(b, '$');
            i += 2;
            continue;
        }
        const char *close = memchr(s + i + 2, '}', sl - i - 2);
        if (close == NULL)
            return fail_dollar(x, n, s, sl, i, "'${' without its closing '}' (write $$ for a $)"),
                   NULL;
        size_t ns = i + 2, ne = ns;
        while (ne < sl && name_char(s[ne], ne == ns))
            ne++;
        bool dflt = ne + 1 < sl && s[ne] == ':' && s[ne + 1] == '-';
        size_t end = (size_t)(close - s);
        if (ne == ns || (!dflt && ne != end)) {
            int show = end - i + 1 > 80 ? 80 : (int)(end - i + 1);
            return fail_dollar(x, n, s, sl, i,
                               "'%.*s%s' is no variable: write ${NAME} or ${NAME:-default}, NAME "
                               "of letters, digits and '_' not starting with a digit",
                               show, s + i, show < (int)(end - i + 1) ? "..." : ""),
                   NULL;
        }
        for (size_t k = ne + 2; dflt && k + 1 < end; k++) {
            if (s[k] == '$' && s[k + 1] == '{') /* ${A:-${B}} would give B's value and a '}' */
                return fail_dollar(x, n, s, sl, i,
                                   "a default cannot hold '${': defaults are not interpolated "
                                   "(${A:-${B}} is not supported)"),
                       NULL;
        }
        char *name = lw_xstrndup(s + ns, ne - ns);
        const char *v = getenv(name);
        if (dflt && (v == NULL || *v == '\0')) v = NULL;
        size_t vl = v ? strlen(v) : dflt ? end - (ne + 2) : 0;
        if (v == NULL && !dflt) {
            fail_dollar(x, n, s, sl, i,
                        "environment variable %.*s is not set (${%.*s:-DEFAULT} gives a default)",
                        (int)(ne - ns > 60 ? 60 : ne - ns), name,
                        (int)(ne - ns > 60 ? 60 : ne - ns), name);
            free(name);
            return NULL;
        }
        if (v != NULL && !lw_utf8_valid((struct lw_str){ v, vl })) {
            fail_dollar(x, n, s, sl, i, "environment variable %.*s is not UTF-8 text",
                        (int)(ne - ns > 60 ? 60 : ne - ns), name);
            free(name);
            return NULL;
        }
        if (b->len + vl > VALUE_MAX) {
            fail_dollar(x, n, s, sl, i,
                        "the value would be longer than %d bytes with %.*s's %zu put in", VALUE_MAX,
                        (int)(ne - ns > 60 ? 60 : ne - ns), name, vl);
            free(name);
            return NULL;
        }
        free(name);
        lw_buf_add(b, v ? v : s + ne + 2, vl); /* appended as it is: never interpolated again */
        i = end + 1;
    }
    lw_buf_addc(b, '\0');
    *len = --b->len;
    return b->p;
}

/* value: the text of n, as scalar(), interpolated unless raw. NULL after fail(). */
static const char *
value(struct ctx *x, struct fy_node *n, const char *key, struct fy_node *kn, size_t *len, bool raw)
{
    const char *s = scalar(x, n, key, kn, len);
    return s == NULL || raw ? s : interp(x, n, s, len);
}

static void
add(struct ctx *x, struct fy_node *at, const char *a, size_t alen, const char *b, size_t blen)
{
    struct lw_config *c = x->c;
    c->args = lw_xrealloc(c->args, (size_t)(c->nargs + 1) * sizeof *c->args);
    struct lw_config_arg *arg = &c->args[c->nargs++];
    arg->text = lw_xmalloc(alen + blen + 1);
    memcpy(arg->text, a, alen);
    memcpy(arg->text + alen, b, blen);
    arg->text[alen + blen] = '\0';
    mark(at, &arg->line, &arg->col);
}

/* resolve: a file name from the job file, relative to its directory unless absolute. */
static char *
resolve(struct ctx *x, const char *s, size_t len)
{
    size_t dl = s[0] == '/' ? 0 : strlen(x->dir);
    char *p = lw_xmalloc(dl + len + 1);
    memcpy(p, x->dir, dl);
    memcpy(p + dl, s, len);
    p[dl + len] = '\0';
    return p;
}

static int
option(struct ctx *x, const struct key *k, struct fy_node *kn, struct fy_node *v)
{
    size_t len;
    const char *s = value(x, v, k->name, kn, &len, strcmp(k->name, "template_text") == 0);
    if (s == NULL) return -1;
    size_t olen = strlen(k->option);
    bool tf = (len == 4 && memcmp(s, "true", 4) == 0) || (len == 5 && memcmp(s, "false", 5) == 0);
    if (k->kind == FLAG || (tf && strcmp(k->name, "explain") == 0)) {
        if (len == 4 && memcmp(s, "true", 4) == 0) add(x, v, k->option, olen, "", 0);
        if (len == 4 && memcmp(s, "true", 4) == 0) return 0;
        if (len == 5 && memcmp(s, "false", 5) == 0) return 0;
        return fail(x, v, "'%s' needs true or false, found '%.*s'", k->name, (int)len, s);
    }
    char *p = NULL;
    if (k->kind == PATH) {
        if (len == 0) return fail(x, v, "'%s' needs a file name", k->name);
        bool bare = memchr(s, '/', len) == NULL;
        size_t nbare = len;
        s = p = resolve(x, s, len);
        len = strlen(p);
        /* template: a bare name that is no file beside the job file is a shipped template
         * (logwash(1) -f @NAME), never a file in the current directory */
        if (bare && strcmp(k->name, "template") == 0 && access(p, F_OK) != 0) {
            const char *name = p + (len - nbare);
            char *at = lw_xmalloc(nbare + 2);
            snprintf(at, nbare + 2, "%s%s", name[0] == '@' ? "" : "@", name);
            free(p);
            s = p = at;
            len = strlen(at);
        }
    }
    char *opt = lw_xmalloc(olen + 2);
    snprintf(opt, olen + 2, "%s=", k->option);
    add(x, v, opt, olen + 1, s, len);
    free(opt);
    free(p);
    return 0;
}

/* expected: "a, b or c" of a key table, for an unknown-key message. */
static const char *
expected(const struct key *keys, const char *extra, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; keys[i].name && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", keys[i].name);
    if (extra && n < cap) snprintf(buf + n, cap - n, ", %s", extra);
    return buf;
}

/* list: a scalar or a sequence of scalars, each given as opt=ITEM (files when opt is NULL);
 * paths: items are file names, resolved against the job file's directory. */
static int
list(struct ctx *x, const char *key, struct fy_node *kn, struct fy_node *v, const char *opt,
     bool paths)
{
    bool files = opt == NULL;
    if (v == NULL || fy_node_is_mapping(v)) return fail(x, kn, "'%s' needs a value or a list", key);
    void *it = NULL;
    struct fy_node *item;
    bool seq = fy_node_is_sequence(v);
    while ((item = seq ? fy_node_sequence_iterate(v, &it) : (it ? NULL : (it = v, v))) != NULL) {
        size_t len;
        const char *s = value(x, item, key, item, &len, false);
        if (s == NULL) return -1;
        if (paths && !files && len == 0) return fail(x, item, "'%s' needs a file name", key);
        if (files) {
            x->c->files = lw_xrealloc(x->c->files, (size_t)(x->c->nfiles + 1) * sizeof(char *));
            x->c->file_line =
                lw_xrealloc(x->c->file_line, (size_t)(x->c->nfiles + 1) * sizeof(int));
            x->c->file_col = lw_xrealloc(x->c->file_col, (size_t)(x->c->nfiles + 1) * sizeof(int));
            mark(item, &x->c->file_line[x->c->nfiles], &x->c->file_col[x->c->nfiles]);
            bool dash = len == 1 && s[0] == '-'; /* standard input, from any directory */
            x->c->files[x->c->nfiles++] = dash ? lw_xstrndup(s, len) : resolve(x, s, len);
        } else if (paths) {
            char *p = resolve(x, s, len);
            add(x, item, opt, strlen(opt), p, strlen(p));
            free(p);
        } else {
            add(x, item, opt, strlen(opt), s, len);
        }
    }
    return 0;
}

/* props: a mapping of librdkafka properties, each given as -XPREFIXkey=value. */
static int
props(struct ctx *x, struct fy_node *kn, struct fy_node *m, const char *prefix)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    if (m == NULL || !fy_node_is_mapping(m)) {
        return fail(x, kn, "Kafka properties need a mapping of key: value");
    }
    while ((pr = fy_node_mapping_iterate(m, &it)) != NULL) {
        size_t kl, vl;
        const char *k = scalar(x, fy_node_pair_key(pr), "property", NULL, &kl);
        if (k == NULL) return -1;
        const char *v =
            value(x, fy_node_pair_value(pr), "property", fy_node_pair_key(pr), &vl, false);
        if (v == NULL) return -1;
        char head[300];
        int n = snprintf(head, sizeof head, "-X%s%.*s=", prefix, (int)kl, k);
        if (n < 0 || (size_t)n >= sizeof head) {
            return fail(x, fy_node_pair_key(pr), "property name too long");
        }
        add(x, fy_node_pair_value(pr), head, (size_t)n, v, vl);
    }
    return 0;
}

/* section: walk mapping m (the value of key `name`) against keys; `more` handles the keys
 * that are not plain options (or is NULL) and returns 1 for a key it does not know. */
typedef int (*more_fn)(struct ctx *x, const char *k, size_t kl, struct fy_node *kn,
                       struct fy_node *v);

static int
section(struct ctx *x, const char *name, struct fy_node *at, struct fy_node *m,
        const struct key *keys, more_fn more, const char *extra)
{
    if (m == NULL || !fy_node_is_mapping(m))
        return fail(x, at, "'%s' needs a mapping of keys", name);
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(m, &it)) != NULL) {
        struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
        size_t kl;
        const char *k = scalar(x, kn, "key", NULL, &kl);
        if (k == NULL) return -1;
        const struct key *hit = NULL;
        for (int i = 0; keys[i].name; i++) {
            if (strlen(keys[i].name) == kl && memcmp(keys[i].name, k, kl) == 0) hit = &keys[i];
        }
        int rc = hit ? option(x, hit, kn, v) : more ? more(x, k, kl, kn, v) : 1;
        if (rc < 0) return -1;
        if (rc > 0) {
            char buf[400];
            return fail(x, kn, "unknown key '%.*s' in %s (expected %s)", (int)kl, k, name,
                        expected(keys, extra, buf, sizeof buf));
        }
    }
    return 0;
}

static bool
is(const char *k, size_t kl, const char *name)
{
    return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

static int
more_source(struct ctx *x, const char *k, size_t kl, struct fy_node *kn, struct fy_node *v)
{
    if (is(k, kl, "files")) return list(x, "files", kn, v, NULL, true);
    if (is(k, kl, "topics") || is(k, kl, "topic")) {
        return list(x, "topics", kn, v, "--topic=", false);
    }
    return 1;
}

static int
more_kafka(struct ctx *x, const char *k, size_t kl, struct fy_node *kn, struct fy_node *v)
{
    if (is(k, kl, "properties")) return props(x, kn, v, "");
    if (is(k, kl, "consumer")) return props(x, kn, v, "consumer.");
    if (is(k, kl, "producer")) return props(x, kn, v, "producer.");
    return 1;
}

/* table_bool: a table's true/false key: 1, 0, or -1 after fail(). */
static int
table_bool(struct ctx *x, struct fy_node *v, const char *key)
{
    size_t len;
    const char *s = value(x, v, key, v, &len, false);
    if (s == NULL) return -1;
    if (len == 4 && memcmp(s, "true", 4) == 0) return 1;
    if (len == 5 && memcmp(s, "false", 5) == 0) return 0;
    return fail(x, v, "'%s' needs true or false, found '%.*s'", key, (int)len, s);
}

/* table: one entry of tables: (NAME: FILE, or NAME: {file, ip, key, format, last_wins}) as
 * --table=NAME[:OPTIONS]=FILE, the file resolved against the job file's directory. */
static int
table(struct ctx *x, struct fy_node *kn, struct fy_node *v)
{
    size_t nl, fl = 0;
    const char *name = scalar(x, kn, "table name", NULL, &nl);
    if (name == NULL) return -1;
    struct lw_buf spec;
    lw_buf_init(&spec);
    lw_buf_adds(&spec, "--table=");
    lw_buf_add(&spec, name, nl);
    struct fy_node *file = NULL;
    char *opts = NULL; /* ",a,b" */
    int rc = -1;
    if (v != NULL && fy_node_is_mapping(v)) {
        struct lw_buf ob;
        lw_buf_init(&ob);
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(v, &it)) != NULL) {
            struct fy_node *k2 = fy_node_pair_key(pr), *v2 = fy_node_pair_value(pr);
            size_t kl, vl;
            const char *k = scalar(x, k2, "key", NULL, &kl);
            if (k == NULL) goto bad;
            int b = 0;
            if (is(k, kl, "file")) {
                file = v2;
            } else if (is(k, kl, "ip") || is(k, kl, "last_wins")) {
                if ((b = table_bool(x, v2, is(k, kl, "ip") ? "ip" : "last_wins")) < 0) goto bad;
                if (b) lw_buf_adds(&ob, is(k, kl, "ip") ? ",ip" : ",last-wins");
            } else if (is(k, kl, "format")) {
                const char *s = value(x, v2, "format", k2, &vl, false);
                if (s == NULL) goto bad;
                if (!is(s, vl, "csv") && !is(s, vl, "jsonl")) {
                    fail(x, v2, "'format' needs csv or jsonl, found '%.*s'", (int)vl, s);
                    goto bad;
                }
                lw_buf_addc(&ob, ',');
                lw_buf_add(&ob, s, vl);
            } else if (is(k, kl, "key")) {
                const char *s = value(x, v2, "key", k2, &vl, false);
                if (s == NULL) goto bad;
                if (vl == 0 || memchr(s, ',', vl) || memchr(s, '=', vl) || memchr(s, '\0', vl)) {
                    fail(x, v2, "'key' needs a column name without ',' or '='");
                    goto bad;
                }
                lw_buf_adds(&ob, ",key=");
                lw_buf_add(&ob, s, vl);
            } else {
                fail(x, k2,
                     "unknown key '%.*s' in table '%.*s' (expected file, ip, key, format, "
                     "last_wins)",
                     (int)kl, k, (int)nl, name);
                goto bad;
            }
            continue;
        bad:
            lw_buf_fini(&ob);
            goto out;
        }
        if (file == NULL) {
            lw_buf_fini(&ob);
            fail(x, kn, "table '%.*s' needs its file: file: PATH", (int)nl, name);
            goto out;
        }
        if (ob.len) {
            lw_buf_addc(&ob, '\0');
            opts = lw_xstrndup(ob.p, ob.len);
            opts[0] = ':';
        }
        lw_buf_fini(&ob);
    } else {
        file = v;
    }
    const char *f = value(x, file, "file", kn, &fl, false);
    if (f == NULL) goto out;
    if (fl == 0) {
        fail(x, file, "table '%.*s' needs a file name", (int)nl, name);
        goto out;
    }
    if (opts) lw_buf_adds(&spec, opts);
    lw_buf_addc(&spec, '=');
    char *p = resolve(x, f, fl);
    add(x, file, spec.p, spec.len, p, strlen(p));
    free(p);
    rc = 0;
out:
    free(opts);
    lw_buf_fini(&spec);
    return rc;
}

/* tables: a mapping of table names to files (logwash.yaml(5) tables). */
static int
tables(struct ctx *x, struct fy_node *kn, struct fy_node *m)
{
    if (m == NULL || !fy_node_is_mapping(m)) {
        return fail(x, kn, "'tables' needs a mapping of NAME: FILE or NAME: {file: FILE, ...}");
    }
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(m, &it)) != NULL)
        if (table(x, fy_node_pair_key(pr), fy_node_pair_value(pr)) != 0) return -1;
    return 0;
}

static int
more_top(struct ctx *x, const char *k, size_t kl, struct fy_node *kn, struct fy_node *v)
{
    if (is(k, kl, "pipelines")) {
        if (x->in_pipeline) return fail(x, kn, "a pipeline cannot hold 'pipelines'");
        x->pipes = v;
        x->pipes_key = kn;
        return 0;
    }
    if (x->in_pipeline && is(k, kl, "metrics"))
        return fail(x, kn, "'metrics' is the process's: put it at the top of the job file");
    if (is(k, kl, "tables")) return tables(x, kn, v);
    if (is(k, kl, "patterns")) return list(x, "patterns", kn, v, "--patterns=", true);
    if (is(k, kl, "lib")) return list(x, "lib", kn, v, "--lib=", true);
    if (is(k, kl, "source"))
        return section(x, "source", kn, v, source_keys, more_source, "files, topics");
    if (is(k, kl, "sink")) return section(x, "sink", kn, v, sink_keys, NULL, NULL);
    if (is(k, kl, "dead_letter")) return section(x, "dead_letter", kn, v, dl_keys, NULL, NULL);
    if (is(k, kl, "limits")) return section(x, "limits", kn, v, limit_keys, NULL, NULL);
    if (is(k, kl, "multiline")) return section(x, "multiline", kn, v, multiline_keys, NULL, NULL);
    if (is(k, kl, "metrics")) return section(x, "metrics", kn, v, metrics_keys, NULL, NULL);
    if (is(k, kl, "kafka")) {
        return section(x, "kafka", kn, v, kafka_keys, more_kafka, "properties, consumer, producer");
    }
    return 1;
}

/* check_text: the file is UTF-8 without NUL bytes; else an error at the first bad byte. */
static int
check_text(struct ctx *x, struct lw_str t)
{
    size_t line_start = 0;
    int line = 1;
    for (size_t i = 0; i <= t.len; i++) {
        if (i < t.len && t.p[i] != '\n' && t.p[i] != '\0') continue;
        struct lw_str l = { t.p + line_start, i - line_start };
        if (!lw_utf8_valid(l) || (i < t.len && t.p[i] == '\0')) {
            size_t ok = 0, chars = 0; /* the longest valid prefix, in characters */
            for (size_t k = 1; k <= l.len; k++) {
                if (lw_utf8_valid((struct lw_str){ l.p + ok, k - ok }) && l.p[k - 1] != '\0') {
                    ok = k;
                    chars++;
                } else if (k - ok >= 4) {
                    break;
                }
            }
            snprintf(x->err, x->errcap, "%s:%d:%zu: error: not UTF-8 text (a job file is YAML)",
                     x->path, line, chars + 1);
            return -1;
        }
        line++;
        line_start = i + 1;
    }
    return 0;
}

/* diag_out: libfyaml's message for a syntax error, kept (the first one) instead of printed. */
static void
diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    struct lw_jobfile *jf = user;
    if (jf->err == NULL || jf->err[0] != '\0') return;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    snprintf(jf->err, jf->errcap, "%.*s", (int)len, buf);
}

#define TOP_EXTRA                                                                                  \
    "patterns, lib, tables, source, sink, dead_letter, limits, multiline, kafka, metrics, "        \
    "pipelines"

/* The keys a job file with pipelines: leaves to each pipeline (logwash.yaml(5) PIPELINES). */
static const char *const pipeline_only[] = { "template",    "template_text", "source",    "sink",
                                             "dead_letter", "tables",        "multiline", NULL };

/* pipe_name: the text of a pipeline's name (key node kn), checked; NULL after fail(). */
static const char *
pipe_name(struct ctx *x, struct fy_node *kn, size_t *nl)
{
    const char *name = scalar(x, kn, "pipeline name", NULL, nl);
    if (name == NULL) return NULL;
    bool good = *nl > 0 && *nl <= 64;
    for (size_t i = 0; i < *nl && good; i++)
        good = isalnum((unsigned char)name[i]) || strchr("_-.", name[i]) != NULL;
    if (!good) {
        fail(x, kn, "a pipeline name is 1 to 64 letters, digits, '_', '-' or '.', found '%.*s'",
             (int)(*nl > 80 ? 80 : *nl), name);
        return NULL;
    }
    return name;
}

static int
ent_cmp(const void *pa, const void *pb)
{
    const struct pipe_ent *a = pa, *b = pb;
    int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
    if (c != 0) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* pipe_index: the pipelines: mapping sorted by name, once per file (each name checked in the
 * file's order, as without a pipeline wanted); a pipeline is then found in log n. */
static int
pipe_index(struct ctx *x)
{
    struct lw_jobfile *jf = x->jf;
    if (jf->indexed) return 0;
    int n = fy_node_mapping_item_count(x->pipes); /* once: it counts them */
    struct pipe_ent *ents = lw_xcalloc(n > 0 ? (size_t)n : 1, sizeof *ents);
    void *it = NULL;
    struct fy_node_pair *pr;
    int k = 0;
    while (k < n && (pr = fy_node_mapping_iterate(x->pipes, &it)) != NULL) {
        struct fy_node *kn = fy_node_pair_key(pr);
        size_t nl;
        const char *name = pipe_name(x, kn, &nl);
        if (name == NULL) {
            free(ents);
            return -1;
        }
        ents[k] = (struct pipe_ent){ name, nl, k, kn, fy_node_pair_value(pr) };
        k++;
    }
    qsort(ents, (size_t)k, sizeof *ents, ent_cmp);
    jf->ents = ents;
    jf->nents = k;
    jf->indexed = true;
    return 0;
}

/* pipelines: after the top level: the names of the pipelines: mapping into c, and the options
 * of the one wanted (x->want) added after the top level's, so they override them. */
static int
pipelines(struct ctx *x, struct fy_node *root)
{
    struct lw_config *c = x->c;
    if (x->pipes == NULL) {
        if (x->want == NULL) return 0;
        snprintf(x->err, x->errcap, "%s: error: no pipelines: in the job file", x->path);
        return -1;
    }
    if (!fy_node_is_mapping(x->pipes) || fy_node_mapping_is_empty(x->pipes)) /* count: O(n) */
        return fail(x, x->pipes_key, "'pipelines' needs a mapping of NAME: {template: ..., ...}");
    /* the top level holds what the pipelines share; what each has of its own is refused there */
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(root, &it)) != NULL) {
        size_t kl;
        const char *k = fy_node_get_scalar(fy_node_pair_key(pr), &kl);
        for (int i = 0; k && pipeline_only[i]; i++) {
            if (is(k, kl, pipeline_only[i])) {
                return fail(x, fy_node_pair_key(pr),
                            "with pipelines:, '%s' belongs in each pipeline, not at the top",
                            pipeline_only[i]);
            }
        }
    }
    if (x->want == NULL) {
        it = NULL;
        while ((pr = fy_node_mapping_iterate(x->pipes, &it)) != NULL) {
            size_t nl;
            const char *name = pipe_name(x, fy_node_pair_key(pr), &nl);
            if (name == NULL) return -1;
            c->pipelines =
                lw_xrealloc(c->pipelines, (size_t)(c->npipelines + 1) * sizeof *c->pipelines);
            c->pipelines[c->npipelines++] = lw_xstrndup(name, nl);
        }
        return 0;
    }
    if (pipe_index(x) != 0) return -1;
    struct lw_jobfile *jf = x->jf;
    struct pipe_ent key = { .name = x->want, .len = strlen(x->want), .pos = INT_MAX };
    /* the last entry not after key (of equal names, the last in the file) */
    int lo = 0, hi = jf->nents;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ent_cmp(&jf->ents[mid], &key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct pipe_ent *e = lo > 0 ? &jf->ents[lo - 1] : NULL;
    if (e == NULL || e->len != key.len || memcmp(e->name, key.name, key.len) != 0) {
        snprintf(x->err, x->errcap, "%s: error: no pipeline '%s' in the job file", x->path,
                 x->want);
        return -1;
    }
    struct fy_node *hit = e->value, *hit_key = e->key;
    char what[100];
    snprintf(what, sizeof what, "pipeline '%s'", x->want);
    x->in_pipeline = true;
    int rc = section(x, what, hit_key, hit, top_keys, more_top, TOP_EXTRA);
    x->in_pipeline = false;
    return rc;
}

/* no_alias: n and what it holds have no alias (*NAME). libfyaml leaves an alias unresolved, as
 * a node whose text is the anchor's name, which would silently be read as the value; resolving
 * them would let a few lines expand to gigabytes ("billion laughs"). So they are refused. The
 * nesting is at most libfyaml's 64 levels. */
static int
no_alias(struct ctx *x, struct fy_node *n)
{
    if (n == NULL) return 0;
    if (fy_node_is_alias(n)) {
        size_t len;
        const char *a = fy_node_get_scalar(n, &len);
        int line, col;
        mark(n, &line, &col); /* the token's mark is its name's, after the '*' */
        return fail_at(x, line, col > 1 ? col - 1 : col,
                       "'*%.*s' is an alias: a job file takes no YAML anchors and aliases (write "
                       "the value out)",
                       (int)(a && len <= 60 ? len : 0), a ? a : "");
    }
    void *it = NULL;
    if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL)
            if (no_alias(x, item) != 0) return -1;
    } else if (fy_node_is_mapping(n)) {
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(n, &it)) != NULL) {
            if (no_alias(x, fy_node_pair_key(pr)) != 0 || no_alias(x, fy_node_pair_value(pr)) != 0)
                return -1;
        }
    }
    return 0;
}

static bool
empty_root(struct fy_node *n)
{
    size_t len = 0;
    return n == NULL || (fy_node_is_scalar(n) && !fy_node_is_alias(n) &&
                         fy_node_get_scalar(n, &len) != NULL && len == 0);
}

/* one_document: after the first document, the stream ends: a second one not empty ("---") would be
 * silently ignored, so it is an error (as is a syntax error in it). */
static int
one_document(struct ctx *x, struct fy_parser *fyp)
{
    struct fy_document *more;
    while ((more = fy_parse_load_document(fyp)) != NULL && empty_root(fy_document_root(more)))
        fy_parse_document_destroy(fyp, more); /* an empty one ("---" at the end) sets nothing */
    if (more == NULL) return x->err[0] != '\0' ? -1 : 0;
    struct fy_document_state *ds = fy_document_get_document_state(more);
    const struct fy_mark *m = ds ? fy_document_state_start_mark(ds) : NULL;
    int line = m ? m->line + 1 : 0;
    fy_parse_document_destroy(fyp, more);
    if (line > 0) {
        snprintf(x->err, x->errcap,
                 "%s:%d: error: a second YAML document: a job file is one document (pipelines: "
                 "holds several jobs)",
                 x->path, line);
    } else {
        snprintf(x->err, x->errcap,
                 "%s: error: a second YAML document: a job file is one document (pipelines: holds "
                 "several jobs)",
                 x->path);
    }
    return -1;
}

struct keytext {
    const char *p;
    size_t len;
};

static int
keytext_cmp(const void *pa, const void *pb)
{
    const struct keytext *a = pa, *b = pb;
    int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* maybe_duplicate: whether some mapping under n may hold a key twice. libfyaml's own check
 * looks each key up among the mapping's keys before it, a linear search: quadratic in the keys
 * of a mapping, so a job file of thousands of pipelines took seconds to parse. The file is
 * parsed without it (FYPCF_ALLOW_DUPLICATE_KEYS) and its keys checked here in n log n; a key
 * this does not compare (an alias, a sequence or mapping as a key) counts as a possible
 * duplicate, and then the file is parsed again with libfyaml's check, which says where. */
static bool
maybe_duplicate(struct fy_node *n)
{
    if (n == NULL) return false;
    void *it = NULL;
    if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL)
            if (maybe_duplicate(item)) return true;
        return false;
    }
    if (!fy_node_is_mapping(n)) return false;
    int cap = fy_node_mapping_item_count(n), k = 0;
    struct keytext *keys = lw_xcalloc(cap > 0 ? (size_t)cap : 1, sizeof *keys);
    struct fy_node_pair *pr;
    bool dup = false;
    while (!dup && k < cap && (pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        struct fy_node *kn = fy_node_pair_key(pr);
        const char *t = NULL;
        size_t tl = 0;
        if (kn == NULL || (fy_node_is_scalar(kn) && !fy_node_is_alias(kn)))
            t = kn ? fy_node_get_scalar(kn, &tl) : "";
        dup = t == NULL || maybe_duplicate(fy_node_pair_value(pr));
        if (t != NULL) keys[k++] = (struct keytext){ t, tl };
    }
    qsort(keys, (size_t)k, sizeof *keys, keytext_cmp);
    for (int i = 1; i < k && !dup; i++)
        dup = keytext_cmp(&keys[i - 1], &keys[i]) == 0;
    free(keys);
    return dup;
}

int
lw_config_load(const char *path, struct lw_config *c, char *err, size_t errcap)
{
    return lw_config_load_pipeline(path, NULL, c, err, errcap);
}

int
lw_config_load_pipeline(const char *path, const char *want, struct lw_config *c, char *err,
                        size_t errcap)
{
    *c = (struct lw_config){ 0 };
    struct lw_jobfile *jf = lw_jobfile_open(path, err, errcap);
    if (jf == NULL) return -1;
    int rc = lw_config_from(jf, want, c, err, errcap);
    lw_jobfile_free(jf);
    return rc;
}

/* parse: jf's text checked (x->text) into jf->doc, the one document of the file, with
 * libfyaml's flags plus extra. Returns 0, or -1 with x->err set. */
static int
parse(struct lw_jobfile *jf, struct ctx *x, unsigned extra)
{
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL; /* output_fn is used only without a FILE */
    dc.output_fn = diag_out;
    dc.user = jf;
    dc.colorize = false;
    dc.show_source = false;
    jf->diag = fy_diag_create(&dc);
    struct fy_parse_cfg pc = { .flags = FYPCF_QUIET | FYPCF_DEFAULT_PARSE | extra,
                               .diag = jf->diag };
    jf->fyp = fy_parser_create(&pc);
    /* the text checked above, not the file opened again: a file replaced meanwhile (a reload
     * while it is written) could hold what check_text refuses */
    jf->fp = fmemopen((void *)x->text.p, x->text.len, "r");
    if (jf->fyp != NULL && jf->fp != NULL && fy_parser_set_input_fp(jf->fyp, jf->path, jf->fp) == 0)
        jf->doc = fy_parse_load_document(jf->fyp);
    if (jf->doc == NULL) {
        if (x->err[0] == '\0')
            snprintf(x->err, x->errcap, "%s: error: not a YAML document", jf->path);
        return -1;
    }
    return one_document(x, jf->fyp);
}

static void
unparse(struct lw_jobfile *jf)
{
    if (jf->doc) fy_parse_document_destroy(jf->fyp, jf->doc);
    if (jf->fyp) fy_parser_destroy(jf->fyp);
    if (jf->fp) fclose(jf->fp);
    if (jf->diag) fy_diag_destroy(jf->diag);
    jf->doc = NULL;
    jf->fyp = NULL;
    jf->fp = NULL;
    jf->diag = NULL;
}

struct lw_jobfile *
lw_jobfile_open(const char *path, char *err, size_t errcap)
{
    err[0] = '\0';
    struct lw_jobfile *jf = lw_xcalloc(1, sizeof *jf);
    jf->path = lw_xstrndup(path, strlen(path));
    const char *slash = strrchr(path, '/');
    jf->dir = lw_xstrndup(path, slash ? (size_t)(slash - path) + 1 : 0);
    jf->err = err;
    jf->errcap = errcap;
    struct ctx x = { .path = jf->path, .dir = jf->dir, .err = err, .errcap = errcap, .jf = jf };
    /* Read it once here: libfyaml builds no document from a file of only comments and blank
     * lines (that file simply sets nothing), and libfyaml 0.7.12 never returns from a directive
     * line holding invalid UTF-8 (found by fuzz_config), so the bytes are checked first. */
    lw_buf_init(&jf->text);
    int rc = lw_buf_read_file(&jf->text, path);
    if (rc != 0) snprintf(err, errcap, "cannot read the job file %s", path);
    x.text = (struct lw_str){ jf->text.p ? jf->text.p : "", jf->text.len };
    if (rc == 0) rc = check_text(&x, x.text);
    if (rc != 0) goto out;
    if (lw_str_only_comments(x.text)) goto out; /* sets nothing: no document */
    /* parsed without libfyaml's duplicate-key check (maybe_duplicate), then, when that parse
     * fails in any way or a key may be a duplicate, again with it: any error is then said as
     * libfyaml says it, the first in the file */
    for (int strict = 0; strict < 2; strict++) {
        if (strict) {
            unparse(jf);
            err[0] = '\0';
        }
        rc = parse(jf, &x, strict ? 0 : FYPCF_ALLOW_DUPLICATE_KEYS);
        if (rc == 0 && !strict && maybe_duplicate(fy_document_root(jf->doc))) rc = -1;
        if (rc == 0) break;
    }
    if (rc == 0) rc = no_alias(&x, fy_document_root(jf->doc));
out:
    jf->err = NULL; /* libfyaml says nothing more to this caller */
    if (rc != 0) {
        lw_jobfile_free(jf);
        return NULL;
    }
    return jf;
}

int
lw_config_from(struct lw_jobfile *jf, const char *want, struct lw_config *c, char *err,
               size_t errcap)
{
    *c = (struct lw_config){ 0 };
    err[0] = '\0';
    struct fy_node *root = jf->doc ? fy_document_root(jf->doc) : NULL;
    if (root == NULL) return 0; /* blank, only comments, or empty: sets nothing */
    struct ctx x = { .path = jf->path,
                     .dir = jf->dir,
                     .c = c,
                     .err = err,
                     .errcap = errcap,
                     .text = { jf->text.p ? jf->text.p : "", jf->text.len },
                     .want = want,
                     .jf = jf };
    lw_buf_init(&x.val);
    int rc = section(&x, "the job file", NULL, root, top_keys, more_top, TOP_EXTRA);
    if (rc == 0) rc = pipelines(&x, root);
    lw_buf_fini(&x.val);
    if (rc != 0) lw_config_fini(c);
    return rc;
}

const char *
lw_jobfile_path(const struct lw_jobfile *jf)
{
    return jf->path;
}

void
lw_jobfile_free(struct lw_jobfile *jf)
{
    if (jf == NULL) return;
    unparse(jf);
    lw_buf_fini(&jf->text);
    free(jf->ents);
    free(jf->dir);
    free(jf->path);
    free(jf);
}

void
lw_config_fini(struct lw_config *c)
{
    for (int i = 0; i < c->nargs; i++)
        free(c->args[i].text);
    for (int i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->args);
    free(c->files);
    free(c->file_line);
    free(c->file_col);
    for (int i = 0; i < c->npipelines; i++)
        free(c->pipelines[i]);
    free(c->pipelines);
    *c = (struct lw_config){ 0 };
}
