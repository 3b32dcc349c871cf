#ifndef CSYSTEM_SHIM_H
#define CSYSTEM_SHIM_H

// Linux calls that Swift's Glibc module does not bring in.
#include <spawn.h>
#include <sys/signalfd.h>

// glibc 2.34 and later; declared only under _GNU_SOURCE, which the Glibc module is not built with.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

#endif
