/* Unit tests for grok's expansion (the regex text PCRE2 gets from a grok expression: the
 * Oniguruma translations, captures as g0, g1... and their field paths) and for dissect's
 * parse and split, without the VM. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lw/dissect.h"
#include "lw/grok.h"
#include "unit.h"

static struct lw_arena arena;
static struct lw_grok_lib lib;

/* expands: pat expands to want (NULL: fails with an error containing err_sub). */
static bool
expands(const char *pat, const char *want, const char *err_sub)
{
    struct lw_grok_expansion e;
    char err[256] = "";
    size_t off = 0;
    int rc = lw_grok_expand(&lib, lw_str_c(pat), &arena, &e, err, sizeof err, &off);
    if (want == NULL) {
        if (rc == 0 || strstr(err, err_sub) == NULL) {
            fprintf(stderr, "  %s: expected an error with '%s', got '%s'\n", pat, err_sub, err);
            return false;
        }
        return true;
    }
    if (rc != 0 || e.regex.len != strlen(want) || memcmp(e.regex.p, want, e.regex.len) != 0) {
        fprintf(stderr, "  %s: got '%.*s' (%s), want '%s'\n", pat, rc ? 0 : (int)e.regex.len,
                e.regex.p, err, want);
        return false;
    }
    /* on success err holds the warning, if any, and off its offset */
    if (err_sub == NULL ? err[0] != '\0' : strstr(err, err_sub) == NULL) {
        fprintf(stderr, "  %s: expected warning '%s', got '%s'\n", pat, err_sub ? err_sub : "",
                err);
        return false;
    }
    return true;
}

/* splits: dissect pattern pat over s gives the fields want, joined by '|' ("FAIL": no match). */
static bool
splits(const char *pat, const char *s, const char *want)
{
    char err[256];
    size_t off;
    const struct lw_dissect *d = lw_dissect_compile(lw_str_c(pat), &arena, err, sizeof err, &off);
    if (d == NULL) {
        fprintf(stderr, "  %s: %s\n", pat, err);
        return false;
    }
    struct lw_str v[16];
    char got[256] = "FAIL";
    if (lw_dissect_split(d, lw_str_c(s), v) == 0) {
        size_t n = 0;
        got[0] = '\0';
        for (uint32_t i = 0; i < d->n && n < sizeof got; i++) {
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%.*s", i ? "|" : "", (int)v[i].len,
                                  v[i].p);
        }
    }
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "  %s over '%s': got '%s', want '%s'\n", pat, s, got, want);
        return false;
    }
    return true;
}

/* refused: dissect pattern pat does not compile, with a message containing err_sub. */
static bool
refused(const char *pat, const char *err_sub)
{
    char err[256] = "";
    size_t off = 0;
    if (lw_dissect_compile(lw_str_c(pat), &arena, err, sizeof err, &off) != NULL ||
        strstr(err, err_sub) == NULL) {
        fprintf(stderr, "  %s: expected an error with '%s', got '%s'\n", pat, err_sub, err);
        return false;
    }
    return true;
}

/* builtin_matches_files: every built-in pattern file is byte for byte its file in patterns/
 * (the embedding must escape backslashes the same way under every awk, sed and shell). */
static bool
builtin_matches_files(void)
{
    bool ok = lw_grok_builtin_nfiles > 0;
    for (unsigned i = 0; i < lw_grok_builtin_nfiles; i++) {
        char path[256], text[65536];
        snprintf(path, sizeof path, "patterns/%s", lw_grok_builtin_files[i].name);
        FILE *f = fopen(path, "rb");
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        if (f) fclose(f);
        text[n] = '\0';
        if (f == NULL || strcmp(text, lw_grok_builtin_files[i].text) != 0) {
            fprintf(stderr, "  built-in %s differs from %s\n", lw_grok_builtin_files[i].name, path);
            ok = false;
        }
    }
    return ok;
}

void
test_grok(void)
{
    char err[256];
    lw_arena_init(&arena, 4096);
    lw_grok_lib_init(&lib, &arena);
    CHECK(builtin_matches_files());
    const char *defs = "# test\nA a+\nB %{A}b\nC %{A:x}%{B:[y][z]:int}\nLOOP %{LOOP}\n"
                       "ODD x%{A:[a]?}y\nODD2 x%{A:[b][c?]}%{A - comment}y%{ z}\n";
    CHECK(lw_grok_lib_add_text(&lib, "t", defs, strlen(defs), err, sizeof err) == 0);
    CHECK(expands("%{A}", "(?:a+)", NULL));
    CHECK(expands("%{B}", "(?:(?:a+)b)", NULL));
    CHECK(expands("%{C}", "(?:(?<g0>a+)(?<g1>(?:a+)b))", NULL));
    CHECK(expands("(?<[a][b]>x)(?<=y)(?<!z)", "(?<g0>x)(?<=y)(?<!z)", NULL));
    CHECK(expands("\\h\\H[\\h_]", "[0-9a-fA-F][^0-9a-fA-F][0-9a-fA-F_]", NULL));
    CHECK(expands("(?m).(?mi:x)(?i)", "(?s).(?si:x)(?i)", NULL));
    CHECK(expands("[[[:alnum:]]_-][a[bc]]", "[\\p{L}\\p{M}\\p{Nd}_-][abc]", NULL));
    CHECK(expands("[[:^digit:][:xdigit:]]", "[\\P{Nd}[:xdigit:]]", NULL));
    CHECK(expands(".?*a+*\\?*", ".*a*\\?*", NULL));
    CHECK(expands("[]x]", "[\\]x]", NULL));
    /* text after a field up to '}' is ignored: silently in a library, with a warning (first one,
     * at its offset) in the template's pattern; a '%{' without a name is regex text there */
    CHECK(expands("%{ODD}", "(?:x(?<g0>a+)y)", NULL));
    CHECK(expands("%{ODD2}", "(?:x(?<g0>a+)(?:a+)y%{ z})", NULL));
    CHECK(expands("%{A:n?}%{A:m!}", "(?<g0>a+)(?<g1>a+)", "'?' in %{A:n?} is ignored"));
    CHECK(expands("%{A:}", "(?:a+)", "':' in %{A:} is ignored"));
    CHECK(expands("%{A:[q][r?]}", NULL, "bad field reference")); /* not closed in a template */
    CHECK(expands("%{NOPE}", NULL, "unknown grok pattern 'NOPE'"));
    CHECK(expands("%{LOOP}", NULL, "cycle: LOOP -> LOOP"));
    CHECK(expands("%{A:x:str}", NULL, "unknown type 'str'"));
    CHECK(expands("%{A:[x]y}", NULL, "bad field reference"));
    CHECK(expands("%{A", NULL, "without a closing"));
    CHECK(expands("[a&&b]", NULL, "intersection"));
    /* one path a proper prefix of another: [a] cannot hold a value and [b] at once */
    CHECK(expands("%{A:[a]} %{A:[a][b]}", NULL,
                  "fields [a] and [a][b] overlap: [a] would hold a value and an object"));
    CHECK(expands("%{A:[x][b]} %{C}", NULL, "fields [x][b] and x overlap: x would"));
    CHECK(expands("%{A:[a][b]} %{A:[a][c]} %{A:[a][b]}", "(?<g0>a+) (?<g1>a+) (?<g2>a+)", NULL));
    CHECK(expands("%{A:[ab]} %{A:[a][b]}", "(?<g0>a+) (?<g1>a+)", NULL));
    /* [@metadata] captures are intermediate: a group without a field */
    CHECK(expands("%{A:[@metadata][h]} %{A:@metadata} %{A:[@metadata][h][i]} %{A:m}",
                  "(?:a+) (?:a+) (?:a+) (?<g0>a+)", NULL));
    CHECK(lw_grok_lib_add_text(&lib, "u", "bad-name x\n", 11, err, sizeof err) == -1);
    CHECK(strcmp(err, "u:1: bad pattern name 'bad-name' (letters, digits, _)") == 0);

    CHECK(splits("%{a} %{b}", "x y z", "x|y z"));
    /* text after the last field must end the subject: the field runs up to it */
    CHECK(splits("[%{a}] %{b} ", "[x] y z", "FAIL"));
    CHECK(splits("[%{a}] %{b} ", "[x] y z ", "x|y z"));
    CHECK(splits("\"%{a}\" \"%{b}\"", "\"x\" \"a \\\"q\\\" b\"", "x|a \\\"q\\\" b"));
    CHECK(splits("%{a}.", "x", "FAIL"));
    CHECK(splits("%{a}.", ".", ""));
    CHECK(splits("%{a} %{b}..", "x y.", "FAIL"));
    CHECK(splits("%{a} %{b->} ", "x y   ", "x|y"));
    CHECK(splits("%{a} %{b->}ab", "x yababab", "x|y"));
    CHECK(splits("(%{a})", "(x) (y)", "x) (y"));
    CHECK(splits("[%{a}]", "x]", "FAIL"));
    CHECK(splits("%{a->} %{b}", "x    y", "x|y"));
    CHECK(splits("%{a},%{b},%{c}", "1,,3", "1||3"));
    CHECK(splits("%{a}::%{b}", "1:2::3", "1:2|3"));
    CHECK(splits("%{a}::%{b}", "1:2:3", "FAIL"));
    CHECK(splits("%{a}ab%{b}", "aaab", "aa|"));
    /* the same member twice without %{+name}, or one member inside another */
    CHECK(refused("%{a} %{a}", "field 'a' appears twice: write %{+a} to append"));
    CHECK(refused("%{a} %{+a} %{b} %{a}", "field 'a' appears twice"));
    CHECK(refused("%{a} %{[a]}", "field '[a]' appears twice (as 'a')"));
    CHECK(refused("%{[a]} %{[a][b]}", "fields '[a]' and '[a][b]' overlap"));
    CHECK(refused("%{[a][b][c]} %{a}", "fields '[a][b][c]' and 'a' overlap: 'a' would"));
    CHECK(splits("%{a} %{+a} %{?a} %{[a2][b]} %{[a2][c]}", "1 2 3 4 5", "1|2|3|4|5"));
    lw_arena_fini(&arena);
}
