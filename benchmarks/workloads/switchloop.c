/* switchloop: two processes pass one byte back and forth over two pipes N
 * times (a round trip is two context switches when both share one CPU),
 * then print "done N elapsed_s cpu_s rate": the wall time of the loop and
 * the CPU time (user+sys) of both processes.
 *
 * CPU >= 0 pins both to that CPU, so every hand-over is a direct switch from
 * one to the other (no idle in between, no cross-CPU wake-up); -1 leaves the
 * placement to the scheduler. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double seconds(struct timeval tv)
{
    return tv.tv_sec + tv.tv_usec * 1e-6;
}

static void pass(int in, int out, long n, int first)
{
    char c = 0;
    for (long i = 0; i < n; i++) {
        if (first && write(out, &c, 1) != 1)
            exit(1);
        if (read(in, &c, 1) != 1)
            exit(1);
        if (!first && write(out, &c, 1) != 1)
            exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: switchloop N CPU\n");
        return 2;
    }
    long n = atol(argv[1]);
    int cpu = atoi(argv[2]);
    int ping[2], pong[2];

    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set)) {
            perror("sched_setaffinity");
            return 1;
        }
    }
    if (pipe(ping) || pipe(pong)) {
        perror("pipe");
        return 1;
    }
    double t0 = now();
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        pass(ping[0], pong[1], n, 0);
        _exit(0);
    }
    pass(pong[0], ping[1], n, 1);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
        return 1;
    double dt = now() - t0;
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    double cpu_s = seconds(self.ru_utime) + seconds(self.ru_stime) +
                   seconds(children.ru_utime) + seconds(children.ru_stime);
    printf("done %ld %.6f %.6f %.1f\n", n, dt, cpu_s, n / dt);
    return 0;
}
