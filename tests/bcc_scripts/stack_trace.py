# Kernel and user stacks: get_stackid into a stack trace table, walk(),
# ksym() and sym() resolve the frames.
import ctypes as ct
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct key_t {
    u32 pid;
    s32 kernel_stack_id;
    s32 user_stack_id;
};

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 1024);
    __uint(key_size, sizeof(u32));
    __uint(value_size, 127 * sizeof(u64));
} stack_traces SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct key_t);
    __type(value, u64);
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
    struct key_t key = {};
    u64 one = 1, *v;
    key.pid = bpf_get_current_pid_tgid() >> 32;
    if (key.pid != TARGET)
        return 0;
    key.kernel_stack_id = bpf_get_stackid(ctx, &stack_traces, 0);
    key.user_stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
    v = bpf_map_lookup_elem(&counts, &key);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
libc = ct.CDLL("libc.so.6", use_errno=True)
for _ in range(3):
    libc.getppid()

stacks = b["stack_traces"]
items = b["counts"].items()
check(items, "no stacks recorded")
kernel_names, user_names = [], []
for k, v in items:
    check(k.pid == os.getpid(), "pid in key")
    check(k.kernel_stack_id >= 0, "kernel stack id %d" % k.kernel_stack_id)
    for addr in stacks.walk(k.kernel_stack_id):
        kernel_names.append(b.ksym(addr))
    if k.user_stack_id >= 0:
        for addr in stacks.walk(k.user_stack_id):
            user_names.append(b.sym(addr, k.pid, show_module=True))
print("kernel:", b", ".join(kernel_names).decode())
print("user:", b", ".join(user_names).decode())
check(any(b"sys" in n or b"syscall" in n for n in kernel_names), "no syscall frame in kernel stack")
check(b.ksym(0) == b"[unknown]", "unknown address")
with_off = b.ksym(stacks.walk(items[0][0].kernel_stack_id).__next__(), show_offset=True)
check(b"+0x" in with_off, "show_offset: %r" % with_off)
check(any(b"libc" in n for n in user_names), "no libc frame in the user stack: %r" % user_names)
first = items[0][0].kernel_stack_id
check(stacks[first].ip[0] == next(stacks.walk(first)), "table[id].ip, as bcc's Leaf")
check(list(stacks.walk(-14)) == [], "walk of a failed stack id is empty")
stacks.clear()
check(list(stacks.walk(items[0][0].kernel_stack_id)) == [], "clear()")
passed("stack_trace")
