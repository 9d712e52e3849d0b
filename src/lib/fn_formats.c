/* Template functions for the formats users bring from Vector (VRL), Fluent Bit and ArcSight:
 * parse_bytes, parse_tokens, mysql_unquote, parse_klog, parse_glog, parse_cef,
 * parse_influxdb and parse_aws_vpc_flow_log, and the compile-time check of their constant
 * arguments. Each reads its text in one pass without backtracking; strings point into the
 * record unless an escape had to be decoded (then a copy in the record arena), and every
 * builder checks lw_vm_room before each member it adds. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw/kv.h"
#include "lw/timefmt.h"
#include "lw/vm.h"

#include "builtins_int.h"
#include "timefmt_int.h"

#define A (vm->arena)

/* ITEM: what one member or element may cost (its value and key, a little of its object's
 * growth); checked against the room left before each is added. */
#define ITEM 64

static struct lw_str
S(const struct lw_value *v) {
    return (struct lw_str){ v->u.p, v->len };
}

static int
shown(size_t len)
{
    return (int)(len > 60 ? 60 : len);
}

/* full: the record cannot hold another member (the error is set). */
static bool
full(struct lw_vm *vm, const char *what, size_t extra)
{
    if (lw_vm_room(vm) >= ITEM + extra) return false;
    lw_vm_too_big(vm, what, 0);
    return true;
}

/* flag: argument i (when given) as a bool, default def; -1 after the error. */
static int
flag(struct lw_vm *vm, const char *fn, struct lw_value *a, int n, int i, bool def)
{
    if (n <= i || a[i].t == LW_T_NULL) return def;
    if (a[i].t != LW_T_BOOL) {
        return lw_vm_error(vm, "%s(): argument %d must be true or false, not %s", fn, i + 1,
                           lw_type_name(a[i].t));
    }
    return a[i].u.b;
}

/* Bytes --------------------------------------------------------------------------------- */

/* unit_mult: the bytes of one unit named u (B, K, KB, KiB, ... EiB; case ignored), a unit
 * without 'i' counting in base; 0 when u is not a unit. */
static double
unit_mult(struct lw_str u, int base)
{
    static const char pre[] = "KMGTPE";
    if (u.len == 0) return 1;
    char c0 = (char)(u.p[0] & ~0x20);
    if (u.len == 1 && c0 == 'B') return 1;
    const char *k = memchr(pre, c0, 6);
    if (k == NULL) return 0;
    size_t rest = u.len - 1;
    const char *r = u.p + 1;
    bool bin = base == 2;
    if (rest >= 1 && (r[0] == 'i' || r[0] == 'I')) {
        bin = true;
        r++;
        rest--;
        if (rest == 0) return 0; /* "Ki" alone is not a unit */
    }
    if (rest > 1 || (rest == 1 && (r[0] & ~0x20) != 'B')) return 0;
    return pow(bin ? 1024.0 : 1000.0, (double)(k - pre + 1));
}

/* out_unit: the output unit's size, from VRL's list (exact case); 0 when not one of them. */
static double
out_unit(struct lw_str u, int base)
{
    static const char *const names[] = { "B",  "kiB", "MiB", "GiB", "TiB", "PiB", "EiB",
                                         "kB", "MB",  "GB",  "TB",  "PB",  "EB" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (lw_str_eq(u, lw_str_c(names[i]))) return unit_mult(u, base);
    }
    return 0;
}

static const char *
bytes_unit_check(struct lw_str u)
{
    if (out_unit(u, 2) == 0) {
        return "the unit must be one of B, kiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB, EB";
    }
    return NULL;
}

static const char *
bytes_base_check(struct lw_str b)
{
    if (!lw_str_eq(b, LW_STR_LIT("2")) && !lw_str_eq(b, LW_STR_LIT("10"))) {
        return "the base must be \"2\" or \"10\"";
    }
    return NULL;
}

int
fn_parse_bytes(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    int base = 2;
    if (n > 2 && a[2].t != LW_T_NULL) {
        if (a[2].t == LW_T_INT && (a[2].u.i == 2 || a[2].u.i == 10)) {
            base = (int)a[2].u.i;
        } else if (a[2].t == LW_T_STR && bytes_base_check(S(&a[2])) == NULL) {
            base = a[2].len == 1 ? 2 : 10;
        } else {
            return lw_vm_error(vm, "parse_bytes(): the base must be \"2\" or \"10\"");
        }
    }
    struct lw_str unit = n > 1 && a[1].t == LW_T_STR ? S(&a[1]) : LW_STR_LIT("B");
    double div = out_unit(unit, base);
    if (div == 0) return lw_vm_error(vm, "parse_bytes(): %s", bytes_unit_check(unit));
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t n0 = i;
    while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        i++;
    struct lw_str num = { s + n0, i - n0 };
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t u0 = i;
    while (i < len && s[i] != ' ' && s[i] != '\t')
        i++;
    struct lw_str u = { s + u0, i - u0 };
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    double v, m = unit_mult(u, base);
    if (num.len == 0 || i < len || m == 0 || lw_parse_float(num, &v) != 0) {
        return lw_vm_error(vm,
                           "parse_bytes(): \"%.*s\" is not a size (a number and a unit such as "
                           "KiB or MB)",
                           shown(len), s);
    }
    *r = lw_float(v * m / div);
    return 0;
}

/* Tokens ---------------------------------------------------------------------------------- */

int
fn_parse_tokens(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 0;
    *r = lw_arr_new(A, 8);
    for (;;) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        if (i == len) break;
        if (full(vm, "parse_tokens()", 0)) return -1;
        char close = s[i] == '"' ? '"' : s[i] == '[' ? ']' : 0;
        size_t b = i, e;
        if (close) {
            b = ++i;
            while (i < len && s[i] != close)
                i += s[i] == '\\' && i + 1 < len ? 2 : 1;
            if (i == len) {
                return lw_vm_error(vm, "parse_tokens(): '%c' at byte %zu is not closed",
                                   close == '"' ? '"' : '[', b);
            }
            e = i++;
        } else {
            while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                i++;
            e = i;
        }
        struct lw_value v = lw_strv(s + b, e - b);
        if (!close && e - b == 1 && s[b] == '-') v = LW_NULL; /* VRL: "-" is no value */
        lw_arr_push(A, r, v);
    }
    return 0;
}

/* MySQL quoted strings --------------------------------------------------------------------- */

int
fn_mysql_unquote(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len;
    if (len < 2 || (s[0] != '\'' && s[0] != '"') || s[len - 1] != s[0]) {
        *r = a[0]; /* not quoted: as Fluent Bit's decoder, unchanged */
        return 0;
    }
    char q = s[0];
    if (len - 2 > lw_vm_room(vm)) return lw_vm_too_big(vm, "mysql_unquote()", len - 2);
    char *d = lw_arena_alloc(A, len);
    size_t o = 0;
    for (size_t i = 1; i + 1 < len; i++) {
        char c = s[i];
        if (c == q && i + 2 < len && s[i + 1] == q) { /* '' inside '...' */
            d[o++] = q;
            i++;
        } else if (c == '\\' && i + 2 < len) {
            char e = s[++i];
            d[o++] = e == '0'   ? '\0'
                     : e == 'b' ? '\b'
                     : e == 'n' ? '\n'
                     : e == 'r' ? '\r'
                     : e == 't' ? '\t'
                     : e == 'Z' ? '\032'
                                : e; /* \\ \' \" and any other: the character itself */
        } else {
            d[o++] = c;
        }
    }
    *r = lw_strv(d, o);
    return 0;
}

/* klog and glog ---------------------------------------------------------------------------- */

static bool
digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* kglog: "Lmmdd hh:mm:ss.uuuuuu id file:line] msg" (klog) or with yyyy before mm (glog). A
 * klog stamp has no year: the current year (now()), the last one for a December line read
 * in January, as VRL resolves it. */
static int
kglog(struct lw_vm *vm, struct lw_value *a, struct lw_value *r, bool year, const char *fn)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 1;
    const char *lv = NULL;
    if (len > 0) {
        lv = s[0] == 'I'   ? "info"
             : s[0] == 'W' ? "warning"
             : s[0] == 'E' ? "error"
             : s[0] == 'F' ? "fatal"
                           : NULL;
    }
    int y = 0, mo, d, h, mi, se, frac = 0, nfrac = 0;
    size_t yl = year ? 4 : 0;
    if (lv == NULL || len < 1 + yl + 4 + 1 + 8 || (year && !digits(s + 1, 4, &y)) ||
        !digits(s + 1 + yl, 2, &mo) || !digits(s + 3 + yl, 2, &d) || s[5 + yl] != ' ' ||
        !digits(s + 6 + yl, 2, &h) || s[8 + yl] != ':' || !digits(s + 9 + yl, 2, &mi) ||
        s[11 + yl] != ':' || !digits(s + 12 + yl, 2, &se) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || se > 60) {
        return lw_vm_error(vm, "%s(): \"%.*s\" does not start like \"%s\"", fn, shown(len), s,
                           year ? "I20210131 14:48:54.411655" : "I0505 17:59:40.692994");
    }
    i = 14 + yl;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nfrac < 9) frac = frac * 10 + (s[i] - '0'), nfrac++;
            i++;
        }
    }
    for (int k = nfrac; k < 9; k++)
        frac *= 10;
    size_t sp = i;
    while (i < len && s[i] == ' ')
        i++;
    size_t id0 = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t id1 = i, f0 = ++i;
    const char *close = i < len ? memchr(s + i, ']', len - i) : NULL;
    const char *colon = NULL;
    for (const char *p = close; p != NULL && p > s + f0; p--) {
        if (p[-1] == ':') {
            colon = p - 1;
            break;
        }
    }
    int64_t id, line;
    if (sp == id0 || id1 == id0 || s[id1] != ' ' || close == NULL || colon == NULL ||
        colon == s + f0 || lw_parse_int((struct lw_str){ s + id0, id1 - id0 }, &id) != 0 ||
        lw_parse_int((struct lw_str){ colon + 1, (size_t)(close - colon - 1) }, &line) != 0) {
        return lw_vm_error(vm, "%s(): expected \"THREADID FILE:LINE] \" at byte %zu", fn, sp + 1);
    }
    if (!year) {
        int64_t cy;
        int cm, cd;
        int64_t now = lw_vm_now(vm);
        int64_t days = now / 86400000000000LL - (now % 86400000000000LL < 0);
        lw_time_civil_from_days(days, &cy, &cm, &cd);
        y = (int)(cm == 1 && mo == 12 ? cy - 1 : cy);
    }
    if (d > lw_cal_month_days(y, mo)) {
        return lw_vm_error(vm, "%s(): day %d does not exist in month %d of %d", fn, d, mo, y);
    }
    int64_t secs = lw_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    size_t m0 = (size_t)(close - s) + 1;
    if (m0 < len && s[m0] == ' ') m0++;
    *r = lw_obj_new(A, 6);
    lw_obj_set(A, r, LW_STR_LIT("level"), lw_strv(lv, strlen(lv)));
    lw_obj_set(A, r, LW_STR_LIT("timestamp"), lw_time(secs * 1000000000 + frac, 0));
    lw_obj_set(A, r, LW_STR_LIT("id"), lw_int(id));
    lw_obj_set(A, r, LW_STR_LIT("file"), lw_strv(s + f0, (size_t)(colon - s) - f0));
    lw_obj_set(A, r, LW_STR_LIT("line"), lw_int(line));
    lw_obj_set(A, r, LW_STR_LIT("message"), lw_strv(s + m0, len - m0));
    return 0;
}

int
fn_parse_klog(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return kglog(vm, a, r, false, "parse_klog");
}

int
fn_parse_glog(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return kglog(vm, a, r, true, "parse_glog");
}

/* CEF ----------------------------------------------------------------------------------- */

/* unescape: p[0..len) with the backslash escapes of CEF decoded (header: \| \\; extension:
 * \= \\ \n \r; any other backslash stays), a slice of the record when there is none. */
static struct lw_str
unescape(struct lw_vm *vm, const char *p, size_t len, bool ext)
{
    if (memchr(p, '\\', len) == NULL) return (struct lw_str){ p, len };
    char *d = lw_arena_alloc(A, len);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i], e = i + 1 < len ? p[i + 1] : 0;
        if (c == '\\' && (e == '\\' || (!ext && e == '|') || (ext && e == '='))) {
            d[o++] = e;
            i++;
        } else if (c == '\\' && ext && (e == 'n' || e == 'r')) {
            d[o++] = e == 'n' ? '\n' : '\r';
            i++;
        } else {
            d[o++] = c;
        }
    }
    return (struct lw_str){ d, o };
}

static bool
cef_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '[' || c == ']';
}

/* next_key: the start of the next "key=" of extension text e from i (a key after white
 * space, made of key characters, its '=' not escaped), or e.len. */
static size_t
next_key(struct lw_str e, size_t i, size_t *eq)
{
    for (; i < e.len; i++) {
        if (e.p[i] == '\\') {
            i++;
            continue;
        }
        if (e.p[i] != '=') continue;
        size_t k = i;
        while (k > 0 && cef_key_char(e.p[k - 1]))
            k--;
        if (k < i && (k == 0 || e.p[k - 1] == ' ' || e.p[k - 1] == '\t')) {
            *eq = i;
            return k;
        }
        *eq = i; /* an '=' that does not end a key: reported by a strict caller */
        return SIZE_MAX;
    }
    return e.len;
}

static const char *const cef_header[] = { "cefVersion",    "deviceVendor",       "deviceProduct",
                                          "deviceVersion", "deviceEventClassId", "name",
                                          "severity" };

/* cef_ext: the extension's pairs into r (e starts at byte base of the argument, for
 * messages); -1 after an error. */
static int
cef_ext(struct lw_vm *vm, struct lw_str e, size_t base, bool strict, struct lw_value *r)
{
    size_t s0 = 0, eq = 0, k;
    while (s0 < e.len && (e.p[s0] == ' ' || e.p[s0] == '\t'))
        s0++;
    if (s0 >= e.len) return 0;
    k = next_key(e, s0, &eq);
    if (strict && k != s0) {
        return lw_vm_error(vm, "parse_cef(): the extension does not start with key=value");
    }
    while (k == SIZE_MAX) /* lenient: text before the first key is dropped */
        k = next_key(e, eq + 1, &eq);
    while (k < e.len) {
        /* a member search per pair (lw_obj_set): container work, charged */
        if (full(vm, "parse_cef()", 0) || lw_vm_charge(vm, r->u.o->n / 16 + 1) != 0) return -1;
        struct lw_str key = { e.p + k, eq - k };
        size_t v0 = eq + 1, veq = 0, nk = next_key(e, v0, &veq);
        while (nk == SIZE_MAX) {
            if (strict) {
                return lw_vm_error(vm,
                                   "parse_cef(): unescaped '=' in the value of %.*s at byte %zu",
                                   shown(key.len), key.p, base + veq + 1);
            }
            nk = next_key(e, veq + 1, &veq);
        }
        size_t v1 = nk;
        while (v1 > v0 && (e.p[v1 - 1] == ' ' || e.p[v1 - 1] == '\t'))
            v1--;
        struct lw_str v = unescape(vm, e.p + v0, v1 - v0, true);
        if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
            v = (struct lw_str){ v.p + 1, v.len - 2 };
        lw_obj_set(A, r, key, lw_strv(v.p, v.len));
        k = nk;
        eq = veq;
    }
    return 0;
}

/* custom: pairs KLabel=NAME and K=VALUE become NAME: VALUE (VRL's translate_custom_fields).
 * Each label searches the members (charged as container work). */
static int
custom(struct lw_vm *vm, struct lw_value *r)
{
    struct lw_obj *o = r->u.o;
    struct lw_value out = lw_obj_new(A, o->n);
    bool *drop = lw_arena_alloc(A, o->n + 1);
    memset(drop, 0, o->n + 1);
    struct lw_str *name = lw_arena_alloc(A, (o->n + 1) * sizeof *name);
    memset(name, 0, (o->n + 1) * sizeof *name);
    for (uint32_t i = 0; i < o->n; i++) {
        struct lw_str k = o->k[i];
        if (k.len <= 5 || memcmp(k.p + k.len - 5, "Label", 5) != 0 || o->v[i].t != LW_T_STR) {
            continue;
        }
        if (lw_vm_charge(vm, o->n / 16 + 1) != 0) return -1;
        for (uint32_t j = 0; j < o->n; j++) {
            if (j != i && o->k[j].len == k.len - 5 && memcmp(o->k[j].p, k.p, k.len - 5) == 0) {
                drop[i] = true;
                name[j] = (struct lw_str){ o->v[i].u.p, o->v[i].len };
            }
        }
    }
    for (uint32_t i = 0; i < o->n; i++) {
        if (drop[i]) continue;
        if (lw_vm_charge(vm, out.u.o->n / 16 + 1) != 0) return -1;
        lw_obj_set(A, &out, name[i].p ? name[i] : o->k[i], o->v[i]);
    }
    *r = out;
    return 0;
}

int
fn_parse_cef(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    int translate = flag(vm, "parse_cef", a, n, 1, false),
        strict = flag(vm, "parse_cef", a, n, 2, true);
    if (translate < 0 || strict < 0) return -1;
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 0;
    for (; i + 4 <= len; i++) { /* VRL skips what precedes the header (a syslog prefix) */
        if (memcmp(s + i, "CEF:", 4) == 0) break;
    }
    if (i + 4 > len) return lw_vm_error(vm, "parse_cef(): no CEF header (CEF:version|vendor|...)");
    if (full(vm, "parse_cef()", 8 * ITEM)) return -1;
    i += 4;
    *r = lw_obj_new(A, 16);
    for (int f = 0; f < 7; f++) {
        size_t b = i;
        while (i < len && s[i] != '|')
            i += s[i] == '\\' && i + 1 < len ? 2 : 1;
        if (i >= len && f < 6) {
            return lw_vm_error(vm, "parse_cef(): the header has %d of its 7 fields", f + 1);
        }
        if (i > len) i = len;
        struct lw_str v = unescape(vm, s + b, i - b, false);
        lw_obj_set(A, r, lw_str_c(cef_header[f]), lw_strv(v.p, v.len));
        if (i < len) i++;
    }
    if (cef_ext(vm, (struct lw_str){ s + i, len - i }, i, strict, r) != 0) return -1;
    return translate ? custom(vm, r) : 0;
}

/* InfluxDB line protocol ------------------------------------------------------------------ */

/* tok: from *i, the text up to an unescaped byte of stops (or the end), backslash escapes of
 * the stops and of '\' itself decoded (a copy only when there is one). */
static struct lw_str
tok(struct lw_vm *vm, const char *s, size_t len, size_t *i, const char *stops)
{
    size_t b = *i;
    bool esc = false;
    while (*i < len && strchr(stops, s[*i]) == NULL) {
        if (s[*i] == '\\' && *i + 1 < len) {
            esc = true;
            (*i)++;
        }
        (*i)++;
    }
    if (!esc) return (struct lw_str){ s + b, *i - b };
    char *d = lw_arena_alloc(A, *i - b);
    size_t o = 0;
    for (size_t k = b; k < *i; k++) {
        if (s[k] == '\\' && k + 1 < *i && (strchr(stops, s[k + 1]) || s[k + 1] == '\\')) k++;
        d[o++] = s[k];
    }
    return (struct lw_str){ d, o };
}

/* field_value: a line-protocol field value as the gauge VRL makes of it; -1 after an error. */
static int
field_value(struct lw_vm *vm, struct lw_str v, struct lw_str key, double *out)
{
    int64_t iv;
    if (v.len > 0 && v.p[0] == '"') {
        return lw_vm_error(vm,
                           "parse_influxdb(): field %.*s is a string; only numbers and bools "
                           "make metrics",
                           shown(key.len), key.p);
    }
    if (v.len > 1 && (v.p[v.len - 1] == 'i' || v.p[v.len - 1] == 'u') &&
        lw_parse_int((struct lw_str){ v.p, v.len - 1 }, &iv) == 0 &&
        (v.p[v.len - 1] == 'i' || iv >= 0)) {
        *out = (double)iv;
        return 0;
    }
    static const char *const t[] = { "t", "T", "true", "True", "TRUE" };
    static const char *const f[] = { "f", "F", "false", "False", "FALSE" };
    for (size_t k = 0; k < 5; k++) {
        if (lw_str_eq(v, lw_str_c(t[k]))) return *out = 1, 0;
        if (lw_str_eq(v, lw_str_c(f[k]))) return *out = 0, 0;
    }
    char buf[64];
    char *end;
    if (v.len > 0 && v.len < sizeof buf &&
        (v.p[0] == '-' || v.p[0] == '.' || (v.p[0] >= '0' && v.p[0] <= '9'))) {
        memcpy(buf, v.p, v.len);
        buf[v.len] = '\0';
        double d = strtod(buf, &end);
        if (*end == '\0' && isfinite(d)) return *out = d, 0;
    }
    return lw_vm_error(vm, "parse_influxdb(): field %.*s has no number or bool: \"%.*s\"",
                       shown(key.len), key.p, shown(v.len), v.p);
}

/* influx_line: the metrics of one line, appended to r. */
static int
influx_line(struct lw_vm *vm, const char *s, size_t len, struct lw_value *r)
{
    size_t i = 0;
    struct lw_str m = tok(vm, s, len, &i, ", ");
    if (m.len == 0) return lw_vm_error(vm, "parse_influxdb(): a line has no measurement");
    struct lw_value tags = LW_NULL;
    while (i < len && s[i] == ',') {
        i++;
        /* setting a tag searches the tags so far: counted as work, as parse_cef counts it */
        if (full(vm, "parse_influxdb()", 0) ||
            lw_vm_charge(vm, (tags.t == LW_T_OBJ ? tags.u.o->n : 0) / 16 + 1) != 0)
            return -1;
        struct lw_str k = tok(vm, s, len, &i, "=, ");
        if (i == len || s[i] != '=' || k.len == 0) {
            return lw_vm_error(vm, "parse_influxdb(): a tag is not key=value at byte %zu", i + 1);
        }
        i++;
        struct lw_str v = tok(vm, s, len, &i, ", ");
        if (tags.t == LW_T_NULL) tags = lw_obj_new(A, 4);
        lw_obj_set(A, &tags, k, lw_strv(v.p, v.len));
    }
    if (i == len || s[i] != ' ') {
        return lw_vm_error(vm, "parse_influxdb(): measurement %.*s has no fields", shown(m.len),
                           m.p);
    }
    i++;
    size_t f0 = i, nf = 0;
    while (i < len && s[i] != ' ') { /* first pass: the fields' end, for the timestamp */
        if (s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                i += s[i] == '\\';
        } else if (s[i] == '\\') {
            i++;
        }
        i++;
    }
    size_t f1 = i < len ? i : len;
    struct lw_value ts = LW_NULL;
    while (i < len && s[i] == ' ')
        i++;
    if (i < len) {
        int64_t ns;
        if (lw_parse_int((struct lw_str){ s + i, len - i }, &ns) != 0) {
            return lw_vm_error(vm, "parse_influxdb(): the timestamp is not an int of nanoseconds");
        }
        ts = lw_time(ns, 0);
    }
    for (i = f0; i < f1; i++, nf++) {
        if (full(vm, "parse_influxdb()", 5 * ITEM + m.len)) return -1;
        struct lw_str k = tok(vm, s, f1, &i, "=, ");
        if (i == f1 || s[i] != '=' || k.len == 0) {
            return lw_vm_error(vm, "parse_influxdb(): a field is not key=value at byte %zu", i + 1);
        }
        i++;
        size_t v0 = i;
        if (i < f1 && s[i] == '"') {
            for (i++; i < f1 && s[i] != '"'; i++)
                i += s[i] == '\\';
            i++;
        } else {
            while (i < f1 && s[i] != ',')
                i += s[i] == '\\' ? 2 : 1;
        }
        if (i > f1) i = f1;
        double d = 0;
        if (field_value(vm, (struct lw_str){ s + v0, i - v0 }, k, &d) != 0) return -1;
        char *name = lw_arena_alloc(A, m.len + 1 + k.len);
        memcpy(name, m.p, m.len);
        name[m.len] = '_';
        memcpy(name + m.len + 1, k.p, k.len);
        struct lw_value metric = lw_obj_new(A, 5), gauge = lw_obj_new(A, 1);
        lw_obj_set(A, &metric, LW_STR_LIT("name"), lw_strv(name, m.len + 1 + k.len));
        if (tags.t != LW_T_NULL) {
            lw_value_share(&tags);
            lw_obj_set(A, &metric, LW_STR_LIT("tags"), tags);
        }
        if (ts.t != LW_T_NULL) lw_obj_set(A, &metric, LW_STR_LIT("timestamp"), ts);
        lw_obj_set(A, &metric, LW_STR_LIT("kind"), lw_strv("absolute", 8));
        lw_obj_set(A, &gauge, LW_STR_LIT("value"), lw_float(d));
        lw_obj_set(A, &metric, LW_STR_LIT("gauge"), gauge);
        lw_arr_push(A, r, metric);
    }
    if (nf == 0)
        return lw_vm_error(vm, "parse_influxdb(): measurement %.*s has no fields", shown(m.len),
                           m.p);
    return 0;
}

int
fn_parse_influxdb(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len;
    *r = lw_arr_new(A, 4);
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len, e1 = e;
        if (e1 > i && s[e1 - 1] == '\r') e1--;
        size_t b = i;
        while (b < e1 && (s[b] == ' ' || s[b] == '\t'))
            b++;
        if (b < e1 && s[b] != '#' && influx_line(vm, s + b, e1 - b, r) != 0) return -1;
        i = e + 1;
    }
    if (r->u.a->n == 0) return lw_vm_error(vm, "parse_influxdb(): no line to parse");
    return 0;
}

/* AWS VPC flow logs ------------------------------------------------------------------------- */

#define VPC_DEFAULT                                                                                \
    "version account_id interface_id srcaddr dstaddr srcport dstport protocol packets bytes "      \
    "start end action log_status"

/* vpc_int: the fields AWS documents as numbers (the others are kept as text). */
static bool
vpc_int(struct lw_str f)
{
    static const char *const ints[] = {
        "version", "srcport", "dstport",   "protocol",     "packets",          "bytes",
        "start",   "end",     "tcp_flags", "traffic_path", "encryption_status"
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (lw_str_eq(f, lw_str_c(ints[i]))) return true;
    }
    return false;
}

/* word: the next run of non-blanks of s from *i, or an empty string at the end. */
static struct lw_str
word(const char *s, size_t len, size_t *i)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
    size_t b = *i;
    while (*i < len && s[*i] != ' ' && s[*i] != '\t')
        (*i)++;
    return (struct lw_str){ s + b, *i - b };
}

static const char *
vpc_format_check(struct lw_str f)
{
    size_t i = 0, n = 0;
    for (struct lw_str w = word(f.p, f.len, &i); w.len > 0; w = word(f.p, f.len, &i), n++) {
        for (size_t k = 0; k < w.len; k++) {
            char c = w.p[k];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                return "the format is field names (lower case, digits, '_', '-') separated by "
                       "spaces";
            }
        }
    }
    return n == 0 ? "the format names no field" : NULL;
}

int
fn_parse_aws_vpc_flow_log(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_str f = n > 1 && a[1].t == LW_T_STR ? S(&a[1]) : LW_STR_LIT(VPC_DEFAULT);
    const char *e = vpc_format_check(f);
    if (e != NULL) return lw_vm_error(vm, "parse_aws_vpc_flow_log(): %s", e);
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 0, fi = 0, k = 0;
    *r = lw_obj_new(A, 16);
    for (struct lw_str name = word(f.p, f.len, &fi); name.len > 0;
         name = word(f.p, f.len, &fi), k++) {
        if (full(vm, "parse_aws_vpc_flow_log()", 0) || lw_vm_charge(vm, r->u.o->n / 16 + 1) != 0) {
            return -1;
        }
        struct lw_str v = word(s, len, &i);
        if (v.len == 0) {
            return lw_vm_error(
                vm,
                "parse_aws_vpc_flow_log(): %zu values for a format of more fields (%.*s has none)",
                k, shown(name.len), name.p);
        }
        struct lw_value val = lw_strv(v.p, v.len);
        int64_t iv;
        if (v.len == 1 && v.p[0] == '-') {
            val = LW_NULL;
        } else if (vpc_int(name)) {
            if (lw_parse_int(v, &iv) != 0) {
                return lw_vm_error(vm, "parse_aws_vpc_flow_log(): %.*s is not a number: \"%.*s\"",
                                   shown(name.len), name.p, shown(v.len), v.p);
            }
            val = lw_int(iv);
        }
        lw_obj_set(A, r, name, val);
    }
    if (word(s, len, &i).len > 0) {
        return lw_vm_error(
            vm, "parse_aws_vpc_flow_log(): more values than the %zu fields of the format", k);
    }
    return 0;
}

/* Constant arguments ------------------------------------------------------------------------ */

const char *
lw_fn_formats_check_const(int f, int argi, struct lw_str s)
{
    if (f == LW_FN_parse_bytes && argi == 1) return bytes_unit_check(s);
    if (f == LW_FN_parse_bytes && argi == 2) return bytes_base_check(s);
    if (f == LW_FN_parse_aws_vpc_flow_log && argi == 1) return vpc_format_check(s);
    return NULL;
}
