# BPF ring buffer output: open_ring_buffer(callback(ctx, data, size)).
import ctypes as ct
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed, skip

if not BPF.support_ringbuf():
    skip("no BPF ring buffers on this kernel")

prog = HEADERS + r"""
struct event {
    u32 pid;
    u32 seq;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096 * 4);
} events SEC(".maps");

u32 seq = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int hello(void *ctx)
{
    struct event *e;
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->pid = TARGET;
    e->seq = __sync_fetch_and_add(&seq, 1);
    bpf_ringbuf_submit(e, 0);
    return 0;
}
""".replace("TARGET", str(os.getpid()))


class Event(ct.Structure):
    _fields_ = [("pid", ct.c_uint32), ("seq", ct.c_uint32)]


b = BPF(text=prog)
got = []


def callback(ctx, data, size):
    e = ct.cast(data, ct.POINTER(Event)).contents
    got.append((ctx, e.pid, e.seq, size))


b["events"].open_ring_buffer(callback, ctx="my-ctx")
for _ in range(10):
    os.getppid()
n = 0
while len(got) < 10 and n < 50:
    b.ring_buffer_poll(timeout=100)
    n += 1
check(len(got) == 10, "got %d records" % len(got))
check([g[2] for g in got] == list(range(10)), "in order: %r" % [g[2] for g in got])
check(all(g[0] == "my-ctx" and g[1] == os.getpid() and g[3] == 8 for g in got), "fields")
os.getppid()
check(b.ring_buffer_consume() == 1, "consume reads what is there")
passed("ringbuf_output")
