#ifndef CSYSTEM_SHIM_H
#define CSYSTEM_SHIM_H

// Linux calls that Swift's Glibc module does not bring in, for HTTPLite/System.swift.
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

// Declared only under _GNU_SOURCE, which the Glibc module is not built with.
// pipe2, accept4: glibc 2.9 and later (accept4 2.10); addclosefrom_np: glibc 2.34 and later.
extern int pipe2(int pipefd[2], int flags);
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

#endif
