// fsdist on the syscall tracepoints only (see pybcc/fsdist.h)
#define FS_SYSCALLS_ONLY
#include <pybcc/fsdist.h>
