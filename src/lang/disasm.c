/* --disasm: the bytecode, one instruction per line, with its operands, the template
 * line:column it came from, and the opcode's synopsis from ops.def. */
#include <inttypes.h>
#include <stdio.h>

#include "lw/program.h"
#include "lw/vm.h"

static const struct {
    const char *name;
    enum lw_fmt fmt;
    const char *syn;
} opinfo[] = {
#define OP(name, fmt, syn) [LW_OP_##name] = { #name, LW_FMT_##fmt, syn },
#include "lw/ops.def"
#undef OP
};

static void
konst(FILE *f, const struct lw_program *p, uint32_t k)
{
    const struct lw_value *v = &p->k[k];
    if (v->t == LW_T_REGEX && v->flags != 0) {
        fprintf(f, "<%s pattern>", v->flags & LW_V_GROK ? "grok" : "dissect");
        return;
    }
    if (v->t == LW_T_REGEX) {
        fprintf(f, "/%.*s/", (int)v->u.re->src.len, v->u.re->src.p);
        return;
    }
    struct lw_buf b;
    struct lw_arena a;
    lw_buf_init(&b);
    lw_arena_init(&a, 256);
    lw_value_write_json(&b, v, &a);
    fprintf(f, "%.*s", (int)(b.len > 40 ? 40 : b.len), b.p);
    lw_buf_fini(&b);
    lw_arena_fini(&a);
}

static void
path(FILE *f, const struct lw_program *p, uint32_t i)
{
    const struct lw_path *pa = &p->paths[i];
    if (pa->base >= 0) fprintf(f, "R%d", pa->base);
    if (pa->n == 0 && pa->base < 0) fputc('.', f);
    for (uint32_t s = 0; s < pa->n; s++) {
        if (pa->seg[s].reg >= 0)
            fprintf(f, "[R%d]", pa->seg[s].reg);
        else if (pa->seg[s].key.p)
            fprintf(f, ".%.*s", (int)pa->seg[s].key.len, pa->seg[s].key.p);
        else
            fprintf(f, "[%" PRId64 "]", pa->seg[s].index);
    }
}

/* function: the header line before a user function's code. */
static void
function(FILE *f, const struct lw_program *p, const struct lw_func *fn)
{
    struct lw_str file;
    int line, col;
    lw_program_where(p, fn->span.off, &file, &line, &col);
    fprintf(f, "; fn %.*s/%u at %.*s:%d:%d: %u instructions, %u registers\n", (int)fn->name.len,
            fn->name.p, fn->nparams, (int)file.len, file.p, line, col, fn->end - fn->entry,
            fn->nregs);
}

void
lw_disasm(const struct lw_program *p, FILE *f)
{
    fprintf(f, "; %.*s: %u instructions, %u registers, %u constants\n", (int)p->name.len, p->name.p,
            p->ncode, p->nregs, p->nk);
    uint32_t fi = 0;
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        const struct lw_ins *in = &p->code[pc];
        if (fi < p->nfuncs && p->funcs[fi].entry == pc) function(f, p, &p->funcs[fi++]);
        int line, col;
        struct lw_str file;
        lw_program_where(p, p->spans[pc].off, &file, &line, &col);
        char pos[300];
        if (file.p == p->name.p)
            snprintf(pos, sizeof pos, "%d:%d", line, col);
        else
            snprintf(pos, sizeof pos, "%.*s:%d:%d", (int)(file.len > 200 ? 200 : file.len), file.p,
                     line, col);
        if (opinfo[in->op].fmt == LW_FMT_NONE) { /* no operands: no padding after the name */
            fprintf(f, "%4u  %-8s %s\n", pc, pos, opinfo[in->op].name);
            continue;
        }
        fprintf(f, "%4u  %-8s %-7s ", pc, pos, opinfo[in->op].name);
        int n = 0;
        switch (opinfo[in->op].fmt) {
        case LW_FMT_NONE:
            break;
        case LW_FMT_A:
            n = fprintf(f, "R%u", in->a);
            break;
        case LW_FMT_AB:
            n = fprintf(f, "R%u R%u", in->a, in->b);
            break;
        case LW_FMT_AK:
            n = fprintf(f, "R%u K%u", in->a, in->b);
            if (in->op == LW_OP_LOADK) {
                n += fprintf(f, " ; ");
                konst(f, p, in->b);
            }
            break;
        case LW_FMT_AP:
            n = fprintf(f, "R%u P%u ; ", in->a, in->b);
            path(f, p, in->b);
            break;
        case LW_FMT_ABC:
            n = fprintf(f, "R%u R%u R%d", in->a, in->b, in->c);
            break;
        case LW_FMT_ABK:
            n = fprintf(f, "R%u R%u K%d ; ", in->a, in->b, in->c);
            konst(f, p, (uint32_t)in->c);
            break;
        case LW_FMT_AJ:
            n = fprintf(f, "R%u -> %d", in->a, (int)pc + 1 + in->c);
            break;
        case LW_FMT_J:
            n = fprintf(f, "-> %d", (int)pc + 1 + in->c);
            break;
        case LW_FMT_ACALL:
            if (in->op == LW_OP_FCALL)
                n = fprintf(f, "R%u %.*s/%d", in->a, (int)p->funcs[in->b].name.len,
                            p->funcs[in->b].name.p, in->c);
            else
                n = fprintf(f, "R%u %s/%d", in->a, lw_builtins[in->b].name, in->c);
            break;
        case LW_FMT_ABM:
            n = fprintf(f, "R%u R%u M%d ; /%.*s/", in->a, in->b, in->c,
                        (int)(p->sites[in->c].re->src.len > 30 ? 30 : p->sites[in->c].re->src.len),
                        p->sites[in->c].re->src.p);
            break;
        case LW_FMT_AS: {
            const struct lw_shape *sh = &p->shapes[in->b];
            n = fprintf(f, "R%u S%u ; {", in->a, in->b);
            for (uint32_t i = 0; i < sh->n; i++) {
                fprintf(f, "%s%.*s", i ? ", " : "", (int)sh->keys[i].len, sh->keys[i].p);
            }
            fputc('}', f);
            break;
        }
        case LW_FMT_AN:
            n = fprintf(f, "R%u n=%u", in->a, in->b);
            break;
        case LW_FMT_ABN:
            n = fprintf(f, "R%u R%u n=%d", in->a, in->b, in->c);
            break;
        case LW_FMT_IB:
            n = fprintf(f, "I%u R%u", in->a, in->b);
            break;
        case LW_FMT_AIJ:
            n = fprintf(f, "R%u I%u -> %d", in->a, in->b, (int)pc + 1 + in->c);
            break;
        case LW_FMT_CV:
            n = fprintf(f, "C%u", in->b);
            break;
        }
        (void)n;
        fputc('\n', f);
    }
}
