/* The record loop. For each raw record: decode, run the VM, and either keep its output (the
 * encoder wrote it into the output buffer) or discard it and send the record to the dead-letter
 * path with both positions. Output is flushed in large writes, only between records. Counters
 * feed the exit status and the summary line. */
#include "lw/pipeline.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw/codec.h"
#include "lw/json.h"
#include "lw/sink.h"
#include "lw/source.h"
#include "lw/timefmt.h"

#define FLUSH_AT     (64 * 1024)
#define MAX_WARNINGS 100

static volatile sig_atomic_t stop;

void
lw_pipeline_stop(void)
{
    stop = 1;
}

struct run {
    const struct lw_program *prog;
    const struct lw_opts *o;
    const struct lw_encoder *enc;
    struct lw_buf out; /* encoded output not yet written */
    size_t rec_start;  /* out.len when the current record began */
    struct lw_buf dl;  /* dead letters not yet written */
    struct lw_sink sink, dlsink;
    bool has_dl;
    struct lw_counters n;
    uint64_t warnings;
};

/* no_form: the error for a value the encoder cannot write (the caller drops the partial text
 * with the record's output). */
static int
no_form(struct lw_vm *vm, const char *verb, const struct lw_value *v)
{
    if (v->t == LW_T_ARR || v->t == LW_T_OBJ) {
        return lw_vm_error(vm, "cannot %s %s: nested deeper than %d levels", verb,
                           lw_type_name(v->t), LW_JSON_MAX_DEPTH);
    }
    return lw_vm_error(vm, "cannot %s %s", verb, lw_type_name(v->t));
}

static int
out_cb(void *ud, struct lw_vm *vm, const struct lw_value *v, bool print)
{
    struct run *r = ud;
    if (print) {
        if (lw_value_write_text(&r->out, v, vm->arena) != 0) return no_form(vm, "print", v);
        lw_buf_addc(&r->out, '\n');
    } else {
        if (r->enc->encode(&r->out, v, vm->arena) != 0) return no_form(vm, "emit", v);
        r->n.emitted++;
    }
    if (r->out.len - r->rec_start > vm->limits.max_output) {
        return lw_vm_error(vm, "output limit of %zu bytes per record exceeded (--max-output)",
                           vm->limits.max_output);
    }
    return 0;
}

/* tpos: "name:line:col" of a template span, into buf. */
static const char *
tpos(const struct lw_program *p, struct lw_span sp, char *buf, size_t cap)
{
    int line, col;
    lw_diag_linecol(p->src, sp.off, &line, &col);
    snprintf(buf, cap, "%.*s:%d:%d", (int)p->name.len, p->name.p, line, col);
    return buf;
}

static void
base64(struct lw_buf *b, struct lw_str s)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < s.len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s.p[i] << 16 |
                     (uint32_t)(unsigned char)s.p[i + 1] << 8 | (unsigned char)s.p[i + 2];
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63] };
        lw_buf_add(b, q, 4);
    }
    if (i < s.len) {
        uint32_t v = (uint32_t)(unsigned char)s.p[i] << 16;
        if (i + 1 < s.len) v |= (uint32_t)(unsigned char)s.p[i + 1] << 8;
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], i + 1 < s.len ? tab[(v >> 6) & 63] : '=',
                      '=' };
        lw_buf_add(b, q, 4);
    }
}

/* dead_letter: one JSON object per failed record: where it came from, what failed where,
 * and the original bytes (as a string when they are UTF-8, else base64). */
static void
dead_letter(struct run *r, const struct lw_recpos *pos, struct lw_str raw, const char *kind,
            const char *where, const char *msg)
{
    struct lw_buf *b = &r->dl;
    lw_buf_adds(b, "{\"source\":");
    lw_json_write_string(b, pos->name, strlen(pos->name));
    lw_buf_printf(b, ",\"line\":%" PRIu64 ",\"kind\":\"%s\",\"template\":", pos->line, kind);
    if (where)
        lw_json_write_string(b, where, strlen(where));
    else
        lw_buf_adds(b, "null");
    lw_buf_adds(b, ",\"error\":");
    lw_json_write_string(b, msg, strlen(msg));
    if (lw_utf8_valid(raw)) {
        lw_buf_adds(b, ",\"record\":");
        lw_json_write_string(b, raw.p, raw.len);
    } else {
        lw_buf_adds(b, ",\"record_base64\":\"");
        base64(b, raw);
        lw_buf_addc(b, '"');
    }
    lw_buf_adds(b, "}\n");
}

/* failed: count, report and route one failed record. Returns -1 under --on-error=abort. */
static int
failed(struct run *r, const struct lw_recpos *pos, struct lw_str raw, const char *kind,
       const char *where, const char *msg)
{
    if (r->has_dl) dead_letter(r, pos, raw, kind, where, msg);
    bool say = r->o->on_error == LW_ONERR_ABORT ||
               (r->o->on_error == LW_ONERR_WARN && !r->has_dl && r->o->verbosity >= 0);
    if (say && r->warnings < MAX_WARNINGS) {
        fprintf(stderr, "logwash: %s:%" PRIu64 ": %s%s", pos->name, pos->line, where ? where : "",
                where ? ": " : "");
        /* The message may quote record bytes: control characters never reach the terminal. */
        for (const char *c = msg; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                fprintf(stderr, "\\x%02x", (unsigned char)*c);
            else
                fputc(*c, stderr);
        }
        fputc('\n', stderr);
    } else if (say && r->warnings == MAX_WARNINGS) { /* said once, when the first is hidden */
        fprintf(stderr, "logwash: further record errors are counted but not shown "
                        "(use --dead-letter FILE to keep them all)\n");
    }
    if (say) r->warnings++;
    return r->o->on_error == LW_ONERR_ABORT ? -1 : 0;
}

static int
flush(struct run *r, struct lw_buf *b, struct lw_sink *s, struct lw_diag *d)
{
    if (b->len == 0) return 0;
    int rc = lw_sink_write(s, b->p, b->len, d);
    b->len = 0;
    return rc;
}

/* one: process one raw record. Returns 0, or -1 to stop (abort policy). */
static int
one(struct run *r, struct lw_vm *vm, const struct lw_decoder *dec, struct lw_str raw,
    const struct lw_recpos *pos, struct lw_str *topval, struct lw_arena *arena)
{
    char where[256], err[320];
    struct lw_record rec;
    r->n.in++;
    if (pos->too_long) {
        r->n.undecodable++;
        if (pos->why != NULL) {
            snprintf(err, sizeof err, "%s", pos->why);
        } else {
            snprintf(err, sizeof err, "line longer than %zu bytes (--max-line): cut and skipped",
                     r->o->max_line);
        }
        return failed(r, pos, raw, "decode", NULL, err);
    }
    if (dec->decode(r->prog, raw, &rec, topval, arena, err, sizeof err) != 0) {
        r->n.undecodable++;
        return failed(r, pos, raw, "decode", NULL, err);
    }
    r->rec_start = r->out.len;
    uint64_t emitted = r->n.emitted;
    enum lw_vm_result res = lw_vm_run(vm, &rec);
    if (res == LW_VM_OK) return 0;
    if (res == LW_VM_DROP) {
        r->n.dropped++;
        return 0;
    }
    r->n.emitted = emitted; /* the output of a failed record is discarded */
    r->out.len = r->rec_start;
    tpos(r->prog, r->prog->spans[vm->err_pc], where, sizeof where);
    if (res == LW_VM_REJECT) {
        r->n.rejected++;
        return failed(r, pos, raw, "reject", where, vm->err);
    }
    r->n.failed++;
    return failed(r, pos, raw, "error", where, vm->err);
}

static void
summary(const struct run *r, const struct lw_opts *o)
{
    uint64_t bad = r->n.failed + r->n.rejected + r->n.undecodable;
    if (o->verbosity < 1 && (bad == 0 || o->verbosity < 0 || o->on_error == LW_ONERR_SKIP)) return;
    fprintf(stderr,
            "logwash: %" PRIu64 " records: %" PRIu64 " emitted, %" PRIu64 " dropped, %" PRIu64
            " rejected, %" PRIu64 " failed, %" PRIu64 " undecodable%s%s\n",
            r->n.in, r->n.emitted, r->n.dropped, r->n.rejected, r->n.failed, r->n.undecodable,
            r->has_dl ? "; dead letters in " : "", r->has_dl ? o->dead_letter : "");
}

int
lw_pipeline_run(const struct lw_program *prog, const struct lw_opts *o, struct lw_counters *cnt)
{
    struct run r = { .prog = prog, .o = o };
    struct lw_diag d = { 0 };
    struct lw_source src = { .ops = &lw_source_files };
    struct lw_arena arena;
    struct lw_vm vm;
    int status = 0;
    enum lw_informat in = o->input != LW_IN_DEFAULT ? o->input : prog->input;
    const struct lw_decoder *dec = in == LW_IN_JSON ? &lw_dec_json : &lw_dec_text;
    r.enc = o->output == LW_OUT_TEXT ? &lw_enc_text : &lw_enc_json;

    signal(SIGPIPE, SIG_IGN);
    lw_buf_init(&r.out);
    lw_buf_init(&r.dl);
    lw_sink_open_fd(&r.sink, 1, "stdout");
    if (o->dead_letter != NULL) {
        if (lw_sink_open_file(&r.dlsink, o->dead_letter, &d) != 0) {
            fprintf(stderr, "logwash: %s\n", d.msg);
            return 4;
        }
        r.has_dl = true;
    }
    lw_arena_init(&arena, 64 * 1024);
    lw_vm_init(&vm, prog, &arena, &o->limits);
    vm.now_ns = o->now_ns;
    vm.tz = o->tz;
    vm.out = out_cb;
    vm.out_ud = &r;
    struct lw_str *topval = lw_xcalloc(prog->ntopkeys + 1, sizeof *topval);

    /* An I/O error stops the stream, but what the records before it produced is still
     * written: the loop only breaks, and the flushes below run in every case. */
    bool io_failed = src.ops->open(&src, o, &d) != 0;
    while (!io_failed && !stop) {
        struct lw_str raw;
        struct lw_recpos pos;
        int got = src.ops->next(&src, &raw, &pos, &d);
        if (got < 0) {
            io_failed = true;
            break;
        }
        if (got == 0) break;
        int rc = one(&r, &vm, dec, raw, &pos, topval, &arena);
        lw_arena_reset(&arena);
        if ((o->unbuffered || r.out.len >= FLUSH_AT) && flush(&r, &r.out, &r.sink, &d) != 0) {
            io_failed = !r.sink.broken_pipe; /* EPIPE is a quiet, normal stop */
            break;
        }
        if ((r.dl.len >= FLUSH_AT || (o->unbuffered && r.dl.len)) &&
            flush(&r, &r.dl, &r.dlsink, &d) != 0) {
            io_failed = true;
            break;
        }
        if (rc != 0) break;
    }
    if (flush(&r, &r.out, &r.sink, &d) != 0 && !r.sink.broken_pipe) io_failed = true;
    if (r.has_dl) {
        if (flush(&r, &r.dl, &r.dlsink, &d) != 0) io_failed = true;
        if (lw_sink_close(&r.dlsink, &d) != 0) io_failed = true;
    }
    if (io_failed) {
        fprintf(stderr, "logwash: %s\n", d.msg);
        status = 4;
    }
    if (status == 0 && (r.n.failed || r.n.rejected || r.n.undecodable)) status = 1;
    summary(&r, o);
    src.ops->close(&src);
    free(topval);
    lw_vm_fini(&vm);
    lw_arena_fini(&arena);
    lw_buf_fini(&r.out);
    lw_buf_fini(&r.dl);
    if (cnt) *cnt = r.n;
    return status;
}
