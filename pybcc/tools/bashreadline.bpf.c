// bashreadline: each line bash read with readline(), from a uretprobe on
// readline (or readline_internal_teardown, which returns the line too) in
// bash or libreadline; only processes named "bash", as bcc's.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pybcc/tool.h"

struct event {
    u32 pid;
    char str[80];
};
PYBCC_RECORD(event);

SEC("uretprobe")
int BPF_KRETPROBE(readline_return, const char *line)
{
    struct event e = {};
    char comm[16];

    if (!line)
        return 0;
    bpf_get_current_comm(comm, sizeof(comm));
    if (comm[0] != 'b' || comm[1] != 'a' || comm[2] != 's' || comm[3] != 'h' || comm[4])
        return 0;
    e.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_probe_read_user_str(e.str, sizeof(e.str), line);
    emit_event(ctx, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
