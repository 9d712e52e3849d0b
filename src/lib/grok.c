/* Grok: pattern libraries in the Logstash format, the expansion of a grok expression into one
 * PCRE2 regex (translating what Oniguruma reads differently), and grok(), which fills an
 * object from a match. Libraries and expansion are compile-time work; the VM only calls
 * fn_grok with the compiled struct lw_grok that compile.c made a constant of. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lw/buf.h"
#include "lw/grok.h"
#include "lw/json.h"
#include "lw/vm.h"

#include "builtins_int.h"

#define MAX_NEST  64 /* %{} references deeper than this are reported, not followed */
#define MAX_PATH  16 /* [a][b]... segments of a field name */
#define MAX_FIELD 2000
#define MAX_REGEX (1u << 20) /* bytes of expanded regex: A = %{B}%{B}, B = %{C}%{C}... doubles */

/* As Logstash's grok compiles (Ruby, Oniguruma): ^ and $ match at line breaks and '.' matches
 * one (Regexp::MULTILINE), so a joined multiline record is one text; groups without a name do
 * not capture once a pattern has named ones (grok never reads them); the text is UTF-8. Not
 * PCRE2_MATCH_INVALID_UTF: in pcre2 10.42 (Debian 12) its JIT lets \S, \D and \W match no
 * character past ASCII (PCRE2Project/pcre2#224, fixed in 10.43), so fn_grok hands the
 * engine valid UTF-8 only (scrub), which the JIT also needs without that option. */
#define GROK_OPTIONS (PCRE2_MULTILINE | PCRE2_DOTALL | PCRE2_NO_AUTO_CAPTURE | PCRE2_UTF)

struct lw_grok_def {
    struct lw_str name, text;
    const char *origin; /* file name for messages */
    uint32_t line;
};

/* Library ------------------------------------------------------------------------------ */

void
lw_grok_lib_init(struct lw_grok_lib *lib, struct lw_arena *a)
{
    *lib = (struct lw_grok_lib){ .a = a };
}

static uint32_t
hash(struct lw_str s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.p[i]) * 16777619u;
    return h;
}

static struct lw_grok_def **
slot(const struct lw_grok_lib *lib, struct lw_str name)
{
    uint32_t i = hash(name) & (lib->cap - 1);
    while (lib->slots[i] != NULL && !lw_str_eq(lib->slots[i]->name, name))
        i = (i + 1) & (lib->cap - 1);
    return &lib->slots[i];
}

static const struct lw_grok_def *
lookup(const struct lw_grok_lib *lib, struct lw_str name)
{
    if (lib == NULL || lib->cap == 0) return NULL;
    return *slot(lib, name);
}

static void
define(struct lw_grok_lib *lib, struct lw_grok_def *d)
{
    if (2 * (lib->n + 1) > lib->cap) {
        struct lw_grok_lib old = *lib;
        lib->cap = old.cap ? old.cap * 2 : 256;
        lib->slots = lw_arena_alloc(lib->a, lib->cap * sizeof *lib->slots);
        memset(lib->slots, 0, lib->cap * sizeof *lib->slots);
        for (uint32_t i = 0; i < old.cap; i++) {
            if (old.slots[i] != NULL) *slot(lib, old.slots[i]->name) = old.slots[i];
        }
    }
    struct lw_grok_def **s = slot(lib, d->name);
    if (*s == NULL) lib->n++;
    *s = d; /* a later definition wins */
}

static bool
name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool
space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

int
lw_grok_lib_add_text(struct lw_grok_lib *lib, const char *origin, const char *text, size_t len,
                     char *err, size_t errcap)
{
    const char *org = lw_arena_dup(lib->a, origin, strlen(origin) + 1);
    const char *t = lw_arena_dup(lib->a, text, len);
    uint32_t line = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && t[e] != '\n')
            e++;
        size_t next = e + 1, end = e;
        line++;
        if (end > i && t[end - 1] == '\r') end--;
        size_t p = i;
        while (p < end && (space(t[p]) || t[p] == '\r'))
            p++;
        i = next;
        if (p == end || t[p] == '#') continue;
        size_t n0 = p;
        while (p < end && !space(t[p]))
            p++;
        struct lw_str name = { t + n0, p - n0 };
        for (size_t k = 0; k < name.len; k++) {
            if (!name_char(name.p[k])) {
                snprintf(err, errcap, "%s:%u: bad pattern name '%.*s' (letters, digits, _)", org,
                         line, (int)(name.len > 60 ? 60 : name.len), name.p);
                return -1;
            }
        }
        while (p < end && space(t[p]))
            p++;
        if (p == end) {
            snprintf(err, errcap, "%s:%u: pattern %.*s has no definition", org, line, (int)name.len,
                     name.p);
            return -1;
        }
        struct lw_grok_def *d = lw_arena_alloc(lib->a, sizeof *d);
        *d = (struct lw_grok_def){ name, { t + p, end - p }, org, line };
        define(lib, d);
    }
    return 0;
}

int
lw_grok_lib_builtin(struct lw_grok_lib *lib, char *err, size_t errcap)
{
    for (unsigned i = 0; i < lw_grok_builtin_nfiles; i++) {
        char origin[128];
        snprintf(origin, sizeof origin, "builtin:%s", lw_grok_builtin_files[i].name);
        const char *t = lw_grok_builtin_files[i].text;
        if (lw_grok_lib_add_text(lib, origin, t, strlen(t), err, errcap) != 0) return -1;
    }
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_file(struct lw_grok_lib *lib, const char *path, char *err, size_t errcap)
{
    struct lw_buf b;
    lw_buf_init(&b);
    int rc = -1;
    /* bounded: a device such as /dev/zero in a pattern directory is not read whole */
    if (lw_buf_read_file_max(&b, path, 16u << 20) != 0) {
        if (errno == EFBIG)
            snprintf(err, errcap, "%s: longer than 16 MiB (a pattern file)", path);
        else
            snprintf(err, errcap, "%s: %s", path, strerror(errno));
    } else if (memchr(b.p ? b.p : "", '\0', b.len) != NULL) {
        snprintf(err, errcap, "%s: not a pattern file (it holds NUL bytes)", path);
    } else {
        rc = lw_grok_lib_add_text(lib, path, b.p ? b.p : "", b.len, err, errcap);
    }
    lw_buf_fini(&b);
    return rc;
}

int
lw_grok_lib_load_dir(struct lw_grok_lib *lib, const char *dir, char *err, size_t errcap)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errcap, "--patterns %s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = lw_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = lw_xstrndup(e->d_name, strlen(e->d_name));
    }
    closedir(d);
    if (n > 1) qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    struct lw_buf path;
    lw_buf_init(&path);
    for (size_t i = 0; i < n; i++) {
        path.len = 0;
        lw_buf_printf(&path, "%s/%s", dir, names[i]);
        lw_buf_addc(&path, '\0');
        struct stat st;
        if (rc == 0 && stat(path.p, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = load_file(lib, path.p, err, errcap);
        }
        free(names[i]);
    }
    lw_buf_fini(&path);
    free(names);
    return rc;
}

/* Expansion ------------------------------------------------------------------------------ */

struct ex {
    const struct lw_grok_lib *lib;
    struct lw_arena *a;
    struct lw_buf out;
    struct lw_grok_field *fields;
    struct lw_str *names; /* field i as written, for messages */
    uint32_t nfields, capfields;
    const struct lw_grok_def *stack[MAX_NEST];
    uint32_t depth;
    size_t topoff;            /* offset in the top-level pattern of what is being expanded */
    struct lw_grok_cut *cuts; /* each top-level piece's start (explain.c's prefixes) */
    uint32_t ncuts, capcuts;
    char warn[200]; /* the first warning ("" when none) and its offset in the top pattern */
    size_t warnoff;
    char *err;
    size_t errcap;
};

/* fail: the message, naming the definition being expanded when it is not the template's. */
__attribute__((format(printf, 2, 3))) static int
fail(struct ex *x, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->depth == 0) {
        snprintf(x->err, x->errcap, "%s", msg);
    } else {
        const struct lw_grok_def *d = x->stack[x->depth - 1];
        snprintf(x->err, x->errcap, "%s (in pattern %.*s, %s:%u)", msg, (int)d->name.len, d->name.p,
                 d->origin, d->line);
    }
    return -1;
}

/* field_path: "[a][b]" -> a, b; anything else is one key, as Logstash reads field names. */
static int
field_path(struct ex *x, struct lw_str name, struct lw_grok_field *f)
{
    struct lw_str seg[MAX_PATH];
    uint32_t n = 0;
    if (name.len == 0) return fail(x, "empty field name");
    if (name.p[0] != '[') {
        seg[n++] = name;
    } else {
        size_t i = 0;
        while (i < name.len) {
            const char *close = name.p[i] == '[' ? memchr(name.p + i, ']', name.len - i) : NULL;
            /* '%{DATA:[source][user][name?]}' (ecs-v1 CISCOFW302013...): Logstash's field is
             * what comes before the '?'; a library's last unclosed [segment ends there */
            if (close == NULL && x->depth > 0 && name.p[i] == '[' && i + 1 < name.len &&
                memchr(name.p + i + 1, '[', name.len - i - 1) == NULL) {
                close = name.p + name.len;
            }
            if (close == NULL || close == name.p + i + 1 || n == MAX_PATH) {
                return fail(x, "bad field reference '%.*s' (expected [a][b] with %d parts at most)",
                            (int)name.len, name.p, MAX_PATH);
            }
            seg[n++] = (struct lw_str){ name.p + i + 1, (size_t)(close - name.p) - i - 1 };
            i = (size_t)(close - name.p) + 1;
        }
    }
    f->npath = (uint8_t)n;
    f->path = lw_arena_alloc(x->a, n * sizeof *f->path);
    for (uint32_t i = 0; i < n; i++)
        f->path[i] = (struct lw_str){ lw_arena_dup(x->a, seg[i].p, seg[i].len), seg[i].len };
    return 0;
}

/* overlap: a field whose path is a proper prefix of f's or has f's as one, or NULL. Logstash
 * cannot set [a][b] once [a] holds a string (it logs an exception per event); the same path
 * twice is fine (the values make an array, see put). */
static const struct lw_grok_field *
overlap(const struct ex *x, const struct lw_grok_field *f)
{
    for (uint32_t i = 0; i < x->nfields; i++) {
        const struct lw_grok_field *o = &x->fields[i];
        uint32_t n = o->npath < f->npath ? o->npath : f->npath;
        if (o->npath == f->npath) continue;
        uint32_t k = 0;
        while (k < n && lw_str_eq(o->path[k], f->path[k]))
            k++;
        if (k == n) return o;
    }
    return NULL;
}

/* capture: a new field filled by the group that starts here. A field under [@metadata] is
 * Logstash's intermediate value (ECS patterns keep hashes there), never part of an event's
 * output: its group is kept for the regex, without a name, and grok() does not return it. */
static int
capture(struct ex *x, struct lw_str name, enum lw_grok_type type)
{
    if (x->nfields == MAX_FIELD) return fail(x, "more than %d captures", MAX_FIELD);
    if (x->nfields == x->capfields) {
        uint32_t cap = x->capfields ? x->capfields * 2 : 16;
        x->fields = lw_arena_realloc(x->a, x->fields, x->capfields * sizeof *x->fields,
                                     cap * sizeof *x->fields);
        x->names = lw_arena_realloc(x->a, x->names, x->capfields * sizeof *x->names,
                                    cap * sizeof *x->names);
        x->capfields = cap;
    }
    struct lw_grok_field *f = &x->fields[x->nfields];
    *f = (struct lw_grok_field){ .type = (uint8_t)type };
    if (field_path(x, name, f) != 0) return -1;
    if (lw_str_eq(f->path[0], LW_STR_LIT("@metadata"))) {
        lw_buf_adds(&x->out, "(?:");
        return 0;
    }
    const struct lw_grok_field *o = overlap(x, f);
    if (o != NULL) {
        struct lw_str on = x->names[o - x->fields], in = o->npath < f->npath ? on : name;
        return fail(x,
                    "fields %.*s and %.*s overlap: %.*s would hold a value and an object at "
                    "once; rename one of them",
                    (int)(on.len > 60 ? 60 : on.len), on.p, (int)(name.len > 60 ? 60 : name.len),
                    name.p, (int)(in.len > 60 ? 60 : in.len), in.p);
    }
    x->names[x->nfields] = name;
    lw_buf_printf(&x->out, "(?<g%u>", x->nfields++);
    return 0;
}

static int translate(struct ex *x, struct lw_str t);
static int unknown(struct ex *x, struct lw_str name);

/* subname_char: what Logstash's grok reads as the field part of %{NAME:field:type}. */
static bool
subname_char(char c)
{
    return name_char(c) || c == '@' || c == '[' || c == ']' || c == ':' || c == '.' || c == '-';
}

/* ignored: text between a reference's name or field and its '}', which Logstash's grok skips
 * (ecs-v1's '%{POSINT:[apache][error][proxy][error][code]?}', the Nagios specs' '%{NAGIOSLOGLINE
 * - CURRENT HOST STATE}'). A library is read as Logstash reads it; in the template's own
 * pattern it is probably a typo, so the first one becomes a warning. */
static void
ignored(struct ex *x, struct lw_str body, size_t from, size_t at)
{
    if (x->depth > 0 || x->warn[0] != '\0') return;
    struct lw_str rest = { body.p + from, body.len - from };
    snprintf(x->warn, sizeof x->warn, "'%.*s' in %%{%.*s} is ignored (Logstash's grok skips it)",
             (int)(rest.len > 40 ? 40 : rest.len), rest.p, (int)(body.len > 60 ? 60 : body.len),
             body.p);
    x->warnoff = at;
}

/* reference: %{NAME}, %{NAME:field} or %{NAME:field:int|float} at t.p[i], anything up to the
 * '}' after them ignored (see ignored); returns the offset after it, or 0 after an error. In a
 * library definition, a '%{' that does not start with a name is left as regex text, as
 * Logstash does; in the template's own pattern it is an error. */
static size_t
reference(struct ex *x, struct lw_str t, size_t i)
{
    const char *close = memchr(t.p + i, '}', t.len - i);
    if (close == NULL && x->depth > 0) return lw_buf_addc(&x->out, '%'), i + 1;
    if (close == NULL) return fail(x, "'%%{' without a closing '}'"), 0;
    struct lw_str body = { t.p + i + 2, (size_t)(close - t.p) - i - 2 };
    size_t after = (size_t)(close - t.p) + 1;
    size_t k = 0;
    while (k < body.len && name_char(body.p[k]))
        k++;
    struct lw_str name = { body.p, k };
    if ((k == 0 || (k < body.len && body.p[k] == '=')) && x->depth > 0) {
        return lw_buf_addc(&x->out, '%'), i + 1;
    }
    if (k == 0 || (k < body.len && body.p[k] == '=')) {
        if (k > 0) return fail(x, "inline definitions %%{NAME=...} are not supported"), 0;
        return fail(x,
                    "bad pattern reference '%%{%.*s}' (expected %%{NAME}, %%{NAME:field} or "
                    "%%{NAME:field:int})",
                    (int)(body.len > 60 ? 60 : body.len), body.p),
               0;
    }
    size_t m = k; /* end of the field part */
    if (k < body.len && body.p[k] == ':') {
        m = k + 1;
        while (m < body.len && subname_char(body.p[m]))
            m++;
        if (m == k + 1) m = k; /* '%{NAME:}': no field; the ':' is ignored */
    }
    if (m < body.len) ignored(x, body, m, x->topoff + 2 + m);
    const struct lw_grok_def *d = lookup(x->lib, name);
    if (d == NULL) return unknown(x, name), 0;
    for (uint32_t s = 0; s < x->depth; s++) {
        if (x->stack[s] != d) continue;
        char chain[200] = "";
        size_t cl = 0;
        for (uint32_t j = s; j < x->depth && cl < sizeof chain - 70; j++) {
            cl += (size_t)snprintf(chain + cl, sizeof chain - cl, "%.*s -> ",
                                   (int)(x->stack[j]->name.len > 60 ? 60 : x->stack[j]->name.len),
                                   x->stack[j]->name.p);
        }
        return fail(x, "grok pattern cycle: %s%.*s", chain, (int)name.len, name.p), 0;
    }
    if (x->depth == MAX_NEST) return fail(x, "patterns nested deeper than %d", MAX_NEST), 0;
    if (m > k) { /* :field[:type] */
        struct lw_str field = { body.p + k + 1, m - k - 1 };
        enum lw_grok_type type = LW_GROK_STR;
        const char *c2 = memchr(field.p, ':', field.len);
        if (c2 != NULL) {
            struct lw_str ty = { c2 + 1, field.len - (size_t)(c2 - field.p) - 1 };
            field.len = (size_t)(c2 - field.p);
            if (lw_str_eq(ty, LW_STR_LIT("int"))) {
                type = LW_GROK_INT;
            } else if (lw_str_eq(ty, LW_STR_LIT("float"))) {
                type = LW_GROK_FLOAT;
            } else if (x->depth == 0) {
                return fail(x, "unknown type '%.*s' in %%{%.*s} (int or float)",
                            (int)(ty.len > 30 ? 30 : ty.len), ty.p,
                            (int)(body.len > 60 ? 60 : body.len), body.p),
                       0;
            }
        }
        if (capture(x, field, type) != 0) return 0;
    } else {
        lw_buf_adds(&x->out, "(?:");
    }
    x->stack[x->depth++] = d;
    int rc = translate(x, d->text);
    x->depth--;
    if (rc != 0) return 0;
    if (x->out.len > MAX_REGEX) {
        return fail(x, "the pattern expands to more than %u bytes of regex", MAX_REGEX), 0;
    }
    lw_buf_addc(&x->out, ')');
    return after;
}

/* Oniguruma's POSIX brackets on UTF-8 text are Unicode classes while \w \d \s stay ASCII (as
 * Ruby, so Logstash, reads them); PCRE2 10.42 has no option for that mix (PCRE2_UCP changes
 * both), so the brackets become Unicode properties and PCRE2 keeps its ASCII \w \d \s. */
static const struct {
    const char *name, *set;
} posix_sets[] = {
    { "alnum", "\\p{L}\\p{M}\\p{Nd}" },
    { "alpha", "\\p{L}\\p{M}" },
    { "blank", "\\p{Zs}\\t" },
    { "cntrl", "\\p{Cc}" },
    { "digit", "\\p{Nd}" },
    { "graph", "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Cf}" },
    { "lower", "\\p{Ll}" },
    { "print", "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Cf}\\p{Zs}" },
    { "punct", "\\p{P}$+<=>^`|~" },
    { "space", "\\s\\p{Z}\\x{85}" },
    { "upper", "\\p{Lu}" },
    { "word", "\\p{L}\\p{M}\\p{Nd}\\p{Pc}" },
    { "^digit", "\\P{Nd}" },
    { "^lower", "\\P{Ll}" },
    { "^upper", "\\P{Lu}" },
    { "^cntrl", "\\P{Cc}" },
};

/* posix: a [:name:] inside a class, as Oniguruma reads it on UTF-8 text (posix_sets); xdigit,
 * ascii and the negations of the sets of several properties keep PCRE2's ASCII reading. */
static void
posix(struct lw_buf *o, struct lw_str br)
{
    struct lw_str name = { br.p + 2, br.len - 4 };
    for (size_t k = 0; k < sizeof posix_sets / sizeof posix_sets[0]; k++) {
        if (lw_str_eq(name, lw_str_c(posix_sets[k].name))) {
            lw_buf_adds(o, posix_sets[k].set);
            return;
        }
    }
    lw_buf_add(o, br.p, br.len);
}

/* char_class: copy [...] at t.p[i], flattening Oniguruma's nested classes ([[:alnum:]_] stays,
 * [a[bc]] becomes [abc]) and spelling \h as hex digits. Returns the offset after it (or the
 * end, leaving the missing ']' to PCRE2's message), or 0 after an error. */
static size_t
char_class(struct ex *x, struct lw_str t, size_t i)
{
    struct lw_buf *o = &x->out;
    lw_buf_addc(o, '[');
    i++;
    if (i < t.len && t.p[i] == '^') lw_buf_addc(o, t.p[i++]);
    if (i < t.len && t.p[i] == ']') {
        lw_buf_adds(o, "\\]");
        i++;
    }
    int depth = 1;
    while (i < t.len) {
        char c = t.p[i];
        if (c == '\\' && i + 1 < t.len) {
            if (t.p[i + 1] == 'h') {
                lw_buf_adds(o, "0-9a-fA-F");
            } else if (t.p[i + 1] == 'H') {
                return fail(x, "\\H inside a character class is not supported"), 0;
            } else {
                lw_buf_add(o, t.p + i, 2);
            }
            i += 2;
        } else if (c == '[' && i + 1 < t.len && t.p[i + 1] == ':') {
            const char *e = memchr(t.p + i + 2, ']', t.len - i - 2);
            if (e == NULL || e[-1] != ':') {
                lw_buf_adds(o, "\\[");
                i++;
            } else {
                size_t n = (size_t)(e - t.p) + 1 - i;
                posix(o, (struct lw_str){ t.p + i, n });
                i += n;
            }
        } else if (c == '[') {
            if (i + 1 < t.len && t.p[i + 1] == '^') {
                return fail(x, "negated nested character classes [..[^..]] are not supported"), 0;
            }
            depth++;
            i++;
        } else if (c == ']') {
            i++;
            if (--depth == 0) {
                lw_buf_addc(o, ']');
                return i;
            }
        } else if (c == '&' && i + 1 < t.len && t.p[i + 1] == '&') {
            return fail(x, "character class intersection '&&' is not supported"), 0;
        } else {
            lw_buf_addc(o, c);
            i++;
        }
    }
    return i;
}

/* group: a '(?' construct at t.p[i]: named groups become fields; Oniguruma's (?m) (dot
 * matches newline) becomes PCRE2's (?s). Returns the offset after what it copied, or 0. */
static size_t
group(struct ex *x, struct lw_str t, size_t i)
{
    size_t j = i + 2;
    char open = 0;
    if (j < t.len && t.p[j] == '<' && j + 1 < t.len && t.p[j + 1] != '=' && t.p[j + 1] != '!') {
        open = '>';
        j++;
    } else if (j + 1 < t.len && t.p[j] == 'P' && t.p[j + 1] == '<') {
        open = '>';
        j += 2;
    } else if (j < t.len && t.p[j] == '\'') {
        open = '\'';
        j++;
    }
    if (open) {
        const char *e = memchr(t.p + j, open, t.len - j);
        if (e == NULL) return fail(x, "unterminated group name"), 0;
        if (capture(x, (struct lw_str){ t.p + j, (size_t)(e - t.p) - j }, LW_GROK_STR) != 0) {
            return 0;
        }
        return (size_t)(e - t.p) + 1;
    }
    size_t k = j;
    while (k < t.len && (t.p[k] == 'i' || t.p[k] == 'm' || t.p[k] == 'x' || t.p[k] == '-'))
        k++;
    if (k > j && k < t.len && (t.p[k] == ')' || t.p[k] == ':')) {
        lw_buf_adds(&x->out, "(?");
        for (size_t m = j; m < k; m++)
            lw_buf_addc(&x->out, t.p[m] == 'm' ? 's' : t.p[m]);
        return k;
    }
    lw_buf_add(&x->out, "(?", 2);
    return i + 2;
}

/* top_cut: the top-level pattern's byte i starts a piece: note it and where its expansion
 * starts, so a prefix of the pattern can be matched on its own (lw_grok_alt.cuts). */
static void
top_cut(struct ex *x, size_t i)
{
    x->topoff = i;
    if (x->ncuts == x->capcuts) {
        uint32_t cap = x->capcuts ? x->capcuts * 2 : 32;
        x->cuts =
            lw_arena_realloc(x->a, x->cuts, x->capcuts * sizeof *x->cuts, cap * sizeof *x->cuts);
        x->capcuts = cap;
    }
    x->cuts[x->ncuts++] = (struct lw_grok_cut){ (uint32_t)i, (uint32_t)x->out.len };
}

static int
translate(struct ex *x, struct lw_str t)
{
    size_t i = 0;
    while (i < t.len) {
        if (x->depth == 0) top_cut(x, i);
        char c = t.p[i];
        if (c == '\\' && i + 1 < t.len) {
            if (t.p[i + 1] == 'h') {
                lw_buf_adds(&x->out, "[0-9a-fA-F]");
            } else if (t.p[i + 1] == 'H') {
                lw_buf_adds(&x->out, "[^0-9a-fA-F]");
            } else {
                lw_buf_add(&x->out, t.p + i, 2);
            }
            i += 2;
        } else if (c == '[') {
            if ((i = char_class(x, t, i)) == 0) return -1;
        } else if (c == '%' && i + 1 < t.len && t.p[i + 1] == '{') {
            if ((i = reference(x, t, i)) == 0) return -1;
        } else if (c == '(' && i + 1 < t.len && t.p[i + 1] == '?') {
            if ((i = group(x, t, i)) == 0) return -1;
        } else if (c == '*' && i > 0 && (t.p[i - 1] == '?' || t.p[i - 1] == '+') &&
                   (i < 2 || t.p[i - 2] != '\\') && x->out.len > 0 &&
                   x->out.p[x->out.len - 1] == t.p[i - 1]) {
            /* Oniguruma reads x?* and x+* as (?:x?)* and (?:x+)*, that is x*; PCRE2 refuses
             * a quantifier after a quantifier (legacy SHOREWALL has '.?*'). */
            x->out.p[x->out.len - 1] = '*';
            i++;
        } else {
            lw_buf_addc(&x->out, c);
            i++;
        }
    }
    return 0;
}

int
lw_grok_expand(const struct lw_grok_lib *lib, struct lw_str pat, struct lw_arena *a,
               struct lw_grok_expansion *out, char *err, size_t errcap, size_t *erroff)
{
    struct ex x = { .lib = lib, .a = a, .err = err, .errcap = errcap };
    lw_buf_init(&x.out);
    int rc = translate(&x, pat);
    if (rc == 0 && errcap > 0) {
        snprintf(err, errcap, "%s", x.warn);
        x.topoff = x.warnoff;
    }
    if (rc == 0) {
        out->regex =
            (struct lw_str){ lw_arena_dup(a, x.out.p ? x.out.p : "", x.out.len), x.out.len };
        out->nfields = x.nfields;
        out->fields = x.fields;
        out->ncuts = x.ncuts;
        out->cuts = x.cuts;
    }
    *erroff = x.topoff;
    lw_buf_fini(&x.out);
    return rc;
}

/* compiles: does the expansion of %{NAME} compile on its own? */
static bool
compiles(const struct lw_grok_lib *lib, const struct lw_grok_def *d, struct lw_arena *a)
{
    char pat[160], err[64];
    size_t off;
    struct lw_grok_expansion e;
    int n = snprintf(pat, sizeof pat, "%%{%.*s}", (int)(d->name.len > 150 ? 150 : d->name.len),
                     d->name.p);
    if (lw_grok_expand(lib, (struct lw_str){ pat, (size_t)n }, a, &e, err, sizeof err, &off) != 0)
        return true; /* reported otherwise */
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)e.regex.p, e.regex.len, GROK_OPTIONS, &ec, &eo, NULL);
    pcre2_code_free(code);
    return code != NULL;
}

/* broken: after the expansion of t failed to compile, the innermost definition t refers to
 * whose expansion does not compile on its own, so the message can name its file and line.
 * seen holds the definitions already tried (a pattern like IPV6 refers to one many times). */
static const struct lw_grok_def *
broken(const struct lw_grok_lib *lib, struct lw_str t, struct lw_arena *a,
       const struct lw_grok_def **seen, uint32_t *nseen, uint32_t depth)
{
    for (size_t i = 0; depth < MAX_NEST && i + 2 < t.len; i++) {
        if (t.p[i] == '\\') {
            i++;
            continue;
        }
        if (t.p[i] != '%' || t.p[i + 1] != '{') continue;
        size_t k = i + 2;
        while (k < t.len && name_char(t.p[k]))
            k++;
        const struct lw_grok_def *d = lookup(lib, (struct lw_str){ t.p + i + 2, k - i - 2 });
        bool done = d == NULL;
        for (uint32_t s = 0; s < *nseen && !done; s++)
            done = seen[s] == d;
        if (done || *nseen == 256) continue;
        seen[(*nseen)++] = d;
        const struct lw_grok_def *inner = broken(lib, d->text, a, seen, nseen, depth + 1);
        if (inner != NULL) return inner;
        if (!compiles(lib, d, a)) return d;
    }
    return NULL;
}

int
lw_grok_compile_alt(const struct lw_grok_lib *lib, struct lw_str pat, bool jit, struct lw_arena *a,
                    struct lw_regex *re, struct lw_grok_alt *alt, char *err, size_t errcap,
                    size_t *erroff)
{
    struct lw_grok_expansion e;
    if (lw_grok_expand(lib, pat, a, &e, err, errcap, erroff) != 0) return -1;
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)e.regex.p, e.regex.len, GROK_OPTIONS, &ec, &eo, NULL);
    re->code = code; /* the caller's from here on, before anything else can fail */
    if (code == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        const struct lw_grok_def *seen[256];
        uint32_t nseen = 0;
        const struct lw_grok_def *d = broken(lib, pat, a, seen, &nseen, 0);
        if (d != NULL) {
            snprintf(err, errcap, "invalid regex in pattern %.*s (%s:%u): %s",
                     (int)(d->name.len > 60 ? 60 : d->name.len), d->name.p, d->origin, d->line,
                     (char *)msg);
        } else {
            size_t from = eo > 20 ? eo - 20 : 0;
            size_t to = eo + 20 < e.regex.len ? eo + 20 : e.regex.len;
            snprintf(err, errcap, "invalid regex: %s, near '%.*s' after expansion", (char *)msg,
                     (int)(to - from), e.regex.p + from);
        }
        *erroff = 0;
        return -1;
    }
    uint32_t cap = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &cap);
    *re = (struct lw_regex){ .code = code,
                             .ngroups = cap,
                             .jit = jit && pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0,
                             .names = lw_arena_alloc(a, sizeof *re->names),
                             .src = { lw_arena_dup(a, pat.p, pat.len), pat.len } };
    for (uint32_t i = 0; i < e.nfields; i++) {
        char gname[16];
        snprintf(gname, sizeof gname, "g%u", i);
        int g = pcre2_substring_number_from_name(code, (PCRE2_SPTR)gname);
        e.fields[i].group = (uint16_t)(g > 0 ? g : 0);
    }
    *alt = (struct lw_grok_alt){ re, e.nfields, e.fields, e.regex, e.ncuts, e.cuts };
    return 0;
}

/* grok() -------------------------------------------------------------------------------- */

/* Ruby's String#to_i and #to_f, as Logstash converts: the longest numeric prefix after
 * leading white space, 0 when there is none. Ints beyond int64 become floats. */
static struct lw_value
to_number(const char *p, size_t len, bool isfloat)
{
    char buf[128];
    size_t i = 0, n = 0;
    while (i < len && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')))
        i++;
    if (i < len && (p[i] == '-' || p[i] == '+')) buf[n++] = p[i++];
    size_t d0 = n;
    while (i < len && p[i] >= '0' && p[i] <= '9' && n < 100)
        buf[n++] = p[i++];
    bool digits = n > d0;
    if (isfloat && i + 1 < len && p[i] == '.' && p[i + 1] >= '0' && p[i + 1] <= '9') {
        buf[n++] = p[i++];
        while (i < len && p[i] >= '0' && p[i] <= '9' && n < 110)
            buf[n++] = p[i++];
        digits = true;
    }
    if (isfloat && digits && i + 1 < len && (p[i] == 'e' || p[i] == 'E')) {
        size_t k = i + 1, m = n;
        char e[12] = "e";
        size_t en = 1;
        if (k < len && (p[k] == '-' || p[k] == '+')) e[en++] = p[k++];
        size_t ed = en;
        while (k < len && p[k] >= '0' && p[k] <= '9' && en < sizeof e - 1)
            e[en++] = p[k++];
        if (en > ed) {
            memcpy(buf + m, e, en);
            n = m + en;
        }
    }
    buf[n] = '\0';
    if (!digits) return isfloat ? lw_float(0) : lw_int(0);
    if (isfloat) return lw_float(strtod(buf, NULL));
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE) return lw_float(strtod(buf, NULL));
    return lw_int(v);
}

/* member: the index of key in obj, or -1. */
static int64_t
member(const struct lw_obj *o, struct lw_str key)
{
    for (uint32_t i = 0; i < o->n; i++) {
        if (lw_str_eq(o->k[i], key)) return i;
    }
    return -1;
}

/* put: set field f to v as Logstash's grok does: a first value is set; a second value of a
 * string field makes an array of both, later ones are appended to it; a second value of a
 * number field is dropped. A path through a non-object is skipped. */
static void
put(struct lw_arena *a, struct lw_value *obj, const struct lw_grok_field *f, struct lw_value v)
{
    struct lw_value *cur = obj;
    for (uint32_t d = 0; d + 1 < f->npath; d++) {
        int64_t i = member(cur->u.o, f->path[d]);
        if (i < 0) {
            lw_obj_set(a, cur, f->path[d], lw_obj_new(a, 4));
            i = cur->u.o->n - 1;
        }
        cur = &cur->u.o->v[i];
        if (cur->t != LW_T_OBJ) return;
    }
    struct lw_str key = f->path[f->npath - 1];
    int64_t i = member(cur->u.o, key);
    if (i < 0) {
        lw_obj_set(a, cur, key, v);
        return;
    }
    struct lw_value *old = &cur->u.o->v[i];
    if (old->t == LW_T_STR) {
        struct lw_value arr = lw_arr_new(a, 4);
        lw_arr_push(a, &arr, *old);
        lw_arr_push(a, &arr, v);
        *old = arr;
    } else if (old->t == LW_T_ARR) {
        lw_arr_push(a, old, v);
    }
}

/* utf8_prefix: how many bytes of p[0..len) form a valid UTF-8 character or the longest valid
 * start of one (a maximal subpart, as Unicode's U+FFFD substitution counts them); *whole is
 * set when they make a complete character. */
static size_t
utf8_prefix(const unsigned char *p, size_t len, bool *whole)
{
    unsigned char c = p[0];
    size_t n = c < 0x80                 ? 1
               : c >= 0xc2 && c <= 0xdf ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    *whole = n == 1;
    if (n <= 1) return 1;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    size_t k = 1;
    while (k < n && k < len && p[k] >= (k == 1 ? lo : 0x80) && p[k] <= (k == 1 ? hi : 0xbf))
        k++;
    *whole = k == n;
    return k;
}

/* scrub: s with every maximal invalid UTF-8 subpart replaced by U+FFFD, in the record arena,
 * or NULL (after lw_vm_too_big) past --max-memory. Logstash's inputs hand grok text repaired
 * that way, and PCRE2's JIT in UTF mode must only see valid UTF-8 (GROK_OPTIONS). */
static const char *
scrub(struct lw_vm *vm, const char *s, size_t len, size_t *outlen)
{
    size_t need = 0;
    for (size_t i = 0; i < len;) {
        bool whole;
        size_t k = utf8_prefix((const unsigned char *)s + i, len - i, &whole);
        need += whole ? k : 3;
        i += k;
    }
    if (need > lw_vm_room(vm)) return lw_vm_too_big(vm, "grok()", need), NULL;
    char *d = lw_arena_alloc(vm->arena, need ? need : 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        bool whole;
        size_t k = utf8_prefix((const unsigned char *)s + i, len - i, &whole);
        if (whole) {
            memcpy(d + o, s + i, k);
            o += k;
        } else {
            memcpy(d + o, "\xef\xbf\xbd", 3);
            o += 3;
        }
        i += k;
    }
    *outlen = o;
    return d;
}

/* utf8_ok: s is valid UTF-8; most log lines are ASCII, checked 8 bytes at a time before
 * lw_utf8_valid reads the rest from the first byte past ASCII. */
static bool
utf8_ok(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080u) break;
    }
    while (i < len && (unsigned char)s[i] < 0x80)
        i++;
    return i == len || lw_utf8_valid((struct lw_str){ s + i, len - i });
}

int
fn_grok(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const struct lw_grok *gk = a[1].u.ext;
    if (a[1].t != LW_T_REGEX || !(a[1].flags & LW_V_GROK)) {
        return lw_vm_error(vm, "grok() needs a constant pattern");
    }
    if (a[0].t == LW_T_NULL) { /* an absent member matches nothing, as in match() */
        *r = LW_NULL;
        return 0;
    }
    if (a[0].t != LW_T_STR) {
        return lw_vm_error(vm, "grok() cannot take %s as argument 1", lw_type_name(a[0].t));
    }
    const char *s = a[0].u.p;
    size_t slen = a[0].len;
    if (!utf8_ok(s, slen) && (s = scrub(vm, s, slen, &slen)) == NULL) {
        return -1;
    }
    for (uint32_t k = 0; k < gk->n; k++) {
        const struct lw_grok_alt *alt = &gk->alts[k];
        int rc = lw_vm_regex_match(vm, alt->re, s, slen, 0);
        if (rc == PCRE2_ERROR_NOMATCH) continue;
        if (rc < 0) return lw_vm_regex_error(vm, rc);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(vm->match_data);
        *r = lw_obj_new(vm->arena, alt->nfields);
        for (uint32_t i = 0; i < alt->nfields; i++) {
            const struct lw_grok_field *f = &alt->fields[i];
            uint32_t g = f->group;
            if (g == 0 || (int)g >= rc || ov[2 * g] == PCRE2_UNSET) continue;
            size_t len = ov[2 * g + 1] - ov[2 * g];
            if (len == 0) continue; /* keep_empty_captures => false */
            struct lw_value v = f->type == LW_GROK_STR
                                    ? lw_strv(s + ov[2 * g], len)
                                    : to_number(s + ov[2 * g], len, f->type == LW_GROK_FLOAT);
            put(vm->arena, r, f, v);
        }
        return 0;
    }
    *r = LW_NULL;
    return 0;
}

/* Listing, lookup and hints (--list-patterns, "unknown grok pattern") ------------------- */

static int
by_info_name(const void *a, const void *b)
{
    const struct lw_grok_info *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = n > 0 ? memcmp(x->name.p, y->name.p, n) : 0;
    return c != 0 ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static struct lw_grok_info
info(const struct lw_grok_def *d)
{
    return (struct lw_grok_info){ d->name, d->text, d->origin, d->line };
}

uint32_t
lw_grok_lib_list(const struct lw_grok_lib *lib, struct lw_arena *a, struct lw_grok_info **out)
{
    uint32_t n = 0;
    *out = lw_arena_alloc(a, (lib->n ? lib->n : 1) * sizeof **out);
    for (uint32_t i = 0; i < lib->cap; i++) {
        if (lib->slots[i] != NULL) (*out)[n++] = info(lib->slots[i]);
    }
    if (n > 1) qsort(*out, n, sizeof **out, by_info_name);
    return n;
}

bool
lw_grok_lib_find(const struct lw_grok_lib *lib, struct lw_str name, struct lw_grok_info *out)
{
    const struct lw_grok_def *d = lookup(lib, name);
    if (d != NULL) *out = info(d);
    return d != NULL;
}

/* The standard library's names and the files that define them (tools/grok-std-index.sh). */
static const struct {
    const char *name, *file, *sets;
} std_index[] = {
#define STD(name, file, sets) { #name, file, sets },
#include "grok_std.def"
#undef STD
};

void
lw_grok_hint(const struct lw_grok_lib *lib, struct lw_str name, char *buf, size_t cap)
{
    /* the nearest name: a loaded one first, else one of the standard library's */
    struct lw_str best = { 0 };
    size_t bd = 99;
    for (uint32_t i = 0; lib != NULL && i < lib->cap; i++) {
        const struct lw_grok_def *d = lib->slots[i];
        if (d == NULL) continue;
        size_t dd = lw_str_distance(name, d->name);
        if (dd < bd || (dd == bd && best.p != NULL &&
                        by_info_name(&(struct lw_grok_info){ .name = d->name },
                                     &(struct lw_grok_info){ .name = best }) < 0)) {
            bd = dd;
            best = d->name;
        }
    }
    bool near = best.p != NULL && bd <= 2 && bd * 2 <= name.len;
    const char *files[4];
    int nfiles = 0;
    struct lw_str target = name;
    for (int pass = 0; pass < 2 && nfiles == 0; pass++) {
        /* pass 0: the name itself; pass 1: the nearest standard name, when nothing loaded
         * is near */
        if (pass == 1) {
            if (near) break;
            size_t sd = 99;
            for (size_t i = 0; i < sizeof std_index / sizeof std_index[0]; i++) {
                size_t dd = lw_str_distance(name, lw_str_c(std_index[i].name));
                if (dd < sd) {
                    sd = dd;
                    target = lw_str_c(std_index[i].name);
                }
            }
            if (!(sd <= 2 && sd * 2 <= name.len) || lookup(lib, target) != NULL) break;
        }
        for (size_t i = 0; i < sizeof std_index / sizeof std_index[0] && nfiles < 4; i++) {
            if (lw_str_eq(lw_str_c(std_index[i].name), target)) files[nfiles++] = std_index[i].file;
        }
    }
    size_t n = 0;
    buf[0] = '\0';
    if (nfiles > 0 && !lw_str_eq(target, name)) {
        n += (size_t)snprintf(buf + n, cap - n, " (did you mean %.*s?", (int)target.len, target.p);
    } else if (near) {
        n += (size_t)snprintf(buf + n, cap - n, " (did you mean %.*s?)", (int)best.len, best.p);
    }
    if (nfiles > 0 && n < cap) {
        n += (size_t)snprintf(buf + n, cap - n, "%sit is in logstash-patterns-core's %s",
                              n ? " " : " (", files[0]);
        for (int i = 1; i < nfiles && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, " and %s", files[i]);
        if (n < cap) {
            snprintf(buf + n, cap - n,
                     ", which logwash does not load: give --patterns a directory holding %s)",
                     nfiles > 1 ? "one of them" : "it");
        }
    }
}

/* unknown: the error for a reference to a name the library does not define. */
static int
unknown(struct ex *x, struct lw_str name)
{
    char hint[200];
    lw_grok_hint(x->lib, name, hint, sizeof hint);
    return fail(x, "unknown grok pattern '%.*s'%s", (int)(name.len > 60 ? 60 : name.len), name.p,
                hint);
}
