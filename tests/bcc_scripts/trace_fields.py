# trace_fields(): (task, pid, cpu, flags, ts, msg), bcc's hello_fields.py.
import os
import time

from bcc import BPF
from bcc.utils import printb
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
SEC("tracepoint/syscalls/sys_enter_getppid")
int hello(void *ctx)
{
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        bpf_printk("fields-test %d", 42);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
found = None
deadline = time.time() + 5
while time.time() < deadline and found is None:
    os.getppid()
    while True:
        task, pid, cpu, flags, ts, msg = b.trace_fields(nonblocking=True)
        if task is None:
            time.sleep(0.05)
            break
        if msg == b"fields-test 42" and pid == os.getpid():
            found = (task, pid, cpu, flags, ts, msg)
            break
check(found is not None, "no fields-test line")
task, pid, cpu, flags, ts, msg = found
printb(b"%-18.9f %-16s %-6d %s" % (ts, task, pid, msg))
check(isinstance(cpu, int) and 0 <= cpu < os.cpu_count(), "cpu %r" % (cpu,))
check(abs(ts - time.monotonic()) < 60, "timestamp %r far from CLOCK_MONOTONIC" % ts)
check(msg.decode() == "fields-test 42", "msg.decode()")
passed("trace_fields")
