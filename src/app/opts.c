/* The command line: one getopt_long table whose entries carry their help text, so --help and
 * the man-page check (tests/man-check.sh) both see every option. */
#include "lw/opts.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libfyaml.h>
#include <pcre2.h>

#include "logwash.h"
#include "lw/kafka.h"
#include "lw/rdk.h"
#include "lw/str.h"

/* The version and the default limits are liblogwash's (logwash.h): one place for both. */
#define LW_VERSION LOGWASH_VERSION
#define LW_XSTR(x) LW_STR(x)
#define LW_STR(x)  #x
#ifndef LW_DATADIR /* the Makefile passes $(PREFIX)/share/logwash */
#define LW_DATADIR "/usr/local/share/logwash"
#endif
#ifndef LW_COMMIT /* the Makefile passes `git describe --always --dirty` when it can */
#define LW_COMMIT "unknown"
#endif

enum {
    O_CHECK = 256,
    O_DISASM,
    O_ON_ERROR,
    O_DEAD_LETTER,
    O_UNBUFFERED,
    O_NOW,
    O_TZ,
    O_MAX_LINE,
    O_ML_START,
    O_ML_CONTINUE,
    O_ML_INDENT,
    O_ML_MAX_LINES,
    O_ML_MAX_BYTES,
    O_MAX_STEPS,
    O_MATCH_LIMIT,
    O_DEPTH_LIMIT,
    O_REGEX_BUDGET,
    O_MAX_OUTPUT,
    O_MAX_MEMORY,
    O_NO_JIT,
    O_PATTERNS,
    O_LIB,
    O_VERSION,
    O_LIST_TEMPLATES,
    O_LIST_PATTERNS,
    O_FROM,
    O_TO,
    O_BROKERS,
    O_TOPIC,
    O_GROUP,
    O_OUT_TOPIC,
    O_DL_TOPIC,
    O_FLUSH_TIMEOUT,
    O_ML_TIMEOUT,
    O_STATS,
    O_PART_IDLE,
    O_EXIT_EOF,
    O_VALIDATE,
    O_PRINT_CONFIG,
    O_NO_UNBUFFERED,
    O_JIT,
    O_NO_ML_INDENT,
    O_NO_EXIT_EOF,
    O_METRICS_LISTEN,
    O_METRICS_FILE,
    O_METRICS_INTERVAL,
    O_TABLE,
    O_MAX_STATE,
    O_EXPLAIN,
    O_NO_EXPLAIN,
    O_METRICS_RELOAD,
    O_NO_METRICS_RELOAD,
};

static const struct {
    struct option o;
    const char *arg, *help;
} table[] = {
    { { "config", required_argument, NULL, 'c' },
      "FILE",
      "a YAML job file (logwash.yaml(5)); command-line options override it" },
    { { "file", required_argument, NULL, 'f' }, "FILE", "read the template from FILE" },
    { { "expr", required_argument, NULL, 'e' }, "TEXT", "the template itself, as an argument" },
    { { "input", required_argument, NULL, 'i' },
      "text|json",
      "decode records as text lines (default) or JSON" },
    { { "output", required_argument, NULL, 'o' },
      "json|text",
      "encode emitted records as JSON lines (default) or text" },
    { { "check", no_argument, NULL, O_CHECK }, NULL, "compile the template and exit" },
    { { "validate", no_argument, NULL, O_VALIDATE },
      NULL,
      "check the job file, options, patterns, template and files without running; exit 0 or 2" },
    { { "print-config", no_argument, NULL, O_PRINT_CONFIG },
      NULL,
      "print the effective configuration as a job file (secrets masked) and exit" },
    { { "disasm", no_argument, NULL, O_DISASM },
      NULL,
      "print the bytecode with template positions and exit" },
    { { "on-error", required_argument, NULL, O_ON_ERROR },
      "warn|skip|abort",
      "for a failed record: warn on stderr (default), skip quietly, or stop" },
    { { "dead-letter", required_argument, NULL, O_DEAD_LETTER },
      "FILE",
      "write each failed record to FILE as a JSON line" },
    { { "unbuffered", no_argument, NULL, O_UNBUFFERED }, NULL, "write output after each record" },
    { { "explain", optional_argument, NULL, O_EXPLAIN },
      "N",
      "explain on stderr each record rejected or failed, or where a match(), grok() or dissect() "
      "did not match, as logwash explain does (the first N, default 10; runs one thread)" },
    { { "jobs", required_argument, NULL, 'j' },
      "N",
      "run the template in N threads; output as with 1 (default: one per CPU; 1 for a terminal)" },
    { { "now", required_argument, NULL, O_NOW },
      "TIME",
      "fix now() to TIME (RFC 3339, or epoch seconds)" },
    { { "tz", required_argument, NULL, O_TZ },
      "ZONE",
      "zone for time stamps without one: UTC (default), +hh:mm or an IANA name" },
    { { "max-line", required_argument, NULL, O_MAX_LINE },
      "BYTES",
      "longest record (default 1048576)" },
    { { "multiline-start", required_argument, NULL, O_ML_START },
      "RE",
      "join lines into records: a line matching RE starts one, others continue it" },
    { { "multiline-continue", required_argument, NULL, O_ML_CONTINUE },
      "RE",
      "join lines into records: a line matching RE continues the one before" },
    { { "multiline-indent", no_argument, NULL, O_ML_INDENT },
      NULL,
      "join lines into records: a line starting with a space or tab continues one" },
    { { "multiline-max-lines", required_argument, NULL, O_ML_MAX_LINES },
      "N",
      "lines per joined record; more are cut and skipped (default 1000)" },
    { { "multiline-max-bytes", required_argument, NULL, O_ML_MAX_BYTES },
      "BYTES",
      "bytes per joined record; more are cut and skipped (default: --max-line)" },
    { { "multiline-timeout", required_argument, NULL, O_ML_TIMEOUT },
      "MS",
      "hand out a joined record after MS ms without input (default 1000; 0: never)" },
    { { "max-steps", required_argument, NULL, O_MAX_STEPS },
      "N",
      "instructions per record (default " LW_XSTR(LOGWASH_DEFAULT_STEPS) ")" },
    { { "regex-match-limit", required_argument, NULL, O_MATCH_LIMIT },
      "N",
      "pcre2 match limit per regex call (default " LW_XSTR(LOGWASH_DEFAULT_MATCH_LIMIT) ")" },
    { { "regex-depth-limit", required_argument, NULL, O_DEPTH_LIMIT },
      "N",
      "pcre2 depth limit per regex call (default " LW_XSTR(LOGWASH_DEFAULT_DEPTH_LIMIT) ")" },
    { { "regex-budget", required_argument, NULL, O_REGEX_BUDGET },
      "BYTES",
      "regex work per record: bytes searched plus backtracking (default " LW_XSTR(
          LOGWASH_DEFAULT_REGEX_BUDGET) ")" },
    { { "max-output", required_argument, NULL, O_MAX_OUTPUT },
      "BYTES",
      "output bytes per record (default " LW_XSTR(LOGWASH_DEFAULT_MAX_OUTPUT) ")" },
    { { "max-memory", required_argument, NULL, O_MAX_MEMORY },
      "BYTES",
      "working memory per record (default " LW_XSTR(LOGWASH_DEFAULT_MAX_MEMORY) ")" },
    { { "max-state", required_argument, NULL, O_MAX_STATE },
      "BYTES",
      "memory for lookup tables, all together (default " LW_XSTR(LOGWASH_DEFAULT_MAX_STATE) ")" },
    { { "table", required_argument, NULL, O_TABLE },
      "NAME[:OPTS]=FILE",
      "a lookup table for lookup()/lookup_ip() from a CSV or JSON-lines FILE (repeatable; OPTS: "
      "ip, csv, jsonl, key=COLUMN, last-wins)" },
    { { "no-jit", no_argument, NULL, O_NO_JIT }, NULL, "do not JIT-compile regexes" },
    { { "from", required_argument, NULL, O_FROM },
      "files|kafka",
      "read records from FILEs/stdin (default) or a Kafka consumer group" },
    { { "to", required_argument, NULL, O_TO },
      "stdout|kafka",
      "write output to stdout (default) or to Kafka topics" },
    { { "brokers", required_argument, NULL, O_BROKERS },
      "HOST:PORT,...",
      "Kafka bootstrap brokers" },
    { { "topic", required_argument, NULL, O_TOPIC },
      "TOPIC[,...]",
      "Kafka topics to consume (repeatable)" },
    { { "group", required_argument, NULL, O_GROUP },
      "ID",
      "Kafka consumer group (default logwash)" },
    { { "out-topic", required_argument, NULL, O_OUT_TOPIC },
      "TOPIC",
      "Kafka topic for emitted records without 'to'" },
    { { "dead-letter-topic", required_argument, NULL, O_DL_TOPIC },
      "TOPIC",
      "send failed records to this Kafka topic as JSON" },
    { { "property", required_argument, NULL, 'X' },
      "KEY=VALUE",
      "a librdkafka property (consumer./producer. prefix: one client only)" },
    { { "flush-timeout", required_argument, NULL, O_FLUSH_TIMEOUT },
      "MS",
      "wait this long for Kafka deliveries at exit or revocation, and for a blocked "
      "output's reader after a stop signal (default 30000)" },
    { { "stats-interval", required_argument, NULL, O_STATS },
      "SECONDS",
      "Kafka: a summary line on stderr this often (default 60, 0: never)" },
    { { "partition-idle", required_argument, NULL, O_PART_IDLE },
      "SECONDS",
      "Kafka windows: a partition with no record for this long stops holding windows back "
      "(default 30)" },
    { { "exit-at-eof", no_argument, NULL, O_EXIT_EOF },
      NULL,
      "Kafka: stop once every assigned partition has been read to its end" },
    { { "metrics-listen", required_argument, NULL, O_METRICS_LISTEN },
      "ADDR:PORT",
      "serve Prometheus metrics at http://ADDR:PORT/metrics (port 0: any free one)" },
    { { "metrics-file", required_argument, NULL, O_METRICS_FILE },
      "PATH",
      "write the metrics as JSON to PATH (replaced atomically) every interval and at exit" },
    { { "metrics-interval", required_argument, NULL, O_METRICS_INTERVAL },
      "SECONDS",
      "how often --metrics-file is rewritten (default 10)" },
    { { "metrics-reload", no_argument, NULL, O_METRICS_RELOAD },
      NULL,
      "POST /-/reload on --metrics-listen reloads the job (as SIGHUP does)" },
    { { "no-metrics-reload", no_argument, NULL, O_NO_METRICS_RELOAD },
      NULL,
      "turn --metrics-reload (a job file's metrics.reload: true) off" },
    { { "patterns", required_argument, NULL, O_PATTERNS },
      "DIR",
      "grok pattern files: every file of DIR, by name (repeatable); later ones override" },
    { { "lib", required_argument, NULL, O_LIB },
      "DIR",
      "where 'import \"NAME.lw\"' looks after the importing file's directory (repeatable, in "
      "order)" },
    { { "no-unbuffered", no_argument, NULL, O_NO_UNBUFFERED },
      NULL,
      "turn --unbuffered (a job file's unbuffered: true) off" },
    { { "jit", no_argument, NULL, O_JIT }, NULL, "turn --no-jit (a job file's no_jit: true) off" },
    { { "no-multiline-indent", no_argument, NULL, O_NO_ML_INDENT },
      NULL,
      "turn --multiline-indent (a job file's multiline.indent: true) off" },
    { { "no-exit-at-eof", no_argument, NULL, O_NO_EXIT_EOF },
      NULL,
      "turn --exit-at-eof (a job file's source.exit_at_eof: true) off" },
    { { "no-explain", no_argument, NULL, O_NO_EXPLAIN },
      NULL,
      "turn --explain (a job file's explain) off" },
    { { "quiet", no_argument, NULL, 'q' }, NULL, "no warnings or summary on stderr" },
    { { "verbose", no_argument, NULL, 'v' }, NULL, "print a summary of the counters at the end" },
    { { "version", no_argument, NULL, O_VERSION }, NULL, "print the version and exit" },
    { { "list-templates", no_argument, NULL, O_LIST_TEMPLATES },
      NULL,
      "print the shipped templates (-f @NAME) with their first comment line, and exit" },
    { { "list-patterns", no_argument, NULL, O_LIST_PATTERNS },
      NULL,
      "print the grok pattern names (built-in, --patterns), or those of argument NAME: its "
      "definition, fields, and with -v its expansion; exit" },
    { { "help", no_argument, NULL, 'h' }, NULL, "print this help and exit" },
};
#define NOPTS (sizeof table / sizeof table[0])

/* exe_datadir: the share/logwash directory beside the running binary's bin/ (PREFIX/bin/logwash
 * -> PREFIX/share/logwash), so an install moved or staged elsewhere than the PREFIX it was built
 * for finds its own templates; "" when there is none or it is LW_DATADIR itself. */
static void
exe_datadir(char *dir, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    dir[0] = '\0';
    if (n <= 0) return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL) return;
    *slash = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL || strcmp(slash, "/bin") != 0) return;
    *slash = '\0';
    char path[4096 + 32], *real = NULL, *installed = NULL;
    snprintf(path, sizeof path, "%s/share/logwash", exe);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        real = realpath(path, NULL);
        installed = realpath(LW_DATADIR, NULL);
        if (real != NULL && (installed == NULL || strcmp(real, installed) != 0) &&
            strlen(real) < cap)
            snprintf(dir, cap, "%s", real);
    }
    free(real);
    free(installed);
}

/* template_dirs: the directories shipped templates are looked up in, ':' between them:
 * $LOGWASH_TEMPLATES, the templates beside the binary (exe_datadir), LW_DATADIR/templates;
 * then, with libs, each --lib directory. */
static void
template_dirs(const struct lw_opts *o, bool libs, char *dirs, size_t cap)
{
    const char *env = getenv("LOGWASH_TEMPLATES");
    char exe[4096];
    if (env != NULL && *env == '\0') env = NULL;
    exe_datadir(exe, sizeof exe);
    int n = snprintf(dirs, cap, "%s%s%s%s%s", env ? env : "", env ? ":" : "", exe,
                     exe[0] ? "/templates:" : "", LW_DATADIR "/templates");
    if (n < 0 || (size_t)n >= cap) { /* too long to search whole: the installed ones only */
        snprintf(dirs, cap, "%s", LW_DATADIR "/templates");
        return;
    }
    for (int i = 0; libs && i < o->nlibs; i++) {
        size_t len = strlen(dirs);
        if (strchr(o->libs[i], ':') != NULL) continue; /* cannot be listed: ':' separates */
        if (snprintf(dirs + len, cap - len, ":%s", o->libs[i]) >= (int)(cap - len)) {
            dirs[len] = '\0';
            break;
        }
    }
}

/* lw_opts_find_template: -f @NAME is a shipped template: NAME or NAME.lw in the first of
 * template_dirs() (then the --lib directories) that has it (not found: a usage error). So is -f
 * NAME when no file NAME exists and NAME names no directory; not found, the name stays as it is,
 * and reading it reports it. */
int
lw_opts_find_template(struct lw_opts *o, char *err, size_t errcap)
{
    const char *name = o->template_file;
    bool at = name[0] == '@';
    if (at) {
        name++;
    } else if (strchr(name, '/') != NULL || access(name, F_OK) == 0) {
        return 0;
    }
    if (*name == '\0' || strchr(name, '/') != NULL) {
        if (!at) return 0;
        snprintf(err, errcap, "-f @NAME names a shipped template: '%s' is no name", name);
        return -1;
    }
    char dirs[8192];
    template_dirs(o, true, dirs, sizeof dirs);
    for (char *d = dirs, *next; d != NULL; d = next) {
        next = strchr(d, ':');
        if (next) *next++ = '\0';
        if (*d == '\0') continue;
        for (int ext = 0; ext < 2; ext++) {
            char path[4096 + 256];
            struct stat st;
            int n = snprintf(path, sizeof path, "%s/%s%s", d, name, ext ? ".lw" : "");
            if (n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
                access(path, R_OK) == 0) {
                o->template_found = lw_xstrndup(path, strlen(path));
                o->template_file = o->template_found;
                return 0;
            }
        }
    }
    if (!at) return 0;
    template_dirs(o, true, dirs, sizeof dirs);
    /* did you mean: the nearest NAME.lw of those directories, a third of its letters apart */
    char best[256] = "";
    size_t bestd = strlen(name) / 3 + 1;
    char scan[8192];
    memcpy(scan, dirs, sizeof scan);
    for (char *d = scan, *next; d != NULL; d = next) {
        next = strchr(d, ':');
        if (next) *next++ = '\0';
        DIR *dp = *d ? opendir(d) : NULL;
        for (struct dirent *e; dp && (e = readdir(dp)) != NULL;) {
            size_t len = strlen(e->d_name);
            if (len <= 3 || len - 3 >= sizeof best || strcmp(e->d_name + len - 3, ".lw") != 0)
                continue;
            size_t dd = lw_str_distance(lw_str_c(name), (struct lw_str){ e->d_name, len - 3 });
            if (dd < bestd) {
                bestd = dd;
                snprintf(best, sizeof best, "%.*s", (int)(len - 3), e->d_name);
            }
        }
        if (dp) closedir(dp);
    }
    if (best[0])
        snprintf(err, errcap, "no shipped template '%s' (did you mean @%s?) in %s", name, best,
                 dirs);
    else
        snprintf(err, errcap, "no shipped template '%s' in %s (logwash --list-templates)", name,
                 dirs);
    return -1;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_templates: each shipped template once (an earlier directory hides a later one's of the
 * same name), sorted, with the first line of its header comment. */
static void
list_templates(const struct lw_opts *o, FILE *out)
{
    char dirs[8192], **names = NULL, **paths = NULL;
    size_t n = 0;
    template_dirs(o, false, dirs, sizeof dirs);
    for (char *d = dirs, *next; d != NULL; d = next) {
        next = strchr(d, ':');
        if (next) *next++ = '\0';
        DIR *dp = *d ? opendir(d) : NULL;
        for (struct dirent *e; dp && (e = readdir(dp)) != NULL;) {
            size_t len = strlen(e->d_name);
            if (len <= 3 || strcmp(e->d_name + len - 3, ".lw") != 0) continue;
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = strlen(names[i]) == len - 3 && memcmp(names[i], e->d_name, len - 3) == 0;
            if (seen) continue;
            names = lw_xrealloc(names, (n + 1) * sizeof *names);
            paths = lw_xrealloc(paths, (n + 1) * sizeof *paths);
            names[n] = lw_xstrndup(e->d_name, len - 3);
            paths[n] = lw_xmalloc(strlen(d) + len + 2);
            sprintf(paths[n], "%s/%s", d, e->d_name);
            n++;
        }
        if (dp) closedir(dp);
    }
    /* sort names and paths together: the path follows its name in a pair array */
    char **pairs = lw_xmalloc((n ? n : 1) * 2 * sizeof *pairs);
    for (size_t i = 0; i < n; i++) {
        pairs[2 * i] = names[i];
        pairs[2 * i + 1] = paths[i];
    }
    qsort(pairs, n, 2 * sizeof *pairs, by_name);
    for (size_t i = 0; i < n; i++) {
        char line[256] = "";
        FILE *f = fopen(pairs[2 * i + 1], "r");
        if (f && fgets(line, sizeof line, f) && line[0] == '#') {
            line[strcspn(line, "\n")] = '\0';
        } else {
            line[0] = '\0';
        }
        if (f) fclose(f);
        const char *desc = line[0] == '#' ? line + 1 + (line[1] == ' ') : "";
        fprintf(out, "%-20s %s\n", pairs[2 * i], desc);
        free(pairs[2 * i]);
        free(pairs[2 * i + 1]);
    }
    free(pairs);
    free(names);
    free(paths);
}

/* version: what this binary is and the libraries it runs with (not those it was built with). */
static void
version(FILE *f)
{
    char pv[32] = "?";
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_VERSION, pv);
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    fprintf(f, "logwash %s (commit %s)\n", LW_VERSION, LW_COMMIT);
    fprintf(f, "pcre2 %s (JIT %s), librdkafka %s, libfyaml %s\n", pv,
            jit ? "available" : "not available", lw_rdk_version(), fy_library_version());
}

/* unknown: the message for an option getopt_long did not take: the long options it is a prefix
 * of when there are several ("ambiguous"), else the nearest one by edit distance. */
static void
unknown(const char *arg, char *err, size_t errcap)
{
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        snprintf(err, errcap, "unknown option '%s'", arg);
        return;
    }
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    char cands[256] = "";
    int nprefix = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        const char *o = table[i].o.name;
        if (strlen(o) == len && strncmp(o, name, len) == 0) { /* --check=yes */
            snprintf(err, errcap, "option '--%s' takes no argument", o);
            return;
        }
        if (strncmp(o, name, len) == 0) {
            size_t u = strlen(cands);
            if (nprefix < 6)
                snprintf(cands + u, sizeof cands - u, "%s--%s", nprefix ? ", " : "", o);
            else if (nprefix == 6)
                snprintf(cands + u, sizeof cands - u, ", ...");
            nprefix++;
        }
    }
    if (nprefix > 1) {
        snprintf(err, errcap, "ambiguous option '--%.*s' (%s)", (int)len, name, cands);
        return;
    }
    size_t best = 99;
    const char *near = NULL;
    for (size_t i = 0; i < NOPTS; i++) {
        size_t dd = lw_str_distance((struct lw_str){ name, len }, lw_str_c(table[i].o.name));
        if (dd < best) {
            best = dd;
            near = table[i].o.name;
        }
    }
    if (near != NULL && best <= 2 && best * 2 <= len) {
        snprintf(err, errcap, "unknown option '--%.*s' (did you mean --%s?)", (int)len, name, near);
    } else {
        snprintf(err, errcap, "unknown option '--%.*s'", (int)len, name);
    }
}

static void
help(FILE *f)
{
    fprintf(f, "usage: logwash [OPTIONS] (-f TEMPLATE | -e TEXT | -c JOB.yaml) [FILE...]\n"
               "Run a template over each record of FILEs (or stdin) and write the results.\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char lhs[64];
        const struct option *o = &table[i].o;
        int n = o->val < 256 ? snprintf(lhs, sizeof lhs, "-%c, --%s", o->val, o->name)
                             : snprintf(lhs, sizeof lhs, "    --%s", o->name);
        if (table[i].arg) /* an optional argument only as --NAME=ARG */
            snprintf(lhs + n, sizeof lhs - (size_t)n,
                     table[i].o.has_arg == optional_argument ? "[=%s]" : " %s", table[i].arg);
        fprintf(f, "  %-34s %s\n", lhs, table[i].help);
    }
    fprintf(f, "\nExit status: 0 ok, 1 some records failed, 2 usage error, 3 template error,\n"
               "4 I/O error. See logwash(1) and logwash-template(7).\n");
}

static int
number(const char *s, uint64_t *out, const char *name, char *err, size_t errcap)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || *s == '-' || v == 0) {
        snprintf(err, errcap, "--%s needs a positive integer, found '%s'", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* add_table: --table SPEC (cli: from the command line). A name given again replaces the job
 * file's table of that name from the command line; else it is an error. */
static int
add_table(struct lw_opts *o, const char *arg, bool cli, char *err, size_t errcap)
{
    struct lw_table_spec s;
    if (lw_table_spec_parse(arg, &s, err, errcap) != 0) return -1;
    s.cli = cli;
    for (int i = 0; i < o->ntables; i++) {
        if (strcmp(o->tables[i].name, s.name) != 0) continue;
        if (o->tables[i].cli || !cli) {
            lw_table_spec_fini(&s);
            return lw_errf(err, errcap, "--table %s: a table of that name is given already",
                           o->tables[i].name);
        }
        lw_table_spec_fini(&o->tables[i]);
        o->tables[i] = s;
        return 0;
    }
    o->tables = lw_xrealloc(o->tables, (size_t)(o->ntables + 1) * sizeof *o->tables);
    o->tables[o->ntables++] = s;
    return 0;
}

/* add_topics: --topic a,b (repeatable), each a Kafka topic name (lw_kafka_topic_ok). */
static int
add_topics(struct lw_opts *o, const char *list, char *err, size_t errcap)
{
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (!lw_kafka_topic_ok((struct lw_str){ p, n })) {
            snprintf(err, errcap, "--topic: '%.*s' is not a Kafka topic name", (int)n, p);
            return -1;
        }
        o->topics = lw_xrealloc(o->topics, (size_t)(o->ntopics + 1) * sizeof *o->topics);
        o->topics[o->ntopics++] = lw_xstrndup(p, n);
        if (p[n] == '\0') return 0;
        p += n + 1;
    }
}

static bool
has_prop(const struct lw_opts *o, const char *key)
{
    size_t n = strlen(key);
    for (int i = 0; i < o->nprops; i++) {
        const char *kv = o->props[i];
        if (strncmp(kv, "consumer.", 9) == 0 || strncmp(kv, "producer.", 9) == 0) kv += 9;
        if (strncmp(kv, key, n) == 0 && kv[n] == '=') return true;
    }
    return false;
}

/* kafka_check: the Kafka options make sense together. */
static int
kafka_check(struct lw_opts *o, char *err, size_t errcap)
{
    bool kafka = o->from == LW_FROM_KAFKA || o->to == LW_TO_KAFKA || o->dl_topic;
    if (!kafka) {
        if (o->brokers || o->ntopics || o->group || o->out_topic || o->nprops || o->exit_at_eof) {
            snprintf(err, errcap,
                     "Kafka options need --from kafka, --to kafka or "
                     "--dead-letter-topic");
            return -1;
        }
        return 0;
    }
    if (!o->brokers && !has_prop(o, "bootstrap.servers")) {
        snprintf(err, errcap, "Kafka needs --brokers HOST:PORT (or -X bootstrap.servers=...)");
        return -1;
    }
    if (o->from == LW_FROM_KAFKA && o->ntopics == 0) {
        snprintf(err, errcap, "--from kafka needs --topic");
        return -1;
    }
    if (o->from == LW_FROM_KAFKA && o->ninputs > 0) {
        snprintf(err, errcap, "--from kafka reads no files, found '%s'", o->inputs[0]);
        return -1;
    }
    if (o->to == LW_TO_KAFKA && o->out_topic == NULL) {
        snprintf(err, errcap, "--to kafka needs --out-topic");
        return -1;
    }
    if (o->dl_topic && o->dead_letter) {
        snprintf(err, errcap, "give one dead-letter target: --dead-letter or --dead-letter-topic");
        return -1;
    }
    if (o->exit_at_eof && o->from != LW_FROM_KAFKA) {
        snprintf(err, errcap, "--exit-at-eof needs --from kafka");
        return -1;
    }
    return 0;
}

/* A multiline regex is compiled here once to report a bad one as a usage error; the source
 * compiles it again for use (opts stay plain data). */
static int
check_regex(const char *re, const char *opt, char *err, size_t errcap)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *p = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (p != NULL) {
        pcre2_code_free(p);
        return 0;
    }
    PCRE2_UCHAR m[160];
    pcre2_get_error_message(code, m, sizeof m);
    snprintf(err, errcap, "--%s: invalid regex at offset %zu: %s", opt, (size_t)off, (char *)m);
    return -1;
}

static int
parse_now(const char *s, int64_t *ns, char *err, size_t errcap)
{
    if (logwash_parse_time(s, strlen(s), ns) == 0) return 0;
    snprintf(err, errcap, "--now needs an RFC 3339 time or epoch seconds, found '%s'", s);
    return -1;
}

static int option(struct lw_opts *o, int c, const char *name, FILE *out, char *err, size_t errcap);

const char *
lw_opts_config_file(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) break;
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(a, "--config=", 9) == 0) return a + 9;
        if (strncmp(a, "-c", 2) == 0 && a[2] != '\0') return a + 2;
    }
    return NULL;
}

/* job_file: find -c FILE / --config[=]FILE among the command-line arguments and, when there
 * is one, load it (from jf when that is the file, read already); o->argv becomes argv[0], the
 * file's options, then argv[1..]. */
static int
job_file(struct lw_opts *o, int argc, char **argv, struct lw_jobfile *jf, int *ncfg, char *err,
         size_t errcap)
{
    o->config_file = lw_opts_config_file(argc, argv);
    if (o->config_file && jf && strcmp(o->config_file, lw_jobfile_path(jf)) == 0) {
        if (lw_config_from(jf, o->pipeline, &o->config, err, errcap) != 0) return -1;
    } else if (o->config_file &&
               lw_config_load_pipeline(o->config_file, o->pipeline, &o->config, err, errcap) != 0) {
        return -1;
    }
    *ncfg = o->config.nargs;
    o->argv = lw_xmalloc((size_t)(argc + *ncfg + 1) * sizeof *o->argv);
    o->argv[0] = argv[0];
    for (int i = 0; i < *ncfg; i++)
        o->argv[1 + i] = o->config.args[i].text;
    for (int i = 1; i <= argc; i++) /* argv[argc] is NULL */
        o->argv[*ncfg + i] = argv[i];
    return 0;
}

/* job_error: a bad value from the job file: put its position in front of the message. */
static void
job_error(const struct lw_opts *o, int i, char *err, size_t errcap)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err);
    snprintf(err, errcap, "%s:%d:%d: error: %s", o->config_file, o->config.args[i].line,
             o->config.args[i].col, msg);
}

int
lw_opts_parse(struct lw_opts *o, int argc, char **argv, FILE *out, char *err, size_t errcap)
{
    return lw_opts_parse_pipeline(o, argc, argv, NULL, out, err, errcap);
}

int
lw_opts_parse_pipeline(struct lw_opts *o, int argc, char **argv, const char *pipeline, FILE *out,
                       char *err, size_t errcap)
{
    return lw_opts_parse_from(o, argc, argv, pipeline, NULL, out, err, errcap);
}

int
lw_opts_parse_from(struct lw_opts *o, int argc, char **argv, const char *pipeline,
                   struct lw_jobfile *jf, FILE *out, char *err, size_t errcap)
{
    struct option longopts[NOPTS + 1];
    char shortopts[64];
    size_t ns = 0;
    shortopts[ns++] = ':'; /* report a missing argument as ':' */
    for (size_t i = 0; i < NOPTS; i++) {
        longopts[i] = table[i].o;
        if (table[i].o.val < 256) {
            shortopts[ns++] = (char)table[i].o.val;
            if (table[i].o.has_arg) shortopts[ns++] = ':';
        }
    }
    longopts[NOPTS] = (struct option){ 0 };
    shortopts[ns] = '\0';

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *o = (struct lw_opts){
        .limits = { .steps = LOGWASH_DEFAULT_STEPS,
                    .match_limit = LOGWASH_DEFAULT_MATCH_LIMIT,
                    .depth_limit = LOGWASH_DEFAULT_DEPTH_LIMIT,
                    .regex_budget = LOGWASH_DEFAULT_REGEX_BUDGET,
                    .max_output = LOGWASH_DEFAULT_MAX_OUTPUT,
                    .max_memory = LOGWASH_DEFAULT_MAX_MEMORY },
        .max_state = LOGWASH_DEFAULT_MAX_STATE,
        .max_line = 1u << 20,
        .flush_timeout_ms = 30000,
        .stats_ms = 60000,
        .partition_idle_ms = 30000,
        .metrics_interval_ms = 10000,
        .ml_max_lines = 1000,
        .ml_timeout_ms = 1000,
        .now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
    };
    o->pipeline = pipeline;
    /* The job file goes first: its options are parsed like the command line's, before them. */
    int ncfg = 0;
    if (job_file(o, argc, argv, jf, &ncfg, err, errcap) != 0) return -1;
    argv = o->argv;
    argc += ncfg;
    opterr = 0;
    optind = 1;
    int c;
    bool cli_topics = false, cli_patterns = false, cli_libs = false;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        int at = optind - 1; /* the argument being parsed: a job file's when 1..ncfg */
        if (c == O_TOPIC && at > ncfg && !cli_topics) { /* --topic replaces the file's topics */
            cli_topics = true;
            for (int i = 0; i < o->ntopics; i++)
                free(o->topics[i]);
            o->ntopics = 0;
        }
        if (c == O_PATTERNS && at > ncfg && !cli_patterns) { /* so does --patterns */
            cli_patterns = true;
            o->npatterns = 0;
        }
        if (c == O_LIB && at > ncfg && !cli_libs) { /* and --lib */
            cli_libs = true;
            o->nlibs = 0;
        }
        int bad = c == O_TABLE ? add_table(o, optarg, at > ncfg, err, errcap)
                               : option(o, c, name, out, err, errcap);
        if (bad != 0) {
            if (at >= 1 && at <= ncfg) job_error(o, at - 1, err, errcap);
            return -1;
        }
        if (c == 'h' || c == O_VERSION || c == O_LIST_TEMPLATES) return 1;
    }
    if (o->list_patterns) { /* main lists them; the arguments are a NAME, not inputs */
        o->inputs = argv + optind;
        o->ninputs = argc - optind;
        return 0;
    }
    if (o->config.npipelines > 0 && pipeline == NULL) { /* the process's options only */
        if (o->template_file || o->template_text || argc > optind) {
            snprintf(err, errcap,
                     "%s has pipelines: each names its template and inputs there "
                     "(-f, -e and input files on the command line are refused)",
                     o->config_file);
            return -1;
        }
        return 0;
    }
    if ((o->template_file == NULL) == (o->template_text == NULL)) {
        snprintf(err, errcap,
                 o->template_file ? "give the template once: -f FILE or -e TEXT"
                                  : "no template: give -f FILE or -e TEXT");
        return -1;
    }
    if (o->template_file != NULL && lw_opts_find_template(o, err, errcap) != 0) return -1;
    if (o->ml_start != NULL && (o->ml_continue != NULL || o->ml_indent)) {
        snprintf(err, errcap,
                 "--multiline-start cannot be combined with --multiline-continue or "
                 "--multiline-indent");
        return -1;
    }
    if (o->ml_max_bytes == 0) o->ml_max_bytes = o->max_line;
    o->inputs = argv + optind;
    o->ninputs = argc - optind;
    if (o->ninputs == 0 && o->config.nfiles > 0) {
        o->inputs = o->config.files;
        o->ninputs = o->config.nfiles;
    }
    return kafka_check(o, err, errcap);
}

/* option: apply option c (its argument in optarg). Returns 0, or -1 with err set. */
static int
option(struct lw_opts *o, int c, const char *name, FILE *out, char *err, size_t errcap)
{
    uint64_t v;
    {
        switch (c) {
        case 'f':
            o->template_file = optarg;
            break;
        case 'e':
            o->template_text = optarg;
            break;
        case 'i':
            if (strcmp(optarg, "text") == 0)
                o->input = LOGWASH_INPUT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->input = LOGWASH_INPUT_JSON;
            else {
                snprintf(err, errcap, "-i needs text or json, found '%s'", optarg);
                return -1;
            }
            break;
        case 'o':
            if (strcmp(optarg, "text") == 0)
                o->output = LOGWASH_OUTPUT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->output = LOGWASH_OUTPUT_JSON;
            else {
                snprintf(err, errcap, "-o needs json or text, found '%s'", optarg);
                return -1;
            }
            break;
        case O_CHECK:
            o->check = true;
            break;
        case O_DISASM:
            o->disasm = true;
            break;
        case O_VALIDATE:
            o->validate = true;
            break;
        case O_PRINT_CONFIG:
            o->print_config = true;
            break;
        case O_NO_UNBUFFERED: /* the --no- forms of the job file's booleans */
            o->unbuffered = false;
            break;
        case O_JIT:
            o->no_jit = false;
            break;
        case O_NO_ML_INDENT:
            o->ml_indent = false;
            o->ml_no_indent = true;
            break;
        case O_NO_EXIT_EOF:
            o->exit_at_eof = false;
            break;
        case O_NO_EXPLAIN:
            o->explain = 0;
            break;
        case O_ON_ERROR:
            if (strcmp(optarg, "warn") == 0)
                o->on_error = LW_ONERR_WARN;
            else if (strcmp(optarg, "skip") == 0)
                o->on_error = LW_ONERR_SKIP;
            else if (strcmp(optarg, "abort") == 0)
                o->on_error = LW_ONERR_ABORT;
            else {
                snprintf(err, errcap, "--on-error needs warn, skip or abort, found '%s'", optarg);
                return -1;
            }
            break;
        case O_DEAD_LETTER:
            o->dead_letter = optarg;
            break;
        case O_UNBUFFERED:
            o->unbuffered = true;
            break;
        case O_EXPLAIN:
            o->explain = 10;
            if (optarg != NULL) {
                if (number(optarg, &v, "explain", err, errcap) != 0) return -1;
                if (v < 1 || v > 1000000) {
                    snprintf(err, errcap, "--explain: from 1 to 1000000 records, found %s", optarg);
                    return -1;
                }
                o->explain = (int)v;
            }
            break;
        case 'j':
            if (number(optarg, &v, "jobs", err, errcap) != 0) return -1;
            if (v > 256) {
                snprintf(err, errcap, "--jobs: at most 256 threads, found %s", optarg);
                return -1;
            }
            o->jobs = (int)v;
            break;
        case O_NOW:
            if (parse_now(optarg, &o->now_ns, err, errcap) != 0) return -1;
            o->now_text = optarg;
            break;
        case O_TZ: {
            struct logwash_error e;
            if (logwash_tz_check(optarg, &e) != 0) {
                snprintf(err, errcap, "--tz: %s", e.message);
                return -1;
            }
            o->tz_name = optarg;
            break;
        }
        case O_MAX_LINE:
            if (number(optarg, &v, "max-line", err, errcap) != 0) return -1;
            o->max_line = v > (1u << 30) ? (1u << 30) : (size_t)v;
            break;
        case O_ML_START:
        case O_ML_CONTINUE: {
            const char *opt = c == O_ML_START ? "multiline-start" : "multiline-continue";
            if (check_regex(optarg, opt, err, errcap) != 0) return -1;
            *(c == O_ML_START ? &o->ml_start : &o->ml_continue) = optarg;
            break;
        }
        case O_ML_INDENT:
            o->ml_indent = true;
            o->ml_no_indent = false;
            break;
        case O_ML_MAX_LINES:
            if (number(optarg, &v, "multiline-max-lines", err, errcap) != 0) return -1;
            o->ml_max_lines = v;
            break;
        case O_ML_MAX_BYTES:
            if (number(optarg, &v, "multiline-max-bytes", err, errcap) != 0) return -1;
            o->ml_max_bytes = v > (1u << 30) ? (1u << 30) : (size_t)v;
            break;
        case O_ML_TIMEOUT:
            if (strcmp(optarg, "0") == 0) {
                o->ml_timeout_ms = 0;
                break;
            }
            if (number(optarg, &v, "multiline-timeout", err, errcap) != 0) return -1;
            o->ml_timeout_ms = v > 3600000 ? 3600000 : (int64_t)v;
            break;
        case O_MAX_STEPS:
            if (number(optarg, &v, "max-steps", err, errcap) != 0) return -1;
            o->limits.steps = v;
            break;
        case O_MATCH_LIMIT:
            if (number(optarg, &v, "regex-match-limit", err, errcap) != 0) return -1;
            o->limits.match_limit = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        case O_DEPTH_LIMIT:
            if (number(optarg, &v, "regex-depth-limit", err, errcap) != 0) return -1;
            o->limits.depth_limit = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        case O_REGEX_BUDGET:
            if (number(optarg, &v, "regex-budget", err, errcap) != 0) return -1;
            o->limits.regex_budget = v;
            break;
        case O_MAX_OUTPUT:
            if (number(optarg, &v, "max-output", err, errcap) != 0) return -1;
            o->limits.max_output = (size_t)v;
            break;
        case O_MAX_MEMORY:
            if (number(optarg, &v, "max-memory", err, errcap) != 0) return -1;
            o->limits.max_memory = (size_t)v;
            break;
        case O_NO_JIT:
            o->no_jit = true;
            break;
        case O_FROM:
            if (strcmp(optarg, "files") == 0 || strcmp(optarg, "stdin") == 0)
                o->from = LW_FROM_FILES;
            else if (strcmp(optarg, "kafka") == 0)
                o->from = LW_FROM_KAFKA;
            else {
                snprintf(err, errcap, "--from needs files or kafka, found '%s'", optarg);
                return -1;
            }
            break;
        case O_TO:
            if (strcmp(optarg, "stdout") == 0)
                o->to = LW_TO_STDOUT;
            else if (strcmp(optarg, "kafka") == 0)
                o->to = LW_TO_KAFKA;
            else {
                snprintf(err, errcap, "--to needs stdout or kafka, found '%s'", optarg);
                return -1;
            }
            break;
        case O_BROKERS:
            o->brokers = optarg;
            break;
        case O_TOPIC:
            if (add_topics(o, optarg, err, errcap) != 0) return -1;
            break;
        case O_GROUP:
            o->group = optarg;
            break;
        case O_OUT_TOPIC:
            o->out_topic = optarg;
            break;
        case O_DL_TOPIC:
            o->dl_topic = optarg;
            break;
        case 'X':
            if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
                snprintf(err, errcap, "-X needs key=value, found '%s'", optarg);
                return -1;
            }
            o->props = lw_xrealloc(o->props, (size_t)(o->nprops + 1) * sizeof *o->props);
            o->props[o->nprops++] = optarg;
            break;
        case O_FLUSH_TIMEOUT:
            if (number(optarg, &v, "flush-timeout", err, errcap) != 0) return -1;
            o->flush_timeout_ms = v > 3600000 ? 3600000 : v;
            break;
        case O_STATS:
            if (strcmp(optarg, "0") == 0)
                v = 0;
            else if (number(optarg, &v, "stats-interval", err, errcap) != 0)
                return -1;
            o->stats_ms = v > 86400 ? 86400000 : v * 1000;
            break;
        case O_PART_IDLE:
            if (number(optarg, &v, "partition-idle", err, errcap) != 0) return -1;
            o->partition_idle_ms = v > 86400 ? 86400000 : (int64_t)v * 1000;
            break;
        case O_EXIT_EOF:
            o->exit_at_eof = true;
            break;
        case O_METRICS_LISTEN:
            o->metrics_listen = optarg;
            break;
        case O_METRICS_FILE:
            o->metrics_file = optarg;
            break;
        case O_METRICS_RELOAD:
            o->metrics_reload = true;
            break;
        case O_NO_METRICS_RELOAD:
            o->metrics_reload = false;
            break;
        case O_METRICS_INTERVAL:
            if (number(optarg, &v, "metrics-interval", err, errcap) != 0) return -1;
            o->metrics_interval_ms = v > 86400 ? 86400000 : v * 1000;
            break;
        case O_PATTERNS:
            o->patterns =
                lw_xrealloc(o->patterns, (size_t)(o->npatterns + 1) * sizeof *o->patterns);
            o->patterns[o->npatterns++] = optarg;
            break;
        case O_LIB:
            o->libs = lw_xrealloc(o->libs, (size_t)(o->nlibs + 1) * sizeof *o->libs);
            o->libs[o->nlibs++] = optarg;
            break;
        case O_TABLE: /* add_table, from the loop, which knows where it came from */
            break;
        case O_MAX_STATE:
            if (number(optarg, &v, "max-state", err, errcap) != 0) return -1;
            o->max_state = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
            break;
        case 'q':
            o->verbosity = -1;
            break;
        case 'v':
            o->verbosity = 1;
            break;
        case O_VERSION:
            version(out);
            break;
        case O_LIST_PATTERNS:
            o->list_patterns = true;
            break;
        case O_LIST_TEMPLATES:
            list_templates(o, out);
            break;
        case 'h':
            help(out);
            break;
        case 'c': /* read before the others (job_file) */
            break;
        case ':':
            snprintf(err, errcap, "option '%s' needs an argument", name);
            return -1;
        default:
            unknown(name, err, errcap);
            return -1;
        }
    }
    return 0;
}

void
lw_opts_fini(struct lw_opts *o)
{
    for (int i = 0; i < o->ntopics; i++)
        free(o->topics[i]);
    free(o->topics);
    free(o->props);
    free(o->patterns);
    free(o->libs);
    o->libs = NULL;
    o->nlibs = 0;
    for (int i = 0; i < o->ntables; i++)
        lw_table_spec_fini(&o->tables[i]);
    free(o->tables);
    o->tables = NULL;
    o->ntables = 0;
    o->topics = o->props = NULL;
    o->patterns = NULL;
    o->ntopics = o->nprops = o->npatterns = 0;
    lw_config_fini(&o->config);
    free(o->argv);
    o->argv = NULL;
    free(o->template_found);
    o->template_found = NULL;
}
