/* Lookup tables (table.h): loading a CSV or JSON-lines file into rows that are ready template
 * values, the key hash and the range index, the memory bound, and reference-counted sets of
 * named tables. Everything is allocated with malloc and counted against the table's bound, so
 * a hostile file is an error at load, never an exit. The CSV syntax is csv.c's, addresses and
 * ranges iprange.c's; lookup() and lookup_ip() are fn_table.c's. */
#include "lw/table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lw/csv.h"
#include "lw/json.h"

struct lw_table {
    atomic_uint refs;
    char *name;
    char *text; /* the file: CSV cells and JSON rows point into it */
    size_t len;
    bool ip;
    struct lw_str *cols; /* CSV: the header's names */
    uint32_t ncols;
    struct lw_shape shape; /* CSV rows' keys (cols) and their JSON text */
    char *shape_json;
    struct lw_value *rows; /* row i as the template sees it */
    struct lw_obj *objs;   /* CSV: row i's object */
    struct lw_value *vals; /* CSV: the cells, ncols per row */
    struct lw_str *keys;   /* key tables: row i's key */
    char **ownkeys;        /* JSON keys with escapes, unescaped (malloc'd each) */
    uint32_t nownkeys;
    uint32_t *lines;          /* row i's line in the file */
    struct lw_iprange *range; /* range tables, while loading */
    uint32_t nrows, caprows;
    uint32_t *hash; /* key tables: row + 1 per slot, 0 empty; hmask + 1 slots */
    uint32_t hmask;
    struct lw_ipindex index;
    size_t bytes, max, dups;
    const struct lw_table_opts *o; /* while loading */
    char *err;
    size_t errcap;
};

struct entry {
    char *name;
    struct lw_table *t;
};

struct lw_tableset {
    atomic_uint refs;
    struct entry *e;
    size_t n;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct lw_table *t, uint64_t line, const char *fmt, ...)
{
    int n = line ? snprintf(t->err, t->errcap, "%s:%llu: ", t->name, (unsigned long long)line)
                 : snprintf(t->err, t->errcap, "%s: ", t->name);
    if (n < 0 || (size_t)n >= t->errcap) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err + n, t->errcap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* room: can the table take more bytes? Else the error. */
static int
room(struct lw_table *t, size_t more)
{
    if (more <= t->max && t->bytes <= t->max - more) return 0;
    return fail(t, 0, "over the memory bound of %zu bytes (after %zu rows)", t->max,
                (size_t)t->nrows);
}

/* tgrow: *p resized from old to n bytes, counted. */
static int
tgrow(struct lw_table *t, void **p, size_t old, size_t n)
{
    if (n > old && room(t, n - old) != 0) return -1;
    void *q = realloc(*p, n ? n : 1);
    if (q == NULL) return fail(t, 0, "out of memory");
    *p = q;
    t->bytes = t->bytes - old + n;
    return 0;
}

static int
grow_rows(struct lw_table *t)
{
    if (t->nrows < t->caprows) return 0;
    if (t->caprows >= UINT32_MAX / 2) return fail(t, 0, "more than 2^31 rows");
    size_t o = t->caprows, n = o ? o * 2 : 16;
    if (tgrow(t, (void **)&t->rows, o * sizeof *t->rows, n * sizeof *t->rows) != 0 ||
        tgrow(t, (void **)&t->lines, o * sizeof *t->lines, n * sizeof *t->lines) != 0)
        return -1;
    if (t->ip && tgrow(t, (void **)&t->range, o * sizeof *t->range, n * sizeof *t->range) != 0)
        return -1;
    if (!t->ip && tgrow(t, (void **)&t->keys, o * sizeof *t->keys, n * sizeof *t->keys) != 0)
        return -1;
    if (t->ncols > 0) {
        if (tgrow(t, (void **)&t->objs, o * sizeof *t->objs, n * sizeof *t->objs) != 0 ||
            tgrow(t, (void **)&t->vals, o * t->ncols * sizeof *t->vals,
                  n * t->ncols * sizeof *t->vals) != 0)
            return -1;
    }
    t->caprows = (uint32_t)n;
    return 0;
}

/* fit: the row arrays cut to the rows there are (growing doubled them), so a loaded table
 * holds and counts what it uses. A failed realloc keeps the larger array. */
static void
fit(struct lw_table *t)
{
    size_t o = t->caprows, n = t->nrows ? t->nrows : 1;
    if (n >= o) return;
    void **arrays[] = { (void **)&t->rows, (void **)&t->lines, (void **)&t->range,
                        (void **)&t->keys, (void **)&t->objs,  (void **)&t->vals };
    size_t sizes[] = { sizeof *t->rows, sizeof *t->lines, sizeof *t->range,
                       sizeof *t->keys, sizeof *t->objs,  t->ncols * sizeof *t->vals };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (*arrays[i] == NULL || sizes[i] == 0) continue;
        void *q = realloc(*arrays[i], n * sizes[i]);
        if (q == NULL) return;
        *arrays[i] = q;
        t->bytes -= (o - n) * sizes[i];
    }
    t->caprows = (uint32_t)n;
}

static int
shown(size_t len)
{
    return (int)(len > 60 ? 60 : len);
}

/* range_of: the range of a row from the text of its CIDR, or of its start and end addresses
 * (se). */
static int
range_of(struct lw_table *t, uint64_t line, struct lw_str cidr, const struct lw_str *se,
         struct lw_iprange *r)
{
    char why[200];
    bool v4, v4e;
    if (se == NULL) {
        if (lw_cidr_parse(cidr.p, cidr.len, &r->lo, &r->hi, &v4, why, sizeof why) != 0)
            return fail(t, line, "%s", why);
        return 0;
    }
    if (lw_ip_parse(se[0].p, se[0].len, &r->lo, &v4) != 0) {
        return fail(t, line, "start \"%.*s\" is not an IP address", shown(se[0].len), se[0].p);
    }
    if (lw_ip_parse(se[1].p, se[1].len, &r->hi, &v4e) != 0) {
        return fail(t, line, "end \"%.*s\" is not an IP address", shown(se[1].len), se[1].p);
    }
    if (v4 != v4e) return fail(t, line, "start and end are not of the same IP version");
    if (lw_ip_cmp(r->lo, r->hi) > 0) {
        return fail(t, line, "end %.*s is below start %.*s", shown(se[1].len), se[1].p,
                    shown(se[0].len), se[0].p);
    }
    return 0;
}

/* add_row: note row nrows's line and its key or range (the row value is the caller's). */
static int
add_row(struct lw_table *t, uint64_t line, struct lw_str key, const struct lw_str *se)
{
    uint32_t i = t->nrows;
    t->lines[i] = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    if (t->ip) {
        if (range_of(t, line, key, se, &t->range[i]) != 0) return -1;
        t->range[i].row = i;
    } else {
        if (key.len > UINT32_MAX) return fail(t, line, "key longer than 4 GiB");
        t->keys[i] = key;
    }
    t->nrows++;
    return 0;
}

/* CSV ------------------------------------------------------------------------------------ */

static int
check_text(struct lw_table *t, uint64_t line, struct lw_str s, const char *what)
{
    if (s.len > UINT32_MAX) return fail(t, line, "%s longer than 4 GiB", what);
    if (memchr(s.p, '\0', s.len) != NULL || !lw_utf8_valid(s))
        return fail(t, line, "%s is not UTF-8 text (a binary file?)", what);
    return 0;
}

static int
find_col(const struct lw_table *t, const char *name)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        if (lw_str_eq(t->cols[i], lw_str_c(name))) return (int)i;
    return -1;
}

/* col_list: "a, b, c" of the header, for a message. */
static const char *
col_list(const struct lw_table *t, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < t->ncols && n + 1 < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%.*s", i ? ", " : "", shown(t->cols[i].len),
                         t->cols[i].p);
        if (w < 0) break;
        n += (size_t)w;
    }
    return buf;
}

/* json_name: "name": of a column name (valid UTF-8) at d (6 * len + 3 bytes), escaped as
 * lw_json_write_string does; its length. Here rather than that function, which grows an
 * lw_buf with lw_xmalloc: a table is made with malloc alone, so a load never exits. */
static size_t
json_name(char *d, struct lw_str s)
{
    static const char hex[] = "0123456789abcdef";
    static const char short_esc[32] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
    };
    char *d0 = d;
    *d++ = '"';
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
        } else if (c < 0x20 && short_esc[c]) {
            *d++ = '\\';
            *d++ = short_esc[c];
        } else if (c < 0x20) {
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        } else {
            *d++ = (char)c;
        }
    }
    *d++ = '"';
    *d++ = ':';
    return (size_t)(d - d0);
}

static int
csv_header(struct lw_table *t, struct lw_csv *c, struct lw_str *f, size_t n, int *kc, int se[2])
{
    char why[300];
    t->ncols = (uint32_t)n;
    if (tgrow(t, (void **)&t->cols, 0, n * sizeof *t->cols) != 0) return -1;
    size_t jl = 0;
    for (size_t i = 0; i < n; i++) {
        if (check_text(t, c->rec_line, f[i], "a column name") != 0) return -1;
        if (f[i].len == 0) return fail(t, c->rec_line, "column %zu has no name", i + 1);
        for (size_t k = 0; k < i; k++) {
            if (lw_str_eq(f[k], f[i])) {
                return fail(t, c->rec_line, "column name \"%.*s\" is used twice", shown(f[i].len),
                            f[i].p);
            }
        }
        t->cols[i] = f[i];
        jl += f[i].len * 6 + 3;
    }
    /* the keys' JSON text, so emitting a row never escapes a name again */
    if (tgrow(t, (void **)&t->shape_json, 0, jl) != 0 ||
        tgrow(t, (void **)&t->shape.json, 0, n * sizeof *t->shape.json) != 0)
        return -1;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = json_name(t->shape_json + off, t->cols[i]);
        t->shape.json[i] = (struct lw_str){ t->shape_json + off, len };
        off += len;
    }
    t->shape.n = (uint32_t)n;
    t->shape.keys = t->cols;
    *kc = 0;
    se[0] = se[1] = -1;
    if (t->o->key != NULL) {
        *kc = find_col(t, t->o->key);
        if (*kc < 0) {
            return fail(t, c->rec_line, "no column named \"%s\" for the key (columns: %s)",
                        t->o->key, col_list(t, why, sizeof why));
        }
    } else if (t->ip && find_col(t, "start") >= 0 && find_col(t, "end") >= 0) {
        se[0] = find_col(t, "start");
        se[1] = find_col(t, "end");
    }
    return 0;
}

static int
load_csv(struct lw_table *t)
{
    struct lw_csv c;
    lw_csv_init(&c, t->text, t->len, ',');
    struct lw_str *f = malloc((LW_TABLE_MAX_COLUMNS + 1) * sizeof *f);
    if (f == NULL) return fail(t, 0, "out of memory");
    char why[200];
    size_t n;
    int kc = 0, se[2], rc = -1;
    int got = lw_csv_next(&c, f, LW_TABLE_MAX_COLUMNS, &n, why, sizeof why);
    if (got == 0) {
        fail(t, 0, "no header line (a CSV table starts with its column names)");
        goto out;
    }
    if (got < 0) {
        snprintf(t->err, t->errcap, "%s:%s", t->name, why);
        goto out;
    }
    if (csv_header(t, &c, f, n, &kc, se) != 0) goto out;
    while ((got = lw_csv_next(&c, f, t->ncols, &n, why, sizeof why)) == 1) {
        if (n != t->ncols) {
            fail(t, c.rec_line, "%zu field%s, the header has %u", n, n == 1 ? "" : "s", t->ncols);
            goto out;
        }
        if (grow_rows(t) != 0) goto out;
        struct lw_value *v = t->vals + (size_t)t->nrows * t->ncols;
        for (size_t i = 0; i < n; i++) {
            if (check_text(t, c.rec_line, f[i], "a field") != 0) goto out;
            v[i] = lw_strv(f[i].p, f[i].len);
        }
        struct lw_str sev[2];
        if (se[0] >= 0) {
            sev[0] = f[se[0]];
            sev[1] = f[se[1]];
        }
        if (add_row(t, c.rec_line, f[kc], se[0] >= 0 ? sev : NULL) != 0) goto out;
    }
    if (got < 0) {
        if (strstr(why, "more than") != NULL && strstr(why, "fields") != NULL) {
            fail(t, c.rec_line, "more fields than the header's %u", t->ncols);
        } else {
            snprintf(t->err, t->errcap, "%s:%s", t->name, why);
        }
        goto out;
    }
    fit(t);
    for (uint32_t i = 0; i < t->nrows; i++) { /* the arrays have stopped moving */
        t->objs[i] = (struct lw_obj){ .n = t->ncols,
                                      .cap = t->ncols,
                                      .k = t->cols,
                                      .v = t->vals + (size_t)i * t->ncols,
                                      .shape = &t->shape,
                                      .shared = true };
        t->rows[i] = (struct lw_value){ .t = LW_T_OBJ, .u.o = &t->objs[i] };
    }
    rc = 0;
out:
    free(f);
    return rc;
}

/* JSON lines ----------------------------------------------------------------------------- */

/* json_key: the key (a string, unescaped, or an integer's text) of member slice v. */
static int
json_key(struct lw_table *t, uint64_t line, const char *what, struct lw_str v, struct lw_str *k)
{
    enum lw_json_kind kind = lw_json_kind(v);
    if (kind == LW_JSON_INT) {
        *k = v;
        return 0;
    }
    if (kind != LW_JSON_STRING) {
        return fail(t, line, "member \"%s\" must be a string or an integer, found %.*s", what,
                    shown(v.len), v.p);
    }
    struct lw_str tok = { v.p + 1, v.len - 2 };
    if (!lw_json_str_has_escape(v)) {
        *k = tok;
        return 0;
    }
    if (t->nownkeys % 64 == 0 && tgrow(t, (void **)&t->ownkeys, t->nownkeys * sizeof *t->ownkeys,
                                       (t->nownkeys + 64) * sizeof *t->ownkeys) != 0)
        return -1;
    if (room(t, v.len) != 0) return -1;
    char *d = malloc(v.len);
    if (d == NULL) return fail(t, 0, "out of memory");
    t->ownkeys[t->nownkeys++] = d;
    t->bytes += v.len;
    *k = (struct lw_str){ d, lw_json_unescape(v, d) };
    return 0;
}

static int
load_jsonl(struct lw_table *t)
{
    const char *kname = t->o->key ? t->o->key : "key";
    struct lw_str want[3] = { lw_str_c(kname), LW_STR_LIT("start"), LW_STR_LIT("end") };
    uint64_t line = 0;
    for (size_t off = 0; off < t->len;) {
        line++;
        const char *nl = memchr(t->text + off, '\n', t->len - off);
        size_t end = nl ? (size_t)(nl - t->text) : t->len, start = off;
        struct lw_str l = { t->text + off, end - off };
        off = nl ? end + 1 : t->len;
        while (l.len && (l.p[0] == ' ' || l.p[0] == '\t' || l.p[0] == '\r')) {
            l.p++;
            l.len--;
        }
        while (l.len && (l.p[l.len - 1] == ' ' || l.p[l.len - 1] == '\t' || l.p[l.len - 1] == '\r'))
            l.len--;
        if (l.len == 0) continue;
        if (line == 1 && l.len >= 3 && memcmp(l.p, "\xef\xbb\xbf", 3) == 0) {
            l.p += 3;
            l.len -= 3;
        }
        struct lw_str got[3];
        struct lw_json_err je;
        if (l.len > UINT32_MAX) return fail(t, line, "line longer than 4 GiB");
        if (lw_json_scan(l.p, l.len, want, 3, got, &je) != 0) {
            size_t col = 1 + (size_t)(l.p - (t->text + start));
            for (size_t i = 0; i < je.off && i < l.len; i++)
                col += ((unsigned char)l.p[i] & 0xc0) != 0x80;
            snprintf(t->err, t->errcap, "%s:%llu:%zu: not JSON: %s", t->name,
                     (unsigned long long)line, col, je.msg);
            return -1;
        }
        if (lw_json_kind(l) != LW_JSON_OBJECT) return fail(t, line, "not a JSON object");
        bool se = t->ip && t->o->key == NULL && got[0].p == NULL && got[1].p && got[2].p;
        if (!se && got[0].p == NULL) {
            return fail(t, line, "no member \"%s\"%s", kname,
                        t->ip && t->o->key == NULL ? " (nor \"start\" and \"end\")" : "");
        }
        if (grow_rows(t) != 0) return -1;
        struct lw_str k = { 0 }, sev[2];
        if (se) {
            if (json_key(t, line, "start", got[1], &sev[0]) != 0 ||
                json_key(t, line, "end", got[2], &sev[1]) != 0)
                return -1;
        } else if (json_key(t, line, kname, got[0], &k) != 0) {
            return -1;
        }
        t->rows[t->nrows] = (struct lw_value){
            .t = LW_T_OBJ, .flags = LW_V_RAW, .len = (uint32_t)l.len, .u.p = l.p
        };
        if (add_row(t, line, k, se ? sev : NULL) != 0) return -1;
    }
    fit(t);
    return 0;
}

/* Indexes -------------------------------------------------------------------------------- */

static uint64_t
hash_key(const char *p, size_t len)
{
    return XXH3_64bits(p, len);
}

static int
build_hash(struct lw_table *t)
{
    size_t cap = 16;
    while (cap < (size_t)t->nrows * 2)
        cap *= 2;
    if (tgrow(t, (void **)&t->hash, 0, cap * sizeof *t->hash) != 0) return -1;
    memset(t->hash, 0, cap * sizeof *t->hash);
    t->hmask = (uint32_t)(cap - 1);
    for (uint32_t i = 0; i < t->nrows; i++) {
        struct lw_str k = t->keys[i];
        size_t h = (size_t)hash_key(k.p, k.len) & t->hmask;
        while (t->hash[h] != 0 && !lw_str_eq(t->keys[t->hash[h] - 1], k))
            h = (h + 1) & t->hmask;
        if (t->hash[h] != 0) {
            uint32_t first = t->lines[t->hash[h] - 1];
            if (!t->o->last_wins) {
                return fail(t, t->lines[i], "key \"%.*s\" again (first at line %u)", shown(k.len),
                            k.p, first);
            }
            t->dups++;
        }
        t->hash[h] = i + 1;
    }
    return 0;
}

static int
by_range(const void *a, const void *b)
{
    const struct lw_iprange *x = a, *y = b;
    int c = lw_ip_cmp(x->lo, y->lo);
    if (c == 0) c = lw_ip_cmp(x->hi, y->hi);
    return c != 0 ? c : x->row < y->row ? -1 : x->row > y->row;
}

static int
build_ranges(struct lw_table *t)
{
    if (t->nrows == 0) return 0;
    if (room(t, (size_t)t->nrows * sizeof *t->range) != 0) return -1;
    struct lw_iprange *s = malloc((size_t)t->nrows * sizeof *s);
    if (s == NULL) return fail(t, 0, "out of memory");
    memcpy(s, t->range, (size_t)t->nrows * sizeof *s);
    qsort(s, t->nrows, sizeof *s, by_range);
    for (uint32_t i = 1; i < t->nrows; i++) {
        if (lw_ip_cmp(s[i].lo, s[i - 1].lo) != 0 || lw_ip_cmp(s[i].hi, s[i - 1].hi) != 0) continue;
        if (!t->o->last_wins) {
            char a[46], b[46];
            uint32_t line = t->lines[s[i].row], first = t->lines[s[i - 1].row];
            lw_ip_text(s[i].lo, a);
            lw_ip_text(s[i].hi, b);
            free(s);
            return fail(t, line, "range %s to %s again (first at line %u)", a, b, first);
        }
        t->dups++; /* the later row wins: iprange.h's order among equally wide ranges */
    }
    free(s);
    size_t bytes;
    if (lw_ipindex_build(&t->index, t->range, t->nrows, t->max - t->bytes, &bytes) != 0) {
        return bytes > t->max - t->bytes ? room(t, bytes) : fail(t, 0, "out of memory");
    }
    t->bytes += bytes;
    return 0;
}

/* Loading -------------------------------------------------------------------------------- */

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static enum lw_table_format
sniff(const char *name, const char *p, size_t len)
{
    if (ends_with(name, ".jsonl") || ends_with(name, ".ndjson") || ends_with(name, ".json"))
        return LW_TABLE_JSONL;
    if (ends_with(name, ".csv")) return LW_TABLE_CSV;
    size_t i = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && p[i] == '{' ? LW_TABLE_JSONL : LW_TABLE_CSV;
}

static void
table_free(struct lw_table *t)
{
    free(t->name);
    free(t->text);
    free(t->cols);
    free(t->shape_json);
    free(t->shape.json);
    free(t->rows);
    free(t->objs);
    free(t->vals);
    free(t->keys);
    for (uint32_t i = 0; i < t->nownkeys; i++)
        free(t->ownkeys[i]);
    free(t->ownkeys);
    free(t->lines);
    free(t->range);
    free(t->hash);
    lw_ipindex_fini(&t->index);
    free(t);
}

struct lw_table *
lw_table_load(const char *name, char *text, size_t len, const struct lw_table_opts *o, char *err,
              size_t errcap)
{
    struct lw_table *t = calloc(1, sizeof *t);
    char *nm = strdup(name);
    if (t == NULL || nm == NULL) {
        free(t);
        free(nm);
        free(text);
        snprintf(err, errcap, "%s: out of memory", name);
        return NULL;
    }
    atomic_init(&t->refs, 1);
    t->name = nm;
    t->text = text;
    t->len = len;
    t->ip = o->ip;
    t->o = o;
    t->err = err;
    t->errcap = errcap;
    t->max = o->max_bytes;
    t->bytes = sizeof *t + strlen(name) + 1;
    int rc = room(t, len);
    t->bytes += len;
    enum lw_table_format f = o->format != LW_TABLE_AUTO ? o->format : sniff(name, text, len);
    if (rc == 0) rc = f == LW_TABLE_CSV ? load_csv(t) : load_jsonl(t);
    if (rc == 0) rc = t->ip ? build_ranges(t) : build_hash(t);
    if (t->range != NULL) { /* the index has what it needs */
        free(t->range);
        t->range = NULL;
        t->bytes -= (size_t)t->caprows * sizeof *t->range;
    }
    t->o = NULL;
    t->err = NULL;
    if (rc != 0) {
        table_free(t);
        return NULL;
    }
    return t;
}

struct lw_table *
lw_table_load_file(const char *path, const struct lw_table_opts *o, char *err, size_t errcap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "cannot read %s: it is a directory", path);
        close(fd);
        return NULL;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > o->max_bytes) {
        snprintf(err, errcap, "%s: %llu bytes, more than the table's bound of %zu bytes", path,
                 (unsigned long long)st.st_size, o->max_bytes);
        close(fd);
        return NULL;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536, len = 0;
    char *p = malloc(cap);
    for (;;) {
        if (p == NULL) {
            snprintf(err, errcap, "%s: out of memory", path);
            close(fd);
            return NULL;
        }
        if (len == cap) {
            if (len > o->max_bytes) {
                snprintf(err, errcap, "%s: more than the table's bound of %zu bytes", path,
                         o->max_bytes);
                free(p);
                close(fd);
                return NULL;
            }
            char *q = realloc(p, cap * 2);
            if (q == NULL) free(p);
            p = q;
            cap *= 2;
            continue;
        }
        ssize_t n = read(fd, p + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
            free(p);
            close(fd);
            return NULL;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    return lw_table_load(path, p, len, o, err, errcap);
}

void
lw_table_ref(struct lw_table *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void
lw_table_unref(struct lw_table *t)
{
    if (t != NULL && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        table_free(t);
}

bool
lw_table_is_ip(const struct lw_table *t)
{
    return t->ip;
}

size_t
lw_table_rows(const struct lw_table *t)
{
    return t->nrows;
}

size_t
lw_table_bytes(const struct lw_table *t)
{
    return t->bytes;
}

size_t
lw_table_dups(const struct lw_table *t)
{
    return t->dups;
}

const struct lw_value *
lw_table_get(const struct lw_table *t, const char *key, size_t len)
{
    if (t->hash == NULL) return NULL;
    struct lw_str k = { key, len };
    size_t h = (size_t)hash_key(key, len) & t->hmask;
    while (t->hash[h] != 0) {
        if (lw_str_eq(t->keys[t->hash[h] - 1], k)) return &t->rows[t->hash[h] - 1];
        h = (h + 1) & t->hmask;
    }
    return NULL;
}

const struct lw_value *
lw_table_get_ip(const struct lw_table *t, struct lw_ip ip)
{
    int64_t row = lw_ipindex_find(&t->index, ip);
    return row < 0 ? NULL : &t->rows[row];
}

/* Sets ----------------------------------------------------------------------------------- */

struct lw_tableset *
lw_tableset_new(void)
{
    struct lw_tableset *s = calloc(1, sizeof *s);
    if (s != NULL) atomic_init(&s->refs, 1);
    return s;
}

int
lw_tableset_put(struct lw_tableset *s, const char *name, struct lw_table *t)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->e[i].name, name) == 0) {
            lw_table_ref(t);
            lw_table_unref(s->e[i].t);
            s->e[i].t = t;
            return 0;
        }
    }
    struct entry *e = realloc(s->e, (s->n + 1) * sizeof *e);
    if (e == NULL) return -1;
    s->e = e;
    char *nm = strdup(name);
    if (nm == NULL) return -1;
    lw_table_ref(t);
    s->e[s->n++] = (struct entry){ nm, t };
    return 0;
}

struct lw_tableset *
lw_tableset_copy(const struct lw_tableset *s)
{
    struct lw_tableset *c = lw_tableset_new();
    for (size_t i = 0; c != NULL && i < s->n; i++) {
        if (lw_tableset_put(c, s->e[i].name, s->e[i].t) != 0) {
            lw_tableset_unref(c);
            c = NULL;
        }
    }
    return c;
}

const struct lw_table *
lw_tableset_find(const struct lw_tableset *s, const char *name, size_t len)
{
    for (size_t i = 0; s != NULL && i < s->n; i++) {
        if (strlen(s->e[i].name) == len && memcmp(s->e[i].name, name, len) == 0) return s->e[i].t;
    }
    return NULL;
}

size_t
lw_tableset_count(const struct lw_tableset *s)
{
    return s ? s->n : 0;
}

const char *
lw_tableset_name(const struct lw_tableset *s, size_t i)
{
    return s->e[i].name;
}

const struct lw_table *
lw_tableset_table(const struct lw_tableset *s, size_t i)
{
    return s->e[i].t;
}

void
lw_tableset_ref(struct lw_tableset *s)
{
    if (s != NULL) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void
lw_tableset_unref(struct lw_tableset *s)
{
    if (s == NULL || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].name);
        lw_table_unref(s->e[i].t);
    }
    free(s->e);
    free(s);
}
