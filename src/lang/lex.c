/* The lexer: template text to tokens, each with its byte span. Literal values are decoded by
 * the parser from the span; the lexer only finds where tokens begin and end, and reports
 * malformed ones (unterminated strings and regexes, stray characters) with a precise span,
 * going on after them with a T_ERROR token, so one bad character costs one message. It also
 * counts open brackets, which the parser's recovery uses to skip a broken statement. */
#include <ctype.h>
#include <string.h>

#include "compile_int.h"
#include "lw/duration.h"

static const struct {
    const char *word;
    enum tok t;
} keywords[] = {
    { "let", T_LET },   { "if", T_IF },         { "elif", T_ELIF },     { "else", T_ELSE },
    { "for", T_FOR },   { "in", T_IN },         { "break", T_BREAK },   { "continue", T_CONTINUE },
    { "emit", T_EMIT }, { "drop", T_DROP },     { "reject", T_REJECT }, { "print", T_PRINT },
    { "true", T_TRUE }, { "false", T_FALSE },   { "null", T_NULL },     { "input", T_INPUT },
    { "fn", T_FN },     { "return", T_RETURN }, { "import", T_IMPORT },
};

bool
lw_lex_reserved(struct lw_str name)
{
    if (lw_str_eq(name, LW_STR_LIT("line")) || lw_str_eq(name, LW_STR_LIT("meta"))) return true;
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
        if (lw_str_eq(name, lw_str_c(keywords[k].word))) return true;
    }
    return false;
}

void
lw_lex_init(struct lexer *lx, struct lw_str src, size_t start, size_t end)
{
    *lx = (struct lexer){ .src = { src.p, end }, .pos = start };
    lx->tok.t = T_EOF;
    lx->prev.t = T_SEMI; /* so that a leading '/' starts a regex */
}

static bool
ends_value(enum tok t)
{
    switch (t) {
    case T_IDENT:
    case T_INT:
    case T_FLOAT:
    case T_STRING:
    case T_RAWSTR:
    case T_REGEX:
    case T_DURATION:
    case T_RPAREN:
    case T_RBRACK:
    case T_RBRACE:
    case T_TRUE:
    case T_FALSE:
    case T_NULL:
        return true;
    default:
        return false;
    }
}

/* skip_string: start is the opening quote; returns the position after the closing one.
 * ${...} parts may hold strings of their own, so braces and nested strings are tracked. An
 * unterminated string is reported (*bad set) and ends at the end of its line. */
static size_t
skip_string(struct compiler *c, struct lexer *lx, size_t start, bool *bad)
{
    const char *s = lx->src.p;
    size_t n = lx->src.len, i = start + 1;
    while (i < n) {
        char ch = s[i];
        if (ch == '"') return i + 1;
        if (ch == '\n') break;
        if (ch == '\\') {
            i += 2;
            continue;
        }
        if (ch == '$' && i + 1 < n && s[i + 1] == '{') {
            int depth = 1;
            i += 2;
            while (i < n && depth > 0) {
                if (s[i] == '{')
                    depth++;
                else if (s[i] == '}')
                    depth--;
                else if (s[i] == '"') {
                    i = skip_string(c, lx, i, bad) - 1;
                    if (*bad) return i + 1;
                } else if (s[i] == '\'') {
                    while (i + 1 < n && s[i + 1] != '\'' && s[i + 1] != '\n')
                        i++;
                    i++;
                } else if (s[i] == '\n') {
                    break;
                }
                i++;
            }
            if (depth > 0) {
                if (!lx->quiet) {
                    lw_cerror(c, (struct lw_span){ (uint32_t)start, (uint32_t)(i - start) },
                              "unterminated '${' in string");
                }
                *bad = true;
                return i;
            }
            continue;
        }
        i++;
    }
    if (!lx->quiet) {
        lw_cerror(c, (struct lw_span){ (uint32_t)start, (uint32_t)(i - start) },
                  "unterminated string: expected '\"' before the end of the line");
    }
    *bad = true;
    return i;
}

/* is_duration: the text from i is a duration literal (digits, an optional fraction and a unit,
 * repeated: 10m, 1h30m, 1.5s, 250ms) ending where no letter, digit or '_' follows; its end
 * into *end. A number with a letter after it that is not one is a malformed number. */
static bool
is_duration(const char *s, size_t n, size_t i, size_t *end)
{
    size_t e = i;
    while (e < n && (isalnum((unsigned char)s[e]) || s[e] == '.' || s[e] == '_'))
        e++;
    if (e > i && s[e - 1] == '.') return false;
    double ns;
    char err[160];
    size_t off;
    if (memchr(s + i, '_', e - i) != NULL) return false;
    if (lw_duration_parse(s + i, e - i, &ns, err, sizeof err, &off) != 0) return false;
    *end = e;
    return true;
}

static size_t
lex_number(struct lexer *lx, size_t i, enum tok *t)
{
    const char *s = lx->src.p;
    size_t n = lx->src.len;
    *t = T_INT;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    if (i + 1 < n && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        *t = T_FLOAT;
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (j < n && isdigit((unsigned char)s[j])) {
            *t = T_FLOAT;
            i = j;
            while (i < n && isdigit((unsigned char)s[i]))
                i++;
        }
    }
    return i;
}

static size_t
lex_regex(struct compiler *c, struct lexer *lx, size_t start, bool *bad)
{
    const char *s = lx->src.p;
    size_t n = lx->src.len, i = start + 1;
    bool cls = false; /* inside [...], where '/' does not end the regex */
    while (i < n && s[i] != '\n') {
        if (s[i] == '\\' && i + 1 < n) {
            i += 2;
            continue;
        }
        if (s[i] == '[')
            cls = true;
        else if (s[i] == ']')
            cls = false;
        else if (s[i] == '/' && !cls) {
            i++;
            while (i < n && isalpha((unsigned char)s[i]))
                i++;
            return i;
        }
        i++;
    }
    if (!lx->quiet) {
        lw_cerror(c, (struct lw_span){ (uint32_t)start, (uint32_t)(i - start) },
                  "unterminated regex: expected '/' before the end of the line");
    }
    *bad = true;
    return i;
}

static enum tok
punct(struct compiler *c, struct lexer *lx, size_t i, size_t *len)
{
    const char *s = lx->src.p;
    char ch = s[i], nx = i + 1 < lx->src.len ? s[i + 1] : '\0';
    *len = 1;
    switch (ch) {
    case '.':
        return T_DOT;
    case '{':
        return T_LBRACE;
    case '}':
        return T_RBRACE;
    case '(':
        return T_LPAREN;
    case ')':
        return T_RPAREN;
    case '[':
        return T_LBRACK;
    case ']':
        return T_RBRACK;
    case ',':
        return T_COMMA;
    case ':':
        return T_COLON;
    case ';':
        return T_SEMI;
    case '+':
        return T_PLUS;
    case '-':
        return T_MINUS;
    case '*':
        return T_STAR;
    case '/':
        if (nx == '/') {
            *len = 2;
            return T_FLOORDIV;
        }
        return T_SLASH;
    case '%':
        return T_PERCENT;
    case '?':
        if (nx == '?') {
            *len = 2;
            return T_DEFAULT;
        }
        return T_QUESTION;
    case '=':
        if (nx == '=') {
            *len = 2;
            return T_EQ;
        }
        return T_ASSIGN;
    case '!':
        if (nx == '=') {
            *len = 2;
            return T_NE;
        }
        return T_NOT;
    case '<':
        if (nx == '=') {
            *len = 2;
            return T_LE;
        }
        return T_LT;
    case '>':
        if (nx == '=') {
            *len = 2;
            return T_GE;
        }
        return T_GT;
    case '&':
        if (nx == '&') {
            *len = 2;
            return T_AND;
        }
        break;
    case '|':
        if (nx == '|') {
            *len = 2;
            return T_OR;
        }
        break;
    }
    unsigned char u = (unsigned char)ch;
    size_t clen = u < 0x80 ? 1 : u < 0xE0 ? 2 : u < 0xF0 ? 3 : 4;
    if (i + clen > lx->src.len) clen = lx->src.len - i;
    *len = clen;
    if (ch == '$' && nx == '{') {
        /* the token is the whole ${...} on its line, so its '}' closes nothing */
        size_t j = i + 2;
        for (int depth = 1; j < lx->src.len && s[j] != '\n' && depth > 0; j++)
            depth += s[j] == '{' ? 1 : s[j] == '}' ? -1 : 0;
        *len = j - i;
    }
    if (lx->quiet) return T_ERROR;
    if (ch == '&' || ch == '|') {
        lw_cerror(c, (struct lw_span){ (uint32_t)i, 1 }, "unexpected '%c': did you mean '%c%c'?",
                  ch, ch, ch);
    } else if (ch == '$' && nx == '{') {
        lw_cerror(c, (struct lw_span){ (uint32_t)i, 2 },
                  "'${' works only inside a double-quoted string: write the expression alone, or "
                  "\"...${...}...\"");
    } else if (u >= 0x20 && u < 0x7f) {
        lw_cerror(c, (struct lw_span){ (uint32_t)i, 1 }, "unexpected character '%c'", ch);
    } else {
        lw_cerror(c, (struct lw_span){ (uint32_t)i, (uint32_t)clen }, "unexpected byte 0x%02x", u);
    }
    return T_ERROR;
}

void
lw_lex_next(struct compiler *c, struct lexer *lx)
{
    const char *s = lx->src.p;
    size_t n = lx->src.len, i = lx->pos;
    bool nl = false;

    lx->prev = lx->tok;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
            if (s[i] == '\n') nl = true;
            i++;
        }
        if (i < n && s[i] == '#') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        break;
    }
    struct token tk = { .nl_before = nl, .span = { (uint32_t)i, 0 } };
    size_t end = i;
    if (i >= n) {
        tk.t = T_EOF;
    } else if (isalpha((unsigned char)s[i]) || s[i] == '_') {
        while (end < n && (isalnum((unsigned char)s[end]) || s[end] == '_'))
            end++;
        tk.t = T_IDENT;
        for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
            size_t kl = strlen(keywords[k].word);
            if (kl == end - i && memcmp(s + i, keywords[k].word, kl) == 0) tk.t = keywords[k].t;
        }
    } else if (isdigit((unsigned char)s[i])) {
        end = lex_number(lx, i, &tk.t);
        size_t dend = end;
        if (end < n && isalpha((unsigned char)s[end]) && is_duration(s, n, i, &dend)) {
            tk.t = T_DURATION;
            end = dend;
        } else if (end < n && (isalpha((unsigned char)s[end]) || s[end] == '_')) {
            if (!lx->quiet) {
                lw_cerror(c, (struct lw_span){ (uint32_t)i, (uint32_t)(end - i + 1) },
                          "malformed number: letter '%c' after the digits", s[end]);
            }
            while (end < n && (isalnum((unsigned char)s[end]) || s[end] == '_'))
                end++;
            tk.t = T_ERROR;
        }
    } else if (s[i] == '"') {
        bool bad = false;
        end = skip_string(c, lx, i, &bad);
        tk.t = bad ? T_ERROR : T_STRING;
    } else if (s[i] == '\'') {
        tk.t = T_RAWSTR;
        end = i + 1;
        while (end < n && s[end] != '\'' && s[end] != '\n')
            end++;
        if (end >= n || s[end] != '\'') {
            if (!lx->quiet) {
                lw_cerror(c, (struct lw_span){ (uint32_t)i, (uint32_t)(end - i) },
                          "unterminated string: expected \"'\" before the end of the line");
            }
            tk.t = T_ERROR;
        } else {
            end++;
        }
    } else if (s[i] == '/' && (!ends_value(lx->prev.t) || lx->ml_word)) {
        bool bad = false;
        end = lex_regex(c, lx, i, &bad);
        tk.t = bad ? T_ERROR : T_REGEX;
    } else {
        size_t len;
        tk.t = punct(c, lx, i, &len);
        end = i + len;
    }
    tk.span.len = (uint32_t)(end - i);
    tk.depth = lx->depth;
    if (tk.t == T_LPAREN || tk.t == T_LBRACK || tk.t == T_LBRACE) {
        uint64_t bit = (uint64_t)1 << (lx->depth % 64);
        lx->braces = tk.t == T_LBRACE ? lx->braces | bit : lx->braces & ~bit;
        lx->depth++;
    } else if ((tk.t == T_RPAREN || tk.t == T_RBRACK || tk.t == T_RBRACE) && lx->depth > 0) {
        lx->depth--;
    }
    /* `multiline start /RE/` at the start of a line: the '/' after the word is a regex, not a
     * division (a variable named multiline cannot be followed by a word) */
    struct lw_str w = { s + i, end - i };
    lx->ml_word = lx->ml_kw && !tk.nl_before &&
                  (tk.t == T_CONTINUE || (tk.t == T_IDENT && lw_str_eq(w, LW_STR_LIT("start"))));
    lx->ml_kw = tk.t == T_IDENT && (tk.nl_before || lx->prev.t == T_SEMI || lx->prev.t == T_EOF) &&
                lw_str_eq(w, LW_STR_LIT("multiline"));
    lx->tok = tk;
    lx->pos = end;
}
