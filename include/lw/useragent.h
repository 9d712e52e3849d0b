/* parse_user_agent's rules: ua-parser's regexes (uap-core's regexes.yaml, read by whoever
 * loads them: logwash(1) with libfyaml, src/app/uadata.c), compiled once into a set that
 * templates share read-only, and the per-VM cache of the last user agents parsed. The
 * matching follows ua-parser's Python reference (python3-ua-parser 0.16): in each section the
 * first rule whose result has a family wins, replacements substitute $1..$9. */
#ifndef LW_USERAGENT_H
#define LW_USERAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lw_ua_section { LW_UA_AGENT, LW_UA_OS, LW_UA_DEVICE, LW_UA_NSECTIONS };

/* The replacements each section's rule may have, in order:
 * agent: family, v1, v2, v3; os: os, v1, v2, v3, v4; device: device, brand, model. */
#define LW_UA_MAXREPL 5

struct lw_uarules;

/* lw_uarules_new: an empty set (refcount 1), NULL when out of memory. */
struct lw_uarules *lw_uarules_new(void);

/* lw_uarules_add: compile regex (len bytes; case ignored when icase) as the next rule of
 * section sec, with replacements repl[i] (C strings or NULL; an empty one counts as absent,
 * as in ua-parser). 0, or -1 with err filled (a regex pcre2 refuses, out of memory). */
int lw_uarules_add(struct lw_uarules *r, enum lw_ua_section sec, const char *regex, size_t len,
                   bool icase, const char *const repl[LW_UA_MAXREPL], char *err, size_t errsize);

/* lw_uarules_count: the rules of section sec. lw_uarules_max_groups: the most capture groups
 * of any rule, plus one (the VM sizes its match data with it). */
size_t lw_uarules_count(const struct lw_uarules *r, enum lw_ua_section sec);
uint32_t lw_uarules_max_groups(const struct lw_uarules *r);

/* lw_uarules_ref/unref: another hold on r; drop one (the last frees r; NULL: nothing). Safe
 * from any thread. */
void lw_uarules_ref(struct lw_uarules *r);
void lw_uarules_unref(struct lw_uarules *r);

/* The per-VM cache of parse_user_agent's last results (freed by lw_uacache_free). */
struct lw_uacache;
void lw_uacache_free(struct lw_uacache *c);

#endif
