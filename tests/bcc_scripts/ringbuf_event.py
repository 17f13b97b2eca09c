# BPF_RINGBUF_OUTPUT with ringbuf_output() / ringbuf_reserve(), decoded
# with event(); callbacks get the ctx given to open_ring_buffer.
import os

from bcc import BPF
from scriptlib import check, passed, skip

if not BPF.support_ringbuf():
    skip("no BPF ring buffers on this kernel")

prog = """
struct event_t {
    u32 pid;
    u32 kind;
    char comm[16];
};
BPF_RINGBUF_OUTPUT(events, 8);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    struct event_t e = {};
    e.pid = bpf_get_current_pid_tgid() >> 32;
    if (e.pid != TARGET)
        return 0;
    e.kind = 1;
    bpf_get_current_comm(&e.comm, sizeof(e.comm));
    events.ringbuf_output(&e, sizeof(e), 0);

    struct event_t *r = events.ringbuf_reserve(sizeof(struct event_t));
    if (!r)
        return 0;
    r->pid = e.pid;
    r->kind = 2;
    events.ringbuf_submit(r, 0);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
got = []


def callback(ctx, data, size):
    e = b["events"].event(data)
    got.append((ctx, e.pid, e.kind, e.comm))


b["events"].open_ring_buffer(callback, ctx=42)
os.getppid()
for _ in range(30):
    if len(got) >= 2:
        break
    b.ring_buffer_poll(timeout=100)
check(len(got) == 2, "records: %r" % got)
check(got[0][:3] == (42, os.getpid(), 1) and got[1][:3] == (42, os.getpid(), 2), repr(got))
check(got[0][3] and got[1][3] == b"", "comm only in the first: %r" % got)
passed("ringbuf_event")
