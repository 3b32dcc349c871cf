/* The parts every C benchmark client shares: the result line, the clock, the
 * minimal read of memory.percent. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE /* memmem */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* memory.percent of an Echo Server /usage body, found by its key: the floor
 * does the least parsing that still reads the number. */
static double bench_percent(const char *body, size_t length) {
    static const char key[] = "\"percent\":";
    const char *found = memmem(body, length, key, sizeof key - 1);
    if (found == NULL) {
        fprintf(stderr, "no percent in the body\n");
        exit(1);
    }
    return strtod(found + sizeof key - 1, NULL);
}

static void bench_report(const char *client, const char *mode, long count,
                         double first_response, double checksum) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    long cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L
               + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
    printf("client=%s mode=%s n=%ld cpu_us=%ld maxrss_kb=%ld first_response_ms=%.3f checksum=%.1f\n",
           client, mode, count, cpu, usage.ru_maxrss, first_response * 1000, checksum);
}

#endif
