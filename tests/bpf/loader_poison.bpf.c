// A CO-RE read of a field no kernel has: the loader poisons it and says why.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct task_struct___x { int no_such_field_pybcc; } __attribute__((preserve_access_index));
int out;
SEC("raw_tp/sys_enter")
int p(void *ctx) {
    struct task_struct___x *t = (void *)bpf_get_current_task();
    out = BPF_CORE_READ(t, no_such_field_pybcc);
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
