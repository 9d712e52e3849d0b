/* Template functions that encode and decode text: base64_encode, base64_decode and
 * json_escape. Results live in the record arena, sized up front so nothing is copied twice. */
#include "lw/base64.h"
#include "lw/json.h"
#include "lw/vm.h"

#include "builtins_int.h"

#define A (vm->arena)

int
fn_base64_encode(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    size_t need = lw_base64_len(a[0].len);
    if (need > lw_vm_room(vm)) return lw_vm_too_big(vm, "base64_encode()", need);
    char *o = lw_arena_alloc(A, need + 1);
    *r = lw_strv(o, lw_base64_encode(o, a[0].u.p, a[0].len));
    return 0;
}

/* b64val: the 6 bits of c in the standard or the URL-safe alphabet, or -1. */
static int
b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

static int
bad_char(struct lw_vm *vm, const char *s, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c > 0x20 && c < 0x7f) {
        return lw_vm_error(vm, "base64_decode(): invalid character '%c' at byte %zu", c, i + 1);
    }
    return lw_vm_error(vm, "base64_decode(): invalid byte 0x%02x at byte %zu", c, i + 1);
}

int
fn_base64_decode(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    const char *s = a[0].u.p;
    size_t len = a[0].len, pad = 0;
    while (len > 0 && pad < 2 && s[len - 1] == '=') {
        len--;
        pad++;
    }
    if (pad > 0 && (len + pad) % 4 != 0) {
        return lw_vm_error(vm,
                           "base64_decode(): padding '=' at byte %zu does not end a group "
                           "of 4 characters",
                           len + 1);
    }
    if (len % 4 == 1) {
        return lw_vm_error(vm,
                           "base64_decode(): %zu characters cannot be base64 (a group of 4 "
                           "has one left over)",
                           len);
    }
    char *o = lw_arena_alloc(A, len / 4 * 3 + 3);
    size_t k = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) return bad_char(vm, s, i);
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            o[k++] = (char)(acc >> 16);
            o[k++] = (char)(acc >> 8);
            o[k++] = (char)acc;
            acc = 0;
        }
    }
    if (len % 4 == 2) { /* unused low bits of the last character are ignored, as in RFC 4648 */
        o[k++] = (char)(acc >> 4);
    } else if (len % 4 == 3) {
        o[k++] = (char)(acc >> 10);
        o[k++] = (char)(acc >> 2);
    }
    *r = lw_strv(o, k);
    return 0;
}

int
fn_json_escape(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    /* Built in the VM's reused scratch buffer (free while a function runs: concat() fills it
     * only from values already computed), then copied once: no malloc per record. */
    struct lw_buf *b = &vm->scratch;
    size_t room = lw_vm_room(vm);
    if (a[0].len > room) return lw_vm_too_big(vm, "json_escape()", 0);
    b->len = 0;
    lw_json_write_string(b, a[0].u.p, a[0].len); /* at most 6 bytes a byte: bounded */
    if (b->len - 2 > room) return lw_vm_too_big(vm, "json_escape()", b->len - 2);
    char *p = lw_arena_dup(A, b->p + 1, b->len - 2);
    *r = lw_strv(p, b->len - 2);
    return 0;
}
