/* Tracepoint hooks of the exporter's sets as tp_btf/raw_tp twins (like
 * pybcc/twins.h) whose body knows which of the two it is: FN(direct, ...)
 * gets direct = true in the tp_btf program, whose arguments are typed
 * pointers, and reads fields with FIELD(): a plain load there, a probe read
 * (a helper call per field) in the raw_tp twin for kernels without tp_btf.
 * On hooks that run tens of thousands of times a second the helper calls
 * are a large part of the cost. ``direct`` is a constant after inlining, so
 * each program keeps only its own branch.
 */
#ifndef __PYBCC_EXPORTER_HOOKS_H
#define __PYBCC_EXPORTER_HOOKS_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define FIELD(direct, p, f) ((direct) ? (p)->f : BPF_CORE_READ(p, f))

#define DIRECT_TWINS(name, tp, fn, ...)                         \
    SEC("tp_btf/" #tp)                                          \
    int name##_btf(u64 *ctx)                                    \
    {                                                           \
        return fn(true, __VA_ARGS__);                           \
    }                                                           \
    SEC("raw_tp/" #tp)                                          \
    int name##_raw(u64 *ctx)                                    \
    {                                                           \
        return fn(false, __VA_ARGS__);                          \
    }

#endif
