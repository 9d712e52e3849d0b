/* The parser: tokens to an AST (compile_int.h), by recursive descent with one function per
 * precedence level. Literal values are decoded here, string interpolation "${...}" is parsed
 * by re-entering the expression parser over the part's byte range, so every node keeps its
 * true span in the template. Name resolution and types are compile.c's; the parser reads the
 * builtin table only to know which call arguments are patterns (a hint for unknown escapes).
 * Errors: a mistake the parse can go on after (a bad escape, a missing ',', '=' for '==') is
 * reported with lw_cerror; any other one fails the statement, which `guarded` turns into an
 * S_ERROR after skipping to the next statement (see sync), so every statement is looked at. */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "compile_int.h"
#include "lw/duration.h"
#include "lw/vm.h"

static struct node *expr(struct compiler *c);
static struct node *block(struct compiler *c);
static struct node *assign_for_eq(struct compiler *c, struct node *cond);
static struct node *fn_def(struct compiler *c);
static struct node *import_stmt(struct compiler *c);

static struct token *
cur(struct compiler *c)
{
    return &c->lx.tok;
}

static void
next(struct compiler *c)
{
    if (c->lx.tok.t == T_ERROR) c->stmt_bad = true; /* reported: what fails next follows it */
    lw_lex_next(c, &c->lx);
}

static struct lw_str
text(struct compiler *c, struct lw_span sp)
{
    return (struct lw_str){ c->lx.src.p + sp.off, sp.len };
}

/* describe: how a token reads in a message: 'emit', "a string", "end of template". */
static const char *
describe(struct compiler *c, struct token *t, char *buf, size_t cap)
{
    switch (t->t) {
    case T_EOF:
    case T_STRING:
    case T_RAWSTR:
    case T_REGEX:
        snprintf(buf, cap, "%s",
                 t->t == T_EOF     ? "the end of the template"
                 : t->t == T_REGEX ? "a regex"
                                   : "a string");
        return buf;
    default:
        break;
    }
    struct lw_str s = text(c, t->span);
    snprintf(buf, cap, "'%.*s'", (int)(s.len > 40 ? 40 : s.len), s.p);
    return buf;
}

static void habit(struct compiler *c);

static _Noreturn void
unexpected(struct compiler *c, const char *expected)
{
    char b[64];
    habit(c);
    lw_cfail(c, cur(c)->span, "expected %s, found %s", expected, describe(c, cur(c), b, sizeof b));
}

static struct token
expect(struct compiler *c, enum tok t, const char *what)
{
    if (cur(c)->t != t) unexpected(c, what);
    struct token tk = *cur(c);
    next(c);
    return tk;
}

/* unclosed: the message of a missing closing bracket, naming the opening one. */
static void
unclosed(struct compiler *c, char ch, struct lw_span open, char *msg, size_t cap)
{
    char b[64];
    int line, col;
    const struct srcfile *f = &c->files[c->file]; /* line:col in the file, not the whole text */
    lw_diag_linecol((struct lw_str){ c->lx.src.p + f->base, f->len }, open.off - f->base, &line,
                    &col);
    snprintf(msg, cap, "expected '%c' to close '%c' at %d:%d, found %s", ch, c->lx.src.p[open.off],
             line, col, describe(c, cur(c), b, sizeof b));
}

/* expect_close: a closing bracket, naming the opening one in the message. */
static void
expect_close(struct compiler *c, enum tok t, char ch, struct lw_span open)
{
    if (cur(c)->t == t) {
        next(c);
        return;
    }
    char msg[200];
    unclosed(c, ch, open, msg, sizeof msg);
    lw_cfail(c, cur(c)->span, "%s", msg);
}

/* habit: a hint for what other languages write where the current token stands, failing with
 * it; nothing when the token is no known habit. */
static void
habit(struct compiler *c)
{
    struct token *t = cur(c);
    struct lw_str w = text(c, t->span);
    if (t->t == T_IDENT && (lw_str_eq(w, LW_STR_LIT("and")) || lw_str_eq(w, LW_STR_LIT("or")))) {
        lw_cfail(c, t->span, "unexpected '%.*s': write '%s'", (int)w.len, w.p,
                 w.len == 3 ? "&&" : "||");
    }
}

static struct node *
mk(struct compiler *c, enum node_kind k, struct lw_span sp)
{
    struct node *n = lw_arena_alloc(&c->ca, sizeof *n);
    *n = (struct node){ .kind = k, .span = sp };
    return n;
}

static struct lw_span
join(struct lw_span a, struct lw_span b)
{
    uint32_t end = b.off + b.len > a.off + a.len ? b.off + b.len : a.off + a.len;
    return (struct lw_span){ a.off, end - a.off };
}

/* Lists are built through a tail pointer. */
struct list {
    struct node *head, **tail;
    uint32_t n;
};

static void
list_init(struct list *l)
{
    l->head = NULL;
    l->tail = &l->head;
    l->n = 0;
}

static void
list_add(struct list *l, struct node *n)
{
    *l->tail = n;
    l->tail = &n->next;
    l->n++;
}

/* regex_escape: e after a backslash means something to PCRE2 or grok (\d \w \s \b \[ \. \1 ...),
 * so "\d" in a pattern argument was meant for the regex, not for the string. */
static bool
regex_escape(char e)
{
    if (e >= '1' && e <= '9') return true;
    if (e > ' ' && e < 0x7f && ispunct((unsigned char)e)) return true;
    return e != '\0' && strchr("aAbBcdDeEfgGhHkKNopPQRsSvVwWxXzZ", e) != NULL;
}

/* The text s[start, end) of a double-quoted string means the same between single quotes (grok,
 * 'g') or slashes (a regex literal, 'r'): no escape that differs there (\\ \$ \u), no
 * interpolation, no quote or slash that would end it; short enough to quote in a message. */
static bool
same_unquoted(const char *s, size_t start, size_t end, char kind)
{
    if (end - start > 60) return false;
    if (kind == 'g' && memchr(s + start, '\'', end - start) != NULL) return false;
    for (size_t i = start; i < end; i++) {
        if (s[i] == '\\') {
            if (i + 1 < end && strchr("\\$u", s[i + 1]) != NULL) return false;
            i++;
        } else if ((s[i] == '$' && i + 1 < end && s[i + 1] == '{') ||
                   (s[i] == '/' && kind == 'r')) {
            return false;
        }
    }
    return true;
}

/* An unknown escape in a pattern argument was meant for the pattern: say how to keep the
 * backslash, with the argument rewritten when it can be ("\[%{DATA:d}\]" as '\[%{DATA:d}\]'). */
static void
pattern_escape(struct compiler *c, const char *s, size_t start, size_t i, size_t end)
{
    struct lw_span sp = { (uint32_t)i, 2 };
    char e = s[i + 1];
    int n = (int)(end - start);
    bool same = same_unquoted(s, start, end, c->pattern_arg);
    const char *many =
        memchr(s + i + 2, '\\', end - i - 2) != NULL || memchr(s + start, '\\', i - start) != NULL
            ? "es"
            : "";
    if (c->pattern_arg == 'g' && same) {
        lw_cerror(c, sp,
                  "unknown escape '\\%c' (grok patterns are easier in single quotes: '%.*s' keeps "
                  "the backslash%s)",
                  e, n, s + start, many);
    } else if (c->pattern_arg == 'g') {
        lw_cerror(c, sp,
                  "unknown escape '\\%c' (grok patterns are easier in single quotes, where '\\%c' "
                  "keeps its backslash)",
                  e, e);
    } else if (same) {
        lw_cerror(c, sp,
                  "unknown escape '\\%c' (write the regex as a literal: /%.*s/ keeps the "
                  "backslash%s)",
                  e, n, s + start, many);
    } else {
        lw_cerror(c, sp,
                  "unknown escape '\\%c' (write the regex as a literal /.../, where '\\%c' keeps "
                  "its backslash)",
                  e, e);
    }
}

/* escape: decode the escape at s[i] (a backslash) of the string s[from, end) into dst;
 * returns the bytes consumed. */
static size_t
escape(struct compiler *c, const char *s, size_t from, size_t i, size_t end, char *dst, size_t *len)
{
    char e = i + 1 < end ? s[i + 1] : '\0';
    char plain;
    switch (e) {
    case 'n':
        plain = '\n';
        break;
    case 't':
        plain = '\t';
        break;
    case 'r':
        plain = '\r';
        break;
    case '0':
        plain = '\0';
        break;
    case '\\':
    case '"':
    case '$':
    case '\'':
    case '/':
        plain = e;
        break;
    default:
        plain = 'u';
    }
    if (e != 'u' && plain != 'u') {
        dst[(*len)++] = plain;
        return 2;
    }
    if (e == 'u') {
        /* \u{1F600} or \u00e9 */
        size_t j = i + 2, start;
        bool braced = j < end && s[j] == '{';
        if (braced) j++;
        start = j;
        uint32_t cp = 0;
        int h;
        while (j < end && j - start < (braced ? 6u : 4u) && (h = lw_hexval(s[j])) >= 0) {
            cp = cp * 16 + (uint32_t)h;
            j++;
        }
        bool ok = braced ? (j > start && j < end && s[j] == '}') : j - start == 4;
        if (braced && ok) j++;
        if (!ok || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            if (c->esc_told) return j - i;
            c->esc_told = true;
            lw_cerror(c, (struct lw_span){ (uint32_t)i, (uint32_t)(j - i) },
                      "invalid unicode escape: expected \\uXXXX or \\u{X...} naming a code point");
            return j - i;
        }
        *len += lw_utf8_put(dst + *len, cp);
        return j - i;
    }
    if (c->esc_told) return 2; /* one message per literal: it says what to do for all */
    c->esc_told = true;
    if (c->pattern_arg != 0 && regex_escape(e)) {
        pattern_escape(c, s, from, i, end);
        return 2;
    }
    lw_cerror(
        c, (struct lw_span){ (uint32_t)i, 2 },
        "unknown escape '\\%c' (known: \\n \\t \\r \\0 \\\\ \\\" \\' \\/ \\$ \\uXXXX \\u{X...})",
        e);
    return 2;
}

/* subexpr: the expression of a "${...}" part, bytes [start, end), with a lexer of its own; the
 * file's is kept in c->outer too, where a statement's recovery finds it. */
static struct node *
subexpr(struct compiler *c, size_t start, size_t end)
{
    struct lexer saved = c->lx;
    if (c->in_sub++ == 0) c->outer = saved;
    lw_lex_init(&c->lx, saved.src, start, end);
    next(c);
    struct node *e;
    if (cur(c)->t == T_EOF) {
        struct lw_span sp = { (uint32_t)start - 2, (uint32_t)(end - start + 3) };
        lw_cerror(c, sp, "empty '${}' in string: expected an expression");
        e = mk(c, N_ERROR, sp);
    } else {
        e = expr(c);
        if (cur(c)->t != T_EOF) unexpected(c, "'}' to end the '${' expression");
    }
    c->lx = saved;
    c->in_sub--;
    return e;
}

/* string: a "..." token into N_STR, or N_INTERP when it holds ${...} parts. */
static struct node *
string(struct compiler *c, struct token tk)
{
    const char *s = c->lx.src.p;
    size_t i = tk.span.off + 1, end = tk.span.off + tk.span.len - 1;
    char *buf = lw_arena_alloc(&c->ca, tk.span.len + 1);
    size_t len = 0, lit_start = i, lit_start0 = i;
    struct list parts;
    list_init(&parts);
    bool told = c->esc_told;
    c->esc_told = false;

    while (i < end) {
        if (s[i] == '\\') {
            i += escape(c, s, lit_start0, i, end, buf, &len);
        } else if (s[i] == '$' && i + 1 < end && s[i + 1] == '{') {
            if (len > 0) {
                struct node *lit = mk(
                    c, N_STR, (struct lw_span){ (uint32_t)lit_start, (uint32_t)(i - lit_start) });
                lit->s = (struct lw_str){ lw_arena_dup(&c->ca, buf, len), len };
                list_add(&parts, lit);
                len = 0;
            }
            size_t j = i + 2;
            int depth = 1;
            while (j < end) {
                if (s[j] == '{')
                    depth++;
                else if (s[j] == '}' && --depth == 0)
                    break;
                else if (s[j] == '"') {
                    j++;
                    while (j < end && s[j] != '"')
                        j += s[j] == '\\' ? 2 : 1;
                } else if (s[j] == '\'') {
                    j++;
                    while (j < end && s[j] != '\'')
                        j++;
                }
                j++;
            }
            list_add(&parts, subexpr(c, i + 2, j));
            i = j + 1;
            lit_start = i;
        } else {
            buf[len++] = s[i++];
        }
    }
    c->esc_told = told;
    if (parts.n == 0) {
        struct node *n = mk(c, N_STR, tk.span);
        n->s = (struct lw_str){ buf, len };
        return n;
    }
    if (len > 0) {
        struct node *lit =
            mk(c, N_STR, (struct lw_span){ (uint32_t)lit_start, (uint32_t)(end - lit_start) });
        lit->s = (struct lw_str){ buf, len };
        list_add(&parts, lit);
    }
    struct node *n = mk(c, N_INTERP, tk.span);
    n->kids = parts.head;
    n->nkids = parts.n;
    return n;
}

static struct node *
regex(struct compiler *c, struct token tk)
{
    const char *s = c->lx.src.p + tk.span.off;
    size_t close = tk.span.len - 1;
    while (s[close] != '/')
        close--;
    struct node *n = mk(c, N_REGEX, tk.span);
    char *pat = lw_arena_alloc(&c->ca, close + 1);
    size_t len = 0;
    for (size_t i = 1; i < close; i++) {
        if (s[i] == '\\' && s[i + 1] == '/') continue; /* \/ is a plain slash */
        pat[len++] = s[i];
    }
    n->s = (struct lw_str){ pat, len };
    n->s2 = (struct lw_str){ s + close + 1, tk.span.len - close - 1 }; /* flags */
    return n;
}

static struct node *
number(struct compiler *c, struct token tk)
{
    struct lw_str t = text(c, tk.span);
    char buf[64];
    if (t.len >= sizeof buf) {
        lw_cerror(c, tk.span, "number too long");
        return mk(c, N_ERROR, tk.span);
    }
    memcpy(buf, t.p, t.len);
    buf[t.len] = '\0';
    struct node *n;
    errno = 0;
    if (tk.t == T_INT) {
        n = mk(c, N_INT, tk.span);
        n->i = strtoll(buf, NULL, 10);
        if (errno == ERANGE && strcmp(buf, "9223372036854775808") == 0) {
            n->i = INT64_MIN; /* only valid negated: checked when compiled */
            n->big = true;
        } else if (errno == ERANGE) {
            lw_cerror(c, tk.span, "integer literal out of range: the largest int is %lld",
                      (long long)INT64_MAX);
            n->kind = N_ERROR;
        }
    } else {
        n = mk(c, N_FLOAT, tk.span);
        n->f = strtod(buf, NULL);
        if (errno == ERANGE && (n->f > 1 || n->f < -1)) {
            lw_cerror(c, tk.span, "float literal out of range");
            n->kind = N_ERROR;
        }
    }
    return n;
}

/* peek2: the token after the current one, without consuming anything. */
static struct token
peek2(struct compiler *c)
{
    struct lexer saved = c->lx;
    next(c);
    struct token t = *cur(c);
    c->lx = saved;
    return t;
}

/* multiline: the framing directive `multiline start /RE/`, `multiline continue /RE/` or
 * `multiline indent` (the word after `multiline` is the current token): the template's
 * --multiline-* default, which the command line overrides (prog->ml_*). The regex is checked
 * here; src_file.c compiles it for the run. Flags i m s x become an inline (?...) group. */
static struct node *
multiline(struct compiler *c, struct token tk)
{
    struct lw_program *p = c->prog;
    struct token w = *cur(c);
    struct lw_str ws = text(c, w.span);
    if (c->file != 0) {
        lw_cfail(c, tk.span, "'multiline' belongs in the template, not in an imported file");
    }
    if (p->ml_start != NULL || p->ml_continue != NULL || p->ml_indent) {
        lw_cfail(c, tk.span, "one 'multiline' directive per template");
    }
    bool start = lw_str_eq(ws, LW_STR_LIT("start"));
    if (lw_str_eq(ws, LW_STR_LIT("indent"))) {
        next(c);
        p->ml_indent = true;
        return mk(c, S_BLOCK, tk.span);
    }
    if (!start && !lw_str_eq(ws, LW_STR_LIT("continue"))) {
        lw_cfail(c, w.span, "expected start, continue or indent after 'multiline'");
    }
    next(c); /* the lexer reads a '/' after the word as a regex (lexer.ml_word) */
    struct token r = *cur(c);
    if (r.t != T_REGEX || r.nl_before) unexpected(c, "a regex /.../ after 'multiline'");
    next(c);
    struct node *re = regex(c, r);
    char *pat = lw_arena_alloc(&p->arena, re->s.len + 16);
    size_t n = 0;
    if (re->s2.len > 0) {
        pat[n++] = '(';
        pat[n++] = '?';
        for (size_t i = 0; i < re->s2.len; i++) {
            char f = re->s2.p[i];
            if (f != 'i' && f != 'm' && f != 's' && f != 'x') {
                lw_cfail(
                    c, (struct lw_span){ r.span.off + r.span.len - (uint32_t)(re->s2.len - i), 1 },
                    "unknown flag '%c' for a multiline regex (known: i m s x)", f);
            }
            if (i < 8) pat[n++] = f;
        }
        pat[n++] = ')';
    }
    size_t pre = n;
    if (memchr(re->s.p, '\0', re->s.len) != NULL) lw_cfail(c, r.span, "a NUL byte in the regex");
    memcpy(pat + n, re->s.p, re->s.len);
    n += re->s.len;
    pat[n] = '\0';
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, n, 0, &ec, &eo, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        size_t at = eo > pre ? eo - pre : 0;
        struct lw_span sp = r.span;
        if (at < re->s.len && memchr(re->s.p, '/', re->s.len) == NULL) {
            sp = (struct lw_span){ r.span.off + 1 + (uint32_t)at, 1 }; /* no \/ shifted it */
        }
        lw_cfail(c, sp, "invalid regex: %s", (char *)msg);
    }
    pcre2_code_free(code);
    *(start ? &p->ml_start : &p->ml_continue) = pat;
    return mk(c, S_BLOCK, tk.span);
}

/* emit_clauses: the routing clauses after `emit EXPR`, in any order, each at most once, on the
 * statement's line: `to TOPIC`, `key KEY`, `headers OBJECT`. The words are not reserved: only
 * here, after a complete expression, can an identifier not start anything else. */
static void
emit_clauses(struct compiler *c, struct node *n)
{
    while (cur(c)->t == T_IDENT && !cur(c)->nl_before) {
        struct token w = *cur(c);
        struct lw_str s = text(c, w.span);
        struct node **slot = lw_str_eq(s, LW_STR_LIT("to"))        ? &n->b
                             : lw_str_eq(s, LW_STR_LIT("key"))     ? &n->c
                             : lw_str_eq(s, LW_STR_LIT("headers")) ? &n->kids
                                                                   : NULL;
        if (slot == NULL) unexpected(c, "'to', 'key', 'headers' or the end of the statement");
        if (*slot != NULL) lw_cerror(c, w.span, "'%.*s' given twice", (int)s.len, s.p);
        next(c);
        *slot = expr(c);
    }
}

/* is_name: an identifier, or a keyword used as a member name after '.' or in an object key. */
static bool
is_name(enum tok t)
{
    return t == T_IDENT || (t >= T_LET && t <= T_IMPORT);
}

static struct node *
path(struct compiler *c)
{
    struct token dot = expect(c, T_DOT, "'.'");
    struct node *n = mk(c, N_PATH, dot.span);
    struct lw_pathseg segs[64];
    uint32_t ns = 0;
    bool first = true;
    for (;;) {
        struct token t = *cur(c);
        if (t.nl_before) break;
        struct lw_pathseg seg = { 0 };
        /* `. name` with a space is the record followed by a word (emit . to "t") */
        if (first && is_name(t.t) && t.span.off == dot.span.off + 1) {
            seg.key = text(c, t.span);
            next(c);
        } else if (!first && t.t == T_DOT && is_name(peek2(c).t) && !peek2(c).nl_before) {
            next(c);
            seg.key = text(c, cur(c)->span);
            next(c);
        } else if (t.t == T_LBRACK) {
            struct token in = peek2(c);
            struct lexer saved = c->lx;
            bool neg = false;
            if (in.t == T_MINUS) { /* .a[-1]: counts from the end */
                next(c);
                in = peek2(c);
                neg = true;
                if (in.t != T_INT) {
                    c->lx = saved;
                    break;
                }
            }
            if (in.t != T_INT && in.t != T_STRING && in.t != T_RAWSTR) break;
            next(c);
            struct node *lit = in.t == T_INT      ? number(c, in)
                               : in.t == T_STRING ? string(c, in)
                                                  : NULL;
            next(c);
            if (cur(c)->t != T_RBRACK || (lit && lit->kind == N_INTERP)) {
                c->lx = saved; /* a computed index: handled as a postfix [expr] */
                break;
            }
            next(c);
            if (in.t == T_INT) {
                seg.index = neg ? -lit->i : lit->i;
            } else {
                seg.key = lit ? lit->s
                              : (struct lw_str){ c->lx.src.p + in.span.off + 1, in.span.len - 2 };
                if (seg.key.len == 0) seg.key.p = "";
            }
        } else {
            break;
        }
        if (ns == 64) lw_cfail(c, t.span, "record path too long (64 segments at most)");
        segs[ns++] = seg;
        first = false;
        n->span = join(n->span, c->lx.prev.span);
    }
    n->segs = lw_arena_dup(&c->ca, segs, ns * sizeof segs[0]);
    n->nsegs = ns;
    return n;
}

/* pattern_arg: 'g' when argument i of the function named name is a grok pattern, 'r' when it
 * takes a regex (type r or R), else 0. Unknown functions are compile.c's to report. */
static char
pattern_arg(struct lw_str name, uint32_t i)
{
    for (int f = 0; f < LW_FN_N; f++) {
        const struct lw_builtin *b = &lw_builtins[f];
        if (!lw_str_eq(name, lw_str_c(b->name))) continue;
        char t = lw_builtin_argtype(b, (int)i);
        if (t == 'P' && f == LW_FN_grok) return 'g';
        return t == 'r' || t == 'R' || t == 'q' ? 'r' : 0;
    }
    return 0;
}

static struct node *
args(struct compiler *c, struct node *call)
{
    struct token open = expect(c, T_LPAREN, "'('");
    struct list l;
    list_init(&l);
    c->brackets++;
    char outer = c->pattern_arg;
    while (cur(c)->t != T_RPAREN) {
        c->pattern_arg = pattern_arg(call->s, l.n);
        list_add(&l, expr(c));
        if (cur(c)->t != T_COMMA) break;
        next(c);
    }
    c->pattern_arg = outer;
    c->brackets--;
    expect_close(c, T_RPAREN, ')', open.span);
    call->kids = l.head;
    call->nkids = l.n;
    call->span = join(call->span, c->lx.prev.span);
    return call;
}

/* comp_tail: after '[' expr or '{' key ':' value, at 'for': the rest of a comprehension,
 * up to the closing bracket (not consumed). */
static struct node *
comp_tail(struct compiler *c, struct node *n)
{
    struct token kw = expect(c, T_FOR, "'for'");
    n->kind = N_COMP;
    struct token v1 = expect(c, T_IDENT, "a variable name after 'for'");
    n->s = text(c, v1.span);
    if (cur(c)->t == T_COMMA) {
        next(c);
        struct token v2 = expect(c, T_IDENT, "a second variable name after ','");
        n->s2 = n->s;
        n->s = text(c, v2.span);
        n->i = 1;
    }
    expect(c, T_IN, "'in'");
    n->kids = expr(c);
    n->nkids = 1;
    if (cur(c)->t == T_IF) {
        next(c);
        n->c = assign_for_eq(c, expr(c));
    }
    (void)kw;
    return n;
}

/* obj_comp: a '{' key ':' value 'for' ... comprehension, when the object starts like one: the
 * key is parsed as an expression on a copy of the lexer, and the parse is kept only if a 'for'
 * follows the value; else NULL with the lexer back at the key. A keyword key ({if: 1}) is
 * never an expression, so nothing that would fail is tried. */
static struct node *
obj_comp(struct compiler *c, struct token open)
{
    enum tok t = cur(c)->t;
    if (t != T_IDENT && t != T_DOT && t != T_LPAREN && t != T_STRING && t != T_RAWSTR &&
        t != T_LBRACK && t != T_INT)
        return NULL;
    struct lexer saved = c->lx;
    uint32_t nesting = c->nesting;
    struct node *key = expr(c);
    if (cur(c)->t == T_COLON) {
        next(c);
        struct node *val = expr(c);
        if (cur(c)->t == T_FOR) {
            struct node *n = mk(c, N_COMP, open.span);
            n->op = T_LBRACE;
            n->a = key;
            n->b = val;
            return comp_tail(c, n);
        }
    }
    c->lx = saved;
    c->nesting = nesting;
    return NULL;
}

static struct node *
object(struct compiler *c)
{
    struct token open = expect(c, T_LBRACE, "'{'");
    struct node *n = mk(c, N_OBJECT, open.span);
    struct list l;
    list_init(&l);
    c->brackets++;
    struct node *comp = obj_comp(c, open);
    if (comp != NULL) {
        c->brackets--;
        expect_close(c, T_RBRACE, '}', open.span);
        comp->span = join(open.span, c->lx.prev.span);
        return comp;
    }
    while (cur(c)->t != T_RBRACE) {
        struct token k = *cur(c);
        struct node *pair = mk(c, N_PAIR, k.span);
        if (k.t == T_STRING || k.t == T_RAWSTR) {
            struct node *ks = k.t == T_STRING ? string(c, k) : NULL;
            if (ks && ks->kind == N_INTERP) lw_cerror(c, k.span, "object keys cannot use '${'");
            pair->s = ks ? ks->s : (struct lw_str){ c->lx.src.p + k.span.off + 1, k.span.len - 2 };
            next(c);
            expect(c, T_COLON, "':' after the key");
            pair->a = expr(c);
        } else if (is_name(k.t)) {
            pair->s = text(c, k.span);
            next(c);
            if (cur(c)->t == T_COLON) {
                next(c);
                pair->a = expr(c);
            } else {
                if (k.t != T_IDENT) unexpected(c, "':' after the key");
                /* { client } means { client: client } */
                pair->a = mk(c,
                             lw_str_eq(pair->s, LW_STR_LIT("line"))   ? N_LINE
                             : lw_str_eq(pair->s, LW_STR_LIT("meta")) ? N_META
                                                                      : N_VAR,
                             k.span);
                pair->a->s = pair->s;
            }
        } else {
            unexpected(c, "a key (a name or a string) or '}'");
        }
        pair->span = join(k.span, c->lx.prev.span);
        list_add(&l, pair);
        if (cur(c)->t != T_COMMA && cur(c)->t != T_RBRACE &&
            (is_name(cur(c)->t) || cur(c)->t == T_STRING || cur(c)->t == T_RAWSTR) &&
            peek2(c).t == T_COLON) {
            lw_cerror(c, cur(c)->span, "missing ',' between object members");
            continue; /* as if it were there */
        }
        if (cur(c)->t != T_COMMA) break;
        next(c);
    }
    c->brackets--;
    expect_close(c, T_RBRACE, '}', open.span);
    n->kids = l.head;
    n->nkids = l.n;
    n->span = join(open.span, c->lx.prev.span);
    return n;
}

/* starts_element: a token that cannot continue an expression but starts one: after an
 * array's element, a missing ','. */
static bool
starts_element(enum tok t)
{
    return t == T_INT || t == T_FLOAT || t == T_STRING || t == T_RAWSTR || t == T_TRUE ||
           t == T_FALSE || t == T_NULL || t == T_IDENT || t == T_LBRACE;
}

static struct node *
array(struct compiler *c)
{
    struct token open = expect(c, T_LBRACK, "'['");
    struct node *n = mk(c, N_ARRAY, open.span);
    struct list l;
    list_init(&l);
    c->brackets++;
    while (cur(c)->t != T_RBRACK) {
        list_add(&l, expr(c));
        if (l.n == 1 && cur(c)->t == T_FOR) { /* [x.a for x in xs if ...] */
            n->op = T_LBRACK;
            n->a = l.head;
            comp_tail(c, n);
            c->brackets--;
            expect_close(c, T_RBRACK, ']', open.span);
            n->span = join(open.span, c->lx.prev.span);
            return n;
        }
        if (starts_element(cur(c)->t)) {
            lw_cerror(c, cur(c)->span, "missing ',' between array elements");
            continue; /* as if it were there */
        }
        if (cur(c)->t != T_COMMA) break;
        next(c);
    }
    c->brackets--;
    expect_close(c, T_RBRACK, ']', open.span);
    n->kids = l.head;
    n->nkids = l.n;
    n->span = join(open.span, c->lx.prev.span);
    return n;
}

static struct node *
primary(struct compiler *c)
{
    struct token tk = *cur(c);
    struct node *n;
    switch (tk.t) {
    case T_INT:
    case T_FLOAT:
        next(c);
        return number(c, tk);
    case T_STRING:
        next(c);
        return string(c, tk);
    case T_RAWSTR:
        next(c);
        n = mk(c, N_STR, tk.span);
        n->s = (struct lw_str){ c->lx.src.p + tk.span.off + 1, tk.span.len - 2 };
        return n;
    case T_REGEX:
        next(c);
        return regex(c, tk);
    case T_DURATION: /* the string of its text: 10m is "10m" */
        next(c);
        n = mk(c, N_STR, tk.span);
        n->s = text(c, tk.span);
        return n;
    case T_TRUE:
    case T_FALSE:
        next(c);
        n = mk(c, N_BOOL, tk.span);
        n->i = tk.t == T_TRUE;
        return n;
    case T_NULL:
        next(c);
        return mk(c, N_NULL, tk.span);
    case T_ERROR: /* reported by the lexer */
        next(c);
        return mk(c, N_ERROR, tk.span);
    case T_IDENT:
        next(c);
        n = mk(c, N_VAR, tk.span);
        n->s = text(c, tk.span);
        if (cur(c)->t == T_LPAREN && !cur(c)->nl_before) {
            n->kind = N_CALL;
            return args(c, n);
        }
        if (lw_str_eq(n->s, LW_STR_LIT("line"))) n->kind = N_LINE;
        if (lw_str_eq(n->s, LW_STR_LIT("meta"))) n->kind = N_META;
        return n;
    case T_DOT:
        return path(c);
    case T_LPAREN: {
        next(c);
        c->brackets++;
        n = expr(c);
        c->brackets--;
        expect_close(c, T_RPAREN, ')', tk.span);
        return n;
    }
    case T_LBRACK:
        return array(c);
    case T_LBRACE:
        return object(c);
    default:
        unexpected(c, "an expression");
    }
}

static struct node *
postfix(struct compiler *c)
{
    struct node *n = primary(c);
    for (;;) {
        struct token tk = *cur(c);
        if (tk.nl_before) return n;
        if (tk.t == T_DOT) {
            next(c);
            if (!is_name(cur(c)->t)) unexpected(c, "a member name after '.'");
            struct node *g = mk(c, N_GET, join(n->span, cur(c)->span));
            g->a = n;
            g->s = text(c, cur(c)->span);
            next(c);
            n = g;
        } else if (tk.t == T_LBRACK) {
            next(c);
            struct node *ix = mk(c, N_INDEX, n->span);
            ix->a = n;
            c->brackets++;
            ix->b = expr(c);
            c->brackets--;
            expect_close(c, T_RBRACK, ']', tk.span);
            ix->span = join(n->span, c->lx.prev.span);
            n = ix;
        } else {
            return n;
        }
    }
}

#define MAX_NESTING 200

/* enter: one more level of nesting (parentheses, unary operators, blocks, literals). */
static void
enter(struct compiler *c)
{
    if (++c->nesting > MAX_NESTING) {
        lw_cfail(c, cur(c)->span, "template nested too deeply (%d levels at most)", MAX_NESTING);
    }
}

static struct node *
unary(struct compiler *c)
{
    struct token tk = *cur(c);
    if (tk.t == T_NOT || tk.t == T_MINUS) {
        next(c);
        enter(c);
        struct node *operand = unary(c);
        c->nesting--;
        if (tk.t == T_MINUS && operand->kind == N_INT &&
            (operand->big || operand->i != INT64_MIN)) { /* fold -1 into a constant */
            operand->i = operand->big ? INT64_MIN : -operand->i;
            operand->big = false;
            operand->span = join(tk.span, operand->span);
            return operand;
        }
        if (tk.t == T_MINUS && operand->kind == N_FLOAT) {
            operand->f = -operand->f;
            operand->span = join(tk.span, operand->span);
            return operand;
        }
        struct node *n = mk(c, N_UNARY, join(tk.span, operand->span));
        n->op = tk.t;
        n->a = operand;
        return n;
    }
    return postfix(c);
}

/* at_op: the current token is operator t and continues the expression: an operator that
 * starts a new line ends the statement, unless brackets are open (then newlines are blanks). */
static bool
at_op(struct compiler *c, enum tok t)
{
    return cur(c)->t == t && (!cur(c)->nl_before || c->brackets > 0);
}

static struct node *
binary(struct compiler *c, enum node_kind k, enum tok op, struct node *l, struct node *r)
{
    struct node *n = mk(c, k, join(l->span, r->span));
    n->op = op;
    n->a = l;
    n->b = r;
    return n;
}

static struct node *
mul(struct compiler *c)
{
    struct node *n = unary(c);
    while (at_op(c, T_STAR) || at_op(c, T_SLASH) || at_op(c, T_FLOORDIV) || at_op(c, T_PERCENT)) {
        enum tok op = cur(c)->t;
        next(c);
        n = binary(c, N_BINARY, op, n, unary(c));
    }
    return n;
}

static struct node *
add(struct compiler *c)
{
    struct node *n = mul(c);
    while (at_op(c, T_PLUS) || at_op(c, T_MINUS)) {
        enum tok op = cur(c)->t;
        next(c);
        n = binary(c, N_BINARY, op, n, mul(c));
    }
    return n;
}

static bool
is_cmp(enum tok t)
{
    return t >= T_EQ && t <= T_GE;
}

static struct node *
cmp(struct compiler *c)
{
    struct node *n = add(c);
    if (is_cmp(cur(c)->t) && at_op(c, cur(c)->t)) {
        enum tok op = cur(c)->t;
        next(c);
        n = binary(c, N_BINARY, op, n, add(c));
        if (is_cmp(cur(c)->t)) {
            lw_cerror(c, cur(c)->span,
                      "comparisons do not chain: write 'a < b && b < c' instead of 'a < b < c'");
        }
        while (is_cmp(cur(c)->t)) { /* parsed on; the chain has no type to check */
            next(c);
            struct node *r = add(c);
            n = mk(c, N_ERROR, join(n->span, r->span));
        }
    }
    return n;
}

/* word_op: the word w (and, or) where an operator may stand: reported with the operator to
 * write, and parsed as that operator. */
static bool
word_op(struct compiler *c, const char *w, const char *op)
{
    struct token *t = cur(c);
    if (t->t != T_IDENT || (t->nl_before && c->brackets == 0)) return false;
    if (!lw_str_eq(text(c, t->span), lw_str_c(w))) return false;
    lw_cerror(c, t->span, "unexpected '%s': write '%s'", w, op);
    return true;
}

static struct node * and (struct compiler * c)
{
    struct node *n = cmp(c);
    while (at_op(c, T_AND) || word_op(c, "and", "&&")) {
        uint32_t op = cur(c)->span.off; /* where coverage places the branch */
        next(c);
        n = binary(c, N_AND, T_AND, n, cmp(c));
        n->i = op;
    }
    return n;
}

static struct node * or (struct compiler * c)
{
    struct node *n = and(c);
    while (at_op(c, T_OR) || word_op(c, "or", "||")) {
        uint32_t op = cur(c)->span.off;
        next(c);
        n = binary(c, N_OR, T_OR, n, and(c));
        n->i = op;
    }
    return n;
}

static struct node *
dflt(struct compiler *c)
{
    struct node *n = or (c);
    while (at_op(c, T_DEFAULT)) {
        next(c);
        n = binary(c, N_DEFAULT, T_DEFAULT, n, or (c));
    }
    return n;
}

static struct node *
expr(struct compiler *c)
{
    enter(c);
    struct node *n = dflt(c);
    if (at_op(c, T_QUESTION)) {
        next(c);
        struct node *q = mk(c, N_COND, n->span);
        q->a = n;
        q->b = expr(c);
        expect(c, T_COLON, "':' in 'cond ? a : b'");
        q->c = expr(c);
        q->span = join(n->span, q->c->span);
        c->nesting--;
        return q;
    }
    c->nesting--;
    return n;
}

static struct node *stmt(struct compiler *c);

/* assign_for_eq: a condition cond followed by '=': reported, and parsed as cond == ... */
static struct node *
assign_for_eq(struct compiler *c, struct node *cond)
{
    if (cur(c)->t != T_ASSIGN) return cond;
    lw_cerror(c, cur(c)->span, "'=' assigns: write '==' to compare");
    next(c);
    return binary(c, N_BINARY, T_EQ, cond, expr(c));
}

/* is_elseif: the current token is another language's elseif or elsif. */
static bool
is_elseif(struct compiler *c)
{
    struct lw_str w = text(c, cur(c)->span);
    return cur(c)->t == T_IDENT &&
           (lw_str_eq(w, LW_STR_LIT("elseif")) || lw_str_eq(w, LW_STR_LIT("elsif")));
}

/* end_stmt: a simple statement ends at ';', '}', the end, or a new line. */
static void
end_stmt(struct compiler *c)
{
    struct token *t = cur(c);
    if (t->t == T_SEMI) {
        next(c);
        return;
    }
    if (t->t == T_RBRACE || t->t == T_EOF || t->nl_before) return;
    unexpected(c, "a new line or ';' after the statement");
}

static struct node *
if_stmt(struct compiler *c)
{
    struct token kw = *cur(c);
    next(c);
    struct node *n = mk(c, S_IF, kw.span);
    n->a = assign_for_eq(c, expr(c));
    n->b = block(c);
    if (is_elseif(c)) {
        struct lw_str w = text(c, cur(c)->span);
        lw_cerror(c, cur(c)->span, "unexpected '%.*s': write 'elif' or 'else if'", (int)w.len, w.p);
        n->c = if_stmt(c); /* parsed as the elif it means */
    } else if (cur(c)->t == T_ELIF) {
        n->c = if_stmt(c);
    } else if (cur(c)->t == T_ELSE) {
        next(c);
        n->c = cur(c)->t == T_IF ? if_stmt(c) : block(c);
    }
    return n;
}

static struct node *
for_stmt(struct compiler *c)
{
    struct token kw = *cur(c);
    next(c);
    struct node *n = mk(c, S_FOR, kw.span);
    struct token v1 = expect(c, T_IDENT, "a variable name after 'for'");
    n->s = text(c, v1.span);
    if (cur(c)->t == T_COMMA) {
        next(c);
        struct token v2 = expect(c, T_IDENT, "a second variable name after ','");
        n->s2 = n->s; /* for k, v in x: s = value, s2 = key */
        n->s = text(c, v2.span);
        n->i = 1;
    }
    expect(c, T_IN, "'in'");
    n->a = expr(c);
    n->b = block(c);
    return n;
}

/* duration: a duration literal (1m, 250ms) for a window's size, step or lateness; "0" only
 * where zero_ok. */
static int64_t
duration(struct compiler *c, const char *what, bool zero_ok)
{
    struct token t = *cur(c);
    struct lw_str s = text(c, t.span);
    if (t.t != T_DURATION && !(t.t == T_INT && !t.nl_before)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s, a duration such as 1m or 30s", what);
        unexpected(c, msg);
    }
    next(c);
    double ns = 0;
    char err[200];
    size_t off;
    if (t.t == T_INT && !lw_str_eq(s, LW_STR_LIT("0"))) {
        lw_cfail(c, t.span, "%s: missing unit: write %.*ss for seconds (units: ns us ms s m h d w)",
                 what, (int)s.len, s.p);
    }
    if (t.t == T_DURATION && lw_duration_parse(s.p, s.len, &ns, err, sizeof err, &off) != 0)
        lw_cfail(c, t.span, "%s: %s", what, err);
    if (ns > (double)LW_MAX_WINDOW) lw_cfail(c, t.span, "%s: more than 366 days", what);
    if (!zero_ok && ns < 1) lw_cfail(c, t.span, "%s must be more than 0", what);
    return (int64_t)ns;
}

static struct node *window_rest(struct compiler *c, struct node *n, bool late_ok);
static struct node *count_window(struct compiler *c, struct node *n, struct token kt);

/* window_stmt: `window tumbling SIZE` or `window sliding SIZE every STEP`, then the clauses
 * `at EXPR`, `late DURATION`, `key EXPR`, `to TOPIC` in any order, then the block of aggregates
 * `{ NAME = AGG(ARG) ... }` (the current token is the kind). */
static struct node *
window_stmt(struct compiler *c, struct token kw)
{
    struct token kt = *cur(c);
    struct lw_str ks = text(c, kt.span);
    struct node *n = mk(c, S_WINDOW, kw.span);
    n->s = ks;
    bool sliding = lw_str_eq(ks, LW_STR_LIT("sliding"));
    bool count = lw_str_eq(ks, LW_STR_LIT("count"));
    bool session = lw_str_eq(ks, LW_STR_LIT("session"));
    if (count) return count_window(c, n, kt);
    if (!sliding && !session && !lw_str_eq(ks, LW_STR_LIT("tumbling"))) {
        lw_cfail(c, kt.span,
                 "expected tumbling, sliding, count or session after 'window', found '%.*s'",
                 (int)ks.len, ks.p);
    }
    next(c);
    n->i = duration(c, session ? "the session's gap" : "the window's size", false);
    n->f = (double)n->i;
    if (sliding) {
        struct token e = *cur(c);
        if (e.t != T_IDENT || e.nl_before || !lw_str_eq(text(c, e.span), LW_STR_LIT("every")))
            unexpected(c, "'every STEP' after a sliding window's size");
        next(c);
        struct token st = *cur(c);
        int64_t step = duration(c, "the sliding window's step", false);
        if (step > n->i) lw_cfail(c, st.span, "the step is longer than the window's size");
        if (n->i / step > LW_MAX_SLIDES)
            lw_cfail(c, st.span, "the step is too short: a record would be in more than %d windows",
                     LW_MAX_SLIDES);
        n->f = (double)step;
    }
    return window_rest(c, n, true);
}

/* count_window: `window count N timeout T` (the current token is the count): N records of a
 * key, or T after its first, make a window. n->f is N. */
static struct node *
count_window(struct compiler *c, struct node *n, struct token kt)
{
    next(c);
    struct token nt = *cur(c);
    if (nt.t != T_INT || nt.nl_before) unexpected(c, "the number of records after 'window count'");
    next(c);
    struct lw_str ns = text(c, nt.span);
    if (ns.len > 10 || strtoll(ns.p, NULL, 10) < 1 || strtoll(ns.p, NULL, 10) > 1000000000)
        lw_cfail(c, nt.span, "the count must be from 1 to 1000000000");
    n->f = (double)strtoll(ns.p, NULL, 10);
    struct token e = *cur(c);
    if (e.t != T_IDENT || e.nl_before || !lw_str_eq(text(c, e.span), LW_STR_LIT("timeout")))
        unexpected(c, "'timeout DURATION' after the count");
    next(c);
    n->i = duration(c, "the timeout", false);
    (void)kt;
    return window_rest(c, n, false);
}

/* window_rest: the clauses and the block of aggregates; late only where it may be. */
static struct node *
window_rest(struct compiler *c, struct node *n, bool late_ok)
{
    n->c = mk(c, N_INT, n->span);
    struct lw_span late_at = { 0, 0 };
    while (cur(c)->t == T_IDENT && !cur(c)->nl_before) {
        struct token w = *cur(c);
        struct lw_str ws = text(c, w.span);
        bool at = lw_str_eq(ws, LW_STR_LIT("at")), key = lw_str_eq(ws, LW_STR_LIT("key"));
        bool late = lw_str_eq(ws, LW_STR_LIT("late")), to = lw_str_eq(ws, LW_STR_LIT("to"));
        if (!at && !key && !late && !to)
            unexpected(c, "'at', 'late', 'key', 'to' or '{' after the window");
        if ((at && n->a) || (key && n->b) || (late && late_at.len) || (to && n->c->a))
            lw_cerror(c, w.span, "'%.*s' given twice", (int)ws.len, ws.p);
        next(c);
        if (at) n->a = expr(c);
        if (key) n->b = expr(c);
        if (to) n->c->a = expr(c); /* the topic: the late node holds it (compile.c window) */
        if (late && !late_ok)
            lw_cfail(c, w.span,
                     "'late' is for tumbling, sliding and session windows: a count window "
                     "takes every record of its key");
        if (late) {
            late_at = w.span;
            n->c->i = duration(c, "the allowed lateness", true);
        }
    }
    if (late_at.len && n->a == NULL)
        lw_cerror(
            c, late_at,
            "'late' needs event time: add 'at EXPR' (a processing-time window is never late)");
    struct token open = *cur(c);
    if (open.t != T_LBRACE) unexpected(c, "'{' and the window's aggregates (name = count())");
    next(c);
    struct list l;
    list_init(&l);
    while (cur(c)->t != T_RBRACE) {
        if (cur(c)->t == T_EOF) {
            char msg[200];
            unclosed(c, '}', open.span, msg, sizeof msg);
            lw_cfail(c, cur(c)->span, "%s", msg);
        }
        struct token nm = expect(c, T_IDENT, "a result name and '=' (name = count())");
        expect(c, T_ASSIGN, "'=' after the result name");
        struct token fn =
            expect(c, T_IDENT, "an aggregate: count, sum, min, max, avg, first or last");
        struct node *call = mk(c, N_CALL, fn.span);
        call->s = text(c, fn.span);
        call->s2 = text(c, nm.span);
        call->i = nm.span.off; /* the result name's place, for messages */
        if (cur(c)->t != T_LPAREN) unexpected(c, "'(' after the aggregate's name");
        args(c, call);
        list_add(&l, call);
        if (cur(c)->t == T_SEMI)
            next(c);
        else if (cur(c)->t != T_RBRACE && !cur(c)->nl_before)
            unexpected(c, "a new line, ';' or '}' after the aggregate");
    }
    next(c);
    n->kids = l.head;
    n->nkids = l.n;
    return n;
}

static struct node *
stmt(struct compiler *c)
{
    struct token tk = *cur(c);
    struct node *n;
    switch (tk.t) {
    case T_IF:
        return if_stmt(c);
    case T_FOR:
        return for_stmt(c);
    case T_LET: {
        next(c);
        struct token name = expect(c, T_IDENT, "a variable name after 'let'");
        n = mk(c, S_LET, name.span);
        n->s = text(c, name.span);
        c->let_name = n->s; /* declared even when the rest fails */
        expect(c, T_ASSIGN, "'=' after the variable name");
        n->a = expr(c);
        break;
    }
    case T_BREAK:
    case T_CONTINUE:
    case T_DROP:
        next(c);
        n = mk(c, tk.t == T_BREAK ? S_BREAK : tk.t == T_CONTINUE ? S_CONTINUE : S_DROP, tk.span);
        break;
    case T_EMIT:
        next(c);
        n = mk(c, S_EMIT, tk.span);
        if (!cur(c)->nl_before && cur(c)->t != T_SEMI && cur(c)->t != T_RBRACE &&
            cur(c)->t != T_EOF) {
            n->a = expr(c);
            emit_clauses(c, n);
        }
        break;
    case T_REJECT:
    case T_PRINT:
        next(c);
        n = mk(c, tk.t == T_REJECT ? S_REJECT : S_PRINT, tk.span);
        n->a = expr(c);
        break;
    case T_RETURN:
        next(c);
        n = mk(c, S_RETURN, tk.span);
        if (!cur(c)->nl_before && cur(c)->t != T_SEMI && cur(c)->t != T_RBRACE &&
            cur(c)->t != T_EOF) {
            n->a = expr(c);
        }
        break;
    case T_FN:
    case T_IMPORT: /* reported, and parsed on (a nested fn is known, so calls to it are not
                      reported: compile.c) */
        lw_cerror(c, tk.span, "'%s' belongs at the top level of a file, outside any block",
                  tk.t == T_FN ? "fn" : "import");
        if (tk.t == T_IMPORT) return import_stmt(c);
        n = fn_def(c);
        n->broken = true;
        return n;
    case T_INPUT: {
        next(c);
        struct token f = expect(c, T_IDENT, "'text' or 'json' after 'input'");
        struct lw_str fs = text(c, f.span);
        enum lw_informat in = lw_str_eq(fs, LW_STR_LIT("json"))   ? LW_IN_JSON
                              : lw_str_eq(fs, LW_STR_LIT("text")) ? LW_IN_TEXT
                                                                  : LW_IN_DEFAULT;
        if (in == LW_IN_DEFAULT)
            lw_cerror(c, f.span, "unknown input format: expected text or json");
        if (c->file != 0) {
            lw_cerror(c, tk.span, "'input' belongs in the template, not in an imported file");
        } else if (in != LW_IN_DEFAULT) {
            c->prog->input = in;
        }
        n = mk(c, S_BLOCK, tk.span);
        break;
    }
    default: {
        struct lw_str w = text(c, tk.span);
        if (is_elseif(c)) {
            lw_cfail(c, tk.span, "unexpected '%.*s': write 'elif' or 'else if'", (int)w.len, w.p);
        }
        if (tk.t == T_IDENT && lw_str_eq(w, LW_STR_LIT("window"))) {
            struct token t2 = peek2(c);
            if (t2.t == T_IDENT && !t2.nl_before) {
                next(c);
                n = window_stmt(c, tk);
                break;
            }
        }
        if (tk.t == T_IDENT && lw_str_eq(w, LW_STR_LIT("multiline"))) {
            struct token t2 = peek2(c);
            if ((t2.t == T_IDENT || t2.t == T_CONTINUE) && !t2.nl_before) { /* a directive */
                next(c);
                n = multiline(c, tk);
                break;
            }
        }
        struct node *e = expr(c);
        if (cur(c)->t == T_ASSIGN) {
            struct token eq = *cur(c);
            next(c);
            if (e->kind == N_VAR) {
                n = mk(c, S_ASSIGN, e->span);
                n->s = e->s;
            } else if (e->kind == N_PATH || e->kind == N_GET || e->kind == N_INDEX) {
                n = mk(c, S_SETPATH, e->span);
                n->b = e; /* the target: compile.c's lvalue() checks what it starts at */
            } else {
                lw_cfail(c, eq.span,
                         "cannot assign to this: expected a variable or a path like .a.b, v.a "
                         "or v[k]");
            }
            n->a = expr(c);
        } else {
            n = mk(c, S_EXPR, e->span);
            n->a = e;
        }
        break;
    }
    }
    end_stmt(c);
    return n;
}

/* Recovery -------------------------------------------------------------------------------
 * A statement that fails is skipped to where the next one starts (sync) and becomes S_ERROR;
 * the parse goes on there. Brackets the lexer counted tell where that is; a missing bracket
 * is assumed where a line starts with a statement keyword (at the broken statement's
 * indentation, or inside parentheses and square brackets only), or with 'fn' or 'import' at
 * a block's indentation, which only the top level holds. */

/* column: the byte column of off in its line; indent: that of the first token of off's line. */
static uint32_t
column(struct compiler *c, uint32_t off)
{
    uint32_t b = off;
    while (b > 0 && c->lx.src.p[b - 1] != '\n')
        b--;
    return off - b;
}

static uint32_t
indent(struct compiler *c, uint32_t off)
{
    const char *s = c->lx.src.p;
    uint32_t b = off - column(c, off), i = b;
    while (i < off && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i - b;
}

/* lower: take the k innermost open brackets as closed (one was missing). */
static void
lower(struct compiler *c, uint32_t k)
{
    c->lx.depth = c->lx.depth > k ? c->lx.depth - k : 0;
    c->lx.tok.depth = c->lx.tok.depth > k ? c->lx.tok.depth - k : 0;
}

/* starts_stmt: a keyword that can only start a statement (if and for also appear in
 * comprehensions). */
static bool
starts_stmt(enum tok t)
{
    return t == T_LET || t == T_EMIT || t == T_DROP || t == T_REJECT || t == T_PRINT ||
           t == T_RETURN || t == T_BREAK || t == T_CONTINUE || t == T_INPUT || t == T_FN ||
           t == T_IMPORT;
}

/* no_brace: the brackets open at levels [from, to) are all ( or [: no block can be inside. */
static bool
no_brace(struct compiler *c, uint32_t from, uint32_t to)
{
    for (uint32_t d = from; d < to && d < from + 64; d++) {
        if ((c->lx.braces >> (d % 64)) & 1) return false;
    }
    return true;
}

/* mismatch: closing token t does not match the innermost open bracket ('}' for '(' or '[',
 * ')' or ']' for '{'): the brackets inside the one it matches are taken as closed, down to
 * level d0 at most (then t closes the block around the statement). */
static void
mismatch(struct compiler *c, struct token *t, uint32_t d0)
{
    bool brace = t->t == T_RBRACE;
    uint32_t l = t->depth;
    while (l > d0 && (((c->lx.braces >> ((l - 1) % 64)) & 1) != 0) != brace)
        l--;
    if (l == t->depth) return;     /* it matches */
    if (l == d0 && !brace) return; /* a stray ')' or ']': skipped */
    lower(c, t->depth - l);        /* t closes level l - 1, or (l == d0) the block */
}

/* sync: skip the rest of the statement that began with start: up to a ';' (consumed), a new
 * line at the statement's bracket level (not else/elif, which continue an if), the '}' that
 * ends its block, or a line starting with a statement keyword where a bracket seems missing. */
static void
sync(struct compiler *c, struct token start, bool in_block)
{
    uint32_t d0 = start.depth;
    int64_t ind = -1;
    for (;;) {
        struct token *t = cur(c);
        if (t->t == T_EOF) return;
        if ((t->t == T_RBRACE || t->t == T_RPAREN || t->t == T_RBRACK) && t->depth > d0)
            mismatch(c, t, d0);
        if (t->depth <= d0) {
            if (t->t == T_RBRACE && in_block) return;
            if (t->t == T_SEMI) {
                next(c);
                return;
            }
            if (t->nl_before && t->t != T_ELSE && t->t != T_ELIF) return;
        } else if (t->nl_before && starts_stmt(t->t)) {
            if (ind < 0) ind = indent(c, start.span.off);
            if (no_brace(c, d0, t->depth) || column(c, t->span.off) <= (uint32_t)ind) {
                lower(c, t->depth - d0);
                return;
            }
        }
        next(c);
    }
}

/* skipped: what stands for a statement that failed: S_ERROR over the text skipped, or a let
 * of the variable it declares (so no use of it is called undefined), or a function whose
 * header failed (so no call of it is called unknown). */
static struct node *
skipped(struct compiler *c, struct token start, bool in_block)
{
    if (cur(c)->span.off == start.span.off && cur(c)->t != T_EOF) next(c); /* always progress */
    sync(c, start, in_block);
    struct token *last = &c->lx.prev;
    uint32_t end = last->span.off >= start.span.off ? last->span.off + last->span.len
                                                    : start.span.off + start.span.len;
    struct lw_span sp = { start.span.off, end - start.span.off };
    struct node *n;
    if (c->let_name.p != NULL) {
        n = mk(c, S_LET, sp);
        n->s = c->let_name;
        n->a = mk(c, N_ERROR, sp);
    } else if (c->fn_name.p != NULL) {
        n = mk(c, S_FN, sp);
        n->s = c->fn_name;
        n->broken = true;
    } else {
        n = mk(c, S_ERROR, sp);
    }
    return n;
}

/* guarded: statement parse(c), or what skipped() makes of it when it fails. */
static struct node *
guarded(struct compiler *c, struct node *(*parse)(struct compiler *), bool in_block)
{
    jmp_buf jb;
    jmp_buf *outer = c->recover;
    uint32_t nesting = c->nesting, brackets = c->brackets;
    char pattern_arg = c->pattern_arg;
    bool bad = c->stmt_bad;
    struct token start = *cur(c);
    struct node *n;
    c->stmt_bad = false;
    c->let_name = c->fn_name = (struct lw_str){ 0 };
    c->recover = &jb;
    if (setjmp(jb) == 0) {
        n = parse(c);
    } else {
        if (c->in_sub > 0) { /* the error was in a "${...}": back to the file's lexer */
            c->lx = c->outer;
            c->in_sub = 0;
        }
        c->nesting = nesting;
        c->brackets = brackets;
        c->pattern_arg = pattern_arg;
        n = skipped(c, start, in_block);
    }
    c->recover = outer;
    c->stmt_bad = bad;
    c->let_name = c->fn_name = (struct lw_str){ 0 };
    return n;
}

static struct node *
block(struct compiler *c)
{
    enter(c);
    uint32_t brackets = c->brackets;
    c->brackets = 0; /* a block inside brackets: its statements end at newlines again */
    struct token open = expect(c, T_LBRACE, "'{' to start a block");
    struct node *n = mk(c, S_BLOCK, open.span);
    struct list l;
    list_init(&l);
    int64_t ind = -1;
    bool closed = true;
    while (cur(c)->t != T_RBRACE) {
        struct token *t = cur(c);
        if (t->t == T_EOF || (t->nl_before && (t->t == T_FN || t->t == T_IMPORT) &&
                              column(c, t->span.off) <=
                                  (uint32_t)(ind < 0 ? (ind = indent(c, open.span.off)) : ind))) {
            char msg[200]; /* the '}' is missing: the block ends here */
            unclosed(c, '}', open.span, msg, sizeof msg);
            lw_cerror(c, t->span, "%s", msg);
            if (t->t != T_EOF) lower(c, 1);
            closed = false;
            break;
        }
        list_add(&l, guarded(c, stmt, true));
    }
    if (closed) next(c);
    n->kids = l.head;
    n->nkids = l.n;
    c->nesting--;
    c->brackets = brackets;
    return n;
}

/* fn_def: fn NAME(PARAM, ...) { BODY } */
static struct node *
fn_def(struct compiler *c)
{
    next(c);
    struct token name = expect(c, T_IDENT, "a function name after 'fn'");
    struct node *n = mk(c, S_FN, name.span);
    n->s = text(c, name.span);
    c->fn_name = n->s;
    struct token open = expect(c, T_LPAREN, "'(' after the function name");
    struct list l;
    list_init(&l);
    bool full = false;
    while (cur(c)->t != T_RPAREN) {
        struct token p = expect(c, T_IDENT, "a parameter name or ')'");
        struct node *v = mk(c, N_VAR, p.span);
        v->s = text(c, p.span);
        bool ok = true;
        for (struct node *o = l.head; o != NULL && ok; o = o->next) {
            if (lw_str_eq(o->s, v->s)) {
                lw_cerror(c, p.span, "parameter '%.*s' given twice", (int)v->s.len, v->s.p);
                ok = false;
            }
        }
        if (ok && (lw_str_eq(v->s, LW_STR_LIT("line")) || lw_str_eq(v->s, LW_STR_LIT("meta")))) {
            lw_cerror(c, p.span, "'%.*s' is reserved: name the parameter otherwise", (int)v->s.len,
                      v->s.p);
        }
        if (ok && l.n == MAXPARAMS) { /* said once, at the first one too many */
            if (!full) lw_cerror(c, p.span, "too many parameters (%d at most)", MAXPARAMS);
            full = true;
            ok = false;
        }
        if (ok) list_add(&l, v);
        if (cur(c)->t != T_COMMA) break;
        next(c);
    }
    expect_close(c, T_RPAREN, ')', open.span);
    n->kids = l.head;
    n->nkids = l.n;
    n->b = block(c);
    n->broken = full; /* its body and calls would only report what the error caused */
    return n;
}

/* import_stmt: import "NAME" (the file was read by import.c before parsing began). */
static struct node *
import_stmt(struct compiler *c)
{
    struct token kw = *cur(c);
    next(c);
    struct token t = *cur(c);
    if (t.t != T_STRING && t.t != T_RAWSTR) unexpected(c, "a file name in quotes after 'import'");
    next(c);
    struct node *n = mk(c, S_IMPORT, t.span);
    n->s = (struct lw_str){ c->lx.src.p + t.span.off + 1, t.span.len - 2 };
    (void)kw;
    end_stmt(c);
    return n;
}

struct node *
lw_parse(struct compiler *c)
{
    uint32_t start = (uint32_t)c->lx.pos;
    next(c);
    struct node *n = mk(c, S_BLOCK, (struct lw_span){ start, 0 });
    struct list l;
    list_init(&l);
    while (cur(c)->t != T_EOF) {
        if (cur(c)->t == T_RBRACE) {
            lw_cerror(c, cur(c)->span, "unexpected '}': no block is open");
            next(c);
            continue;
        }
        enum tok t = cur(c)->t;
        list_add(&l, guarded(c, t == T_FN ? fn_def : t == T_IMPORT ? import_stmt : stmt, false));
    }
    n->kids = l.head;
    n->nkids = l.n;
    return n;
}
