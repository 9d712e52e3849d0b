/* Template functions that hash strings: crc32 (zlib), fnv1a (FNV-1a 64, here), xxhash (XXH3
 * 64-bit, libxxhash), md5 and sha256 (libmd) as lowercase hex. The 64-bit hashes are returned as
 * int64 values holding the same 64 bits, so half of them are negative. */
#include <md5.h>
#include <sha2.h>
#include <xxhash.h>
#include <zlib.h>

#include "lw/vm.h"

#include "builtins_int.h"

#define A (vm->arena)

int
fn_crc32(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    /* a string is at most 4 GiB - 1 bytes (its length is 32-bit), which uInt holds */
    uLong c = crc32(0L, (const Bytef *)a[0].u.p, (uInt)a[0].len);
    *r = lw_int((int64_t)c);
    return 0;
}

int
fn_fnv1a(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    uint64_t h = 14695981039346656037ULL;
    for (uint32_t i = 0; i < a[0].len; i++) {
        h ^= (unsigned char)a[0].u.p[i];
        h *= 1099511628211ULL;
    }
    *r = lw_int((int64_t)h);
    return 0;
}

int
fn_xxhash(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    *r = lw_int((int64_t)XXH3_64bits(a[0].u.p, a[0].len));
    return 0;
}

static struct lw_value
hex(struct lw_vm *vm, const unsigned char *d, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *o = lw_arena_alloc(A, n * 2);
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = digits[d[i] >> 4];
        o[2 * i + 1] = digits[d[i] & 15];
    }
    return lw_strv(o, n * 2);
}

int
fn_md5(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    MD5_CTX c;
    unsigned char d[MD5_DIGEST_LENGTH];
    MD5Init(&c);
    MD5Update(&c, (const uint8_t *)a[0].u.p, a[0].len);
    MD5Final(d, &c);
    *r = hex(vm, d, sizeof d);
    return 0;
}

int
fn_sha256(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)
{
    SHA2_CTX c;
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256Init(&c);
    SHA256Update(&c, (const uint8_t *)a[0].u.p, a[0].len);
    SHA256Final(d, &c);
    *r = hex(vm, d, sizeof d);
    return 0;
}
