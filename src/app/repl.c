/* `logwash repl`: type expressions and statements against a sample record and see their
 * values with their types, what they emit and print, and their errors as a template's.
 *
 * Only through the public API (logwash.h). Variables and functions persist by replay: every
 * input that compiles and runs to its end on the current record (a statement, `fn`, `import`,
 * `:load FILE`) joins the session, a template kept as text; each new input is compiled at the
 * end of the session's text and the whole runs on the current record, so a later input sees
 * everything the earlier ones declared, and a changed record (`:record`, `:line`) runs the
 * session again. Between the two, a marker line prints a line that cannot come from a template
 * value (control bytes), so only the outputs of the new input are shown. An expression is
 * compiled a second time wrapped as `let V = (\nINPUT\n)` followed by two prints (its type and
 * to_json); on its own lines, so the input's lines and columns are the typed ones, and errors
 * are said with the typed text's line:col (rewritten from the session's, REPL in logwash(1)).
 *
 * With a terminal, lines are read with libedit (loaded on first use with dlopen, so other runs
 * of logwash do not pay its relocations at start-up) and kept in a history file; otherwise
 * plain lines are read, without prompts, so a session can be scripted. */
#include "lw/repl.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <histedit.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logwash.h"
#include "lw/buf.h"
#include "lw/diag.h"
#include "lw/opts.h"
#include "lw/str.h"
#include "lw/uadata.h"

#define MAX_INPUT    (1u << 20) /* bytes of one input (typed lines or a :load file) */
#define MAX_SESSION  (4u << 20) /* bytes of the session's text */
#define MAX_ENTRIES  10000      /* inputs kept in the session */
#define MAX_SHOWN    4096       /* bytes of a value or output shown; the rest is counted */
#define HISTORY_SIZE 1000       /* lines kept in the history file */
#define HISTORY_LINE 4096       /* longer lines are not put in the history */
#define SESSION_NAME "(session)"
#define MARK         "\001logwash-repl\001"
#define MARK_LINE    "print \"\\u0001logwash-repl\\u0001\"\n"
#define VALUE_VAR    "__repl_value"

static const char usage[] =
    "usage: logwash repl [OPTIONS]\n"
    "Type template expressions and statements against a sample record: each value is shown\n"
    "with its type, emitted records and printed lines are shown, errors are a template's.\n"
    "Type :help inside for its commands. See REPL in logwash(1).\n\n"
    "  -f, --file FILE       load a template first (as :load FILE)\n"
    "      --record JSON     the first record (as :record JSON; default: an empty text line)\n"
    "      --line TEXT       the first record as a text line (as :line TEXT)\n"
    "      --patterns DIR    grok pattern files (repeatable)\n"
    "      --lib DIR         where import looks (repeatable; the current directory too)\n"
    "      --tz ZONE         zone for stamps without one\n"
    "      --now TIME        fix now() (epoch seconds)\n"
    "      --max-steps N     instructions per run (default 1000000)\n"
    "      --history FILE    the history file (default $XDG_STATE_HOME/logwash/history;\n"
    "                        empty: none)\n"
    "  -h, --help            print this help and exit\n";

static const char help[] =
    "Type an expression to see its value and type, or a statement (let, an assignment, if,\n"
    "for, emit, print, fn, import) to run it; statements that run to their end are kept, so\n"
    "later inputs see their variables and functions. An input goes on over several lines\n"
    "while a bracket is open; an empty line ends it anyway.\n"
    "  :record JSON   the current record: a JSON value (as `input json`)\n"
    "  :line TEXT     the current record: a text line (`line`; `.` is {})\n"
    "  :record        show the current record\n"
    "  :load FILE     run a template on the current record and keep it (its functions and\n"
    "                 lets); @NAME: a shipped template\n"
    "  :run           run the whole session on the current record, showing every output\n"
    "  :session       show the session's text; :save FILE writes it as a template\n"
    "  :reset         forget the session (the record stays)\n"
    "  :help          this text;  :quit (or end of input) leaves\n";

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* One input kept in the session. */
struct entry {
    char *name; /* in messages: "repl[N]" or the loaded file's path */
    char *text; /* ends with '\n' */
    size_t len;
    int nlines;
    char *fn; /* the function it defines when it is a `fn NAME(...)`, else NULL */
};

/* A part of the text being compiled, for mapping the session's lines back to what was typed. */
struct piece {
    const char *name, *text;
    size_t len;
    int line0, nlines; /* its first line in the compiled text (from 1), its lines */
};

struct repl {
    /* options */
    const char **patterns, **libs; /* libs: --lib dirs, ".", then loaded files' directories */
    size_t npatterns, nlibs;
    char **owned_libs;
    size_t nowned;
    const char *tz, *history;
    bool now_set;
    int64_t now_ns;
    uint64_t steps;
    /* the session */
    struct entry *entries;
    size_t nentries;
    size_t session_len;
    unsigned ninputs; /* inputs typed so far, numbering repl[N] */
    /* the current record */
    struct lw_buf rec;
    bool json;
    bool failed; /* some input failed (the exit status of a scripted session) */
    /* the text being compiled */
    struct lw_buf text;
    struct piece *pieces;
    size_t npieces;
    int input_line0, input_nlines; /* the input's lines (0: no input) */
    struct lw_uadata ua;           /* parse_user_agent's rules, read once for the whole session */
    bool state_said;               /* the note on seen() and windows was given (once per session) */
};

/* count_lines: the '\n' in s. */
static int
count_lines(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

/* ---- The text to compile ---- */

static void
add_piece(struct repl *R, const char *name, const char *text, size_t len)
{
    R->pieces = lw_xrealloc(R->pieces, (R->npieces + 1) * sizeof *R->pieces);
    int line0 = count_lines(R->text.p, R->text.len) + 1;
    R->pieces[R->npieces++] = (struct piece){ name, text, len, line0, count_lines(text, len) };
    lw_buf_add(&R->text, text, len);
}

/* build: the session's entries (but skip, an entry to leave out; SIZE_MAX none), then with
 * input (NULL: none) the marker line and the input, wrapped as an expression when expr. */
static void
build(struct repl *R, size_t skip, const char *name, const char *input, size_t len, bool expr)
{
    R->text.len = 0;
    R->npieces = 0;
    R->input_line0 = R->input_nlines = 0;
    for (size_t i = 0; i < R->nentries; i++) {
        if (i != skip) add_piece(R, R->entries[i].name, R->entries[i].text, R->entries[i].len);
    }
    if (input == NULL) return;
    lw_buf_adds(&R->text, MARK_LINE);
    if (expr) lw_buf_adds(&R->text, "let " VALUE_VAR " = (\n");
    add_piece(R, name, input, len);
    R->input_line0 = R->pieces[R->npieces - 1].line0;
    R->input_nlines = R->pieces[R->npieces - 1].nlines;
    if (expr) {
        lw_buf_adds(&R->text, ")\nprint type(" VALUE_VAR ")\nprint to_json(" VALUE_VAR ")\n");
    }
}

/* where: the piece and the line in it of line L of the compiled text; a line of the marker
 * or the wrapper counts as the input's nearest line. NULL when there is no piece. */
static const struct piece *
where(const struct repl *R, int L, int *line)
{
    for (size_t i = 0; i < R->npieces; i++) {
        const struct piece *p = &R->pieces[i];
        if (L >= p->line0 && L < p->line0 + p->nlines) {
            *line = L - p->line0 + 1;
            return p;
        }
    }
    if (R->input_nlines == 0) return NULL;
    const struct piece *p = &R->pieces[R->npieces - 1];
    *line = L < p->line0 ? 1 : p->nlines;
    return p;
}

/* ---- Errors, said as a template's ---- */

/* digits: the number at s (at most 9 digits) into *n; returns the digits read (0: none). */
static size_t
digits(const char *s, const char *end, int *n)
{
    size_t i = 0;
    *n = 0;
    while (s + i < end && i < 9 && s[i] >= '0' && s[i] <= '9') {
        *n = *n * 10 + (s[i] - '0');
        i++;
    }
    return i;
}

/* rewrite_span: write s..end to f with every "(session):L:C" as the typed text's NAME:l:c, and
 * with at (the compiler's messages, never a record's text) every " at L:C" as " at l:c" (in the
 * same piece as cur) or " at NAME:l:c". */
static void
rewrite_span(const struct repl *R, FILE *f, const char *s, const char *end, const struct piece *cur,
             bool at)
{
    static const char sess[] = SESSION_NAME ":";
    while (s < end) {
        int L, C, l;
        size_t n1, n2;
        const struct piece *p;
        if ((size_t)(end - s) > sizeof sess && memcmp(s, sess, sizeof sess - 1) == 0 &&
            (n1 = digits(s + sizeof sess - 1, end, &L)) > 0 && s + sizeof sess - 1 + n1 < end &&
            s[sizeof sess - 1 + n1] == ':' && (n2 = digits(s + sizeof sess + n1, end, &C)) > 0 &&
            (p = where(R, L, &l)) != NULL) {
            fprintf(f, "%s:%d:%d", p->name, l, C);
            s += sizeof sess + n1 + n2;
            continue;
        }
        if (at && end - s > 4 && memcmp(s, " at ", 4) == 0 && (n1 = digits(s + 4, end, &L)) > 0 &&
            s + 4 + n1 < end && s[4 + n1] == ':' && (n2 = digits(s + 5 + n1, end, &C)) > 0 &&
            (s + 5 + n1 + n2 == end || s[5 + n1 + n2] < '0' || s[5 + n1 + n2] > '9') &&
            (p = where(R, L, &l)) != NULL) {
            if (p == cur) {
                fprintf(f, " at %d:%d", l, C);
            } else {
                fprintf(f, " at %s:%d:%d", p->name, l, C);
            }
            s += 5 + n1 + n2;
            continue;
        }
        fputc(*s++, f);
    }
}

/* rewrite: a compile error as the library rendered it for the session's text (header, source
 * line "%5d | ...", caret line), with the typed text's names and lines. */
static void
rewrite(const struct repl *R, FILE *f, const char *text)
{
    static const char sess[] = SESSION_NAME ":";
    const struct piece *cur = NULL;
    bool after_header = false;
    while (*text != '\0') {
        const char *eol = strchr(text, '\n');
        const char *end = eol ? eol : text + strlen(text);
        int L, l;
        size_t n;
        if ((size_t)(end - text) > sizeof sess && memcmp(text, sess, sizeof sess - 1) == 0 &&
            digits(text + sizeof sess - 1, end, &L) > 0) {
            cur = where(R, L, &l);
            after_header = true;
            rewrite_span(R, f, text, end, cur, true);
        } else if (after_header && end - text > 8 &&
                   (n = digits(text + strspn(text, " "), end, &L)) > 0 &&
                   memcmp(text + strspn(text, " ") + n, " | ", 3) == 0 && cur != NULL &&
                   where(R, L, &l) != NULL) {
            const char *rest = text + strspn(text, " ") + n;
            fprintf(f, "%5d", l);
            fwrite(rest, 1, (size_t)(end - rest), f);
            after_header = false;
        } else {
            after_header = false;
            rewrite_span(R, f, text, end, cur, true);
        }
        fputc('\n', f);
        text = eol ? eol + 1 : end;
    }
}

struct compile_ud {
    struct repl *R;
    bool report, said;
};

static void
on_error(void *ud, const struct logwash_compile_error *e)
{
    struct compile_ud *u = ud;
    if (!u->report || e->line == 0) return;
    u->said = true;
    rewrite(u->R, stderr, e->text);
}

/* compile: R->text; NULL after saying why when report. */
static struct logwash_template *
compile(struct repl *R, bool report)
{
    struct logwash_compile_options co;
    logwash_compile_options_default(&co);
    co.name = SESSION_NAME;
    co.pattern_dirs = R->patterns;
    co.npattern_dirs = R->npatterns;
    co.import_paths = R->libs;
    co.nimport_paths = R->nlibs;
    struct compile_ud u = { R, report, false };
    co.on_error = on_error;
    co.on_error_ud = &u;
    co.ua_rules = lw_uadata_load;
    co.ua_rules_ud = &R->ua;
    struct logwash_error e;
    struct logwash_template *t = logwash_compile(R->text.p, R->text.len, &co, &e);
    if (t == NULL && report && !u.said) fprintf(stderr, "logwash: repl: %s\n", e.message);
    return t;
}

/* runtime_error: a record's error at line L:C of the compiled text, as a compile error is
 * shown: NAME:l:c: error: MESSAGE, the line typed and a caret. */
static void
runtime_error(const struct repl *R, const char *what, const struct logwash_error *e)
{
    int l;
    const struct piece *p = e->line > 0 ? where(R, e->line, &l) : NULL;
    if (p == NULL) {
        fprintf(stderr, "logwash: repl: %s%s\n", what, e->message);
        return;
    }
    /* the byte of column col (in UTF-8 characters) of line l of the piece */
    size_t off = 0;
    for (int i = 1; i < l && off < p->len; off++) {
        if (p->text[off] == '\n') i++;
    }
    for (int col = 1; col < e->col && off < p->len && p->text[off] != '\n'; col++) {
        off++;
        while (off < p->len && ((unsigned char)p->text[off] & 0xC0) == 0x80)
            off++;
    }
    struct lw_diag d = { .set = true, .has_span = true, .span = { (uint32_t)off, 1 } };
    /* the message may name other places of the session ("f() at (session):9:18") */
    char *msg = NULL;
    size_t msglen = 0;
    FILE *m = open_memstream(&msg, &msglen);
    if (m != NULL) {
        rewrite_span(R, m, e->message, e->message + strlen(e->message), p, false);
        fclose(m);
    }
    snprintf(d.msg, sizeof d.msg, "%s%s", what, msg != NULL ? msg : e->message);
    free(msg);
    lw_diag_print(stderr, p->name, (struct lw_str){ p->text, p->len }, &d);
}

/* ---- Running ---- */

/* show: an output's bytes, the first MAX_SHOWN of them (cut on a character). */
static void
show(const char *prefix, const char *data, size_t len, const char *suffix)
{
    size_t n = len;
    if (n > MAX_SHOWN) {
        n = MAX_SHOWN;
        while (n > 0 && ((unsigned char)data[n] & 0xC0) == 0x80)
            n--;
    }
    fputs(prefix, stdout);
    fwrite(data, 1, n, stdout);
    if (n < len) printf("... (%zu bytes)", len);
    fputs(suffix, stdout);
    putchar('\n');
}

enum mode { M_STMT, M_EXPR, M_RUN, M_CHECK };

/* run: a compiled text on the current record. M_STMT and M_EXPR show the outputs after the
 * marker (M_EXPR: the last two are the value's type and JSON), M_RUN all of them, M_CHECK
 * none. Returns the result, or -1 when the runner could not be made. */
static int
run(struct repl *R, const struct logwash_template *t, enum mode m)
{
    struct logwash_runner_options ro;
    logwash_runner_options_default(&ro);
    ro.limits.steps = R->steps;
    ro.input = R->json ? LOGWASH_INPUT_JSON : LOGWASH_INPUT_TEXT;
    ro.output = LOGWASH_OUTPUT_JSON;
    ro.routes = false;
    ro.tz = R->tz;
    if (R->now_set) ro.now_ns = R->now_ns;
    struct logwash_error err;
    struct logwash_runner *r = logwash_runner_new(t, &ro, &err);
    if (r == NULL) {
        fprintf(stderr, "logwash: repl: %s\n", err.message);
        return -1;
    }
    enum logwash_result res = logwash_run(r, R->rec.p, R->rec.len, NULL);
    size_t n = 0, from = 0;
    const struct logwash_output *o = logwash_outputs(r, &n);
    bool marked = m == M_RUN;
    for (size_t i = 0; i < n && !marked; i++) {
        if (o[i].print && o[i].len == sizeof MARK - 1 && memcmp(o[i].data, MARK, o[i].len) == 0) {
            marked = true;
            from = i + 1;
        }
    }
    size_t last = m == M_EXPR && res == LOGWASH_OK && n >= from + 2 ? n - 2 : n;
    for (size_t i = from; i < last && m != M_CHECK && marked; i++)
        show(o[i].print ? "printed: " : "emitted: ", o[i].data, o[i].len, "");
    if (last < n) {
        char type[64];
        snprintf(type, sizeof type, " : %.*s", (int)o[last].len, o[last].data);
        show("", o[last + 1].data, o[last + 1].len, type);
    }
    const struct logwash_error *e = logwash_runner_error(r);
    switch (res) {
    case LOGWASH_OK:
        break;
    case LOGWASH_DROP:
        if (m == M_CHECK) {
            fprintf(stderr, "logwash: repl: the session drops this record\n");
        } else if (!marked) {
            fprintf(stderr, "logwash: repl: dropped by an earlier input before this one ran\n");
        } else {
            printf("dropped%s\n", m == M_RUN ? "" : " (not kept in the session)");
        }
        break;
    case LOGWASH_REJECT:
        runtime_error(R, "rejected: ", e);
        break;
    case LOGWASH_ERROR:
        runtime_error(R, "", e);
        break;
    case LOGWASH_UNDECODABLE:
        fprintf(stderr, "logwash: repl: the current record is not JSON: %s\n", e->message);
        break;
    case LOGWASH_NOMEM:
        fprintf(stderr, "logwash: repl: out of memory\n");
        break;
    }
    logwash_runner_free(r);
    return (int)res;
}

/* fn_name: NAME when text is `fn NAME(`... (after blanks), else NULL (malloc'd). */
static char *
fn_name(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
        i++;
    if (len - i < 3 || memcmp(s + i, "fn", 2) != 0 || (s[i + 2] != ' ' && s[i + 2] != '\t'))
        return NULL;
    i += 2;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t b = i;
    while (i < len && (s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
                       (s[i] >= 'A' && s[i] <= 'Z') || (i > b && s[i] >= '0' && s[i] <= '9')))
        i++;
    return i > b ? lw_xstrndup(s + b, i - b) : NULL;
}

static void
entry_free(struct entry *e)
{
    free(e->name);
    free(e->text);
    free(e->fn);
}

/* keep: the input (len bytes, ending with '\n') joins the session as name, replacing entry
 * skip (SIZE_MAX: none). */
static void
keep(struct repl *R, size_t skip, const char *name, const char *text, size_t len, char *fn)
{
    if (skip != SIZE_MAX) {
        R->session_len -= R->entries[skip].len;
        entry_free(&R->entries[skip]);
        memmove(&R->entries[skip], &R->entries[skip + 1],
                (R->nentries - skip - 1) * sizeof *R->entries);
        R->nentries--;
    }
    R->entries = lw_xrealloc(R->entries, (R->nentries + 1) * sizeof *R->entries);
    R->entries[R->nentries++] =
        (struct entry){ lw_xstrndup(name, strlen(name)), lw_xstrndup(text, len), len,
                        count_lines(text, len), fn };
    R->session_len += len;
}

/* input: one input (a statement, an expression, or a loaded file's text when file), len
 * bytes ending with '\n'. Returns 0, or -1 when it failed. */
static int
input(struct repl *R, const char *name, const char *text, size_t len, bool file)
{
    if (R->session_len + len > MAX_SESSION || R->nentries == MAX_ENTRIES) {
        fprintf(stderr,
                "logwash: repl: the session is full (%u MiB, %d inputs): :save it, then :reset\n",
                MAX_SESSION >> 20, MAX_ENTRIES);
        return -1;
    }
    /* a function defined again replaces the older definition, when that was an input alone */
    char *fn = file ? NULL : fn_name(text, len);
    size_t skip = SIZE_MAX;
    for (size_t i = 0; fn != NULL && i < R->nentries; i++) {
        if (R->entries[i].fn != NULL && strcmp(R->entries[i].fn, fn) == 0) skip = i;
    }
    build(R, skip, name, text, len, false);
    struct logwash_template *t = compile(R, true);
    if (t == NULL) {
        free(fn);
        return -1;
    }
    bool expr = false;
    if (!file) { /* an expression compiles wrapped as one too */
        build(R, skip, name, text, len, true);
        struct logwash_template *w = compile(R, false);
        if (w != NULL) {
            logwash_template_free(t);
            t = w;
            expr = true;
        } else {
            build(R, skip, name, text, len, false);
        }
    }
    if (logwash_template_uses_state(t) && !R->state_said) {
        /* each input runs the session again on one record, without the state a run keeps */
        fprintf(stderr, "logwash: repl: note: seen() and window statements keep state across "
                        "records, which the session has not: seen() remembers only the keys "
                        "of the same run, and windows give no results here (try the template "
                        "with logwash -f on a file)\n");
        R->state_said = true;
    }
    int res = run(R, t, expr ? M_EXPR : M_STMT);
    logwash_template_free(t);
    /* a loaded file is kept when it compiles: most templates reject the empty record a
     * session starts with (or any other line than theirs), and :line comes after :load */
    bool kept = !expr && (res == LOGWASH_OK || (file && res != LOGWASH_NOMEM && res >= 0));
    if (kept) {
        keep(R, skip, name, text, len, fn);
        fn = NULL;
    }
    if (kept && res != LOGWASH_OK)
        fprintf(stderr,
                "logwash: repl: %s is kept in the session, though it did not run to its end on "
                "the current record: give one it takes with :line or :record\n",
                name);
    free(fn);
    return res == LOGWASH_OK || res == LOGWASH_DROP ? 0 : -1;
}

/* session_run: the session alone on the current record: M_RUN shows every output, M_CHECK
 * only problems. Returns the result (-1: it did not compile or the runner failed). */
static int
session_run(struct repl *R, enum mode m)
{
    build(R, SIZE_MAX, NULL, NULL, 0, false);
    struct logwash_template *t = compile(R, true);
    if (t == NULL) return -1;
    int res = run(R, t, m);
    logwash_template_free(t);
    return res;
}

/* ---- Commands ---- */

static void
add_lib(struct repl *R, const char *dir)
{
    for (size_t i = 0; i < R->nlibs; i++) {
        if (strcmp(R->libs[i], dir) == 0) return;
    }
    char *d = lw_xstrndup(dir, strlen(dir));
    R->owned_libs = lw_xrealloc(R->owned_libs, (R->nowned + 1) * sizeof *R->owned_libs);
    R->owned_libs[R->nowned++] = d;
    R->libs = lw_xrealloc(R->libs, (R->nlibs + 1) * sizeof *R->libs);
    R->libs[R->nlibs++] = d;
}

static int load_path(struct repl *R, const char *path);

/* load: :load FILE and -f FILE; @NAME is a shipped template, as for a run (logwash(1) -f) */
static int
load(struct repl *R, const char *path)
{
    if (path[0] != '@') return load_path(R, path);
    struct lw_opts o = { .template_file = path, .libs = R->libs, .nlibs = (int)R->nlibs };
    char err[8192 + 256];
    if (lw_opts_find_template(&o, err, sizeof err) != 0) {
        fprintf(stderr, "logwash: repl: %s\n", err);
        return -1;
    }
    int rc = load_path(R, o.template_file);
    free(o.template_found);
    return rc;
}

static int
load_path(struct repl *R, const char *path)
{
    /* read to MAX_INPUT + 1 bytes at most: a device or a fifo has no size to check first */
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "logwash: repl: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct lw_buf b;
    lw_buf_init(&b);
    size_t n;
    do {
        size_t want = MAX_INPUT + 1 - b.len < 65536 ? MAX_INPUT + 1 - b.len : 65536;
        char *p = lw_buf_grow(&b, want);
        n = fread(p, 1, want, f);
        b.len += n;
    } while (n > 0 && b.len <= MAX_INPUT);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno != 0) {
        fprintf(stderr, "logwash: repl: cannot read %s: %s\n", path, strerror(read_errno));
        lw_buf_fini(&b);
        return -1;
    }
    if (b.len > MAX_INPUT) {
        fprintf(stderr, "logwash: repl: %s: longer than %u MiB\n", path, MAX_INPUT >> 20);
        lw_buf_fini(&b);
        return -1;
    }
    if (b.len == 0 || b.p[b.len - 1] != '\n') lw_buf_addc(&b, '\n');
    const char *slash = strrchr(path, '/');
    if (slash != NULL) {
        char *dir = lw_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
        add_lib(R, dir);
        free(dir);
    }
    int rc = input(R, path, b.p, b.len, true);
    lw_buf_fini(&b);
    return rc;
}

/* set_record: the current record becomes text (JSON or a text line); a JSON one that is not
 * JSON is refused. The session runs on it, to say when it fails there. */
static int
set_record(struct repl *R, const char *text, bool json)
{
    struct lw_buf old = R->rec;
    bool was = R->json;
    lw_buf_init(&R->rec);
    lw_buf_add(&R->rec, text, strlen(text));
    R->json = json;
    int res = session_run(R, M_CHECK);
    if (res == LOGWASH_UNDECODABLE) {
        lw_buf_fini(&R->rec);
        R->rec = old;
        R->json = was;
        fprintf(stderr, "logwash: repl: the record is unchanged\n");
        return -1;
    }
    lw_buf_fini(&old);
    return res == LOGWASH_OK ? 0 : -1;
}

static int
save(struct repl *R, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "logwash: repl: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (R->json) fputs("input json\n", f);
    for (size_t i = 0; i < R->nentries; i++)
        fwrite(R->entries[i].text, 1, R->entries[i].len, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "logwash: repl: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("saved %zu input%s to %s\n", R->nentries, R->nentries == 1 ? "" : "s", path);
    return 0;
}

/* command: a line starting with ':'. Returns 0, -1 when it failed, 1 to quit. */
static int
command(struct repl *R, char *line)
{
    char *arg = line + 1 + strcspn(line + 1, " \t");
    size_t n = (size_t)(arg - line - 1);
    if (*arg != '\0') *arg++ = '\0';
    arg += strspn(arg, " \t");
    const char *c = line + 1;
    if (n == 0) {
        fprintf(stderr, "logwash: repl: a command after ':': try :help\n");
        return -1;
    }
    if (strcmp(c, "quit") == 0 || strcmp(c, "q") == 0 || strcmp(c, "exit") == 0) return 1;
    if (strcmp(c, "help") == 0 || strcmp(c, "h") == 0) {
        fputs(help, stdout);
        return 0;
    }
    if (strcmp(c, "record") == 0 && *arg == '\0') {
        printf("%s %.*s\n", R->json ? "json" : "line", (int)R->rec.len, R->rec.p);
        return 0;
    }
    if (strcmp(c, "record") == 0) return set_record(R, arg, true);
    if (strcmp(c, "line") == 0) return set_record(R, arg, false);
    if (strcmp(c, "run") == 0) {
        int res = session_run(R, M_RUN);
        return res == LOGWASH_OK || res == LOGWASH_DROP ? 0 : -1;
    }
    if (strcmp(c, "reset") == 0) {
        for (size_t i = 0; i < R->nentries; i++)
            entry_free(&R->entries[i]);
        R->nentries = 0;
        R->session_len = 0;
        R->state_said = false;
        return 0;
    }
    if (strcmp(c, "session") == 0) {
        for (size_t i = 0; i < R->nentries; i++) {
            printf("# %s\n", R->entries[i].name);
            fwrite(R->entries[i].text, 1, R->entries[i].len, stdout);
        }
        return 0;
    }
    if ((strcmp(c, "load") == 0 || strcmp(c, "save") == 0) && *arg == '\0') {
        fprintf(stderr, "logwash: repl: :%s needs a file name\n", c);
        return -1;
    }
    if (strcmp(c, "load") == 0) return load(R, arg);
    if (strcmp(c, "save") == 0) return save(R, arg);
    fprintf(stderr, "logwash: repl: unknown command ':%s': try :help\n", c);
    return -1;
}

/* ---- Reading lines ---- */

/* open_brackets: whether text leaves a bracket open, outside strings and comments. */
static bool
open_brackets(const char *s, size_t len)
{
    long depth = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '#') {
            while (i < len && s[i] != '\n')
                i++;
        } else if (ch == '"') {
            for (i++; i < len && s[i] != '"' && s[i] != '\n'; i++) {
                if (s[i] == '\\' && i + 1 < len) i++;
            }
        } else if (ch == '\'') {
            for (i++; i < len && s[i] != '\'' && s[i] != '\n'; i++) {
            }
        } else if (ch == '(' || ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ')' || ch == ']' || ch == '}') {
            depth--;
        }
    }
    return depth > 0;
}

/* The libedit functions, loaded on first use. */
struct edit {
    void *h;
    EditLine *el;
    History *hist;
    HistEvent ev;
    char *path; /* the history file, NULL: none */
    __typeof__(el_init) *init;
    __typeof__(el_end) *end;
    __typeof__(el_set) *set;
    __typeof__(el_gets) *gets;
    __typeof__(history_init) *hinit;
    __typeof__(history_end) *hend;
    __typeof__(history) *history;
};

static char *
prompt_main(EditLine *el)
{
    (void)el;
    return (char *)"lw> ";
}

static char *
prompt_more(EditLine *el)
{
    (void)el;
    return (char *)"... ";
}

/* history_path: --history, else $XDG_STATE_HOME/logwash/history, else
 * ~/.local/state/logwash/history, its directories made (0700); NULL: none. */
static char *
history_path(const char *opt)
{
    if (opt != NULL) return *opt ? lw_xstrndup(opt, strlen(opt)) : NULL;
    struct lw_buf b;
    lw_buf_init(&b);
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (x != NULL && x[0] == '/') {
        lw_buf_adds(&b, x);
    } else if (home != NULL && home[0] == '/') {
        lw_buf_printf(&b, "%s/.local", home);
        mkdir(b.p, 0700);
        lw_buf_adds(&b, "/state");
    } else {
        lw_buf_fini(&b);
        return NULL;
    }
    lw_buf_addc(&b, '\0');
    mkdir(b.p, 0700);
    b.len--;
    lw_buf_adds(&b, "/logwash");
    lw_buf_addc(&b, '\0');
    mkdir(b.p, 0700);
    b.len--;
    lw_buf_adds(&b, "/history");
    lw_buf_addc(&b, '\0');
    return b.p;
}

/* edit_open: libedit on the terminal, with the history file loaded. Returns 0, or -1 after
 * saying why (the session then reads plain lines). */
static int
edit_open(struct edit *E, const char *history_opt)
{
    E->h = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
    if (E->h == NULL) {
        fprintf(stderr,
                "logwash: repl: line editing needs libedit (Debian: libedit2): %s; reading "
                "plain lines\n",
                dlerror());
        return -1;
    }
    static const char *const names[] = { "el_init",      "el_end",      "el_set", "el_gets",
                                         "history_init", "history_end", "history" };
    void *f[7];
    for (int i = 0; i < 7; i++) {
        f[i] = dlsym(E->h, names[i]);
        if (f[i] == NULL) {
            fprintf(stderr, "logwash: repl: libedit.so.2 has no %s; reading plain lines\n",
                    names[i]);
            dlclose(E->h);
            E->h = NULL;
            return -1;
        }
    }
    /* ISO C has no conversion from void * to a function pointer; POSIX dlsym promises it */
    memcpy(&E->init, &f[0], sizeof f[0]);
    memcpy(&E->end, &f[1], sizeof f[1]);
    memcpy(&E->set, &f[2], sizeof f[2]);
    memcpy(&E->gets, &f[3], sizeof f[3]);
    memcpy(&E->hinit, &f[4], sizeof f[4]);
    memcpy(&E->hend, &f[5], sizeof f[5]);
    memcpy(&E->history, &f[6], sizeof f[6]);
    E->el = E->init("logwash", stdin, stdout, stderr);
    E->hist = E->hinit();
    if (E->el == NULL || E->hist == NULL) {
        fprintf(stderr, "logwash: repl: libedit failed to start; reading plain lines\n");
        if (E->el) E->end(E->el);
        if (E->hist) E->hend(E->hist);
        dlclose(E->h);
        E->h = NULL;
        return -1;
    }
    E->history(E->hist, &E->ev, H_SETSIZE, HISTORY_SIZE);
    E->history(E->hist, &E->ev, H_SETUNIQUE, 1);
    E->path = history_path(history_opt);
    if (E->path != NULL) E->history(E->hist, &E->ev, H_LOAD, E->path);
    E->set(E->el, EL_EDITOR, "emacs");
    E->set(E->el, EL_HIST, E->history, E->hist);
    E->set(E->el, EL_PROMPT, prompt_main);
    return 0;
}

static void
edit_close(struct edit *E)
{
    if (E->h == NULL) return;
    E->end(E->el);
    E->hend(E->hist);
    free(E->path);
    /* not dlclose'd: what terminfo keeps for the terminal (libedit's setupterm) stays until
     * exit anyway, and a closed library hides its allocations' frames from leak checkers */
}

/* get_line: the next line into *b (without its '\n'), from libedit (E->h set) or stdin.
 * Returns 1 for a line, 0 at the end of input, -1 for an interrupted one (Ctrl-C). A line
 * longer than MAX_INPUT is cut there, *cut set and the rest skipped. */
static int
get_line(struct edit *E, bool more, struct lw_buf *b, bool *cut)
{
    b->len = 0;
    *cut = false;
    if (E->h != NULL) {
        int count = 0;
        E->set(E->el, EL_PROMPT, more ? prompt_more : prompt_main);
        interrupted = 0;
        const char *s = E->gets(E->el, &count);
        if (s == NULL || count <= 0) {
            if (interrupted || (count < 0 && errno == EINTR)) {
                putchar('\n');
                return -1;
            }
            return 0;
        }
        size_t len = (size_t)count;
        if (len > 0 && s[len - 1] == '\n') len--;
        if (len > MAX_INPUT) {
            len = MAX_INPUT;
            *cut = true;
        }
        lw_buf_add(b, s, len);
        if (len > 0 && len <= HISTORY_LINE && !*cut) {
            char *h = lw_xstrndup(s, len);
            E->history(E->hist, &E->ev, H_ENTER, h);
            free(h);
            if (E->path != NULL) { /* it may hold records typed: the user's alone */
                E->history(E->hist, &E->ev, H_SAVE, E->path);
                chmod(E->path, 0600);
            }
        }
        return 1;
    }
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (b->len < MAX_INPUT) {
            lw_buf_addc(b, (char)c);
        } else {
            *cut = true;
        }
    }
    if (c == EOF && b->len == 0 && !*cut) return 0;
    if (b->len > 0 && b->p[b->len - 1] == '\r') b->len--;
    return 1;
}

/* ---- Options and the loop ---- */

__attribute__((format(printf, 1, 2))) static int
bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "logwash: repl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'logwash repl --help'\n");
    va_end(ap);
    return -1;
}

struct start {
    const char *file, *record, *line;
};

static int
options(struct repl *R, struct start *s, int argc, char **argv)
{
    enum { O_PATTERNS = 256, O_LIB, O_TZ, O_NOW, O_STEPS, O_HISTORY, O_RECORD, O_LINE };
    static const struct option longs[] = {
        { "file", required_argument, NULL, 'f' },
        { "record", required_argument, NULL, O_RECORD },
        { "line", required_argument, NULL, O_LINE },
        { "patterns", required_argument, NULL, O_PATTERNS },
        { "lib", required_argument, NULL, O_LIB },
        { "tz", required_argument, NULL, O_TZ },
        { "now", required_argument, NULL, O_NOW },
        { "max-steps", required_argument, NULL, O_STEPS },
        { "history", required_argument, NULL, O_HISTORY },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+f:h", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'f':
            s->file = optarg;
            break;
        case O_RECORD:
            s->record = optarg;
            break;
        case O_LINE:
            s->line = optarg;
            break;
        case O_PATTERNS:
            R->patterns = lw_xrealloc(R->patterns, (R->npatterns + 1) * sizeof *R->patterns);
            R->patterns[R->npatterns++] = optarg;
            break;
        case O_LIB:
            R->libs = lw_xrealloc(R->libs, (R->nlibs + 1) * sizeof *R->libs);
            R->libs[R->nlibs++] = optarg;
            break;
        case O_TZ: {
            struct logwash_error e;
            if (logwash_tz_check(optarg, &e) != 0) return bad("--tz: %s", e.message);
            R->tz = optarg;
            break;
        }
        case O_NOW:
            if (logwash_parse_time(optarg, strlen(optarg), &R->now_ns) != 0)
                return bad("--now takes epoch seconds or an RFC 3339 time, not '%s'", optarg);
            R->now_set = true;
            break;
        case O_STEPS:
            errno = 0;
            R->steps = strtoull(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || *end != '\0' || errno != 0 || R->steps == 0)
                return bad("--max-steps takes a number of instructions, not '%s'", optarg);
            break;
        case O_HISTORY:
            R->history = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            return bad("bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad("unexpected argument '%s'", argv[optind]);
    if (s->record != NULL && s->line != NULL) return bad("give --record or --line, not both");
    return 0;
}

static void
repl_fini(struct repl *R)
{
    for (size_t i = 0; i < R->nentries; i++)
        entry_free(&R->entries[i]);
    free(R->entries);
    for (size_t i = 0; i < R->nowned; i++)
        free(R->owned_libs[i]);
    free(R->owned_libs);
    free(R->libs);
    free(R->patterns);
    free(R->pieces);
    lw_buf_fini(&R->text);
    lw_buf_fini(&R->rec);
    lw_uadata_fini(&R->ua);
}

int
lw_repl_main(int argc, char **argv)
{
    struct repl R = { .steps = LOGWASH_DEFAULT_STEPS };
    struct start s = { 0 };
    lw_buf_init(&R.rec);
    lw_buf_init(&R.text);
    int rc = options(&R, &s, argc, argv);
    if (rc != 0) {
        repl_fini(&R);
        return rc > 0 ? 0 : 2;
    }
    add_lib(&R, ".");
    bool tty = isatty(0) == 1;
    struct edit E = { 0 };
    if (tty) {
        struct sigaction sa = { .sa_handler = on_sigint }; /* no SA_RESTART: Ctrl-C ends a read */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        edit_open(&E, R.history);
        printf("logwash %s: type an expression or a statement, :help for commands, :quit to "
               "leave\n",
               logwash_version());
    }
    if (s.record != NULL && set_record(&R, s.record, true) != 0) R.failed = true;
    if (s.line != NULL && set_record(&R, s.line, false) != 0) R.failed = true;
    if (s.file != NULL && load(&R, s.file) != 0) R.failed = true;

    struct lw_buf in, line;
    lw_buf_init(&in);
    lw_buf_init(&line);
    unsigned lineno = 0;
    for (;;) {
        bool cut;
        fflush(stdout);
        if (!tty || E.h == NULL) {
            if (tty) fputs(in.len ? "... " : "lw> ", stdout);
            fflush(stdout);
        }
        int got = get_line(&E, in.len > 0, &line, &cut);
        if (got < 0) { /* Ctrl-C: the input so far is forgotten */
            in.len = 0;
            continue;
        }
        lineno += got > 0;
        if (cut) {
            fprintf(stderr, "logwash: repl: line %u: longer than %u MiB: skipped\n", lineno,
                    MAX_INPUT >> 20);
            R.failed = true;
            in.len = 0;
            continue;
        }
        bool blank = got > 0 && line.len == strspn(line.p ? line.p : "", " \t");
        if (got > 0 && in.len == 0 && blank) continue;
        if (got > 0 && !blank) {
            if (in.len + line.len + 1 > MAX_INPUT) {
                fprintf(stderr,
                        "logwash: repl: line %u: the input is longer than %u MiB: "
                        "skipped\n",
                        lineno, MAX_INPUT >> 20);
                R.failed = true;
                in.len = 0;
                continue;
            }
            if (in.len == 0 && line.p[strspn(line.p, " \t")] == ':') {
                lw_buf_addc(&line, '\0');
                int r = command(&R, line.p + strspn(line.p, " \t"));
                if (r < 0) R.failed = true;
                if (r > 0) break;
                continue;
            }
            lw_buf_add(&in, line.p, line.len);
            lw_buf_addc(&in, '\n');
            if (open_brackets(in.p, in.len)) continue; /* more lines, until an empty one */
        }
        if (in.len > 0) {
            char name[32];
            snprintf(name, sizeof name, "repl[%u]", ++R.ninputs);
            /* the input being typed is "repl"; kept, it becomes repl[N] */
            if (input(&R, "repl", in.p, in.len, false) != 0) R.failed = true;
            if (R.nentries > 0 && strcmp(R.entries[R.nentries - 1].name, "repl") == 0) {
                free(R.entries[R.nentries - 1].name);
                R.entries[R.nentries - 1].name = lw_xstrndup(name, strlen(name));
            }
            in.len = 0;
        }
        if (got == 0) break;
    }
    if (tty) putchar('\n');
    lw_buf_fini(&in);
    lw_buf_fini(&line);
    edit_close(&E);
    repl_fini(&R);
    if (fflush(stdout) != 0) return 4;
    return !tty && R.failed ? 1 : 0;
}
