/* Grok: Logstash-format pattern libraries (NAME REGEX per line, %{NAME:field:type} references)
 * and the expansion of a grok expression into one PCRE2 regex, done once at template compile
 * time. The library is compile-time data only; the VM sees a struct lw_grok (regexes plus the
 * field each capture group fills) and fills objects from it (grok() in src/lib/grok.c). */
#ifndef LW_GROK_H
#define LW_GROK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/arena.h"
#include "lw/program.h"
#include "lw/str.h"

/* A pattern library: definitions by name; a later definition of a name replaces an earlier. */
struct lw_grok_def;
struct lw_grok_lib {
    struct lw_arena *a; /* the library's memory (borrowed; the library dies with it) */
    struct lw_grok_def **slots;
    uint32_t cap, n; /* open-addressing table of cap slots (a power of two), n used */
};

/* lw_grok_lib_init: an empty library whose memory comes from arena a. */
void lw_grok_lib_init(struct lw_grok_lib *lib, struct lw_arena *a);

/* The built-in pattern files, generated from patterns/ by the Makefile (grok_builtin.c). */
struct lw_grok_file {
    const char *name;
    const char *text;
};
extern const struct lw_grok_file lw_grok_builtin_files[];
extern const unsigned lw_grok_builtin_nfiles;

/* lw_grok_lib_builtin: add logwash's own core patterns (patterns/ in the source tree, built
 * into the binary), file by file in name order. Returns 0, or -1 with a message in err
 * (errcap bytes) when one does not parse, which tests/grok.sh rules out. */
int lw_grok_lib_builtin(struct lw_grok_lib *lib, char *err, size_t errcap);

/* lw_grok_lib_add_text: add the definitions of one pattern file's text (origin names it in
 * messages; both are copied). Lines: '#' comments, blank lines, or NAME, white space, REGEX.
 * Returns 0, or -1 with "origin:line: message" in err (errcap bytes). */
int lw_grok_lib_add_text(struct lw_grok_lib *lib, const char *origin, const char *text, size_t len,
                         char *err, size_t errcap);

/* lw_grok_lib_load_dir: add every regular file of dir (names not starting with '.') in byte
 * order of their names, as Logstash's patterns_dir does. Returns 0, or -1 with a message. */
int lw_grok_lib_load_dir(struct lw_grok_lib *lib, const char *dir, char *err, size_t errcap);

enum lw_grok_type { LW_GROK_STR, LW_GROK_INT, LW_GROK_FLOAT };

/* A field: the capture group that fills it and its path ([a][b] -> "a", "b"). */
struct lw_grok_field {
    uint16_t group;
    uint8_t type; /* enum lw_grok_type */
    uint8_t npath;
    struct lw_str *path;
};

/* Where a piece of the template's pattern starts (pat: a byte of the pattern; re: where its
 * expansion starts in the regex), so that explain.c can match a prefix of the pattern alone. */
struct lw_grok_cut {
    uint32_t pat, re;
};

/* One alternative: a regex and its fields in pattern order; its regex text and the top-level
 * pieces of its pattern (re->src), for explaining a non-match. */
struct lw_grok_alt {
    struct lw_regex *re;
    uint32_t nfields;
    struct lw_grok_field *fields;
    struct lw_str regex;
    uint32_t ncuts;
    struct lw_grok_cut *cuts; /* in pattern order */
};

/* A compiled grok argument: alternatives tried in order, the first match wins. */
struct lw_grok {
    uint32_t n;
    struct lw_grok_alt *alts;
};

/* lw_grok_expand: the PCRE2 regex text of grok expression pat (into out, program arena a) and
 * its fields (group numbers not yet known: field i is group "gI"). A capture under [@metadata]
 * gets no field (Logstash never outputs it); a field whose path is a proper prefix of another's
 * ([a], [a][b]) is an error. On error returns -1 with a message in err and *erroff the byte
 * offset in pat it concerns. */
struct lw_grok_expansion {
    struct lw_str regex;
    uint32_t nfields;
    struct lw_grok_field *fields;
    uint32_t ncuts;
    struct lw_grok_cut *cuts;
};
int lw_grok_expand(const struct lw_grok_lib *lib, struct lw_str pat, struct lw_arena *a,
                   struct lw_grok_expansion *out, char *err, size_t errcap, size_t *erroff);

/* lw_grok_compile_alt: expand pat and compile it with PCRE2 (JIT when jit) into re and alt.
 * re is the caller's, already registered with its owner (compile.c: the program, which frees
 * re->code), so the code is owned from the moment pcre2 makes it, even if an allocation after
 * it fails. Returns 0, or -1 with err and *erroff as lw_grok_expand. */
int lw_grok_compile_alt(const struct lw_grok_lib *lib, struct lw_str pat, bool jit,
                        struct lw_arena *a, struct lw_regex *re, struct lw_grok_alt *alt, char *err,
                        size_t errcap, size_t *erroff);

/* Listing and lookup (--list-patterns, messages). A definition as it was read: */
struct lw_grok_info {
    struct lw_str name, text; /* the library's memory */
    const char *origin;       /* its file ("builtin:base" or a path) */
    uint32_t line;
};

/* lw_grok_lib_list: every definition of lib (a later one of a name hides an earlier), sorted
 * by name, in *out (an array from arena a); returns their number. */
uint32_t lw_grok_lib_list(const struct lw_grok_lib *lib, struct lw_arena *a,
                          struct lw_grok_info **out);

/* lw_grok_lib_find: name's definition in *out; false when lib (may be NULL) has none. */
bool lw_grok_lib_find(const struct lw_grok_lib *lib, struct lw_str name, struct lw_grok_info *out);

/* lw_grok_hint: for a name lib (may be NULL) does not define, the text to append to the
 * message (" (...)", or "" when there is nothing to say) into buf (cap bytes): the nearest
 * defined name by edit distance, and the file of the standard Logstash library
 * (logstash-patterns-core, legacy or ecs-v1) that defines the name or the nearest of its
 * names (src/lib/grok_std.def, made by tools/grok-std-index.sh). */
void lw_grok_hint(const struct lw_grok_lib *lib, struct lw_str name, char *buf, size_t cap);

#endif
