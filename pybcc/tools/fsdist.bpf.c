// fsdist: one file system's operation latency histograms; the program is pybcc/fsdist.h
#include <pybcc/fsdist.h>
