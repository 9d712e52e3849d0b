/* Explaining a record (logwash explain, logwash_runner_set_explain): what each match(),
 * grok() and dissect() the template evaluates made of its subject, how far a non-match got, and
 * the values at each emit or print, as text for people. The VM calls the hooks below only when
 * vm->explain is set; the explanation's own matching never touches the VM's match data. */
#ifndef LW_EXPLAIN_H
#define LW_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "lw/buf.h"
#include "lw/vm.h"

#define LW_EXPLAIN_MAX_SITES   100   /* sites explained per record; the rest are counted */
#define LW_EXPLAIN_MAX_TEXT    65536 /* bytes of explanation per record */
#define LW_EXPLAIN_MAX_CUTS    512   /* prefixes of one grok pattern tried */
#define LW_EXPLAIN_MAX_VALUE   300   /* bytes of one value shown */
#define LW_EXPLAIN_MAX_SUBJECT 1024  /* bytes of a subject a regex non-match is examined in */
#define LW_EXPLAIN_MAX_PROBES                                                                      \
    20000 /* matches of its own per record (each under the VM's                                    \
             per-call limits, at most LW_EXPLAIN_PROBE_LIMIT) */
#define LW_EXPLAIN_PROBE_LIMIT 100000
#define LW_EXPLAIN_MAX_COMPILE (4u << 20) /* bytes of regex compiled for one grok site */

struct lw_explain {
    struct lw_buf text; /* this record's explanation, NUL-terminated */
    void *mctx;         /* pcre2_match_context_8 * with the VM's per-call limits */
    uint32_t nsites;    /* sites explained in this record */
    uint32_t skipped;   /* sites past LW_EXPLAIN_MAX_SITES */
    uint32_t probes;    /* matches made for this record */
    uint32_t misses;    /* sites explained that did not match (or were stopped by a limit) */
    bool cut;           /* the text reached LW_EXPLAIN_MAX_TEXT */
};

/* lw_explain_new: an explainer (heap; NULL when out of memory). lw_explain_free: free it. */
struct lw_explain *lw_explain_new(void);
void lw_explain_free(struct lw_explain *x);

/* lw_explain_reset: start a record's explanation (the previous one is gone). */
void lw_explain_reset(struct lw_explain *x);

/* lw_explain_finish: end the record's explanation (the notes on what was left out); the text is
 * x->text (NUL-terminated). */
void lw_explain_finish(struct lw_explain *x);

/* Hooks of the VM (vm->explain set), before the instruction at pc runs: match() at site with
 * subject s; a call of builtin fn (grok and dissect are explained, others ignored) with its
 * arguments; an emit or print of v. */
void lw_explain_match(struct lw_vm *vm, uint32_t pc, const struct lw_matchsite *site,
                      const struct lw_value *s);
void lw_explain_call(struct lw_vm *vm, uint32_t pc, uint32_t fn, const struct lw_value *args,
                     int argc);
void lw_explain_emit(struct lw_vm *vm, uint32_t pc, const struct lw_value *v, bool print);

#endif
