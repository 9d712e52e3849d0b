/* Decoders (raw bytes -> struct lw_record) and encoders (values -> bytes in a buffer).
 * Both are stateless tables; the pipeline picks one of each from the options. */
#ifndef LW_CODEC_H
#define LW_CODEC_H

#include "lw/buf.h"
#include "lw/program.h"
#include "lw/vm.h"

struct lw_decoder {
    const char *name; /* -i NAME */
    /* Fill rec from raw. topval has room for prog->ntopkeys entries. Returns 0, or -1 with a
     * message in err (errcap bytes) for a record the decoder cannot read. */
    int (*decode)(const struct lw_program *prog, struct lw_str raw, struct lw_record *rec,
                  struct lw_str *topval, struct lw_arena *a, char *err, size_t errcap);
};

struct lw_encoder {
    const char *name; /* -o NAME */
    /* Append v and a newline to b. Returns 0, -1 when v has no such form, or
     * LW_WRITE_TOO_LONG as soon as b would hold more than max bytes (lw_value_write_json_max:
     * the work is bounded by max too). */
    int (*encode)(struct lw_buf *b, const struct lw_value *v, struct lw_arena *a, size_t max);
};

extern const struct lw_decoder lw_dec_text, lw_dec_json;
extern const struct lw_encoder lw_enc_json, lw_enc_text;

#endif
