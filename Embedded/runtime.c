// What the Swift runtime gives a normal build and an Embedded Swift binary
// must bring itself (scripts/build-embedded.sh compiles and links this file).
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "CEmbedded/embedded.h"

// Embedded Swift's main(argc, argv) drops its arguments and there is no
// CommandLine. glibc calls each .init_array entry with (argc, argv, envp)
// before main, in static binaries too (csu/libc-start.c, call_init), as Rust's
// standard library relies on.
static int saved_argc;
static char **saved_argv;

static void save_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

__attribute__((section(".init_array"), used))
static void (*const save_arguments_entry)(int, char **, char **) = save_arguments;

int nw_embedded_argc(void) { return saved_argc; }
char **nw_embedded_argv(void) { return saved_argv; }

// Double(String) calls this; the normal build's runtime has it in Stubs.cpp,
// with the same contract: the end of the number read, or NULL when it is out of
// range (overflow to infinity, underflow to zero). strtod reads the C locale,
// which is this process's locale: nothing calls setlocale.
const char *_swift_stdlib_strtod_clocale(const char *text, double *result) {
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    *result = value;
    if ((value == HUGE_VAL || value == -HUGE_VAL || value == 0.0) && errno == ERANGE) {
        return NULL;
    }
    return end;
}
