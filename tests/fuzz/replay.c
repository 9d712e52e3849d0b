/* Runs a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so `make check` (gcc) replays
 * the saved corpora: each argument is a file or a directory of files (not recursive). Prints
 * "replay TARGET: N inputs ok"; a failing input aborts inside the target; no input at all fails. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lw/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read all of path into a fresh buffer; returns -1 (after a message) when it cannot. */
static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t len = 0, cap = 4096;
    char *p = lw_xmalloc(cap);
    size_t n;
    while ((n = fread(p + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) p = lw_xrealloc(p, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(p);
        return -1;
    }
    /* an exact-size copy, so ASan sees any read past the input */
    char *exact = lw_xmalloc(len);
    memcpy(exact, p, len);
    free(p);
    LLVMFuzzerTestOneInput((const uint8_t *)exact, len);
    free(exact);
    return 0;
}

/* Each regular file in dir, in name order so runs are reproducible; returns files run or -1. */
static long
run_dir(const char *dir)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        perror(dir);
        return -1;
    }
    long count = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(ents[i]->d_name) + 2;
        char *path = lw_xmalloc(len);
        snprintf(path, len, "%s/%s", dir, ents[i]->d_name);
        struct stat st;
        if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) < 0) count = -1;
            if (count >= 0) count++;
        }
        free(path);
        free(ents[i]);
    }
    free(ents);
    return count;
}

int
main(int argc, char **argv)
{
    const char *target = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (strncmp(target, "replay-", 7) == 0) target += 7;
    long total = 0;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            status = 1;
            continue;
        }
        n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0) {
            status = 1;
        } else {
            total += n;
        }
    }
    if (total == 0) {
        /* nothing replayed is not a pass: a corpus went missing or is empty */
        printf("replay %s: FAIL: no inputs\n", target);
        return 1;
    }
    printf("replay %s: %ld inputs ok\n", target, total);
    return status;
}
