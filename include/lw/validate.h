/* --validate and --print-config (src/app/validate.c): what a job would do, said without doing
 * it. Neither connects to a broker, opens an output or reads a record. */
#ifndef LW_VALIDATE_H
#define LW_VALIDATE_H

#include <stdbool.h>
#include <stdio.h>

#include "lw/opts.h"

/* lw_validate: the checks of --validate that option parsing and compiling do not make: input
 * files readable, the dead-letter file creatable and none of the files the run reads, Kafka
 * properties accepted by librdkafka, topic names. Each problem is one line on f, at the job
 * file's file:line:col when the value came from it. Returns the number of problems. */
int lw_validate(const struct lw_opts *o, FILE *f);

/* lw_validate_template: the checks a run makes at start on the template t compiled for o that
 * lw_validate cannot make without it: its state's (lw_validate_state). An `emit ... to T` is
 * not checked: T is an expression, checked at each emit as the run checks it. Returns the
 * number of problems. */
int lw_validate_template(const struct lw_opts *o, const struct logwash_template *t, FILE *f);

/* lw_validate_state: with Kafka input, a state a replay from the committed offsets would not
 * rebuild exactly (lw_validate_kexact; from files to Kafka any state runs), and each window
 * statement of s whose `to "TOPIC"` o's sink refuses (a Kafka sink: not a topic name; stdout
 * ignores to), one line on f each. The run refuses to start on one (lw_pipeline_run),
 * --validate says them. Returns their number. */
int lw_validate_state(const struct lw_opts *o, const struct logwash_state *s, FILE *f);

/* lw_validate_kexact: whether Kafka input's replay from its committed offsets rebuilds s
 * exactly (logwash_state_replay_exact, and few enough statements for the commit metadata) */
bool lw_validate_kexact(const struct logwash_state *s);

/* lw_print_config: o as a job file (logwash.yaml(5)) on f: every key with its effective value,
 * defaults included, file names absolute, Kafka properties whose names hold a secret word
 * printed as ***. Returns 0, or -1 when writing f failed. */
int lw_print_config(const struct lw_opts *o, FILE *f);

#endif
