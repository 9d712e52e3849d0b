/* Windows under hostile event times (src/lib/state.c): every record earlier than the last,
 * or times spread so that many windows of several statements stay open. The work is counted
 * in steps (lw_state_steps: heap moves, hash chain links, windows examined), never timed: a
 * structure that scans or shifts the open windows takes about n/2 steps per record here,
 * the state's heaps and hashes a few dozen. Logs are written by hand in the format state.c
 * documents, as the VM's WINDOW instruction writes them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lw/buf.h"
#include "lw/diag.h"
#include "lw/program.h"
#include "lw/state.h"
#include "unit.h"

#define NREC      40000
#define SEC       1000000000LL
#define BASE      (1700000000LL * SEC)
#define MAX_STEPS 64 /* per record: log2(40000) is about 15 */

static struct lw_program *
compile(const char *src)
{
    struct lw_diag d = { 0 };
    struct lw_compile_opts o = { .jit = false };
    struct lw_program *p = lw_compile(LW_STR_LIT("t.lw"), lw_str_c(src), &o, &d);
    if (p == NULL) {
        fprintf(stderr, "%s: %s\n", src, d.msg);
        lw_diag_fini(&d);
    }
    return p;
}

/* win: window statement w's contribution at t for key k (JSON text), naggs counts of 1 */
static void
win(struct lw_buf *b, uint32_t w, int64_t t, const char *k, uint32_t naggs)
{
    uint32_t len = (uint32_t)strlen(k);
    uint64_t hash = len ? XXH3_64bits(k, len) : 0; /* the VM's (none without a key) */
    lw_buf_addc(b, 'W');
    lw_buf_add(b, &w, 4);
    lw_buf_add(b, &t, 8);
    lw_buf_add(b, &hash, 8);
    lw_buf_add(b, &len, 4);
    lw_buf_add(b, k, len);
    for (uint32_t i = 0; i < naggs; i++) {
        int64_t one = 1;
        lw_buf_addc(b, 'i');
        lw_buf_add(b, &one, 8);
    }
}

static int
apply(struct lw_state *s, const struct lw_buf *log, struct lw_buf *out, size_t *nres)
{
    bool late = false;
    char msg[256];
    return lw_state_apply(s, log->p, log->len, 0, out, nres, &late, msg, sizeof msg);
}

/* ends: out's results (one a line): how many, and how many times window_end went down from
 * one to the next (-1: a line without window_end) */
static long
ends(const struct lw_buf *out, size_t *lines)
{
    const char *prev = NULL, *p = out->p, *end = out->p + out->len;
    long downs = 0;
    *lines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = p;
        while (e + 14 <= nl && memcmp(e, "\"window_end\":\"", 14) != 0)
            e++;
        if (e + 14 > nl) return -1;
        e += 14;
        if (prev != NULL && memcmp(prev, e, 20) > 0) downs++;
        prev = e;
        (*lines)++;
        p = nl + 1;
    }
    return downs;
}

/* every record earlier than the last, each in a window of its own that stays open (a lateness
 * of 300 days): each new window is the first to close */
static void
decreasing(const char *kind, const char *late, uint32_t per_key, uint64_t want)
{
    char src[256];
    snprintf(src, sizeof src,
             "window %s at parse_time(line, \"rfc3339\")%s key line { n = count() }", kind, late);
    struct lw_program *p = compile(src);
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    int bad = 0;
    for (int i = 0; i < NREC; i++) {
        char key[32];
        snprintf(key, sizeof key, "\"k%u\"", per_key ? (unsigned)(i / per_key) : 0u);
        log.len = 0;
        win(&log, 0, BASE - (int64_t)i * SEC, key, 1);
        bad += apply(s, &log, &out, &nres) != 0;
    }
    CHECK(bad == 0);
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(c.windows == want && nres == 0 && c.late == 0);
    CHECK(lw_state_horizon(s) == 0); /* the first window opened is still open */
    uint64_t steps = lw_state_steps(s);
    if (steps > (uint64_t)MAX_STEPS * NREC)
        fprintf(stderr, "window %s: %llu steps for %d records\n", kind, (unsigned long long)steps,
                NREC);
    CHECK(steps <= (uint64_t)MAX_STEPS * NREC);
    size_t lines;
    CHECK(lw_state_tick(s, INT64_MAX, &out, 0) == want);
    CHECK(ends(&out, &lines) == 0 && lines == want);
    CHECK(lw_state_steps(s) - steps <= (uint64_t)MAX_STEPS * NREC); /* closing them all */
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* two statements whose windows stay open, times rising: each record opens a window of each,
 * and the closing of the other statement's windows is asked at every record */
static void
spread_two(void)
{
    struct lw_program *p =
        compile("let t = parse_time(line, \"rfc3339\")\n"
                "window tumbling 1s at t late 300d key line { n = count() }\n"
                "window sliding 2s every 1s at t late 300d key line { m = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    for (int i = 0; i < NREC; i++) {
        log.len = 0;
        win(&log, 0, BASE + (int64_t)i * SEC, "1", 1);
        win(&log, 1, BASE + (int64_t)i * SEC, "1", 1);
        CHECK(apply(s, &log, &out, &nres) == 0);
    }
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(c.windows == 2 * NREC + 1 && nres == 0);
    uint64_t steps = lw_state_steps(s);
    CHECK(steps <= (uint64_t)MAX_STEPS * NREC);
    size_t lines;
    CHECK(lw_state_tick(s, INT64_MAX, &out, 0) == 2 * NREC + 1);
    CHECK(ends(&out, &lines) == 0 && lines == 2 * NREC + 1);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* the same hostile order under a memory bound: the state stays within it, the windows that
 * end first close early (in order), and every window's one record is given once */
static void
decreasing_bounded(void)
{
    struct lw_program *p = compile(
        "window tumbling 1s at parse_time(line, \"rfc3339\") late 300d key line { n = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    const size_t max = 1 << 20;
    struct lw_state *s = lw_state_new(p, max);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0, over = 0;
    for (int i = 0; i < NREC; i++) {
        log.len = 0;
        win(&log, 0, BASE - (int64_t)i * SEC, "1", 1);
        CHECK(apply(s, &log, &out, &nres) == 0);
        struct lw_state_counts c;
        lw_state_counts(s, &c);
        over += c.bytes > max;
    }
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(over == 0);
    CHECK(c.closed_early > 0 && c.closed_early == nres && c.late == 0);
    size_t lines;
    CHECK(nres + lw_state_tick(s, INT64_MAX, &out, 0) == NREC);
    CHECK(lw_state_steps(s) <= (uint64_t)MAX_STEPS * NREC);
    /* closed early: the window that ends first, which is each time the newest: their ends go
     * down from one result to the next; then the end of input gives the others in order */
    CHECK(ends(&out, &lines) == (long)nres - 1 && lines == NREC);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* add_bytes: lw_buf_add out of gcc's sight (noipa): inlined or specialized for a short literal,
 * gcc 12 (-O1 and -O2, -Warray-bounds) warned that lw_copy_small's longer branches read past it */
__attribute__((noipa)) static void
add_bytes(struct lw_buf *b, const void *p, size_t n)
{
    lw_buf_add(b, p, n);
}

/* sketches' bytes come back whole: windows with percentile() and top() opened and closed one
 * after the other, a window each, under a bound of 1 MiB. Each sketch's struct was counted
 * when freed but not when made, so every window closed took it off the state's bytes, which
 * wrapped below 0 past a few thousand windows and read as past any bound: windows closed
 * early at once (a file run of 2763 records, 15 keys a minute, did it at 256 MiB). */
static void
sketch_bytes(void)
{
    struct lw_program *p = compile("window tumbling 1s at parse_time(line, \"rfc3339\") key line "
                                   "{ p = percentile(line, 95); t = top(line, 3) }");
    CHECK(p != NULL);
    if (p == NULL) return;
    const size_t max = 1 << 20;
    struct lw_state *s = lw_state_new(p, max);
    struct lw_state_counts c0;
    lw_state_counts(s, &c0);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    int bad = 0;
    for (int i = 0; i < NREC; i++) {
        log.len = 0;
        const char *k = "\"k\"";
        uint32_t w = 0, len = (uint32_t)strlen(k);
        int64_t t = BASE + (int64_t)i * SEC, one = 1;
        uint64_t hash = XXH3_64bits(k, len);
        lw_buf_addc(&log, 'W');
        lw_buf_add(&log, &w, 4);
        lw_buf_add(&log, &t, 8);
        lw_buf_add(&log, &hash, 8);
        lw_buf_add(&log, &len, 4);
        add_bytes(&log, k, len);
        lw_buf_addc(&log, 'i'); /* percentile(): 1 */
        lw_buf_add(&log, &one, 8);
        lw_buf_addc(&log, 'j'); /* top(): the JSON "a" */
        uint32_t bl = 3;
        lw_buf_add(&log, &bl, 4);
        lw_buf_add(&log, "\"a\"", 3);
        bad += apply(s, &log, &out, &nres) != 0;
    }
    CHECK(bad == 0);
    CHECK(lw_state_tick(s, INT64_MAX, &out, 0) == 1);
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(nres == NREC - 1);
    CHECK(c.closed_early == 0);
    if (c.bytes < c0.bytes || c.bytes > c0.bytes + 65536)
        fprintf(stderr, "sketch_bytes: %zu bytes held at start, %zu with every window closed\n",
                (size_t)c0.bytes, (size_t)c.bytes);
    CHECK(c.bytes >= c0.bytes && c.bytes <= c0.bytes + 65536); /* tables kept, no sketch */
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* sess: one contribution to statement 0 at BASE + ms milliseconds, key k, then the results */
static void
sess(struct lw_state *s, int64_t ms, const char *k, struct lw_buf *out, size_t *nres, bool *late)
{
    struct lw_buf log;
    lw_buf_init(&log);
    win(&log, 0, BASE + ms * 1000000, k, 1);
    char msg[256];
    *late = false;
    CHECK(lw_state_apply(s, log.p, log.len, 0, out, nres, late, msg, sizeof msg) == 0);
    lw_buf_fini(&log);
}

/* sessions merge (gap 1m): a record less than the gap from two sessions of its key joins
 * them; a session closes when the time passes its end plus the gap; a record whose own session
 * [t, t + 1m) ended by then is late, a later one opens or joins a session still open */
static void
session_merge(void)
{
    struct lw_program *p =
        compile("window session 1m at parse_time(line, \"rfc3339\") key line { n = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    struct lw_buf out;
    lw_buf_init(&out);
    size_t nres = 0;
    bool late;
    struct lw_state_counts c;
    sess(s, 0, "\"a\"", &out, &nres, &late);
    sess(s, 100000, "\"a\"", &out, &nres, &late);
    lw_state_counts(s, &c);
    CHECK(c.windows == 2 && !late);              /* 0 and 100 s: two sessions */
    sess(s, 50000, "\"a\"", &out, &nres, &late); /* 50 s bridges them */
    lw_state_counts(s, &c);
    CHECK(c.windows == 1 && !late && nres == 0);
    sess(s, 50000, "\"b\"", &out, &nres, &late);  /* on time: 50 + 60 > 100 s */
    sess(s, 180000, "\"b\"", &out, &nres, &late); /* b's 50 closes: 50 + 1m + 1m <= 180 */
    lw_buf_addc(&out, '\0');
    CHECK(!late && nres == 1 &&
          strstr(out.p, "\"key\":\"b\",\"window_start\":\"2023-11-14T22:14:10Z\","
                        "\"window_end\":\"2023-11-14T22:15:10Z\",\"n\":1") != NULL);
    out.len = 0;
    sess(s, 115000, "\"b\"", &out, &nres, &late); /* 115 + 60 <= 180: late */
    CHECK(late);
    sess(s, 125000, "\"b\"", &out, &nres, &late); /* joins the session at 180 */
    lw_state_counts(s, &c);
    CHECK(!late && c.late == 1 && c.windows == 2);
    sess(s, 220000, "\"c\"", &out, &nres, &late); /* a's [0, 160 s) closes at 220 s */
    lw_buf_addc(&out, '\0');
    CHECK(nres == 2 && strstr(out.p, "\"key\":\"a\",\"window_start\":\"2023-11-14T22:13:20Z\","
                                     "\"window_end\":\"2023-11-14T22:16:00Z\",\"n\":3") != NULL);
    out.len = 0;
    CHECK(lw_state_tick(s, INT64_MAX, &out, 0) == 2);
    lw_buf_addc(&out, '\0');
    CHECK(strstr(out.p, "\"key\":\"b\",\"window_start\":\"2023-11-14T22:15:25Z\","
                        "\"window_end\":\"2023-11-14T22:17:20Z\",\"n\":2") != NULL);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&out);
}

/* a hostile order for sessions of one key: NREC/2 sessions 1.5 gaps apart, all open, then a
 * record between each two in a scattered order, each joining two sessions (and the sets
 * grown so far): the steps stay a few dozen a record; under a memory bound the sessions that
 * end first close early, never past the bound */
static void
session_bridging(size_t max)
{
    struct lw_program *p = compile(
        "window session 2s at parse_time(line, \"rfc3339\") late 300d key line { n = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, max);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0, over = 0;
    const int half = NREC / 2;
    for (int j = 0; j < NREC; j++) {
        /* first the sessions at 3 s each, then the bridges at 3 s * i + 1.5 s, i scattered */
        int64_t i = j < half ? j : (int64_t)(((uint64_t)(j - half) * 7919) % (half - 1));
        int64_t t = BASE + i * 3 * SEC + (j < half ? 0 : 3 * SEC / 2);
        log.len = 0;
        win(&log, 0, t, "\"k\"", 1);
        CHECK(apply(s, &log, &out, &nres) == 0);
        struct lw_state_counts c;
        lw_state_counts(s, &c);
        over += c.bytes > max;
    }
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    uint64_t steps = lw_state_steps(s);
    if (steps > (uint64_t)MAX_STEPS * NREC)
        fprintf(stderr, "session bridging: %llu steps for %d records\n", (unsigned long long)steps,
                NREC);
    CHECK(steps <= (uint64_t)MAX_STEPS * NREC && c.late == 0 && over == 0);
    size_t lines;
    size_t fin = lw_state_tick(s, INT64_MAX, &out, 0);
    if (max == SIZE_MAX) {
        /* 7919 and half - 1 share no factor: every bridge once, one session of all */
        CHECK(c.windows == 1 && nres == 0 && fin == 1 && strstr(out.p, "\"n\":40000") != NULL);
    } else {
        /* closed early, the first to end first: their ends go up, then the end of input */
        CHECK(c.closed_early > 0 && c.closed_early == nres && ends(&out, &lines) >= 0);
    }
    CHECK(lw_state_steps(s) <= (uint64_t)MAX_STEPS * NREC);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* seen: a seen() operation as fn_seen writes it */
static void
seen(struct lw_buf *b, bool ans, const char *k, int64_t now, int64_t ttl)
{
    uint32_t len = (uint32_t)strlen(k);
    uint64_t hash = XXH3_64bits(k, len);
    lw_buf_addc(b, 'S');
    lw_buf_addc(b, ans);
    lw_buf_add(b, &hash, 8);
    lw_buf_add(b, &now, 8);
    lw_buf_add(b, &ttl, 8);
    lw_buf_add(b, &len, 4);
    lw_buf_add(b, k, len);
}

/* one record calling seen() NREC times (a loop over a long line): its answers are checked
 * against the state and the record's own earlier calls through a table, not a search of
 * every earlier call */
static void
seen_loop(void)
{
    struct lw_program *p = compile("for x in split(line, \",\") { if seen(x, 1h) { drop } }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    char k[32];
    for (int i = 0; i < NREC; i++) {
        snprintf(k, sizeof k, "\"k%d\"", i % 10 == 9 ? i - 1 : i); /* each 10th a repeat */
        seen(&log, i % 10 == 9, k, BASE, 3600 * SEC);
    }
    CHECK(lw_state_wrong(s, log.p, log.len) == false);
    CHECK(apply(s, &log, &out, &nres) == 0);
    CHECK(lw_state_steps(s) <= (uint64_t)MAX_STEPS * NREC);
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(c.keys == NREC - NREC / 10);
    /* a repeat answered as new, in the log (k1 twice) or against the state (k5) */
    log.len = 0;
    seen(&log, false, "\"new\"", BASE, SEC);
    seen(&log, false, "\"new\"", BASE, SEC);
    CHECK(lw_state_wrong(s, log.p, log.len) && apply(s, &log, &out, &nres) == 1);
    log.len = 0;
    seen(&log, false, "\"k5\"", BASE + SEC, SEC);
    CHECK(lw_state_wrong(s, log.p, log.len) && apply(s, &log, &out, &nres) == 1);
    log.len = 0;
    seen(&log, true, "\"k5\"", BASE + SEC, SEC);
    CHECK(!lw_state_wrong(s, log.p, log.len) && apply(s, &log, &out, &nres) == 0);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* malformed logs (logwash_state_apply takes them from its caller): every length checked, each
 * refused with 2 and the state left as it was */
static void
malformed(void)
{
    struct lw_program *p = compile("if seen(line, 1h) { drop }\n"
                                   "window tumbling 1m at parse_time(line, \"rfc3339\") key line "
                                   "{ n = count(); s = sum(1); f = first(line) }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    /* a whole log: S, then W with i, f, j */
    seen(&log, false, "\"a\"", BASE, SEC);
    size_t ops[3] = { 0, log.len, 0 };
    win(&log, 0, BASE, "\"a\"", 0);
    lw_buf_addc(&log, 'i');
    int64_t one = 1;
    lw_buf_add(&log, &one, 8);
    double half = 0.5;
    lw_buf_addc(&log, 'f');
    lw_buf_add(&log, &half, 8);
    uint32_t jl = 3;
    lw_buf_addc(&log, 'j');
    lw_buf_add(&log, &jl, 4);
    lw_buf_add(&log, "\"x\"", 3);
    ops[2] = log.len;
    struct lw_state_counts c0, c;
    lw_state_counts(s, &c0);
    int refused = 0, cuts = 0;
    for (size_t cut = 1; cut < log.len; cut++) { /* every log cut short inside an operation */
        if (cut == ops[1]) continue;
        cuts++;
        refused += lw_state_apply(s, log.p, cut, 0, &out, &nres, &(bool){ false }, NULL, 0) == 2;
        refused += lw_state_wrong(s, log.p, cut);
    }
    CHECK(refused == 2 * cuts);
    lw_state_counts(s, &c);
    CHECK(c.keys == c0.keys && c.windows == c0.windows && nres == 0);
    char *bad = malloc(log.len);
    const struct {
        size_t off;
        uint8_t byte;
    } edits[] = {
        { ops[1] + 1, 7 },                  /* a window statement the program lacks */
        { ops[1] + 21, 0xff },              /* the key's length past the end */
        { ops[1] + 25 + 3, 'x' },           /* an aggregate's tag the VM never writes */
        { ops[1] + 25 + 3 + 10 + 7, 0x7f }, /* the float a NaN: 0x7ff8... */
        { ops[2] - 7, 0xff },               /* first()'s JSON past the end */
        { 26, 0xff },                       /* seen()'s key past the end */
        { 0, 'Q' },                         /* not an operation */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(bad, log.p, log.len);
        bad[edits[i].off] = (char)edits[i].byte;
        if (i == 3) bad[edits[i].off - 1] = (char)0xf8;
        int rc = lw_state_apply(s, bad, log.len, 0, &out, &nres, &(bool){ false }, NULL, 0);
        if (rc != 2) fprintf(stderr, "malformed log %zu: %d\n", i, rc);
        CHECK(rc == 2);
    }
    free(bad);
    lw_state_counts(s, &c);
    CHECK(c.keys == c0.keys && c.windows == c0.windows);
    CHECK(lw_state_apply(s, log.p, log.len, 0, &out, &nres, &(bool){ false }, NULL, 0) == 0);
    lw_state_counts(s, &c);
    CHECK(c.keys == 1 && c.windows == 1);
    CHECK(lw_state_tick(s, INT64_MAX, &out, 0) == 1);
    CHECK(out.len > 0 && strstr(out.p, "\"n\":1,\"s\":0.5,\"f\":\"x\"}") != NULL);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* hostile_text: logs whose lengths are right but whose text is not what the VM writes (a key
 * or a first() value that is not compact JSON, invalid UTF-8 in it, a hash that is not the
 * key's, an aggregate given another's tag) are refused with 2: state.c writes keys and values
 * into results as they are, so a trusted one would make a result that is not JSON */
static void
hostile_text(void)
{
    struct lw_program *p = compile("if seen(line, 1h) { drop }\n"
                                   "window tumbling 1m at parse_time(line, \"rfc3339\") key line "
                                   "{ n = count(); s = sum(1); f = first(line) }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    struct lw_buf log, out;
    lw_buf_init(&out);
    size_t nres = 0;
    static const char *const keys[] = {
        "\"\xff\"",       "\"a\xc3\"",     "abc", "{ }",        " \"a\"", "\"a\" ",
        "[1, 2]",         "\"a\x01\"",     "tru", "{\"a\":1}x", "#abc",   "\"a\",\"b\"",
        "{\"a\":\"b\"}}", "{\"a\":\"b\",}"
    };
    static const char *const vals[] = { "\"\xed\xa0\x80\"", "", "x", "[1 ]", "\"x\"\n" };
    /* key, first()'s value, count's tag, first's tag, a byte of the hash flipped */
    struct hcase {
        const char *key, *val;
        char ctag, ftag;
        bool flip;
    } cases[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cases[n++] = (struct hcase){ keys[i], "\"x\"", 'i', 'j', false };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        cases[n++] = (struct hcase){ "\"a\"", vals[i], 'i', 'j', false };
    cases[n++] = (struct hcase){ "\"a\"", "\"x\"", 'f', 'j', false }; /* count takes n, i */
    cases[n++] = (struct hcase){ "\"a\"", "\"x\"", 'i', 'i', false }; /* first: n, j */
    cases[n++] = (struct hcase){ "\"a\"", "\"x\"", 'i', 'j', true };
    size_t good = n;
    cases[n++] = (struct hcase){ "{\"a\":\"\\u00ff\"}", "[1,{\"b\":null}]", 'i', 'j', false };
    cases[n++] = (struct hcase){ "{\"a\":\"b\",\"c\":\"d\"}", "\"x\"", 'i', 'j', false };
    for (size_t i = 0; i < n; i++) {
        lw_buf_init(&log);
        win(&log, 0, BASE, cases[i].key, 0);
        if (cases[i].flip) log.p[13] ^= 1;
        int64_t one = 1;
        lw_buf_addc(&log, cases[i].ctag);
        lw_buf_add(&log, &one, 8);
        double half = 0.5;
        lw_buf_addc(&log, 'f');
        lw_buf_add(&log, &half, 8);
        uint32_t jl = (uint32_t)strlen(cases[i].val);
        lw_buf_addc(&log, cases[i].ftag);
        if (cases[i].ftag == 'j') {
            lw_buf_add(&log, &jl, 4);
            lw_buf_add(&log, cases[i].val, jl);
        } else {
            lw_buf_add(&log, &one, 8);
        }
        int want = i < good ? 2 : 0;
        int rc = lw_state_apply(s, log.p, log.len, 0, &out, &nres, &(bool){ false }, NULL, 0);
        if (rc != want) fprintf(stderr, "hostile log %zu: %d\n", i, rc);
        CHECK(rc == want);
        CHECK(lw_state_wrong(s, log.p, log.len) == (want != 0));
        lw_buf_fini(&log);
    }
    lw_buf_init(&log); /* a seen() whose hash is not its key's */
    seen(&log, false, "\"a\"", BASE, SEC);
    log.p[2] ^= 1;
    CHECK(lw_state_apply(s, log.p, log.len, 0, &out, &nres, &(bool){ false }, NULL, 0) == 2);
    lw_buf_fini(&log);
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(c.keys == 0 && c.windows == 2);
    CHECK(lw_state_tick(s, INT64_MAX, &out, 0) == 2);
    CHECK(out.len > 0 && out.p[out.len - 1] == '\n');
    lw_buf_addc(&out, '\0');
    CHECK(strstr(out.p, "{\"a\":\"\\u00ff\",\"window_start\":") == out.p);
    CHECK(strstr(out.p, "\"n\":1,\"s\":0.5,\"f\":[1,{\"b\":null}]}\n") != NULL);
    CHECK(strstr(out.p, "\n{\"a\":\"b\",\"c\":\"d\",\"window_start\":") != NULL);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&out);
}

/* sorted_lines: out's lines from byte from on, sorted, one string (for comparing sets) */
static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
sorted_lines(const struct lw_buf *out, size_t from)
{
    size_t n = 0, cap = 0;
    char **l = NULL;
    for (const char *q = out->p + from; q < out->p + out->len;) {
        const char *nl = memchr(q, '\n', (size_t)(out->p + out->len - q));
        size_t len = (size_t)(nl - q);
        if (n == cap) l = realloc(l, (cap = cap ? 2 * cap : 64) * sizeof *l);
        l[n] = malloc(len + 1);
        memcpy(l[n], q, len);
        l[n++][len] = '\0';
        q = nl + 1;
    }
    qsort(l, n, sizeof *l, cmp_line);
    struct lw_buf b;
    lw_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        lw_buf_add(&b, l[i], strlen(l[i]));
        lw_buf_addc(&b, '\n');
        free(l[i]);
    }
    free(l);
    lw_buf_addc(&b, '\0');
    return b.p;
}

/* two statements fed at different event times (the second 7 minutes behind), one source:
 * after record K every result so far given, a commit at the first record that fed a window
 * not given (per statement: its last ends against each statement's closing time), each
 * statement's time and windows given kept. A replay from there on a new state, restored per
 * statement, gives exactly the results the first run gave after K; restored with the first
 * statement's values for both (one time and one X, the form of a single statement's commit),
 * it does not. */
#define MREC 900
static void
multi_horizon(void)
{
    struct lw_program *p =
        compile("let t = parse_time(line, \"rfc3339\")\n"
                "window tumbling 1m at t late 30s key line { n = count() }\n"
                "window sliding 2m every 1m at t - 420 late 30s key line { m = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    CHECK(lw_state_replay_exact(s) && lw_state_statements(s) == 2);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    static int64_t t[MREC], wend[MREC][2], ptime[MREC][2];
    const int K = 600;
    int64_t given[2] = { 0, 0 };
    size_t after_k = 0;
    int diff = 0;
    lw_state_from(s, 0);
    for (int i = 0; i < MREC; i++) {
        t[i] = BASE + (int64_t)i * SEC - (i % 7 == 0 ? (i % 23) * SEC : 0); /* some back */
        char k[16];
        snprintf(k, sizeof k, "\"k%d\"", i % 3);
        log.len = 0;
        win(&log, 0, t[i], k, 1);
        win(&log, 1, t[i] - 420 * SEC, k, 1);
        CHECK(apply(s, &log, &out, &nres) == 0);
        for (uint32_t w = 0; w < 2; w++) {
            wend[i][w] = lw_state_last_end_of(s, w);
            ptime[i][w] = lw_state_source_time_of(s, 0, w);
        }
        diff += lw_state_last_end_of(s, 1) < lw_state_last_end(s); /* the second's, earlier */
        if (i == K) {
            given[0] = lw_state_closed_of(s, 0);
            given[1] = lw_state_closed_of(s, 1);
            after_k = out.len;
        }
    }
    CHECK(given[1] == given[0] - 420 * SEC && nres > 20 && diff > MREC / 2);
    lw_state_tick(s, INT64_MAX, &out, 0);
    char *want = sorted_lines(&out, after_k);
    int c = 0; /* the commit: the first record that fed a window not given, in a statement */
    while (c <= K && wend[c][0] <= given[0] && wend[c][1] <= given[1])
        c++;
    CHECK(c > 100 && c < K);
    for (int single = 0; single < 2; single++) {
        struct lw_state *r = lw_state_new(p, SIZE_MAX);
        struct lw_buf rout;
        lw_buf_init(&rout);
        lw_state_from(r, 0);
        for (uint32_t w = 0; w < 2; w++) /* single: statement 0's for both */
            lw_state_restore_of(r, 0, w, ptime[c - 1][single ? 0 : w], given[single ? 0 : w]);
        size_t rn = 0;
        for (int i = c; i < MREC; i++) {
            char k[16];
            snprintf(k, sizeof k, "\"k%d\"", i % 3);
            log.len = 0;
            win(&log, 0, t[i], k, 1);
            win(&log, 1, t[i] - 420 * SEC, k, 1);
            CHECK(apply(r, &log, &rout, &rn) == 0);
        }
        lw_state_tick(r, INT64_MAX, &rout, 0);
        char *got = sorted_lines(&rout, 0);
        if (!single && strcmp(got, want) != 0)
            fprintf(stderr, "multi_horizon: the replay gave\n%.600s\nwant\n%.600s\n", got, want);
        CHECK(single ? strcmp(got, want) != 0 : strcmp(got, want) == 0);
        free(got);
        lw_buf_fini(&rout);
        lw_state_free(r);
    }
    free(want);
    lw_state_free(s);
    /* what a replay cannot rebuild: processing-time windows, also beside event-time ones
     * (seen() with event-time windows can: docs/design-state.md 3c; with count windows at EXPR
     * too, their spans and seen()'s in one list: 3d) */
    const char *const no[] = {
        "window session 1m { n = count() }",
        "window count 3 timeout 1m { n = count() }",
        "window tumbling 1m { n = count() }",
        "window tumbling 1m at parse_time(line, \"rfc3339\") { n = count() }\n"
        "window tumbling 1m { n = count() }",
    };
    const char *const yes[] = {
        "if seen(line, 1h) { drop }\n"
        "window tumbling 1m at parse_time(line, \"rfc3339\") { n = count() }",
        "if seen(line, 1h) { drop }\n"
        "window count 3 timeout 1m at parse_time(line, \"rfc3339\") { n = count() }",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        struct lw_program *sw = compile(yes[i]);
        CHECK(sw != NULL);
        if (sw == NULL) continue;
        struct lw_state *x = lw_state_new(sw, SIZE_MAX);
        CHECK(lw_state_replay_exact(x));
        lw_state_free(x);
        lw_program_free(sw);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        struct lw_program *q = compile(no[i]);
        CHECK(q != NULL);
        if (q == NULL) continue;
        struct lw_state *x = lw_state_new(q, SIZE_MAX);
        CHECK(!lw_state_replay_exact(x));
        lw_state_free(x);
        lw_program_free(q);
    }
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* ask: the state's answer to seen(k) at now from the current source (a log that says "new"
 * is wrong when the key is live) */
static bool
ask(const struct lw_state *s, const char *k, int64_t now, int64_t ttl)
{
    struct lw_buf log;
    lw_buf_init(&log);
    seen(&log, false, k, now, ttl);
    bool live = lw_state_wrong(s, log.p, log.len);
    lw_buf_fini(&log);
    return live;
}

/* put: record seen(k) at now from source src, answered as the state says; returns the answer */
static bool
put(struct lw_state *s, uint32_t src, const char *k, int64_t now, int64_t ttl)
{
    lw_state_from(s, src);
    bool ans = ask(s, k, now, ttl);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    seen(&log, ans, k, now, ttl);
    size_t nres = 0;
    CHECK(apply(s, &log, &out, &nres) == 0);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
    return ans;
}

/* seen() with sources (Kafka partitions): a key expires by the time of the source that
 * inserted it, so another source's later times never expire it, and the answers of each
 * source's records do not depend on how the sources interleave */
static void
seen_parts(void)
{
    struct lw_program *p = compile("if seen(line, 10s, now()) { drop }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    CHECK(!put(s, 0, "\"a\"", BASE, 10 * SEC));
    CHECK(!put(s, 1, "\"z\"", BASE + 100 * SEC, 10 * SEC)); /* source 1 far ahead */
    CHECK(lw_state_seen_time(s, 0) == BASE && lw_state_seen_time(s, 1) == BASE + 100 * SEC);
    CHECK(put(s, 0, "\"a\"", BASE + 5 * SEC, 10 * SEC));   /* still live: source 0's time */
    CHECK(!put(s, 0, "\"a\"", BASE + 10 * SEC, 10 * SEC)); /* its ttl passed: new */
    CHECK(!put(s, 0, "\"b\"", BASE + 30 * SEC, 10 * SEC));
    CHECK(!put(s, 0, "\"a\"", BASE + 15 * SEC, 10 * SEC)); /* expired at source 0's 30s */
    lw_state_free(s);
    /* two interleavings of the same two sequences: the same answers */
    static const int ks[2][8] = { { 1, 2, 1, 3, 1, 2, 4, 1 }, { 5, 6, 5, 5, 7, 6, 5, 8 } };
    static const int ts[2][8] = { { 0, 1, 3, 9, 11, 12, 20, 21 },
                                  { 50, 51, 55, 61, 62, 64, 70, 80 } };
    bool ans[2][2][8];
    for (int run = 0; run < 2; run++) {
        s = lw_state_new(p, SIZE_MAX);
        int at[2] = { 0, 0 };
        for (int n = 0; n < 16; n++) {
            int src = run == 0 ? n / 8 : n % 2; /* 0: one source then the other; 1: alternate */
            char k[16];
            snprintf(k, sizeof k, "\"k%d\"", ks[src][at[src]]);
            ans[run][src][at[src]] =
                put(s, (uint32_t)src, k, BASE + ts[src][at[src]] * SEC, 10 * SEC);
            at[src]++;
        }
        lw_state_free(s);
    }
    CHECK(memcmp(ans[0], ans[1], sizeof ans[0]) == 0);
    CHECK(ans[0][0][2] && !ans[0][0][4] && ans[0][1][2] && !ans[0][1][3] && ans[0][1][6]);
    lw_program_free(p);
}

/* the commit horizon of seen(): replaying a source's records from lw_state_seen_horizon on a
 * new state, its seen() time restored, gives every record from there the answers it had, at
 * every point of a random stream of repeats; the inserter of the oldest key held alone (the
 * state's lw_state_horizon, without the spans of keys gone) does not. */
static void
seen_horizon(void)
{
    enum { N = 3000 };
    struct lw_program *p = compile("if seen(line, 10s, now()) { drop }");
    CHECK(p != NULL);
    if (p == NULL) return;
    static char key[N][16];
    static int64_t tm[N], stime[N];
    static bool ans[N];
    static uint64_t hz[N], naive[N];
    uint64_t r = 88172645463325252ull;
    int64_t t = BASE;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    for (int i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        t += (int64_t)(r % 1000) * 1000000;       /* 0 to 1 s apart */
        tm[i] = t - (int64_t)(r >> 40) % 3 * SEC; /* and up to 2 s back */
        snprintf(key[i], sizeof key[i], "\"k%d\"", (int)(r >> 20) % 40);
        ans[i] = put(s, 0, key[i], tm[i], 10 * SEC);
        stime[i] = lw_state_seen_time(s, 0);
        naive[i] = lw_state_horizon(s);
        hz[i] = lw_state_seen_horizon(s, 0);
        CHECK(hz[i] <= naive[i] && (i == 0 || hz[i] >= hz[i - 1]));
    }
    lw_state_free(s);
    int bad = 0, naive_bad = 0, moved = 0;
    for (int i = 0; i < N; i += 37) {
        for (int pass = 0; pass < 2; pass++) {
            uint64_t h = pass == 0 ? hz[i] : naive[i];
            struct lw_state *x = lw_state_new(p, SIZE_MAX);
            lw_state_from(x, 0);
            if (h > 0) lw_state_restore_seen(x, 0, stime[h - 1]);
            bool same = true;
            for (uint64_t j = h; j < N; j++)
                if (put(x, 0, key[j], tm[j], 10 * SEC) != ans[j]) same = false;
            lw_state_free(x);
            if (pass == 0) {
                bad += !same;
                moved += h > 0;
            } else {
                naive_bad += !same;
            }
        }
    }
    CHECK(bad == 0);
    CHECK(naive_bad > 0); /* the spans matter */
    CHECK(moved > 0);     /* and the horizon moves */
    lw_program_free(p);
}

/* Past 512 spans lw_state_seen_below gives its last horizon until nsp/8 more logs are applied
 * (the sort's cost); but with none applied since, a larger upto is worked out again: the last
 * release at the end of input asks with no record after it. 600 keys, each found live by the
 * next record (600 spans of one record each), all expired by a record 1 h later: asked up to
 * 100, then up to 1000 with nothing applied between, the point follows the new upto (before:
 * 100 again). */
static void
seen_below_final(void)
{
    struct lw_program *p = compile("if seen(line, 10s, now()) { drop }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    char k[32];
    for (int i = 0; i < 600; i++) {
        snprintf(k, sizeof k, "\"k%d\"", i);
        CHECK(!put(s, 0, k, BASE + i * SEC, 10 * SEC));
        CHECK(put(s, 0, k, BASE + i * SEC, 10 * SEC));
    }
    CHECK(!put(s, 0, "\"last\"", BASE + 3600 * SEC, 10 * SEC)); /* every key expires */
    CHECK(lw_state_seen_spans(s, 0) > 512);
    uint64_t a = lw_state_seen_below(s, 0, 100), b = lw_state_seen_below(s, 0, 1000);
    CHECK(a <= 100 && a >= 98);
    CHECK(b <= 1000 && b >= 998);
    if (b < 998)
        fprintf(stderr, "seen_below_final: %llu then %llu\n", (unsigned long long)a,
                (unsigned long long)b);
    lw_state_free(s);
    lw_program_free(p);
}

/* seen() with windows (docs/design-state.md 3c): the commit is at most the windows' point U;
 * lw_state_seen_below(U) gives the largest point at most U a replay of seen() rebuilds. At
 * every 23rd record a U up to 300 records back (never below the last one) is taken; replaying
 * from each point given, its seen() time restored, gives every later record the answers it
 * got. min(U, lw_state_seen_horizon) (the lower of the two horizons as it is) does not: U may
 * fall inside a span (a key's first sighting, the last record that found it live]. */
static void
seen_below(void)
{
    enum { N = 3000 };
    struct lw_program *p = compile("if seen(line, 10s, now()) { drop }");
    CHECK(p != NULL);
    if (p == NULL) return;
    static char key[N][16];
    static int64_t tm[N], stime[N];
    static bool ans[N];
    static uint64_t at[N], mn[N];
    uint64_t r = 2463534242ull, u = 0, last = 0;
    int64_t t = BASE;
    int nat = 0;
    struct lw_state *s = lw_state_new(p, SIZE_MAX), *s2 = lw_state_new(p, SIZE_MAX);
    for (int i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        t += (int64_t)(r % 1000) * 1000000;
        tm[i] = t - (int64_t)(r >> 40) % 3 * SEC;
        snprintf(key[i], sizeof key[i], "\"k%d\"", (int)(r >> 20) % 40);
        ans[i] = put(s, 0, key[i], tm[i], 10 * SEC);
        CHECK(put(s2, 0, key[i], tm[i], 10 * SEC) == ans[i]);
        stime[i] = lw_state_seen_time(s, 0);
        if (i % 23 != 22) continue;
        uint64_t w = (uint64_t)i + 1 - (r >> 30) % 300;
        if (w > (uint64_t)i + 1) w = 0; /* below 0 */
        if (w > u) u = w;
        uint64_t v = lw_state_seen_below(s, 0, u), h = lw_state_seen_horizon(s2, 0);
        CHECK(v <= u && v >= last);
        last = v;
        at[nat] = v;
        mn[nat++] = u < h ? u : h;
    }
    lw_state_free(s);
    lw_state_free(s2);
    int bad = 0, min_bad = 0, below = 0;
    for (int k = 0; k < nat; k++) {
        below += at[k] < mn[k];
        for (int pass = 0; pass < 2; pass++) {
            uint64_t h = pass == 0 ? at[k] : mn[k];
            struct lw_state *x = lw_state_new(p, SIZE_MAX);
            lw_state_from(x, 0);
            if (h > 0) lw_state_restore_seen(x, 0, stime[h - 1]);
            bool same = true;
            for (uint64_t j = h; j < N; j++)
                if (put(x, 0, key[j], tm[j], 10 * SEC) != ans[j]) same = false;
            lw_state_free(x);
            if (pass == 0)
                bad += !same;
            else
                min_bad += !same;
        }
    }
    CHECK(bad == 0);
    CHECK(below > 0);   /* the windows' point fell inside a span */
    CHECK(min_bad > 0); /* and the lower horizon as it is was wrong there */
    lw_program_free(p);
}

/* sessions replayed from a commit (docs/design-state.md 3a): 3 sources round-robin, a key's
 * sessions taking records of all three, some moved back (bridging), some late. At record K the
 * closing time G and the session horizon H are taken (a cut); each source's commit is its
 * first record at or above H; a replay from the commits, each source restored with its time
 * there and G, gives exactly the results the first run gave after K. A commit past records
 * of sessions open at K (every record up to K released, as the per-statement ends alone would
 * allow: a session's records feed no end) does not. */
#define SREC 1500
static void
session_replay(void)
{
    struct lw_program *p = compile(
        "window session 5s at parse_time(line, \"rfc3339\") late 10s key line { n = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    CHECK(lw_state_replay_exact(s));
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0, after_k = 0;
    static int64_t t[SREC], ptime[SREC], ix[SREC];
    const int K = 1000;
    int64_t given = 0;
    uint64_t h = 0;
    for (int i = 0; i < SREC; i++) {
        t[i] = BASE + (int64_t)i * SEC / 10 - (i % 7 == 0 ? (int64_t)(i % 61) * SEC / 10 : 0);
        if (i % 401 == 0 && i > 0) t[i] -= 95 * SEC; /* late */
        char k[16];
        snprintf(k, sizeof k, "\"k%d\"", (i / 40) % 3);
        log.len = 0;
        win(&log, 0, t[i], k, 1);
        lw_state_from(s, (uint32_t)(i % 3));
        CHECK(apply(s, &log, &out, &nres) == 0);
        ptime[i] = lw_state_source_time_of(s, (uint32_t)(i % 3), 0);
        ix[i] = (int64_t)lw_state_applied(s) - 1;
        if (i == K) {
            given = lw_state_closed_of(s, 0);
            h = lw_state_session_horizon(s);
            after_k = out.len;
        }
    }
    struct lw_state_counts c;
    lw_state_counts(s, &c);
    CHECK(nres > 15 && c.late > 0 && h < (uint64_t)K && h > 100);
    lw_state_tick(s, INT64_MAX, &out, 0);
    char *want = sorted_lines(&out, after_k);
    for (int wrong = 0; wrong < 2; wrong++) {
        int cp[3]; /* each source's commit: its first record at or above h (wrong: after K) */
        for (int q = 0; q < 3; q++) {
            cp[q] = q;
            while (cp[q] <= K && (wrong || (uint64_t)ix[cp[q]] < h))
                cp[q] += 3;
        }
        struct lw_state *r = lw_state_new(p, SIZE_MAX);
        struct lw_buf rout;
        lw_buf_init(&rout);
        for (uint32_t q = 0; q < 3; q++) {
            lw_state_from(r, q);
            lw_state_restore_of(r, q, 0, cp[q] >= 3 ? ptime[cp[q] - 3] : INT64_MIN, given);
        }
        size_t rn = 0;
        for (int i = 0; i < SREC; i++) {
            if (i < cp[i % 3]) continue;
            char k[16];
            snprintf(k, sizeof k, "\"k%d\"", (i / 40) % 3);
            log.len = 0;
            win(&log, 0, t[i], k, 1);
            lw_state_from(r, (uint32_t)(i % 3));
            CHECK(apply(r, &log, &rout, &rn) == 0);
        }
        lw_state_tick(r, INT64_MAX, &rout, 0);
        char *got = sorted_lines(&rout, 0);
        if (!wrong && strcmp(got, want) != 0)
            fprintf(stderr, "session_replay: the replay gave\n%.600s\nwant\n%.600s\n", got, want);
        CHECK(wrong ? strcmp(got, want) != 0 : strcmp(got, want) == 0);
        free(got);
        lw_buf_fini(&rout);
        lw_state_free(r);
    }
    free(want);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* count windows (docs/design-state.md 3d): one source, 3 keys interleaved, some times moved
 * back, `count 3 timeout 5s`. The largest point at or below record K outside every count
 * window (lw_state_seen_below) is before K; a replay from it on a new state, the
 * source's time restored, gives only results the first run gave (no window in part, the same
 * values), and one from K itself (inside a window) does not. */
#define CREC 3000
static void
count_replay(void)
{
    struct lw_program *p = compile(
        "window count 3 timeout 5s at parse_time(line, \"rfc3339\") key line { n = count() }");
    CHECK(p != NULL);
    if (p == NULL) return;
    struct lw_state *s = lw_state_new(p, SIZE_MAX);
    CHECK(lw_state_replay_exact(s) && lw_state_count_statements(s) == 1);
    struct lw_buf log, out;
    lw_buf_init(&log);
    lw_buf_init(&out);
    size_t nres = 0;
    static int64_t t[CREC], ptime[CREC];
    const int K = 2000;
    uint64_t c = 0, last = 0;
    for (int i = 0; i < CREC; i++) {
        t[i] = BASE + (int64_t)i * SEC / 2 - (i % 7 == 0 ? (int64_t)(i % 5) * SEC : 0);
        char k[16];
        snprintf(k, sizeof k, "\"k%d\"", (i * 7 + i / 5) % 3);
        log.len = 0;
        win(&log, 0, t[i], k, 1);
        lw_state_from(s, 0);
        CHECK(apply(s, &log, &out, &nres) == 0);
        ptime[i] = lw_state_source_time_of(s, 0, 0);
        /* the point at or below the next record's, never back */
        uint64_t h = lw_state_seen_below(s, 0, (uint64_t)i + 1);
        CHECK(h <= (uint64_t)i + 1 && h >= last);
        last = h;
        if (i == K - 1) c = h;
    }
    CHECK(c > 0 && c < (uint64_t)K && nres > 500);
    lw_state_tick(s, INT64_MAX, &out, 0);
    char *all = sorted_lines(&out, 0);
    for (int wrong = 0; wrong < 2; wrong++) {
        int from = wrong ? K : (int)c;
        struct lw_state *r = lw_state_new(p, SIZE_MAX);
        struct lw_buf rout;
        lw_buf_init(&rout);
        lw_state_from(r, 0);
        lw_state_restore_of(r, 0, 0, ptime[from - 1], INT64_MIN);
        size_t rn = 0;
        for (int i = from; i < CREC; i++) {
            char k[16];
            snprintf(k, sizeof k, "\"k%d\"", (i * 7 + i / 5) % 3);
            log.len = 0;
            win(&log, 0, t[i], k, 1);
            CHECK(apply(r, &log, &rout, &rn) == 0);
        }
        lw_state_tick(r, INT64_MAX, &rout, 0);
        size_t foreign = 0, n = 0; /* the replay's results the first run did not give */
        for (const char *q = rout.p; q < rout.p + rout.len; n++) {
            const char *nl = memchr(q, '\n', (size_t)(rout.p + rout.len - q));
            char line[256];
            snprintf(line, sizeof line, "\n%.*s\n", (int)(nl - q), q);
            foreign += strstr(all, line + 1) != all && strstr(all, line) == NULL;
            q = nl + 1;
        }
        if (!wrong && foreign > 0)
            fprintf(stderr, "count_replay: %zu of %zu results from %d not the first run's\n",
                    foreign, n, from);
        CHECK(n > 100 && (wrong ? foreign > 0 : foreign == 0));
        lw_buf_fini(&rout);
        lw_state_free(r);
    }
    free(all);
    lw_state_free(s);
    lw_program_free(p);
    lw_buf_fini(&log);
    lw_buf_fini(&out);
}

/* a stalled seen() commit: a few keys repeated every second over a 10 s ttl, their first
 * sightings drifting apart, leave no point outside every span for long: the horizon stays
 * near the start and the spans pile up with the stream. lw_state_seen_pass (kstate's bound:
 * the commit goes to the delivered point) moves the horizon there and drops the spans before
 * it: they stay bounded by the keys gone since, and the horizon never goes back after it. */
static void
seen_stall(void)
{
    enum { N = 6000, LAG = 50 };
    struct lw_program *p = compile("if seen(line, 10s, now()) { drop }");
    CHECK(p != NULL);
    if (p == NULL) return;
    uint64_t r = 2463534242ull;
    char key[16];
    for (int pass = 0; pass < 2; pass++) {
        struct lw_state *s = lw_state_new(p, SIZE_MAX);
        size_t most = 0;
        uint64_t h = 0, forced = 0;
        for (int i = 0; i < N; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            snprintf(key, sizeof key, "\"k%d\"", (int)(r % 10)); /* 10 keys, 10 records a second */
            put(s, 0, key, BASE + (int64_t)i * SEC / 10, 10 * SEC);
            if (pass == 1 && i % 100 == 99 && i >= LAG) {
                forced = (uint64_t)(i + 1 - LAG);
                lw_state_seen_pass(s, 0, forced);
                lw_state_seen_pass(s, 0, forced - 10); /* never back */
            }
            uint64_t nh = lw_state_seen_horizon(s, 0);
            CHECK(nh >= h && nh >= forced && nh <= (uint64_t)i + 1);
            h = nh;
            if (lw_state_seen_spans(s, 0) > most) most = lw_state_seen_spans(s, 0);
        }
        if (pass == 0) {
            CHECK(h < N / 10);    /* stalled: no commit past the first tenth */
            CHECK(most > N / 20); /* the spans grow with the stream: a key gone every ~1.1 s */
        } else {
            CHECK(h >= N - 100 - LAG); /* at the delivered point */
            CHECK(most < 50);          /* the keys gone since the last pass (~150 records: ~15 s) */
        }
        lw_state_seen_pass(s, 0, UINT64_MAX); /* at most the records applied */
        CHECK(lw_state_seen_horizon(s, 0) == N && lw_state_seen_spans(s, 0) <= 10);
        lw_state_free(s);
    }
    lw_program_free(p);
}

void
test_state(void)
{
    multi_horizon();
    seen_parts();
    seen_horizon();
    seen_below();
    seen_below_final();
    session_replay();
    count_replay();
    seen_stall();
    seen_loop();
    malformed();
    hostile_text();
    decreasing("tumbling 1s", " late 300d", 0, NREC);
    decreasing("sliding 2s every 1s", " late 300d", 0, NREC + 1);
    decreasing("session 1s", " late 300d", 1, NREC); /* a key per record: a session each */
    decreasing("session 1s", " late 300d", 0, NREC); /* one key, 1s apart: a session each */
    session_merge();
    session_bridging(SIZE_MAX);
    session_bridging(1 << 20);
    decreasing("count 3 timeout 300d", "", 1, NREC);
    spread_two();
    decreasing_bounded();
    sketch_bytes();
}
