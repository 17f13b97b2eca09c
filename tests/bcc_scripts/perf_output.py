# Perf buffer output (bcc's hello_perf_output.py): records decoded with
# ctypes.cast, as plain-C scripts must (bcc-dialect scripts use event()).
import ctypes as ct
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct data_t {
    u32 pid;
    u64 ts;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(u32));
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int hello(void *ctx)
{
    struct data_t data = {};
    data.pid = bpf_get_current_pid_tgid() >> 32;
    if (data.pid != TARGET)
        return 0;
    data.ts = bpf_ktime_get_ns();
    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &data, sizeof(data));
    return 0;
}
""".replace("TARGET", str(os.getpid()))


class Data(ct.Structure):
    _fields_ = [("pid", ct.c_uint32), ("ts", ct.c_uint64), ("comm", ct.c_char * 16)]


b = BPF(text=prog)
seen = []


def print_event(cpu, data, size):
    event = ct.cast(data, ct.POINTER(Data)).contents
    check(size >= ct.sizeof(Data), "size %d" % size)
    seen.append((event.pid, event.ts, event.comm))


b["events"].open_perf_buffer(print_event)
start = BPF.monotonic_time()
for _ in range(5):
    os.getppid()
deadline = 50
while len(seen) < 5 and deadline:
    b.perf_buffer_poll(timeout=100)
    deadline -= 1
check(len(seen) == 5, "got %d events" % len(seen))
with open("/proc/self/comm", "rb") as f:
    comm = f.read().strip()
for pid, ts, c in seen:
    check(pid == os.getpid(), "pid")
    check(start <= ts <= BPF.monotonic_time(), "ts in range")
    check(c == comm, "comm %r != %r" % (c, comm))
print("%d events, comm %s" % (len(seen), comm.decode()))
check(b.perf_buffer_consume() == 0, "nothing left")
passed("perf_output")
