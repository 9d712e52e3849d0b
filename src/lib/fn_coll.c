/* Template functions over arrays and objects: push, merge, and the collection functions
 * (keys and values stay in builtins.c). A function that builds a container checks its size
 * against lw_vm_room before it allocates and counts its work with lw_vm_charge; members it
 * copies from its arguments are marked shared (lw_value_share), so a later write through
 * either holder copies first. del() is compiled specially (compile.c, DELPATH). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw/vm.h"

#include "builtins_int.h"

#define A (vm->arena)

static int merge_into(struct lw_vm *vm, struct lw_value *dst, const struct lw_value *b, bool deep,
                      int depth);

/* fits: n members of a container (objects: keys too) fit under --max-memory. */
static int
fits(struct lw_vm *vm, const char *fn, uint64_t n, bool obj)
{
    uint64_t each = sizeof(struct lw_value) + (obj ? sizeof(struct lw_str) : 0);
    if (n >= UINT32_MAX || (n + 1) * each > lw_vm_room(vm))
        return lw_vm_too_big(vm, fn, (size_t)((n + 1) * each));
    return 0;
}

/* room_for: fits, and the work of making the n members counted. */
static int
room_for(struct lw_vm *vm, const char *fn, uint64_t n, bool obj)
{
    if (fits(vm, fn, n, obj) != 0) return -1;
    return lw_vm_charge(vm, n / 16 + 1);
}

int
fn_del(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    return lw_vm_error(vm, "del() is compiled specially"); /* never called */
}

int
fn_push(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    if (room_for(vm, "push()", (uint64_t)lw_value_count(&a[0]) + 1, false) != 0) return -1;
    *r = lw_value_copy(&a[0], A);
    lw_value_share(&a[1]);
    lw_arr_push(A, r, a[1]);
    return 0;
}

/* merge_member: member k: v of b into writable object *dst (merge_into). */
static int
merge_member(struct lw_vm *vm, struct lw_value *dst, struct lw_value k, struct lw_value v,
             bool deep, int depth)
{
    bool added;
    if (lw_vm_charge(vm, dst->u.o->n / 16 + 1) != 0) return -1;
    struct lw_value *slot = lw_obj_slot(A, dst, (struct lw_str){ k.u.p, k.len }, true, &added);
    if (added) lw_obj_plain_last(dst, k); /* written as read when it was read so */
    if (deep && !added && slot->t == LW_T_OBJ && v.t == LW_T_OBJ) {
        if (room_for(vm, "merge()", lw_value_count(slot), true) != 0) return -1;
        *slot = lw_value_copy(slot, A);
        return merge_into(vm, slot, &v, true, depth + 1);
    }
    lw_value_share(&v);
    *slot = v;
    return 0;
}

/* merge_into: b's members into writable object *dst; deep: members that are objects in both
 * are merged the same way, one level deeper (a copy of dst's, which a holds too). */
static int
merge_into(struct lw_vm *vm, struct lw_value *dst, const struct lw_value *b, bool deep, int depth)
{
    struct lw_iter it;
    struct lw_value k, v;
    if (depth >= LW_JSON_MAX_DEPTH) {
        return lw_vm_error(vm, "merge(): objects nested deeper than %d levels", LW_JSON_MAX_DEPTH);
    }
    if (room_for(vm, "merge()", (uint64_t)dst->u.o->n + lw_value_count(b), true) != 0) return -1;
    lw_iter_init(&it, b);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        if (merge_member(vm, dst, k, v, deep, depth) != 0) return -1;
    }
    return 0;
}

/* A raw b (the usual case: an object of the record) is listed in the walk that counts it
 * (lw_json_list) instead of counted then walked again, and a's copy gets room for its members
 * at once. Only here, at the first level: merge_into recurses, and the list is on the stack. */
int
fn_merge(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    bool deep = n > 2 && lw_value_truthy(&a[2]);
    const struct lw_value *b = &a[1];
    uint32_t n0 = lw_value_count(&a[0]);
    if (room_for(vm, "merge()", n0, true) != 0) return -1;
    struct lw_json_member items[LW_LIST_MAX];
    uint64_t nb = LW_LIST_MAX + 1;
    if (b->flags & LW_V_RAW)
        nb = lw_json_list((struct lw_str){ b->u.p, b->len }, items, LW_LIST_MAX);
    if (nb > LW_LIST_MAX) {
        *r = lw_value_copy_counted(&a[0], n0, A);
        return merge_into(vm, r, b, deep, 0);
    }
    /* room for b's members too when they fit (room_for below says it when they do not) */
    bool room = (n0 + nb + 2) * (sizeof(struct lw_value) + sizeof(struct lw_str)) <= lw_vm_room(vm);
    *r = (a[0].flags & LW_V_RAW) ? lw_value_copy_counted(&a[0], n0, A)
                                 : lw_value_copy_room(&a[0], room ? (uint32_t)nb : 0, A);
    if (room_for(vm, "merge()", (uint64_t)r->u.o->n + nb, true) != 0) return -1;
    for (uint32_t i = 0; i < nb; i++) {
        struct lw_value v = lw_value_from_member(&items[i], A);
        struct lw_value k = lw_value_json_key(items[i].key, items[i].kesc, A);
        if (merge_member(vm, r, k, v, deep, 0) != 0) return -1;
    }
    return 0;
}

/* Collection functions ------------------------------------------------------------------ */

/* order_class: which values sort together: nulls first, then one class of numbers, strings,
 * timestamps or bools; -1 for containers, which have no order. */
static int
order_class(const struct lw_value *v)
{
    switch (v->t) {
    case LW_T_NULL:
        return 0;
    case LW_T_INT:
    case LW_T_FLOAT:
        return 1;
    case LW_T_STR:
        return 2;
    case LW_T_TIME:
        return 3;
    case LW_T_BOOL:
        return 4;
    }
    return -1;
}

static int
cmp_values(const void *x, const void *y)
{
    const struct lw_value *a = x, *b = y;
    int r = 0;
    if (a->t == LW_T_NULL || b->t == LW_T_NULL) return (a->t != LW_T_NULL) - (b->t != LW_T_NULL);
    if (lw_value_compare(a, b, &r, NULL) != 0) return 0; /* NaN: never in values */
    return r;
}

/* elements: a materialised array of a's elements, a new one (members marked shared). */
static int
elements(struct lw_vm *vm, const char *fn, const struct lw_value *a, struct lw_value *r)
{
    if (room_for(vm, fn, lw_value_count(a), false) != 0) return -1;
    *r = lw_value_copy(a, A);
    return 0;
}

int
fn_sort(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    if (elements(vm, "sort()", &a[0], r) != 0) return -1;
    struct lw_arr *x = r->u.a;
    int cls = 0;
    uint32_t first = 0; /* the first element that set cls */
    for (uint32_t i = 0; i < x->n; i++) {
        int c = order_class(&x->v[i]);
        if (c < 0) {
            return lw_vm_error(vm, "sort(): cannot order an %s: arrays and objects have no order",
                               lw_type_name(x->v[i].t));
        }
        if (c > 0 && cls > 0 && c != cls) {
            return lw_vm_error(vm, "sort(): cannot order %s with %s", lw_type_name(x->v[i].t),
                               lw_type_name(x->v[first].t));
        }
        if (c > 0 && cls == 0) {
            cls = c;
            first = i;
        }
    }
    uint64_t lg = 1;
    while ((1u << lg) < x->n && lg < 32)
        lg++;
    if (lw_vm_charge(vm, (uint64_t)x->n * lg / 16 + 1) != 0) return -1;
    qsort(x->v, x->n, sizeof *x->v, cmp_values);
    return 0;
}

/* A scalar of unique()'s sort: its class (values of different classes are never equal, as
 * by ==: numbers are one class), the value and where it was. */
struct uitem {
    struct lw_value v;
    uint32_t i;
    int cls;
};

/* uclass: null, bool, number, string, timestamp; -1 for NaN (equal to nothing, itself
 * included) and containers, which have no order and are compared one by one. */
static int
uclass(const struct lw_value *v)
{
    switch (v->t) {
    case LW_T_NULL:
        return 0;
    case LW_T_BOOL:
        return 1;
    case LW_T_INT:
        return 2;
    case LW_T_FLOAT:
        return isnan(v->u.f) ? -1 : 2;
    case LW_T_STR:
        return 3;
    case LW_T_TIME:
        return 4;
    }
    return -1;
}

/* ucmp: by class, then value (lw_value_compare orders exactly what == calls equal), then
 * position, so the first of a run of equal values is its first occurrence. */
static int
ucmp(const void *x, const void *y)
{
    const struct uitem *a = x, *b = y;
    int r = 0;
    if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
    if (a->cls != 0 && lw_value_compare(&a->v, &b->v, &r, NULL) == 0 && r != 0) return r;
    return (a->i > b->i) - (a->i < b->i);
}

/* unique: scalars sorted (n log n), each kept when it is the first of its run of equal values;
 * containers compared with the containers kept before them, each comparison counted. */
int
fn_unique(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_value all;
    if (elements(vm, "unique()", &a[0], &all) != 0) return -1;
    struct lw_arr *x = all.u.a;
    uint64_t need = (uint64_t)x->n * (sizeof(struct uitem) + sizeof(uint32_t) + 1) + 64;
    if (need > lw_vm_room(vm)) return lw_vm_too_big(vm, "unique()", need);
    struct uitem *s = lw_arena_alloc(A, (size_t)x->n * sizeof *s + 1);
    uint32_t *boxes = lw_arena_alloc(A, (size_t)x->n * sizeof *boxes + 1); /* containers kept */
    uint8_t *keep = lw_arena_alloc(A, (size_t)x->n + 1);
    uint32_t ns = 0, nb = 0, kept = 0;
    for (uint32_t i = 0; i < x->n; i++) {
        int c = uclass(&x->v[i]);
        keep[i] = c < 0 && x->v[i].t == LW_T_FLOAT; /* NaN */
        if (c >= 0) s[ns++] = (struct uitem){ x->v[i], i, c };
    }
    uint64_t lg = 1;
    while ((1u << lg) < ns && lg < 32)
        lg++;
    if (lw_vm_charge(vm, (uint64_t)ns * lg / 16 + 1) != 0) return -1;
    qsort(s, ns, sizeof *s, ucmp);
    for (uint32_t j = 0; j < ns; j++) {
        int d = 1;
        if (j > 0 && s[j].cls == s[j - 1].cls) {
            d = s[j].cls != 0 && lw_value_compare(&s[j].v, &s[j - 1].v, &d, NULL) == 0 ? d : 0;
        }
        keep[s[j].i] = d != 0;
    }
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->v[i].t != LW_T_ARR && x->v[i].t != LW_T_OBJ) continue;
        bool seen = false;
        if (lw_vm_charge(vm, nb / 16 + 1) != 0) return -1;
        for (uint32_t j = 0; j < nb && !seen; j++) {
            int eq = lw_value_equal_max(&x->v[i], &x->v[boxes[j]], A, &vm->cmp_left);
            if (eq < 0) return lw_vm_charge(vm, 1); /* the budget ran out: its error */
            seen = eq == 1;
        }
        if (!seen) boxes[nb++] = i;
        keep[i] = !seen;
    }
    for (uint32_t i = 0; i < x->n; i++)
        kept += keep[i];
    *r = lw_arr_new(A, kept);
    for (uint32_t i = 0; i < x->n; i++) {
        if (keep[i]) lw_arr_push(A, r, x->v[i]);
    }
    return 0;
}

/* flatten_into: the elements of a into r, arrays among them flattened depth levels more. */
static int
flatten_into(struct lw_vm *vm, const struct lw_value *a, struct lw_value *r, int64_t depth,
             int level)
{
    struct lw_iter it;
    struct lw_value k, v;
    if (level >= LW_JSON_MAX_DEPTH) {
        return lw_vm_error(vm, "flatten(): arrays nested deeper than %d levels", LW_JSON_MAX_DEPTH);
    }
    /* every array walked is work, empty ones too: an array may hold one array many times
     * (a = push(a, a) doubles the paths each time), and only elements kept were counted */
    if (lw_vm_charge(vm, lw_value_count(a) / 16 + 1) != 0) return -1;
    lw_iter_init(&it, a);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        if (v.t == LW_T_ARR && depth > 0) {
            if (flatten_into(vm, &v, r, depth - 1, level + 1) != 0) return -1;
            continue;
        }
        /* the element's work was counted with its array's: charging the size of r again
         * for each element made flattening n small arrays cost n * n / 16 */
        if (fits(vm, "flatten()", (uint64_t)r->u.a->n + 1, false) != 0) return -1;
        lw_value_share(&v);
        lw_arr_push(A, r, v);
    }
    return 0;
}

int
fn_flatten(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    int64_t depth = n > 1 ? a[1].u.i : 1;
    if (depth < 0) return lw_vm_error(vm, "flatten(): negative depth %lld", (long long)depth);
    *r = lw_arr_new(A, lw_value_count(&a[0]));
    return flatten_into(vm, &a[0], r, depth, 0);
}

int
fn_slice(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    int64_t len = lw_value_count(&a[0]), from = a[1].u.i, to = n > 2 ? a[2].u.i : len;
    if (from < 0) from = from + len < 0 ? 0 : from + len;
    if (to < 0) to = to + len < 0 ? 0 : to + len;
    if (from > len) from = len;
    if (to > len) to = len;
    if (to < from) to = from;
    if (room_for(vm, "slice()", (uint64_t)(to - from), false) != 0) return -1;
    if (lw_vm_charge(vm, (uint64_t)from / 16) != 0) return -1; /* the elements skipped */
    *r = lw_arr_new(A, (uint32_t)(to - from));
    /* one pass: lw_value_at of raw JSON scans from the start each time (slice(.a, 1) of
     * 20000 elements took 15 s) */
    struct lw_iter it;
    struct lw_value k, v;
    int64_t i = 0;
    lw_iter_init(&it, &a[0]);
    while (i < to && lw_iter_next(&it, &k, &v, A) == 1) {
        if (i++ < from) continue;
        lw_value_share(&v);
        lw_arr_push(A, r, v);
    }
    return 0;
}

/* find: the index of the first element of array a equal to x, -1 when none; -2 on error. */
static int64_t
find(struct lw_vm *vm, const struct lw_value *a, const struct lw_value *x)
{
    struct lw_iter it;
    struct lw_value k, v;
    int64_t i = 0;
    lw_iter_init(&it, a);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        int eq = lw_value_equal_max(&v, x, A, &vm->cmp_left);
        if (eq < 0) return lw_vm_charge(vm, 1) - 1;
        if (eq == 1) return i;
        i++;
    }
    return -1;
}

int
fn_index_of(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    int64_t i = find(vm, &a[0], &a[1]);
    if (i == -2) return -1;
    *r = lw_int(i);
    return 0;
}

int
lw_fn_contains_array(struct lw_vm *vm, struct lw_value *a, struct lw_value *r)
{
    int64_t i = find(vm, &a[0], &a[1]);
    if (i == -2) return -1;
    *r = lw_bool(i >= 0);
    return 0;
}

int
fn_sum(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_iter it;
    struct lw_value k, v;
    int64_t si = 0;
    double sf = 0;
    bool isf = false;
    lw_iter_init(&it, &a[0]);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        if (v.t == LW_T_NULL) continue;
        if (v.t == LW_T_FLOAT || (v.t == LW_T_INT && isf)) {
            if (!isf) sf = (double)si;
            isf = true;
            sf += v.t == LW_T_INT ? (double)v.u.i : v.u.f;
        } else if (v.t == LW_T_INT) {
            if (__builtin_add_overflow(si, v.u.i, &si)) {
                return lw_vm_error(vm, "sum(): integer overflow");
            }
        } else {
            return lw_vm_error(vm, "sum(): cannot add %s", lw_type_name(v.t));
        }
    }
    *r = isf ? lw_float(sf) : lw_int(si);
    return 0;
}

int
fn_compact(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    struct lw_iter it;
    struct lw_value k, v;
    bool obj = a[0].t == LW_T_OBJ;
    if (room_for(vm, "compact()", lw_value_count(&a[0]), obj) != 0) return -1;
    *r = obj ? lw_obj_new(A, lw_value_count(&a[0])) : lw_arr_new(A, lw_value_count(&a[0]));
    lw_iter_init(&it, &a[0]);
    while (lw_iter_next(&it, &k, &v, A) == 1) {
        if (v.t == LW_T_NULL) continue;
        lw_value_share(&v);
        if (obj)
            lw_obj_set(A, r, (struct lw_str){ k.u.p, k.len }, v);
        else
            lw_arr_push(A, r, v);
    }
    return 0;
}
