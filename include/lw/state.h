/* State across records (docs/design-state.md): seen() and window statements. A record's VM
 * does not change shared state: it logs state operations (struct lw_vmstate) in the order the
 * template made them, answering seen() from the runner's own keys (and, for the loop's runner,
 * the shared state read-only). The owner of the shared state (struct lw_state: dedup keys and
 * open windows, one per pipeline) applies each record's log in read order (lw_state_apply),
 * so -j N gives what -j 1 gives; a log whose seen() answers the state contradicts is refused
 * and the record is run again against the state. The file leaves encoding of per-record
 * outputs, routing and dead letters to its callers. */
#ifndef LW_STATE_H
#define LW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/buf.h"
#include "lw/str.h"

/* Aggregates of a window statement (`name = agg(...)`), in the template's order. */
enum lw_agg {
    LW_AGG_COUNT,
    LW_AGG_SUM,
    LW_AGG_MIN,
    LW_AGG_MAX,
    LW_AGG_AVG,
    LW_AGG_FIRST,
    LW_AGG_LAST,
    LW_AGG_COUNT_DISTINCT,
    LW_AGG_PERCENTILE,
    LW_AGG_TOP
};
enum lw_wkind { LW_WIN_TUMBLING, LW_WIN_SLIDING, LW_WIN_COUNT, LW_WIN_SESSION };

struct lw_winagg {
    uint8_t kind;       /* enum lw_agg */
    bool has_arg;       /* count(x) counts non-null x; count() every record */
    struct lw_str name; /* the result member */
    double arg;         /* percentile: the rank asked, 0 to 1; top: k */
};

/* A window statement, compiled (prog->windows). */
struct lw_windef {
    uint8_t kind;     /* enum lw_wkind */
    bool event_time;  /* `at EXPR`; else processing time */
    bool has_key;     /* `key EXPR` */
    int64_t size_ns;  /* > 0 */
    int64_t step_ns;  /* sliding: > 0, size / step <= LW_MAX_SLIDES; tumbling: size */
    int64_t late_ns;  /* allowed lateness, >= 0 (count windows: 0) */
    uint64_t count_n; /* count windows: the records that close one (size_ns: the timeout) */
    struct lw_winagg *aggs;
    uint32_t naggs;
    uint32_t span_off; /* of the statement, for messages */
    struct lw_str to;  /* `to "TOPIC"`: its results' topic (p == NULL: none) */
};

#define LW_MAX_SLIDES 1000
#define LW_MAX_AGGS   64
#define LW_MAX_WINDOW ((int64_t)366 * 86400 * 1000000000) /* the largest size or lateness */
#define LW_KEY_HASHED 4096 /* a key longer than this is kept as its 128-bit hash */

struct lw_vm;
struct lw_value;
struct lw_program;

/* The state side of one runner: the log of the record being run, and the runner's own keys. */
struct lw_vmstate;

/* lw_vmstate_new/free: for a runner of p (p uses state: prog->nwindows or prog->uses_seen). */
struct lw_vmstate *lw_vmstate_new(const struct lw_program *p);
void lw_vmstate_free(struct lw_vmstate *vs);
/* lw_vmstate_begin: a record starts: its log is emptied (and, attached to a state, the keys of
 * the previous record forgotten: the state has them). */
void lw_vmstate_begin(struct lw_vmstate *vs);
/* lw_vmstate_forget: the runner's own keys are forgotten (a worker's new batch). */
void lw_vmstate_forget(struct lw_vmstate *vs);
struct lw_state;
/* lw_vmstate_attach: seen() also reads s (NULL: only the runner's own keys). */
void lw_vmstate_attach(struct lw_vmstate *vs, const struct lw_state *s);
/* lw_vmstate_log: the operations of the last record run, *len bytes, owned by vs. */
const void *lw_vmstate_log(const struct lw_vmstate *vs, size_t *len);

/* lw_vm_window: the VM's WINDOW instruction: window statement w's contribution, from the
 * registers R[0] key, R[1] event time, R[2 + i] aggregate i's argument. Returns 0, or -1
 * after lw_vm_error (an event time that is not a time, a sum of a string, a NaN). */
int lw_vm_window(struct lw_vm *vm, uint32_t w, const struct lw_value *R);

struct lw_state_counts {
    uint64_t keys;         /* dedup keys held */
    uint64_t evicted;      /* dedup keys evicted before their ttl, at the memory bound */
    uint64_t windows;      /* (window, key) results open */
    uint64_t results;      /* results emitted */
    uint64_t closed_early; /* windows closed before their end, at the memory bound */
    uint64_t late;         /* contributions refused as late */
    size_t bytes;          /* memory held */
};

/* lw_state_new: empty state for program p, holding at most max_bytes (past it the oldest
 * dedup keys are evicted and the oldest windows closed early, each counted). */
struct lw_state *lw_state_new(const struct lw_program *p, size_t max_bytes);
void lw_state_free(struct lw_state *s);
/* lw_state_set_text: results in the text encoder's form (text true), else JSON (the default). */
void lw_state_set_text(struct lw_state *s, bool text);
/* lw_state_routes: the results the last lw_state_apply or lw_state_tick appended, in order:
 * each one's place in out, its statement and its message key (the compact JSON of its identity:
 * {"window":N,"window_start":S,"window_end":E,"key":K} or "key_hash":H, N the statement's
 * number from 1), keys[key_off, + key_len), valid until the next apply or tick. The keys are
 * made on the first call after one (a caller that never asks pays only a copy of each key). */
struct lw_state_route {
    size_t off, len; /* the result in out, its '\n' included */
    uint32_t w;
    size_t key_off, key_len;
    /* the state's own: the window and the key as kept, made into key_off/len when asked */
    int64_t start, end;
    size_t raw_off, raw_len;
};
/* lw_state_program: the program s was made for */
const struct lw_program *lw_state_program(const struct lw_state *s);
const struct lw_state_route *lw_state_routes(struct lw_state *s, size_t *n, const char **keys);

/* lw_state_apply: a record's log (len bytes from lw_vmstate_log) applied: 1 when a seen()
 * answer in it is not what the state says (nothing applied: run the record again attached to
 * s), 2 when it is not a log of the VM's for this program (an operation cut short or of a
 * statement it lacks: nothing applied), else 0. Windows closed by it append their results to out
 * (one JSON text and '\n' each), their number added to *nres. now_ns: processing time.
 * Contributions too late for their window are not counted: *late is set with a message (msgcap
 * bytes) naming the first. */
int lw_state_apply(struct lw_state *s, const void *log, size_t len, int64_t now_ns,
                   struct lw_buf *out, size_t *nres, bool *late, char *msg, size_t msgcap);
/* lw_state_wrong: whether lw_state_apply would refuse the log (the answers are wrong, or it
 * is not a log). */
bool lw_state_wrong(const struct lw_state *s, const void *log, size_t len);
/* lw_state_tick: processing time is now_ns (INT64_MAX: the end: every window closes): the
 * windows it closes append their results to out, stopping once out->len reaches limit (0: no
 * limit; call again after writing out: it goes on where it stopped). Returns how many. */
size_t lw_state_tick(struct lw_state *s, int64_t now_ns, struct lw_buf *out, size_t limit);
void lw_state_counts(const struct lw_state *s, struct lw_state_counts *c);
/* lw_state_horizon: the index (0 for the first log lw_state_apply took, counting those it
 * returned 0 for) of the first applied log still needed: by a window not given yet or a seen()
 * key not expired; the number applied when none is. */
uint64_t lw_state_horizon(const struct lw_state *s);
/* lw_state_applied: the logs lw_state_apply took (returned 0 for) so far */
uint64_t lw_state_applied(const struct lw_state *s);
/* lw_state_session_horizon: with a session statement lw_state_horizon (a session's records
 * are known to be given only when it closes: a log below it fed only windows closed), without
 * one UINT64_MAX */
uint64_t lw_state_session_horizon(const struct lw_state *s);
/* lw_state_steps: the steps the state took in its structures of open windows (a heap's moves,
 * a hash chain's links, a window examined to close), for tests that bound the work a hostile
 * order of event times makes: O(log n) per window opened or closed. */
uint64_t lw_state_steps(const struct lw_state *s);
/* lw_state_replay_exact: whether replaying the logs from a horizon (in the same order, on an
 * empty state, each source's time and windows given restored per statement:
 * lw_state_restore_of) gives again exactly the results not given yet, and none of those given:
 * event-time tumbling, sliding, session or count window statements only (any number; count
 * windows: from a point lw_state_seen_below gives), no window closed early
 * (docs/design-state.md 3a; sessions: each record held until the session horizon passes it,
 * lw_state_session_horizon); or seen() alone, from lw_state_seen_horizon (3b); or seen() with
 * time windows, from lw_state_seen_below the windows' point (3c). */
bool lw_state_replay_exact(const struct lw_state *s);
/* lw_state_from: the logs applied from now on come from source src (a small number; a new one
 * holds every window back until it has a time or is idle): each source has its own event
 * time, so lateness is decided per source and windows close at the smallest time of the
 * sources not idle (docs/design-state.md 2). Without sources the state is one source. */
void lw_state_from(struct lw_state *s, uint32_t src);
/* lw_state_source_idle: source src holds windows back (idle false) or not (idle true). */
void lw_state_source_idle(struct lw_state *s, uint32_t src, bool idle);
/* lw_state_last_end: the largest end plus lateness of the windows the last log applied
 * contributed to on time, INT64_MIN for none. */
int64_t lw_state_last_end(const struct lw_state *s);
/* lw_state_closed: every event-time window whose end plus lateness is at or before it has
 * closed (the smallest over the statements; INT64_MIN: none yet). */
int64_t lw_state_closed(const struct lw_state *s);
/* lw_state_source_time: source src's latest event time (the first statement's), INT64_MIN none */
int64_t lw_state_source_time(const struct lw_state *s, uint32_t src);
/* lw_state_restore: a replay from a commit: source src (lw_state_from'd) had time time, and the
 * windows ending (plus lateness) at or before given were given: contributions to them are
 * dropped unless late (logwash_state_restore). */
void lw_state_restore(struct lw_state *s, uint32_t src, int64_t time, int64_t given);
/* Per window statement w (in the template's order), for Kafka's commit metadata with several
 * statements (docs/design-state.md 3a): lw_state_statements: how many; lw_state_last_end_of:
 * the largest end plus lateness of w's windows the last log fed on time (INT64_MIN: none);
 * lw_state_closed_of: every window of w whose end plus lateness is at or before it has closed;
 * lw_state_source_time_of: source src's latest time for w; lw_state_restore_of: as
 * lw_state_restore for statement w alone. */
uint32_t lw_state_statements(const struct lw_state *s);
int64_t lw_state_last_end_of(const struct lw_state *s, uint32_t w);
int64_t lw_state_closed_of(const struct lw_state *s, uint32_t w);
int64_t lw_state_source_time_of(const struct lw_state *s, uint32_t src, uint32_t w);
void lw_state_restore_of(struct lw_state *s, uint32_t src, uint32_t w, int64_t time, int64_t given);
/* lw_state_seen_time: source src's latest seen() time (its keys expire by it), INT64_MIN none */
int64_t lw_state_seen_time(const struct lw_state *s, uint32_t src);
/* lw_state_restore_seen: a replay from a commit: source src's latest seen() time was time. */
void lw_state_restore_seen(struct lw_state *s, uint32_t src, int64_t time);
/* lw_state_seen_horizon: the index of the first applied log of source src that a commit of
 * src must not pass for seen(): a replay of src's logs from the first at or after it (its
 * seen() time restored) rebuilds every key a later log of src finds live. It is the inserter
 * of src's oldest key held, moved back out of the span (inserter, last log that found it
 * live] of any key gone; it never goes back (docs/design-state.md 3b). */
uint64_t lw_state_seen_horizon(struct lw_state *s, uint32_t src);
/* lw_state_seen_below: the same, at most upto: the largest point at most upto (and at least
 * the last one given) a commit of src may be at: a point below the horizon may lie inside a
 * span (seen() or count windows with other windows, whose commit is also bounded by the
 * windows': the point is then moved back out of the spans from upto, docs/design-state.md 3c,
 * 3d). upto must never go back from one call to the next for a source: the spans wholly
 * before the point given are dropped. */
uint64_t lw_state_seen_below(struct lw_state *s, uint32_t src, uint64_t upto);
/* lw_state_count_statements: the template's `window count` statements. With sources, a count
 * window's records (from its first to its last) are a span of its first record's source, and
 * an open one's first holds it, in lw_state_seen_horizon as seen()'s keys do
 * (docs/design-state.md 3d). */
uint32_t lw_state_count_statements(const struct lw_state *s);
/* lw_state_seen_spans: the spans source src keeps for lw_state_seen_horizon (16 bytes each). */
size_t lw_state_seen_spans(const struct lw_state *s, uint32_t src);
/* lw_state_seen_pass: source src's commit passes the logs before index upto although
 * lw_state_seen_horizon may be earlier (the bound on what a stalled commit holds, logwash(1)
 * KAFKA): the horizon moves to upto and the spans wholly before it are dropped. A replay from
 * there may answer "new" for a key inserted before it; later horizons stay exact. */
void lw_state_seen_pass(struct lw_state *s, uint32_t src, uint64_t upto);

#endif
