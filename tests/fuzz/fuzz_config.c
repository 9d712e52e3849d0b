/* Fuzz target: arbitrary bytes as a YAML job file through lw_config_load (libfyaml's parser,
 * then logwash's walk over the document) and, when it loads, the options parser over the
 * options it stands for. Errors are normal; crashes, sanitizer reports and leaks are bugs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lw/config.h"
#include "lw/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_config.%d.yaml", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    char err[512];
    struct lw_config c;
    if (lw_config_load(path, &c, err, sizeof err) == 0) lw_config_fini(&c);
    /* the same file through the option parser, with a template so that it gets that far */
    char *argv[] = { "logwash", "-c", path, "-e", "emit 1", NULL };
    struct lw_opts o;
    FILE *out = fopen("/dev/null", "w");
    lw_opts_parse(&o, 5, argv, out, err, sizeof err);
    lw_opts_fini(&o);
    fclose(out);
    unlink(path);
    return 0;
}
