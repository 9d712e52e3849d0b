/* liblogwash's user-agent rules (logwash.h "User agents"): a struct logwash_ua_rules is a
 * handle on an lw_uarules (useragent.h); the compiler reaches the caller's loader through
 * lw_api_ua_load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "lw/useragent.h"

struct logwash_ua_rules {
    struct lw_uarules *r;
};

struct logwash_ua_rules *
logwash_ua_rules_new(void)
{
    struct logwash_ua_rules *h = malloc(sizeof *h);
    if (h == NULL) return NULL;
    h->r = lw_uarules_new();
    if (h->r == NULL) {
        free(h);
        return NULL;
    }
    return h;
}

int
logwash_ua_rules_add(struct logwash_ua_rules *r, enum logwash_ua_section s, const char *regex,
                     bool ignore_case, const char *const repl[5], struct logwash_error *err)
{
    static const enum lw_ua_section sec[] = { LW_UA_AGENT, LW_UA_OS, LW_UA_DEVICE };
    char msg[sizeof err->message];
    if ((unsigned)s > LOGWASH_UA_DEVICE || regex == NULL) {
        snprintf(msg, sizeof msg, "%s", regex == NULL ? "no regex" : "unknown section");
    } else if (lw_uarules_add(r->r, sec[s], regex, strlen(regex), ignore_case, repl, msg,
                              sizeof msg) == 0) {
        return 0;
    }
    if (err != NULL) {
        err->line = err->col = 0;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return -1;
}

size_t
logwash_ua_rules_count(const struct logwash_ua_rules *r, enum logwash_ua_section s)
{
    static const enum lw_ua_section sec[] = { LW_UA_AGENT, LW_UA_OS, LW_UA_DEVICE };
    return (unsigned)s <= LOGWASH_UA_DEVICE ? lw_uarules_count(r->r, sec[s]) : 0;
}

void
logwash_ua_rules_free(struct logwash_ua_rules *r)
{
    if (r == NULL) return;
    lw_uarules_unref(r->r);
    free(r);
}

struct lw_uarules *
lw_api_ua_load(void *ud, char *msg, size_t msgsize)
{
    const struct logwash_compile_options *o = ud;
    struct logwash_ua_rules *h = o->ua_rules(o->ua_rules_ud, msg, msgsize);
    return h != NULL ? h->r : NULL;
}
