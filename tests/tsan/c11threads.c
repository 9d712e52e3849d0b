/* C11 threads over POSIX threads, linked into the ThreadSanitizer build of logwash only
 * (build-tsan/logwash, `make tsan`): test code, never part of the program.
 *
 * Why: Debian 12's librdkafka1 starts its threads with C11 thrd_create and locks with mtx_* and
 * cnd_*. In glibc 2.34 and later these call glibc's internal pthread functions directly, not
 * through the PLT, so ThreadSanitizer's pthread_create, pthread_mutex_* and pthread_cond_*
 * interceptors never see them; neither gcc 12's libtsan nor clang 14's runtime intercepts the
 * C11 functions themselves. A thread started that way has no ThreadSanitizer state: its first
 * malloc (librdkafka's thread-local storage, through __tls_get_addr) crashed inside the
 * sanitizer's allocator (SIGSEGV in SizeClassAllocator64LocalCache::Allocate, cache=0x8), so
 * no Kafka run could be checked. And its locks, unseen, would leave every hand-over through
 * librdkafka's queues unordered for ThreadSanitizer (false reports).
 *
 * The executable exports these definitions (ld puts a symbol in .dynsym when a shared library
 * linked, here libc.so.6, defines it too; tests/tsan/kafka.sh checks thrd_create), and
 * the global scope comes first when the dynamic linker binds the symbols of librdkafka.so.1
 * (loaded later with dlopen, RTLD_LOCAL): its thrd_create@GLIBC_2.34 and the others bind here
 * (an unversioned definition satisfies a versioned reference), and these call the pthread
 * functions that ThreadSanitizer intercepts. (rdk.c must not add RTLD_DEEPBIND: librdkafka would
 * then bind to libc's first. Neither ignore_noninstrumented_modules, report_thread_leaks=0 nor
 * ASLR off avoids the crash: the thread is unknown before anything is reported.) Each does what
 * glibc's own does (nptl/thrd_*.c, mtx_*.c, cnd_*.c, call_once.c), errors mapped as glibc's
 * thrd_err.h maps them. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread_cond_t");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is a pthread_t");

static int
thrd_err(int e)
{
    switch (e) {
    case 0:
        return thrd_success;
    case ENOMEM:
        return thrd_nomem;
    case ETIMEDOUT:
        return thrd_timedout;
    case EBUSY:
        return thrd_busy;
    default:
        return thrd_error;
    }
}

struct start {
    thrd_start_t func;
    void *arg;
};

/* the thread's int result carried as a pointer, as glibc's start_thread does for C11 threads */
static void *
trampoline(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    return (void *)(intptr_t)s.func(s.arg);
}

int
thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    struct start *s = malloc(sizeof *s);
    if (s == NULL) return thrd_nomem;
    s->func = func;
    s->arg = arg;
    int e = pthread_create((pthread_t *)thr, NULL, trampoline, s);
    if (e != 0) free(s);
    return thrd_err(e);
}

int
thrd_join(thrd_t thr, int *res)
{
    void *r;
    int e = pthread_join((pthread_t)thr, &r);
    if (e == 0 && res != NULL) *res = (int)(intptr_t)r;
    return thrd_err(e);
}

int
thrd_detach(thrd_t thr)
{
    return thrd_err(pthread_detach((pthread_t)thr));
}

int
mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (type & mtx_recursive) pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    int e = pthread_mutex_init((pthread_mutex_t *)m, &a);
    pthread_mutexattr_destroy(&a);
    return thrd_err(e);
}

int
mtx_lock(mtx_t *m)
{
    return thrd_err(pthread_mutex_lock((pthread_mutex_t *)m));
}

int
mtx_trylock(mtx_t *m)
{
    return thrd_err(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int
mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict t)
{
    return thrd_err(pthread_mutex_timedlock((pthread_mutex_t *)m, t));
}

int
mtx_unlock(mtx_t *m)
{
    return thrd_err(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void
mtx_destroy(mtx_t *m)
{
    pthread_mutex_destroy((pthread_mutex_t *)m);
}

int
cnd_init(cnd_t *c)
{
    return thrd_err(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int
cnd_signal(cnd_t *c)
{
    return thrd_err(pthread_cond_signal((pthread_cond_t *)c));
}

int
cnd_broadcast(cnd_t *c)
{
    return thrd_err(pthread_cond_broadcast((pthread_cond_t *)c));
}

int
cnd_wait(cnd_t *c, mtx_t *m)
{
    return thrd_err(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int
cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t)
{
    return thrd_err(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, t));
}

void
cnd_destroy(cnd_t *c)
{
    pthread_cond_destroy((pthread_cond_t *)c);
}

void
call_once(once_flag *flag, void (*func)(void))
{
    _Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag is a pthread_once_t");
    pthread_once((pthread_once_t *)flag, func);
}
