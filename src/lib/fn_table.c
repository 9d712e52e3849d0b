/* lookup() and lookup_ip(): a record's key or address looked up in one of the VM's tables
 * (table.h). The row returned is the table's own value, marked shared, so the record copies it
 * only if it writes to it. The name is a string literal (builtins.def letter T), checked at
 * compile time when the tables are declared (types.c), else here. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "builtins_int.h"
#include "lw/table.h"

/* table: the table named by argument a of fn (kind ip or not), or NULL after the error. */
static const struct lw_table *
table(struct lw_vm *vm, const char *fn, const struct lw_value *a, bool ip)
{
    const struct lw_table *t = lw_tableset_find(vm->tables, a->u.p, a->len);
    if (t == NULL) {
        size_t n = lw_tableset_count(vm->tables), bd = 99;
        const char *best = NULL;
        for (size_t i = 0; i < n; i++) {
            const char *nm = lw_tableset_name(vm->tables, i);
            size_t d = lw_str_distance((struct lw_str){ a->u.p, a->len }, lw_str_c(nm));
            if (d < bd) {
                bd = d;
                best = nm;
            }
        }
        if (best != NULL && bd <= 2 && 2 * bd <= a->len) {
            lw_vm_error(vm, "%s(): no table named '%.*s' (did you mean '%s'?)", fn,
                        (int)(a->len > 64 ? 64 : a->len), a->u.p, best);
        } else {
            lw_vm_error(vm, "%s(): no table named '%.*s' (%zu table%s loaded)", fn,
                        (int)(a->len > 64 ? 64 : a->len), a->u.p, n, n == 1 ? "" : "s");
        }
        return NULL;
    }
    if (lw_table_is_ip(t) != ip) {
        lw_vm_error(vm, "%s(): '%.*s' is a %s table: use %s()", fn, (int)a->len, a->u.p,
                    ip ? "key" : "range", ip ? "lookup" : "lookup_ip");
        return NULL;
    }
    return t;
}

int
fn_lookup(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    (void)n;
    const struct lw_table *t = table(vm, "lookup", &a[0], false);
    if (t == NULL) return -1;
    char buf[24];
    const char *k;
    size_t len;
    if (a[1].t == LW_T_STR) {
        k = a[1].u.p;
        len = a[1].len;
    } else if (a[1].t == LW_T_INT) {
        len = (size_t)snprintf(buf, sizeof buf, "%" PRId64, a[1].u.i);
        k = buf;
    } else if (a[1].t == LW_T_NULL) {
        *r = LW_NULL;
        return 0;
    } else {
        return lw_vm_error(vm, "lookup(): the key must be a string or an int, found %s",
                           lw_type_name(a[1].t));
    }
    const struct lw_value *row = lw_table_get(t, k, len);
    *r = row ? *row : LW_NULL;
    return 0;
}

int
fn_lookup_ip(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    (void)n;
    const struct lw_table *t = table(vm, "lookup_ip", &a[0], true);
    if (t == NULL) return -1;
    if (a[1].t == LW_T_NULL) {
        *r = LW_NULL;
        return 0;
    }
    if (a[1].t != LW_T_STR) {
        return lw_vm_error(vm, "lookup_ip(): the address must be a string, found %s",
                           lw_type_name(a[1].t));
    }
    struct lw_ip ip;
    bool v4;
    if (lw_ip_parse(a[1].u.p, a[1].len, &ip, &v4) != 0) {
        return lw_vm_error(vm, "lookup_ip(): \"%.*s\"%s is not an IPv4 or IPv6 address",
                           (int)(a[1].len > 64 ? 64 : a[1].len), a[1].u.p,
                           a[1].len > 64 ? "..." : "");
    }
    const struct lw_value *row = lw_table_get_ip(t, ip);
    *r = row ? *row : LW_NULL;
    return 0;
}
