/* parse_xml(): an XML document to an object with VRL's shape and options, read by expat
 * (Debian libexpat1): the root element is the one member, an element with only text is that
 * text, attributes are prefixed members, repeated elements make an array. A document that
 * declares entities is refused, so no text is larger than the record made it (no "billion
 * laughs"), and no external entity is ever loaded; what the result takes is checked against
 * --max-memory as it grows, and expat's own memory is proportional to the text. */
#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw/kv.h"
#include "lw/vm.h"

#include "builtins_int.h"

#define A             (vm->arena)
#define MAX_XML_DEPTH 1000 /* elements inside elements; each level is an object in the result */

struct xopts {
    bool trim, include_attr, always_text, parse_bool, parse_null, parse_number;
    struct lw_str attr_prefix, text_key;
};

struct frame {
    struct lw_value obj; /* attributes and child elements; LW_NULL while there are none */
    char *text;          /* the element's text, in the record arena */
    size_t tlen, tcap;
};

struct xml {
    struct lw_vm *vm;
    XML_Parser p;
    const struct xopts *o;
    struct frame *st;
    uint32_t depth, cap;
    struct lw_value root;
    bool failed; /* our error is in vm->err */
};

/* stop: end the parse with the error already set in vm->err (or too_big). */
static void
stop(struct xml *x)
{
    x->failed = true;
    XML_StopParser(x->p, XML_FALSE);
}

static bool
room(struct xml *x, size_t need)
{
    if (lw_vm_room(x->vm) >= need + 64) return true;
    lw_vm_too_big(x->vm, "parse_xml()", 0);
    stop(x);
    return false;
}

static struct lw_str
cdup(struct lw_vm *vm, const char *s)
{
    size_t n = strlen(s);
    return (struct lw_str){ lw_arena_dup(A, s, n), n };
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml *x = ud;
    struct lw_vm *vm = x->vm;
    if (x->depth == MAX_XML_DEPTH) {
        lw_vm_error(vm, "parse_xml(): elements nested deeper than %d", MAX_XML_DEPTH);
        stop(x);
        return;
    }
    if (!room(x, sizeof(struct frame) * 2) || lw_vm_charge(vm, 1) != 0) {
        if (!x->failed) stop(x);
        return;
    }
    if (x->depth == x->cap) {
        uint32_t cap = x->cap ? x->cap * 2 : 16;
        x->st = lw_arena_realloc(A, x->st, x->cap * sizeof *x->st, cap * sizeof *x->st);
        x->cap = cap;
    }
    struct frame *f = &x->st[x->depth++];
    *f = (struct frame){ .obj = LW_NULL };
    (void)name;
    for (int i = 0; x->o->include_attr && attrs[i] != NULL; i += 2) {
        size_t nl = strlen(attrs[i]), vl = strlen(attrs[i + 1]);
        if (!room(x, nl + vl + x->o->attr_prefix.len) || lw_vm_charge(vm, 1) != 0) {
            if (!x->failed) stop(x);
            return;
        }
        char *k = lw_arena_alloc(A, x->o->attr_prefix.len + nl + 1);
        if (x->o->attr_prefix.len > 0) memcpy(k, x->o->attr_prefix.p, x->o->attr_prefix.len);
        memcpy(k + x->o->attr_prefix.len, attrs[i], nl);
        if (lw_fn_add_multi(vm, &f->obj, (struct lw_str){ k, x->o->attr_prefix.len + nl },
                            lw_strv(lw_arena_dup(A, attrs[i + 1], vl), vl)) != 0) {
            stop(x);
            return;
        }
    }
}

static void XMLCALL
on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value, int vlen,
          const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
          const XML_Char *notation)
{
    struct xml *x = ud;
    lw_vm_error(x->vm,
                "parse_xml(): the document declares entity %.60s; entity declarations are "
                "not accepted",
                name);
    stop(x);
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
    struct xml *x = ud;
    struct lw_vm *vm = x->vm;
    if (x->failed || x->depth == 0 || len <= 0) return;
    struct frame *f = &x->st[x->depth - 1];
    if (f->tlen + (size_t)len > f->tcap) {
        size_t cap = (f->tcap ? f->tcap * 2 : 64) + (size_t)len;
        if (!room(x, cap)) return;
        f->text = lw_arena_realloc(A, f->text, f->tcap, cap);
        f->tcap = cap;
    }
    memcpy(f->text + f->tlen, s, (size_t)len);
    f->tlen += (size_t)len;
}

static bool
blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return false;
    }
    return true;
}

/* typed: text as VRL's parse_bool, parse_null and parse_number options read it. */
static struct lw_value
typed(const struct xopts *o, struct lw_str t)
{
    int64_t i;
    double d;
    if (o->parse_bool && lw_str_eq(t, LW_STR_LIT("true"))) return lw_bool(true);
    if (o->parse_bool && lw_str_eq(t, LW_STR_LIT("false"))) return lw_bool(false);
    if (o->parse_null && lw_str_eq(t, LW_STR_LIT("null"))) return LW_NULL;
    if (o->parse_number && lw_parse_int(t, &i) == 0) return lw_int(i);
    if (o->parse_number && lw_parse_float(t, &d) == 0) return lw_float(d);
    return lw_strv(t.p, t.len);
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
    struct xml *x = ud;
    struct lw_vm *vm = x->vm;
    /* expat still ends an empty element (<a/>) after on_start stopped the parser before it
     * pushed the element's frame: nothing of this element is on the stack then */
    if (x->failed || x->depth == 0) return;
    struct frame *f = &x->st[--x->depth];
    struct lw_str t = { f->text, f->tlen };
    bool has_text = t.len > 0 && !(x->o->trim && blank(t.p, t.len));
    struct lw_value v;
    if (!room(x, strlen(name) + 64)) return;
    if (f->obj.t == LW_T_NULL && !x->o->always_text) {
        v = has_text ? typed(x->o, t) : LW_NULL; /* <a/>: null */
    } else {
        v = f->obj;
        if (has_text && lw_fn_add_multi(vm, &v, x->o->text_key, typed(x->o, t)) != 0) {
            stop(x);
            return;
        }
        if (v.t == LW_T_NULL) v = lw_obj_new(A, 1);
    }
    struct lw_str key = cdup(vm, name);
    if (x->depth == 0) {
        x->root = lw_obj_new(A, 1);
        lw_obj_set(A, &x->root, key, v);
    } else if (lw_fn_add_multi(vm, &x->st[x->depth - 1].obj, key, v) != 0) {
        stop(x);
    }
}

/* options: the members of the options object into o; -1 after an error. */
static int
options(struct lw_vm *vm, const struct lw_value *arg, struct xopts *o)
{
    struct lw_iter it;
    struct lw_value k, v;
    lw_iter_init(&it, arg);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        struct lw_str key = { k.u.p, k.len };
        static const char *const flags[] = { "trim",       "include_attr", "always_use_text_key",
                                             "parse_bool", "parse_null",   "parse_number" };
        bool *fields[] = { &o->trim,       &o->include_attr, &o->always_text,
                           &o->parse_bool, &o->parse_null,   &o->parse_number };
        bool done = false;
        for (size_t i = 0; i < 6 && !done; i++) {
            if (!lw_str_eq(key, lw_str_c(flags[i]))) continue;
            if (v.t != LW_T_BOOL) {
                return lw_vm_error(vm, "parse_xml(): option %s must be true or false", flags[i]);
            }
            *fields[i] = v.u.b;
            done = true;
        }
        if (done) continue;
        if (lw_str_eq(key, LW_STR_LIT("attr_prefix")) || lw_str_eq(key, LW_STR_LIT("text_key"))) {
            if (v.t != LW_T_STR) {
                return lw_vm_error(vm, "parse_xml(): option %.*s must be a string", (int)key.len,
                                   key.p);
            }
            *(key.p[0] == 'a' ? &o->attr_prefix : &o->text_key) = (struct lw_str){ v.u.p, v.len };
            continue;
        }
        return lw_vm_error(vm,
                           "parse_xml(): unknown option '%.*s' (trim, include_attr, attr_prefix, "
                           "text_key, always_use_text_key, parse_bool, parse_null, parse_number)",
                           (int)(key.len > 40 ? 40 : key.len), key.p);
    }
    return 0;
}

int
fn_parse_xml(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct xopts o = { .trim = true,
                       .include_attr = true,
                       .parse_bool = true,
                       .parse_null = true,
                       .parse_number = true,
                       .attr_prefix = LW_STR_LIT("@"),
                       .text_key = LW_STR_LIT("text") };
    if (n > 1 && a[1].t != LW_T_NULL && options(vm, &a[1], &o) != 0) return -1;
    if (a[0].len > INT_MAX) return lw_vm_error(vm, "parse_xml(): the text is too long");
    struct xml x = { .vm = vm, .o = &o, .root = LW_NULL };
    x.p = XML_ParserCreate("UTF-8");
    if (x.p == NULL) lw_oom(0);
    XML_SetUserData(x.p, &x);
    XML_SetElementHandler(x.p, on_start, on_end);
    XML_SetCharacterDataHandler(x.p, on_text);
    XML_SetEntityDeclHandler(x.p, on_entity);
    enum XML_Status st = XML_Parse(x.p, a[0].u.p, (int)a[0].len, XML_TRUE);
    int rc = 0;
    if (x.failed) {
        rc = -1;
    } else if (st != XML_STATUS_OK) {
        enum XML_Error e = XML_GetErrorCode(x.p);
        if (e == XML_ERROR_NO_MEMORY) {
            XML_ParserFree(x.p);
            lw_oom(0);
        }
        rc = lw_vm_error(
            vm, "parse_xml(): %s at byte %lld", XML_ErrorString(e),
            (long long)(XML_GetCurrentByteIndex(x.p) < 0 ? 1 : XML_GetCurrentByteIndex(x.p) + 1));
    }
    XML_ParserFree(x.p);
    if (rc == 0) *r = x.root;
    return rc;
}
