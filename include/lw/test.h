/* `logwash test`: the test runner of templates (src/app/test.c, testfile.c), a client of
 * liblogwash's public API. The file schema and the report are described in logwash-test(1). */
#ifndef LW_TEST_H
#define LW_TEST_H

/* lw_test_main: run `logwash test` with argv[0] "test" and its options and paths after it.
 * Writes the report to stdout and messages to stderr; returns the exit status: 0 every case
 * passed, 1 a case failed or a template does not compile, 2 a usage error or a malformed test
 * file. Never exits. */
int lw_test_main(int argc, char **argv);

#endif
