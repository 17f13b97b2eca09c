"""Small C programs the tool tests build with gcc and run as traced targets."""
import shutil
import subprocess

import pytest

# pybcc_sleepy(ms) sleeps ms milliseconds; pybcc_nested(depth, ms) recurses
# depth levels down to one pybcc_sleepy(ms). main(N): waits for a line on
# stdin, calls pybcc_sleepy(10) N times, then pybcc_nested(3, 20) once, then
# waits for stdin to close (so that its symbols can still be read).
SLEEPY_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
__attribute__((noinline)) void pybcc_sleepy(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}
__attribute__((noinline)) void pybcc_nested(int depth, long ms)
{
    if (depth > 1) pybcc_nested(depth - 1, ms); else pybcc_sleepy(ms);
    __asm__ volatile("" ::: "memory");     /* no tail call */
}
int main(int argc, char **argv)
{
    int n = atoi(argv[1]);
    getchar();
    for (int i = 0; i < n; i++) pybcc_sleepy(10);
    pybcc_nested(3, 20);
    while (getchar() != EOF)
        ;
    return 0;
}
"""


def build(directory, name, source, flags=("-O1", "-fno-omit-frame-pointer"), libs=()):
    """Compile ``source`` into directory/name; skips the test without gcc."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the traced program")
    src = directory / f"{name}.c"
    src.write_text(source)
    out = directory / name
    subprocess.run(["gcc", *flags, "-o", str(out), str(src), *libs], check=True)
    return str(out)


# main(N, ROUNDS, DIR): waits for a line on stdin, then N threads each
# ROUNDS times lseek to 0 and getdents64 on one shared fd of directory DIR:
# both take the file's f_pos_lock, a kernel mutex (fdget_pos), held while
# the directory is listed, so the threads contend on it.
DIR_READERS_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
static int fd, rounds;
static void *reader(void *arg)
{
    static __thread char buf[32768];
    for (int i = 0; i < rounds; i++) {
        lseek(fd, 0, SEEK_SET);
        syscall(SYS_getdents64, fd, buf, sizeof(buf));
    }
    return NULL;
}
int main(int argc, char **argv)
{
    int n = atoi(argv[1]);
    pthread_t t[64];
    rounds = atoi(argv[2]);
    fd = open(argv[3], O_RDONLY | O_DIRECTORY);
    if (n > 64 || fd < 0)
        return 1;
    getchar();
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
"""


# main(N, ROUNDS): prints the address of its mutex, waits for a line on
# stdin, then N threads each take the mutex ROUNDS times and hold it 2 ms
# (the others wait in futex(FUTEX_WAIT)); then waits for stdin to close.
MUTEX_HOLDERS_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static pthread_mutex_t pybcc_lock = PTHREAD_MUTEX_INITIALIZER;
static int rounds;
/* libc has no frame pointers: a user stack taken in the futex call goes
 * from __lll_lock_wait to the caller of the function that took the lock */
__attribute__((noinline)) static void pybcc_hold(void)
{
    pthread_mutex_lock(&pybcc_lock);
    usleep(2000);
    pthread_mutex_unlock(&pybcc_lock);
    __asm__ volatile("" ::: "memory");
}
static void *worker(void *arg)
{
    for (int i = 0; i < rounds; i++)
        pybcc_hold();
    return NULL;
}
int main(int argc, char **argv)
{
    int n = atoi(argv[1]);
    pthread_t t[64];
    rounds = atoi(argv[2]);
    if (n > 64)
        return 1;
    printf("%p\n", (void *)&pybcc_lock);
    fflush(stdout);
    getchar();
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    while (getchar() != EOF)
        ;
    return 0;
}
"""


# Waits for a line on stdin, then thread 1 takes pybcc_mutex_a then
# pybcc_mutex_b, and after it has finished thread 2 takes them the other way
# round (a lock order inversion that does not hang); then waits for stdin
# to close.
LOCK_INVERSION_C = r"""
#include <pthread.h>
#include <stdio.h>
pthread_mutex_t pybcc_mutex_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t pybcc_mutex_b = PTHREAD_MUTEX_INITIALIZER;
__attribute__((noinline)) static void pybcc_take_both(pthread_mutex_t *first,
                                                      pthread_mutex_t *second)
{
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    __asm__ volatile("" ::: "memory");
}
static void *a_then_b(void *arg)
{
    pybcc_take_both(&pybcc_mutex_a, &pybcc_mutex_b);
    return NULL;
}
static void *b_then_a(void *arg)
{
    pybcc_take_both(&pybcc_mutex_b, &pybcc_mutex_a);
    return NULL;
}
int main(void)
{
    pthread_t t1, t2;
    getchar();
    pthread_create(&t1, NULL, a_then_b, NULL);
    pthread_join(t1, NULL);
    pthread_create(&t2, NULL, b_then_a, NULL);
    pthread_join(t2, NULL);
    printf("%lu %lu\n", (unsigned long)&pybcc_mutex_a, (unsigned long)&pybcc_mutex_b);
    fflush(stdout);
    while (getchar() != EOF)
        ;
    return 0;
}
"""
