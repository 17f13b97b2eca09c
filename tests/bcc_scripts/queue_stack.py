# Queue and stack tables: push/pop/peek from Python, values pushed by BPF.
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 16);
    __type(value, u32);
} q SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 16);
    __type(value, u64);
} st SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int push(void *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    if (pid != TARGET)
        return 0;
    bpf_map_push_elem(&q, &pid, 0);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
q, st = b["q"], b["st"]
q.push(q.Leaf(1))
os.getppid()
q.push(q.Leaf(3))
check(q.peek().value == 1, "peek")
check([v.value for v in q.values()] == [1, os.getpid(), 3], "FIFO order")
try:
    q.pop()
    check(False, "pop of empty should raise KeyError")
except KeyError:
    pass
for i in range(3):
    st.push(st.Leaf(i))
check(st.pop().value == 2 and st.peek().value == 1, "LIFO")
passed("queue_stack")
