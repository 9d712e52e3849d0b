/* Lookup tables: a file of rows loaded once into memory of its own, immutable afterwards and
 * shared by every VM that runs with it, so lookups take no lock. A key table maps a key to its
 * row (one hash probe); a range table (ip) maps an address to the row of the narrowest range
 * holding it (iprange.h, a binary search). A row is a ready template value: CSV rows are
 * objects of strings named by the header; JSON-lines rows are the line's object as read.
 * Tables and sets of named tables are reference-counted (atomically) so a reload can replace
 * a set while runners still read the old one: each drops it at a record boundary, the last one
 * frees it. Template functions are fn_table.c's; watching files for changes is the program's. */
#ifndef LW_TABLE_H
#define LW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw/iprange.h"
#include "lw/value.h"

enum lw_table_format { LW_TABLE_AUTO, LW_TABLE_CSV, LW_TABLE_JSONL };

struct lw_table_opts {
    /* AUTO: JSON lines for a name ending .jsonl, .ndjson or .json, CSV for .csv, else JSON
     * lines when the first non-blank byte is '{', else CSV */
    enum lw_table_format format;
    bool ip; /* a range table, for lookup_ip */
    /* The key column (CSV) or member (JSON lines), a C string. NULL: the first column, or
     * the member "key"; for an ip table without it, the columns or members "start" and "end"
     * when both are there, else the first column / "key" holding CIDRs. */
    const char *key;
    bool last_wins;   /* a repeated key or range: the last row wins (counted); else an error */
    size_t max_bytes; /* the memory the table may take; more is an error */
};

#define LW_TABLE_MAX_COLUMNS 4096

struct lw_table;

/* lw_table_load: a table from text[0..len) (malloc'd; taken: the table keeps it, or it is
 * freed on failure), named name in messages (a C string, copied). Returns the table with one
 * reference, or NULL with "NAME:LINE:COL: why" or "NAME: why" in err (errcap bytes): a bad
 * CSV or JSON line, a row without its key, a repeated key (unless last_wins), a bad address
 * or CIDR, over max_bytes, out of memory. Never exits; allocates with malloc only. */
struct lw_table *lw_table_load(const char *name, char *text, size_t len,
                               const struct lw_table_opts *o, char *err, size_t errcap);

/* lw_table_load_file: lw_table_load over the file at path (read whole; a regular file larger
 * than max_bytes is refused before it is read). */
struct lw_table *lw_table_load_file(const char *path, const struct lw_table_opts *o, char *err,
                                    size_t errcap);

/* lw_table_ref, lw_table_unref: one more / one less holder; the last unref frees it. Any
 * thread may call them. */
void lw_table_ref(struct lw_table *t);
void lw_table_unref(struct lw_table *t);

bool lw_table_is_ip(const struct lw_table *t);
size_t lw_table_rows(const struct lw_table *t);
size_t lw_table_bytes(const struct lw_table *t); /* the memory it holds */
size_t lw_table_dups(const struct lw_table *t);  /* rows a later one replaced (last_wins) */

/* lw_table_get: the row of key[0..len) in key table t, or NULL. */
const struct lw_value *lw_table_get(const struct lw_table *t, const char *key, size_t len);

/* lw_table_get_ip: the row of the narrowest range of range table t holding ip, or NULL. */
const struct lw_value *lw_table_get_ip(const struct lw_table *t, struct lw_ip ip);

/* A set of named tables: what a VM reads (struct lw_vm.tables). Built, then shared read-only. */
struct lw_tableset;

/* lw_tableset_new: an empty set with one reference, NULL when out of memory. */
struct lw_tableset *lw_tableset_new(void);

/* lw_tableset_put: t under name (a C string, copied) in s, replacing a table of that name; s
 * takes its own reference to t. Only before s is shared. Returns 0, or -1 (out of memory). */
int lw_tableset_put(struct lw_tableset *s, const char *name, struct lw_table *t);

/* lw_tableset_copy: a new set (one reference) with s's names and tables, NULL when out of
 * memory: a reload puts the new table into a copy. */
struct lw_tableset *lw_tableset_copy(const struct lw_tableset *s);

/* lw_tableset_find: the table named name[0..len), or NULL. */
const struct lw_table *lw_tableset_find(const struct lw_tableset *s, const char *name, size_t len);

size_t lw_tableset_count(const struct lw_tableset *s);
const char *lw_tableset_name(const struct lw_tableset *s, size_t i);
const struct lw_table *lw_tableset_table(const struct lw_tableset *s, size_t i);

/* lw_tableset_ref, lw_tableset_unref: as for tables (NULL: nothing). */
void lw_tableset_ref(struct lw_tableset *s);
void lw_tableset_unref(struct lw_tableset *s);

#endif
