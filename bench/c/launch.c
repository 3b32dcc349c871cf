/* launch: starts a benchmark client from a small process and times it.
 *
 * usage: launch RESULT-FILE TIMEOUT-SECONDS PROGRAM [ARG]...
 *
 * Linux carries the high-water RSS of the address space that exec replaces
 * into the new program's ru_maxrss, so a client started straight from the
 * Python harness would report the harness's RSS as its own peak. This program
 * is linked statically and stays small; the client is forked from it. It
 * writes `wall_us=... cpu_us=... maxrss_kb=... status=...` for the child to
 * RESULT-FILE (wall from fork to reaped exit) and exits with the child's status.
 * A child still running after TIMEOUT-SECONDS is killed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int signal) {
    (void)signal;
    kill(child, SIGKILL);
}

int main(int argc, char **argv) {
    if (argc < 4 || atoi(argv[2]) <= 0) {
        fprintf(stderr, "usage: launch RESULT-FILE TIMEOUT-SECONDS PROGRAM [ARG]...\n");
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    child = fork();
    if (child < 0) {
        perror("launch: fork");
        return 2;
    }
    if (child == 0) {
        execvp(argv[3], argv + 3);
        perror("launch: exec");
        _exit(127);
    }
    signal(SIGALRM, on_alarm);
    alarm((unsigned)atoi(argv[2]));
    int status;
    struct rusage usage;
    while (wait4(child, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("launch: wait4");
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    long wall = (end.tv_sec - start.tv_sec) * 1000000L + (end.tv_nsec - start.tv_nsec) / 1000;
    long cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L
               + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *result = fopen(argv[1], "w");
    if (result == NULL) {
        perror("launch: result file");
        return 2;
    }
    fprintf(result, "wall_us=%ld cpu_us=%ld maxrss_kb=%ld status=%d\n", wall, cpu, usage.ru_maxrss, code);
    fclose(result);
    return code;
}
