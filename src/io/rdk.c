/* librdkafka loaded at first use (include/lw/rdk.h says why). */
#include "lw/rdk.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

struct lw_rdk lw_rdk;

static int
load(struct lw_diag *d)
{
    static const char *const names[] = {
#define LW_RDK_NAME(n) "rd_kafka_" #n,
        LW_RDK_FUNCS(LW_RDK_NAME)
#undef LW_RDK_NAME
    };
    enum { N = sizeof names / sizeof names[0] };
    if (lw_rdk.new != NULL) return 0;
    void *h = dlopen("librdkafka.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        lw_diag_setf(d, "Kafka needs librdkafka (Debian: librdkafka1): %s", dlerror());
        return -1;
    }
    struct lw_rdk got; /* N function pointers, in the order of names */
    _Static_assert(sizeof got == N * sizeof(void *), "lw_rdk holds one pointer per name");
    for (size_t i = 0; i < N; i++) {
        void *f = dlsym(h, names[i]);
        if (f == NULL) {
            lw_diag_setf(d, "librdkafka.so.1 has no %s (librdkafka too old?)", names[i]);
            dlclose(h);
            return -1;
        }
        /* ISO C has no conversion from void * to a function pointer; POSIX dlsym promises it */
        memcpy((char *)&got + i * sizeof f, &f, sizeof f);
    }
    lw_rdk = got;
    return 0;
}

/* Serialized: with pipelines: each pipeline opens its Kafka stages on a thread of its own, so
 * two can be the first at once (TSan, make tsan-kafka: lw_rdk written by one pipeline's
 * thread while another read lw_rdk.new). The lock also orders lw_rdk's writes before each
 * caller's uses of its pointers. */
int
lw_rdk_load(struct lw_diag *d)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    int rc = load(d);
    pthread_mutex_unlock(&mu);
    return rc;
}

const char *
lw_rdk_version(void)
{
    struct lw_diag d = { 0 };
    return lw_rdk_load(&d) == 0 ? lw_rdk.version_str() : "not installed";
}
