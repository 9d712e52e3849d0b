/* Lookup tables: the CSV reader (fields, quotes, line ends, errors with line:col), IP and CIDR
 * parsing, the range index against a brute-force scan of random overlapping ranges, and table
 * loading: rows, keys, duplicates, the memory bound and hostile files. */
#include <stdlib.h>
#include <string.h>

#include "lw/csv.h"
#include "lw/iprange.h"
#include "lw/table.h"
#include "unit.h"

/* csv_all: read text whole; *n and f are the last record's. */
static int
csv_all(const char *text, struct lw_str *f, size_t max, size_t *n, char *err, int *nrec)
{
    static char buf[4096];
    size_t len = strlen(text);
    memcpy(buf, text, len);
    struct lw_csv c;
    lw_csv_init(&c, buf, len, ',');
    int got;
    size_t k;
    *nrec = 0;
    while ((got = lw_csv_next(&c, f, max, &k, err, 200)) == 1) { /* f: the last record's */
        (*nrec)++;
        *n = k;
    }
    return got;
}

static bool
field(const struct lw_str *f, size_t i, const char *want)
{
    return lw_str_eq(f[i], lw_str_c(want));
}

static void
test_csv(void)
{
    struct lw_str f[8];
    size_t n;
    char err[200];
    int nrec;
    CHECK(csv_all("a,b,c\n", f, 8, &n, err, &nrec) == 0 && nrec == 1 && n == 3);
    CHECK(field(f, 0, "a") && field(f, 2, "c"));
    CHECK(csv_all("\xef\xbb\xbf"
                  "x,\"y,\"\"z\"\"\",\r\n",
                  f, 8, &n, err, &nrec) == 0 &&
          n == 3);
    CHECK(field(f, 0, "x") && field(f, 1, "y,\"z\"") && field(f, 2, ""));
    CHECK(csv_all("\"multi\nline\",2", f, 8, &n, err, &nrec) == 0 && nrec == 1);
    CHECK(field(f, 0, "multi\nline") && field(f, 1, "2"));
    CHECK(csv_all("\n\r\na\n\n", f, 8, &n, err, &nrec) == 0 && nrec == 1); /* blank lines */
    CHECK(csv_all("a,b\"c\n", f, 8, &n, err, &nrec) == -1);
    CHECK(strncmp(err, "1:4: a quote inside an unquoted field", 37) == 0);
    CHECK(csv_all("ok\n\"x\"y\n", f, 8, &n, err, &nrec) == -1);
    CHECK(strncmp(err, "2:4: text after a closing quote", 31) == 0);
    CHECK(csv_all("ok\nok\n\"never\nclosed", f, 8, &n, err, &nrec) == -1);
    CHECK(strcmp(err, "3:1: quoted field not closed before the end of the file") == 0);
    CHECK(csv_all("a,b,c,d", f, 3, &n, err, &nrec) == -1);
    CHECK(strcmp(err, "1:7: more than 3 fields") == 0);
    CHECK(csv_all("é\"", f, 8, &n, err, &nrec) == -1 && strncmp(err, "1:2:", 4) == 0);
    CHECK(csv_all("k,v\r1,a\r", f, 8, &n, err, &nrec) == -1); /* old Mac line ends */
    CHECK(strncmp(err, "1:4: a carriage return inside an unquoted field", 47) == 0);
}

static struct lw_ip
ip(const char *s)
{
    struct lw_ip a = { 0, 0 };
    bool v4;
    CHECK(lw_ip_parse(s, strlen(s), &a, &v4) == 0);
    return a;
}

static void
test_ip(void)
{
    struct lw_ip a, lo, hi;
    bool v4;
    char err[200], b[46];
    CHECK(lw_ip_parse("1.2.3.4", 7, &a, &v4) == 0 && v4 && a.hi == 0 && a.lo == 0xffff01020304);
    CHECK(lw_ip_cmp(ip("::ffff:1.2.3.4"), a) == 0);
    CHECK(lw_ip_parse("01.2.3.4", 8, &a, &v4) != 0); /* octal-looking */
    CHECK(lw_ip_parse("256.2.3.4", 9, &a, &v4) != 0);
    CHECK(lw_ip_parse("1.2.3", 5, &a, &v4) != 0);
    CHECK(lw_ip_parse("1.2.3.4 ", 8, &a, &v4) != 0);
    CHECK(lw_ip_parse("fe80::1%eth0", 12, &a, &v4) != 0);
    CHECK(lw_ip_parse("", 0, &a, &v4) != 0);
    CHECK(lw_ip_parse("2001:db8::1", 11, &a, &v4) == 0 && !v4 && a.hi == 0x20010db800000000);
    CHECK(strcmp(lw_ip_text(ip("10.0.0.1"), b), "10.0.0.1") == 0);
    CHECK(strcmp(lw_ip_text(ip("2001:db8::1"), b), "2001:db8::1") == 0);
    CHECK(lw_cidr_parse("10.0.0.0/8", 10, &lo, &hi, &v4, err, sizeof err) == 0);
    CHECK(lw_ip_cmp(lo, ip("10.0.0.0")) == 0 && lw_ip_cmp(hi, ip("10.255.255.255")) == 0);
    CHECK(lw_cidr_parse("::/0", 4, &lo, &hi, &v4, err, sizeof err) == 0 && hi.hi == UINT64_MAX &&
          hi.lo == UINT64_MAX && lo.hi == 0 && lo.lo == 0);
    CHECK(lw_cidr_parse("2001:db8::/129", 14, &lo, &hi, &v4, err, sizeof err) != 0);
    CHECK(strcmp(err, "\"2001:db8::/129\": prefix length 129 is over 128") == 0);
    CHECK(lw_cidr_parse("10.0.0.0/33", 11, &lo, &hi, &v4, err, sizeof err) != 0);
    CHECK(lw_cidr_parse("10.0.0.1/8", 10, &lo, &hi, &v4, err, sizeof err) != 0);
    CHECK(strcmp(err, "\"10.0.0.1/8\" has host bits set (the network is 10.0.0.0/8)") == 0);
    CHECK(lw_cidr_parse("10.0.0.0/", 9, &lo, &hi, &v4, err, sizeof err) != 0);
    CHECK(lw_cidr_parse("10.0.0.0/99999999999", 20, &lo, &hi, &v4, err, sizeof err) != 0);
    CHECK(lw_cidr_parse("1.2.3.4", 7, &lo, &hi, &v4, err, sizeof err) == 0 &&
          lw_ip_cmp(lo, hi) == 0);
}

/* brute: the row the rule picks by scanning every range: the narrowest, the later of equals. */
static int64_t
brute(const struct lw_iprange *r, uint32_t n, uint64_t x)
{
    int64_t best = -1;
    uint64_t bw = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (x < r[i].lo.lo || x > r[i].hi.lo) continue;
        uint64_t w = r[i].hi.lo - r[i].lo.lo;
        if (best < 0 || w < bw || (w == bw && r[i].row > (uint32_t)best)) {
            best = r[i].row;
            bw = w;
        }
    }
    return best;
}

/* shift: v moved up by base (128-bit), so ranges cross the carry from the low to the high
 * 64 bits when base.lo is near its top. */
static struct lw_ip
shift(struct lw_ip base, uint64_t v)
{
    struct lw_ip r = { base.hi, base.lo + v };
    if (r.lo < base.lo) r.hi++;
    return r;
}

static void
test_index_random(void)
{
    srand(11);
    int bad = 0;
    static const struct lw_ip bases[] = { { 0, 0 }, { 0, UINT64_MAX - 90 }, { 7, UINT64_MAX - 3 } };
    for (int round = 0; round < 300; round++) {
        struct lw_ip base = bases[round % 3];
        uint32_t n = (uint32_t)(rand() % 40) + 1;
        uint64_t span = (uint64_t)(rand() % 200) + 2;
        struct lw_iprange r[40];
        for (uint32_t i = 0; i < n; i++) {
            uint64_t a = (uint64_t)rand() % span, b = (uint64_t)rand() % span;
            if (rand() % 4 == 0) b = a; /* single addresses */
            if (a > b) {
                uint64_t t = a;
                a = b;
                b = t;
            }
            r[i] = (struct lw_iprange){ { 0, a }, { 0, b }, i };
        }
        struct lw_iprange s[40]; /* the same ranges, shifted */
        for (uint32_t i = 0; i < n; i++)
            s[i] = (struct lw_iprange){ shift(base, r[i].lo.lo), shift(base, r[i].hi.lo), i };
        struct lw_ipindex x;
        size_t bytes;
        CHECK(lw_ipindex_build(&x, s, n, SIZE_MAX, &bytes) == 0);
        for (uint64_t v = 0; v <= span; v++) {
            if (lw_ipindex_find(&x, shift(base, v)) != brute(r, n, v)) bad++;
        }
        if (base.lo > 0 && lw_ipindex_find(&x, (struct lw_ip){ base.hi, base.lo - 1 }) != -1) bad++;
        lw_ipindex_fini(&x);
    }
    CHECK(bad == 0);
    /* the top of the space, and ranges that end there */
    struct lw_iprange r[2] = { { { 0, 0 }, { UINT64_MAX, UINT64_MAX }, 0 },
                               { { UINT64_MAX, 0 }, { UINT64_MAX, UINT64_MAX }, 1 } };
    struct lw_ipindex x;
    size_t bytes;
    CHECK(lw_ipindex_build(&x, r, 2, SIZE_MAX, &bytes) == 0);
    CHECK(lw_ipindex_find(&x, (struct lw_ip){ UINT64_MAX, UINT64_MAX }) == 1);
    CHECK(lw_ipindex_find(&x, (struct lw_ip){ UINT64_MAX - 1, UINT64_MAX }) == 0);
    CHECK(lw_ipindex_find(&x, (struct lw_ip){ 0, 0 }) == 0);
    lw_ipindex_fini(&x);
    CHECK(lw_ipindex_build(&x, r, 2, 10, &bytes) == -1 && bytes > 10);
}

static struct lw_table *
load(const char *name, const char *text, const struct lw_table_opts *o, char *err)
{
    size_t len = strlen(text);
    char *p = malloc(len + 1);
    memcpy(p, text, len);
    return lw_table_load(name, p, len, o, err, 300);
}

static void
test_load(void)
{
    char err[300];
    struct lw_table_opts o = { .max_bytes = 1 << 20 };
    struct lw_table *t = load("c.csv", "id,name\n1,a\n2,\"b,c\"\n", &o, err);
    CHECK(t != NULL && lw_table_rows(t) == 2);
    const struct lw_value *row = t ? lw_table_get(t, "2", 1) : NULL;
    CHECK(row != NULL && row->t == LW_T_OBJ && row->u.o->n == 2 && row->u.o->shared);
    CHECK(row != NULL &&
          lw_str_eq((struct lw_str){ row->u.o->v[1].u.p, row->u.o->v[1].len }, lw_str_c("b,c")));
    CHECK(t != NULL && lw_table_get(t, "3", 1) == NULL);
    lw_table_unref(t);

    CHECK(load("c.csv", "id,name\n1,a\n1,b\n", &o, err) == NULL);
    CHECK(strcmp(err, "c.csv:3: key \"1\" again (first at line 2)") == 0);
    o.last_wins = true;
    t = load("c.csv", "id,name\n1,a\n1,b\n", &o, err);
    CHECK(t != NULL && lw_table_dups(t) == 1);
    row = t ? lw_table_get(t, "1", 1) : NULL;
    CHECK(row != NULL && row->u.o->v[1].u.p[0] == 'b');
    lw_table_unref(t);
    o.last_wins = false;

    CHECK(load("c.csv", "id,name\n1\n", &o, err) == NULL);
    CHECK(strcmp(err, "c.csv:2: 1 field, the header has 2") == 0);
    CHECK(load("c.csv", "id,name\n1,2,3\n", &o, err) == NULL);
    CHECK(strcmp(err, "c.csv:2: more fields than the header's 2") == 0);
    CHECK(load("c.csv", "id,id\n", &o, err) == NULL);
    CHECK(strcmp(err, "c.csv:1: column name \"id\" is used twice") == 0);
    CHECK(load("c.csv", "", &o, err) == NULL);
    CHECK(strcmp(err, "c.csv: no header line (a CSV table starts with its column names)") == 0);
    CHECK(load("c.bin", "id,v\n1,\xff\xfe\n", &o, err) == NULL);
    CHECK(strcmp(err, "c.bin:2: a field is not UTF-8 text (a binary file?)") == 0);
    o.key = "nope";
    CHECK(load("c.csv", "id,name\n", &o, err) == NULL);
    CHECK(strcmp(err, "c.csv:1: no column named \"nope\" for the key (columns: id, name)") == 0);
    o.key = NULL;

    /* a header of more columns than a table may have */
    size_t wide = 3 * LW_TABLE_MAX_COLUMNS + 10;
    char *w = malloc(wide + 1);
    for (size_t i = 0; i < wide; i += 2) {
        w[i] = 'c';
        w[i + 1] = ',';
    }
    w[wide] = '\0';
    CHECK(load("w.csv", w, &o, err) == NULL && strstr(err, "more than 4096 fields") != NULL);
    free(w);

    /* the memory bound: an error at load, whatever the file */
    o.max_bytes = 2000;
    char big[4000];
    size_t bl = (size_t)snprintf(big, sizeof big, "k,v\n");
    for (int i = 0; bl < sizeof big - 20; i++)
        bl += (size_t)snprintf(big + bl, sizeof big - bl, "%d,x\n", i);
    CHECK(load("big.csv", big, &o, err) == NULL &&
          strstr(err, "over the memory bound of 2000 bytes") != NULL);
    o.max_bytes = 1 << 20;

    /* JSON lines */
    t = load("k.jsonl", "{\"key\":\"a\",\"n\":1}\n\n{\"key\":7}\r\n{\"key\":\"\\u00e9\"}\n", &o,
             err);
    CHECK(t != NULL && lw_table_rows(t) == 3);
    CHECK(t != NULL && lw_table_get(t, "7", 1) != NULL && lw_table_get(t, "\xc3\xa9", 2) != NULL);
    row = t ? lw_table_get(t, "a", 1) : NULL;
    CHECK(row != NULL && (row->flags & LW_V_RAW) && row->len == 17);
    lw_table_unref(t);
    CHECK(load("k.jsonl", "{\"key\":\"a\"}\n[1]\n", &o, err) == NULL);
    CHECK(strcmp(err, "k.jsonl:2: not a JSON object") == 0);
    CHECK(load("k.jsonl", "{\"key\":true}\n", &o, err) == NULL);
    CHECK(strcmp(err, "k.jsonl:1: member \"key\" must be a string or an integer, found true") == 0);
    CHECK(load("k.jsonl", "{\"id\":1}\n", &o, err) == NULL);
    CHECK(strcmp(err, "k.jsonl:1: no member \"key\"") == 0);
    CHECK(load("k.jsonl", "{\"key\":1,}\n", &o, err) == NULL &&
          strncmp(err, "k.jsonl:1:10: not JSON", 22) == 0);

    /* ranges */
    o.ip = true;
    t = load("g.csv", "net,cc\n10.0.0.0/8,A\n10.1.0.0/16,B\n::/0,ALL\n", &o, err);
    CHECK(t != NULL);
    row = t ? lw_table_get_ip(t, ip("10.1.2.3")) : NULL;
    CHECK(row != NULL && row->u.o->v[1].u.p[0] == 'B');
    row = t ? lw_table_get_ip(t, ip("10.2.0.0")) : NULL;
    CHECK(row != NULL && row->u.o->v[1].u.p[0] == 'A');
    row = t ? lw_table_get_ip(t, ip("11.0.0.0")) : NULL;
    CHECK(row != NULL && row->u.o->v[1].len == 3); /* ::/0 holds the IPv4-mapped space too */
    lw_table_unref(t);
    t = load("g.csv", "start,end,cc\n10.0.0.5,10.0.0.9,A\n", &o, err);
    CHECK(t != NULL && lw_table_get_ip(t, ip("10.0.0.9")) != NULL &&
          lw_table_get_ip(t, ip("10.0.0.10")) == NULL);
    lw_table_unref(t);
    CHECK(load("g.csv", "start,end\n10.0.0.9,10.0.0.5\n", &o, err) == NULL);
    CHECK(strcmp(err, "g.csv:2: end 10.0.0.5 is below start 10.0.0.9") == 0);
    CHECK(load("g.csv", "start,end\n10.0.0.1,::1\n", &o, err) == NULL);
    CHECK(strcmp(err, "g.csv:2: start and end are not of the same IP version") == 0);
    CHECK(load("g.csv", "net\n10.0.0.0/8\n10.0.0.0/8\n", &o, err) == NULL);
    CHECK(strcmp(err, "g.csv:3: range 10.0.0.0 to 10.255.255.255 again (first at line 2)") == 0);
    CHECK(load("g.csv", "net\n::/129\n", &o, err) == NULL);
    CHECK(strcmp(err, "g.csv:2: \"::/129\": prefix length 129 is over 128") == 0);
    t = load("g.jsonl", "{\"start\":\"::1\",\"end\":\"::5\",\"x\":1}\n", &o, err);
    CHECK(t != NULL && lw_table_get_ip(t, ip("::3")) != NULL);
    lw_table_unref(t);

    /* sets */
    o.ip = false;
    t = load("c.csv", "id\n1\n", &o, err);
    struct lw_tableset *s = lw_tableset_new();
    CHECK(s != NULL && t != NULL && lw_tableset_put(s, "c", t) == 0);
    lw_table_unref(t); /* the set holds it */
    struct lw_tableset *c = lw_tableset_copy(s);
    lw_tableset_unref(s);
    CHECK(c != NULL && lw_tableset_find(c, "c", 1) == t && lw_tableset_find(c, "d", 1) == NULL);
    CHECK(lw_table_get(lw_tableset_find(c, "c", 1), "1", 1) != NULL);
    lw_tableset_unref(c);
}

void
test_table(void)
{
    test_csv();
    test_ip();
    test_index_random();
    test_load();
}
