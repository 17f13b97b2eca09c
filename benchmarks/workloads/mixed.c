/* mixed: the exporter benchmark's workload, one of each kind of activity the
 * default metric sets trace, done one after another:
 *   SYSCALLS x (open + read + close) of /dev/zero
 *   WRITES   x 4 KiB O_DIRECT pwrite + fdatasync to DIR/mixed.dat (block I/O)
 *   CONNECTS x loopback TCP connect + accept + close
 *   EXECS    x fork + exec /bin/true + wait
 * then prints "elapsed_s cpu_s" (CPU of this process and its children).
 * usage: mixed DIR SYSCALLS WRITES CONNECTS EXECS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void syscalls(long n)
{
    char buf[64];
    for (long i = 0; i < n; i++) {
        int fd = open("/dev/zero", O_RDONLY);
        if (read(fd, buf, sizeof(buf)) < 0)
            exit(1);
        close(fd);
    }
}

static void writes(const char *dir, long n)
{
    char path[4096];
    void *buf;
    snprintf(path, sizeof(path), "%s/mixed.dat", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd < 0 || posix_memalign(&buf, 4096, 4096)) {
        perror(path);
        exit(1);
    }
    memset(buf, 1, 4096);
    for (long i = 0; i < n; i++) {
        if (pwrite(fd, buf, 4096, (i % 256) * 4096) != 4096)
            exit(1);
        fdatasync(fd);
    }
    close(fd);
    unlink(path);
}

static void connects(long n)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(srv, (void *)&a, sizeof(a)) || listen(srv, 128) || getsockname(srv, (void *)&a, &len))
        exit(1);
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (void *)&a, sizeof(a)))
            exit(1);
        int s = accept(srv, NULL, NULL);
        close(s);
        close(c);
    }
    close(srv);
}

static void execs(long n)
{
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        waitpid(pid, NULL, 0);
    }
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: mixed DIR SYSCALLS WRITES CONNECTS EXECS\n");
        return 2;
    }
    double t0 = now(), c0 = cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
    syscalls(atol(argv[2]));
    writes(argv[1], atol(argv[3]));
    connects(atol(argv[4]));
    execs(atol(argv[5]));
    printf("%.6f %.6f\n", now() - t0, cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN) - c0);
    return 0;
}
