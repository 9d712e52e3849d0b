/* parse_user_agent's rules read from ua-parser's regexes.yaml (uadata.h). The library reads
 * no YAML and links only pcre2 for it: the program, which has libfyaml for its job file
 * already, walks the three sections and adds each rule through logwash.h. */
#include <errno.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/buf.h"
#include "lw/jsonstr.h"
#include "lw/str.h"
#include "lw/uadata.h"

static const char *const section_names[] = { "user_agent_parsers", "os_parsers", "device_parsers" };
static const char *const repl_keys[][5] = {
    { "family_replacement", "v1_replacement", "v2_replacement", NULL, NULL },
    { "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement",
      "os_v4_replacement" },
    { "device_replacement", "brand_replacement", "model_replacement", NULL, NULL },
};

/* scalar: the value of key in mapping m as a C string owned by the document, or NULL (absent,
 * or not a scalar). */
static const char *
scalar(struct fy_node *m, const char *key)
{
    struct fy_node *v = fy_node_mapping_lookup_by_string(m, key, FY_NT);
    if (v == NULL || !fy_node_is_scalar(v)) return NULL;
    return fy_node_get_scalar0(v);
}

static int
read_rules(struct fy_document *doc, struct logwash_ua_rules *r, const char *path, char *err,
           size_t errsize)
{
    struct fy_node *root = fy_document_root(doc);
    if (root == NULL || !fy_node_is_mapping(root)) {
        snprintf(err, errsize, "%s: not ua-parser's regexes (no user_agent_parsers)", path);
        return -1;
    }
    for (int s = 0; s < 3; s++) {
        struct fy_node *seq = fy_node_mapping_lookup_by_string(root, section_names[s], FY_NT);
        if (seq == NULL || !fy_node_is_sequence(seq)) {
            snprintf(err, errsize, "%s: not ua-parser's regexes (no %s list)", path,
                     section_names[s]);
            return -1;
        }
        void *it = NULL;
        struct fy_node *m;
        int i = 0;
        while ((m = fy_node_sequence_iterate(seq, &it)) != NULL) {
            const char *regex = fy_node_is_mapping(m) ? scalar(m, "regex") : NULL;
            if (regex == NULL) {
                snprintf(err, errsize, "%s: %s entry %d has no regex", path, section_names[s],
                         i + 1);
                return -1;
            }
            struct fy_node *rn = fy_node_mapping_lookup_by_string(m, "regex", FY_NT);
            struct fy_token *tok = fy_node_get_scalar_token(rn);
            const struct fy_mark *mp = tok ? fy_token_start_mark(tok) : NULL;
            struct fy_mark mk = mp ? *mp : (struct fy_mark){ 0 };
            const char *repl[5] = { NULL };
            for (int k = 0; k < 5; k++)
                repl[k] = repl_keys[s][k] ? scalar(m, repl_keys[s][k]) : NULL;
            const char *flag = scalar(m, "regex_flag");
            struct logwash_error e;
            if (logwash_ua_rules_add(r, (enum logwash_ua_section)s, regex,
                                     flag != NULL && strcmp(flag, "i") == 0, repl, &e) != 0) {
                snprintf(err, errsize, "%s:%d:%d: %s entry %d: %.300s", path, mk.line + 1,
                         mk.column + 1, section_names[s], i + 1, e.message);
                return -1;
            }
            i++;
        }
    }
    return 0;
}

/* diag_out: libfyaml's first message about a syntax error, kept instead of printed. */
static void
diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    char *err = user;
    if (err[0] != '\0') return;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    /* "<memory-@ADDRESS>:LINE:COL: error: ..." (the text was read here): from LINE on */
    const char *gt = len > 0 && buf[0] == '<' ? memchr(buf, '>', len) : NULL;
    if (gt != NULL && (size_t)(gt - buf) + 2 <= len && gt[1] == ':') {
        len -= (size_t)(gt - buf) + 2;
        buf = gt + 2;
    }
    snprintf(err, 300, "%.*s", (int)len, buf);
}

static void
load(struct lw_uadata *d)
{
    const char *env = getenv("LOGWASH_UA_REGEXES");
    bool set = env != NULL && env[0] != '\0';
    const char *path = set ? env : LW_UADATA_DEFAULT;
    struct lw_buf text;
    lw_buf_init(&text);
    if (lw_buf_read_file(&text, path) != 0) {
        snprintf(d->err, sizeof d->err, "parse_user_agent() needs ua-parser's rules in %s (%s): %s",
                 path, set ? "LOGWASH_UA_REGEXES" : "Debian package uap-core", strerror(errno));
        lw_buf_fini(&text);
        return;
    }
    char err[700] = "", yerr[300] = "";
    struct fy_document *doc = NULL;
    struct logwash_ua_rules *r = NULL;
    /* libfyaml 0.7.12 may never return from invalid UTF-8 (config.c): checked first */
    if (!lw_utf8_valid((struct lw_str){ text.p ? text.p : "", text.len })) {
        snprintf(err, sizeof err, "%s: not UTF-8 text", path);
    } else {
        struct fy_diag_cfg dc;
        fy_diag_cfg_default(&dc);
        dc.fp = NULL; /* output_fn is used only without a FILE */
        dc.output_fn = diag_out;
        dc.user = yerr;
        dc.colorize = false;
        dc.show_source = false;
        struct fy_diag *diag = fy_diag_create(&dc);
        struct fy_parse_cfg pc = { .flags = FYPCF_QUIET | FYPCF_DEFAULT_PARSE, .diag = diag };
        doc = fy_document_build_from_string(&pc, text.p ? text.p : "", text.len);
        fy_diag_destroy(diag);
        r = logwash_ua_rules_new();
        if (doc == NULL) {
            bool at = yerr[0] >= '1' && yerr[0] <= '9'; /* LINE:COL: error: ... */
            snprintf(err, sizeof err, "%s:%s", path, at ? yerr : " not a YAML document");
        } else if (r == NULL) {
            snprintf(err, sizeof err, "out of memory");
        } else {
            read_rules(doc, r, path, err, sizeof err);
        }
    }
    if (doc != NULL) fy_document_destroy(doc);
    lw_buf_fini(&text);
    if (err[0] != '\0') {
        logwash_ua_rules_free(r);
        snprintf(d->err, sizeof d->err, "parse_user_agent(): cannot use ua-parser's rules: %.700s",
                 err);
        return;
    }
    d->rules = r;
}

struct logwash_ua_rules *
lw_uadata_load(void *ud, char *msg, size_t msgsize)
{
    struct lw_uadata *d = ud;
    if (!d->tried) {
        d->tried = true;
        load(d);
    }
    if (d->rules == NULL) snprintf(msg, msgsize, "%s", d->err);
    return d->rules;
}

void
lw_uadata_fini(struct lw_uadata *d)
{
    logwash_ua_rules_free(d->rules);
    d->rules = NULL;
}
