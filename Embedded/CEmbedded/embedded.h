#ifndef CEMBEDDED_H
#define CEMBEDDED_H

// What Embedded Swift lacks and Embedded/runtime.c supplies, for
// HTTPLite/System.swift in Embedded mode only (scripts/build-embedded.sh).

/// The process's argc and argv, which Embedded Swift's main drops (no CommandLine).
int nw_embedded_argc(void);
char **nw_embedded_argv(void);

#endif
