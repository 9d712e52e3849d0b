/* Fuzz target: arbitrary bytes as one JSON-input record through fixed templates that read
 * paths, loop, convert, modify the record and pass it through. Checks, with jansson as the
 * oracle, that every emitted line is valid JSON, and that a record jansson accepts is
 * decoded by logwash (and one it rejects is not). */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "lw/codec.h"
#include "lw/program.h"
#include "lw/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const templates[] = {
    "input json\nemit .",
    "input json\nlet t = 0\nfor k, v in . { t = t + len(str(v)) }\nemit {t, keys: keys(. ?? {}) ?? "
    "null}",
    "input json\n.added = {x: [1, .a, .a.b[0]]}\n.a.b = .s ?? null\nemit",
    "input json\nfor x in .a.b ?? [] { emit {x, t: type(x), j: to_json(x), s: str(x)} }",
    "input json\nemit {p: parse_json(to_json(.)) ?? null, n: int(.n ?? 0) ?? -1}",
};
#define NT (sizeof templates / sizeof templates[0])

static struct lw_program *progs[NT];

static int
out(void *ud, struct lw_vm *vm, const struct lw_value *v, const struct lw_value *route, bool print)
{
    struct lw_buf *b = ud;
    size_t start = b->len;
    if (lw_enc_json.encode(b, v, vm->arena, b->len + vm->limits.max_output) != 0)
        return lw_vm_error(vm, "cannot emit");
    json_error_t e;
    bool nul_key;
    json_t *j = accept_load(b->p + start, b->len - start - 1, &e, &nul_key);
    if (j == NULL) {
        fprintf(stderr, "emitted invalid JSON: %.*s (%s)\n", (int)(b->len - start), b->p + start,
                e.text);
        abort();
    }
    json_decref(j);
    b->len = 0;
    return 0;
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
    json_error_t je;
    bool nul_key;
    /* the decoder skips a UTF-8 byte order mark (Windows writers); jansson refuses it */
    size_t bom = size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    json_t *j = accept_load((const char *)data + bom, size - bom, &je, &nul_key);
    bool valid = j != NULL;
    json_decref(j);
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
        vm.out = out;
        vm.out_ud = &b;
        int rc = lw_dec_json.decode(progs[i], (struct lw_str){ (const char *)data, size }, &r, top,
                                    &a, err, sizeof err);
        if ((rc == 0) != valid) {
            fprintf(stderr, "decoder says %s, jansson says %s\n", rc == 0 ? "valid" : err,
                    valid ? "valid" : je.text);
            abort();
        }
        if (rc == 0) lw_vm_run(&vm, &r);
        lw_vm_fini(&vm);
        lw_buf_fini(&b);
        lw_arena_fini(&a);
        free(top);
    }
    return 0;
}
