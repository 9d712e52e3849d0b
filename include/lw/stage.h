/* What the stages (sources, sinks, the dead-letter path) are configured with: the program fills
 * one struct lw_stage_conf from its options (pipeline.c) and each stage reads its part, so
 * src/io needs none of the option parser's headers. Nothing here runs anything. */
#ifndef LW_STAGE_H
#define LW_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lw_stage_conf {
    int verbosity;   /* -q: -1, default 0, -v: 1; stderr lines only when not negative */
    size_t max_line; /* --max-line: a longer record is cut there */
    /* files (src_file.c): none or "-" means stdin */
    char **inputs;
    int ninputs;
    /* multiline framing: see struct lw_opts */
    const char *ml_start, *ml_continue;
    bool ml_indent;
    uint64_t ml_max_lines;
    size_t ml_max_bytes;
    int64_t ml_timeout_ms;
    uint32_t match_limit, depth_limit; /* pcre2 limits of the multiline regexes */
    bool jit;
    /* Kafka (kafka.c, src_kafka.c, sink_kafka.c) */
    const char *brokers, *group;
    char **topics; /* --topic */
    int ntopics;
    char **props; /* -X key=value */
    int nprops;
    bool exit_at_eof;
    /* the source commits every partition's finished run in one request (rd_kafka_commit with
     * the list), never through auto-commit: windows across partitions (docs/design-state.md) */
    bool commit_atomic;
    const char *out_topic;     /* --out-topic, with Kafka output only */
    uint64_t flush_timeout_ms; /* --flush-timeout */
    /* dead letters: a file or a topic (at most one), NULL: none */
    const char *dl_file, *dl_topic;
    const char *pipeline; /* with several pipelines, its name (prefixes Kafka's lines), else NULL */
};

#endif
