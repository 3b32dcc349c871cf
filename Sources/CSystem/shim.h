#ifndef CSYSTEM_SHIM_H
#define CSYSTEM_SHIM_H

// The C library as HTTPLite/System.swift calls it (`CSystem.read(...)`), the
// same in the normal build and in Embedded mode (scripts/build-embedded.sh),
// which has no Glibc module. In the normal build these headers belong to the
// Glibc module and come through it; in Embedded mode they are read here.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Declared only under _GNU_SOURCE, which the Glibc module is not built with.
// pipe2, accept4: glibc 2.9 and later (accept4 2.10); addclosefrom_np: glibc 2.34 and later.
extern int pipe2(int pipefd[2], int flags);
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
extern char **environ;

// What the Glibc module adds in Swift and Swift cannot import from C (errno
// is a macro over a function call, open is variadic, SIG_IGN a cast), or not
// in Swift 6 mode (environ is a mutable global).
static inline int csystem_errno(void) { return errno; }
static inline char **csystem_environ(void) { return environ; }
static inline int csystem_open(const char *path, int flags) { return open(path, flags); }
static inline __sighandler_t csystem_sig_ign(void) { return SIG_IGN; }
static inline __sighandler_t csystem_sig_dfl(void) { return SIG_DFL; }

#endif
