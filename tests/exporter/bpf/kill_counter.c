// A custom program in bcc's C dialect for the exporter tests: kill()
// calls by comm and signal, and a log2 histogram of the target pid.
#include <uapi/linux/ptrace.h>

struct key_t {
    char comm[16];
    u32 sig;
};

BPF_HASH(kills, struct key_t, u64);
BPF_HISTOGRAM(pids, int, 64);

TRACEPOINT_PROBE(syscalls, sys_enter_kill)
{
    struct key_t key = {};

    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    key.sig = args->sig;
    kills.increment(key);
    pids.increment(bpf_log2l(args->pid));
    return 0;
}
