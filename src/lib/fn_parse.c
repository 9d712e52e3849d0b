/* Template functions that parse text into values: parse_syslog, parse_csv, parse_url,
 * parse_query, url_decode, url_encode, parse_duration; and the compile-time check of their
 * constant arguments. The syntax work of syslog and durations is in syslog.c and duration.c;
 * this file turns their slices into values in the record arena. */
#include <dlfcn.h>
#include <idn2.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw/duration.h"
#include "lw/kv.h"
#include "lw/syslog.h"
#include "lw/tz.h"
#include "lw/vm.h"

#include "builtins_int.h"

#define A (vm->arena)

/* set: add member key to an object built here, whose keys are distinct by construction, so
 * without lw_obj_set's search for an existing key (a fifth of parse_syslog's time on W4). The
 * object must have been made with room (lw_obj_new's cap) for every member set this way. */
static void
set(struct lw_vm *vm, struct lw_value *o, struct lw_str key, struct lw_value v)
{
    struct lw_obj *ob = o->u.o;
    if (ob->n == ob->cap) {
        lw_obj_set(A, o, key, v); /* grows; never reached with the caps used here */
        return;
    }
    ob->k[ob->n] = key;
    ob->v[ob->n++] = v;
}

static void
set_str(struct lw_vm *vm, struct lw_value *o, struct lw_str key, struct lw_str s)
{
    if (s.p != NULL) set(vm, o, key, lw_strv(s.p, s.len));
}

static struct lw_value
cstr(const char *s)
{
    return lw_strv(s, strlen(s));
}

/* shown: at most 60 bytes of an argument for a message. */
static int
shown(size_t len)
{
    return (int)(len > 60 ? 60 : len);
}

/* Syslog ------------------------------------------------------------------------------- */

/* structured_data: the SD elements as objects of their params into *all. Each param is set by
 * a search of its element's members, counted as work (n / 16 steps), so 90k params cost steps,
 * not unbounded time. Returns 0, or -1 at the step limit. */
static int
structured_data(struct lw_vm *vm, struct lw_str sd, struct lw_value *out)
{
    struct lw_value all = lw_obj_new(A, 2), elem = LW_NULL;
    struct lw_syslog_sd it;
    struct lw_str id, param;
    char *scratch = lw_arena_alloc(A, sd.len);
    lw_syslog_sd_init(&it, sd);
    while (lw_syslog_sd_next(&it, scratch, &id, &param) == 1) {
        if (param.p == NULL) { /* a repeated SD-ID adds to the first element of that name */
            elem = lw_value_get(&all, id, A);
            if (elem.t != LW_T_OBJ) {
                elem = lw_obj_new(A, 4);
                lw_obj_set(A, &all, id, elem);
            }
        } else {
            if (lw_vm_charge(vm, (elem.t == LW_T_OBJ ? elem.u.o->n : 0) / 16 + 1) != 0) return -1;
            lw_obj_set(A, &elem, id, lw_strv(param.p, param.len));
        }
    }
    *out = all;
    return 0;
}

int
fn_parse_syslog(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_syslog s;
    char err[200];
    size_t off = 0;
    struct lw_tz utc;
    const struct lw_tz *zone = vm->tz;
    if (zone == NULL) { /* no --tz: UTC */
        lw_tz_fixed(&utc, 0);
        zone = &utc;
    }
    if (lw_syslog_parse(a[0].u.p, a[0].len, lw_vm_now(vm), zone, &s, err, sizeof err, &off) != 0) {
        return lw_vm_error(vm, "parse_syslog(): %s at byte %zu", err, off + 1);
    }
    *r = lw_obj_new(A, 15);
    if (s.pri >= 0) { /* a line of a file has no <PRI>: these five are left out */
        set(vm, r, LW_STR_LIT("priority"), lw_int(s.pri));
        set(vm, r, LW_STR_LIT("facility"), cstr(lw_syslog_facility(s.pri / 8)));
        set(vm, r, LW_STR_LIT("facility_code"), lw_int(s.pri / 8));
        set(vm, r, LW_STR_LIT("severity"), cstr(lw_syslog_severity(s.pri % 8)));
        set(vm, r, LW_STR_LIT("severity_code"), lw_int(s.pri % 8));
    }
    if (s.version != 0) set(vm, r, LW_STR_LIT("version"), lw_int(s.version));
    if (s.has_time) set(vm, r, LW_STR_LIT("timestamp"), lw_time(s.ns, s.off));
    set_str(vm, r, LW_STR_LIT("hostname"), s.host);
    set_str(vm, r, LW_STR_LIT("appname"), s.app);
    int64_t pid;
    if (s.procid.p != NULL && lw_parse_int(s.procid, &pid) == 0 && s.procid.p[0] != '-' &&
        s.procid.p[0] != '+') {
        set(vm, r, LW_STR_LIT("procid"), lw_int(pid));
    } else {
        set_str(vm, r, LW_STR_LIT("procid"), s.procid);
    }
    set_str(vm, r, LW_STR_LIT("msgid"), s.msgid);
    if (s.seq.p != NULL && lw_parse_int(s.seq, &pid) == 0) {
        set(vm, r, LW_STR_LIT("sequence"), lw_int(pid));
    }
    if (s.sd.p != NULL) {
        struct lw_value sdv;
        if (structured_data(vm, s.sd, &sdv) != 0) return -1;
        set(vm, r, LW_STR_LIT("structured_data"), sdv);
    }
    set_str(vm, r, LW_STR_LIT("message"), s.msg);
    return 0;
}

/* CSV ---------------------------------------------------------------------------------- */

/* sep_check: the separator rule of parse_csv, shared by the compiler and the VM. */
static const char *
csv_sep_check(struct lw_str sep)
{
    if (sep.len != 1) return "the separator must be one character";
    if (sep.p[0] == '"' || sep.p[0] == '\n' || sep.p[0] == '\r') {
        return "the separator cannot be a quote or a line break";
    }
    return NULL;
}

int
fn_parse_csv(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 0;
    char sep = ',';
    if (n > 1) {
        const char *e = csv_sep_check((struct lw_str){ a[1].u.p, a[1].len });
        if (e != NULL) return lw_vm_error(vm, "parse_csv(): %s", e);
        sep = a[1].u.p[0];
    }
    *r = lw_arr_new(A, 8);
    char *scratch = NULL; /* unescaped quoted fields, at their offset in s */
    for (;;) {
        if (i < len && s[i] == '"') {
            size_t q = i, b = ++i, k = 0;
            bool esc = false;
            for (;; i++) {
                if (i >= len) {
                    return lw_vm_error(vm, "parse_csv(): unterminated quote at byte %zu", q + 1);
                }
                if (s[i] != '"') continue;
                if (i + 1 < len && s[i + 1] == '"') {
                    esc = true;
                    i++;
                    continue;
                }
                break;
            }
            struct lw_value v = lw_strv(s + b, i - b);
            if (esc) {
                if (scratch == NULL) scratch = lw_arena_alloc(A, len);
                for (size_t j = b; j < i; j++) {
                    scratch[b + k++] = s[j];
                    j += s[j] == '"';
                }
                v = lw_strv(scratch + b, k);
            }
            lw_arr_push(A, r, v);
            i++;
            if (i < len && s[i] != sep) {
                return lw_vm_error(vm,
                                   "parse_csv(): expected the separator or the end after the "
                                   "closing quote at byte %zu",
                                   i + 1);
            }
        } else {
            const char *e = memchr(s + i, sep, len - i);
            size_t end = e != NULL ? (size_t)(e - s) : len;
            lw_arr_push(A, r, lw_strv(s + i, end - i));
            i = end;
        }
        if (i >= len) break;
        i++; /* the separator: a field follows, even an empty last one */
    }
    return 0;
}

/* Percent-encoding ---------------------------------------------------------------------- */

/* pct_decode: s[b..e) with %XX decoded (and '+' as a space when plus); the result points into
 * s when nothing changes, else into the arena. Returns 0, or -1 with *bad at the bad '%'. */
static int
pct_decode(struct lw_vm *vm, const char *s, size_t b, size_t e, bool plus, struct lw_str *out,
           size_t *bad)
{
    size_t i = b;
    while (i < e && s[i] != '%' && !(plus && s[i] == '+')) {
        i++;
    }
    if (i == e) {
        *out = (struct lw_str){ s + b, e - b };
        return 0;
    }
    char *o = lw_arena_alloc(A, e - b);
    size_t k = i - b;
    memcpy(o, s + b, k);
    for (; i < e; i++) {
        if (s[i] == '+' && plus) {
            o[k++] = ' ';
        } else if (s[i] != '%') {
            o[k++] = s[i];
        } else {
            int h = i + 2 < e ? lw_hexval(s[i + 1]) : -1, l = h >= 0 ? lw_hexval(s[i + 2]) : -1;
            if (l < 0) {
                *bad = i;
                return -1;
            }
            o[k++] = (char)(h * 16 + l);
            i += 2;
        }
    }
    *out = (struct lw_str){ o, k };
    return 0;
}

static int
bad_escape(struct lw_vm *vm, const char *fn, const char *s, size_t len, size_t at)
{
    size_t n = len - at < 3 ? len - at : 3;
    return lw_vm_error(vm, "%s(): bad escape '%.*s' at byte %zu", fn, (int)n, s + at, at + 1);
}

int
fn_url_decode(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_str out;
    size_t bad = 0;
    if (pct_decode(vm, a[0].u.p, 0, a[0].len, false, &out, &bad) != 0) {
        return bad_escape(vm, "url_decode", a[0].u.p, a[0].len, bad);
    }
    *r = lw_strv(out.p, out.len);
    return 0;
}

int
fn_url_encode(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)a[0].u.p;
    size_t k = 0, need = (size_t)a[0].len * 3;
    if (need > lw_vm_room(vm)) { /* only then is the exact size worth counting */
        need = 0;
        for (size_t i = 0; i < a[0].len; i++) {
            unsigned char c = s[i];
            need += (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_' || c == '.' || c == '~'
                        ? 1
                        : 3;
        }
        if (need > lw_vm_room(vm)) return lw_vm_too_big(vm, "url_encode()", need);
    }
    char *o = lw_arena_alloc(A, need + 1);
    for (size_t i = 0; i < a[0].len; i++) {
        unsigned char c = s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            o[k++] = (char)c;
        } else {
            o[k++] = '%';
            o[k++] = hex[c >> 4];
            o[k++] = hex[c & 15];
        }
    }
    *r = lw_strv(o, k);
    return 0;
}

int
lw_fn_add_multi(struct lw_vm *vm, struct lw_value *obj, struct lw_str key, struct lw_value v)
{
    if (obj->t == LW_T_NULL) *obj = lw_obj_new(A, 4);
    struct lw_obj *o = obj->u.o;
    if (lw_vm_charge(vm, o->n / 16 + 1) != 0) return -1;
    for (uint32_t i = 0; i < o->n; i++) {
        if (!lw_str_eq(o->k[i], key)) continue;
        if (o->v[i].t != LW_T_ARR) {
            struct lw_value arr = lw_arr_new(A, 4);
            lw_arr_push(A, &arr, o->v[i]);
            o->v[i] = arr;
        }
        lw_arr_push(A, &o->v[i], v);
        return 0;
    }
    lw_obj_set(A, obj, key, v);
    return 0;
}

int
fn_parse_query(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = len > 0 && s[0] == '?';
    *r = lw_obj_new(A, 8);
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t e = amp != NULL ? (size_t)(amp - s) : len;
        if (e > i) {
            const char *eq = memchr(s + i, '=', e - i);
            size_t ke = eq != NULL ? (size_t)(eq - s) : e;
            struct lw_str k, v = { "", 0 };
            size_t bad = 0;
            if (pct_decode(vm, s, i, ke, true, &k, &bad) != 0 ||
                (eq != NULL && pct_decode(vm, s, ke + 1, e, true, &v, &bad) != 0)) {
                return bad_escape(vm, "parse_query", s, len, bad);
            }
            if (lw_fn_add_multi(vm, r, k, lw_strv(v.p, v.len)) != 0) return -1;
        }
        i = e + 1;
    }
    return 0;
}

/* URLs ---------------------------------------------------------------------------------- */

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* scheme_end: the length of "scheme" when s starts with "scheme:", else 0. */
static size_t
scheme_end(const char *s, size_t len)
{
    if (len == 0 || !is_alpha(s[0])) return 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == ':') return i;
        if (!(is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) break;
    }
    return 0;
}

static size_t
find_any(const char *s, size_t b, size_t e, const char *set)
{
    while (b < e && strchr(set, s[b]) == NULL) {
        b++;
    }
    return b;
}

/* libidn2 is loaded on the first IDNA host, not linked: it and libunistring would cost every
 * run of every template their start-up (relocations), and few records ever hold an xn-- host.
 * Without it (not installed) such a host is kept as written, as an invalid one is. */
typedef int (*idn2_decode_fn)(const char *in, char **out, int flags);
static idn2_decode_fn idn2_decode;
static void (*idn2_release)(void *);
static pthread_once_t idn2_once = PTHREAD_ONCE_INIT;

static void
idn2_load(void)
{
    void *h = dlopen("libidn2.so.0", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) return;
    void *d = dlsym(h, "idn2_to_unicode_8z8z"), *f = dlsym(h, "idn2_free");
    if (d == NULL || f == NULL) {
        dlclose(h);
        return;
    }
    /* ISO C has no conversion from void * to a function pointer; POSIX dlsym promises it works */
    memcpy(&idn2_release, &f, sizeof f);
    memcpy(&idn2_decode, &d, sizeof d);
}

/* idna_host: a host with IDNA labels (xn--...) in Unicode (libidn2, IDNA 2008 with the
 * transitional mapping off); a host that is not valid IDNA is kept as written. */
static struct lw_str
idna_host(struct lw_vm *vm, struct lw_str h)
{
    bool ace = false;
    for (size_t i = 0; i + 4 <= h.len && !ace; i++) {
        ace = (i == 0 || h.p[i - 1] == '.') && (h.p[i] | 0x20) == 'x' &&
              (h.p[i + 1] | 0x20) == 'n' && h.p[i + 2] == '-' && h.p[i + 3] == '-';
    }
    if (!ace || h.len > 253) return h; /* longer is no DNS name */
    char in[256];
    memcpy(in, h.p, h.len);
    in[h.len] = '\0';
    pthread_once(&idn2_once, idn2_load);
    if (idn2_decode == NULL) return h;
    char *out = NULL;
    if (idn2_decode(in, &out, 0) != IDN2_OK || out == NULL) {
        if (out != NULL) idn2_release(out);
        return h;
    }
    struct lw_str u = { lw_arena_dup(A, out, strlen(out)), strlen(out) };
    idn2_release(out);
    return u;
}

/* authority: user:password@host:port in s[b..e). */
static int
authority(struct lw_vm *vm, struct lw_value *r, const char *s, size_t b, size_t e)
{
    size_t at = e;
    for (size_t i = b; i < e; i++) {
        if (s[i] == '@') at = i; /* the last '@': a password may hold one unescaped */
    }
    if (at < e) {
        size_t colon = find_any(s, b, at, ":");
        set_str(vm, r, LW_STR_LIT("username"), (struct lw_str){ s + b, colon - b });
        if (colon < at)
            set_str(vm, r, LW_STR_LIT("password"),
                    (struct lw_str){ s + colon + 1, at - colon - 1 });
        b = at + 1;
    }
    size_t hb = b, he, pb;
    if (b < e && s[b] == '[') {
        size_t close = find_any(s, b, e, "]");
        if (close == e) return lw_vm_error(vm, "parse_url(): unclosed '[' at byte %zu", b + 1);
        hb = b + 1;
        he = close;
        pb = close + 1;
        if (pb < e && s[pb] != ':') {
            return lw_vm_error(vm, "parse_url(): expected ':' or the end after ']' at byte %zu",
                               pb + 1);
        }
    } else {
        pb = he = find_any(s, b, e, ":");
    }
    set_str(vm, r, LW_STR_LIT("host"), idna_host(vm, (struct lw_str){ s + hb, he - hb }));
    if (pb < e && pb + 1 < e) { /* "host:" has no port */
        int64_t port = 0;
        for (size_t i = pb + 1; i < e; i++) {
            if (s[i] < '0' || s[i] > '9' || port > 65535) {
                return lw_vm_error(vm, "parse_url(): bad port '%.*s' at byte %zu",
                                   shown(e - pb - 1), s + pb + 1, pb + 2);
            }
            port = port * 10 + (s[i] - '0');
        }
        if (port > 65535) {
            return lw_vm_error(vm, "parse_url(): port %" PRId64 " out of range 0-65535 at byte %zu",
                               port, pb + 2);
        }
        set(vm, r, LW_STR_LIT("port"), lw_int(port));
    }
    return 0;
}

int
fn_parse_url(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    bool has_authority = false;
    const char *s = a[0].u.p;
    size_t len = a[0].len, i = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c <= 0x20 || c == 0x7f) {
            return lw_vm_error(vm, "parse_url(): %s at byte %zu",
                               c == ' ' ? "space" : "control character", k + 1);
        }
    }
    *r = lw_obj_new(A, 8);
    size_t se = scheme_end(s, len);
    if (se > 0) {
        set_str(vm, r, LW_STR_LIT("scheme"), (struct lw_str){ s, se });
        i = se + 1;
    }
    if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        size_t ae = find_any(s, i + 2, len, "/?#");
        if (authority(vm, r, s, i + 2, ae) != 0) return -1;
        i = ae;
        has_authority = true;
    }
    size_t pe = find_any(s, i, len, "?#");
    /* "http://example.com" has the path "/", as browsers (WHATWG) and VRL read it */
    set_str(vm, r, LW_STR_LIT("path"),
            pe == i && has_authority ? LW_STR_LIT("/") : (struct lw_str){ s + i, pe - i });
    i = pe;
    if (i < len && s[i] == '?') {
        size_t qe = find_any(s, i + 1, len, "#");
        set_str(vm, r, LW_STR_LIT("query"), (struct lw_str){ s + i + 1, qe - i - 1 });
        i = qe;
    }
    if (i < len) set_str(vm, r, LW_STR_LIT("fragment"), (struct lw_str){ s + i + 1, len - i - 1 });
    return 0;
}

/* Durations ---------------------------------------------------------------------------- */

/* The unit argument's message: a constant one is reported at compile time, so the hint is one
 * of a few fixed texts. */
static const char *
unit_check(struct lw_str u)
{
    static const struct {
        const char *unit, *msg;
    } hints[] = {
#define HINT(x) { x, "unknown unit: did you mean " x "? (units: ns us ms s m h d w)" }
        HINT("ns"), HINT("us"), HINT("ms"), HINT("s"), HINT("m"), HINT("h"), HINT("d"), HINT("w"),
#undef HINT
    };
    double ns;
    if (lw_duration_unit(u.p, u.len, &ns) == 0) return NULL;
    const char *hint = lw_duration_unit_hint(u.p, u.len);
    for (size_t i = 0; hint != NULL && i < sizeof hints / sizeof hints[0]; i++) {
        if (strcmp(hints[i].unit, hint) == 0) return hints[i].msg;
    }
    return "unknown unit (units: ns us ms s m h d w)";
}

int
fn_parse_duration(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    double ns, unit = 1e9;
    char err[200];
    size_t off = 0;
    if (n > 1 && lw_duration_unit(a[1].u.p, a[1].len, &unit) != 0) {
        const char *hint = lw_duration_unit_hint(a[1].u.p, a[1].len);
        return lw_vm_error(
            vm, "parse_duration(): unknown unit '%.*s'%s%s%s (units: ns us ms s m h d w)",
            shown(a[1].len), a[1].u.p, hint ? ": did you mean " : "", hint ? hint : "",
            hint ? "?" : "");
    }
    if (lw_duration_parse(a[0].u.p, a[0].len, &ns, err, sizeof err, &off) != 0) {
        return lw_vm_error(vm, "parse_duration(): cannot parse \"%.*s\": %s", shown(a[0].len),
                           a[0].u.p, err);
    }
    *r = lw_float(ns / unit);
    return 0;
}

/* Constant arguments --------------------------------------------------------------------- */

const char *
lw_fn_check_const(int f, int argi, struct lw_str s)
{
    if (f == LW_FN_parse_csv && argi == 1) return csv_sep_check(s);
    if (f == LW_FN_parse_duration && argi == 1) return unit_check(s);
    if (f == LW_FN_trunc_time && argi == 1) {
        double ns;
        char err[160];
        size_t off;
        if (lw_duration_parse(s.p ? s.p : "", s.len, &ns, err, sizeof err, &off) != 0) {
            return "expected a duration: numbers with units (ns us ms s m h d w), like \"15m\" or "
                   "\"1h30m\"";
        }
        if (ns < 1) return "the duration must be positive, like \"15m\", \"1h\" or \"1d\"";
        if (ns >= 9.2e18) return "the duration is longer than 292 years";
    }
    /* parse_kv lives in builtins.c; each separator alone here, the pair at run time */
    if (f == LW_FN_parse_kv && argi == 1 && (s.len == 0 || s.len > LW_KV_SEP_MAX)) {
        return "the field separator must be 1 to 16 bytes";
    }
    if (f == LW_FN_parse_kv && argi == 2 && (s.len == 0 || s.len > LW_KV_SEP_MAX)) {
        return "the key separator must be 1 to 16 bytes";
    }
    if (f == LW_FN_parse_kv && argi == 3 && s.len > 2) {
        return "quotes must be at most two characters";
    }
    return lw_fn_formats_check_const(f, argi, s);
}
