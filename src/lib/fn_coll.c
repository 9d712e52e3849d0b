/* Template functions over arrays and objects: push, merge, and the collection functions
 * (keys and values stay in builtins.c). A function that builds a container checks its size
 * against lw_vm_room before it allocates and counts its work with lw_vm_charge; members it
 * copies from its arguments are marked shared (lw_value_share), so a later write through
 * either holder copies first. del() is compiled specially (compile.c, DELPATH). */
#include <string.h>

#include "lw/vm.h"

#include "builtins_int.h"

#define A (vm->arena)

/* room_for: n members of a container (objects: keys too) fit under --max-memory. */
static int
room_for(struct lw_vm *vm, const char *fn, uint64_t n, bool obj)
{
    uint64_t each = sizeof(struct lw_value) + (obj ? sizeof(struct lw_str) : 0);
    if (n >= UINT32_MAX || (n + 1) * each > lw_vm_room(vm))
        return lw_vm_too_big(vm, fn, (size_t)((n + 1) * each));
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
        bool added;
        if (lw_vm_charge(vm, dst->u.o->n / 16 + 1) != 0) return -1;
        struct lw_value *slot = lw_obj_slot(A, dst, (struct lw_str){ k.u.p, k.len }, true, &added);
        if (deep && !added && slot->t == LW_T_OBJ && v.t == LW_T_OBJ) {
            if (room_for(vm, "merge()", lw_value_count(slot), true) != 0) return -1;
            *slot = lw_value_copy(slot, A);
            if (merge_into(vm, slot, &v, true, depth + 1) != 0) return -1;
            continue;
        }
        lw_value_share(&v);
        *slot = v;
    }
    return 0;
}

int
fn_merge(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    bool deep = n > 2 && lw_value_truthy(&a[2]);
    if (room_for(vm, "merge()", lw_value_count(&a[0]), true) != 0) return -1;
    *r = lw_value_copy(&a[0], A);
    return merge_into(vm, r, &a[1], deep, 0);
}
