/* Template functions implemented outside builtins.c (one file per family: grok, dissect,
 * parsers, hashes...). builtins.c's table names every function fn_NAME; those defined in other
 * files are declared here so the table can reach them. Deviation from STYLE §4 (file-local
 * functions are static, exported ones lw_-prefixed): these are neither; they are the
 * builtins table's private entries, and this header is the only place that names them. */
#ifndef LW_BUILTINS_INT_H
#define LW_BUILTINS_INT_H

#include "lw/vm.h"

#define LW_FN_DECL(name)                                                                           \
    int fn_##name(struct lw_vm *vm, struct lw_value *a, int n, struct lw_value *r)

LW_FN_DECL(dissect);
LW_FN_DECL(grok);
/* fn_table.c: lookup tables */
LW_FN_DECL(lookup);
LW_FN_DECL(lookup_ip);
/* state.c: seen() (lw_fn_seen) */
LW_FN_DECL(seen);
/* fn_parse.c: parsers */
LW_FN_DECL(parse_csv);
LW_FN_DECL(parse_duration);
LW_FN_DECL(parse_query);
LW_FN_DECL(parse_syslog);
LW_FN_DECL(parse_url);
LW_FN_DECL(url_decode);
LW_FN_DECL(url_encode);
/* fn_formats.c: formats from other tools */
LW_FN_DECL(mysql_unquote);
LW_FN_DECL(parse_aws_vpc_flow_log);
LW_FN_DECL(parse_bytes);
LW_FN_DECL(parse_cef);
LW_FN_DECL(parse_glog);
LW_FN_DECL(parse_influxdb);
LW_FN_DECL(parse_klog);
LW_FN_DECL(parse_tokens);
/* fn_xml.c */
LW_FN_DECL(parse_xml);
/* useragent.c */
LW_FN_DECL(parse_user_agent);
/* fn_parse.c: member key of *obj (an object, or null: one is made) set to v; a key seen before
 * turns into an array of its values in order (parse_query, parse_xml). The search for key is
 * work, counted (n / 16 steps, as parse_cef counts it), so a record of 80k keys costs steps,
 * not unbounded time. Returns 0, or -1 at the step limit (the VM's error set). */
int lw_fn_add_multi(struct lw_vm *vm, struct lw_value *obj, struct lw_str key, struct lw_value v);
/* fn_formats.c's part of lw_fn_check_const */
const char *lw_fn_formats_check_const(int f, int argi, struct lw_str s);
/* fn_coll.c: arrays and objects */
LW_FN_DECL(del);
LW_FN_DECL(merge);
LW_FN_DECL(push);
LW_FN_DECL(compact);
LW_FN_DECL(flatten);
LW_FN_DECL(index_of);
LW_FN_DECL(slice);
LW_FN_DECL(sort);
LW_FN_DECL(sum);
LW_FN_DECL(unique);
/* contains(array, x): fn_contains (builtins.c) hands arrays to it */
int lw_fn_contains_array(struct lw_vm *vm, struct lw_value *a, struct lw_value *r);
/* fn_codec.c */
LW_FN_DECL(base64_decode);
LW_FN_DECL(base64_encode);
LW_FN_DECL(json_escape);
/* fn_hash.c */
LW_FN_DECL(crc32);
LW_FN_DECL(fnv1a);
LW_FN_DECL(md5);
LW_FN_DECL(sha256);
LW_FN_DECL(xxhash);

/* lw_fn_check_const: the compiler's check of a constant string argument argi (0-based) of
 * function f (enum lw_fn_id), for the functions whose argument rules live with them (parse_csv's
 * separator, parse_duration's unit). Returns NULL when it is fine, else a static message that
 * the VM would give at run time for the same value. */
const char *lw_fn_check_const(int f, int argi, struct lw_str s);

#endif
