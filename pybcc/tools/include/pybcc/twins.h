/* A tracepoint hook written once as two programs: NAME_btf (tp_btf, typed
 * arguments) and NAME_raw (raw_tp, for kernels without BTF-typed
 * tracepoints). The Python side attaches the first that the kernel takes.
 * EXPR is the return value and may use ctx, the u64 array of arguments.
 */
#ifndef __PYBCC_TWINS_H
#define __PYBCC_TWINS_H

#include <bpf/bpf_helpers.h>

#define BTF_RAW_TP(name, tp, expr)                              \
    SEC("tp_btf/" #tp)                                          \
    int name##_btf(u64 *ctx)                                    \
    {                                                           \
        return expr;                                            \
    }                                                           \
    SEC("raw_tp/" #tp)                                          \
    int name##_raw(u64 *ctx)                                    \
    {                                                           \
        return expr;                                            \
    }

#endif
