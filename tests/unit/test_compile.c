/* Unit tests for the compiler's suggestions: every entry of include/lw/fn_aliases.def names a
 * function we do not have and suggests a call of one we have, and the compiler says so. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lw/diag.h"
#include "lw/program.h"
#include "lw/vm.h"
#include "unit.h"

static bool
is_builtin(const char *name, size_t len)
{
    for (int i = 0; i < LW_FN_N; i++) {
        if (strlen(lw_builtins[i].name) == len && memcmp(lw_builtins[i].name, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* The template src fails to compile with exactly the message want. */
static bool
compile_fails(const char *src, const char *want)
{
    struct lw_diag d = { 0 };
    struct lw_compile_opts o = { .jit = false };
    struct lw_program *p = lw_compile(LW_STR_LIT("t.lw"), lw_str_c(src), &o, &d);
    if (p != NULL) {
        lw_program_free(p);
        fprintf(stderr, "%s: compiled\n", src);
        return false;
    }
    lw_diag_fini(&d);
    if (strcmp(d.msg, want) != 0) {
        fprintf(stderr, "%s: got \"%s\"\n", src, d.msg);
        return false;
    }
    return true;
}

static void
aliases(void)
{
#define ALIAS(name, ours)                                                                          \
    do {                                                                                           \
        char src[128], want[256];                                                                  \
        CHECK(!is_builtin(name, strlen(name)));                                                    \
        CHECK(is_builtin(ours, strcspn(ours, "(")));                                               \
        snprintf(src, sizeof src, "emit %s(line)", name);                                          \
        snprintf(want, sizeof want, "unknown function '%s' (did you mean '%s'?)", name, ours);     \
        CHECK(compile_fails(src, want));                                                           \
    } while (0);
#include "lw/fn_aliases.def"
#undef ALIAS
}

static void
names(void)
{
    CHECK(compile_fails("emit UPPER(line)", "unknown function 'UPPER' (did you mean 'upper'?)"));
    CHECK(compile_fails("emit lenght(line)", "unknown function 'lenght' (did you mean 'len'?)"));
    CHECK(compile_fails("emit fo(line)",
                        "unknown function 'fo' (see FUNCTIONS in logwash-template(7))"));
    CHECK(compile_fails("emit now", "undefined variable 'now': now is a function, write now()"));
    CHECK(compile_fails("emit trim",
                        "undefined variable 'trim': trim is a function, write trim(...)"));
    CHECK(compile_fails("let abc = 1\nemit abd", "undefined variable 'abd' (did you mean 'abc'?)"));
    CHECK(compile_fails("let abc = 1\nemit xy", "undefined variable 'xy': declare it with 'let xy "
                                                "= ...', or write .xy for the record's field"));
}

void
test_compile(void)
{
    aliases();
    names();
}
