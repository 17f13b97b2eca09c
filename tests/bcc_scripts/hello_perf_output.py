# bcc's hello_perf_output.py in the bcc dialect: BPF_PERF_OUTPUT,
# events.perf_submit() and b["events"].event(data).
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
#include <linux/sched.h>

struct data_t {
    u32 pid;
    u64 ts;
    char comm[TASK_COMM_LEN];
};
BPF_PERF_OUTPUT(events);

int hello(struct pt_regs *ctx) {
    struct data_t data = {};

    data.pid = bpf_get_current_pid_tgid() >> 32;
    if (data.pid != TARGET)
        return 0;
    data.ts = bpf_ktime_get_ns();
    bpf_get_current_comm(&data.comm, sizeof(data.comm));
    events.perf_submit(ctx, &data, sizeof(data));
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
b.attach_tracepoint(tp="syscalls:sys_enter_getppid", fn_name="hello")
seen = []


def print_event(cpu, data, size):
    event = b["events"].event(data)
    seen.append(event)
    print("%-18.9f %-16s %-6d %s" % (event.ts / 1e9, event.comm.decode(), event.pid,
                                     "Hello, perf_output!"))


b["events"].open_perf_buffer(print_event)
for _ in range(3):
    os.getppid()
for _ in range(30):
    if len(seen) >= 3:
        break
    b.perf_buffer_poll(timeout=100)
check(len(seen) == 3, "events: %d" % len(seen))
check(all(e.pid == os.getpid() for e in seen), "pid")
check(seen[0].ts <= seen[1].ts <= seen[2].ts, "timestamps increase")
check(type(seen[0]).__name__ == "data_t", "event type %s" % type(seen[0]).__name__)
passed("hello_perf_output")
