/* dissect(): Logstash-style delimiter extraction. The pattern is parsed once at compile time
 * into fields and the delimiter after each; a record is split by searching each delimiter
 * once from where the previous one ended (memchr/memmem), so the work is linear in the record
 * and nothing backtracks. Values are slices of the record; only appended fields are copied. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lw/buf.h"
#include "lw/dissect.h"
#include "lw/json.h"
#include "lw/vm.h"

#include "builtins_int.h"

/* Compile ------------------------------------------------------------------------------ */

struct spec {
    struct lw_str name;
    char mod; /* 0, '?', '*', '&', '+' */
    uint32_t order;
    size_t off; /* of its %{ in the pattern */
};

__attribute__((format(printf, 5, 6))) static const struct lw_dissect *
bad(char *err, size_t errcap, size_t *erroff, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    *erroff = off;
    return NULL;
}

#define SHOW(s) (int)((s).len > 60 ? 60 : (s).len), (s).p

static const char *
open_at(struct lw_str p, size_t from)
{
    for (size_t i = from; i + 1 < p.len; i++) {
        if (p.p[i] == '%' && p.p[i + 1] == '{') return p.p + i;
    }
    return NULL;
}

/* spec: parse the inside of %{...}: [?*&+]name[/N][->]. */
static const struct lw_dissect *
parse_spec(struct lw_str body, size_t off, struct spec *s, bool *pad, char *err, size_t errcap,
           size_t *erroff)
{
    *s = (struct spec){ .off = off };
    *pad = false;
    if (body.len >= 2 && memcmp(body.p + body.len - 2, "->", 2) == 0) {
        *pad = true;
        body.len -= 2;
    }
    if (body.len > 0 && strchr("?*&+", body.p[0]) != NULL) {
        s->mod = body.p[0];
        body.p++;
        body.len--;
    }
    const char *slash = memchr(body.p, '/', body.len);
    if (slash != NULL) {
        struct lw_str num = { slash + 1, body.len - (size_t)(slash - body.p) - 1 };
        if (s->mod != '+') {
            return bad(err, errcap, erroff, off, "'/N' order needs an appended field %%{+%.*s/N}",
                       (int)(slash - body.p), body.p);
        }
        if (num.len == 0 || num.len > 6) {
            return bad(err, errcap, erroff, off, "bad append order '/%.*s' (a number)", SHOW(num));
        }
        for (size_t i = 0; i < num.len; i++) {
            if (num.p[i] < '0' || num.p[i] > '9') {
                return bad(err, errcap, erroff, off, "bad append order '/%.*s' (a number)",
                           SHOW(num));
            }
            s->order = s->order * 10 + (uint32_t)(num.p[i] - '0');
        }
        body.len = (size_t)(slash - body.p);
    }
    if (body.len == 0 && s->mod != 0 && s->mod != '?') {
        return bad(err, errcap, erroff, off, "'%c' needs a field name", s->mod);
    }
    s->name = body;
    return (const struct lw_dissect *)s; /* any non-NULL */
}

#define MAX_PATH 16

/* field_path: the keys of an output named [a][b]... (a name [a] is just a). -1 if malformed. */
static int
field_path(struct lw_dissect_out *o, struct lw_arena *a)
{
    struct lw_str seg[MAX_PATH], name = o->name;
    uint32_t n = 0;
    for (size_t i = 0; i < name.len;) {
        const char *close = name.p[i] == '[' ? memchr(name.p + i, ']', name.len - i) : NULL;
        if (close == NULL || close == name.p + i + 1 || n == MAX_PATH) return -1;
        seg[n++] = (struct lw_str){ name.p + i + 1, (size_t)(close - name.p) - i - 1 };
        i = (size_t)(close - name.p) + 1;
    }
    o->npath = (uint8_t)n;
    o->path = lw_arena_dup(a, seg, n * sizeof *seg);
    o->name = seg[0];
    return 0;
}

static struct lw_dissect_out *
output(struct lw_dissect *d, struct lw_str name, struct lw_arena *a, uint32_t cap)
{
    for (uint32_t i = 0; i < d->nout; i++) {
        if (!d->out[i].pair && lw_str_eq(d->out[i].name, name)) return &d->out[i];
    }
    struct lw_dissect_out *o = &d->out[d->nout++];
    *o =
        (struct lw_dissect_out){ .name = name, .parts = lw_arena_alloc(a, cap * sizeof *o->parts) };
    return o;
}

/* keys: the path of output o ([a][b]: a, b; a plain name, [a] included, is one key). */
static uint32_t
keys(const struct lw_dissect_out *o, const struct lw_str **k)
{
    *k = o->npath > 0 ? o->path : &o->name;
    return o->npath > 0 ? o->npath : 1;
}

/* clash: two outputs that would write the same member ([a] spelled a) or one inside the other
 * ([a] and [a][b]: the object [b] needs would replace the value of [a]). True after bad(). */
static bool
clash(const struct lw_dissect *d, const struct spec *specs, char *err, size_t errcap,
      size_t *erroff)
{
    for (uint32_t i = 0; i < d->nout; i++) {
        for (uint32_t j = 0; j < i && !d->out[i].pair; j++) {
            if (d->out[j].pair) continue;
            const struct lw_str *ki, *kj;
            uint32_t ni = keys(&d->out[i], &ki), nj = keys(&d->out[j], &kj);
            uint32_t n = ni < nj ? ni : nj, k = 0;
            while (k < n && lw_str_eq(ki[k], kj[k]))
                k++;
            if (k < n) continue;
            const struct spec *si = &specs[d->out[i].parts[0]], *sj = &specs[d->out[j].parts[0]];
            if (ni == nj) {
                bad(err, errcap, erroff, si->off,
                    "field '%.*s' appears twice (as '%.*s'): write %%{+%.*s} to append",
                    SHOW(si->name), SHOW(sj->name), SHOW(sj->name));
            } else {
                const struct spec *in = ni < nj ? si : sj;
                bad(err, errcap, erroff, si->off,
                    "fields '%.*s' and '%.*s' overlap: '%.*s' would hold a value and an object "
                    "at once; rename one of them",
                    SHOW(sj->name), SHOW(si->name), SHOW(in->name));
            }
            return true;
        }
    }
    return false;
}

const struct lw_dissect *
lw_dissect_compile(struct lw_str pat, struct lw_arena *a, char *err, size_t errcap, size_t *erroff)
{
    struct lw_str p = { lw_arena_dup(a, pat.p, pat.len), pat.len };
    struct lw_dissect *d = lw_arena_alloc(a, sizeof *d);
    *d = (struct lw_dissect){ 0 };
    const char *o = open_at(p, 0);
    if (o == NULL) return bad(err, errcap, erroff, 0, "no %%{field} in the pattern");
    d->prefix = (struct lw_str){ p.p, (size_t)(o - p.p) };
    struct spec specs[LW_DISSECT_MAX];
    d->f = lw_arena_alloc(a, LW_DISSECT_MAX * sizeof *d->f);
    while (o != NULL) {
        size_t off = (size_t)(o - p.p);
        const char *c = memchr(o, '}', p.len - off);
        if (c == NULL) {
            return bad(err, errcap, erroff, off, "'%%{' without a closing '}'");
        }
        if (d->n == LW_DISSECT_MAX) {
            return bad(err, errcap, erroff, off, "more than 255 fields");
        }
        struct lw_dissect_field *f = &d->f[d->n];
        bool pad;
        struct lw_str body = { o + 2, (size_t)(c - o) - 2 };
        if (parse_spec(body, off, &specs[d->n], &pad, err, errcap, erroff) == NULL) return NULL;
        const char *next = open_at(p, (size_t)(c - p.p) + 1);
        const char *end = next ? next : p.p + p.len;
        *f = (struct lw_dissect_field){ { c + 1, (size_t)(end - c - 1) }, LW_DIS_FIELD, pad };
        if (next != NULL && f->delim.len == 0) {
            return bad(err, errcap, erroff, (size_t)(next - p.p),
                       "a field needs a delimiter before the next one");
        }
        d->n++;
        o = next;
    }
    d->out = lw_arena_alloc(a, d->n * sizeof *d->out);
    for (uint32_t i = 0; i < d->n; i++) {
        struct spec *s = &specs[i];
        if (s->name.len == 0 || s->mod == '?' || s->mod == '*') {
            d->f[i].kind = LW_DIS_SKIP;
            for (uint32_t j = 0; j < d->n && s->name.len > 0; j++) {
                if (specs[j].mod == '&' && lw_str_eq(specs[j].name, s->name))
                    d->f[i].kind = LW_DIS_KEY;
            }
            continue;
        }
        if (s->mod == '&') {
            d->f[i].kind = LW_DIS_VALUE;
            int64_t key = -1;
            for (uint32_t j = 0; j < d->n; j++) {
                if ((specs[j].mod == '?' || specs[j].mod == '*') &&
                    lw_str_eq(specs[j].name, s->name))
                    key = j;
            }
            if (key < 0) {
                return bad(err, errcap, erroff, s->off,
                           "%%{&%.*s} has no key field %%{?name} or %%{*name} of that name",
                           SHOW(s->name));
            }
            struct lw_dissect_out *out = &d->out[d->nout++];
            *out = (struct lw_dissect_out){ .name = s->name, .nparts = 2, .pair = true };
            out->parts = lw_arena_alloc(a, 2 * sizeof *out->parts);
            out->parts[0] = (uint16_t)key;
            out->parts[1] = (uint16_t)i;
            d->pairs = true;
            continue;
        }
        for (uint32_t j = 0; j < i && s->mod == 0; j++) {
            if (specs[j].mod == 0 && lw_str_eq(specs[j].name, s->name)) {
                return bad(err, errcap, erroff, s->off,
                           "field '%.*s' appears twice: write %%{+%.*s} to append", SHOW(s->name),
                           SHOW(s->name));
            }
        }
        struct lw_dissect_out *out = output(d, s->name, a, d->n);
        uint16_t k = out->nparts++; /* insert in (order, appearance) order */
        while (k > 0 && specs[out->parts[k - 1]].order > s->order) {
            out->parts[k] = out->parts[k - 1];
            k--;
        }
        out->parts[k] = (uint16_t)i;
    }
    for (uint32_t i = 0; i < d->nout; i++) {
        struct lw_dissect_out *po = &d->out[i];
        if (!po->pair && po->name.len > 0 && po->name.p[0] == '[' && field_path(po, a) != 0) {
            return bad(err, errcap, erroff, specs[po->parts[0]].off,
                       "bad field reference '%.*s' (expected [a][b] with %d parts at most)",
                       SHOW(po->name), MAX_PATH);
        }
        d->nested |= po->npath > 1;
    }
    if (clash(d, specs, err, errcap, erroff)) return NULL;
    d->simple = !d->pairs && !d->nested;
    for (uint32_t i = 0; i < d->nout; i++)
        d->simple &= d->out[i].nparts == 1;
    if (!d->pairs && !d->nested) { /* every result has these keys in this order: encode once */
        struct lw_buf b;
        lw_buf_init(&b);
        d->shape =
            (struct lw_shape){ d->nout, lw_arena_alloc(a, (d->nout + 1) * sizeof(struct lw_str)),
                               lw_arena_alloc(a, (d->nout + 1) * sizeof(struct lw_str)) };
        for (uint32_t i = 0; i < d->nout; i++) {
            d->shape.keys[i] = d->out[i].name;
            b.len = 0;
            lw_json_write_string(&b, d->out[i].name.p, d->out[i].name.len);
            lw_buf_addc(&b, ':');
            d->shape.json[i] = (struct lw_str){ lw_arena_dup(a, b.p, b.len), b.len };
        }
        lw_buf_fini(&b);
    }
    return d;
}

/* Run ---------------------------------------------------------------------------------- */

/* find1: the first byte c in [p, end), or NULL; lo <= p is the start of the whole subject.
 * Fields are short (a few to a hundred bytes), where a call to memchr costs more than the
 * search, so with SSE2 (every x86-64) it compares 16 bytes at a time inline, and finishes with
 * the 16 bytes that end at end, masked to those at or after p: no read outside [lo, end).
 * Subjects under 16 bytes, and other machines, use memchr. */
static inline const char *
find1(const char *lo, const char *p, const char *end, char c)
{
#ifdef __SSE2__
    if (end - lo >= 16) {
        __m128i n = _mm_set1_epi8(c);
        for (; end - p > 16; p += 16) {
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), n));
            if (m != 0) return p + __builtin_ctz(m);
        }
        const char *t = end - 16; /* t <= p: drop the bits of the bytes before p */
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)t), n));
        m &= ~0u << (p - t);
        return m != 0 ? t + __builtin_ctz(m) : NULL;
    }
#else
    (void)lo;
#endif
    return p < end ? memchr(p, c, (size_t)(end - p)) : NULL;
}

/* find: the first delimiter f->delim in [p, end): its first byte by find1, then a compare
 * (delimiters are a few bytes; glibc's memmem costs more to set up than this on log lines). */
static inline const char *
find(const char *lo, const char *p, const char *end, struct lw_str delim)
{
    for (;;) {
        const char *q = find1(lo, p, end, delim.p[0]);
        if (q == NULL || delim.len == 1) return q;
        if ((size_t)(end - q) < delim.len) return NULL;
        size_t i = 1;
        while (i < delim.len && q[i] == delim.p[i])
            i++;
        if (i == delim.len) return q;
        p = q + 1;
    }
}

int
lw_dissect_split(const struct lw_dissect *d, struct lw_str s, struct lw_str *vals)
{
    if (s.len < d->prefix.len || memcmp(s.p, d->prefix.p, d->prefix.len) != 0) return -1;
    const char *p = s.p + d->prefix.len, *end = s.p + s.len;
    const struct lw_dissect_field *f = d->f, *last = d->f + d->n;
    for (; f < last; f++, vals++) {
        size_t dl = f->delim.len;
        if (f + 1 == last) { /* the last field: the rest, less the pattern's trailing text */
            if ((size_t)(end - p) < dl || memcmp(end - dl, f->delim.p, dl) != 0) return -1;
            end -= dl;
            while (f->pad && (size_t)(end - p) >= dl && dl > 0 &&
                   memcmp(end - dl, f->delim.p, dl) == 0)
                end -= dl;
            while (f->pad && dl > 1 && end > p && end[-1] == f->delim.p[0])
                end--;
            *vals = (struct lw_str){ p, (size_t)(end - p) };
            return 0;
        }
        const char *hit = find(s.p, p, end, f->delim), *vend = hit;
        if (hit == NULL) return -1;
        /* '%{level->} [' on 'INFO  [': a longer delimiter's padding is a run of its first
         * byte before it, not part of the value */
        while (f->pad && dl > 1 && vend > p && vend[-1] == f->delim.p[0])
            vend--;
        *vals = (struct lw_str){ p, (size_t)(vend - p) };
        p = hit + dl;
        if (f->pad) {
            while ((size_t)(end - p) >= dl && memcmp(p, f->delim.p, dl) == 0)
                p += dl;
        }
    }
    return 0;
}

/* put: add a member. Output names are distinct (checked at compile time), so without pairs,
 * whose keys come from the record, members are appended without a search. */
static void
put(struct lw_arena *a, struct lw_value *r, const struct lw_dissect *d, struct lw_str k,
    struct lw_value v)
{
    struct lw_obj *obj = r->u.o;
    if (d->pairs || d->nested || obj->n == obj->cap) {
        lw_obj_set(a, r, k, v);
        return;
    }
    obj->k[obj->n] = k;
    obj->v[obj->n++] = v;
}

/* put_out: set output o to v, through nested objects for a path [a][b] (a member on the way
 * that is not an object, which only a %{?k}=%{&k} pair's key from the record can have set,
 * is replaced by one: clash() refuses outputs inside one another). */
static void
put_out(struct lw_arena *a, struct lw_value *r, const struct lw_dissect *d,
        const struct lw_dissect_out *o, struct lw_value v)
{
    if (o->npath <= 1) {
        put(a, r, d, o->name, v);
        return;
    }
    struct lw_value *cur = r;
    for (uint32_t k = 0; k + 1 < o->npath; k++) {
        struct lw_obj *obj = cur->u.o;
        uint32_t i = 0;
        while (i < obj->n && !lw_str_eq(obj->k[i], o->path[k]))
            i++;
        if (i == obj->n || obj->v[i].t != LW_T_OBJ) {
            lw_obj_set(a, cur, o->path[k], lw_obj_new(a, 4));
            for (i = 0; !lw_str_eq(cur->u.o->k[i], o->path[k]);)
                i++;
        }
        cur = &cur->u.o->v[i];
    }
    lw_obj_set(a, cur, o->path[o->npath - 1], v);
}

int
fn_dissect(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const struct lw_dissect *d = a[1].u.ext;
    if (a[1].t != LW_T_REGEX || !(a[1].flags & LW_V_DISSECT)) {
        return lw_vm_error(vm, "dissect() needs a constant pattern");
    }
    if (a[0].t == LW_T_NULL) { /* an absent member has no fields, as in match() */
        *r = LW_NULL;
        return 0;
    }
    if (a[0].t != LW_T_STR) {
        return lw_vm_error(vm, "dissect() cannot take %s as argument 1", lw_type_name(a[0].t));
    }
    struct lw_str sep = n > 2 ? (struct lw_str){ a[2].u.p, a[2].len } : LW_STR_LIT(" ");
    struct lw_str stackv[32];
    struct lw_str *v = d->n <= 32 ? stackv : lw_arena_alloc(vm->arena, d->n * sizeof *v);
    if (lw_dissect_split(d, (struct lw_str){ a[0].u.p, a[0].len }, v) != 0) {
        *r = LW_NULL;
        return 0;
    }
    if (d->simple) { /* the common case: one allocation, no search, no copy of text */
        uint32_t no = d->nout;
        struct lw_obj *obj =
            lw_arena_alloc(vm->arena, sizeof *obj + no * (sizeof *obj->k + sizeof *obj->v));
        obj->k = (struct lw_str *)(void *)(obj + 1); /* lw_obj_set copies them to grow */
        obj->v = (struct lw_value *)(void *)(obj->k + no);
        obj->n = obj->cap = no;
        obj->shape = &d->shape;
        obj->shared = false; /* one holder so far (read by lw_value_share: UBSan saw 0xbe) */
        obj->plain = 0;
        if (no > 0) memcpy(obj->k, d->shape.keys, no * sizeof *obj->k);
        for (uint32_t k = 0; k < no; k++) {
            const struct lw_str *x = &v[d->out[k].parts[0]];
            obj->v[k] = lw_strv(x->p, x->len);
        }
        *r = (struct lw_value){ .t = LW_T_OBJ, .u.o = obj };
        return 0;
    }
    *r = lw_obj_new(vm->arena, d->nout);
    struct lw_obj *obj = r->u.o;
    if (!d->pairs && !d->nested) obj->shape = &d->shape;
    for (uint32_t i = 0; i < d->nout; i++) {
        const struct lw_dissect_out *o = &d->out[i];
        if (o->pair) { /* a key from the record may repeat one: lw_obj_set replaces it */
            struct lw_str val = v[o->parts[1]];
            lw_obj_set(vm->arena, r, v[o->parts[0]], lw_strv(val.p, val.len));
            continue;
        }
        if (o->nparts == 1) {
            put_out(vm->arena, r, d, o, lw_strv(v[o->parts[0]].p, v[o->parts[0]].len));
            continue;
        }
        size_t len = sep.len * (o->nparts - 1u);
        for (uint32_t k = 0; k < o->nparts; k++)
            len += v[o->parts[k]].len;
        char *out = lw_arena_alloc(vm->arena, len + 1), *w = out;
        for (uint32_t k = 0; k < o->nparts; k++) {
            if (k > 0 && sep.len > 0) {
                memcpy(w, sep.p, sep.len);
                w += sep.len;
            }
            if (v[o->parts[k]].len > 0) memcpy(w, v[o->parts[k]].p, v[o->parts[k]].len);
            w += v[o->parts[k]].len;
        }
        put_out(vm->arena, r, d, o, lw_strv(out, len));
    }
    return 0;
}

/* Explaining a non-match (explain.c) -------------------------------------------------- */

int
lw_dissect_explain(const struct lw_dissect *d, struct lw_str s, uint32_t *k, size_t *off)
{
    *k = 0;
    *off = 0;
    if (s.len < d->prefix.len || memcmp(s.p, d->prefix.p, d->prefix.len) != 0) {
        return LW_DISSECT_NO_PREFIX;
    }
    const char *p = s.p + d->prefix.len, *end = s.p + s.len;
    for (uint32_t i = 0; i < d->n; i++) {
        const struct lw_dissect_field *f = &d->f[i];
        size_t dl = f->delim.len;
        *k = i;
        *off = (size_t)(p - s.p);
        if (i + 1 == d->n) {
            if ((size_t)(end - p) < dl || memcmp(end - dl, f->delim.p, dl) != 0) {
                return LW_DISSECT_NO_END;
            }
            return LW_DISSECT_MATCH;
        }
        const char *hit = find(s.p, p, end, f->delim);
        if (hit == NULL) return LW_DISSECT_NO_DELIM;
        p = hit + dl;
        if (f->pad) {
            while ((size_t)(end - p) >= dl && memcmp(p, f->delim.p, dl) == 0)
                p += dl;
        }
    }
    return LW_DISSECT_MATCH;
}

struct lw_str
lw_dissect_field_text(const struct lw_dissect *d, uint32_t k)
{
    /* the field's %{...} ends right before its delimiter, which points into the copy of the
     * pattern lw_dissect_compile made */
    const char *close = d->f[k].delim.p - 1, *open = close;
    while (!(open[0] == '%' && open[1] == '{'))
        open--;
    return (struct lw_str){ open, (size_t)(close - open) + 1 };
}
