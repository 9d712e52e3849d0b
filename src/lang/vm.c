/* The interpreter: one dispatch loop over struct lw_ins, registers in an array of values.
 * Notes on the unusual opcodes:
 * - PATH reads the record: segment 0 comes from the decoder's top-level member table (one
 *   scan of the JSON text for all paths), later segments descend into raw JSON slices.
 *   Once SETPATH has written to the record, the record is materialised and paths read it.
 * - TRY/ENDTRY bracket the left side of `a ?? b`: a runtime error inside jumps to b.
 * - WINDOW changes no state: it logs window statement B's contribution (key, event time and
 *   aggregate arguments from R[A] on) into vm->state for the loop, which applies the logs of
 *   records in read order (state.h); seen() logs its query and answer the same way.
 * - Every instruction costs one step; the step limit bounds any record's work.
 * Real work lives in static helpers and builtins.c; the cases stay short. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "lw/vm.h"

#include <inttypes.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/explain.h"
#include "lw/useragent.h"

/* The first attempt of a regex call runs under this pcre2 match limit; the templates in
 * templates/ need at most about 300 for a line, so calls that need more are rare. */
#define PROBE_LIMIT 1000

void
lw_vm_init(struct lw_vm *vm, const struct lw_program *p, struct lw_arena *arena,
           const struct lw_limits *lim)
{
    *vm = (struct lw_vm){ .prog = p, .arena = arena, .limits = *lim };
    vm->regs = lw_xcalloc(p->nregs + 1, sizeof *vm->regs);
    vm->regcap = p->nregs + 1;
    vm->iters = lw_xcalloc(p->niters + 1, sizeof *vm->iters);
    vm->itercap = p->niters + 1;
    vm->handlers = lw_xcalloc(p->ntry + 1, sizeof *vm->handlers);
    vm->hdepth = lw_xcalloc(p->ntry + 1, sizeof *vm->hdepth);
    vm->hcap = p->ntry + 1;
    if (p->nfuncs > 0) vm->frames = lw_xcalloc(LW_MAX_CALL_DEPTH, sizeof *vm->frames);
    vm->objindex = lw_xcalloc(1, sizeof *vm->objindex);
    if (p->ncovs > 0) vm->cov = lw_xcalloc(p->ncovs, sizeof *vm->cov);
    lw_buf_init(&vm->scratch);
    /* each stored as soon as made: after lw_oom's longjmp, lw_vm_fini frees what was made */
    vm->match_data = pcre2_match_data_create(p->max_groups + 1, NULL);
    if (vm->match_data == NULL) lw_oom(sizeof(size_t) * 2 * (p->max_groups + 1));
    vm->match_ctx = pcre2_match_context_create(NULL);
    if (vm->match_ctx == NULL) lw_oom(0); /* pcre2's own size */
    lw_vm_set_limits(vm, lim);
    vm->ovector = pcre2_get_ovector_pointer(vm->match_data);
}

void
lw_vm_set_limits(struct lw_vm *vm, const struct lw_limits *lim)
{
    vm->limits = *lim;
    pcre2_match_context *mc = vm->match_ctx;
    pcre2_set_match_limit(mc, lim->match_limit < PROBE_LIMIT ? lim->match_limit : PROBE_LIMIT);
    pcre2_set_depth_limit(mc, lim->depth_limit);
}

void
lw_vm_fini(struct lw_vm *vm)
{
    free(vm->regs);
    free(vm->iters);
    free(vm->handlers);
    free(vm->hdepth);
    free(vm->frames);
    free(vm->objindex);
    free(vm->cov);
    lw_buf_fini(&vm->scratch);
    pcre2_match_data_free(vm->match_data);
    pcre2_match_context_free(vm->match_ctx);
    lw_tzcache_fini(&vm->tzcache);
    lw_uacache_free(vm->uacache);
}

const struct lw_tz *
lw_vm_zone(struct lw_vm *vm, const char *fn, const char *name, size_t len)
{
    const struct lw_program *p = vm->prog;
    for (uint32_t i = 0; i < p->nzones; i++) {
        if (p->zones[i]->namelen == len && memcmp(p->zones[i]->name, name, len) == 0) {
            return p->zones[i];
        }
    }
    char err[300];
    const struct lw_tz *z = lw_tzcache_get(&vm->tzcache, name, len, err, sizeof err);
    if (z == NULL) lw_vm_error(vm, "%s(): %s", fn, err);
    return z;
}

int
lw_vm_error(struct lw_vm *vm, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vm->err, sizeof vm->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* index_object: fill x with the members of raw object text o (see struct lw_objindex). */
static void
index_object(struct lw_objindex *x, struct lw_str o)
{
    struct lw_json_iter it;
    struct lw_str k, v;
    x->p = o.p;
    x->len = (uint32_t)o.len;
    x->n = 0;
    x->usable = true;
    lw_json_iter_init(&it, o);
    while (lw_json_iter_next(&it, &k, &v) == 1) {
        if (x->n == LW_OBJINDEX_MAX || lw_json_str_has_escape(k)) {
            x->usable = false;
            return;
        }
        x->k[x->n] = k;
        x->v[x->n++] = v;
    }
}

/* raw_scan: count the work of scanning n bytes of raw JSON text to find a member or element:
 * one unit per 128 bytes (about 16 members). Without it, reading .[k] or .a[i] of a large
 * raw record in a loop over its members did n * n work for n steps (minutes for 50000 keys).
 * Sets vm->fatal at the budget's end; the instruction checks it. */
static void
raw_scan(struct lw_vm *vm, size_t n)
{
    if (!vm->fatal) lw_vm_charge(vm, n / 128 + 1);
}

/* raw_member: the value slice of member key of raw object o; 1 found, 0 absent. The last
 * duplicate wins, as everywhere. */
static int
raw_member(struct lw_vm *vm, struct lw_str o, struct lw_str key, struct lw_str *val)
{
    struct lw_objindex *x = vm->objindex;
    if (x->p != o.p || x->len != o.len) index_object(x, o);
    if (!x->usable) {
        raw_scan(vm, o.len); /* the whole object: the last duplicate wins */
        return lw_json_get(o, key.p, key.len, val);
    }
    for (uint32_t i = x->n; i-- > 0;) {
        if (x->k[i].len == key.len + 2 && memcmp(x->k[i].p + 1, key.p, key.len) == 0) {
            *val = x->v[i];
            return 1;
        }
    }
    return 0;
}

/* member: obj.key, with *found telling an absent member from a null one. */
static struct lw_value
member(struct lw_vm *vm, const struct lw_value *obj, struct lw_str key, bool *found)
{
    *found = false;
    if (obj->t != LW_T_OBJ) return LW_NULL;
    if (obj->flags & LW_V_RAW) {
        struct lw_str raw;
        if (raw_member(vm, (struct lw_str){ obj->u.p, obj->len }, key, &raw) != 1) return LW_NULL;
        *found = true;
        struct lw_value v = lw_value_from_json(raw, vm->arena);
        lw_raw_gapless(&v, obj->flags);
        return v;
    }
    for (uint32_t i = 0; i < obj->u.o->n; i++) {
        if (lw_str_eq(obj->u.o->k[i], key)) {
            *found = true;
            return obj->u.o->v[i];
        }
    }
    return LW_NULL;
}

static struct lw_value
element(struct lw_vm *vm, const struct lw_value *arr, int64_t i, bool *found)
{
    *found = false;
    if (arr->t != LW_T_ARR) return LW_NULL;
    if (arr->flags & LW_V_RAW) { /* a scan of the text, counted (raw_scan) */
        struct lw_str raw = { arr->u.p, arr->len }, val;
        if (i < 0) {
            raw_scan(vm, raw.len);
            i += (int64_t)lw_json_count(raw);
            if (i < 0) return LW_NULL;
        }
        int at = lw_json_at(raw, (size_t)i, &val);
        raw_scan(vm, at == 1 ? (size_t)(val.p - raw.p) : raw.len);
        if (at != 1) return LW_NULL;
        *found = true;
        struct lw_value v = lw_value_from_json(val, vm->arena);
        lw_raw_gapless(&v, arr->flags);
        return v;
    }
    int64_t n = arr->u.a->n; /* built (the raw case is above): lw_value_at's work, inline */
    if (i < 0) i += n;
    if (i < 0 || i >= n) return LW_NULL;
    *found = true;
    return arr->u.a->v[i];
}

/* path_get: the value at record path p; *found is false when some segment is absent. */
static struct lw_value
path_get(struct lw_vm *vm, const struct lw_path *p, bool *found)
{
    struct lw_value v = vm->root;
    uint32_t i = 0;
    *found = true;
    if (!vm->root_owned && p->top >= 0 && vm->rec->topval != NULL) {
        struct lw_str raw = vm->rec->topval[p->top];
        if (raw.p == NULL) {
            *found = false;
            return LW_NULL;
        }
        v = lw_value_from_json(raw, vm->arena);
        lw_raw_gapless(&v, vm->root.flags);
        i = 1;
    }
    for (; i < p->n && *found; i++) {
        const struct lw_pathseg *s = &p->seg[i];
        v = s->key.p ? member(vm, &v, s->key, found) : element(vm, &v, s->index, found);
    }
    return v;
}

static int
do_index(struct lw_vm *vm, const struct lw_value *c, const struct lw_value *k, struct lw_value *out)
{
    bool found;
    if (c->t == LW_T_NULL) {
        *out = LW_NULL;
    } else if (c->t == LW_T_ARR && k->t == LW_T_INT) {
        *out = element(vm, c, k->u.i, &found);
    } else if (c->t == LW_T_OBJ && k->t == LW_T_STR) {
        *out = member(vm, c, (struct lw_str){ k->u.p, k->len }, &found);
    } else {
        return lw_vm_error(vm, "cannot index %s with %s", lw_type_name(c->t), lw_type_name(k->t));
    }
    return 0;
}

/* compare: 0, -1 for an error ?? may catch, -2 for the step limit. Comparing containers
 * costs one of vm->cmp_left (--max-steps per record, apart from the instructions) per
 * container and element compared, as containers that share their elements can hold
 * exponentially many. */
static int
compare(struct lw_vm *vm, enum lw_op op, const struct lw_value *x, const struct lw_value *y,
        struct lw_value *out)
{
    int r;
    if ((op == LW_OP_EQ || op == LW_OP_NE) && (x->t == LW_T_ARR || x->t == LW_T_OBJ) &&
        x->t == y->t) {
        int eq = lw_value_equal_max(x, y, vm->arena, &vm->cmp_left);
        if (eq < 0) {
            lw_vm_error(vm,
                        "'%s': more than %" PRIu64 " values compared in the record (--max-steps)",
                        op == LW_OP_EQ ? "==" : "!=", vm->limits.steps);
            return -2;
        }
        *out = lw_bool(op == LW_OP_EQ ? eq : !eq);
        return 0;
    }
    if (op == LW_OP_EQ || op == LW_OP_NE) {
        bool eq = x->t == LW_T_NULL || y->t == LW_T_NULL ? x->t == y->t /* `v == null` */
                                                         : lw_value_equal(x, y, vm->arena);
        *out = lw_bool(op == LW_OP_EQ ? eq : !eq);
        return 0;
    }
    if (lw_value_compare(x, y, &r, vm->arena) != 0) {
        return lw_vm_error(vm, "cannot compare %s with %s%s", lw_type_name(x->t),
                           lw_type_name(y->t),
                           (x->t == LW_T_STR) != (y->t == LW_T_STR) ? " (convert with int())" : "");
    }
    bool b = op == LW_OP_LT ? r < 0 : op == LW_OP_LE ? r <= 0 : op == LW_OP_GT ? r > 0 : r >= 0;
    *out = lw_bool(b);
    return 0;
}

/* memcheck: after an operation that allocates, enforce --max-memory. What a record controls
 * the size of is checked before it is allocated (lw_vm_room); this catches the many small
 * allocations that each fit. */
static int
memcheck(struct lw_vm *vm)
{
    if (vm->arena->total <= vm->limits.max_memory) return 0;
    return lw_vm_error(vm, "record memory limit of %zu bytes exceeded (--max-memory)",
                       vm->limits.max_memory);
}

size_t
lw_vm_room(const struct lw_vm *vm)
{
    size_t used = vm->arena->total, max = vm->limits.max_memory;
    size_t room = used < max ? max - used : 0;
    return room < UINT32_MAX ? room : UINT32_MAX;
}

int
lw_vm_too_big(struct lw_vm *vm, const char *what, size_t need)
{
    /* What is in use depends on how the arena grew (and on LW_ARENA_DEBUG), so it is not said:
     * the same record gives the same message in every build. */
    if (need > 0) {
        return lw_vm_error(vm,
                           "%s: a result of %zu bytes would take the record past its memory "
                           "limit of %zu bytes (--max-memory)",
                           what, need, vm->limits.max_memory);
    }
    return lw_vm_error(vm,
                       "%s: the result would take the record past its memory limit of %zu bytes "
                       "(--max-memory)",
                       what, vm->limits.max_memory);
}

int
lw_vm_charge(struct lw_vm *vm, uint64_t units)
{
    if (units <= vm->cmp_left) {
        vm->cmp_left -= units;
        return 0;
    }
    vm->cmp_left = 0;
    vm->fatal = true;
    return lw_vm_error(vm,
                       "more than %" PRIu64 " values visited by container operations in the "
                       "record (--max-steps)",
                       vm->limits.steps);
}

/* Writing into containers ------------------------------------------------------------------
 * A path is written from its base (the record, or a variable's register) down: each container
 * on the way that another holder may see (raw, or marked shared) is copied first and the copy
 * stored in its parent, so the holders of the old one never see the change; one that only
 * this path reaches is changed in place. A loop that adds to a variable's object therefore
 * copies it at most once. */

/* seg_at: segment s of a path at run time: 1 a member name in *key, 0 an index in *ix. */
static int
seg_at(struct lw_vm *vm, const struct lw_pathseg *s, struct lw_str *key, int64_t *ix)
{
    if (s->reg < 0) {
        *key = s->key;
        *ix = s->index;
        return s->key.p != NULL;
    }
    const struct lw_value *v = &vm->regs[vm->rbase + (uint32_t)s->reg];
    if (v->t == LW_T_STR) {
        *key = (struct lw_str){ v->u.p ? v->u.p : "", v->len };
        return 1;
    }
    if (v->t == LW_T_INT) {
        *ix = v->u.i;
        return 0;
    }
    return lw_vm_error(vm, "a path's part must be a string or an int, found %s",
                       lw_type_name(v->t));
}

/* path_found: EXISTS of a path lvalue() made (top LW_PATH_WALK): computed parts (.[k],
 * .a[i].b) or a variable's path (v.a), walked from its base without copying; *found whether it
 * names a member or element, even a null one. False: a computed part is neither a string nor
 * an int (the error is set). */
static __attribute__((noinline)) bool
path_found(struct lw_vm *vm, const struct lw_path *p, bool *found)
{
    struct lw_value v = p->base >= 0 ? vm->regs[vm->rbase + (uint32_t)p->base] : vm->root;
    *found = true;
    for (uint32_t i = 0; i < p->n && *found; i++) {
        struct lw_str key = { 0 };
        int64_t ix = 0;
        int iskey = seg_at(vm, &p->seg[i], &key, &ix);
        if (iskey < 0) return false;
        v = iskey ? member(vm, &v, key, found) : element(vm, &v, ix, found);
    }
    return true;
}

/* copy_on_write: *c, a container, made one this holder may change in place. */
static int
copy_on_write(struct lw_vm *vm, struct lw_value *c)
{
    if (!lw_value_is_shared(c)) return 0;
    struct lw_json_member items[LW_LIST_MAX]; /* a raw one's, listed in the walk that counts */
    bool listed = false;
    uint32_t n;
    if (c->flags & LW_V_RAW) {
        n = (uint32_t)lw_json_list((struct lw_str){ c->u.p, c->len }, items, LW_LIST_MAX);
        listed = n <= LW_LIST_MAX;
    } else {
        n = lw_value_count(c);
    }
    size_t each = c->t == LW_T_OBJ ? sizeof(struct lw_value) + sizeof(struct lw_str)
                                   : sizeof(struct lw_value);
    if ((size_t)(n + 1) * each > lw_vm_room(vm)) return lw_vm_too_big(vm, "copy on write", 0);
    if (lw_vm_charge(vm, n / 16 + 1) != 0) return -1;
    *c = listed ? lw_value_from_list(c, items, n, vm->arena)
                : lw_value_copy_counted(c, n, vm->arena);
    return 0;
}

/* writable: *c ready to take segment (key or index) written into it: copied when shared,
 * made an empty object or array when null and create. */
static int
writable(struct lw_vm *vm, struct lw_value *c, int iskey, struct lw_str key, bool create)
{
    if (c->t == LW_T_NULL && create) {
        *c = iskey ? lw_obj_new(vm->arena, 4) : lw_arr_new(vm->arena, 4);
        return 0;
    }
    if (iskey && c->t != LW_T_OBJ) {
        return lw_vm_error(vm, "cannot set member '%.*s' of %s", (int)key.len, key.p,
                           lw_type_name(c->t));
    }
    if (!iskey && c->t == LW_T_OBJ) {
        return lw_vm_error(vm, "cannot index object with int (member names are strings)");
    }
    if (!iskey && c->t != LW_T_ARR) return lw_vm_error(vm, "cannot index %s", lw_type_name(c->t));
    return copy_on_write(vm, c);
}

/* child: the slot of member key / element ix of writable container *c; NULL when absent and
 * !create (or out of range). A new member is null; index n appends; a new member whose key is
 * plain (lw_pathseg's) is marked so in the object, to be written without the escaper. */
static struct lw_value *
child(struct lw_vm *vm, struct lw_value *c, int iskey, struct lw_str key, int64_t ix, bool create,
      bool plain, int *err)
{
    *err = 0;
    if (iskey) {
        bool added;
        if (lw_vm_charge(vm, c->u.o->n / 16 + 1) != 0) {
            *err = -1;
            return NULL;
        }
        struct lw_value *slot = lw_obj_slot(vm->arena, c, key, create, &added);
        if (added && plain) lw_obj_plain_last(c, (struct lw_value){ .flags = LW_V_PLAIN });
        return slot;
    }
    int64_t n = c->u.a->n, i = ix < 0 ? ix + n : ix;
    if (i == n && create) {
        if (n == c->u.a->cap && (size_t)(n ? n * 2 : 4) * sizeof *c->u.a->v > lw_vm_room(vm)) {
            *err = lw_vm_too_big(vm, "array", 0);
            return NULL;
        }
        lw_arr_push(vm->arena, c, LW_NULL);
        return &c->u.a->v[n];
    }
    if (i < 0 || i >= n) {
        if (create) {
            *err = lw_vm_error(vm, "index %" PRId64 " out of range for array of %" PRId64, ix, n);
        }
        return NULL;
    }
    return &c->u.a->v[i];
}

/* root_copy: the raw record's copy from the decoder's list of its members: what
 * copy_on_write makes of it, without walking the text twice (to count, then to copy). */
static int
root_copy(struct lw_vm *vm)
{
    const struct lw_record *rec = vm->rec;
    uint32_t n = rec->nmembers;
    if ((size_t)(n + 1) * (sizeof(struct lw_value) + sizeof(struct lw_str)) > lw_vm_room(vm))
        return lw_vm_too_big(vm, "copy on write", 0);
    if (lw_vm_charge(vm, n / 16 + 1) != 0) return -1;
    vm->root = lw_value_from_list(&vm->root, rec->members, n, vm->arena);
    return 0;
}

/* path_base: where path p starts: the record (copied once before its first change, when
 * reads stop using the decoder's member table), or a variable's register. */
static struct lw_value *
path_base(struct lw_vm *vm, const struct lw_path *p)
{
    if (p->base >= 0) return &vm->regs[vm->rbase + (uint32_t)p->base];
    if (!vm->root_owned) {
        if (vm->rec->members != NULL && (vm->root.flags & LW_V_RAW)) {
            if (root_copy(vm) != 0) return NULL;
        } else if (vm->root.t == LW_T_OBJ || vm->root.t == LW_T_ARR) {
            lw_value_share(&vm->root);
            if (copy_on_write(vm, &vm->root) != 0) return NULL;
        }
        vm->root_owned = true;
    }
    return &vm->root;
}

/* path_set: write val at path p, creating objects (and arrays, for an index) along the way. */
static int
path_set(struct lw_vm *vm, const struct lw_path *p, struct lw_value val)
{
    lw_value_share(&val);           /* its register still holds it */
    if (p->n == 0 && p->base < 0) { /* `. = v` */
        vm->root = val;
        vm->root_owned = true;
        return 0;
    }
    struct lw_value *cur = path_base(vm, p);
    if (cur == NULL) return -1;
    for (uint32_t i = 0; i < p->n; i++) {
        struct lw_str key = { 0 };
        int64_t ix = 0;
        int err, iskey = seg_at(vm, &p->seg[i], &key, &ix);
        if (iskey < 0 || writable(vm, cur, iskey, key, true) != 0) return -1;
        cur = child(vm, cur, iskey, key, ix, true, p->seg[i].reg < 0 && p->seg[i].plain, &err);
        if (cur == NULL) return -1;
    }
    *cur = val;
    return 0;
}

/* path_del: remove what path p names and put it in *out (null when absent); the containers
 * on the way are copied when shared, as for a write, but none is created. */
static int
path_del(struct lw_vm *vm, const struct lw_path *p, struct lw_value *out)
{
    *out = LW_NULL;
    struct lw_value *cur = path_base(vm, p);
    if (cur == NULL) return -1;
    for (uint32_t i = 0; i < p->n; i++) {
        struct lw_str key = { 0 };
        int64_t ix = 0;
        int err, iskey = seg_at(vm, &p->seg[i], &key, &ix);
        if (iskey < 0) return -1;
        if (cur->t != (iskey ? LW_T_OBJ : LW_T_ARR)) return 0; /* absent: nothing to remove */
        if (copy_on_write(vm, cur) != 0) return -1;
        struct lw_value *slot = child(vm, cur, iskey, key, ix, false, false, &err);
        if (slot == NULL) return err;
        if (i + 1 < p->n) {
            cur = slot;
            continue;
        }
        *out = *slot;
        if (iskey) {
            lw_obj_del(vm->arena, cur, (uint32_t)(slot - cur->u.o->v));
        } else {
            struct lw_arr *a = cur->u.a;
            uint32_t at = (uint32_t)(slot - a->v);
            memmove(a->v + at, a->v + at + 1, (a->n - at - 1) * sizeof *a->v);
            a->n--;
        }
    }
    return 0;
}

/* push: append v to the array in *arr (PUSH, `a = push(a, v)`), in place unless shared. */
static int
push(struct lw_vm *vm, struct lw_value *arr, struct lw_value v)
{
    if (arr->t != LW_T_ARR) {
        return lw_vm_error(vm, "push() cannot take %s as argument 1", lw_type_name(arr->t));
    }
    lw_value_share(&v);
    if (copy_on_write(vm, arr) != 0) return -1;
    int err;
    struct lw_value *slot = child(vm, arr, 0, (struct lw_str){ 0 }, arr->u.a->n, true, false, &err);
    if (slot == NULL) return -1;
    *slot = v;
    return 0;
}

/* concat_arrays: x + y, a new array (their elements now shared). */
static int
concat_arrays(struct lw_vm *vm, const struct lw_value *x, const struct lw_value *y,
              struct lw_value *out)
{
    uint64_t n = (uint64_t)lw_value_count(x) + lw_value_count(y);
    if (n * sizeof(struct lw_value) > lw_vm_room(vm) || n >= UINT32_MAX) {
        return lw_vm_too_big(vm, "'+'", (size_t)(n * sizeof(struct lw_value)));
    }
    if (lw_vm_charge(vm, n / 16 + 1) != 0) return -1;
    struct lw_value r = lw_arr_new(vm->arena, (uint32_t)n), k, v;
    const struct lw_value *src[2] = { x, y };
    for (int i = 0; i < 2; i++) {
        struct lw_iter it;
        lw_iter_init(&it, src[i]);
        while (lw_iter_next(&it, &k, &v, vm->arena) == 1) {
            lw_value_share(&v);
            lw_arr_push(vm->arena, &r, v);
        }
    }
    *out = r;
    return memcheck(vm);
}

/* extend: `a = a + y` (ADD with its target as left operand): y's elements appended to the
 * array in *a in place unless it is shared, as push() does, so building a list with + in a
 * loop is not n copies of a growing array (3000 one-element steps passed --max-memory). */
static __attribute__((noinline)) int
extend(struct lw_vm *vm, struct lw_value *a, const struct lw_value *y)
{
    uint32_t ny = lw_value_count(y);
    uint64_t n = (uint64_t)lw_value_count(a) + ny;
    if (n >= UINT32_MAX || (lw_value_is_shared(a) ? n : 2 * n) * sizeof *a > lw_vm_room(vm))
        return lw_vm_too_big(vm, "'+'", (size_t)(n * sizeof *a));
    if (lw_vm_charge(vm, ny / 16 + 1) != 0 || copy_on_write(vm, a) != 0) return -1;
    if (y == a) { /* a = a + a: its first ny elements again */
        for (uint32_t i = 0; i < ny; i++) {
            lw_value_share(&a->u.a->v[i]); /* now held twice */
            struct lw_value v = a->u.a->v[i];
            lw_arr_push(vm->arena, a, v);
        }
        return memcheck(vm);
    }
    struct lw_iter it;
    struct lw_value k, v;
    lw_iter_init(&it, y);
    while (lw_iter_next(&it, &k, &v, vm->arena) == 1) {
        lw_value_share(&v);
        lw_arr_push(vm->arena, a, v);
    }
    return memcheck(vm);
}

static int
arith(struct lw_vm *vm, int op, const struct lw_value *x, const struct lw_value *y,
      struct lw_value *out)
{
    if (op == '+' && x->t == LW_T_STR && y->t == LW_T_STR &&
        (size_t)x->len + y->len > lw_vm_room(vm)) { /* s = s + s doubles */
        return lw_vm_too_big(vm, "'+'", (size_t)x->len + y->len);
    }
    if (op == '+' && x->t == LW_T_ARR && y->t == LW_T_ARR)
        return x == out ? extend(vm, out, y) : concat_arrays(vm, x, y, out);
    if (lw_value_arith(op, x, y, out, vm->arena, vm->err, sizeof vm->err) != 0) return -1;
    return out->t == LW_T_STR ? memcheck(vm) : 0;
}

/* append: push v onto array *arr (APPEND), the growth checked against --max-memory first. */
static int
append(struct lw_vm *vm, struct lw_value *arr, struct lw_value v)
{
    const struct lw_arr *a = arr->u.a;
    if (a->n == a->cap && (size_t)(a->cap ? a->cap * 2 : 4) * sizeof v > lw_vm_room(vm)) {
        return lw_vm_too_big(vm, "array", 0);
    }
    lw_value_share(&v);
    lw_arr_push(vm->arena, arr, v);
    return 0;
}

static int
call(struct lw_vm *vm, uint32_t f, struct lw_value *args, int argc)
{
    const struct lw_builtin *b = &lw_builtins[f];
    /* lw_builtin_argtype's rule (the last letter repeats; none: any), walked without a strlen
     * per argument: this is every call's path */
    const char *want = b->argtypes;
    for (int i = 0; i < argc && *want; i++, want += want[1] != '\0') {
        if (*want != 'a' && !(*want == 's' && args[i].t == LW_T_STR) && /* the usual, inline */
            !lw_type_accepts(*want, args[i].t)) {
            return lw_vm_error(vm, "%s() cannot take %s as argument %d", b->name,
                               lw_type_name(args[i].t), i + 1);
        }
    }
    struct lw_value ret = LW_NULL;
    if (b->fn(vm, args, argc, &ret) != 0) return -1;
    args[0] = ret;
    return memcheck(vm);
}

static int
match(struct lw_vm *vm, const struct lw_matchsite *site, const struct lw_value *s,
      struct lw_value *out)
{
    struct lw_value *R = vm->regs + vm->rbase;
    if (s->t == LW_T_NULL) {
        for (uint32_t i = 0; i < site->n; i++)
            R[site->reg[i]] = LW_NULL;
        *out = lw_bool(false);
        return 0;
    }
    if (s->t != LW_T_STR) {
        return lw_vm_error(vm, "match() cannot take %s as argument 1", lw_type_name(s->t));
    }
    const char *subj = s->u.p;
    int rc = lw_vm_regex_match(vm, site->re, subj, s->len, 0);
    if (rc == PCRE2_ERROR_NOMATCH) {
        for (uint32_t i = 0; i < site->n; i++)
            R[site->reg[i]] = LW_NULL;
        *out = lw_bool(false);
        return 0;
    }
    if (rc < 0) return lw_vm_regex_error(vm, rc);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(vm->match_data);
    for (uint32_t i = 0; i < site->n; i++) {
        uint32_t gr = site->group[i];
        R[site->reg[i]] = (int)gr < rc && ov[2 * gr] != PCRE2_UNSET
                              ? lw_strv(subj + ov[2 * gr], ov[2 * gr + 1] - ov[2 * gr])
                              : LW_NULL;
    }
    *out = lw_bool(true);
    return 0;
}

static int
regex_run(struct lw_vm *vm, const struct lw_regex *re, const char *s, size_t len, size_t start)
{
    if (re->jit) {
        return pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, start, 0, vm->match_data,
                               vm->match_ctx);
    }
    /* PCRE2_NO_JIT: a regex JIT-compiled for other programs (parse_user_agent's shared rules)
     * runs interpreted in a program compiled without JIT */
    return pcre2_match(re->code, (PCRE2_SPTR)s, len, start, PCRE2_NO_JIT, vm->match_data,
                       vm->match_ctx);
}

/* regex_again: a call that passed the first attempt's match limit, run again under limits 8
 * times larger, up to --regex-match-limit and to what is left of the budget; each larger
 * attempt adds its limit to *cost. LW_VM_REGEX_BUDGET when the budget cut it short. */
static int
regex_again(struct lw_vm *vm, const struct lw_regex *re, const char *s, size_t len, size_t start,
            uint64_t *cost)
{
    uint32_t max = vm->limits.match_limit, limit = max < PROBE_LIMIT ? max : PROBE_LIMIT;
    int rc = PCRE2_ERROR_MATCHLIMIT;
    while (rc == PCRE2_ERROR_MATCHLIMIT && limit < max) {
        *cost += limit;
        if (*cost >= vm->regex_left) break;
        uint64_t next = (uint64_t)limit * 8;
        if (next > max) next = max;
        if (next > vm->regex_left - *cost) next = vm->regex_left - *cost;
        limit = (uint32_t)next;
        *cost += limit;
        pcre2_set_match_limit(vm->match_ctx, limit);
        rc = regex_run(vm, re, s, len, start);
    }
    if (limit > PROBE_LIMIT) pcre2_set_match_limit(vm->match_ctx, PROBE_LIMIT);
    return rc == PCRE2_ERROR_MATCHLIMIT && limit < max ? LW_VM_REGEX_BUDGET : rc;
}

int
lw_vm_regex_match(struct lw_vm *vm, const struct lw_regex *re, const char *s, size_t len,
                  size_t start)
{
    /* The per-call limits bound one call; the budget bounds their sum, so a loop over many
     * pieces of a long record cannot multiply them. pcre2 does not say how much of its match
     * limit a call used, so a call first runs under a small limit; one that needs more is run
     * again under a limit 8 times larger, up to --regex-match-limit and to what is left of the
     * budget, and each larger attempt costs its whole limit. Every call also costs the bytes
     * it searched: from start to the end of the match, or to the end of s. */
    if (vm->regex_left == 0) return LW_VM_REGEX_BUDGET;
    int rc = regex_run(vm, re, s, len, start);
    uint64_t cost = 1;
    if (rc == PCRE2_ERROR_MATCHLIMIT) rc = regex_again(vm, re, s, len, start, &cost);
    size_t end = rc >= 0 ? vm->ovector[1] : len;
    cost += end > start ? end - start : 0;
    if (cost > vm->regex_left || rc == LW_VM_REGEX_BUDGET) {
        vm->regex_left = 0;
        return LW_VM_REGEX_BUDGET;
    }
    vm->regex_left -= cost;
    return rc;
}

int
lw_vm_regex_error(struct lw_vm *vm, int rc)
{
    if (rc == LW_VM_REGEX_BUDGET) {
        return lw_vm_error(vm, "regex budget of %" PRIu64 " per record exceeded (--regex-budget)",
                           vm->limits.regex_budget);
    }
    if (rc == PCRE2_ERROR_MATCHLIMIT) {
        return lw_vm_error(vm, "regex match limit of %u exceeded (--regex-match-limit)",
                           vm->limits.match_limit);
    }
    if (rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        return lw_vm_error(vm, "regex depth limit exceeded (--regex-depth-limit)");
    }
    PCRE2_UCHAR msg[128];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return lw_vm_error(vm, "regex error: %s", (char *)msg);
}

static int
concat(struct lw_vm *vm, struct lw_value *parts, int n, struct lw_value *out)
{
    /* The text is built in the VM's scratch buffer (reused, so no allocation per record once
     * it has grown), then copied once into the arena. */
    struct lw_buf *b = &vm->scratch;
    size_t room = lw_vm_room(vm);
    b->len = 0;
    for (int i = 0; i < n; i++) {
        int rc = lw_value_write_text_max(b, &parts[i], vm->arena, room);
        if (rc == LW_WRITE_TOO_LONG) return lw_vm_too_big(vm, "\"${...}\"", 0);
        if (rc != 0) {
            return lw_vm_error(vm, "cannot write %s as text: nested deeper than %d levels",
                               lw_type_name(parts[i].t), LW_JSON_MAX_DEPTH);
        }
    }
    *out = lw_strv(lw_arena_dup(vm->arena, b->p ? b->p : "", b->len), b->len);
    return memcheck(vm);
}

/* emit_null: the error of `emit f(...)` when f returned null; "(no match?)" for a function
 * that matches a pattern (grok, dissect, captures), not for del(), lookup() or a user's. */
static __attribute__((noinline)) void
emit_null(struct lw_vm *vm, const struct lw_value *fname)
{
    const char *why = "";
    for (int f = 0; f < LW_FN_N; f++) {
        const struct lw_builtin *b = &lw_builtins[f];
        if (strlen(b->name) == fname->len && memcmp(b->name, fname->u.p, fname->len) == 0 &&
            strpbrk(b->argtypes, "PRr") != NULL)
            why = " (no match?)";
    }
    lw_vm_error(vm, "emit of null: %.*s() returned null%s; use ?? for a default or test it first",
                (int)fname->len, fname->u.p, why);
}

/* emit_null_from: the error of `emit x` when x is a null a call returned (v->u.i: that call's
 * pc + 1, set by CALL, DELPATH and RET), the value having come through a variable, a member
 * or any expression: it names the call and where it is. */
static __attribute__((noinline)) void
emit_null_from(struct lw_vm *vm, const struct lw_value *v)
{
    const struct lw_program *P = vm->prog;
    uint32_t at = (uint32_t)(v->u.i - 1);
    const struct lw_ins *c = &P->code[at];
    const char *name = "del", *why = "";
    size_t nlen = 3;
    if (c->op == LW_OP_CALL) {
        name = lw_builtins[c->b].name;
        nlen = strlen(name);
        if (strpbrk(lw_builtins[c->b].argtypes, "PRr") != NULL) why = " (no match?)";
    } else if (c->op == LW_OP_FCALL) {
        name = P->funcs[c->b].name.p;
        nlen = P->funcs[c->b].name.len;
    }
    struct lw_str file;
    int line, col;
    lw_program_where(P, P->spans[at].off, &file, &line, &col);
    bool here = P->nfiles == 0 || file.p == P->name.p;
    lw_vm_error(vm,
                "emit of null: %.*s() at %.*s%s%d:%d returned null%s; use ?? for a default or "
                "test it first",
                (int)nlen, name, here ? 0 : (int)(file.len > 200 ? 200 : file.len), file.p,
                here ? "" : ":", line, col, why);
}

static int
iter_start(struct lw_vm *vm, struct lw_iterslot *s, const struct lw_value *c)
{
    s->c = *c;
    lw_value_share(c); /* a write to it inside the loop copies it: the loop sees the old one */
    if (c->t != LW_T_ARR && c->t != LW_T_OBJ && c->t != LW_T_NULL) {
        return lw_vm_error(vm, "cannot loop over %s%s", lw_type_name(c->t),
                           c->t == LW_T_STR ? " (split() it into an array first)" : "");
    }
    lw_iter_init(&s->it, &s->c);
    return 0;
}

/* grow: room for n elements of size sz in *p (cap *cap), the new ones zeroed. */
static void
grow(void *pp, uint32_t *cap, uint32_t n, size_t sz)
{
    void **p = pp;
    if (n <= *cap) return;
    uint32_t nc = *cap * 2 > n ? *cap * 2 : n;
    *p = lw_xrealloc(*p, (size_t)nc * sz);
    memset((char *)*p + (size_t)*cap * sz, 0, (size_t)(nc - *cap) * sz);
    *cap = nc;
}

/* enter: FCALL: a frame for user function B whose registers start at the caller's R[A] (its
 * arguments), with iterator slots after the caller's and room for its ?? handlers. */
static int
enter(struct lw_vm *vm, const struct lw_ins *in, uint32_t *pc)
{
    const struct lw_program *P = vm->prog;
    const struct lw_func *f = &P->funcs[in->b];
    if (vm->depth == LW_MAX_CALL_DEPTH) {
        vm->fatal = true;
        return lw_vm_error(vm,
                           "function calls nested deeper than %d (a recursion that does not "
                           "end?)",
                           LW_MAX_CALL_DEPTH);
    }
    uint32_t niters = vm->depth ? P->funcs[vm->frames[vm->depth - 1].func].niters : P->niters;
    uint32_t rbase = vm->rbase + in->a, ibase = vm->ibase + niters;
    grow(&vm->regs, &vm->regcap, rbase + f->nregs, sizeof *vm->regs);
    uint32_t icap = vm->itercap;
    grow(&vm->iters, &vm->itercap, ibase + f->niters + 1, sizeof *vm->iters);
    if (icap != vm->itercap) { /* an iterator points at its slot's container */
        for (uint32_t i = 0; i < vm->itercap; i++)
            vm->iters[i].it.c = &vm->iters[i].c;
    }
    uint32_t hcap = vm->hcap;
    grow(&vm->handlers, &hcap, vm->nhandlers + f->ntry + 1, sizeof *vm->handlers);
    grow(&vm->hdepth, &vm->hcap, vm->nhandlers + f->ntry + 1, sizeof *vm->hdepth);
    vm->frames[vm->depth++] = (struct lw_frame){ *pc, vm->rbase, vm->ibase, in->b };
    vm->rbase = rbase;
    vm->ibase = ibase;
    memset(vm->regs + rbase + in->c, 0, (f->nregs - (uint32_t)in->c) * sizeof *vm->regs);
    *pc = f->entry;
    return 0;
}

/* leave: back to the frame at depth d (RET: one up; an error caught by ?? further down). */
static void
leave(struct lw_vm *vm, uint32_t d, uint32_t *pc)
{
    while (vm->depth > d) {
        struct lw_frame *fr = &vm->frames[--vm->depth];
        *pc = fr->ret_pc;
        vm->rbase = fr->rbase;
        vm->ibase = fr->ibase;
    }
}

/* fn_error: an error inside a function, not caught: the message says which function and
 * where in its file, and the error is put at the template's outermost call. */
static void
fn_error(struct lw_vm *vm, uint32_t pc)
{
    const struct lw_program *P = vm->prog;
    const struct lw_func *f = &P->funcs[vm->frames[vm->depth - 1].func];
    struct lw_str file;
    int line, col;
    lw_program_where(P, P->spans[pc].off, &file, &line, &col);
    char pre[320];
    int n = snprintf(pre, sizeof pre, "%.*s() at %.*s:%d:%d: ", (int)f->name.len, f->name.p,
                     (int)(file.len > 200 ? 200 : file.len), file.p, line, col);
    size_t pl = n < 0 ? 0 : strlen(pre), el = strlen(vm->err);
    if (pl + el >= sizeof vm->err) el = sizeof vm->err - 1 - pl;
    memmove(vm->err + pl, vm->err, el);
    memcpy(vm->err, pre, pl);
    vm->err[pl + el] = '\0';
    vm->err_pc = vm->frames[0].ret_pc - 1;
}

/* VM_RETURN: every way out of lw_vm_run leaves what is left of the step budget. */
#define VM_RETURN(x)                                                                               \
    do {                                                                                           \
        res = (x);                                                                                 \
        goto out;                                                                                  \
    } while (0)

enum lw_vm_result
lw_vm_run(struct lw_vm *vm, const struct lw_record *rec)
{
    const struct lw_program *P = vm->prog;
    const struct lw_ins *code = P->code;
    const struct lw_value *K = P->k;
    struct lw_value *R = vm->regs;
    struct lw_iterslot *I = vm->iters;
    uint64_t steps = vm->limits.steps;
    uint32_t pc = 0;
    enum lw_vm_result res;

    memset(R, 0, P->nregs * sizeof *R);
    vm->rec = rec;
    vm->root = rec->root;
    vm->root_owned = false;
    vm->fatal = false;
    vm->nhandlers = 0;
    vm->depth = vm->rbase = vm->ibase = 0;
    vm->regex_left = vm->limits.regex_budget;
    vm->cmp_left = vm->limits.steps;
    vm->err[0] = '\0';
    vm->objindex->p = NULL; /* raw slices of the last record may share its addresses */

    for (;;) {
        const struct lw_ins *in = &code[pc++];
        if (steps-- == 0) {
            lw_vm_error(vm, "step limit of %" PRIu64 " instructions exceeded (--max-steps)",
                        vm->limits.steps);
            steps = 0; /* it went past 0: the whole budget was run */
            goto fatal;
        }
        switch ((enum lw_op)in->op) {
        case LW_OP_MOVE: /* two holders now: the next write through either copies */
            R[in->a] = R[in->b];
            lw_value_share(&R[in->a]);
            break;
        case LW_OP_LOADK:
            R[in->a] = K[in->b];
            break;
        case LW_OP_LOADNULL:
            R[in->a] = LW_NULL;
            break;
        case LW_OP_LINE:
            R[in->a] = lw_strv(rec->line.p, rec->line.len);
            break;
        case LW_OP_ROOT: /* the record is shared from here: its next write copies it first */
            R[in->a] = vm->root;
            lw_value_share(&R[in->a]);
            break;
        case LW_OP_META:
            R[in->a] = rec->meta;
            lw_value_share(&R[in->a]);
            break;
        case LW_OP_PATH: {
            bool found;
            R[in->a] = path_get(vm, &P->paths[in->b], &found);
            if (vm->fatal) goto fatal; /* raw_scan's budget */
            lw_value_share(&R[in->a]);
            break;
        }
        case LW_OP_EXISTS: {
            bool found;
            if (P->paths[in->b].top == LW_PATH_WALK && !path_found(vm, &P->paths[in->b], &found))
                goto fail;
            if (P->paths[in->b].top != LW_PATH_WALK) path_get(vm, &P->paths[in->b], &found);
            if (vm->fatal) goto fatal;
            R[in->a] = lw_bool(found);
            break;
        }
        case LW_OP_SETPATH:
            if (path_set(vm, &P->paths[in->b], R[in->a]) != 0 || memcheck(vm) != 0) goto fail;
            break;
        case LW_OP_DELPATH:
            if (path_del(vm, &P->paths[in->b], &R[in->a]) != 0 || memcheck(vm) != 0) goto fail;
            if (R[in->a].t == LW_T_NULL) R[in->a].u.i = pc; /* as CALL's */
            break;
        case LW_OP_GETK: {
            const struct lw_value *o = &R[in->b];
            bool found;
            if (o->t != LW_T_OBJ && o->t != LW_T_NULL) {
                lw_vm_error(vm, "cannot read member '%.*s' of %s", (int)K[in->c].len, K[in->c].u.p,
                            lw_type_name(o->t));
                goto fail;
            }
            R[in->a] = member(vm, o, (struct lw_str){ K[in->c].u.p, K[in->c].len }, &found);
            if (vm->fatal) goto fatal;
            lw_value_share(&R[in->a]);
            break;
        }
        case LW_OP_INDEX:
            if (do_index(vm, &R[in->b], &R[in->c], &R[in->a]) != 0) goto fail;
            if (vm->fatal) goto fatal;
            lw_value_share(&R[in->a]);
            break;
        case LW_OP_ADD: {
            struct lw_value *x = &R[in->b], *y = &R[in->c];
            int64_t r;
            if (x->t == LW_T_INT && y->t == LW_T_INT && !__builtin_add_overflow(x->u.i, y->u.i, &r))
                R[in->a] = lw_int(r);
            else if (arith(vm, '+', x, y, &R[in->a]) != 0)
                goto fail;
            break;
        }
        case LW_OP_SUB:
            if (arith(vm, '-', &R[in->b], &R[in->c], &R[in->a]) != 0) goto fail;
            break;
        case LW_OP_MUL:
            if (arith(vm, '*', &R[in->b], &R[in->c], &R[in->a]) != 0) goto fail;
            break;
        case LW_OP_DIV:
            if (arith(vm, '/', &R[in->b], &R[in->c], &R[in->a]) != 0) goto fail;
            break;
        case LW_OP_IDIV: { /* int // int inline, as lw_value_arith computes it */
            const struct lw_value *x = &R[in->b], *y = &R[in->c];
            if (x->t == LW_T_INT && y->t == LW_T_INT && y->u.i > 0) {
                int64_t q = x->u.i / y->u.i;
                R[in->a] = lw_int(q - (x->u.i % y->u.i != 0 && x->u.i < 0));
            } else if (arith(vm, LW_ARITH_FLOORDIV, x, y, &R[in->a]) != 0) {
                goto fail;
            }
            break;
        }
        case LW_OP_MOD: {
            const struct lw_value *x = &R[in->b], *y = &R[in->c];
            if (x->t == LW_T_INT && y->t == LW_T_INT && y->u.i > 0) {
                R[in->a] = lw_int(x->u.i % y->u.i);
            } else if (arith(vm, '%', x, y, &R[in->a]) != 0) {
                goto fail;
            }
            break;
        }
        case LW_OP_NEG: {
            struct lw_value *x = &R[in->b];
            if (x->t == LW_T_INT && x->u.i != INT64_MIN) {
                R[in->a] = lw_int(-x->u.i);
            } else if (x->t == LW_T_FLOAT) {
                R[in->a] = lw_float(-x->u.f);
            } else {
                if (x->t == LW_T_INT)
                    lw_vm_error(vm, "integer overflow in -(%" PRId64 ")", x->u.i);
                else
                    lw_vm_error(vm, "cannot negate %s", lw_type_name(x->t));
                goto fail;
            }
            break;
        }
        case LW_OP_NOT:
            R[in->a] = lw_bool(!lw_value_truthy(&R[in->b]));
            break;
        case LW_OP_TRUTH:
            R[in->a] = lw_bool(lw_value_truthy(&R[in->b]));
            break;
        case LW_OP_EQ:
        case LW_OP_NE:
        case LW_OP_LT:
        case LW_OP_LE:
        case LW_OP_GT:
        case LW_OP_GE:
            switch (compare(vm, (enum lw_op)in->op, &R[in->b], &R[in->c], &R[in->a])) {
            case 0:
                break;
            case -1:
                goto fail;
            default:
                goto fatal;
            }
            break;
        case LW_OP_JMP:
            pc += in->c;
            break;
        case LW_OP_JMPF:
            if (!lw_value_truthy(&R[in->a])) pc += in->c;
            break;
        case LW_OP_JMPT:
            if (lw_value_truthy(&R[in->a])) pc += in->c;
            break;
        case LW_OP_JMPNN:
            if (R[in->a].t != LW_T_NULL) pc += in->c;
            break;
        case LW_OP_TRY:
            vm->hdepth[vm->nhandlers] = vm->depth;
            vm->handlers[vm->nhandlers++] = (int32_t)pc + in->c;
            break;
        case LW_OP_ENDTRY:
            vm->nhandlers--;
            break;
        case LW_OP_CALL:
            if (vm->explain != NULL) lw_explain_call(vm, pc - 1, in->b, &R[in->a], in->c);
            if (call(vm, in->b, &R[in->a], in->c) != 0) goto fail;
            if (R[in->a].t == LW_T_NULL) R[in->a].u.i = pc; /* its origin, for emit */
            break;
        case LW_OP_MATCH:
            if (vm->explain != NULL) lw_explain_match(vm, pc - 1, &P->sites[in->c], &R[in->b]);
            if (match(vm, &P->sites[in->c], &R[in->b], &R[in->a]) != 0) goto fail;
            break;
        case LW_OP_CONCAT:
            if (concat(vm, &R[in->b], in->c, &R[in->a]) != 0) goto fail;
            break;
        case LW_OP_NEWARR:
            R[in->a] = lw_arr_new(vm->arena, in->b);
            break;
        case LW_OP_APPEND:
            if (append(vm, &R[in->a], R[in->b]) != 0 || memcheck(vm) != 0) goto fail;
            break;
        case LW_OP_PUSH:
            if (push(vm, &R[in->a], R[in->b]) != 0 || memcheck(vm) != 0) goto fail;
            break;
        case LW_OP_NEWOBJ: {
            const struct lw_shape *sh = &P->shapes[in->b];
            struct lw_obj *o = lw_arena_alloc(vm->arena, sizeof *o);
            /* The keys stay the program's: growing the object copies them (lw_obj_set). */
            *o = (struct lw_obj){ .cap = sh->n,
                                  .k = sh->keys,
                                  .shape = sh,
                                  .v = lw_arena_alloc(vm->arena, (sh->n + 1) * sizeof *o->v) };
            R[in->a] = (struct lw_value){ .t = LW_T_OBJ, .u.o = o };
            break;
        }
        case LW_OP_ADDV: {
            struct lw_obj *o = R[in->a].u.o;
            o->v[o->n++] = R[in->b];
            lw_value_share(&R[in->b]);
            break;
        }
        case LW_OP_ITER:
            if (iter_start(vm, &I[in->a], &R[in->b]) != 0) goto fail;
            break;
        case LW_OP_NEXT:
            if (lw_iter_next(&I[in->b].it, &R[in->a], &R[in->a + 1], vm->arena) != 1)
                pc += in->c;
            else
                lw_value_share(&R[in->a + 1]);
            break;
        case LW_OP_EMIT:
        case LW_OP_PRINT:
            if (R[in->a].t == LW_T_NULL && in->op == LW_OP_EMIT) {
                if (in->c > 0) { /* emit f(...) */
                    emit_null(vm, &K[in->c - 1]);
                    goto fatal;
                }
                if (R[in->a].u.i > 0) { /* emit x, x a null some call returned */
                    emit_null_from(vm, &R[in->a]);
                    goto fatal;
                }
            }
            if (vm->explain != NULL) lw_explain_emit(vm, pc - 1, &R[in->a], in->op == LW_OP_PRINT);
            if (vm->out(vm->out_ud, vm, &R[in->a], NULL, in->op == LW_OP_PRINT) != 0) goto fatal;
            break;
        case LW_OP_EMITTO:
            if (R[in->a].t == LW_T_NULL) {
                if (in->c > 0)
                    emit_null(vm, &K[in->c - 1]);
                else if (R[in->a].u.i > 0)
                    emit_null_from(vm, &R[in->a]);
                if (in->c > 0 || R[in->a].u.i > 0) goto fatal;
            }
            if (vm->explain != NULL) lw_explain_emit(vm, pc - 1, &R[in->a], false);
            if (vm->out(vm->out_ud, vm, &R[in->a], &R[in->a + 1], false) != 0) goto fatal;
            break;
        case LW_OP_WINDOW:
            if (lw_vm_window(vm, in->b, &R[in->a]) != 0) goto fail;
            break;
        case LW_OP_DROP:
            VM_RETURN(LW_VM_DROP);
        case LW_OP_REJECT: {
            vm->err_pc = pc - 1;
            if (R[in->a].t == LW_T_STR) { /* the usual reason: no buffer needed */
                snprintf(vm->err, sizeof vm->err, "%.*s", (int)R[in->a].len, R[in->a].u.p);
                VM_RETURN(LW_VM_REJECT);
            }
            vm->scratch.len = 0; /* only what fits in vm->err is kept: write no more */
            if (lw_value_write_text_max(&vm->scratch, &R[in->a], vm->arena, sizeof vm->err) == -1) {
                lw_vm_error(vm, "cannot write the reject reason: nested deeper than %d levels",
                            LW_JSON_MAX_DEPTH);
                goto fatal;
            }
            snprintf(vm->err, sizeof vm->err, "%.*s", (int)vm->scratch.len,
                     vm->scratch.p ? vm->scratch.p : "");
            VM_RETURN(LW_VM_REJECT);
        }
        case LW_OP_FCALL:
            if (enter(vm, in, &pc) != 0) goto fatal;
            R = vm->regs + vm->rbase;
            I = vm->iters + vm->ibase;
            break;
        case LW_OP_RET:
            R[0] = R[in->a];
            if (R[0].t == LW_T_NULL && R[0].u.i == 0) /* its origin: this call, for emit */
                R[0].u.i = vm->frames[vm->depth - 1].ret_pc;
            leave(vm, vm->depth - 1, &pc);
            R = vm->regs + vm->rbase;
            I = vm->iters + vm->ibase;
            break;
        case LW_OP_HALT:
            VM_RETURN(LW_VM_OK);
        case LW_OP_COV: /* a step like any other: giving it back slowed every instruction */
            vm->cov[in->b]++;
            break;
        }
        continue;
    fail:
        if (vm->nhandlers > 0 && !vm->fatal) { /* inside the left side of ??: take the default */
            uint32_t h = --vm->nhandlers;
            if (vm->hdepth[h] != vm->depth) { /* raised in a function called from there */
                uint32_t ignored;
                leave(vm, vm->hdepth[h], &ignored);
                R = vm->regs + vm->rbase;
                I = vm->iters + vm->ibase;
            }
            pc = (uint32_t)vm->handlers[h];
            continue;
        }
    fatal:
        vm->err_pc = pc - 1;
        if (vm->depth > 0) fn_error(vm, pc - 1);
        VM_RETURN(LW_VM_ERROR);
    }
out:
    vm->steps_left = steps;
    return res;
}
