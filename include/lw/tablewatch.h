/* The program's lookup tables: --table specs (NAME[:OPTION,...]=FILE, from the command line
 * or the job file's tables:), loading them all within --max-state, and watching their files
 * so a changed one is reloaded, validated, and swapped in whole between records. Loading and
 * lookups are liblogwash's (logwash.h: logwash_table_*, logwash_tables_*); the record loop
 * only polls (pipeline.c) and attaches the current set to its runners. */
#ifndef LW_TABLEWATCH_H
#define LW_TABLEWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logwash.h"

struct lw_table_spec {
    char *name;       /* owned */
    const char *path; /* into the option's text (argv's or the job file's) */
    const char *arg;  /* the whole option argument, for --print-config and job-file positions */
    enum logwash_table_format format;
    bool ip, last_wins;
    char *key; /* owned, or NULL */
    bool cli;  /* from the command line (else the job file) */
};

/* lw_table_spec_parse: arg as NAME[:OPTION[,OPTION]...]=FILE; OPTION is ip, csv, jsonl,
 * last-wins or key=COLUMN. NAME is a letter or '_' then letters, digits, '_' or '-'. Returns 0,
 * or -1 with a message in err (errcap bytes). */
int lw_table_spec_parse(const char *arg, struct lw_table_spec *s, char *err, size_t errcap);

void lw_table_spec_fini(struct lw_table_spec *s);

struct lw_tablewatch;

/* lw_tablewatch_open: load every table of specs[0..n) (borrowed: they must outlive the watch)
 * within max_state bytes together. Returns the watch, or NULL with the index of the table that
 * failed in *bad and "table 'NAME': why" in err. verbosity: -1 says nothing of reloads or of
 * repeated keys (failed reloads are always said). */
struct lw_tablewatch *lw_tablewatch_open(const struct lw_table_spec *specs, int n, size_t max_state,
                                         int verbosity, int *bad, char *err, size_t errcap);

/* lw_tablewatch_set: the current set (the watch's handle; a runner given it holds its own). */
struct logwash_tables *lw_tablewatch_set(const struct lw_tablewatch *w);

/* lw_tablewatch_poll: at most once per interval (now_ms: a monotonic clock), look whether a
 * table's file changed and has stayed unchanged since the last look; load each such file
 * whole and check it, then make a set with the new tables current. A file that fails to
 * load keeps its table as it was and is said on stderr (with file:line) once per change.
 * Returns true when a new set became current: the caller attaches lw_tablewatch_set to every
 * runner between records (each runner lets the old set go then; the watch has dropped its own
 * handle). */
bool lw_tablewatch_poll(struct lw_tablewatch *w, int64_t now_ms);

/* lw_tablewatch_counts: tables reloaded, and reloads that failed, so far (-v's summary). */
void lw_tablewatch_counts(const struct lw_tablewatch *w, uint64_t *reloads, uint64_t *failures);

/* lw_tablewatch_count: the number of tables (0 for NULL); lw_tablewatch_table: table i's name
 * (into *name) and its current version, the watch's (the metrics: rows and bytes). */
int lw_tablewatch_count(const struct lw_tablewatch *w);
const struct logwash_table *lw_tablewatch_table(const struct lw_tablewatch *w, int i,
                                                const char **name);

void lw_tablewatch_free(struct lw_tablewatch *w);

#endif
