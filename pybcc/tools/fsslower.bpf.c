// fsslower: one file system's slow operations, one event each; the program is pybcc/fsslower.h
#include <pybcc/fsslower.h>
