// fsslower on the syscall tracepoints only (see pybcc/fsslower.h)
#define FS_SYSCALLS_ONLY
#include <pybcc/fsslower.h>
