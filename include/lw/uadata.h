/* parse_user_agent's rules for logwash(1): ua-parser's regexes.yaml (Debian package uap-core)
 * read with libfyaml and handed to the library as a struct logwash_ua_rules (logwash.h), only
 * when a template calls parse_user_agent (logwash_compile_options.ua_rules). */
#ifndef LW_UADATA_H
#define LW_UADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "logwash.h"

#define LW_UADATA_DEFAULT "/usr/share/uap-core/regexes.yaml"

/* One per program run: the rules once read (shared by every template compiled), or the
 * reason they could not be. Zero-initialized. */
struct lw_uadata {
    struct logwash_ua_rules *rules;
    bool tried;
    char err[800];
};

/* lw_uadata_load: logwash_compile_options.ua_rules over ud, a struct lw_uadata: the file
 * $LOGWASH_UA_REGEXES, else LW_UADATA_DEFAULT, read at the first call. */
struct logwash_ua_rules *lw_uadata_load(void *ud, char *msg, size_t msgsize);

/* lw_uadata_fini: drop the rules (templates holding them keep them). */
void lw_uadata_fini(struct lw_uadata *d);

#endif
