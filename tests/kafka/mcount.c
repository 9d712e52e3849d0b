/* mcount.so: an LD_PRELOAD library that counts the malloc, calloc and realloc calls made
 * directly from the main executable's code (logwash's own code: allocations by librdkafka,
 * jansson or pcre2 are not counted) and prints "mcount: N" on stderr at exit. The Kafka tests
 * use it to show that the number does not grow with the number of messages. Test code only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

static uintptr_t lo, hi; /* the executable's code */
static atomic_long count;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
/* dlsym itself may allocate before the real functions are known: served from here */
static _Alignas(16) char early[65536];
static size_t early_used;

static int
find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (info->dlpi_name[0] != '\0') return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            lo = info->dlpi_addr + ph->p_vaddr;
            hi = lo + ph->p_memsz;
        }
    }
    return 1;
}

__attribute__((constructor)) static void
start(void)
{
    dl_iterate_phdr(find_exe, NULL);
}

__attribute__((destructor)) static void
report(void)
{
    fprintf(stderr, "mcount: %ld\n", (long)count);
}

static void *
early_alloc(size_t n)
{
    void *p = early + early_used;
    early_used += (n + 15) & ~(size_t)15;
    return early_used <= sizeof early ? p : NULL;
}

static void
note(void *ra)
{
    if ((uintptr_t)ra >= lo && (uintptr_t)ra < hi) count++;
}

void *
malloc(size_t n)
{
    if (real_malloc == NULL && (real_malloc = dlsym(RTLD_NEXT, "malloc")) == NULL)
        return early_alloc(n);
    note(__builtin_return_address(0));
    return real_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
    if (real_calloc == NULL && (real_calloc = dlsym(RTLD_NEXT, "calloc")) == NULL)
        return early_alloc(a * b); /* the early block is zeroed static memory */
    note(__builtin_return_address(0));
    return real_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
    if (real_realloc == NULL) real_realloc = dlsym(RTLD_NEXT, "realloc");
    note(__builtin_return_address(0));
    return real_realloc(p, n);
}

void
free(void *p)
{
    if ((char *)p >= early && (char *)p < early + sizeof early) return;
    if (real_free == NULL) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}
