/* Windows exact under Kafka input (docs/design-state.md 2, 3a): the record loop's side. Each
 * assigned partition is a source of the state with its own event time; every record settled is
 * held once more in the source until the windows it fed have closed and their results were
 * delivered, and the holds are released for all partitions at once, at a closing watermark
 * whose results are delivered, so the commit of each partition stops at its first record still
 * needed and a replay rebuilds exactly the windows not given. A revocation of every partition
 * (the eager protocol) drops the state: the next owner of each partition rebuilds from its
 * commit. A partition with no record for the idle time stops holding windows back. */
#ifndef LW_KSTATE_H
#define LW_KSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "logwash.h"
#include "lw/diag.h"
#include "lw/source.h"

struct lw_kstate;

/* The most window statements a template may have with Kafka input: each adds two numbers to
 * every partition's commit metadata (LW_SOURCE_META_MAX bytes, some left for other fields). */
#define LW_KSTATE_MAX_STATEMENTS 8

/* lw_kstate_new: for the state *state (of template t, max_state bytes, results as out) read
 * from src; the state is made again in *state when every partition is revoked. */
struct lw_kstate *lw_kstate_new(struct lw_source *src, struct logwash_state **state,
                                const struct logwash_template *t, size_t max_state,
                                enum logwash_output_format out, int64_t idle_ms);
void lw_kstate_free(struct lw_kstate *ks);
/* lw_kstate_parted: the source's parted callback (source.h). */
void lw_kstate_parted(struct lw_kstate *ks, const char *topic, int32_t partition, bool on);
/* lw_kstate_from: before record pos's state operations are applied: 1 and the state told the
 * record's partition; 0: a record of a partition revoked since (not applied); -1, d set: the
 * run must stop (a partition read again without a revocation, a rebalance that kept some). A
 * state made again is in *state on return. */
int lw_kstate_from(struct lw_kstate *ks, const struct lw_recpos *pos, struct lw_diag *d);
/* lw_kstate_hold: record pos (settled next) held; wend: logwash_state_last_end after its
 * operations (INT64_MIN: it fed no window, or nothing was applied; else the windows it fed are
 * read per statement, logwash_state_last_end_of). */
void lw_kstate_hold(struct lw_kstate *ks, const struct lw_recpos *pos, int64_t wend);
/* lw_kstate_release: the holds no longer needed released (after deliveries, at quiet moments). */
void lw_kstate_release(struct lw_kstate *ks);
/* lw_kstate_final: the run is ending: the next releases go as far as they can (seen()'s
 * horizon is asked each time, not at most every 64 records). */
void lw_kstate_final(struct lw_kstate *ks);
/* What seen() holds for its commits under Kafka input (logwash(1) KAFKA): records delivered
 * but held until the commit may pass them, and spans of keys gone, bounded together by
 * --max-state/8; past it the partitions holding most commit at their delivered point anyway
 * (inexact: counted). Records in flight are the producer's, bounded as without state. */
struct lw_kseen {
    uint64_t inexact;     /* commits made past seen()'s horizon at the bound */
    uint64_t held, spans; /* now, over the partitions (held: delivered, not committed) */
    uint64_t bytes, peak; /* their bytes now (LW_KSEEN_HELD and 16 each), the most kept after
                           * a release (before it: plus the deliveries reported since) */
    uint64_t bound;       /* the bound on bytes */
};
/* a held record's bytes: its entry here (struct kent 32, its times and index 24 with one
 * statement; the source's ring keeps only records in flight: docs/design-state.md 3e) */
#define LW_KSEEN_HELD 56
/* lw_kstate_seen: the figures of seen()'s commits, or of count windows' (the same horizon and
 * bound, docs/design-state.md 3d); all 0 with time windows alone; with seen() and time windows,
 * what seen() holds back beyond them (3c) */
void lw_kstate_seen(const struct lw_kstate *ks, struct lw_kseen *c);
/* What the windows hold for their commits under Kafka input (docs/design-state.md 3e): an entry
 * per record settled, or per run of records none of which feeds a later window than the first
 * (windows alone, no session statement), until the windows they fed are given; bounded by
 * --max-state/8: past it the partitions holding most commit at their delivered point (never
 * past a record in flight), so a replay after a crash rebuilds the windows open then in part:
 * counted. */
struct lw_kwin {
    uint64_t inexact;     /* commits made past the windows' exact point at the bound */
    uint64_t held;        /* entries held now, over the partitions */
    uint64_t bytes, peak; /* their bytes now (lw_kstate_win_held each), the most after a release */
    uint64_t bound;       /* the bound on bytes */
};
/* lw_kstate_win: the figures of the windows' holds (all 0 without windows; with seen(), the
 * records seen() keeps back beyond the windows are seen()'s, lw_kstate_seen) */
void lw_kstate_win(const struct lw_kstate *ks, struct lw_kwin *c);
/* lw_kstate_stop: why the run must stop (a rebalance kept some partitions), or NULL. */
const char *lw_kstate_stop(const struct lw_kstate *ks);
/* lw_kstate_idle: partitions with no record for the idle time stop holding windows back. */
void lw_kstate_idle(struct lw_kstate *ks);

#endif
