// What the Swift runtime gives a normal build and an Embedded Swift binary
// must bring itself (scripts/build-embedded.sh compiles and links this file).
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
// with the same contract as Swift 6.3's: the end of the number read, an
// overflow as infinity and an underflow as zero or a subnormal, as strtod gives
// them. strtod reads the C locale, which is this process's locale: nothing
// calls setlocale.
const char *_swift_stdlib_strtod_clocale(const char *text, double *result) {
    char *end;
    *result = strtod(text, &end);
    return end;
}
