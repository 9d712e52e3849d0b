/* logwash.h: the public C API of liblogwash, the template language of logwash(1) as a
 * library. Compile a template once (logwash_compile), then run it per record with a runner
 * (logwash_run), and read that record's outputs (logwash_outputs) or its error.
 *
 * Model: jq (compile once, run per input), SQLite (prepare / step), Lua (one header, opaque
 * state). Link with `pkg-config --cflags --libs logwash`. The man page is logwash(3).
 *
 * Conventions
 * - Strings the library takes are byte strings with a length (they need not be
 *   NUL-terminated and may hold NUL bytes) unless the parameter says "C string".
 * - Everything returned lives as long as the object it came from (see each function); the
 *   caller frees only what a _new or compile function returned, with the matching _free.
 * - Errors: a function that can fail returns NULL or a non-zero status and fills a
 *   struct logwash_error (message, and the template line:col when there is one).
 * - The library never exits, aborts, or installs signal handlers. Running out of memory is an
 *   error like any other (LOGWASH_NOMEM, or a compile error "out of memory").
 *
 * Threads
 * - A struct logwash_template is immutable once compiled: any number of runners, in any
 *   number of threads, may run it at the same time. Free it only after every runner made
 *   from it is freed.
 * - A struct logwash_runner belongs to one thread at a time (no locking inside): use one
 *   runner per thread. Different runners share nothing mutable.
 * - No function keeps global mutable state; logwash_version and the _default functions may
 *   be called from anywhere at any time.
 */
#ifndef LOGWASH_H
#define LOGWASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LOGWASH_API __attribute__((visibility("default")))
#else
#define LOGWASH_API
#endif

/* The version of this header; logwash_version() gives the library's. */
#define LOGWASH_VERSION "0.1.0"

/* The default limits of a record, used by logwash_limits_default and by logwash(1) (whose
 * --max-* options override them). Plain decimal numbers, so they can be shown in text. */
#define LOGWASH_DEFAULT_STEPS        1000000   /* instructions per record */
#define LOGWASH_DEFAULT_MATCH_LIMIT  10000000  /* pcre2 match limit per regex call */
#define LOGWASH_DEFAULT_DEPTH_LIMIT  10000     /* pcre2 depth limit per regex call */
#define LOGWASH_DEFAULT_MAX_OUTPUT   16777216  /* bytes of output per record (16 MiB) */
#define LOGWASH_DEFAULT_MAX_MEMORY   67108864  /* bytes of working memory per record (64 MiB) */
#define LOGWASH_DEFAULT_REGEX_BUDGET 67108864  /* regex work per record (bytes searched...) */
#define LOGWASH_DEFAULT_MAX_STATE    268435456 /* bytes of lookup tables, all together (256 MiB) */

/* logwash_version: the library's version, a C string such as "0.1.0" (static). */
LOGWASH_API const char *logwash_version(void);

/* ---- Errors ---- */

struct logwash_error {
    /* 1-based line and column (in UTF-8 characters) of the template text the error points
     * at, or 0 and 0 when it has no place in the template (an unreadable file, a record that
     * is not JSON, out of memory). */
    int line, col;
    /* lowercase, without a final period; never longer than this array (cut on a byte) */
    char message[512];
};

/* ---- Compiling a template ---- */

/* One compile error, as logwash_compile_options.on_error is given it. Every pointer is valid
 * during the call only. */
struct logwash_compile_error {
    /* The file it is in, a C string: the template's name (logwash_template_name's), or the
     * imported file's path as found (DIR/NAME.lw). */
    const char *file;
    /* 1-based line and column (in UTF-8 characters) in that file, or 0 and 0 when the error
     * has no place (out of memory). */
    int line, col;
    /* The message, a C string: lowercase, no final period; a hint follows it. */
    const char *message;
    /* The error as logwash(1) prints it, a C string of lines each ending in a newline:
     * "FILE:LINE:COL: error: MESSAGE", the source line, a caret line under the place. */
    const char *text;
    /* It is error number index (from 0) of count; more: the compilation stopped at
     * max_errors, so the template has more errors than count. */
    unsigned index, count;
    bool more;
};

struct logwash_compile_options {
    /* The template's name in messages (a C string, copied); NULL: the file's path for
     * logwash_compile_file, "template" for logwash_compile. Default NULL. */
    const char *name;
    /* pcre2 JIT compilation of the template's regexes when the platform has it. Default
     * true; false only to debug or when executable memory is not allowed. */
    bool jit;
    /* Directories of grok pattern files (logwash(1) --patterns), loaded after the built-in
     * patterns, each directory's files in name order, a later definition winning. Default
     * NULL and 0: the built-in patterns only. */
    const char *const *pattern_dirs; /* C strings */
    size_t npattern_dirs;
    /* Directories (C strings) where `import "NAME.lw"` looks, in order, after the directory of
     * the template's file (logwash_compile_file); a template compiled from text imports from
     * these only (logwash(1) --lib). An error in an imported file is reported at the
     * template's import, its message starting "in FILE:LINE:COL: ". Default NULL and 0. */
    const char *const *import_paths;
    size_t nimport_paths;

    /* Every compile error (added in 0.1.0, after the members above; set by
     * logwash_compile_options_default, and zero in an options struct built with designated
     * initializers means the defaults). A template that does not compile gets its first error
     * in the struct logwash_error as before; on_error, when not NULL, is called once for every
     * error, in the order of their places (the template, then each imported file), before
     * logwash_compile returns NULL; not for a template that compiles. */
    void (*on_error)(void *ud, const struct logwash_compile_error *e);
    void *on_error_ud;
    /* The most errors looked for: past it the compilation stops (logwash(1) then says "too
     * many errors"). Default 0: 20; at most 1000. */
    unsigned max_errors;
    /* The names (C strings) of the tables the template's runners will have (see Lookup
     * tables below): lookup("NAME", ...) of any other name is then a compile error with a
     * suggestion. Default NULL and 0: not declared, and a missing table is an error of the
     * record that looks it up. A non-NULL array with 0 names declares that there are none. */
    const char *const *tables;
    size_t ntables;
    /* Coverage (logwash-test(1) --coverage; added after the members above, zero means off):
     * the template counts, in each of its runners, how often every statement ran and every
     * outcome of each if/else, ?:, ??, && and || and comprehension if was taken (see
     * Coverage below). It runs a little
     * slower, and each point reached is an instruction counted against limits.steps; a
     * template compiled without it carries no trace of it. Default false. */
    bool coverage;
    /* parse_user_agent's rules (added in 0.1.0, after the members above; default NULL): called
     * with ua_rules_ud at most once per compilation, at the template's first
     * parse_user_agent; returns a set of rules (see User agents below) that the template
     * takes its own hold on, or NULL after writing a message (a C string of at most msgsize
     * bytes) that becomes the compile error at that call. NULL: a template that calls
     * parse_user_agent does not compile. */
    struct logwash_ua_rules *(*ua_rules)(void *ud, char *msg, size_t msgsize);
    void *ua_rules_ud;
};

/* logwash_compile_options_default: set *o to the defaults above. */
LOGWASH_API void logwash_compile_options_default(struct logwash_compile_options *o);

struct logwash_template;

/* logwash_compile: compile template text (len bytes). o may be NULL for the defaults. Returns
 * a template the caller frees with logwash_template_free, or NULL with *err filled (err may
 * be NULL): a syntax or type error, an unknown function, a bad regex or grok pattern (with
 * line:col), an unreadable pattern directory, out of memory. The template keeps its own copy
 * of text and of every option: they may be freed after the call. */
LOGWASH_API struct logwash_template *logwash_compile(const char *text, size_t len,
                                                     const struct logwash_compile_options *o,
                                                     struct logwash_error *err);

/* logwash_compile_file: logwash_compile over the file at path (a C string), at most 16 MiB
 * of it. A file that cannot be read, or is longer, is an error "cannot read PATH: REASON"
 * without line:col. */
LOGWASH_API struct logwash_template *logwash_compile_file(const char *path,
                                                          const struct logwash_compile_options *o,
                                                          struct logwash_error *err);

/* logwash_template_free: free t (NULL: nothing). Every runner of t must be freed first. */
LOGWASH_API void logwash_template_free(struct logwash_template *t);

/* logwash_template_name: the name t's messages use (a C string owned by t), so a caller can
 * write errors as "NAME:LINE:COL: MESSAGE". */
LOGWASH_API const char *logwash_template_name(const struct logwash_template *t);

/* logwash_template_warnings: what the compiler found doubtful in t without refusing it (a grok
 * reference with text after its field, which Logstash ignores), rendered as logwash(1) prints
 * it ("FILE:LINE:COL: warning: ...", the source line, a caret), *len bytes (len may be NULL);
 * "" when none. Owned by t. */
LOGWASH_API const char *logwash_template_warnings(const struct logwash_template *t, size_t *len);

/* The framing a template declares (`multiline start /RE/`, `multiline continue /RE/`,
 * `multiline indent`), for a caller that splits its input into records: start and cont are
 * the regexes as PCRE2 pattern text with any flags made inline (C strings owned by t), NULL
 * when not declared; indent is true for `multiline indent`. All NULL and false: one record
 * per line. logwash(1) uses it unless an option chose the framing. */
struct logwash_framing {
    const char *start, *cont;
    bool indent;
};

/* logwash_template_framing: the framing t declares, into *f. */
LOGWASH_API void logwash_template_framing(const struct logwash_template *t,
                                          struct logwash_framing *f);

/* ---- Runners ---- */

/* Per-record limits. A record that passes one fails with LOGWASH_ERROR (the message names
 * the limit) and leaves no output. Zero is a limit of zero, not "unlimited". */
struct logwash_limits {
    uint64_t steps;        /* instructions per record (LOGWASH_DEFAULT_STEPS) */
    uint32_t match_limit;  /* pcre2 match limit per regex call */
    uint32_t depth_limit;  /* pcre2 depth limit per regex call */
    size_t max_output;     /* bytes of encoded output per record, all outputs together */
    size_t max_memory;     /* bytes of working memory per record */
    uint64_t regex_budget; /* regex work per record: bytes searched plus retries */
};

/* logwash_limits_default: set *l to the LOGWASH_DEFAULT_* values. */
LOGWASH_API void logwash_limits_default(struct logwash_limits *l);

/* How records are decoded: as the template declares (`input json`, else text), as text
 * (`.` is an empty object, `line` the bytes), or as one JSON value (`.`). */
enum logwash_input { LOGWASH_INPUT_DEFAULT, LOGWASH_INPUT_TEXT, LOGWASH_INPUT_JSON };

/* How emitted values are encoded: a JSON text, or the value's text form (strings bare).
 * Printed values (`print`) are always in text form. */
enum logwash_output_format { LOGWASH_OUTPUT_JSON, LOGWASH_OUTPUT_TEXT };

/* `now` of a runner that reads the clock (CLOCK_REALTIME) at the start of every record. */
#define LOGWASH_NOW_CLOCK INT64_MIN

struct logwash_runner_options {
    struct logwash_limits limits;      /* default: logwash_limits_default */
    enum logwash_input input;          /* default LOGWASH_INPUT_DEFAULT */
    enum logwash_output_format output; /* default LOGWASH_OUTPUT_JSON */
    /* The zone of stamps without one (parse_time, format_time): a C string, "UTC", an offset
     * such as "+05:30", or an IANA name ("Europe/Paris", read from $TZDIR or
     * /usr/share/zoneinfo). Default NULL: UTC. */
    const char *tz;
    /* now(), in nanoseconds since 1970-01-01 UTC, the same for every record; default
     * LOGWASH_NOW_CLOCK: the clock when each record starts. */
    int64_t now_ns;
    /* Whether outputs keep the clauses of `emit v to T key K headers H` (has_topic, key,
     * headers) and a wrong clause (a topic that is not a string, headers that are not an
     * object) fails the record. Default true; false: the clauses are evaluated but ignored,
     * and outputs have none (logwash(1) writing to stdout). */
    bool routes;
    /* With routes: called for each `to T` as the emit runs, in the runner's thread. Returns
     * NULL to accept the topic (len bytes at topic), or a C string saying what is wrong with
     * it ("is not a Kafka topic name"): the record then fails with LOGWASH_ERROR, at the
     * emit's line:col, "emit ... to: 'TOPIC' REASON". ud is check_topic_ud. Default NULL:
     * every string is accepted. */
    const char *(*check_topic)(void *ud, const char *topic, size_t len);
    void *check_topic_ud;
};

/* logwash_runner_options_default: set *o to the defaults above. */
LOGWASH_API void logwash_runner_options_default(struct logwash_runner_options *o);

struct logwash_runner;

/* logwash_runner_new: a runner of t (borrowed: t must outlive the runner) with options o
 * (NULL: the defaults; copied). Returns NULL with *err filled (err may be NULL) for an
 * unknown zone, a bad option value, or out of memory. Free it with logwash_runner_free. */
LOGWASH_API struct logwash_runner *logwash_runner_new(const struct logwash_template *t,
                                                      const struct logwash_runner_options *o,
                                                      struct logwash_error *err);

/* logwash_runner_free: free r and the outputs of its last record (NULL: nothing). */
LOGWASH_API void logwash_runner_free(struct logwash_runner *r);

/* logwash_runner_set_tz: change the runner's zone (as logwash_runner_options.tz; NULL:
 * UTC) for the records that follow. Returns 0, or -1 with *err filled (err may be NULL) and
 * the zone unchanged. The outputs of the last record stay valid (as for the other setters). */
LOGWASH_API int logwash_runner_set_tz(struct logwash_runner *r, const char *tz,
                                      struct logwash_error *err);

/* logwash_runner_set_now: change now() (as logwash_runner_options.now_ns) for the records
 * that follow. */
LOGWASH_API void logwash_runner_set_now(struct logwash_runner *r, int64_t now_ns);

/* logwash_runner_set_limits: change the limits for the records that follow. */
LOGWASH_API void logwash_runner_set_limits(struct logwash_runner *r,
                                           const struct logwash_limits *l);

/* ---- Lookup tables ----
 *
 * lookup("NAME", key) and lookup_ip("NAME", address) read tables loaded from CSV or JSON-lines
 * files (logwash-template(7) TABLES). Load each table once, put tables into a set under their
 * names, and attach the set to every runner: a table is immutable once loaded, so any number
 * of runners in any number of threads read one set at the same time without locks. To reload,
 * load the new table, make a new set, and attach it to each runner between two records (as
 * any call on a runner: not while another thread runs a record on it); a set and its tables
 * are freed when the last runner using them switches away or is freed and the caller has
 * freed its own handles. */

enum logwash_table_format { LOGWASH_TABLE_AUTO, LOGWASH_TABLE_CSV, LOGWASH_TABLE_JSONL };

struct logwash_table_options {
    /* AUTO (default): JSON lines for a name ending .jsonl, .ndjson or .json, CSV for .csv,
     * else JSON lines when the text starts with '{', else CSV (a header row, then rows; RFC
     * 4180 quoting; a row's fields must match the header's). */
    enum logwash_table_format format;
    /* A range table for lookup_ip (default false: a key table for lookup). Its ranges are a
     * CIDR (or single address) in the key column, or, without a key option, the columns or
     * members "start" and "end" (inclusive addresses) when both are there. */
    bool ip;
    /* The key column (CSV) or member (JSON lines), a C string (copied during the load). Default
     * NULL: CSV's first column, JSON's member "key". */
    const char *key;
    /* A key (or range) that appears again: false (default) fails the load naming both lines;
     * true keeps the last row and counts the others (logwash_table_duplicates). */
    bool last_wins;
    /* The memory the table may take (its text, rows and index), default
     * LOGWASH_DEFAULT_MAX_STATE; a bigger table fails to load (never runs out of memory). */
    size_t max_bytes;
};

/* logwash_table_options_default: set *o to the defaults above. */
LOGWASH_API void logwash_table_options_default(struct logwash_table_options *o);

struct logwash_table;

/* logwash_table_load: a table from data (len bytes; copied), named name (a C string) in its
 * messages; o NULL: the defaults. Returns the table (free it with logwash_table_free), or NULL
 * with *err filled (err may be NULL; line and col 0; the message is "NAME:LINE: why" or
 * "NAME: why"): bad CSV (a quote inside an unquoted field, a quote not closed, more or fewer
 * fields than the header, more than 4096 columns), a line that is not a JSON object, a row
 * without its key, a repeated key or range, a bad address or CIDR (such as a prefix over 128,
 * or host bits set), text that is not UTF-8, over max_bytes, out of memory. */
LOGWASH_API struct logwash_table *logwash_table_load(const char *name, const char *data, size_t len,
                                                     const struct logwash_table_options *o,
                                                     struct logwash_error *err);

/* logwash_table_load_file: logwash_table_load over the file at path (a C string, its name in
 * messages); "cannot read PATH: REASON" when it cannot be read. */
LOGWASH_API struct logwash_table *logwash_table_load_file(const char *path,
                                                          const struct logwash_table_options *o,
                                                          struct logwash_error *err);

/* The rows of t, the bytes of memory it holds, the rows a later one replaced (last_wins). */
LOGWASH_API size_t logwash_table_rows(const struct logwash_table *t);
LOGWASH_API size_t logwash_table_bytes(const struct logwash_table *t);
LOGWASH_API size_t logwash_table_duplicates(const struct logwash_table *t);

/* logwash_table_free: drop the caller's handle (NULL: nothing); sets holding t keep it. */
LOGWASH_API void logwash_table_free(struct logwash_table *t);

struct logwash_tables;

/* logwash_tables_new: an empty set of tables, NULL when out of memory. */
LOGWASH_API struct logwash_tables *logwash_tables_new(void);

/* logwash_tables_add: t under name (a C string, copied; a name the template writes as
 * lookup("name", ...)) in s, replacing a table of that name; s keeps its own hold on t.
 * Only before s is attached to a runner. Returns 0, or -1 with *err filled (err may be NULL):
 * s is attached already, an empty name, out of memory. */
LOGWASH_API int logwash_tables_add(struct logwash_tables *s, const char *name,
                                   struct logwash_table *t, struct logwash_error *err);

/* logwash_tables_free: drop the caller's handle (NULL: nothing); runners using s keep it. */
LOGWASH_API void logwash_tables_free(struct logwash_tables *s);

/* logwash_runner_set_tables: the tables of r's records from the next logwash_run on (s NULL:
 * none). r holds s until it is given another set or freed; the set can no longer be changed.
 * Call it between records, never while a record runs on r (another thread may call it when
 * its hand-over of r is ordered, e.g. by a lock, with the thread running r's records). */
LOGWASH_API void logwash_runner_set_tables(struct logwash_runner *r, struct logwash_tables *s);

/* ---- User agents ----
 *
 * parse_user_agent(s) follows ua-parser's rules (uap-core's regexes.yaml: user_agent_parsers,
 * os_parsers, device_parsers; logwash-template(7)). The library reads no YAML: the caller
 * reads the file and adds each rule in the file's order (logwash(1) does it with libfyaml),
 * then hands the set to the compiler (logwash_compile_options.ua_rules). A set may be shared
 * by any number of templates and threads; it must not change once a template holds it. */
enum logwash_ua_section { LOGWASH_UA_USER_AGENT, LOGWASH_UA_OS, LOGWASH_UA_DEVICE };

struct logwash_ua_rules;

/* logwash_ua_rules_new: an empty set, NULL when out of memory. */
LOGWASH_API struct logwash_ua_rules *logwash_ua_rules_new(void);

/* logwash_ua_rules_add: the next rule of section s: regex (a C string, PCRE2 syntax over
 * bytes; case ignored when ignore_case, the file's regex_flag: 'i'), compiled now, and its
 * replacements (C strings or NULL; repl may be NULL for none), in the file's names:
 * USER_AGENT: family_replacement, v1_replacement, v2_replacement; OS: os_replacement,
 * os_v1_replacement ... os_v4_replacement; DEVICE: device_replacement, brand_replacement,
 * model_replacement; the rest NULL. Returns 0, or -1 with *err filled (err may be NULL): a
 * regex PCRE2 refuses ("invalid regex at byte N: ..."), out of memory. */
LOGWASH_API int logwash_ua_rules_add(struct logwash_ua_rules *r, enum logwash_ua_section s,
                                     const char *regex, bool ignore_case, const char *const repl[5],
                                     struct logwash_error *err);

/* logwash_ua_rules_count: the rules in section s of r. */
LOGWASH_API size_t logwash_ua_rules_count(const struct logwash_ua_rules *r,
                                          enum logwash_ua_section s);

/* logwash_ua_rules_free: drop the caller's handle (NULL: nothing); templates holding the
 * rules keep them. */
LOGWASH_API void logwash_ua_rules_free(struct logwash_ua_rules *r);
/* ---- State across records: seen() and window statements ----
 *
 * logwash-template(7) WINDOWS and DEDUP. A runner never changes shared state while it runs a
 * record: it logs the record's state operations (logwash_runner_state_ops) and answers seen()
 * from the keys its own records gave since it was last told to forget them, and, when it is
 * attached to a state, from that state read-only. The owner of a struct logwash_state applies
 * each record's log in the order records were read (logwash_state_apply), from one thread;
 * windows closed by it give their results then. So any number of runners in other threads
 * give the results of one: a log whose seen() answers the state contradicts is refused, and
 * the caller runs that record again on a runner attached to the state (logwash(1) does it on
 * its own thread), whose answers are the state's. A runner that is neither attached nor told
 * to forget remembers the last 65536 keys it saw. */

/* logwash_template_uses_state: whether t calls seen() or has window statements. */
LOGWASH_API bool logwash_template_uses_state(const struct logwash_template *t);
/* logwash_template_uses_seen: whether t calls seen(): only then can a runner's log be wrong
 * (logwash_state_wrong), so a caller whose logs all come from runners of t need not ask. */
LOGWASH_API bool logwash_template_uses_seen(const struct logwash_template *t);

struct logwash_state;
struct logwash_buffer; /* below, with logwash_run_into */

/* logwash_state_new: the dedup keys and open windows of t's records, holding at most max_bytes
 * (past it the keys inserted first are forgotten, then the windows that end first are closed
 * early, both counted). NULL when out of memory. t must outlive it. When memory runs out inside
 * logwash_state_apply or logwash_state_tick, the state is broken (logwash_state_broken): those
 * calls fail from then on (-1, 0) and it can only be freed. */
LOGWASH_API struct logwash_state *logwash_state_new(const struct logwash_template *t,
                                                    size_t max_bytes);
LOGWASH_API void logwash_state_free(struct logwash_state *s);
LOGWASH_API bool logwash_state_broken(const struct logwash_state *s);
/* logwash_state_set_output: how results are encoded, as runners' outputs are (default
 * LOGWASH_OUTPUT_JSON). */
LOGWASH_API void logwash_state_set_output(struct logwash_state *s, enum logwash_output_format f);

/* logwash_runner_attach_state: r's seen() answers from s too (NULL: from its own keys only)
 * from the next record on; s is only read, in r's thread: attach only a runner that runs in
 * the thread that applies logs to s. */
LOGWASH_API void logwash_runner_attach_state(struct logwash_runner *r,
                                             const struct logwash_state *s);
/* logwash_runner_state_forget: r forgets the keys of its own records (call it before a run of
 * records that follow others r did not see, e.g. a new batch). */
LOGWASH_API void logwash_runner_state_forget(struct logwash_runner *r);
/* logwash_runner_state_ops: the state operations of the last record r ran (whatever its result;
 * apply only those of a record that ended LOGWASH_OK or LOGWASH_DROP), *len bytes owned by r
 * until its next record; *len 0 when there are none. */
LOGWASH_API const void *logwash_runner_state_ops(const struct logwash_runner *r, size_t *len);

/* logwash_state_wrong: whether a seen() answer in ops (len bytes) is not what s says now (or
 * ops is not a log of s's template's runners: see logwash_state_apply). */
LOGWASH_API bool logwash_state_wrong(const struct logwash_state *s, const void *ops, size_t len);
/* logwash_state_apply: a record's operations applied to s (now_ns: processing time, or
 * LOGWASH_NOW_CLOCK: the clock, read only when s's template has a window of processing
 * time: with event times alone the call reads no clock). Returns
 * 1 when a seen() answer in them is wrong (nothing applied: run the record again on a runner
 * attached to s), 2 when ops is not what logwash_runner_state_ops gave for a runner of s's
 * template (every length in it is checked, and the JSON of its keys and values, which results
 * carry: nothing applied, s unchanged), -1 when s is broken
 * (out of memory), else 0. Results of the windows it closes are
 * appended to *out (each encoded as logwash_state_set_output says, and '\n'), their number added to
 * *nres. A contribution too late for its window is not counted: *late is set true and late_msg (cap
 * bytes, may be NULL) says which. */
LOGWASH_API int logwash_state_apply(struct logwash_state *s, const void *ops, size_t len,
                                    int64_t now_ns, struct logwash_buffer *out, size_t *nres,
                                    bool *late, char *late_msg, size_t cap);
/* logwash_state_tick: processing time is now now_ns: the processing-time windows it ends close
 * (INT64_MAX: the end of input: every window closes). Results as logwash_state_apply's, but
 * only until out->len reaches limit (0: no limit): write *out and call again until it returns
 * 0, so a million results never wait in memory at once. Returns their number. */
LOGWASH_API size_t logwash_state_tick(struct logwash_state *s, int64_t now_ns,
                                      struct logwash_buffer *out, size_t limit);
/* logwash_state_routes: the results the last logwash_state_apply or logwash_state_tick on s
 * appended to *out (which the caller passes again unchanged), in order, *n of them, as outputs:
 * data and len as a runner's (data into out->data); has_topic and topic when the result's
 * window statement has `to "TOPIC"`; always has_key, with key the compact JSON of the result's
 * identity, the same for a result given again by a replay (logwash-template(7) WINDOWS):
 * {"window":N,"window_start":S,"window_end":E,"key":K} (N: the statement's number in the
 * template, from 1; K: the key as compared, null without one) or, for a hashed key,
 * "key_hash":H instead of "key". Valid until the next call on s. */
LOGWASH_API const struct logwash_output *
logwash_state_routes(struct logwash_state *s, const struct logwash_buffer *out, size_t *n);
/* logwash_state_topic: the topic of window statement w's `to` clause (its length in *len), NULL
 * when it has none or there is no statement w (from 0, in the template's order). */
LOGWASH_API const char *logwash_state_topic(const struct logwash_state *s, uint32_t w, size_t *len);

struct logwash_state_counts {
    uint64_t keys;         /* dedup keys held */
    uint64_t evicted;      /* dedup keys forgotten before their ttl, at max_bytes */
    uint64_t windows;      /* (window, key) results open */
    uint64_t results;      /* window results given */
    uint64_t closed_early; /* windows closed before their end, at max_bytes */
    uint64_t late;         /* contributions refused as late */
    size_t bytes;          /* memory held */
};
LOGWASH_API void logwash_state_counts(const struct logwash_state *s,
                                      struct logwash_state_counts *c);
/* logwash_state_horizon: how many of the logs applied so far (logwash_state_apply calls that
 * returned 0, the first being 0) are no longer needed: the index of the first one a window not
 * closed and given yet, or a seen() key not expired, still needs (the number applied when none
 * does). A source that replays from a position (Kafka) may move it past a record once the
 * record's index is below the horizon and the results given up to now were delivered. */
LOGWASH_API uint64_t logwash_state_horizon(const struct logwash_state *s);
/* logwash_state_applied: the logs applied so far (logwash_state_apply calls that returned 0);
 * logwash_state_session_horizon: with a window session statement logwash_state_horizon, else
 * UINT64_MAX: a session's records are known to have fed only windows given when it closes, not
 * when they are applied (logwash_state_last_end_of says nothing of sessions), so a source that
 * replays holds a record until its index is below the horizon taken when the results given up
 * to then were delivered. */
LOGWASH_API uint64_t logwash_state_applied(const struct logwash_state *s);
LOGWASH_API uint64_t logwash_state_session_horizon(const struct logwash_state *s);
/* logwash_state_replay_exact: whether replaying the records from the one at the horizon, in
 * the same order, on a new state, gives again exactly the window results not given yet and none
 * of those given (true for a template whose only state is event-time tumbling, sliding,
 * session or count windows, one statement or several (count windows: replayed from a point
 * at or below logwash_state_seen_below), as long as no window closed early at max_bytes;
 * with lateness, sliding windows or several statements, only when each source's time and the
 * windows given are restored first, per statement: logwash_state_restore_of); also true for a
 * template whose only state is seen(), replayed from logwash_state_seen_horizon, and for
 * seen() with such windows, replayed from logwash_state_seen_below the windows' point. logwash(1)
 * allows state with Kafka input only while this holds. */
LOGWASH_API bool logwash_state_replay_exact(const struct logwash_state *s);
/* logwash_state_from: the operations applied from now on come from source src (a small
 * number: a Kafka partition). Each source has its own event time: a contribution is late when
 * its own source's latest time passed its window's end plus the lateness, and a window closes
 * when the smallest latest time of the sources not idle passes it (a source named but with no
 * time yet holds every window back). Without sources, the whole input is one. */
LOGWASH_API void logwash_state_from(struct logwash_state *s, uint32_t src);
/* logwash_state_source_idle: source src stops holding windows back (idle true; its late
 * contributions to windows closed meanwhile are late) or holds them again (false). */
LOGWASH_API void logwash_state_source_idle(struct logwash_state *s, uint32_t src, bool idle);
/* logwash_state_last_end: the largest end plus lateness of the event-time windows the last
 * operations applied contributed to on time; INT64_MIN when none. */
LOGWASH_API int64_t logwash_state_last_end(const struct logwash_state *s);
/* logwash_state_closed: every event-time window whose end plus lateness is at or before it
 * has closed and given its results (INT64_MIN: none yet). */
LOGWASH_API int64_t logwash_state_closed(const struct logwash_state *s);
/* logwash_state_source_time: source src's latest event time (INT64_MIN: none yet), as the
 * lateness of its next contribution sees it. */
LOGWASH_API int64_t logwash_state_source_time(const struct logwash_state *s, uint32_t src);
/* logwash_state_restore: a replay from a Kafka commit starts: source src (named with
 * logwash_state_from) had latest time time when the commit was made (INT64_MIN: none), and
 * every window whose end plus lateness is at or before given had closed and its results were
 * given: a contribution to such a window is dropped (neither counted nor late) unless its own
 * source's time makes it late, so the replay gives none of them again. */
LOGWASH_API void logwash_state_restore(struct logwash_state *s, uint32_t src, int64_t time,
                                       int64_t given);
/* Per window statement w (0 for the template's first, in its order), for a caller that keeps
 * a time and how far windows were given per statement (logwash(1)'s Kafka commit metadata):
 * logwash_state_statements: how many window statements t has; logwash_state_last_end_of: as
 * logwash_state_last_end for w's windows alone; logwash_state_closed_of: every window of w
 * whose end plus lateness is at or before it has closed and given its results;
 * logwash_state_source_time_of: source src's latest time for w's windows (a statement may be
 * fed by other records, or at another time, than the first); logwash_state_restore_of: as
 * logwash_state_restore for w alone (time: src's time for w). */
LOGWASH_API uint32_t logwash_state_statements(const struct logwash_state *s);
LOGWASH_API int64_t logwash_state_last_end_of(const struct logwash_state *s, uint32_t w);
LOGWASH_API int64_t logwash_state_closed_of(const struct logwash_state *s, uint32_t w);
LOGWASH_API int64_t logwash_state_source_time_of(const struct logwash_state *s, uint32_t src,
                                                 uint32_t w);
LOGWASH_API void logwash_state_restore_of(struct logwash_state *s, uint32_t src, uint32_t w,
                                          int64_t time, int64_t given);
/* logwash_state_seen_time: source src's latest seen() time (INT64_MIN: none yet): a key a
 * record of src inserted expires when src's time reaches its expiry. */
LOGWASH_API int64_t logwash_state_seen_time(const struct logwash_state *s, uint32_t src);
/* logwash_state_restore_seen: a replay from a Kafka commit starts: source src's seen() time
 * was time there (what logwash_state_seen_time said after the last record before it). */
LOGWASH_API void logwash_state_restore_seen(struct logwash_state *s, uint32_t src, int64_t time);
/* logwash_state_seen_horizon: the index (as logwash_state_horizon counts) of the first record
 * of source src that its commit must not pass for seen(): replaying src's records from the
 * first at or after it, src's seen() time restored, gives every later record of src the same
 * answers (when src's records are the only ones using its keys: input partitioned by the key).
 * It never goes back. */
LOGWASH_API uint64_t logwash_state_seen_horizon(struct logwash_state *s, uint32_t src);
/* logwash_state_seen_below: the largest index at most upto (and at least the last one given)
 * at which src's commit may be, by the rule of logwash_state_seen_horizon: no commit strictly
 * inside a span of a seen() key or of a count window of src's records, nor past a key still
 * held or an open count window's first record. The commit point of seen() or count windows
 * with other windows, upto being the windows' (docs/design-state.md 3c, 3d); upto must never go
 * back from one call to the next for a source. */
LOGWASH_API uint64_t logwash_state_seen_below(struct logwash_state *s, uint32_t src, uint64_t upto);
/* logwash_state_count_statements: how many `window count` statements the template has. Their
 * windows are in logwash_state_seen_horizon too: no commit of a source strictly inside a
 * count window of its records (from its first to its last) nor past an open one's first, so
 * a replay from the commit, the source's time restored, groups the records as before (input
 * partitioned by the window key). */
LOGWASH_API uint32_t logwash_state_count_statements(const struct logwash_state *s);
/* logwash_state_seen_spans: what source src keeps for logwash_state_seen_horizon: spans of
 * 16 bytes each, kept until the horizon passes them (a stalled commit piles them up). */
LOGWASH_API size_t logwash_state_seen_spans(const struct logwash_state *s, uint32_t src);
/* logwash_state_seen_pass: src's commit goes past the records before index upto anyway (a
 * bound on what a stalled commit holds): the horizon moves there, the spans before it are
 * dropped. A replay from there may find "new" a key first seen before it (a duplicate let
 * through); later horizons are exact again. */
LOGWASH_API void logwash_state_seen_pass(struct logwash_state *s, uint32_t src, uint64_t upto);

/* ---- Running a record ---- */

/* A Kafka header of an input record (meta) or of an output (emit ... headers). */
struct logwash_header {
    const char *name;
    size_t name_len;
    const char *value; /* NULL when the header has a null value */
    size_t value_len;
};

enum logwash_meta_kind { LOGWASH_META_NONE, LOGWASH_META_FILE, LOGWASH_META_KAFKA };

/* Where a record came from: the template's `meta`. Only the members of its kind are read.
 * FILE: meta = {"source": source, "line": line}. KAFKA: meta = {"topic", "partition",
 * "offset", "key" (null unless has_key), "timestamp" (a time value, null unless
 * has_timestamp), "headers" (an object: name -> string or null; a repeated name: the last)}.
 * NONE, or no struct at all: meta is null. Everything is copied or used during the call
 * only. */
struct logwash_meta {
    enum logwash_meta_kind kind;
    /* LOGWASH_META_FILE */
    const char *source; /* file name, e.g. "-" or "/var/log/app.log" */
    size_t source_len;
    uint64_t line; /* record number in that source, from 1 */
    /* LOGWASH_META_KAFKA */
    const char *topic;
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    bool has_key;
    const char *key;
    size_t key_len;
    bool has_timestamp;
    int64_t timestamp_ms; /* milliseconds since 1970-01-01 UTC */
    const struct logwash_header *headers;
    size_t nheaders;
};

/* What became of a record. LOGWASH_OK and LOGWASH_DROP keep the record's outputs; every
 * other result has none (what the record emitted before it failed is discarded: all of a
 * record's outputs or none) and an error (logwash_runner_error). */
enum logwash_result {
    LOGWASH_OK,          /* ran to its end: its outputs, possibly none */
    LOGWASH_DROP,        /* `drop` ended it: the outputs made before it (as logwash(1) does) */
    LOGWASH_REJECT,      /* the template rejected it: the reason at the `reject`'s line:col */
    LOGWASH_ERROR,       /* a runtime error or a limit, at the line:col that failed */
    LOGWASH_UNDECODABLE, /* the bytes are not what the input format needs (not JSON) */
    LOGWASH_NOMEM        /* out of memory: the runner is still usable */
};

/* logwash_run: run the runner's template over one record, rec (len bytes, without its line
 * terminator; NULL with len 0: an empty record), from meta (NULL: meta is null). rec and meta
 * are only used during the call. Returns the result; the outputs and error describe this
 * record until the next logwash_run or logwash_runner_free on r. */
LOGWASH_API enum logwash_result logwash_run(struct logwash_runner *r, const char *rec, size_t len,
                                            const struct logwash_meta *meta);

/* One output of a record: an emitted value (print false) or a printed line (print true). A
 * record's outputs lie one after the other in one block: each output's data + len + 1 is the
 * next one's data, so a line-oriented caller may write them all with one write of
 * outs[n - 1].data + outs[n - 1].len + 1 - outs[0].data bytes. */
struct logwash_output {
    bool print;
    /* The encoded bytes: one JSON text (LOGWASH_OUTPUT_JSON) or text, without a line
     * terminator; data[len] is '\n', so a line-oriented caller may write len + 1 bytes. */
    const char *data;
    size_t len;
    /* `emit v to T key K headers H`: the values of the clauses present. A key or header
     * value that is a number or a boolean is given in its text form. Without the clause:
     * has_topic / has_key false, nheaders 0. Topic names are not checked against any
     * broker's rules: that is the caller's business. */
    bool has_topic;
    const char *topic;
    size_t topic_len;
    bool has_key;
    const char *key;
    size_t key_len;
    const struct logwash_header *headers;
    size_t nheaders;
};

/* logwash_outputs: the outputs of the last record run, in the order the template made them,
 * and their number in *n (0 unless the result was LOGWASH_OK or LOGWASH_DROP; the array is
 * NULL when *n is 0). The array and every byte it points to (data, topic, key, headers)
 * belong to r and stay valid until the next logwash_run(_into) or logwash_runner_free on r;
 * after logwash_run_into, data points into the caller's buffer instead (see there). */
LOGWASH_API const struct logwash_output *logwash_outputs(const struct logwash_runner *r, size_t *n);

/* logwash_output_count: the number of outputs of the last record run (as logwash_outputs' *n),
 * and in *emitted (may be NULL) how many of them are emitted values rather than printed lines.
 * Cheaper than logwash_outputs, which fills its array on the first call after a record. */
LOGWASH_API size_t logwash_output_count(const struct logwash_runner *r, size_t *emitted);

/* A growable byte buffer of the caller's (logwash_run_into). data is NULL (with len and cap 0)
 * or memory from malloc holding cap bytes, the first len of them used; the library grows it
 * with realloc, and the caller frees data with free. */
struct logwash_buffer {
    char *data;
    size_t len, cap;
};

/* logwash_run_into: logwash_run, but the record's outputs are appended to *out, from out->len
 * (each followed by '\n', one after the other, as described above) instead of being kept in
 * the runner: a caller that writes a byte stream of many records gathers them without a copy.
 * A record that fails leaves out->len as it was (out->data may have moved). logwash_outputs
 * describes the outputs, their data pointing into out->data: valid until *out is changed or
 * the next logwash_run or logwash_run_into on r (the routing bytes stay the runner's). max_output
 * counts this record's bytes only. */
LOGWASH_API enum logwash_result logwash_run_into(struct logwash_runner *r, const char *rec,
                                                 size_t len, const struct logwash_meta *meta,
                                                 struct logwash_buffer *out);

/* One record of a batch (logwash_run_batch): data (len bytes, as logwash_run's rec) and meta
 * (NULL: meta is null), only used during the call. */
struct logwash_record {
    const char *data;
    size_t len;
    const struct logwash_meta *meta;
};

/* What logwash_run_batch says of each record it ran: its result, its outputs' number and how
 * many of them are emitted values (as logwash_output_count), and out->len after it (its
 * outputs are the bytes from the previous record's end, or out->len at the call, to end). */
struct logwash_record_result {
    enum logwash_result result;
    uint32_t outputs, emitted;
    size_t end;
};

/* logwash_run_batch: logwash_run_into on recs[0], recs[1]... in order, all appending to *out,
 * with the per-call set-up (the out-of-memory exit) done once for them all, so a caller with
 * many short records in memory pays it once; res[i] describes recs[i]. It stops after the
 * first record whose result is neither LOGWASH_OK nor LOGWASH_DROP, after a record with
 * outputs when the runner keeps routes (logwash_runner_options.routes), after a record with
 * state operations (logwash_runner_state_ops: seen(), windows), and before any record
 * once out->len >= max_len (SIZE_MAX: no such stop); so the last record run is the one to ask
 * logwash_runner_error, logwash_outputs, logwash_runner_state_ops and logwash_explanation
 * about, as after logwash_run_into. Returns the number of records run: at least 1 when n > 0. */
LOGWASH_API size_t logwash_run_batch(struct logwash_runner *r, const struct logwash_record *recs,
                                     size_t n, struct logwash_buffer *out, size_t max_len,
                                     struct logwash_record_result *res);

/* logwash_runner_error: why the last record was not LOGWASH_OK or LOGWASH_DROP (message
 * empty and line 0 otherwise): for LOGWASH_REJECT the reason and for LOGWASH_ERROR the message,
 * both with the line:col of the statement; for LOGWASH_UNDECODABLE and LOGWASH_NOMEM no
 * position. Owned by r; valid until the next logwash_run or logwash_runner_free on r. */
LOGWASH_API const struct logwash_error *logwash_runner_error(const struct logwash_runner *r);

/* logwash_runner_steps: the template instructions r has run, over every record since it was
 * made (each record's count is what --max-steps bounds: failed, rejected and dropped records
 * count theirs; an undecodable record, which the template never saw, and one that ran out of
 * memory count none). A record's cost is the difference across its run. Read it on r's
 * thread, or after handing r over as for logwash_run. */
LOGWASH_API uint64_t logwash_runner_steps(const struct logwash_runner *r);

/* ---- Helpers for programs built on the library (logwash(1) uses them) ---- */

/* logwash_template_disasm: write t's bytecode to f, one instruction per line with the
 * template line:col it came from (logwash(1) --disasm). The listing is for people: its
 * format may change in any version. Returns 0, or -1 when writing to f failed. */
LOGWASH_API int logwash_template_disasm(const struct logwash_template *t, FILE *f);

/* logwash_patterns_describe: load the grok patterns a template compiled with o would have
 * (the built-ins, then o's pattern_dirs; o may be NULL) and write to f, for people (the format
 * may change): with name NULL every pattern name with the file:line defining it, sorted; else
 * that pattern's file:line, definition, the fields it captures with their types and, with
 * verbose, its whole expansion as PCRE2 reads it (logwash(1) --list-patterns). Returns 0, or
 * -1 with err set: a pattern file that does not load, or an unknown name (the message gives
 * the nearest name, and the Logstash library file that defines it when it is one of theirs). */
LOGWASH_API int logwash_patterns_describe(const struct logwash_compile_options *o, const char *name,
                                          bool verbose, FILE *f, struct logwash_error *err);

/* logwash_tz_check: whether tz (a C string, as logwash_runner_options.tz) names a zone a
 * runner can use, so a program can refuse a bad one before any runner exists. Returns 0, or
 * -1 with *err filled (err may be NULL), the message the same as logwash_runner_new's. */
LOGWASH_API int logwash_tz_check(const char *tz, struct logwash_error *err);

/* logwash_parse_time: text (len bytes) as an RFC 3339 time ("2026-03-01T12:00:00Z") or as
 * seconds since 1970-01-01 UTC ("1772366400"), read as the template's parse_time(s,
 * "rfc3339") and parse_time(s, "epoch") read them (UTC when the text names no offset), into
 * *ns: nanoseconds since 1970-01-01 UTC, as logwash_runner_options.now_ns takes them
 * (logwash(1) --now). Returns 0, or -1 with *ns unchanged. */
LOGWASH_API int logwash_parse_time(const char *text, size_t len, int64_t *ns);
/* ---- Explaining records ---- */

/* logwash_runner_set_explain: with on, every record r runs from now on is also explained, in
 * text for people (logwash(1) EXPLAIN shows it; not a format to parse): for each match(),
 * grok() and dissect() the template evaluates, in order, its line:col and whether it matched,
 * and for a non-match how far it got (grok: the first piece of the pattern, such as
 * %{HTTPDATE:timestamp}, that did not match and the byte of the subject where it was tried;
 * dissect: the delimiter not found after a field; a regex: the longest start of the subject
 * that a match could begin with), the subject shown with a caret under that byte; and at
 * each emit or print the value and the variables in scope with their values (JSON, long ones
 * cut). At most 100 sites and 64 KiB per record. Explaining repeats the matching (a grok
 * non-match compiles a regex per piece of its pattern) under the runner's per-call limits,
 * outside the record's regex budget; off (the default, and with on false, which frees it) it
 * costs nothing. Outputs and results are as without it. Returns 0, or -1 when out of memory
 * (explaining stays off). */
LOGWASH_API int logwash_runner_set_explain(struct logwash_runner *r, bool on);

/* logwash_explanation: the explanation of the last record r ran (whatever its result), a
 * C string of *len bytes (len may be NULL), "" when explaining is off or before the first
 * record. Owned by r; valid until the next logwash_run, logwash_runner_set_explain or
 * logwash_runner_free on r. */
LOGWASH_API const char *logwash_explanation(const struct logwash_runner *r, size_t *len);

/* logwash_explanation_misses: how many of the match(), grok() and dissect() calls the last
 * record's explanation shows did not match, or were stopped by a limit (0 when explaining is
 * off), so a caller can show only the records where something did not match (logwash(1)
 * --explain). */
LOGWASH_API unsigned logwash_explanation_misses(const struct logwash_runner *r);

/* ---- Coverage ----
 *
 * A template compiled with logwash_compile_options.coverage has coverage points: each
 * statement, and each outcome of each branch: an if (its then block, and its else side, which
 * is also the way past an if without else), a ?: (its then and else values), a ?? (the
 * left side's value, or the default), a && or || (its left side true or false) and the if of
 * a comprehension (an element kept or left out). Each of its runners counts, over every record it
 * runs, how often each point was reached. Points are in source order within the template's code,
 * then each function's; a function's points are in the file that defines it (the template,
 * or a file it imports). */

enum logwash_coverage_kind {
    LOGWASH_COVERAGE_STATEMENT,
    LOGWASH_COVERAGE_IF,          /* outcome 1: the then block; 0: the else side */
    LOGWASH_COVERAGE_CONDITIONAL, /* ?: outcome 1: the then value; 0: the else value */
    LOGWASH_COVERAGE_DEFAULT,     /* ??: outcome 1: the left side's value; 0: the default */
    LOGWASH_COVERAGE_AND,         /* &&: outcome 1: the left side true (the right one runs); 0:
                                     false (the right one does not) */
    LOGWASH_COVERAGE_OR,          /* ||: outcome 1: the left side true (the right one does not
                                     run); 0: false (the right one runs) */
    LOGWASH_COVERAGE_FILTER       /* the if of a comprehension: outcome 1: the element is kept;
                                     0: it is left out */
};

struct logwash_coverage_point {
    enum logwash_coverage_kind kind;
    int outcome;   /* branches: 1 or 0 as above (a branch's outcome 1 is followed by its
                      outcome 0); statements: 0 */
    unsigned file; /* index for logwash_template_file: 0 the template, then imported files */
    int line, col; /* 1-based, in that file: the statement, the condition, the ?? expression, or
                      the && or || operator */
};

/* logwash_template_coverage: t's coverage points, *n of them (0 and NULL when t was not
 * compiled with coverage). Owned by t. */
LOGWASH_API const struct logwash_coverage_point *
logwash_template_coverage(const struct logwash_template *t, size_t *n);

/* logwash_template_file: the name (as messages name it) of t's source file i, 0 the template
 * and then each file it imports, and its text in *text and *len (either may be NULL); NULL
 * when i is past the last. Owned by t. */
LOGWASH_API const char *logwash_template_file(const struct logwash_template *t, unsigned i,
                                              const char **text, size_t *len);

/* logwash_runner_coverage: how often each of its template's coverage points was reached over
 * every record r ran since it was made (logwash_template_coverage's order), or NULL when the
 * template has none. Owned by r, valid until logwash_runner_free. */
LOGWASH_API const uint64_t *logwash_runner_coverage(const struct logwash_runner *r);

#ifdef __cplusplus
}
#endif

#endif
