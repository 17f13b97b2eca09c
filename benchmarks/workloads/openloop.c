/* openloop: open (and close) PATH N times at RATE opens/s (0 = as fast as
 * possible), then print "done N elapsed_s cpu_s rate".
 *
 * With READY_PATH: first print our pid, then open READY_PATH every 5 ms until
 * a byte arrives on stdin, so a tracer started with -p PID can show it is
 * attached before the measured opens begin. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
    struct timespec ts = { (time_t)t, (long)((t - (time_t)t) * 1e9) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
        ;
}

static void open_close(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: openloop PATH N RATE [READY_PATH]\n");
        return 2;
    }
    const char *path = argv[1];
    long n = atol(argv[2]);
    double rate = atof(argv[3]);

    if (argc > 4) {
        struct pollfd p = { .fd = 0, .events = POLLIN };
        char c;
        printf("%d\n", getpid());
        fflush(stdout);
        for (;;) {
            open_close(argv[4]);
            if (poll(&p, 1, 5) > 0) {
                if (read(0, &c, 1) <= 0)
                    return 1;
                break;
            }
        }
    }

    double t0 = now();
    if (rate <= 0) {
        for (long i = 0; i < n; i++)
            open_close(path);
    } else {
        /* pace in small batches: sleep until the batch's scheduled time */
        long batch = rate >= 20000 ? 64 : 1;
        for (long i = 0; i < n; i++) {
            if (i % batch == 0) {
                double due = t0 + i / rate;
                if (now() < due)
                    sleep_until(due);
            }
            open_close(path);
        }
    }
    double dt = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                 ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    printf("done %ld %.6f %.6f %.1f\n", n, dt, cpu, n / dt);
    return 0;
}
