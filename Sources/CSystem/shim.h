#ifndef CSYSTEM_SHIM_H
#define CSYSTEM_SHIM_H

// Linux calls that Swift's Glibc module does not bring in.
#include <sys/signalfd.h>

#endif
