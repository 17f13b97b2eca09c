# stackcount-like: BPF_STACK_TRACE in the bcc dialect, stack ids from
# get_stackid, kernel frames printed with ksym and user frames with sym.
import ctypes as ct
import os

from bcc import BPF
from scriptlib import check, passed

b = BPF(text="""
struct key_t {
    u32 pid;
    int user_stack_id;
    int kernel_stack_id;
};
BPF_STACK_TRACE(stack_traces, 1024);
BPF_HASH(counts, struct key_t, u64);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    struct key_t key = {};
    key.pid = bpf_get_current_pid_tgid() >> 32;
    if (key.pid != TARGET)
        return 0;
    key.user_stack_id = stack_traces.get_stackid(args, BPF_F_USER_STACK);
    key.kernel_stack_id = stack_traces.get_stackid(args, 0);
    counts.increment(key);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
libc = ct.CDLL("libc.so.6")
for _ in range(4):
    libc.getppid()
stacks = b.get_table("stack_traces")
lines = []
for k, v in sorted(b["counts"].items(), key=lambda kv: -kv[1].value):
    for addr in stacks.walk(k.kernel_stack_id):
        lines.append("    %s" % b.ksym(addr).decode())
    for addr in stacks.walk(k.user_stack_id):
        lines.append("    %s" % b.sym(addr, k.pid, show_offset=True).decode())
    lines.append("    %d" % v.value)
print("\n".join(lines))
check(any("getppid" in ln for ln in lines), "getppid in the stacks")
check(sum(v.value for v in b["counts"].values()) >= 4, "counted")
passed("stack_count")
