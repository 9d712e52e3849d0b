/* A `logwash test` file (NAME.test.yaml, libfyaml) walked against the schema of
 * logwash-test(1) into struct lw_tfile, every error at the file's line:col; and the values a
 * case compares: expected ones from YAML (the core schema's plain scalars: null, booleans,
 * integers, floats), got ones from an output's JSON, and their member-by-member diff. Running
 * the cases and reporting them is test.c's. */
#include "test_int.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/jsonstr.h"

struct ld {
    struct lw_tfile *f;
    const char *dir; /* of the file, with a trailing '/', or "" */
    char *err;
    size_t errcap;
};

static void
startpos(struct fy_node *n, int *line, int *col, size_t *off)
{
    *line = *col = 0;
    if (off) *off = 0;
    while (n != NULL && !fy_node_is_scalar(n)) { /* a container: its first scalar */
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else {
            n = fy_node_sequence_iterate(n, &it);
        }
    }
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (m == NULL) return;
    *line = m->line + 1;
    *col = m->column + 1;
    if (off) *off = m->input_pos;
}

/* endoff: the byte offset after the last scalar of n (0 when it has none). */
static size_t
endoff(struct fy_node *n)
{
    while (n != NULL && !fy_node_is_scalar(n)) {
        void *it = NULL, *last = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p, *lp = NULL;
            while ((p = fy_node_mapping_iterate(n, &it)) != NULL)
                lp = p;
            n = lp ? (fy_node_pair_value(lp) ? fy_node_pair_value(lp) : fy_node_pair_key(lp))
                   : NULL;
        } else {
            struct fy_node *i;
            while ((i = fy_node_sequence_iterate(n, &it)) != NULL)
                last = i;
            n = last;
        }
    }
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_end_mark(t) : NULL;
    return m ? m->input_pos : 0;
}

static int
fail(struct ld *x, struct fy_node *at, const char *fmt, ...)
{
    int line, col;
    startpos(at, &line, &col, NULL);
    int n = line ? snprintf(x->err, x->errcap, "%s:%d:%d: error: ", x->f->path, line, col)
                 : snprintf(x->err, x->errcap, "%s: error: ", x->f->path);
    if (n < 0 || (size_t)n >= x->errcap) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err + n, x->errcap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool
is(struct lw_str k, const char *name)
{
    return k.len == strlen(name) && memcmp(k.p, name, k.len) == 0;
}

/* text: the C string of scalar n (a copy in the arena), or NULL after fail(). */
static const char *
text(struct ld *x, struct fy_node *n, struct fy_node *kn, const char *key, size_t *lenp)
{
    if (n == NULL || !fy_node_is_scalar(n)) {
        fail(x, n ? n : kn, "'%s' needs a single value, not a list or a mapping", key);
        return NULL;
    }
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    char *c = lw_arena_alloc(&x->f->arena, len + 1);
    if (len) memcpy(c, s, len);
    c[len] = '\0';
    if (lenp) *lenp = len;
    return c;
}

static char *
resolve(struct ld *x, const char *s)
{
    size_t dl = s[0] == '/' ? 0 : strlen(x->dir), len = strlen(s);
    char *p = lw_arena_alloc(&x->f->arena, dl + len + 1);
    memcpy(p, x->dir, dl);
    memcpy(p + dl, s, len + 1);
    return p;
}

/* ---- values from YAML ---- */

static bool
match_num(const char *s, bool *isfloat)
{
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    size_t digits = strspn(p, "0123456789");
    p += digits;
    *isfloat = false;
    if (*p == '.') {
        *isfloat = true;
        p++;
        size_t frac = strspn(p, "0123456789");
        if (digits + frac == 0) return false;
        p += frac;
    } else if (digits == 0) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        *isfloat = true;
        p++;
        if (*p == '-' || *p == '+') p++;
        size_t e = strspn(p, "0123456789");
        if (e == 0) return false;
        p += e;
    }
    return *p == '\0';
}

/* plain: resolve a plain scalar as YAML 1.2's core schema does (no YAML 1.1 yes/no). */
static void
plain(struct lw_tv *v, const char *s, size_t len)
{
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    static const char *const trues[] = { "true", "True", "TRUE" };
    static const char *const falses[] = { "false", "False", "FALSE" };
    for (size_t i = 0; i < 5; i++)
        if (strcmp(s, nulls[i]) == 0) v->kind = LW_TV_NULL;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, trues[i]) == 0) v->kind = LW_TV_BOOL, v->b = true;
        if (strcmp(s, falses[i]) == 0) v->kind = LW_TV_BOOL, v->b = false;
    }
    if (v->kind != LW_TV_STRING) return;
    bool isfloat;
    if (len == 0 || !match_num(s, &isfloat)) return;
    errno = 0;
    if (!isfloat) {
        long long i = strtoll(s, NULL, 10);
        if (errno == 0) {
            v->kind = LW_TV_INT;
            v->i = i;
            return;
        }
    }
    v->kind = LW_TV_FLOAT;
    v->f = strtod(s, NULL);
}

static int
value(struct ld *x, struct fy_node *n, struct lw_tv *v)
{
    struct lw_arena *a = &x->f->arena;
    *v = (struct lw_tv){ .kind = LW_TV_NULL };
    startpos(n, &v->line, &v->col, NULL);
    if (n == NULL) return 0;
    if (fy_node_is_scalar(n)) {
        size_t len;
        const char *s = text(x, n, NULL, "value", &len);
        v->kind = LW_TV_STRING;
        v->s = (struct lw_str){ s, len };
        if (fy_node_get_style(n) == FYNS_PLAIN) plain(v, s, len);
        return 0;
    }
    bool map = fy_node_is_mapping(n);
    if (!map && !fy_node_is_sequence(n)) return fail(x, n, "an alias or tag is not a value here");
    v->kind = map ? LW_TV_OBJECT : LW_TV_ARRAY;
    v->n = (size_t)(map ? fy_node_mapping_item_count(n) : fy_node_sequence_item_count(n));
    v->items = lw_arena_alloc(a, (v->n + 1) * sizeof *v->items);
    if (map) v->keys = lw_arena_alloc(a, (v->n + 1) * sizeof *v->keys);
    void *it = NULL;
    for (size_t i = 0; i < v->n; i++) {
        struct fy_node *item;
        if (map) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            size_t kl;
            const char *k = text(x, fy_node_pair_key(p), fy_node_pair_key(p), "key", &kl);
            if (k == NULL) return -1;
            v->keys[i] = (struct lw_str){ k, kl };
            item = fy_node_pair_value(p);
        } else {
            item = fy_node_sequence_iterate(n, &it);
        }
        if (value(x, item, &v->items[i]) != 0) return -1;
        if (item == NULL && map) { /* `key:` alone: null, at its key */
            v->items[i].line = v->line;
            v->items[i].col = v->col;
        }
    }
    return 0;
}

/* list: a value that must be a sequence (each element checked by want when not NULL). */
static int
list(struct ld *x, struct fy_node *kn, struct fy_node *v, const char *key, struct lw_tv *out,
     bool strings)
{
    if (v == NULL || !fy_node_is_sequence(v))
        return fail(x, v ? v : kn, "'%s' needs a list (- item per line, or [a, b])", key);
    if (value(x, v, out) != 0) return -1;
    if (out->line == 0) startpos(kn, &out->line, &out->col, NULL); /* [] has no place */
    for (size_t i = 0; strings && i < out->n; i++) {
        if (out->items[i].kind != LW_TV_STRING) {
            void *it = NULL;
            struct fy_node *e = NULL;
            for (size_t k = 0; k <= i; k++)
                e = fy_node_sequence_iterate(v, &it);
            return fail(x, e, "'%s' needs strings: quote this value", key);
        }
    }
    return 0;
}

/* ---- options ---- */

static int
meta(struct ld *x, struct fy_node *kn, struct fy_node *m, struct logwash_meta *out)
{
    if (m == NULL || !fy_node_is_mapping(m))
        return fail(x, m ? m : kn, "'meta' needs a mapping (source, line; or topic, ...)");
    *out = (struct logwash_meta){ .kind = LOGWASH_META_FILE, .source = "-", .source_len = 1 };
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(m, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        size_t kl, vl;
        const char *ks = text(x, k, k, "key", &kl);
        if (ks == NULL) return -1;
        struct lw_str key = { ks, kl };
        if (is(key, "headers")) {
            struct lw_tv h;
            if (v == NULL || !fy_node_is_mapping(v) || value(x, v, &h) != 0)
                return fail(x, v ? v : k, "'headers' needs a mapping of name: value");
            struct logwash_header *hs = lw_arena_alloc(&x->f->arena, (h.n + 1) * sizeof *hs);
            for (size_t i = 0; i < h.n; i++) {
                bool null = h.items[i].kind == LW_TV_NULL;
                hs[i] = (struct logwash_header){ h.keys[i].p, h.keys[i].len,
                                                 null ? NULL : h.items[i].s.p, h.items[i].s.len };
            }
            out->headers = hs;
            out->nheaders = h.n;
            out->kind = LOGWASH_META_KAFKA;
            continue;
        }
        const char *s = text(x, v, k, ks, &vl);
        if (s == NULL) return -1;
        char *end;
        errno = 0;
        long long num = strtoll(s, &end, 10);
        bool isnum = vl > 0 && *end == '\0' && errno == 0;
        if (is(key, "source")) {
            out->source = s, out->source_len = vl;
        } else if (is(key, "topic")) {
            out->topic = s, out->topic_len = vl, out->kind = LOGWASH_META_KAFKA;
        } else if (is(key, "key")) {
            out->key = s, out->key_len = vl, out->has_key = true, out->kind = LOGWASH_META_KAFKA;
        } else if (!isnum && (is(key, "line") || is(key, "partition") || is(key, "offset") ||
                              is(key, "timestamp_ms"))) {
            return fail(x, v, "'%s' needs an integer, found '%s'", ks, s);
        } else if (is(key, "line")) {
            out->line = (uint64_t)num;
        } else if (is(key, "partition")) {
            out->partition = (int32_t)num, out->kind = LOGWASH_META_KAFKA;
        } else if (is(key, "offset")) {
            out->offset = num, out->kind = LOGWASH_META_KAFKA;
        } else if (is(key, "timestamp_ms")) {
            out->timestamp_ms = num, out->has_timestamp = true, out->kind = LOGWASH_META_KAFKA;
        } else {
            return fail(x, k,
                        "unknown key '%s' in meta (expected source, line; or topic, partition, "
                        "offset, key, timestamp_ms, headers)",
                        ks);
        }
    }
    return 0;
}

/* tables: options' tables: NAME: FILE, or NAME: {file, ip, key, format, last_wins}. */
static int
tables(struct ld *x, struct fy_node *kn, struct fy_node *m, struct lw_topts *o)
{
    if (m == NULL || !fy_node_is_mapping(m))
        return fail(x, m ? m : kn,
                    "'tables' needs a mapping of NAME: FILE or NAME: {file: FILE, ...}");
    size_t n = (size_t)fy_node_mapping_item_count(m);
    o->tables = lw_arena_alloc(&x->f->arena, (n + 1) * sizeof *o->tables);
    o->ntables = 0;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(m, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p), *file = v;
        struct lw_ttable *t = &o->tables[o->ntables++];
        *t = (struct lw_ttable){ .name = text(x, k, k, "table name", NULL) };
        if (t->name == NULL) return -1;
        if (t->name[0] == '\0') return fail(x, k, "a table needs a name");
        startpos(k, &t->line, &t->col, NULL);
        if (v != NULL && fy_node_is_mapping(v)) {
            file = NULL;
            void *it2 = NULL;
            struct fy_node_pair *p2;
            while ((p2 = fy_node_mapping_iterate(v, &it2)) != NULL) {
                struct fy_node *k2 = fy_node_pair_key(p2), *v2 = fy_node_pair_value(p2);
                const char *ks = text(x, k2, k2, "key", NULL);
                if (ks == NULL) return -1;
                struct lw_str key = lw_str_c(ks);
                if (is(key, "file")) {
                    file = v2;
                    continue;
                }
                const char *s = text(x, v2, k2, ks, NULL);
                if (s == NULL) return -1;
                bool yes = strcmp(s, "true") == 0;
                if ((is(key, "ip") || is(key, "last_wins")) && !yes && strcmp(s, "false") != 0)
                    return fail(x, v2, "'%s' needs true or false, found '%s'", ks, s);
                if (is(key, "ip")) {
                    t->ip = yes;
                } else if (is(key, "last_wins")) {
                    t->last_wins = yes;
                } else if (is(key, "key")) {
                    t->key = s;
                } else if (is(key, "format")) {
                    if (strcmp(s, "csv") != 0 && strcmp(s, "jsonl") != 0)
                        return fail(x, v2, "'format' needs csv or jsonl, found '%s'", s);
                    t->format = s[0] == 'c' ? LOGWASH_TABLE_CSV : LOGWASH_TABLE_JSONL;
                } else {
                    return fail(x, k2,
                                "unknown key '%s' in table '%s' (expected file, ip, key, format, "
                                "last_wins)",
                                ks, t->name);
                }
            }
            if (file == NULL) return fail(x, k, "table '%s' needs its file: file: PATH", t->name);
        }
        const char *path = text(x, file, k, "file", NULL);
        if (path == NULL) return -1;
        if (path[0] == '\0')
            return fail(x, file ? file : k, "table '%s' needs a file name", t->name);
        t->path = resolve(x, path);
    }
    return 0;
}

static int
options(struct ld *x, struct fy_node *kn, struct fy_node *m, struct lw_topts *o)
{
    if (m == NULL || !fy_node_is_mapping(m))
        return fail(x, m ? m : kn, "'options' needs a mapping of keys");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(m, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        size_t kl;
        const char *ks = text(x, k, k, "key", &kl);
        if (ks == NULL) return -1;
        struct lw_str key = { ks, kl };
        if (is(key, "meta")) {
            if (meta(x, k, v, &o->meta) != 0) return -1;
            o->has_meta = true;
            continue;
        }
        if (is(key, "tables")) {
            if (tables(x, k, v, o) != 0) return -1;
            continue;
        }
        const char *s = text(x, v, k, ks, NULL);
        if (s == NULL) return -1;
        if (is(key, "input")) {
            if (strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
                return fail(x, v, "'input' needs text or json, found '%s'", s);
            o->has_input = true;
            o->input = s[0] == 't' ? LOGWASH_INPUT_TEXT : LOGWASH_INPUT_JSON;
        } else if (is(key, "output")) {
            if (strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
                return fail(x, v, "'output' needs json or text, found '%s'", s);
            o->has_output = true;
            o->output = s[0] == 't' ? LOGWASH_OUTPUT_TEXT : LOGWASH_OUTPUT_JSON;
        } else if (is(key, "tz")) {
            o->has_tz = true;
            o->tz = s;
            startpos(v, &o->tz_line, &o->tz_col, NULL);
        } else if (is(key, "now")) {
            /* the forms of logwash(1) --now, with its parser */
            if (logwash_parse_time(s, strlen(s), &o->now_ns) != 0)
                return fail(x, v, "'now' needs an RFC 3339 time or epoch seconds, found '%s'", s);
            o->has_now = true;
        } else {
            return fail(x, k,
                        "unknown key '%s' in options (expected input, output, tz, now, meta, "
                        "tables)",
                        ks);
        }
    }
    return 0;
}

/* merge: a case's options over the file's. */
static void
merge(struct lw_topts *o, const struct lw_topts *c)
{
    if (c->has_input) o->has_input = true, o->input = c->input;
    if (c->has_output) o->has_output = true, o->output = c->output;
    if (c->has_tz) o->has_tz = true, o->tz = c->tz, o->tz_line = c->tz_line, o->tz_col = c->tz_col;
    if (c->has_now) o->has_now = true, o->now_ns = c->now_ns;
    if (c->has_meta) o->has_meta = true, o->meta = c->meta;
}

/* ---- cases ---- */

/* input_file: the records of a file, one a line (a final newline optional, CRLF as LF). */
static int
input_file(struct ld *x, struct fy_node *v, const char *name, struct lw_tcase *c)
{
    const char *path = resolve(x, name);
    struct lw_buf b;
    lw_buf_init(&b);
    if (lw_buf_read_file_max(&b, path, LW_TEST_MAX_INPUT) != 0) {
        int e = errno;
        lw_buf_fini(&b);
        if (e == EFBIG)
            return fail(x, v, "%s is longer than %d MiB: split its records over several cases",
                        path, LW_TEST_MAX_INPUT >> 20);
        return fail(x, v, "cannot read %s: %s", path, strerror(e));
    }
    const char *p = b.len ? lw_arena_dup(&x->f->arena, b.p, b.len) : "";
    size_t len = b.len, n = 0;
    lw_buf_fini(&b);
    for (size_t i = 0; i < len; i++)
        n += p[i] == '\n';
    c->inputs = lw_arena_alloc(&x->f->arena, (n + 2) * sizeof *c->inputs);
    for (size_t i = 0, start = 0; start < len; start = i + 1) {
        for (i = start; i < len && p[i] != '\n';)
            i++;
        size_t l = i - start;
        if (i < len && l > 0 && p[i - 1] == '\r') l--;
        c->inputs[c->ninputs++] = (struct lw_str){ p + start, l };
    }
    return 0;
}

static int
outcome(struct ld *x, struct lw_tcase *c, struct fy_node *k, struct fy_node *v, enum lw_toutcome oc,
        const char *key)
{
    if (c->outcome != LW_TO_OK)
        return fail(x, k, "'%s': a case has one of dropped, rejected, failed, undecodable", key);
    const char *s = text(x, v, k, key, NULL);
    if (s == NULL) return -1;
    startpos(v, &c->oline, &c->ocol, NULL);
    bool quoted = fy_node_get_style(v) != FYNS_PLAIN;
    if (oc == LW_TO_DROP) {
        if (quoted || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
            return fail(x, v, "'dropped' needs true or false, found '%s'", s);
        c->outcome = s[0] == 't' ? LW_TO_DROP : LW_TO_OK;
        return 0;
    }
    c->outcome = oc;
    /* true: any message; a string: a substring of it */
    c->message = !quoted && strcmp(s, "true") == 0 ? "" : s;
    return 0;
}

/* json_num: a YAML number's text as JSON has it (YAML also takes +1, .5, 1., 0x...: those are
 * written again from the value) */
static void
json_num(struct lw_buf *b, const struct lw_tv *v)
{
    const char *p = v->s.p;
    size_t n = v->s.len, i = p[0] == '-';
    bool ok = i < n && p[i] >= '0' && p[i] <= '9' && !(p[i] == '0' && i + 1 < n && p[i + 1] >= '0');
    for (size_t k = i; ok && k < n; k++)
        if ((p[k] == '.' || p[k] == 'e' || p[k] == 'E') && (k + 1 == n || p[k + 1] == '.'))
            ok = false;
    if (ok)
        lw_buf_add(b, p, n);
    else if (v->kind == LW_TV_INT)
        lw_buf_printf(b, "%lld", (long long)v->i);
    else
        lw_buf_printf(b, "%.17g", v->f);
}

/* to_json: an inline record written as YAML (a mapping or a list) as the JSON text logwash
 * reads (members in order; the scalars as the core schema reads them). */
static void
to_json(struct lw_buf *b, const struct lw_tv *v)
{
    switch (v->kind) {
    case LW_TV_NULL:
        lw_buf_adds(b, "null");
        break;
    case LW_TV_BOOL:
        lw_buf_adds(b, v->b ? "true" : "false");
        break;
    case LW_TV_INT:
    case LW_TV_FLOAT:
        json_num(b, v);
        break;
    case LW_TV_STRING:
        lw_test_quote(b, v->s);
        break;
    case LW_TV_ARRAY:
    case LW_TV_OBJECT:
        lw_buf_addc(b, v->kind == LW_TV_ARRAY ? '[' : '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i) lw_buf_addc(b, ',');
            if (v->kind == LW_TV_OBJECT) {
                lw_test_quote(b, v->keys[i]);
                lw_buf_addc(b, ':');
            }
            to_json(b, &v->items[i]);
        }
        lw_buf_addc(b, v->kind == LW_TV_ARRAY ? ']' : '}');
        break;
    }
}

/* record: one record of input/inputs: a string as it is, a mapping or a list as JSON text;
 * another scalar (a number, true, null) is refused: quote it. */
static int
record(struct ld *x, struct fy_node *n, const struct lw_tv *t, const char *key, struct lw_str *out)
{
    if (t->kind == LW_TV_OBJECT || t->kind == LW_TV_ARRAY) {
        struct lw_buf b;
        lw_buf_init(&b);
        to_json(&b, t);
        *out = (struct lw_str){ lw_arena_dup(&x->f->arena, b.p, b.len), b.len };
        lw_buf_fini(&b);
        return 0;
    }
    if (t->kind != LW_TV_STRING)
        return fail(x, n,
                    "'%s' needs a record: a string, or a mapping or list for a JSON one (quote a "
                    "number or true)",
                    key);
    *out = t->s;
    return 0;
}

static int
inputs(struct ld *x, struct lw_tcase *c, struct fy_node *k, struct fy_node *v, const char *key)
{
    if (c->inputs != NULL)
        return fail(x, k, "'%s': a case has one of input, inputs, input_file", key);
    if (strcmp(key, "input_file") == 0) {
        const char *s = text(x, v, k, key, NULL);
        return s == NULL ? -1 : input_file(x, v, s, c);
    }
    struct lw_tv t;
    if (strcmp(key, "input") == 0) {
        if (v == NULL) return fail(x, k, "'input' needs one record (several: inputs)");
        if (value(x, v, &t) != 0) return -1;
        c->inputs = lw_arena_alloc(&x->f->arena, sizeof *c->inputs);
        c->ninputs = 1;
        return record(x, v, &t, key, &c->inputs[0]);
    }
    if (list(x, k, v, key, &t, false) != 0) return -1;
    c->inputs = lw_arena_alloc(&x->f->arena, (t.n + 1) * sizeof *c->inputs);
    void *it = NULL;
    for (size_t i = 0; i < t.n; i++) {
        struct fy_node *e = fy_node_sequence_iterate(v, &it);
        if (record(x, e, &t.items[i], key, &c->inputs[i]) != 0) return -1;
    }
    c->ninputs = t.n;
    return 0;
}

static int
one_case(struct ld *x, struct fy_node *m, size_t index, const struct lw_topts *fo,
         struct lw_tcase *c)
{
    *c = (struct lw_tcase){ .opts = *fo };
    startpos(m, &c->line, &c->col, NULL);
    if (m == NULL || !fy_node_is_mapping(m))
        return fail(x, m, "a case needs a mapping (name, input, expect, ...)");
    c->flow = fy_node_get_style(m) == FYNS_FLOW;
    c->indent = c->col - 1;
    c->insert_off = endoff(m);
    bool expectation = false;
    struct lw_topts co = { 0 };
    struct fy_node *where = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(m, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        size_t kl;
        const char *ks = text(x, k, k, "key", &kl);
        if (ks == NULL) return -1;
        struct lw_str key = { ks, kl };
        int rc = 0;
        if (is(key, "name")) { /* shown in reports: made safe (a newline, ESC, ...) */
            size_t nl;
            const char *s = text(x, v, k, ks, &nl);
            rc = s ? 0 : -1;
            if (s != NULL) {
                struct lw_buf b;
                lw_buf_init(&b);
                lw_test_clean(&b, s, nl, false);
                lw_buf_addc(&b, '\0');
                c->name = lw_arena_dup(&x->f->arena, b.p, b.len);
                lw_buf_fini(&b);
            }
        } else if (is(key, "input") || is(key, "inputs") || is(key, "input_file")) {
            rc = inputs(x, c, k, v, ks);
            where = k;
        } else if (is(key, "options")) {
            rc = options(x, k, v, &co);
        } else if (is(key, "meta")) {
            rc = meta(x, k, v, &co.meta);
            co.has_meta = true;
        } else if (is(key, "expect")) {
            rc = list(x, k, v, ks, &c->expect, false);
            c->has_expect = true;
        } else if (is(key, "expect_subset")) {
            rc = list(x, k, v, ks, &c->subset, false);
            c->has_subset = true;
        } else if (is(key, "printed")) {
            rc = list(x, k, v, ks, &c->printed, true);
            c->has_printed = true;
        } else if (is(key, "dropped")) {
            rc = outcome(x, c, k, v, LW_TO_DROP, ks);
        } else if (is(key, "rejected")) {
            rc = outcome(x, c, k, v, LW_TO_REJECT, ks);
        } else if (is(key, "failed")) {
            rc = outcome(x, c, k, v, LW_TO_ERROR, ks);
        } else if (is(key, "undecodable")) {
            rc = outcome(x, c, k, v, LW_TO_UNDECODABLE, ks);
        } else {
            return fail(x, k,
                        "unknown key '%s' in a case (expected name, input, inputs, input_file, "
                        "options, meta, expect, expect_subset, printed, dropped, rejected, "
                        "failed, undecodable)",
                        ks);
        }
        if (rc != 0) return -1;
        expectation |= !is(key, "name") && !is(key, "options") && !is(key, "meta") && where != k;
    }
    if (c->inputs == NULL) return fail(x, m, "a case needs input, inputs or input_file");
    if (c->has_expect && c->has_subset)
        return fail(x, m, "a case has expect or expect_subset, not both");
    if (c->outcome >= LW_TO_REJECT && (c->has_expect || c->has_subset || c->has_printed))
        return fail(x, m, "a rejected, failed or undecodable record has no outputs to expect");
    if (c->name == NULL) {
        char buf[32];
        snprintf(buf, sizeof buf, "case %zu", index + 1);
        c->name = lw_arena_dup(&x->f->arena, buf, strlen(buf) + 1);
    }
    c->fresh = !expectation;
    merge(&c->opts, &co);
    if (co.ntables > 0) { /* the file's tables, then the case's (a name again replaces) */
        size_t n = fo->ntables + co.ntables;
        c->opts.tables = lw_arena_alloc(&x->f->arena, (n + 1) * sizeof *c->opts.tables);
        if (fo->ntables) memcpy(c->opts.tables, fo->tables, fo->ntables * sizeof *fo->tables);
        memcpy(c->opts.tables + fo->ntables, co.tables, co.ntables * sizeof *co.tables);
        c->opts.ntables = n;
    }
    return 0;
}

static int
cases(struct ld *x, struct fy_node *k, struct fy_node *v, const struct lw_topts *fo)
{
    if (v == NULL || !fy_node_is_sequence(v))
        return fail(x, v ? v : k, "'cases' needs a list of cases (- name: ...)");
    struct lw_tfile *f = x->f;
    f->ncases = (size_t)fy_node_sequence_item_count(v);
    f->cases = lw_arena_alloc(&f->arena, (f->ncases + 1) * sizeof *f->cases);
    void *it = NULL;
    for (size_t i = 0; i < f->ncases; i++) {
        if (one_case(x, fy_node_sequence_iterate(v, &it), i, fo, &f->cases[i]) != 0) return -1;
    }
    return 0;
}

/* top: the file's mapping; options are read first, whatever their place, as cases use them. */
static int
top(struct ld *x, struct fy_node *root)
{
    if (!fy_node_is_mapping(root))
        return fail(x, root, "a test file needs a mapping (template, options, cases)");
    struct lw_tfile *f = x->f;
    struct lw_topts fo = { 0 };
    struct fy_node *ck = NULL, *cv = NULL;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(root, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        size_t kl;
        const char *ks = text(x, k, k, "key", &kl);
        if (ks == NULL) return -1;
        struct lw_str key = { ks, kl };
        if (is(key, "template")) {
            const char *s = text(x, v, k, ks, NULL);
            if (s == NULL) return -1;
            f->template_path = resolve(x, s);
            startpos(v, &f->tline, &f->tcol, NULL);
        } else if (is(key, "options")) {
            if (options(x, k, v, &fo) != 0) return -1;
        } else if (is(key, "patterns") || is(key, "lib")) {
            struct lw_tv l;
            if (list(x, k, v, ks, &l, true) != 0) return -1;
            const char **dirs = lw_arena_alloc(&f->arena, (l.n + 1) * sizeof *dirs);
            for (size_t i = 0; i < l.n; i++)
                dirs[i] = resolve(x, l.items[i].s.p);
            if (is(key, "lib")) {
                f->libs = dirs;
                f->nlibs = l.n;
            } else {
                f->patterns = dirs;
                f->npatterns = l.n;
            }
        } else if (is(key, "cases")) {
            ck = k;
            cv = v;
        } else {
            return fail(x, k,
                        "unknown key '%s' in a test file (expected template, options, patterns, "
                        "lib, cases)",
                        ks);
        }
    }
    if (ck == NULL) return fail(x, root, "a test file needs 'cases'");
    return cases(x, ck, cv, &fo);
}

/* implied: NAME.lw beside NAME.test.yaml. */
static int
implied(struct ld *x)
{
    const char *base = strrchr(x->f->path, '/');
    base = base ? base + 1 : x->f->path;
    size_t bl = strlen(base), sl = strlen(".test.yaml");
    if (bl <= sl || strcmp(base + bl - sl, ".test.yaml") != 0)
        return fail(x, NULL, "no 'template:' and the file is not named NAME.test.yaml");
    char *name = lw_arena_alloc(&x->f->arena, bl - sl + 4);
    memcpy(name, base, bl - sl);
    memcpy(name + bl - sl, ".lw", 4);
    x->f->template_path = resolve(x, name);
    return 0;
}

/* diag_out: libfyaml's message for a syntax error, kept (the first one) instead of printed. */
static void
diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    struct ld *x = user;
    if (x->err[0] != '\0') return;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    snprintf(x->err, x->errcap, "%.*s", (int)len, buf);
}

/* utf8: a file that is not UTF-8 is refused before libfyaml sees it (config.c says why). */
static int
utf8(struct ld *x)
{
    struct lw_buf *t = &x->f->text;
    int line = 1;
    for (size_t i = 0, start = 0; i <= t->len; i++) {
        if (i < t->len && t->p[i] != '\n') continue;
        struct lw_str l = { t->p + start, i - start };
        if (!lw_utf8_valid(l) || memchr(l.p, '\0', l.len) != NULL) {
            snprintf(x->err, x->errcap, "%s:%d: error: not UTF-8 text (a test file is YAML)",
                     x->f->path, line);
            return -1;
        }
        line++;
        start = i + 1;
    }
    return 0;
}

/* aliases: n's aliases (*name) and what they copy, counted against *copies (the values
 * aliases may copy in all: a few anchors of anchors would otherwise copy billions) and a depth
 * (an alias inside the node it names never ends). origin: the alias being copied (the place
 * of an error), NULL outside one. Returns 0, or -1 after fail(). */
static int
aliases(struct ld *x, struct fy_node *n, size_t *copies, int depth, struct fy_node *origin)
{
    if (n == NULL) return 0;
    if (depth > LW_TEST_MAX_DEPTH)
        return fail(x, origin ? origin : n, "nested deeper than %d through aliases",
                    LW_TEST_MAX_DEPTH);
    if (origin != NULL && (*copies)-- == 0)
        return fail(x, origin, "aliases copy more than %d values in all (anchors of anchors?)",
                    LW_TEST_MAX_COPIES);
    if (fy_node_is_alias(n)) {
        struct fy_node *t = fy_node_resolve_alias(n);
        if (t == NULL) return fail(x, n, "an alias to no anchor, or to itself");
        return aliases(x, t, copies, depth + 1, origin ? origin : n);
    }
    void *it = NULL;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
            if (aliases(x, fy_node_pair_key(p), copies, depth + 1, origin) != 0 ||
                aliases(x, fy_node_pair_value(p), copies, depth + 1, origin) != 0)
                return -1;
        }
    } else if (fy_node_is_sequence(n)) {
        struct fy_node *i;
        while ((i = fy_node_sequence_iterate(n, &it)) != NULL)
            if (aliases(x, i, copies, depth + 1, origin) != 0) return -1;
    }
    return 0;
}

int
lw_test_load(struct lw_tfile *f, const char *path, char *err, size_t errcap)
{
    *f = (struct lw_tfile){ .path = path };
    lw_arena_init(&f->arena, 64 * 1024);
    lw_buf_init(&f->text);
    err[0] = '\0';
    const char *slash = strrchr(path, '/');
    struct ld x = { .f = f, .err = err, .errcap = errcap };
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    char *dir = lw_arena_alloc(&f->arena, dl + 1);
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    x.dir = dir;
    if (lw_buf_read_file_max(&f->text, path, LW_TEST_MAX_FILE) != 0) {
        if (errno == EFBIG)
            snprintf(err, errcap,
                     "%s: error: longer than %d MiB: a test file is read whole, with every "
                     "value kept; put records in bulk in input_file",
                     path, LW_TEST_MAX_FILE >> 20);
        else
            snprintf(err, errcap, "%s: error: cannot read: %s", path, strerror(errno));
        lw_test_free(f);
        return -1;
    }
    if (f->text.p == NULL) lw_buf_adds(&f->text, "");
    if (utf8(&x) != 0) {
        lw_test_free(f);
        return -1;
    }
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL; /* output_fn is used only without a FILE */
    dc.output_fn = diag_out;
    dc.user = &x;
    dc.colorize = false;
    dc.show_source = false;
    struct fy_diag *diag = fy_diag_create(&dc);
    /* aliases are resolved only once their copies are known to be few (an alias bomb) */
    struct fy_parse_cfg pc = { .flags = FYPCF_QUIET | FYPCF_DEFAULT_PARSE, .diag = diag };
    struct fy_document *doc = fy_document_build_from_file(&pc, path);
    int rc = -1;
    size_t copies = LW_TEST_MAX_COPIES;
    if (doc == NULL && lw_str_only_comments((struct lw_str){
                           f->text.p, f->text.len })) { /* libfyaml says only that it failed */
        snprintf(err, errcap, "%s: error: empty: a test file needs 'cases'", path);
    } else if (doc == NULL) {
        if (err[0] == '\0' || strncmp(err, "[ERR]", 5) == 0)
            snprintf(err, errcap, "%s: error: not a YAML document", path);
    } else if (aliases(&x, fy_document_root(doc), &copies, 0, NULL) != 0) {
        /* said */
    } else if (fy_document_resolve(doc) != 0) {
        if (err[0] == '\0') snprintf(err, errcap, "%s: error: an alias cannot be resolved", path);
    } else if (fy_document_root(doc) == NULL) {
        fail(&x, NULL, "empty: a test file needs 'cases'");
    } else {
        rc = top(&x, fy_document_root(doc));
        if (rc == 0 && f->template_path == NULL) rc = implied(&x);
    }
    if (doc) fy_document_destroy(doc);
    fy_diag_destroy(diag);
    if (rc != 0) lw_test_free(f);
    return rc;
}

void
lw_test_free(struct lw_tfile *f)
{
    lw_arena_fini(&f->arena);
    lw_buf_fini(&f->text);
    *f = (struct lw_tfile){ .path = f->path };
}

/* ---- values from JSON (an output) ---- */

struct jp {
    const char *p, *end;
    struct lw_arena *a;
    int depth;
};

static void
ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int
hex4(struct jp *j, unsigned *cp)
{
    if (j->end - j->p < 4) return -1;
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char ch = *j->p++;
        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                              : 16u;
        if (d == 16) return -1;
        *cp = *cp * 16 + d;
    }
    return 0;
}

static void
utf8_put(struct lw_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        lw_buf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        lw_buf_addc(b, (char)(0xc0 | cp >> 6));
        lw_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        lw_buf_addc(b, (char)(0xe0 | cp >> 12));
        lw_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        lw_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        lw_buf_addc(b, (char)(0xf0 | cp >> 18));
        lw_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
        lw_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        lw_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

static int
jstring(struct jp *j, struct lw_str *out)
{
    struct lw_buf b;
    lw_buf_init(&b);
    j->p++; /* the quote */
    int rc = -1;
    while (j->p < j->end && *j->p != '"') {
        if (*j->p != '\\') {
            lw_buf_addc(&b, *j->p++);
            continue;
        }
        if (++j->p >= j->end) goto done;
        char e = *j->p++;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *hit = strchr(from, e);
        if (e != 'u' && (hit == NULL || e == '\0')) goto done;
        if (e != 'u') {
            lw_buf_addc(&b, to[hit - from]);
            continue;
        }
        unsigned cp, lo;
        if (hex4(j, &cp) != 0) goto done;
        if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
            j->p[1] == 'u') {
            j->p += 2;
            if (hex4(j, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) goto done;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        utf8_put(&b, cp);
    }
    if (j->p >= j->end) goto done;
    j->p++;
    *out = (struct lw_str){ b.len ? lw_arena_dup(j->a, b.p, b.len) : "", b.len };
    rc = 0;
done:
    lw_buf_fini(&b);
    return rc;
}

static int jvalue(struct jp *j, struct lw_tv *v);

static int
jcontainer(struct jp *j, struct lw_tv *v, bool obj)
{
    struct lw_buf keys, items; /* growable arrays of struct lw_str and struct lw_tv */
    lw_buf_init(&keys);
    lw_buf_init(&items);
    int rc = -1;
    j->p++;
    ws(j);
    char close = obj ? '}' : ']';
    if (j->p < j->end && *j->p == close) {
        j->p++;
        rc = 0;
        goto done;
    }
    for (;;) {
        ws(j);
        if (obj) {
            struct lw_str k;
            if (j->p >= j->end || *j->p != '"' || jstring(j, &k) != 0) goto done;
            lw_buf_add(&keys, &k, sizeof k);
            ws(j);
            if (j->p >= j->end || *j->p++ != ':') goto done;
        }
        struct lw_tv item;
        if (jvalue(j, &item) != 0) goto done;
        lw_buf_add(&items, &item, sizeof item);
        ws(j);
        if (j->p >= j->end) goto done;
        char ch = *j->p++;
        if (ch == close) break;
        if (ch != ',') goto done;
    }
    rc = 0;
done:
    v->kind = obj ? LW_TV_OBJECT : LW_TV_ARRAY;
    v->n = items.len / sizeof(struct lw_tv);
    v->items = lw_arena_dup(j->a, items.p ? items.p : "", items.len + 1);
    if (obj) v->keys = lw_arena_dup(j->a, keys.p ? keys.p : "", keys.len + 1);
    lw_buf_fini(&keys);
    lw_buf_fini(&items);
    return rc;
}

static int
jvalue(struct jp *j, struct lw_tv *v)
{
    *v = (struct lw_tv){ .kind = LW_TV_NULL };
    ws(j);
    if (j->p >= j->end || ++j->depth > 4096) return -1;
    int rc = 0;
    const char *s = j->p;
    size_t left = (size_t)(j->end - s);
    if (*s == '{' || *s == '[') {
        rc = jcontainer(j, v, *s == '{');
    } else if (*s == '"') {
        v->kind = LW_TV_STRING;
        rc = jstring(j, &v->s);
    } else if (left >= 4 && memcmp(s, "null", 4) == 0) {
        j->p += 4;
    } else if (left >= 4 && memcmp(s, "true", 4) == 0) {
        v->kind = LW_TV_BOOL, v->b = true, j->p += 4;
    } else if (left >= 5 && memcmp(s, "false", 5) == 0) {
        v->kind = LW_TV_BOOL, v->b = false, j->p += 5;
    } else {
        size_t n = strspn(s, "+-0123456789.eE");
        if (n == 0 || n > left || n > 400) return -1;
        char num[401];
        memcpy(num, s, n);
        num[n] = '\0';
        j->p += n;
        v->kind = LW_TV_STRING;
        plain(v, num, n);
        if (v->kind == LW_TV_STRING) return -1;
        v->s = (struct lw_str){ lw_arena_dup(j->a, num, n), n };
    }
    j->depth--;
    return rc;
}

int
lw_test_json(struct lw_arena *a, const char *p, size_t len, struct lw_tv *v)
{
    struct jp j = { p, p + len, a, 0 };
    if (jvalue(&j, v) != 0) return -1;
    ws(&j);
    return j.p == j.end ? 0 : -1;
}

/* ---- writing and comparing values ---- */

/* special: the length of a UTF-8 character at p that YAML does not take as it is inside a
 * scalar (C1 controls, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF), with its code point; else 0 */
static size_t
special(const unsigned char *p, size_t left, unsigned *cp)
{
    if (left >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
        *cp = p[1];
        return 2;
    }
    if (left < 3) return 0;
    unsigned c = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    if ((p[0] & 0xf0) != 0xe0) return 0;
    if (c != 0x2028 && c != 0x2029 && c != 0xfeff && c != 0xfffe && c != 0xffff) return 0;
    *cp = c;
    return 3;
}

void
lw_test_yaml_safe(struct lw_buf *out, struct lw_str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    for (size_t i = 0; i < s.len;) {
        unsigned cp;
        size_t n = special(p + i, s.len - i, &cp);
        if (n > 0) {
            lw_buf_printf(out, "\\u%04x", cp);
            i += n;
        } else {
            lw_buf_addc(out, (char)p[i++]);
        }
    }
}

void
lw_test_clean(struct lw_buf *out, const char *s, size_t len, bool lines)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char ch = p[i];
        if ((ch == '\n' && lines) || ch == '\t' || (ch >= 0x20 && ch < 0x7f)) {
            lw_buf_addc(out, (char)p[i++]);
            continue;
        }
        size_t n = ch >= 0xc2 && ch <= 0xdf   ? 2
                   : ch >= 0xe0 && ch <= 0xef ? 3
                   : ch >= 0xf0 && ch <= 0xf4 ? 4
                                              : 0;
        unsigned cp;
        if (n == 0 || n > len - i || !lw_utf8_valid((struct lw_str){ s + i, n })) {
            if (ch == '\n') /* a control, or a byte that is not UTF-8 */
                lw_buf_adds(out, "\\n");
            else
                lw_buf_printf(out, "\\x%02x", ch);
            i++;
        } else if (special(p + i, len - i, &cp) != 0) {
            lw_buf_printf(out, "\\u%04x", cp);
            i += n;
        } else {
            lw_buf_add(out, s + i, n);
            i += n;
        }
    }
}

void
lw_test_quote(struct lw_buf *out, struct lw_str s)
{
    lw_buf_addc(out, '"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        unsigned cp;
        size_t n = special((const unsigned char *)s.p + i, s.len - i, &cp);
        if (n > 0) {
            lw_buf_printf(out, "\\u%04x", cp);
            i += n - 1;
        } else if (ch == '"' || ch == '\\') {
            lw_buf_addc(out, '\\');
            lw_buf_addc(out, (char)ch);
        } else if (ch == '\n') {
            lw_buf_adds(out, "\\n");
        } else if (ch == '\t') {
            lw_buf_adds(out, "\\t");
        } else if (ch < 0x20 || ch == 0x7f) {
            lw_buf_printf(out, "\\u%04x", ch);
        } else {
            lw_buf_addc(out, (char)ch);
        }
    }
    lw_buf_addc(out, '"');
}

static void
write_v(struct lw_buf *out, const struct lw_tv *v, size_t stop)
{
    if (out->len > stop) return;
    switch (v->kind) {
    case LW_TV_NULL:
        lw_buf_adds(out, "null");
        break;
    case LW_TV_BOOL:
        lw_buf_adds(out, v->b ? "true" : "false");
        break;
    case LW_TV_INT:
    case LW_TV_FLOAT:
        lw_buf_add(out, v->s.p, v->s.len);
        break;
    case LW_TV_STRING:
        lw_test_quote(out, v->s);
        break;
    case LW_TV_ARRAY:
    case LW_TV_OBJECT:
        lw_buf_addc(out, v->kind == LW_TV_ARRAY ? '[' : '{');
        for (size_t i = 0; i < v->n && out->len <= stop; i++) {
            if (i) lw_buf_addc(out, ',');
            if (v->kind == LW_TV_OBJECT) {
                lw_test_quote(out, v->keys[i]);
                lw_buf_addc(out, ':');
            }
            write_v(out, &v->items[i], stop);
        }
        lw_buf_addc(out, v->kind == LW_TV_ARRAY ? ']' : '}');
        break;
    }
}

void
lw_test_write(struct lw_buf *out, const struct lw_tv *v, size_t max)
{
    size_t start = out->len;
    write_v(out, v, start + max);
    if (out->len > start + max) {
        out->len = start + max;
        while (out->len > start && ((unsigned char)out->p[out->len] & 0xc0) == 0x80)
            out->len--; /* not inside a UTF-8 character */
        lw_buf_adds(out, "...");
    }
}

static const char *
kind_name(enum lw_tv_kind k)
{
    static const char *const names[] = { "null",   "boolean", "integer", "float",
                                         "string", "array",   "object" };
    return names[k];
}

static bool
same_scalar(const struct lw_tv *a, const struct lw_tv *b)
{
    switch (a->kind) {
    case LW_TV_NULL:
        return true;
    case LW_TV_BOOL:
        return a->b == b->b;
    case LW_TV_INT:
        return a->i == b->i;
    case LW_TV_FLOAT:
        return a->f == b->f;
    case LW_TV_STRING:
        return a->s.len == b->s.len && memcmp(a->s.p, b->s.p, a->s.len) == 0;
    case LW_TV_ARRAY:
    case LW_TV_OBJECT:
        break;
    }
    return false;
}

struct dctx {
    const char *file, *prefix;
    bool subset;
    struct lw_buf *out;
    int n;
};

static void line(struct dctx *d, const struct lw_tv *at, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
line(struct dctx *d, const struct lw_tv *at, const char *path, const char *fmt, ...)
{
    d->n++;
    lw_buf_adds(d->out, "    ");
    if (at && at->line) lw_buf_printf(d->out, "%s:%d:%d: ", d->file, at->line, at->col);
    lw_buf_printf(d->out, "%s%s%s: ", d->prefix, d->prefix[0] ? " " : "", path[0] ? path : ".");
    va_list ap;
    va_start(ap, fmt);
    lw_buf_vprintf(d->out, fmt, ap);
    va_end(ap);
    lw_buf_addc(d->out, '\n');
}

static void
show(struct lw_buf *b, const struct lw_tv *v)
{
    b->len = 0;
    lw_test_write(b, v, 160);
    lw_buf_addc(b, '\0');
}

/* sub: path + one member or index, as jq writes it (.name, ["odd name"], [2]). */
static void
sub(struct lw_buf *b, const char *path, const struct lw_tv *obj, size_t i)
{
    b->len = 0;
    lw_buf_adds(b, path);
    if (obj->kind == LW_TV_ARRAY) {
        lw_buf_printf(b, "[%zu]", i);
    } else {
        struct lw_str k = obj->keys[i];
        bool ident = k.len > 0 && !(k.p[0] >= '0' && k.p[0] <= '9');
        for (size_t c = 0; c < k.len; c++) {
            char ch = k.p[c];
            ident &= (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '_';
        }
        if (ident) {
            lw_buf_printf(b, ".%.*s", (int)k.len, k.p);
        } else {
            lw_buf_addc(b, '[');
            lw_test_quote(b, k);
            lw_buf_addc(b, ']');
        }
    }
    lw_buf_addc(b, '\0');
}

static long
find(const struct lw_tv *obj, struct lw_str k)
{
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i].len == k.len && memcmp(obj->keys[i].p, k.p, k.len) == 0) return (long)i;
    return -1;
}

static void cmp(struct dctx *d, const struct lw_tv *w, const struct lw_tv *g, const char *path);

static void
cmp_object(struct dctx *d, const struct lw_tv *w, const struct lw_tv *g, const char *path)
{
    struct lw_buf p, s;
    lw_buf_init(&p);
    lw_buf_init(&s);
    int before = d->n;
    for (size_t i = 0; i < w->n; i++) {
        long at = find(g, w->keys[i]);
        sub(&p, path, w, i);
        if (at < 0) {
            show(&s, &w->items[i]);
            line(d, &w->items[i], p.p, "missing (expected %s)", s.p);
        } else {
            cmp(d, &w->items[i], &g->items[at], p.p);
        }
    }
    for (size_t i = 0; !d->subset && i < g->n; i++) {
        if (find(w, g->keys[i]) >= 0) continue;
        sub(&p, path, g, i);
        show(&s, &g->items[i]);
        line(d, w, p.p, "unexpected member, got %s", s.p);
    }
    bool order = !d->subset && d->n == before && w->n == g->n;
    for (size_t i = 0; order && i < w->n; i++) {
        if (find(g, w->keys[i]) == (long)i) continue;
        s.len = 0;
        for (size_t k = 0; k < g->n; k++)
            lw_buf_printf(&s, "%s%.*s", k ? ", " : "", (int)g->keys[k].len, g->keys[k].p);
        lw_buf_addc(&s, '\0');
        line(d, w, path, "the same members in another order: got %s", s.p);
        break;
    }
    lw_buf_fini(&p);
    lw_buf_fini(&s);
}

static void
cmp(struct dctx *d, const struct lw_tv *w, const struct lw_tv *g, const char *path)
{
    const char *at = path;
    if (w->kind != g->kind) {
        struct lw_buf a, b;
        lw_buf_init(&a);
        lw_buf_init(&b);
        show(&a, w);
        show(&b, g);
        line(d, w, at, "expected %s (%s), got %s (%s)", a.p, kind_name(w->kind), b.p,
             kind_name(g->kind));
        lw_buf_fini(&a);
        lw_buf_fini(&b);
    } else if (w->kind == LW_TV_OBJECT) {
        cmp_object(d, w, g, path);
    } else if (w->kind == LW_TV_ARRAY) {
        struct lw_buf p, s;
        lw_buf_init(&p);
        lw_buf_init(&s);
        for (size_t i = 0; i < w->n || i < g->n; i++) {
            sub(&p, path, w, i);
            if (i < w->n && i < g->n) {
                cmp(d, &w->items[i], &g->items[i], p.p);
            } else if (i < w->n) {
                show(&s, &w->items[i]);
                line(d, &w->items[i], p.p, "missing (expected %s)", s.p);
            } else {
                show(&s, &g->items[i]);
                line(d, w, p.p, "unexpected element, got %s", s.p);
            }
        }
        lw_buf_fini(&p);
        lw_buf_fini(&s);
    } else if (!same_scalar(w, g)) {
        struct lw_buf a, b;
        lw_buf_init(&a);
        lw_buf_init(&b);
        show(&a, w);
        show(&b, g);
        line(d, w, at, "expected %s, got %s", a.p, b.p);
        lw_buf_fini(&a);
        lw_buf_fini(&b);
    }
}

int
lw_test_diff(const struct lw_tv *want, const struct lw_tv *got, bool subset, const char *file,
             const char *path, struct lw_buf *out)
{
    struct dctx d = { file, path, subset, out, 0 };
    path = "";
    cmp(&d, want, got, path);
    return d.n;
}
