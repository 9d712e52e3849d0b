/* The stages by name: every source and every sink logwash has is one line here, with its
 * declaration, and one file of its own that defines its table of operations. The program picks
 * them by these names: --from and --to (opts.c, enum lw_from/lw_to) are mapped to a name in
 * pipeline.c's setup(); nothing else names the tables. */
#include <stddef.h>
#include <string.h>

#include "lw/sink.h"
#include "lw/source.h"

extern const struct lw_source_ops lw_source_files; /* src_file.c: files and stdin, framed */
extern const struct lw_source_ops lw_source_kafka; /* src_kafka.c: a consumer group */

static const struct lw_source_ops *const sources[] = {
    &lw_source_files,
    &lw_source_kafka,
};

extern const struct lw_sink_ops lw_sink_stdout; /* sink_fd.c */
extern const struct lw_sink_ops lw_sink_kafka;  /* sink_kafka.c: topics */

static const struct lw_sink_ops *const sinks[] = {
    &lw_sink_stdout,
    &lw_sink_kafka,
};

const struct lw_source_ops *
lw_source_find(const char *name)
{
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (strcmp(sources[i]->name, name) == 0) return sources[i];
    return NULL;
}

const struct lw_sink_ops *
lw_sink_find(const char *name)
{
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++)
        if (strcmp(sinks[i]->name, name) == 0) return sinks[i];
    return NULL;
}
