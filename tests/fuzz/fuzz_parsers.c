/* Fuzz target: arbitrary bytes as a text record through the parsing functions of issue 4
 * (parse_syslog, parse_csv, parse_url, parse_query, url_decode, base64_decode, parse_duration,
 * parse_logfmt, parse_kv, json_escape) and of issue 15 (parse_bytes, parse_tokens,
 * mysql_unquote, parse_klog, parse_glog, parse_cef, parse_influxdb, parse_aws_vpc_flow_log,
 * parse_xml, parse_json's max_depth, captures' numeric groups),
 * checking that emitted lines are valid JSON; and through lw_syslog_parse and lw_duration_parse
 * directly, checking that every slice lies inside the input and that base64 and url encodings
 * round-trip. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/codec.h"
#include "lw/duration.h"
#include "lw/program.h"
#include "lw/syslog.h"
#include "lw/tz.h"
#include "lw/vm.h"

/* utc: the zone for stamps without one (lw_syslog_parse needs a zone) */
static const struct lw_tz *
utc(void)
{
    static struct lw_tz z;
    lw_tz_fixed(&z, 0);
    return &z;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const templates[] = {
    "emit parse_syslog(line) ?? null",
    "emit [parse_csv(line) ?? null, parse_csv(line, \";\") ?? null]",
    "emit [parse_url(line) ?? null, parse_query(line) ?? null, url_decode(line) ?? null]",
    "emit [parse_duration(line) ?? null, parse_duration(line, \"ms\") ?? null]",
    "emit [parse_logfmt(line) ?? null, parse_kv(line) ?? null,\n"
    "      parse_kv(line, \";\", \":\", \"'\\\"\") ?? null, parse_kv(line, \" | \", \"=>\") ?? "
    "null]",
    "emit [parse_bytes(line) ?? null, parse_bytes(line, \"MB\", \"10\") ?? null,\n"
    "      parse_tokens(line) ?? null, mysql_unquote(line), parse_klog(line) ?? null,\n"
    "      parse_glog(line) ?? null]",
    "emit [parse_cef(line) ?? null, parse_cef(line, true, false) ?? null,\n"
    "      parse_influxdb(line) ?? null, parse_aws_vpc_flow_log(line) ?? null,\n"
    "      parse_aws_vpc_flow_log(line, \"a b c\") ?? null]",
    "emit [parse_kv(line, \";\", \":\", \"\\\"'\", {standalone: true, repeated: \"array\",\n"
    "      whitespace: \"lenient\"}) ?? null, parse_kv(line, \" \", \"=\", \"\\\"\",\n"
    "      {standalone: null, repeated: \"first\"}) ?? null]",
    "emit [parse_xml(line) ?? null, parse_xml(line, {trim: false, always_use_text_key: true}) ?? "
    "null,\n"
    "      parse_json(line, 2) ?? null, captures(line, /(a)(?<b>b)?/, true),\n"
    "      parse_json(line, null, {lenient: true, lossy: true}) ?? null]",
    "let d = base64_decode(line) ?? line\n"
    "if base64_decode(base64_encode(d)) != d { emit {bad: \"base64\"} }\n"
    "if url_decode(url_encode(line)) != line { emit {bad: \"url\"} }\n"
    "emit {e: json_escape(d), h: [crc32(d), fnv1a(d), xxhash(d), md5(d), sha256(d)]}",
};
#define NT (sizeof templates / sizeof templates[0])

static struct lw_program *progs[NT];

/* jansson cannot hold NUL in an object key, so output with \u0000 may be valid JSON that it
 * refuses (parse_query of "%00=1" makes such a key). */
static bool
has_nul_escape(const char *p, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++) {
        if (memcmp(p + i, "\\u0000", 6) == 0) return true;
    }
    return false;
}

static int
out(void *ud, struct lw_vm *vm, const struct lw_value *v, const struct lw_value *route, bool print)
{
    struct lw_buf *b = ud;
    size_t start = b->len;
    if (lw_enc_json.encode(b, v, vm->arena, b->len + vm->limits.max_output) != 0)
        return lw_vm_error(vm, "cannot emit");
    json_error_t e;
    json_t *j = json_loadb(b->p + start, b->len - start - 1,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    struct lw_value bad =
        v->t == LW_T_OBJ ? lw_value_get(v, LW_STR_LIT("bad"), vm->arena) : LW_NULL;
    if ((j == NULL && !has_nul_escape(b->p + start, b->len - start)) || bad.t != LW_T_NULL) {
        fprintf(stderr, "bad output: %.*s\n", (int)(b->len - start), b->p + start);
        abort();
    }
    json_decref(j);
    b->len = 0;
    return 0;
}

static void
inside(struct lw_str s, const char *p, size_t n)
{
    if (s.p != NULL && (s.p < p || s.p + s.len > p + n)) abort();
}

static void
direct(const char *p, size_t n)
{
    struct lw_syslog s;
    char err[200];
    size_t off = 0;
    if (lw_syslog_parse(p, n, 1700000000000000000LL, utc(), &s, err, sizeof err, &off) == 0) {
        inside(s.host, p, n);
        inside(s.app, p, n);
        inside(s.procid, p, n);
        inside(s.msgid, p, n);
        inside(s.sd, p, n);
        inside(s.msg, p, n);
        if (s.pri < -1 || s.pri > 191 || (s.pri == -1 && (n == 0 || p[0] == '<'))) abort();
        char *scratch = malloc(s.sd.len + 1);
        struct lw_syslog_sd it;
        struct lw_str id, val;
        lw_syslog_sd_init(&it, s.sd);
        while (lw_syslog_sd_next(&it, scratch, &id, &val) == 1) {
            inside(id, p, n);
            if (val.p != NULL && !(val.p >= scratch && val.p + val.len <= scratch + s.sd.len)) {
                inside(val, p, n);
            }
        }
        free(scratch);
    } else if (off > n) {
        abort();
    }
    double ns;
    off = 0;
    if (lw_duration_parse(p, n, &ns, err, sizeof err, &off) != 0 && off > n) abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_limits lim = { .steps = 100000,
                             .match_limit = 10000,
                             .depth_limit = 1000,
                             .regex_budget = 1 << 16,
                             .max_output = 1 << 20,
                             .max_memory = 1 << 24 };
    if (progs[0] == NULL) {
        for (size_t i = 0; i < NT; i++) {
            struct lw_diag d = { 0 };
            progs[i] = lw_compile(LW_STR_LIT("t.lw"), lw_str_c(templates[i]), NULL, &d);
            if (progs[i] == NULL) {
                fprintf(stderr, "template %zu: %s\n", i, d.msg);
                abort();
            }
        }
    }
    /* a record is one line: cut at the first newline, as the framing would */
    const char *nl = memchr(data, '\n', size);
    size_t n = nl != NULL ? (size_t)(nl - (const char *)data) : size;
    char *p = malloc(n + 1); /* a copy of exactly n bytes, so ASan sees reads past the end */
    memcpy(p, data, n);
    direct(p, n);
    for (size_t i = 0; i < NT; i++) {
        struct lw_arena a;
        struct lw_vm vm;
        struct lw_buf b;
        struct lw_record r;
        struct lw_str *top = calloc(progs[i]->ntopkeys + 1, sizeof *top);
        char err[256];
        lw_arena_init(&a, 4096);
        lw_buf_init(&b);
        lw_vm_init(&vm, progs[i], &a, &lim);
        vm.now_ns = 1700000000000000000LL;
        vm.out = out;
        vm.out_ud = &b;
        if (lw_dec_text.decode(progs[i], (struct lw_str){ p, n }, &r, top, &a, err, sizeof err) ==
            0) {
            lw_vm_run(&vm, &r);
        }
        lw_vm_fini(&vm);
        lw_buf_fini(&b);
        lw_arena_fini(&a);
        free(top);
    }
    free(p);
    return 0;
}
