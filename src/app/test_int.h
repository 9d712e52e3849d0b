/* `logwash test`, split over two files: testfile.c reads a NAME.test.yaml (libfyaml) into the
 * cases below and holds the values compared (expected from YAML, got from the outputs' JSON)
 * with their member-by-member diff; test.c runs the cases through liblogwash's public API and
 * reports them (text, TAP, JUnit), and writes --update's expectations. The schema is in
 * logwash-test(1). */
#ifndef LW_TEST_INT_H
#define LW_TEST_INT_H

#include <logwash.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lw/arena.h"
#include "lw/buf.h"
#include "lw/str.h"

/* A value compared: an expected one (from YAML, with its line:col) or a got one (from an
 * output's JSON, line 0). Integers and floats are different kinds (1 is not 1.0). */
enum lw_tv_kind {
    LW_TV_NULL,
    LW_TV_BOOL,
    LW_TV_INT,
    LW_TV_FLOAT,
    LW_TV_STRING,
    LW_TV_ARRAY,
    LW_TV_OBJECT
};

struct lw_tv {
    enum lw_tv_kind kind;
    bool b;
    int64_t i;
    double f;
    struct lw_str s;     /* a string's bytes; a number's text */
    size_t n;            /* elements or members */
    struct lw_str *keys; /* an object's member names (n) */
    struct lw_tv *items; /* elements or member values (n) */
    int line, col;       /* where an expected value is written; 0 for a got one */
};

/* What a record must become. */
enum lw_toutcome { LW_TO_OK, LW_TO_DROP, LW_TO_REJECT, LW_TO_ERROR, LW_TO_UNDECODABLE };

/* A lookup table of `options: tables:` (NAME: FILE or NAME: {file, ip, key, format,
 * last_wins}, as a job file's), loaded once per test file where it is written (line:col). */
struct lw_ttable {
    const char *name, *path, *key; /* C strings; path resolved; key NULL: the default */
    enum logwash_table_format format;
    bool ip, last_wins;
    int line, col;
};

/* Options of a file (`options:`), overridden key by key by a case's own `options:` (its
 * tables are added to the file's, a name again replacing the file's table). */
struct lw_topts {
    bool has_input, has_output, has_tz, has_now, has_meta;
    struct lw_ttable *tables;
    size_t ntables;
    enum logwash_input input;
    enum logwash_output_format output;
    const char *tz; /* C string */
    int tz_line, tz_col;
    int64_t now_ns;
    struct logwash_meta meta; /* strings and headers in the file's arena */
};

struct lw_tcase {
    const char *name; /* C string */
    int line, col;    /* of the case: its first key */
    struct lw_str *inputs;
    size_t ninputs;
    struct lw_topts opts; /* the file's, with the case's own applied */
    /* expectations: an absent key is not checked, but the outcome always is (ok unless the
     * case says dropped, rejected, failed or undecodable) */
    bool has_expect, has_subset, has_printed;
    struct lw_tv expect, subset, printed; /* arrays */
    enum lw_toutcome outcome;
    const char *message; /* the substring of rejected/failed/undecodable (C string), or NULL */
    int oline, ocol;     /* of the outcome key's value */
    bool fresh;          /* no expectation at all: --update writes them */
    /* where --update inserts: after byte insert_off, indented by indent columns; flow: the
     * case is written in flow style ({...}), which --update does not edit */
    size_t insert_off;
    int indent;
    bool flow;
};

struct lw_tfile {
    const char *path;      /* as given (borrowed) */
    char *template_path;   /* resolved against the file's directory */
    int tline, tcol;       /* of `template:`, or 0 when implied */
    const char **patterns; /* grok pattern directories, resolved (npatterns) */
    size_t npatterns;
    const char **libs; /* where import looks after the template's directory, resolved */
    size_t nlibs;
    struct lw_tcase *cases;
    size_t ncases;
    struct lw_buf text; /* the file's bytes, for --update */
    struct lw_arena arena;
};

/* Bounds of a test file: its size (libfyaml keeps about 100 bytes per byte of YAML), the
 * values its aliases may copy, their depth; an input_file's size. */
#define LW_TEST_MAX_FILE   (8 << 20)
#define LW_TEST_MAX_COPIES 100000
#define LW_TEST_MAX_DEPTH  200
#define LW_TEST_MAX_INPUT  (64 << 20)

/* lw_test_load: read the test file at path into f. Returns 0, or -1 with
 * "PATH:LINE:COL: error: MESSAGE" (or "PATH: error: ...") in err and f freed: a YAML syntax
 * error, an unknown key, a value of the wrong kind, a missing input or template file. */
int lw_test_load(struct lw_tfile *f, const char *path, char *err, size_t errcap);

/* lw_test_free: free what lw_test_load made. */
void lw_test_free(struct lw_tfile *f);

/* lw_test_json: parse the JSON text p[0..len) into *v, allocated from a. Returns 0, or -1 when
 * it is not one JSON value. */
int lw_test_json(struct lw_arena *a, const char *p, size_t len, struct lw_tv *v);

/* lw_test_diff: compare an expected value with a got one; subset: want's object members need
 * only be present in got (in any order), else got must have exactly want's members in want's
 * order. Appends one line per difference to out: "    FILE:LINE:COL: PREFIX PATH: what" (the
 * position of the expected value when it has one; PATH as jq writes it: .a.b[2], "." for the
 * whole value). Returns the number of differences. */
int lw_test_diff(const struct lw_tv *want, const struct lw_tv *got, bool subset, const char *file,
                 const char *prefix, struct lw_buf *out);

/* lw_test_write: v as compact JSON, cut after about max bytes ("..." added). */
void lw_test_write(struct lw_buf *out, const struct lw_tv *v, size_t max);

/* lw_test_quote: s as a JSON string (also a YAML double-quoted scalar): ", \ and control
 * bytes escaped, and the characters YAML does not take as they are (C1 controls, U+2028,
 * U+2029, U+FEFF, U+FFFE, U+FFFF); everything else as is. */
void lw_test_quote(struct lw_buf *out, struct lw_str s);

/* lw_test_clean: bytes s[0..len) made safe to show on a terminal and in TAP or XML: a control
 * character (a newline too, unless lines) and a byte that is not UTF-8 as \xHH, the characters
 * of lw_test_quote's list as \uXXXX (U+FFFE and U+FFFF are not XML); the rest as it is. */
void lw_test_clean(struct lw_buf *out, const char *s, size_t len, bool lines);

/* lw_test_yaml_safe: JSON text s with those characters (only inside its strings) written as
 * \u escapes, so that it reads back from a YAML flow collection as the same value. */
void lw_test_yaml_safe(struct lw_buf *out, struct lw_str s);

/* testcov.c: --coverage. lw_cov_counts: the counts of template t in c (added to across the
 * run: the same template name again gets the same counts), which lw_cov_add adds runner r's
 * counts to. lw_cov_report: a summary line per source file, and the listings asked for;
 * returns 0, 1 when a file is below o->min, 2 when a listing could not be written. */
struct lw_cov;
struct lw_cov_opts {
    double min;      /* --coverage-min percent of statements and of branches; < 0: none */
    bool show;       /* --coverage-show: the listings to the report */
    bool tap;        /* lines as TAP comments */
    const char *dir; /* --coverage-dir: a listing per template written there, or NULL */
};
struct lw_cov *lw_cov_new(void);
void lw_cov_free(struct lw_cov *c);
uint64_t *lw_cov_counts(struct lw_cov *c, const struct logwash_template *t);
void lw_cov_add(uint64_t *acc, const struct logwash_template *t, const struct logwash_runner *r);
int lw_cov_report(struct lw_cov *c, const struct lw_cov_opts *o, FILE *out);

#endif
