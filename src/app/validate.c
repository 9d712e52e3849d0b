/* --validate: the checks a run would make at start, made without starting it (no broker is
 * connected to, no output opened, no record read), each problem said at the job file's
 * file:line:col when its value came from there. --print-config: the options as a job file. */
#include "lw/validate.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw/kafka.h"
#include "lw/kstate.h"
#include "lw/metrics.h"
#include "lw/rdk.h"
#include "lw/sink.h"
#include "lw/stage.h"
#include "lw/str.h"

/* at: "FILE:LINE:COL: error: " when the string p is a job file's value (optarg points just past
 * the '=' of one of its options, or is one of its files), else "". */
static void
at(const struct lw_opts *o, const char *p, char *buf, size_t cap)
{
    const struct lw_config *c = &o->config;
    buf[0] = '\0';
    for (int i = 0; p != NULL && i < c->nargs; i++) {
        const char *t = c->args[i].text, *eq = strchr(t, '=');
        if ((eq != NULL && p == eq + 1) || (strncmp(t, "-X", 2) == 0 && p == t + 2)) {
            snprintf(buf, cap, "%s:%d:%d: error: ", o->config_file, c->args[i].line,
                     c->args[i].col);
            return;
        }
    }
    for (int i = 0; p != NULL && i < c->nfiles; i++) {
        if (p == c->files[i]) {
            snprintf(buf, cap, "%s:%d:%d: error: ", o->config_file, c->file_line[i],
                     c->file_col[i]);
            return;
        }
    }
}

/* problem: one line on f, at the position of value p (see at()). Returns 1. */
__attribute__((format(printf, 4, 5))) static int
problem(const struct lw_opts *o, FILE *f, const char *p, const char *fmt, ...)
{
    char pos[300];
    at(o, p, pos, sizeof pos);
    fprintf(f, "logwash: %s", pos);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    return 1;
}

static bool
same_file(const struct stat *a, const char *path)
{
    struct stat b;
    return stat(path, &b) == 0 && S_ISREG(b.st_mode) && a->st_dev == b.st_dev &&
           a->st_ino == b.st_ino;
}

/* dead_letter: the file can be created or written, and is none the run reads (the run refuses
 * those too, but only once it starts). */
static int
dead_letter(const struct lw_opts *o, FILE *f)
{
    const char *p = o->dead_letter;
    struct stat st;
    if (stat(p, &st) != 0) {
        if (errno != ENOENT) return problem(o, f, p, "dead-letter file %s: %s", p, strerror(errno));
        const char *slash = strrchr(p, '/');
        char *dir = slash ? lw_xstrndup(p, slash == p ? 1 : (size_t)(slash - p)) : NULL;
        int bad = 0;
        if (dir != NULL && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
            bad = problem(o, f, p, "dead-letter file %s: no directory %s", p, dir);
        else if (access(dir ? dir : ".", W_OK) != 0)
            bad = problem(o, f, p, "dead-letter file %s: cannot create it in %s: %s", p,
                          dir ? dir : ".", strerror(errno));
        free(dir);
        return bad;
    }
    if (S_ISDIR(st.st_mode)) return problem(o, f, p, "dead-letter file %s is a directory", p);
    if (access(p, W_OK) != 0)
        return problem(o, f, p, "dead-letter file %s: %s", p, strerror(errno));
    if (!S_ISREG(st.st_mode)) return 0; /* a device or a pipe: never truncated */
    for (int i = 0; i < o->ninputs; i++) {
        if (strcmp(o->inputs[i], "-") != 0 && same_file(&st, o->inputs[i]))
            return problem(o, f, p, "%s is an input: refusing to overwrite it with dead letters",
                           p);
    }
    if (o->template_file && same_file(&st, o->template_file))
        return problem(o, f, p, "%s is the template: refusing to overwrite it with dead letters",
                       p);
    if (o->config_file && same_file(&st, o->config_file))
        return problem(o, f, p, "%s is the job file: refusing to overwrite it with dead letters",
                       p);
    return 0;
}

/* inputs: each file exists and can be read (not a directory). */
static int
inputs(const struct lw_opts *o, FILE *f)
{
    int bad = 0;
    for (int i = 0; o->from == LW_FROM_FILES && i < o->ninputs; i++) {
        const char *p = o->inputs[i];
        struct stat st;
        if (strcmp(p, "-") == 0) continue;
        if (stat(p, &st) != 0 || access(p, R_OK) != 0)
            bad += problem(o, f, p, "cannot read %s: %s", p, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            bad += problem(o, f, p, "%s is a directory, not a file to read", p);
    }
    return bad;
}

/* kafka_role: librdkafka's configuration of role built and dropped (no client is made, so
 * nothing connects). A refused property is found by building with fewer: its position is the
 * first prefix of -X properties that fails. */
static int
kafka_role(const struct lw_opts *o, FILE *f, enum lw_kafka_role role, char *said, size_t cap)
{
    struct lw_stage_conf c = { .verbosity = -1,
                               .brokers = o->brokers,
                               .group = o->group,
                               .props = o->props,
                               .nprops = o->nprops };
    struct lw_diag d = { 0 };
    void *conf = lw_kafka_conf_new(&c, role, &d);
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    const char *p = o->brokers;
    for (int n = 1; n <= o->nprops; n++) {
        struct lw_diag e = { 0 };
        c.nprops = n;
        if ((conf = lw_kafka_conf_new(&c, role, &e)) != NULL) {
            rd_kafka_conf_destroy(conf);
            continue;
        }
        p = o->props[n - 1];
        break;
    }
    if (strcmp(said, d.msg) == 0) return 0; /* the consumer's problem again */
    snprintf(said, cap, "%s", d.msg);
    return problem(o, f, p, "%s", d.msg);
}

static int
kafka(const struct lw_opts *o, FILE *f)
{
    int bad = 0;
    char said[512] = "";
    if (o->from == LW_FROM_KAFKA) bad += kafka_role(o, f, LW_KAFKA_CONSUMER, said, sizeof said);
    if (o->to == LW_TO_KAFKA || o->dl_topic)
        bad += kafka_role(o, f, LW_KAFKA_PRODUCER, said, sizeof said);
    const char *t[] = { o->to == LW_TO_KAFKA ? o->out_topic : NULL, o->dl_topic };
    for (int i = 0; i < 2; i++) {
        if (t[i] != NULL && !lw_kafka_topic_ok(lw_str_c(t[i])))
            bad += problem(o, f, t[i], "'%s' is not a Kafka topic name", t[i]);
    }
    return bad;
}

/* metrics: --metrics-listen's form (nothing bound), --metrics-file's directory. */
static int
metrics(const struct lw_opts *o, FILE *f)
{
    int bad = 0;
    struct lw_diag d = { 0 };
    if (o->metrics_listen && lw_metrics_addr_ok(o->metrics_listen, &d) != 0)
        bad += problem(o, f, o->metrics_listen, "%s", d.msg);
    const char *p = o->metrics_file;
    const char *slash = p ? strrchr(p, '/') : NULL;
    char *dir = slash ? lw_xstrndup(p, slash == p ? 1 : (size_t)(slash - p)) : NULL;
    struct stat st;
    if (p && dir != NULL && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        bad += problem(o, f, p, "metrics file %s: no directory %s", p, dir);
    else if (p && access(dir ? dir : ".", W_OK) != 0)
        bad += problem(o, f, p, "metrics file %s: cannot write in %s: %s", p, dir ? dir : ".",
                       strerror(errno));
    else if (p && lw_metrics_file_ok(p, &d) != 0)
        bad += problem(o, f, p, "%s", d.msg);
    free(dir);
    return bad;
}

/* tables: every --table loads, within --max-state. */
static int
tables(const struct lw_opts *o, FILE *f)
{
    char err[700];
    int i;
    struct lw_tablewatch *w =
        lw_tablewatch_open(o->tables, o->ntables, o->max_state, -1, &i, err, sizeof err);
    if (w != NULL) {
        lw_tablewatch_free(w);
        return 0;
    }
    return problem(o, f, o->tables[i].arg, "%s", err); /* at its job-file position */
}

int
lw_validate(const struct lw_opts *o, FILE *f)
{
    int bad = inputs(o, f);
    bad += tables(o, f);
    if (o->dead_letter) bad += dead_letter(o, f);
    bad += metrics(o, f);
    bad += kafka(o, f);
    return bad;
}

bool
lw_validate_kexact(const struct logwash_state *s)
{
    return logwash_state_replay_exact(s) && logwash_state_statements(s) <= LW_KSTATE_MAX_STATEMENTS;
}

/* strategy: the consumer's partition.assignment.strategy as given (-X, with or without
 * "consumer.", or the job file's kafka properties; the last one given), or NULL */
static const char *
strategy(const struct lw_opts *o)
{
    static const char key[] = "partition.assignment.strategy=";
    const char *v = NULL;
    for (int i = 0; i < o->nprops; i++) {
        const char *kv = o->props[i];
        if (strncmp(kv, "producer.", 9) == 0) continue;
        if (strncmp(kv, "consumer.", 9) == 0) kv += 9;
        if (strncmp(kv, key, sizeof key - 1) == 0) v = kv + sizeof key - 1;
    }
    return v;
}

int
lw_validate_state(const struct lw_opts *o, const struct logwash_state *s, FILE *f)
{
    const struct lw_sink_ops *so = lw_sink_find(o->to == LW_TO_KAFKA ? "kafka" : "stdout");
    int bad = 0;
    if (o->from == LW_FROM_KAFKA && !lw_validate_kexact(s)) { /* files to Kafka: no replay */
        fprintf(f,
                "logwash: with Kafka, state is accepted only for Kafka input whose replay "
                "from the committed offsets rebuilds it exactly: seen(), up to %d "
                "event-time tumbling, sliding, session or count window statements (window "
                "tumbling SIZE at EXPR, window sliding SIZE every STEP at EXPR, window "
                "session GAP at EXPR, with or without late, window count N timeout T at "
                "EXPR), or seen() with such windows; windows without at run on the clock "
                "(from files or stdin to Kafka any state is accepted: logwash(1) KAFKA)\n",
                LW_KSTATE_MAX_STATEMENTS);
        bad++;
    }
    /* the cooperative protocol keeps partitions across a rebalance: the state would miss the
     * messages of those gone, so the member stops (exit 4, kstate.c) and its restart takes
     * partitions from the next member, which stops in turn: refused before it starts */
    const char *st = o->from == LW_FROM_KAFKA ? strategy(o) : NULL;
    if (st != NULL && strstr(st, "cooperative") != NULL) {
        fprintf(f,
                "logwash: with state (seen() or windows) and Kafka input, "
                "partition.assignment.strategy=%.100s is refused: a rebalance that keeps some "
                "partitions would leave the state without the messages of those gone (the "
                "member would stop, and its restart would stop the next one); use the eager "
                "protocol (the default, range,roundrobin; logwash(1) KAFKA)\n",
                st);
        bad++;
    }
    for (uint32_t w = 0; so->messages && so->bad_to && w < logwash_state_statements(s); w++) {
        size_t tl;
        const char *to = logwash_state_topic(s, w, &tl), *why;
        if (to == NULL || (why = so->bad_to((struct lw_str){ to, tl })) == NULL) continue;
        fprintf(f, "logwash: window statement %u: to: '%.*s' %s\n", w + 1,
                (int)(tl > 300 ? 300 : tl), to, why);
        bad++;
    }
    return bad;
}

int
lw_validate_template(const struct lw_opts *o, const struct logwash_template *t, FILE *f)
{
    if (!logwash_template_uses_state(t)) return 0;
    struct logwash_state *s = logwash_state_new(t, o->max_state);
    if (s == NULL) lw_oom(sizeof s);
    int bad = lw_validate_state(o, s, f);
    logwash_state_free(s);
    return bad;
}

/* --print-config */

static void put(FILE *f, const char *s, bool interp);
static void put_path(FILE *f, const char *p);

/* put_tables: tables: as logwash.yaml(5) has them, each with all its options. */
static void
put_tables(const struct lw_opts *o, FILE *f)
{
    static const char *const format[] = { "auto", "csv", "jsonl" };
    fputs(o->ntables ? "tables:\n" : "tables: {}\n", f);
    for (int i = 0; i < o->ntables; i++) {
        const struct lw_table_spec *s = &o->tables[i];
        fprintf(f, "  %s:\n    file: ", s->name);
        put_path(f, s->path);
        fprintf(f, "\n    ip: %s\n    last_wins: %s\n", s->ip ? "true" : "false",
                s->last_wins ? "true" : "false");
        if (s->format != LOGWASH_TABLE_AUTO) fprintf(f, "    format: %s\n", format[s->format]);
        if (s->key) {
            fputs("    key: ", f);
            put(f, s->key, true);
            fputc('\n', f);
        }
    }
}

/* put: s as a YAML scalar: plain when that is safe, else double-quoted with escapes; a '$' is
 * written $$ when interp (the job file interpolates the value, logwash.yaml(5)). */
static void
put(FILE *f, const char *s, bool interp)
{
    bool plain = isalnum((unsigned char)s[0]) || s[0] == '/' || s[0] == '_' || s[0] == '.';
    for (const char *c = s; *c && plain; c++)
        plain = isalnum((unsigned char)*c) || strchr("_./+-", *c) != NULL;
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c == '$' && interp)
            fputs("$$", f);
        else if (*c == '\n')
            fputs("\\n", f);
        else if (*c == '\t')
            fputs("\\t", f);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(f, "\\x%02x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/* path: a file name made absolute (a job file's are relative to its own directory). */
static void
put_path(FILE *f, const char *p)
{
    char cwd[4096];
    if (p[0] == '/' || strcmp(p, "-") == 0 || getcwd(cwd, sizeof cwd) == NULL) {
        put(f, p, true);
        return;
    }
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *abs = lw_xmalloc(n);
    snprintf(abs, n, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, strncmp(p, "./", 2) ? p : p + 2);
    put(f, abs, true);
    free(abs);
}

static void
put_list(FILE *f, const char *key, char *const *v, int n, bool paths)
{
    fprintf(f, "%s: [", key);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        if (paths)
            put_path(f, v[i]);
        else
            put(f, v[i], true);
    }
    fputs("]\n", f);
}

/* secret: a librdkafka property whose value is not printed (sasl.password, ssl.key.password,
 * sasl.oauthbearer.client.secret, ssl.keystore.password, ...; sasl.oauthbearer.config, which
 * librdkafka counts as sensitive: it may hold the principal and extension values). */
static bool
secret(const char *k, size_t n)
{
    static const char *const words[] = { "password", "secret", "key", "token",
                                         "oauthbearer.config" };
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= n; i++) {
            if (strncasecmp(k + i, words[w], wl) == 0) return true;
        }
    }
    return false;
}

/* props: the -X properties of one section (prefix "", "consumer." or "producer."), each key
 * once with its last value (librdkafka's rule, and YAML allows no repeated key). */
static void
props(FILE *f, const struct lw_opts *o, const char *section, const char *prefix)
{
    size_t pl = strlen(prefix);
    bool any = false;
    for (int i = 0; i < o->nprops; i++) {
        const char *kv = o->props[i], *k = kv + pl, *eq = strchr(kv, '=');
        bool other =
            pl == 0 && (strncmp(kv, "consumer.", 9) == 0 || strncmp(kv, "producer.", 9) == 0);
        if (other || strncmp(kv, prefix, pl) != 0 || eq == NULL || eq < k) continue;
        size_t kl = (size_t)(eq - k);
        bool later = false;
        for (int j = i + 1; j < o->nprops && !later; j++)
            later = strncmp(o->props[j], kv, (size_t)(eq - kv) + 1) == 0;
        if (later) continue;
        if (!any) fprintf(f, "  %s:\n", section);
        any = true;
        char *key = lw_xstrndup(k, kl);
        fputs("    ", f);
        put(f, key, false);
        fputs(": ", f);
        put(f, secret(k, kl) ? "***" : eq + 1, true);
        fputc('\n', f);
        free(key);
    }
}

int
lw_print_config(const struct lw_opts *o, FILE *f)
{
    static const char *const on_error[] = { "warn", "skip", "abort" };
    bool kafka = o->from == LW_FROM_KAFKA || o->to == LW_TO_KAFKA || o->dl_topic;
    fprintf(f, "# logwash --print-config: the effective job (job file, then command line; "
               "defaults shown)\n");
    if (o->template_file) {
        fputs("template: ", f);
        put_path(f, o->template_file);
    } else {
        fputs("template_text: ", f);
        put(f, o->template_text, false); /* template_text is not interpolated */
    }
    fputc('\n', f);
    put_list(f, "patterns", (char *const *)o->patterns, o->npatterns, true);
    put_list(f, "lib", (char *const *)o->libs, o->nlibs, true);
    put_tables(o, f);
    if (o->input == LOGWASH_INPUT_DEFAULT)
        fputs("# input: as the template says (input json), else text\n", f);
    else
        fprintf(f, "input: %s\n", o->input == LOGWASH_INPUT_JSON ? "json" : "text");
    fprintf(f, "output: %s\n", o->output == LOGWASH_OUTPUT_TEXT ? "text" : "json");
    fprintf(f, "on_error: %s\n", on_error[o->on_error]);
    fputs("tz: ", f);
    put(f, o->tz_name ? o->tz_name : "UTC", true);
    fputc('\n', f);
    if (o->now_text) {
        fputs("now: ", f);
        put(f, o->now_text, true);
        fputc('\n', f);
    } else {
        fputs("# now: the clock at start\n", f);
    }
    fprintf(f, "unbuffered: %s\n", o->unbuffered ? "true" : "false");
    fprintf(f, "no_jit: %s\n", o->no_jit ? "true" : "false");
    if (o->jobs > 0)
        fprintf(f, "workers: %d\n", o->jobs);
    else
        fputs("# workers: one per CPU (at most 8), 1 for a terminal\n", f);
    if (o->explain > 0) fprintf(f, "explain: %d\n", o->explain);
    fputs("source:\n", f);
    if (o->from == LW_FROM_KAFKA) {
        fputs("  type: kafka\n  ", f);
        put_list(f, "topics", o->topics, o->ntopics, false);
        fputs("  group: ", f);
        put(f, o->group ? o->group : "logwash", true);
        fprintf(f, "\n  exit_at_eof: %s\n", o->exit_at_eof ? "true" : "false");
    } else {
        static char *const dash[] = { "-" };
        fputs("  type: files\n  ", f);
        put_list(f, "files", o->ninputs ? o->inputs : dash, o->ninputs ? o->ninputs : 1, true);
    }
    fprintf(f, "sink:\n  type: %s\n", o->to == LW_TO_KAFKA ? "kafka" : "stdout");
    if (o->to == LW_TO_KAFKA) {
        fputs("  topic: ", f);
        put(f, o->out_topic, true);
        fputc('\n', f);
    }
    if (o->dead_letter || o->dl_topic) {
        fprintf(f, "dead_letter:\n  %s: ", o->dead_letter ? "file" : "topic");
        if (o->dead_letter)
            put_path(f, o->dead_letter);
        else
            put(f, o->dl_topic, true);
        fputc('\n', f);
    } else {
        fputs("# dead_letter: none (failed records are said on stderr)\n", f);
    }
    fprintf(f,
            "limits:\n  max_line: %zu\n  max_steps: %llu\n  regex_match_limit: %lu\n"
            "  regex_depth_limit: %lu\n  regex_budget: %llu\n  max_output: %zu\n"
            "  max_memory: %zu\n  max_state: %zu\n",
            o->max_line, (unsigned long long)o->limits.steps, (unsigned long)o->limits.match_limit,
            (unsigned long)o->limits.depth_limit, (unsigned long long)o->limits.regex_budget,
            o->limits.max_output, o->limits.max_memory, o->max_state);
    fputs("multiline:\n", f);
    const char *ml[] = { "start", o->ml_start, "continue", o->ml_continue };
    for (int i = 0; i < 4; i += 2) {
        if (ml[i + 1] == NULL) continue;
        fprintf(f, "  %s: ", ml[i]);
        put(f, ml[i + 1], true);
        fputc('\n', f);
    }
    fprintf(f, "  indent: %s\n  max_lines: %llu\n  max_bytes: %zu\n  timeout: %lld\n",
            o->ml_indent ? "true" : "false", (unsigned long long)o->ml_max_lines, o->ml_max_bytes,
            (long long)o->ml_timeout_ms);
    fputs("kafka:\n", f);
    if (kafka && o->brokers) {
        fputs("  brokers: ", f);
        put(f, o->brokers, true);
        fputc('\n', f);
    }
    fprintf(f, "  flush_timeout_ms: %llu\n  stats_interval: %llu\n",
            (unsigned long long)o->flush_timeout_ms, (unsigned long long)(o->stats_ms / 1000));
    fprintf(f, "  partition_idle: %lld\n", (long long)(o->partition_idle_ms / 1000));
    props(f, o, "properties", "");
    props(f, o, "consumer", "consumer.");
    props(f, o, "producer", "producer.");
    if (o->metrics_listen || o->metrics_file) {
        fputs("metrics:\n", f);
        if (o->metrics_listen) {
            fputs("  listen: ", f);
            put(f, o->metrics_listen, true);
            fputc('\n', f);
        }
        if (o->metrics_file) {
            fputs("  file: ", f);
            put_path(f, o->metrics_file);
            fputc('\n', f);
        }
        fprintf(f, "  interval: %llu\n", (unsigned long long)(o->metrics_interval_ms / 1000));
        if (o->metrics_listen) fprintf(f, "  reload: %s\n", o->metrics_reload ? "true" : "false");
    }
    return fflush(f) != 0 || ferror(f) ? -1 : 0;
}
