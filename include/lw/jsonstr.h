/* JSON string tokens (src/base/jsonstr.c): the UTF-8 check, the escaping writer and the size of
 * its result. One set of rules for the template language's JSON writer and for the program's
 * dead letters and files, so a string is written the same way everywhere. */
#ifndef LW_JSONSTR_H
#define LW_JSONSTR_H

#include <stdbool.h>
#include <stddef.h>

#include "lw/buf.h"
#include "lw/str.h"

/* lw_utf8_valid: s is well-formed UTF-8 as the writer and the validator judge it (no overlong
 * forms, surrogates or code points past U+10FFFF), so lw_json_write_string keeps it unaltered. */
bool lw_utf8_valid(struct lw_str s);

/* lw_json_write_string: append p[0..len) as a JSON string token. Escapes '"', '\\' and control
 * characters (\n \t \r \b \f, others and NUL as \u00xx), keeps valid UTF-8 as raw bytes and
 * replaces each maximal invalid UTF-8 subsequence by U+FFFD (as Python's errors="replace"). */
void lw_json_write_string(struct lw_buf *b, const char *p, size_t len);

/* lw_json_string_fit: the length of the longest head of p[0..len) whose string token, as
 * lw_json_write_string writes it (quotes and escapes included), takes at most room bytes. The
 * head ends between characters (or ill-formed subsequences), so a head of valid UTF-8 is valid
 * UTF-8. 0 when room is below 2. */
size_t lw_json_string_fit(const char *p, size_t len, size_t room);

#endif
