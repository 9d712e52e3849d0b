/* Fuzz target: arbitrary template text through the compiler, the disassembler and, when it
 * compiles, the VM over a few fixed records (text and JSON) with small limits, the text record
 * also explained (explain.c), and once more compiled for coverage. Any crash, sanitizer report or
 * leak is a bug; compile errors and runtime errors are normal. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw/codec.h"
#include "lw/explain.h"
#include "lw/program.h"
#include "lw/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
out(void *ud, struct lw_vm *vm, const struct lw_value *v, const struct lw_value *route, bool print)
{
    struct lw_buf *b = ud;
    b->len = 0;
    if (print) return lw_value_write_text_max(b, v, vm->arena, vm->limits.max_output);
    return lw_enc_json.encode(b, v, vm->arena, vm->limits.max_output) == 0
               ? 0
               : lw_vm_error(vm, "cannot emit");
}

static void
run(const struct lw_program *p, const struct lw_decoder *dec, const char *rec, bool explain)
{
    struct lw_arena a;
    struct lw_vm vm;
    struct lw_buf b;
    struct lw_limits lim = { .steps = 20000,
                             .match_limit = 10000,
                             .depth_limit = 1000,
                             .regex_budget = 1 << 16,
                             .max_output = 1 << 16,
                             .max_memory = 1 << 22 };
    struct lw_record r;
    struct lw_str *top = calloc(p->ntopkeys + 1, sizeof *top);
    char err[256];
    lw_arena_init(&a, 4096);
    lw_buf_init(&b);
    lw_vm_init(&vm, p, &a, &lim);
    vm.out = out;
    vm.out_ud = &b;
    vm.now_ns = 1700000000000000000;
    if (explain && (vm.explain = lw_explain_new()) != NULL) lw_explain_reset(vm.explain);
    if (dec->decode(p, lw_str_c(rec), &r, top, &a, err, sizeof err) == 0) {
        r.meta = lw_obj_new(&a, 2); /* as the pipeline builds it for a file */
        lw_obj_set(&a, &r.meta, LW_STR_LIT("source"), lw_strv("fuzz.log", 8));
        lw_obj_set(&a, &r.meta, LW_STR_LIT("line"), lw_int(7));
        lw_vm_run(&vm, &r);
    }
    if (vm.explain != NULL) lw_explain_finish(vm.explain);
    lw_explain_free(vm.explain);
    lw_vm_fini(&vm);
    lw_buf_fini(&b);
    lw_arena_fini(&a);
    free(top);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_diag d = { 0 };
    struct lw_compile_opts o = { .jit = false };
    struct lw_program *p =
        lw_compile(LW_STR_LIT("fuzz.lw"), (struct lw_str){ (const char *)data, size }, &o, &d);
    if (p == NULL) {
        FILE *f = fopen("/dev/null", "w");
        lw_diag_print(f, "fuzz.lw", (struct lw_str){ (const char *)data, size }, &d);
        fclose(f);
        lw_diag_fini(&d);
        return 0;
    }
    FILE *f = fopen("/dev/null", "w");
    lw_disasm(p, f);
    fclose(f);
    run(p, &lw_dec_text,
        "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a b\" 200 2326 a=1 b=\"x y\"", true);
    run(p, &lw_dec_json,
        "{\"a\":{\"b\":[1,2.5,\"x\",null,true]},\"s\":\"h\\u00e9llo\",\"n\":-3,\"o\":{}}", false);
    lw_program_free(p);
    /* compiled for coverage (COV points at every statement and branch outcome) and run */
    o.coverage = true;
    d = (struct lw_diag){ 0 };
    p = lw_compile(LW_STR_LIT("fuzz.lw"), (struct lw_str){ (const char *)data, size }, &o, &d);
    lw_diag_fini(&d);
    if (p != NULL) {
        run(p, &lw_dec_text, "a=1 b=\"x y\"", false);
        lw_program_free(p);
    }
    return 0;
}
