/* logwash_state_horizon: which applied logs the state still needs (the basis of committing a
 * Kafka offset only past records no open window or live seen() key depends on). A seen() key
 * holds the log that inserted it until its ttl passes; a window holds its first contributor
 * until it closes; a count window given at its Nth record holds nothing; a refused log (a
 * wrong seen() answer) is not counted. Prints "N passed, M failed". */
#include <logwash.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static struct logwash_buffer out;
static size_t nres;

/* apply: rec run on r (attached to s) and its operations applied; the apply's return. */
static int
apply(struct logwash_runner *r, struct logwash_state *s, const char *rec)
{
    enum logwash_result res = logwash_run(r, rec, strlen(rec), NULL);
    if (res != LOGWASH_OK && res != LOGWASH_DROP) return -2;
    size_t len;
    const void *ops = logwash_runner_state_ops(r, &len);
    bool late = false;
    return logwash_state_apply(s, ops, len, 0, &out, &nres, &late, NULL, 0);
}

struct fix {
    struct logwash_template *t;
    struct logwash_state *s;
    struct logwash_runner *r;
};

static bool
open_fix(struct fix *f, const char *text)
{
    struct logwash_error e;
    f->t = logwash_compile(text, strlen(text), NULL, &e);
    CHECK(f->t != NULL);
    if (f->t == NULL) return false;
    f->s = logwash_state_new(f->t, 1 << 20);
    f->r = logwash_runner_new(f->t, NULL, &e);
    logwash_runner_attach_state(f->r, f->s);
    return true;
}

static void
close_fix(struct fix *f)
{
    logwash_runner_free(f->r);
    logwash_state_free(f->s);
    logwash_template_free(f->t);
}

#define REC(id, ts, k) "{\"id\":" #id ",\"ts\":\"2026-01-01T" ts "Z\",\"k\":\"" k "\"}"

int
main(void)
{
    struct fix f;
    /* seen() with a source (a Kafka partition): the same records; the seen() horizon also stays
     * out of the span from a key's insert to the last record that found it live (id 1: logs 0
     * to 2), where logwash_state_horizon does not; its time restored in a new state */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "if seen(.id, 10m, t) { drop }\n")) {
        CHECK(logwash_state_statements(f.s) == 0);
        logwash_state_from(f.s, 0);
        CHECK(logwash_state_seen_time(f.s, 0) == INT64_MIN);
        CHECK(apply(f.r, f.s, REC(1, "00:00:00", "a")) == 0);
        CHECK(apply(f.r, f.s, REC(2, "00:05:00", "a")) == 0);
        CHECK(apply(f.r, f.s, REC(1, "00:06:00", "a")) == 0); /* a duplicate: dropped */
        CHECK(apply(f.r, f.s, REC(3, "00:10:00", "a")) == 0); /* id 1's ttl passed */
        CHECK(logwash_state_horizon(f.s) == 1);
        CHECK(logwash_state_seen_horizon(f.s, 0) == 0); /* log 1 is inside id 1's span */
        CHECK(logwash_state_seen_spans(f.s, 0) == 1);   /* id 1's: (0, 2] */
        /* a commit past it anyway (kstate's bound): the horizon there, the spans before gone */
        logwash_state_seen_pass(f.s, 0, 2);
        CHECK(logwash_state_seen_horizon(f.s, 0) == 2 && logwash_state_seen_spans(f.s, 0) == 1);
        logwash_state_seen_pass(f.s, 0, 1); /* never back */
        CHECK(logwash_state_seen_horizon(f.s, 0) == 2);
        logwash_state_seen_pass(f.s, 0, 3);
        CHECK(logwash_state_seen_horizon(f.s, 0) == 3 && logwash_state_seen_spans(f.s, 0) == 0);
        CHECK(apply(f.r, f.s, REC(4, "00:30:00", "a")) == 0);
        CHECK(logwash_state_seen_horizon(f.s, 0) == 4 && logwash_state_applied(f.s) == 5);
        int64_t t30 = logwash_state_seen_time(f.s, 0);
        CHECK(t30 == 1767227400000000000); /* 2026-01-01T00:30:00Z */
        close_fix(&f);
        open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "if seen(.id, 10m, t) { drop }\n");
        logwash_state_from(f.s, 0);
        logwash_state_restore_seen(f.s, 0, t30);
        CHECK(logwash_state_seen_time(f.s, 0) == t30);
        close_fix(&f);
    }
    /* seen(): a key holds its inserter until the latest seen() time passes its ttl */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "if seen(.id, 10m, t) { drop }\n")) {
        CHECK(logwash_state_horizon(f.s) == 0); /* nothing applied */
        CHECK(apply(f.r, f.s, REC(1, "00:00:00", "a")) == 0);
        CHECK(logwash_state_horizon(f.s) == 0);
        CHECK(apply(f.r, f.s, REC(2, "00:05:00", "a")) == 0);
        CHECK(apply(f.r, f.s, REC(1, "00:06:00", "a")) == 0); /* a duplicate: dropped */
        CHECK(logwash_state_horizon(f.s) == 0);
        CHECK(apply(f.r, f.s, REC(3, "00:10:00", "a")) == 0); /* id 1's ttl passed */
        CHECK(logwash_state_horizon(f.s) == 1);               /* id 2 (log 1) still holds */
        CHECK(apply(f.r, f.s, REC(4, "00:30:00", "a")) == 0);
        CHECK(logwash_state_horizon(f.s) == 4); /* only id 4, inserted by log 4 */
        close_fix(&f);
    }
    /* a tumbling window holds its first contributor until it closes; a late record holds
     * nothing; the end closes all */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "window tumbling 1m at t key .k { n = count() }\n")) {
        CHECK(apply(f.r, f.s, REC(1, "00:00:10", "a")) == 0);
        CHECK(apply(f.r, f.s, REC(2, "00:00:50", "b")) == 0);
        CHECK(logwash_state_horizon(f.s) == 0);
        nres = 0;
        CHECK(apply(f.r, f.s, REC(3, "00:01:05", "a")) == 0); /* closes the first minute */
        CHECK(nres == 2);
        CHECK(logwash_state_horizon(f.s) == 2);
        CHECK(apply(f.r, f.s, REC(4, "00:00:30", "a")) == 0); /* late */
        CHECK(apply(f.r, f.s, REC(5, "00:01:30", "c")) == 0);
        CHECK(logwash_state_horizon(f.s) == 2);
        out.len = 0;
        while (logwash_state_tick(f.s, INT64_MAX, &out, 0) > 0)
            ;
        CHECK(logwash_state_horizon(f.s) == 5);
        close_fix(&f);
    }
    /* a sliding window: a record is held by the last window it is in */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "window sliding 2m every 1m at t { n = count() }\n")) {
        CHECK(apply(f.r, f.s, REC(1, "00:00:10", "a")) == 0); /* [-1m,1m) and [0,2m) */
        CHECK(apply(f.r, f.s, REC(2, "00:01:10", "a")) == 0); /* closes [-1m,1m) */
        CHECK(logwash_state_horizon(f.s) == 0);               /* [0,2m) holds log 0 */
        CHECK(apply(f.r, f.s, REC(3, "00:02:10", "a")) == 0); /* closes [0,2m) */
        CHECK(logwash_state_horizon(f.s) == 1);
        close_fix(&f);
    }
    /* a count window given at its Nth record holds nothing, though it waits for its timeout */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "window count 2 timeout 1m at t key .k { n = count() }\n")) {
        CHECK(apply(f.r, f.s, REC(1, "00:00:10", "a")) == 0);
        CHECK(apply(f.r, f.s, REC(2, "00:00:11", "b")) == 0);
        CHECK(apply(f.r, f.s, REC(3, "00:00:12", "a")) == 0); /* a's second: given */
        CHECK(logwash_state_horizon(f.s) == 1);               /* b's window holds log 1 */
        CHECK(apply(f.r, f.s, REC(4, "00:00:13", "b")) == 0);
        CHECK(logwash_state_horizon(f.s) == 4);
        close_fix(&f);
    }
    /* a log refused for a wrong seen() answer is not counted */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "if seen(.id, 10m, t) { drop }\n")) {
        struct logwash_error e;
        struct logwash_runner *spec = logwash_runner_new(f.t, NULL, &e);
        CHECK(apply(f.r, f.s, REC(1, "00:00:00", "a")) == 0);
        logwash_runner_state_forget(spec);
        CHECK(apply(spec, f.s, REC(1, "00:00:01", "a")) == 1);
        CHECK(apply(f.r, f.s, REC(2, "00:20:00", "a")) == 0); /* log 1: expires id 1 */
        CHECK(logwash_state_horizon(f.s) == 1);
        logwash_runner_free(spec);
        close_fix(&f);
    }
    /* sources (Kafka partitions, logwash_state_from): lateness per source, windows close at
     * the smallest time of the sources not idle, a source with no time yet holds them all */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "window tumbling 1m at t key .k { n = count() }\n")) {
        logwash_state_from(f.s, 0);
        logwash_state_from(f.s, 1);
        logwash_state_from(f.s, 2); /* assigned, never a record */
        CHECK(logwash_state_closed(f.s) == INT64_MIN);
        logwash_state_from(f.s, 0);
        CHECK(apply(f.r, f.s, REC(1, "00:00:10", "a")) == 0);
        CHECK(logwash_state_last_end(f.s) == 1767225660000000000); /* 00:01:00 */
        nres = 0;
        CHECK(apply(f.r, f.s, REC(2, "00:03:10", "a")) == 0); /* 0's time 00:03:10 */
        logwash_state_from(f.s, 1);
        CHECK(apply(f.r, f.s, REC(3, "00:00:20", "a")) == 0); /* on time for source 1 */
        CHECK(logwash_state_last_end(f.s) == 1767225660000000000);
        CHECK(apply(f.r, f.s, REC(4, "00:02:30", "b")) == 0); /* 1's time 00:02:30 */
        CHECK(nres == 0);                                     /* source 2 holds every window */
        logwash_state_source_idle(f.s, 2, true);
        logwash_state_from(f.s, 0);
        out.len = 0;
        CHECK(apply(f.r, f.s, REC(5, "00:03:20", "c")) == 0); /* min(03:20, 02:30) closes 2 */
        CHECK(nres == 1); /* [00:00, 00:01) a: 2 records, one per source */
        CHECK(out.len > 0 && strstr(out.data, "\"n\":2") != NULL);
        CHECK(logwash_state_closed(f.s) == 1767225750000000000); /* 00:02:30 */
        logwash_state_from(f.s, 1);
        CHECK(apply(f.r, f.s, REC(6, "00:01:50", "a")) == 0); /* 1's own time passed 00:02 */
        CHECK(logwash_state_last_end(f.s) == INT64_MIN);      /* late */
        logwash_state_source_idle(f.s, 2, false); /* back: no time, but closed windows stay */
        CHECK(apply(f.r, f.s, REC(7, "00:02:40", "b")) == 0);
        CHECK(logwash_state_last_end(f.s) == 1767225780000000000); /* 00:03:00 */
        logwash_state_from(f.s, 2);
        CHECK(apply(f.r, f.s, REC(8, "00:00:30", "a")) == 0); /* its window closed: late */
        CHECK(logwash_state_last_end(f.s) == INT64_MIN);
        CHECK(logwash_state_closed(f.s) == 1767225750000000000);
        close_fix(&f);
    }
    /* a replay from a Kafka commit (logwash_state_restore): the source's time as of the commit
     * decides lateness again, and windows given before it take no contribution */
    if (open_fix(&f, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                     "window tumbling 1m at t late 30s key .k { n = count() }\n")) {
        logwash_state_from(f.s, 0);
        CHECK(logwash_state_source_time(f.s, 0) == INT64_MIN);
        /* time 00:01:10, windows up to 00:01:00 (+30 s) given */
        logwash_state_restore(f.s, 0, 1767225670000000000, 1767225690000000000);
        CHECK(logwash_state_source_time(f.s, 0) == 1767225670000000000);
        CHECK(logwash_state_source_time(f.s, 1) == INT64_MIN);
        nres = 0;
        out.len = 0;
        CHECK(apply(f.r, f.s, REC(1, "00:00:50", "a")) == 0); /* given: dropped, not late */
        CHECK(logwash_state_last_end(f.s) == INT64_MIN);
        CHECK(apply(f.r, f.s, REC(2, "00:01:50", "a")) == 0); /* 00:02 + 30 s: on time */
        CHECK(logwash_state_last_end(f.s) == 1767225750000000000);
        CHECK(apply(f.r, f.s, REC(3, "00:03:40", "a")) == 0); /* closes [00:01, 00:02) */
        CHECK(nres == 1 && strstr(out.data, "\"n\":1") != NULL);
        struct logwash_state_counts c;
        logwash_state_counts(f.s, &c);
        CHECK(c.late == 0);
        CHECK(apply(f.r, f.s, REC(4, "00:00:40", "a")) == 0); /* late by its source's time */
        logwash_state_counts(f.s, &c);
        CHECK(c.late == 1);
        close_fix(&f);
    }
    /* replay_exact: event-time tumbling, sliding or session windows, one statement or several (with
     * lateness or several statements: the sources restored at a replay per statement,
     * logwash_state_restore_of), nothing else */
    static const struct {
        const char *text;
        bool exact;
    } kinds[] = {
        { "window tumbling 1m at t key .k { n = count() }", true },
        { "window tumbling 1m at t late 5s { n = count() }", true },
        { "window sliding 2m every 1m at t { n = count() }", true },
        { "window tumbling 1m { n = count() }", false }, /* processing time */
        { "window session 1m at t { n = count() }", true },
        { "window session 1m { n = count() }", false },         /* processing time */
        { "window count 2 timeout 1m { n = count() }", false }, /* processing time */
        /* event time: a commit outside every count window's span (seen_below) */
        { "window count 2 timeout 1m at t { n = count() }", true },
        { "if seen(.id, 10m, t) { drop }", true }, /* its own horizon: seen_horizon */
        /* seen() with event-time windows: the largest point seen() allows below the windows' */
        { "if seen(.id, 10m, t) { drop }\nwindow tumbling 1m at t { n = count() }", true },
        /* seen() with count windows: the spans of both in one list (count_upto's point) */
        { "if seen(.id, 10m, t) { drop }\nwindow count 2 timeout 1m at t { n = count() }", true },
        { "window tumbling 1m at t { n = count() }\nwindow tumbling 1h at t { n = count() }",
          true },
        { "window tumbling 1m at t { n = count() }\nwindow sliding 2m every 1m at t - 60 late "
          "5s { n = count() }",
          true },
        { "window tumbling 1m at t { n = count() }\nwindow tumbling 1h { n = count() }", false },
        { "window tumbling 1m at t { n = count() }\nwindow session 1m at t { n = count() }", true },
        { "window tumbling 1m at t { n = count() }\nwindow session 1m { n = count() }", false },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char text[300];
        snprintf(text, sizeof text, "input json\nlet t = parse_time(.ts, \"rfc3339\")\n%s\n",
                 kinds[i].text);
        if (!open_fix(&f, text)) continue;
        CHECK(logwash_state_replay_exact(f.s) == kinds[i].exact);
        close_fix(&f);
    }
    /* a record contributes once to a statement: a window inside a loop does not compile */
    {
        struct logwash_error e;
        const char *loop = "input json\nlet t = parse_time(.ts, \"rfc3339\")\n"
                           "for x in .xs { window tumbling 1m at t { n = count() } }\n";
        struct logwash_template *lt = logwash_compile(loop, strlen(loop), NULL, &e);
        CHECK(lt == NULL);
        logwash_template_free(lt);
    }
    free(out.data);
    return check_summary();
}
