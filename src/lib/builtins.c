/* The template functions of builtins.def that have no file of their own, and the table of all
 * of them (the others, in fn_*.c, grok.c and dissect.c, are declared in builtins_int.h).
 * Argument types are checked by the VM before the call (vm.c) and, where known, by the
 * compiler; these functions only see the types they asked for. Results live in the record
 * arena. String positions count UTF-8 characters. */
#define _GNU_SOURCE           /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>

#include "lw/duration.h"
#include "lw/json.h"
#include "lw/kv.h"
#include "lw/timefmt.h"
#include "lw/vm.h"

#include "builtins_int.h"

#define A (vm->arena)

bool
lw_type_accepts(char want, enum lw_type t)
{
    switch (want) {
    case 's':
        return t == LW_T_STR;
    case 'n':
        return t == LW_T_INT || t == LW_T_FLOAT;
    case 'i':
        return t == LW_T_INT;
    case 'f':
        return t == LW_T_FLOAT;
    case 'b':
        return t == LW_T_BOOL;
    case 'A':
        return t == LW_T_ARR;
    case 'O':
        return t == LW_T_OBJ;
    case 'C':
        return t == LW_T_ARR || t == LW_T_OBJ;
    case 'S':
        return t == LW_T_STR || t == LW_T_ARR || t == LW_T_OBJ;
    case 'r':
        return t == LW_T_STR || t == LW_T_REGEX;
    case 'R':
        return t == LW_T_REGEX;
    case 't':
        return t == LW_T_TIME;
    case 'x':
        return t == LW_T_STR || t == LW_T_INT || t == LW_T_FLOAT;
    case 'P':
        return t == LW_T_REGEX;
    case 'T':
        return t == LW_T_STR;
    case 'q':
        return true;
    }
    return t != LW_T_REGEX;
}

char
lw_builtin_argtype(const struct lw_builtin *b, int i)
{
    size_t nt = strlen(b->argtypes);
    if (nt == 0) return 'a';
    return b->argtypes[(size_t)i < nt ? (size_t)i : nt - 1];
}

static struct lw_str
S(const struct lw_value *v) {
    return (struct lw_str){ v->u.p, v->len };
}

/* too_deep: the error of a function whose argument has no text form: arguments are never
 * regexes, so it is a container nested deeper than a JSON text may be. */
static int
too_deep(struct lw_vm *vm, const char *fn, struct lw_buf *b)
{
    lw_buf_fini(b);
    return lw_vm_error(vm, "%s(): value nested deeper than %d levels", fn, LW_JSON_MAX_DEPTH);
}

/* arena_str: *r = a copy of b's text in the record arena, which must have room for it (the
 * builders stop at lw_vm_room, but a format can still pass it); b is freed. */
static int
arena_str(struct lw_vm *vm, const char *fn, struct lw_buf *b, struct lw_value *r)
{
    if (b->len > lw_vm_room(vm)) {
        size_t len = b->len;
        lw_buf_fini(b);
        return lw_vm_too_big(vm, fn, len);
    }
    *r = lw_strv(lw_arena_dup(A, b->p, b->len), b->len);
    lw_buf_fini(b);
    return 0;
}

/* too_long: the error of a builder that stopped at lw_vm_room; b is freed. */
static int
too_long(struct lw_vm *vm, const char *fn, struct lw_buf *b)
{
    lw_buf_fini(b);
    return lw_vm_too_big(vm, fn, 0);
}

/* put: append n bytes to b, or -1 when b would pass max. */
static int
put(struct lw_buf *b, const char *p, size_t n, size_t max)
{
    if (n > max - b->len) return -1;
    lw_buf_add(b, p, n);
    return 0;
}

/* Characters: a UTF-8 lead byte (or a stray byte) starts one. */
static size_t
nchars(struct lw_str s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++)
        n += ((unsigned char)s.p[i] & 0xC0) != 0x80;
    return n;
}

/* char_off: byte offset of character ci (clamped to the end). */
static size_t
char_off(struct lw_str s, int64_t ci)
{
    size_t i = 0;
    for (; i < s.len && ci > 0; ci--) {
        i++;
        while (i < s.len && ((unsigned char)s.p[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

static int
fn_len(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    /* counting raw JSON scans its text: counted like a member search (len(.a) in a loop
     * over .a was n * n work for n steps) */
    if ((a[0].flags & LW_V_RAW) && lw_vm_charge(vm, a[0].len / 128 + 1) != 0) return -1;
    *r = lw_int(a[0].t == LW_T_STR ? (int64_t)nchars(S(&a[0])) : lw_value_count(&a[0]));
    return 0;
}

static int
fn_case(struct lw_vm *vm, struct lw_value *a, struct lw_value *r, bool up)
{
    if (a[0].len > lw_vm_room(vm)) return lw_vm_too_big(vm, up ? "upper()" : "lower()", a[0].len);
    char *p = lw_arena_alloc(A, a[0].len + 1);
    for (uint32_t i = 0; i < a[0].len; i++) {
        unsigned char c = (unsigned char)a[0].u.p[i];
        p[i] = (char)(up ? toupper(c) : tolower(c));
        if (c >= 0x80) p[i] = (char)c; /* ASCII only: never split a UTF-8 sequence */
    }
    *r = lw_strv(p, a[0].len);
    return 0;
}

static int
fn_lower(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return fn_case(vm, a, r, false);
}

static int
fn_upper(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return fn_case(vm, a, r, true);
}

static int
fn_trim(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *p = a[0].u.p;
    size_t len = a[0].len;
    while (len > 0 && isspace((unsigned char)p[0])) {
        p++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    *r = lw_strv(p, len);
    return 0;
}

static const char *
find(struct lw_str hay, struct lw_str needle)
{
    if (needle.len == 0) return hay.p;
    return memmem(hay.p, hay.len, needle.p, needle.len);
}

/* re_find: first match of re in s from byte start; 1 found (offsets in ov), 0 none, -1 error. */
static int
re_find(struct lw_vm *vm, const struct lw_regex *re, struct lw_str s, size_t start, PCRE2_SIZE **ov)
{
    int rc = lw_vm_regex_match(vm, re, s.p, s.len, start);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) return lw_vm_regex_error(vm, rc);
    *ov = pcre2_get_ovector_pointer(vm->match_data);
    return 1;
}

static int
fn_contains(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    if (a[0].t == LW_T_ARR) return lw_fn_contains_array(vm, a, r);
    if (a[0].t != LW_T_STR) {
        return lw_vm_error(vm, "contains() cannot take %s as argument 1", lw_type_name(a[0].t));
    }
    if (a[1].t != LW_T_STR && a[1].t != LW_T_REGEX) {
        return lw_vm_error(vm, "contains() of a string cannot take %s as argument 2",
                           lw_type_name(a[1].t));
    }
    if (a[1].t == LW_T_REGEX) {
        PCRE2_SIZE *ov = NULL;
        int rc = re_find(vm, a[1].u.re, S(&a[0]), 0, &ov);
        if (rc < 0) return -1;
        *r = lw_bool(rc == 1);
        return 0;
    }
    *r = lw_bool(find(S(&a[0]), S(&a[1])) != NULL);
    return 0;
}

static int
fn_starts_with(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    *r = lw_bool(a[1].len <= a[0].len && memcmp(a[0].u.p, a[1].u.p, a[1].len) == 0);
    return 0;
}

static int
fn_ends_with(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    *r = lw_bool(a[1].len <= a[0].len &&
                 memcmp(a[0].u.p + a[0].len - a[1].len, a[1].u.p, a[1].len) == 0);
    return 0;
}

static int
fn_index(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *p = find(S(&a[0]), S(&a[1]));
    *r = lw_int(p ? (int64_t)nchars((struct lw_str){ a[0].u.p, (size_t)(p - a[0].u.p) }) : -1);
    return 0;
}

static int
fn_substr(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_str s = S(&a[0]);
    int64_t start = a[1].u.i, total = (int64_t)nchars(s);
    if (start < 0) start = start + total < 0 ? 0 : start + total;
    size_t b = char_off(s, start);
    size_t e = s.len;
    if (n > 2) {
        if (a[2].u.i < 0) return lw_vm_error(vm, "substr(): negative count %" PRId64, a[2].u.i);
        struct lw_str rest = { s.p + b, s.len - b };
        e = b + char_off(rest, a[2].u.i);
    }
    *r = lw_strv(s.p + b, e - b);
    return 0;
}

/* utf_step: the bytes to step over at s[i] after an empty match: a whole UTF-8 character
 * for a /u regex, so a match never starts inside one, else one byte. */
static size_t
utf_step(const struct lw_regex *re, struct lw_str s, size_t i)
{
    uint32_t opts = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_ALLOPTIONS, &opts);
    size_t n = 1;
    if (opts & PCRE2_UTF) {
        while (i + n < s.len && ((unsigned char)s.p[i + n] & 0xC0) == 0x80)
            n++;
    }
    return n;
}

static int
fn_split(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_str s = S(&a[0]);
    int64_t limit = n > 2 ? a[2].u.i : INT64_MAX;
    if (limit < 1)
        return lw_vm_error(vm, "split(): limit must be at least 1, found %" PRId64, limit);
    *r = lw_arr_new(A, 8);
    size_t pos = 0, from = 0;
    if (a[1].t == LW_T_STR && a[1].len == 0) {
        return lw_vm_error(vm, "split(): empty separator (use a regex like /(?=.)/ to split "
                               "into characters)");
    }
    while ((int64_t)r->u.a->n + 1 < limit) {
        size_t ms, me;
        if (a[1].t == LW_T_REGEX) {
            PCRE2_SIZE *ov = NULL;
            int rc = re_find(vm, a[1].u.re, s, from, &ov);
            if (rc < 0) return -1;
            if (rc == 0) break;
            ms = ov[0];
            me = ov[1];
            if (me == ms) { /* an empty match splits nothing here: look one byte further */
                if (ms >= s.len) break;
                if (ms == pos) {
                    from = ms + utf_step(a[1].u.re, s, ms);
                    continue;
                }
            }
        } else {
            const char *p = find((struct lw_str){ s.p + from, s.len - from }, S(&a[1]));
            if (p == NULL) break;
            ms = (size_t)(p - s.p);
            me = ms + a[1].len;
        }
        if (r->u.a->n == r->u.a->cap && (size_t)r->u.a->cap * 2 * sizeof *r > lw_vm_room(vm))
            return lw_vm_too_big(vm, "split()", 0); /* its size depends on the arena's growth */
        lw_arr_push(A, r, lw_strv(s.p + pos, ms - pos));
        pos = me;
        from = me > ms ? me : me + (a[1].t == LW_T_REGEX ? utf_step(a[1].u.re, s, me) : 1);
        if (from > s.len) break;
    }
    lw_arr_push(A, r, lw_strv(s.p + pos, s.len - pos));
    return 0;
}

static int
fn_join(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_buf b;
    struct lw_iter it;
    struct lw_value k, v;
    size_t room = lw_vm_room(vm);
    lw_buf_init(&b);
    lw_iter_init(&it, &a[0]);
    for (int i = 0; lw_iter_next(&it, &k, &v, A) == 1; i++) {
        if (i && put(&b, a[1].u.p, a[1].len, room) != 0) return too_long(vm, "join()", &b);
        if (v.t == LW_T_ARR || v.t == LW_T_OBJ) {
            lw_buf_fini(&b);
            return lw_vm_error(vm, "join(): element %d is %s, not a scalar", i, lw_type_name(v.t));
        }
        if (lw_value_write_text_max(&b, &v, A, room) != 0) return too_long(vm, "join()", &b);
    }
    return arena_str(vm, "join()", &b, r);
}

/* expand: append replacement template tpl for the current match: $0-$9, ${name}, $$. */
static int
expand(struct lw_vm *vm, struct lw_buf *b, const struct lw_regex *re, struct lw_str s,
       PCRE2_SIZE *ov, int rc, struct lw_str tpl, size_t max)
{
    for (size_t i = 0; i < tpl.len; i++) {
        if (b->len >= max) return lw_vm_too_big(vm, "replace()", 0);
        if (tpl.p[i] != '$' || i + 1 == tpl.len) {
            lw_buf_addc(b, tpl.p[i]);
            continue;
        }
        char c = tpl.p[i + 1];
        int g = -1;
        if (c == '$') {
            lw_buf_addc(b, '$');
            i++;
            continue;
        }
        if (isdigit((unsigned char)c)) {
            g = c - '0';
            i++;
        } else if (c == '{') {
            const char *end = memchr(tpl.p + i, '}', tpl.len - i);
            if (end == NULL) return lw_vm_error(vm, "replace(): unclosed '${' in replacement");
            char name[64];
            size_t nl = (size_t)(end - (tpl.p + i + 2));
            if (nl == 0 || nl >= sizeof name) return lw_vm_error(vm, "replace(): bad group name");
            memcpy(name, tpl.p + i + 2, nl);
            name[nl] = '\0';
            if (isdigit((unsigned char)name[0]))
                g = atoi(name);
            else
                g = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);
            if (g < 0) return lw_vm_error(vm, "replace(): no group named '%s'", name);
            i = (size_t)(end - tpl.p);
        } else {
            lw_buf_addc(b, '$');
            continue;
        }
        if ((uint32_t)g > re->ngroups) return lw_vm_error(vm, "replace(): no group %d", g);
        if (g < rc && ov[2 * g] != PCRE2_UNSET &&
            put(b, s.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g], max) != 0) {
            return lw_vm_too_big(vm, "replace()", 0);
        }
    }
    return 0;
}

static int
fn_replace(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_str s = S(&a[0]);
    if (a[2].t != LW_T_STR) {
        return lw_vm_error(vm, "replace() cannot take %s as argument 3", lw_type_name(a[2].t));
    }
    if (a[1].t == LW_T_STR && a[1].len == 0) return lw_vm_error(vm, "replace(): empty pattern");
    if (a[1].t != LW_T_STR && a[1].t != LW_T_REGEX) {
        return lw_vm_error(vm, "replace() cannot take %s as argument 2", lw_type_name(a[1].t));
    }
    int64_t count = n > 3 ? a[3].u.i : INT64_MAX;
    struct lw_buf b;
    size_t room = lw_vm_room(vm);
    lw_buf_init(&b);
    size_t pos = 0;
    for (int64_t done = 0; done < count && pos <= s.len; done++) {
        size_t ms, me;
        if (a[1].t == LW_T_REGEX) {
            PCRE2_SIZE *ov = NULL;
            int rc = lw_vm_regex_match(vm, a[1].u.re, s.p, s.len, pos);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) {
                lw_buf_fini(&b);
                return lw_vm_regex_error(vm, rc);
            }
            ov = pcre2_get_ovector_pointer(vm->match_data);
            ms = ov[0];
            me = ov[1];
            if (put(&b, s.p + pos, ms - pos, room) != 0) return too_long(vm, "replace()", &b);
            if (expand(vm, &b, a[1].u.re, s, ov, rc, S(&a[2]), room) != 0) {
                lw_buf_fini(&b);
                return -1;
            }
            if (me == ms) { /* empty match: copy one character and move on */
                size_t step = ms < s.len ? utf_step(a[1].u.re, s, ms) : 1;
                if (ms < s.len) lw_buf_add(&b, s.p + ms, step);
                me = ms + step;
            }
        } else {
            const char *p = find((struct lw_str){ s.p + pos, s.len - pos }, S(&a[1]));
            if (p == NULL) break;
            ms = (size_t)(p - s.p);
            me = ms + a[1].len;
            if (put(&b, s.p + pos, ms - pos, room) != 0 || put(&b, a[2].u.p, a[2].len, room) != 0) {
                return too_long(vm, "replace()", &b);
            }
        }
        pos = me;
    }
    if (pos < s.len && put(&b, s.p + pos, s.len - pos, room) != 0) {
        return too_long(vm, "replace()", &b);
    }
    return arena_str(vm, "replace()", &b, r);
}

static int
fn_captures(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const struct lw_regex *re = a[1].u.re;
    if (a[1].t != LW_T_REGEX) return lw_vm_error(vm, "captures() needs a regex literal");
    PCRE2_SIZE *ov = NULL;
    int rc = re_find(vm, re, S(&a[0]), 0, &ov);
    if (rc <= 0) {
        *r = LW_NULL;
        return rc;
    }
    bool numeric = false;
    if (n > 2 && a[2].t != LW_T_NULL) {
        if (a[2].t != LW_T_BOOL) {
            return lw_vm_error(vm, "captures(): argument 3 (numeric groups) must be true or false");
        }
        numeric = a[2].u.b;
    }
    uint32_t nnum = numeric ? re->ngroups + 1 : 0;
    if ((size_t)(nnum + re->nnames) * 48 > lw_vm_room(vm))
        return lw_vm_too_big(vm, "captures()", 0);
    *r = lw_obj_new(A, nnum + re->nnames);
    for (uint32_t g = 0; g < nnum; g++) { /* VRL's numeric_groups: "0" the match, "1"... */
        char *k = lw_arena_alloc(A, 12);
        int kl = snprintf(k, 12, "%u", g);
        struct lw_value v = ov[2 * g] == PCRE2_UNSET
                                ? LW_NULL
                                : lw_strv(a[0].u.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        lw_obj_set(A, r, (struct lw_str){ k, (size_t)kl }, v);
    }
    for (uint32_t i = 0; i < re->nnames; i++) { /* pcre2 marks unset groups PCRE2_UNSET */
        uint32_t g = re->names[i].group;
        struct lw_value v = ov[2 * g] == PCRE2_UNSET
                                ? LW_NULL
                                : lw_strv(a[0].u.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        lw_obj_set(A, r, re->names[i].name, v);
    }
    return 0;
}

static int
fn_match_all(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const struct lw_regex *re = a[1].u.re;
    struct lw_str s = S(&a[0]);
    size_t from = 0;
    *r = lw_arr_new(A, 4);
    while (from <= s.len) {
        PCRE2_SIZE *ov = NULL;
        int rc = re_find(vm, re, s, from, &ov);
        if (rc < 0) return -1;
        if (rc == 0) break;
        size_t ms = ov[0], me = ov[1];
        size_t need = sizeof(struct lw_value) * 2 + re->nnames * (sizeof(struct lw_value) + 16);
        if (need > lw_vm_room(vm) || lw_vm_charge(vm, re->nnames / 16 + 1) != 0) {
            return vm->err[0] ? -1 : lw_vm_too_big(vm, "match_all()", 0);
        }
        struct lw_value m;
        if (re->nnames == 0) {
            m = lw_strv(s.p + ms, me - ms);
        } else {
            m = lw_obj_new(A, re->nnames);
            for (uint32_t i = 0; i < re->nnames; i++) {
                uint32_t g = re->names[i].group;
                struct lw_value v = ov[2 * g] != PCRE2_UNSET
                                        ? lw_strv(s.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g])
                                        : LW_NULL;
                lw_obj_set(A, &m, re->names[i].name, v);
            }
        }
        lw_arr_push(A, r, m);
        from = me > ms ? me : me + utf_step(re, s, me);
    }
    return 0;
}

/* Numbers ----------------------------------------------------------------------------- */

static int
to_int_checked(struct lw_vm *vm, const char *fn, double f, int64_t *out)
{
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) {
        return lw_vm_error(vm, "%s(): %g is out of the int range", fn, f);
    }
    *out = (int64_t)f;
    return 0;
}

/* int_base: s as an int in base (2 to 36; 0: decimal, or the base of a 0x, 0o or 0b prefix),
 * with an optional sign and, in base 16, 8 or 2, its prefix. Not inlined into fn_int, whose
 * usual call (a decimal string) it would slow down. */
static __attribute__((noinline)) int
int_base(struct lw_vm *vm, struct lw_str s, int64_t base, struct lw_value *r)
{
    if (base != 0 && (base < 2 || base > 36)) {
        return lw_vm_error(vm, "int(): base must be 2 to 36 (or 0: from the prefix), found %lld",
                           (long long)base);
    }
    size_t i = 0;
    bool neg = false;
    if (i < s.len && (s.p[i] == '-' || s.p[i] == '+')) neg = s.p[i++] == '-';
    if (i + 1 < s.len && s.p[i] == '0') {
        char p = (char)tolower((unsigned char)s.p[i + 1]);
        int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (pb != 0 && (base == 0 || base == pb)) {
            base = pb;
            i += 2;
        }
    }
    if (base == 0) base = 10;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    size_t start = i;
    for (; i < s.len; i++) {
        int c = (unsigned char)s.p[i], d = isdigit(c)   ? c - '0'
                                           : isalpha(c) ? tolower(c) - 'a' + 10
                                                        : 99;
        if (d >= base) break;
        if (v > (lim - (uint64_t)d) / (uint64_t)base) {
            return lw_vm_error(vm, "int(): \"%.*s\" is out of the int range",
                               (int)(s.len > 40 ? 40 : s.len), s.p);
        }
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (i == start || i < s.len) {
        return lw_vm_error(vm, "int(): cannot convert string \"%.*s\" to int in base %lld",
                           (int)(s.len > 40 ? 40 : s.len), s.p, (long long)base);
    }
    *r = lw_int(neg ? (int64_t)(0 - v) : (int64_t)v);
    return 0;
}

static int
fn_int(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    int64_t i = 0;
    if (n > 1) {
        if (a[0].t != LW_T_STR) {
            return lw_vm_error(vm, "int() with a base takes a string, found %s",
                               lw_type_name(a[0].t));
        }
        return int_base(vm, S(&a[0]), a[1].u.i, r);
    }
    switch (a[0].t) {
    case LW_T_INT:
        *r = a[0];
        return 0;
    case LW_T_FLOAT:
        if (to_int_checked(vm, "int", trunc(a[0].u.f), &i) != 0) return -1;
        *r = lw_int(i);
        return 0;
    case LW_T_BOOL:
        *r = lw_int(a[0].u.b);
        return 0;
    case LW_T_TIME:
        *r = lw_int(a[0].u.i / 1000000000 - (a[0].u.i % 1000000000 < 0));
        return 0;
    case LW_T_STR:
        if (lw_parse_int(S(&a[0]), &i) == 0) {
            *r = lw_int(i);
            return 0;
        }
        return lw_vm_error(vm, "int(): cannot convert string \"%.*s\" to int",
                           (int)(a[0].len > 40 ? 40 : a[0].len), a[0].u.p);
    }
    return lw_vm_error(vm, "int(): cannot convert %s to int", lw_type_name(a[0].t));
}

static int
fn_float(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    double d;
    switch (a[0].t) {
    case LW_T_INT:
        *r = lw_float((double)a[0].u.i);
        return 0;
    case LW_T_FLOAT:
        *r = a[0];
        return 0;
    case LW_T_BOOL:
        *r = lw_float(a[0].u.b);
        return 0;
    case LW_T_TIME:
        *r = lw_float((double)a[0].u.i / 1e9);
        return 0;
    case LW_T_STR:
        if (lw_parse_float(S(&a[0]), &d) == 0) {
            *r = lw_float(d);
            return 0;
        }
        return lw_vm_error(vm, "float(): cannot convert string \"%.*s\" to float",
                           (int)(a[0].len > 40 ? 40 : a[0].len), a[0].u.p);
    }
    return lw_vm_error(vm, "float(): cannot convert %s to float", lw_type_name(a[0].t));
}

static int
fn_str(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    if (a[0].t == LW_T_STR) {
        *r = a[0];
        return 0;
    }
    struct lw_buf b;
    lw_buf_init(&b);
    int rc = lw_value_write_text_max(&b, &a[0], A, lw_vm_room(vm));
    if (rc == LW_WRITE_TOO_LONG) return too_long(vm, "str()", &b);
    if (rc != 0) return too_deep(vm, "str", &b);
    return arena_str(vm, "str()", &b, r);
}

static int
rounding(struct lw_vm *vm, const char *fn, struct lw_value *a, struct lw_value *r,
         double (*f)(double))
{
    if (a[0].t == LW_T_INT) {
        *r = a[0];
        return 0;
    }
    int64_t i = 0;
    if (to_int_checked(vm, fn, f(a[0].u.f), &i) != 0) return -1;
    *r = lw_int(i);
    return 0;
}

static int
fn_round(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    if (n == 1) return rounding(vm, "round", a, r, round);
    int64_t d = a[1].u.i;
    if (d < 0 || d > 15)
        return lw_vm_error(vm, "round(): digits must be 0 to 15, found %" PRId64, d);
    if (a[0].t == LW_T_INT) {
        *r = lw_float((double)a[0].u.i);
        return 0;
    }
    double m = pow(10, (double)d), x = a[0].u.f * m;
    /* A float that large has no digits after the point: x would overflow to infinity. */
    *r = lw_float(isfinite(x) ? round(x) / m : a[0].u.f);
    return 0;
}

static int
fn_floor(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return rounding(vm, "floor", a, r, floor);
}

static int
fn_ceil(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return rounding(vm, "ceil", a, r, ceil);
}

static int
fn_abs(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    if (a[0].t == LW_T_FLOAT) {
        *r = lw_float(fabs(a[0].u.f));
        return 0;
    }
    if (a[0].u.i == INT64_MIN) return lw_vm_error(vm, "abs(): integer overflow");
    *r = lw_int(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i);
    return 0;
}

static int
extreme(struct lw_vm *vm, const char *fn, struct lw_value *a, int n, struct lw_value *r, int sign)
{
    struct lw_value best = LW_NULL, k, v;
    struct lw_iter it;
    struct lw_value list = a[0];
    bool one = n == 1;
    if (one && a[0].t != LW_T_ARR) {
        return lw_vm_error(vm, "%s() of one argument takes an array, found %s", fn,
                           lw_type_name(a[0].t));
    }
    if (!one) { /* several arguments: iterate over them as an array */
        list = lw_arr_new(A, (uint32_t)n);
        for (int i = 0; i < n; i++)
            lw_arr_push(A, &list, a[i]);
    }
    lw_iter_init(&it, &list);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        int c;
        if (best.t == LW_T_NULL) {
            best = v;
            continue;
        }
        if (v.t == LW_T_NULL) continue;
        if (lw_value_compare(&v, &best, &c, A) != 0) {
            return lw_vm_error(vm, "%s(): cannot compare %s with %s", fn, lw_type_name(v.t),
                               lw_type_name(best.t));
        }
        if (c * sign > 0) best = v;
    }
    *r = best;
    return 0;
}

static int
fn_min(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return extreme(vm, "min", a, n, r, -1);
}

static int
fn_max(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return extreme(vm, "max", a, n, r, 1);
}

/* Containers and types ---------------------------------------------------------------- */

static int
members(struct lw_vm *vm, struct lw_value *a, struct lw_value *r, bool want_keys)
{
    struct lw_iter it;
    struct lw_value k, v;
    *r = lw_arr_new(A, lw_value_count(&a[0]));
    lw_iter_init(&it, &a[0]);
    while (lw_iter_next(&it, &k, &v, A) == 1)
        lw_arr_push(A, r, want_keys ? k : v);
    return 0;
}

static int
fn_keys(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return members(vm, a, r, true);
}

static int
fn_values(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return members(vm, a, r, false);
}

static int
fn_exists(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return lw_vm_error(vm, "exists() is compiled specially"); /* never called */
}

static int
fn_match(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return lw_vm_error(vm, "match() is compiled specially"); /* never called */
}

static int
fn_type(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    *r = lw_strv(lw_type_name(a[0].t), strlen(lw_type_name(a[0].t)));
    return 0;
}

/* depth_cut: v (a container at depth d) with the containers below depth max kept as their
 * JSON text, as VRL's parse_json max_depth does. */
static int
depth_cut(struct lw_vm *vm, struct lw_value *v, int d, int max)
{
    if (v->t != LW_T_ARR && v->t != LW_T_OBJ) return 0;
    *v = lw_value_materialize(v, A);
    uint32_t n = v->t == LW_T_ARR ? v->u.a->n : v->u.o->n;
    struct lw_value *kids = v->t == LW_T_ARR ? v->u.a->v : v->u.o->v;
    if (lw_vm_charge(vm, n / 16 + 1) != 0) return -1;
    for (uint32_t i = 0; i < n; i++) {
        struct lw_value *k = &kids[i];
        if (k->t != LW_T_ARR && k->t != LW_T_OBJ) continue;
        if (d < max) {
            if (depth_cut(vm, k, d + 1, max) != 0) return -1;
        } else {
            *k = lw_strv(k->u.p, k->len); /* raw: the text as it was written */
        }
    }
    return 0;
}

/* json_repair: the JSON text s with, inside strings, raw control characters escaped
 * (lenient) and each maximal invalid UTF-8 subpart written as \ufffd (lossy), in the record
 * arena; *len its length. NULL after lw_vm_too_big. Outside strings nothing changes, so the
 * validator still reports what is wrong there. */
static const char *
json_repair(struct lw_vm *vm, const char *s, size_t *len, bool lenient, bool lossy)
{
    size_t n = *len, need = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *d = NULL;
        if (pass == 1) {
            if (need > lw_vm_room(vm)) return lw_vm_too_big(vm, "parse_json()", need), NULL;
            d = lw_arena_alloc(A, need ? need : 1);
        }
        size_t o = 0;
        bool in = false;
        for (size_t i = 0; i < n;) {
            unsigned char c = (unsigned char)s[i];
            size_t k = 1;
            char esc[8];
            const char *w = s + i;
            size_t wl = 1;
            if (!in) {
                in = c == '"';
            } else if (c == '\\' && i + 1 < n) {
                k = wl = 2;
            } else if (c == '"') {
                in = false;
            } else if (c < 0x20 && lenient) {
                wl = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
                w = esc;
            } else if (c >= 0x80 && lossy) {
                k = 1;
                while (k < 4 && i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
                    k++;
                while (k > 1 && !lw_utf8_valid((struct lw_str){ s + i, k }))
                    k--;
                wl = k;
                if (!lw_utf8_valid((struct lw_str){ s + i, k })) {
                    w = "\\ufffd";
                    wl = 6;
                }
            }
            if (pass == 1) memcpy(d + o, w, wl);
            o += wl;
            i += k;
        }
        if (pass == 0) need = o;
        if (pass == 1) {
            *len = o;
            return d;
        }
    }
    return NULL;
}

/* json_opts: parse_json's options object: lenient (raw control characters in strings, as
 * Fluent Bit's Merge_Log takes them) and lossy (invalid UTF-8 in strings as U+FFFD, VRL's). */
static int
json_opts(struct lw_vm *vm, const struct lw_value *arg, bool *lenient, bool *lossy)
{
    struct lw_iter it;
    struct lw_value k, v;
    lw_iter_init(&it, arg);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        struct lw_str name = { k.u.p, k.len };
        bool *f = lw_str_eq(name, LW_STR_LIT("lenient")) ? lenient
                  : lw_str_eq(name, LW_STR_LIT("lossy")) ? lossy
                                                         : NULL;
        if (f == NULL) {
            return lw_vm_error(vm, "parse_json(): unknown option '%.*s' (lenient, lossy)",
                               (int)(name.len > 40 ? 40 : name.len), name.p);
        }
        if (v.t != LW_T_BOOL) {
            return lw_vm_error(vm, "parse_json(): option %.*s must be true or false", (int)name.len,
                               name.p);
        }
        *f = v.u.b;
    }
    return 0;
}

static int
fn_parse_json(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_json_err e;
    const char *p = a[0].u.p;
    size_t len = a[0].len;
    bool lenient = false, lossy = false;
    if (n > 2 && a[2].t != LW_T_NULL && json_opts(vm, &a[2], &lenient, &lossy) != 0) return -1;
    size_t bom = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0; /* a BOM: skipped */
    p += bom;
    len -= bom;
    if ((lenient || lossy) && (p = json_repair(vm, p, &len, lenient, lossy)) == NULL) return -1;
    if (lw_json_validate(p, len, &e) != 0) {
        return lw_vm_error(vm, "parse_json(): %s at byte %zu", e.msg,
                           e.off + 1 + (lenient || lossy ? 0 : bom));
    }
    while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
        len--;
    }
    *r = lw_value_from_json((struct lw_str){ p, lw_json_skip(p, p + len) }, A);
    if (n > 1 && a[1].t != LW_T_NULL) {
        if (a[1].t != LW_T_INT || a[1].u.i < 1 || a[1].u.i > 128) {
            return lw_vm_error(vm, "parse_json(): max_depth must be 1 to 128");
        }
        return depth_cut(vm, r, 1, (int)a[1].u.i);
    }
    return 0;
}

static int
fn_to_json(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_buf b;
    lw_buf_init(&b);
    int rc = lw_value_write_json_max(&b, &a[0], A, lw_vm_room(vm));
    if (rc == LW_WRITE_TOO_LONG) return too_long(vm, "to_json()", &b);
    if (rc != 0) return too_deep(vm, "to_json", &b);
    return arena_str(vm, "to_json()", &b, r);
}

struct kvctx {
    struct lw_vm *vm;
    struct lw_value *obj;
    struct lw_value standalone; /* a key without value gets it; LW_T_REGEX (never a value):
                                   the key is left out */
    char repeated;              /* 'l' last wins, 'f' first wins, 'a' an array of all */
    bool failed;                /* the error is in vm->err */
};

static int
kv_pair(void *ud, struct lw_str key, struct lw_str val, bool quoted)
{
    struct kvctx *k = ud;
    struct lw_vm *vm = k->vm;
    struct lw_value v = val.p ? lw_strv(val.p, val.len) : k->standalone;
    if (val.p == NULL && v.t == LW_T_REGEX) return 0;
    /* each pair searches the members: container work, charged */
    if (lw_vm_charge(vm, k->obj->u.o->n / 16 + 1) != 0) return k->failed = true, 1;
    if (k->repeated != 'l') {
        struct lw_obj *o = k->obj->u.o;
        for (uint32_t i = 0; i < o->n; i++) {
            if (!lw_str_eq(o->k[i], key)) continue;
            if (k->repeated == 'f') return 0;
            if (o->v[i].t != LW_T_ARR) {
                struct lw_value arr = lw_arr_new(A, 4);
                lw_arr_push(A, &arr, o->v[i]);
                o->v[i] = arr;
            }
            lw_arr_push(A, &o->v[i], v);
            return 0;
        }
    }
    lw_obj_set(A, k->obj, key, v);
    return 0;
}

/* kv_options: parse_kv's options object into o and k; -1 after an error. */
static int
kv_options(struct lw_vm *vm, const struct lw_value *arg, struct lw_kv_opts *o, struct kvctx *k)
{
    struct lw_iter it;
    struct lw_value key, v;
    lw_iter_init(&it, arg);
    while (lw_iter_next(&it, &key, &v, A) == 1) {
        struct lw_str name = { key.u.p, key.len };
        if (lw_str_eq(name, LW_STR_LIT("standalone"))) {
            if (v.t != LW_T_NULL && v.t != LW_T_BOOL && v.t != LW_T_STR) {
                return lw_vm_error(vm, "parse_kv(): standalone must be true, a string, or null "
                                       "(leave the key out)");
            }
            k->standalone = v.t == LW_T_NULL ? (struct lw_value){ .t = LW_T_REGEX } : v;
        } else if (lw_str_eq(name, LW_STR_LIT("repeated"))) {
            struct lw_str r = v.t == LW_T_STR ? (struct lw_str){ v.u.p, v.len } : LW_STR_LIT("?");
            if (!lw_str_eq(r, LW_STR_LIT("last")) && !lw_str_eq(r, LW_STR_LIT("first")) &&
                !lw_str_eq(r, LW_STR_LIT("array"))) {
                return lw_vm_error(vm, "parse_kv(): repeated must be \"last\", \"first\" or "
                                       "\"array\"");
            }
            k->repeated = r.p[0];
        } else if (lw_str_eq(name, LW_STR_LIT("whitespace"))) {
            struct lw_str w = v.t == LW_T_STR ? (struct lw_str){ v.u.p, v.len } : LW_STR_LIT("?");
            if (!lw_str_eq(w, LW_STR_LIT("lenient")) && !lw_str_eq(w, LW_STR_LIT("strict"))) {
                return lw_vm_error(vm, "parse_kv(): whitespace must be \"lenient\" or \"strict\"");
            }
            o->lenient = w.p[0] == 'l';
        } else {
            return lw_vm_error(vm,
                               "parse_kv(): unknown option '%.*s' (standalone, repeated, "
                               "whitespace)",
                               (int)(name.len > 40 ? 40 : name.len), name.p);
        }
    }
    return 0;
}

static int
logfmt_pair(void *ud, struct lw_str key, struct lw_str val, bool quoted)
{
    struct kvctx *k = ud;
    struct lw_value v = lw_strv(val.p, val.len);
    int64_t i;
    double d;
    if (val.p == NULL) return 0; /* a flag key without '=': logfmt readers skip it */
    char c0 = val.len ? val.p[0] : '\0';
    if (!quoted && ((c0 >= '0' && c0 <= '9') || c0 == '-') && lw_parse_int(val, &i) == 0) {
        v = lw_int(i); /* the common case, read once (lw_kv_classify would agree: INT) */
    } else if (!quoted) {
        switch (lw_kv_classify(val)) {
        case LW_KV_INT:
            if (lw_parse_int(val, &i) == 0) v = lw_int(i);
            break;
        case LW_KV_FLOAT:
            if (lw_parse_float(val, &d) == 0) v = lw_float(d);
            break;
        case LW_KV_BOOL:
            v = lw_bool(val.len == 4);
            break;
        case LW_KV_STRING:
            break;
        }
    }
    lw_obj_set(k->vm->arena, k->obj, key, v);
    return 0;
}

static int
fn_parse_logfmt(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    char *scratch = lw_arena_alloc(A, a[0].len + 1);
    struct kvctx k = { vm, r, LW_NULL, 'l', false };
    size_t erroff = 0;
    *r = lw_obj_new(A, 16);
    if (lw_kv_parse(a[0].u.p, a[0].len, NULL, scratch, logfmt_pair, &k, &erroff) != 0) {
        return lw_vm_error(vm, "parse_logfmt(): unterminated quote at byte %zu", erroff + 1);
    }
    return 0;
}

static int
fn_parse_kv(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_kv_opts o = { .field_sep = ' ', .kv_sep = '=', .quote = '"' };
    const char *bad =
        lw_kv_seps_check(n > 1 ? (struct lw_str){ a[1].u.p, a[1].len } : LW_STR_LIT(" "),
                         n > 2 ? (struct lw_str){ a[2].u.p, a[2].len } : LW_STR_LIT("="));
    if (bad != NULL) return lw_vm_error(vm, "parse_kv(): %s", bad);
    if (n > 1) {
        o.field_sep = a[1].u.p[0];
        o.field_str = a[1].u.p;
        o.field_len = (uint8_t)a[1].len;
    }
    if (n > 2) {
        o.kv_sep = a[2].u.p[0];
        o.kv_str = a[2].u.p;
        o.kv_len = (uint8_t)a[2].len;
    }
    if (n > 3) { /* the quote characters: none, one, or two (such as "\"'") */
        if (a[3].len > 2) {
            return lw_vm_error(vm, "parse_kv(): quotes must be at most two characters, found %u",
                               a[3].len);
        }
        o.quote = a[3].len > 0 ? a[3].u.p[0] : '\0';
        o.quote2 = a[3].len > 1 ? a[3].u.p[1] : '\0';
    }
    o.trim = o.field_sep != ' ' || o.field_len > 1; /* "a=1, b=2": the key is "b", not " b" */
    o.keep_backslash = o.quoted_keys = o.strict_keys = o.join_after_quote = true;
    struct kvctx k = { vm, r, lw_strv("", 0), 'l', false };
    if (n > 4 && a[4].t != LW_T_NULL && kv_options(vm, &a[4], &o, &k) != 0) return -1;
    char *scratch = lw_arena_alloc(A, a[0].len + 1);
    *r = lw_obj_new(A, 8);
    size_t erroff = 0;
    if (lw_kv_parse(a[0].u.p, a[0].len, &o, scratch, kv_pair, &k, &erroff) != 0) {
        return lw_vm_error(vm, "parse_kv(): unterminated quote at byte %zu", erroff + 1);
    }
    return k.failed ? -1 : 0;
}

/* Time ---------------------------------------------------------------------------------- */

static int
fn_parse_time(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    static const struct lw_tz utc = { .fixed = true }; /* lw_tz_fixed(0), made once */
    const struct lw_tz *zone = vm->tz;
    int32_t off;
    int64_t ns;
    char err[160];
    size_t erroff = 0;
    if (zone == NULL) zone = &utc;
    if (n > 2 && (zone = lw_vm_zone(vm, "parse_time", a[2].u.p, a[2].len)) == NULL) return -1;
    /* the year of a yearless stamp: near ref (0: the clock, read by the parser only then) */
    int64_t ref = n > 3 ? a[3].u.i : vm->now_ns == LW_NOW_UNREAD ? 0 : vm->now_ns;
    if (lw_time_parse_zone(a[0].u.p, a[0].len, a[1].u.p, a[1].len, zone, ref, &ns, &off, err,
                           sizeof err, &erroff) != 0) {
        return lw_vm_error(vm, "parse_time(): cannot parse \"%.*s\" with \"%.*s\": %s",
                           (int)(a[0].len > 60 ? 60 : a[0].len), a[0].u.p, (int)a[1].len, a[1].u.p,
                           err);
    }
    *r = lw_time(ns, off);
    return 0;
}

static int
fn_format_time(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const struct lw_tz *zone = NULL;
    if (n > 2 && (zone = lw_vm_zone(vm, "format_time", a[2].u.p, a[2].len)) == NULL) return -1;
    struct lw_buf b;
    lw_buf_init(&b);
    lw_time_format_zone(&b, a[0].u.i, (int32_t)a[0].len, zone, a[1].u.p, a[1].len);
    return arena_str(vm, "format_time()", &b, r); /* a few dozen bytes a byte of format */
}

static int
fn_now(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    *r = lw_time(lw_vm_now(vm), 0);
    return 0;
}

static int
fn_trunc_time(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    double d;
    char err[160];
    size_t erroff;
    if (lw_duration_parse(a[1].u.p, a[1].len, &d, err, sizeof err, &erroff) != 0)
        return lw_vm_error(vm, "trunc_time(): %s", err);
    if (!(d >= 1)) {
        return lw_vm_error(vm, "trunc_time(): the duration must be positive, found \"%.*s\"",
                           (int)(a[1].len > 40 ? 40 : a[1].len), a[1].u.p);
    }
    if (d >= 9.2e18) { /* past the ~292 years a timestamp spans */
        return lw_vm_error(vm, "trunc_time(): the duration \"%.*s\" is longer than 292 years",
                           (int)(a[1].len > 40 ? 40 : a[1].len), a[1].u.p);
    }
    int64_t step = (int64_t)d, ns = a[0].u.i, sec = ns / 1000000000 - (ns % 1000000000 < 0);
    /* in --tz's zone (else UTC) the wall clock is floored, so "1d" is local midnight; the
     * floored wall-clock time is an instant again by the offset then (lw_tz_off_local) */
    int64_t off = vm->tz ? (int64_t)lw_tz_off_at(vm->tz, sec, NULL) * 1000000000 : 0;
    int64_t local, fl, res;
    if (__builtin_add_overflow(ns, off, &local)) goto range;
    fl = local / step * step;
    /* a floor before 1677-09-21 (the first timestamp) wrapped around to 2262 */
    if (local % step != 0 && local < 0 && __builtin_sub_overflow(fl, step, &fl)) goto range;
    if (vm->tz) {
        /* a wall-clock time the fall-back repeats is two instants: the one with t's own
         * offset when it has it (02:30 CET, the second 02:30 in Paris, floors to 02:00 CET,
         * not to 02:00 CEST an hour earlier: that put the two repeated hours in one bucket
         * and left t 90 minutes after its "1h" floor); else the zone's pick (a skipped time) */
        int64_t fs = fl / 1000000000 - (fl % 1000000000 < 0);
        int64_t own = fs - off / 1000000000;
        if ((int64_t)lw_tz_off_at(vm->tz, own, NULL) * 1000000000 != off)
            off = (int64_t)lw_tz_off_local(vm->tz, fs) * 1000000000;
    }
    if (__builtin_sub_overflow(fl, off, &res)) goto range;
    *r = lw_time(res, (int32_t)a[0].len);
    return 0;
range:
    return lw_vm_error(vm, "trunc_time(): the result is out of the timestamp range (years 1677 "
                           "to 2262)");
}

const struct lw_builtin lw_builtins[LW_FN_N] = {
#define FN(name, min, max, args, ret, syn) { #name, min, max, args, ret, syn, fn_##name },
#include "lw/builtins.def"
#undef FN
};
