# Hello world: bpf_printk on a tracepoint, read back with trace_print(fmt).
import contextlib
import io
import os
import signal
import threading

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
SEC("tracepoint/syscalls/sys_enter_getppid")
int hello(void *ctx)
{
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        bpf_printk("Hello, World! %d", TARGET);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
stop = threading.Event()


tids = []


def trigger():
    tids.append(threading.get_native_id())
    while not stop.is_set():
        os.getppid()
        stop.wait(0.05)


class Done(Exception):
    pass


def on_alarm(sig, frame):
    raise Done()


threading.Thread(target=trigger, daemon=True).start()
signal.signal(signal.SIGALRM, on_alarm)
out = io.StringIO()
signal.alarm(3)
with contextlib.redirect_stdout(out):
    try:
        b.trace_print(fmt="{1} {5}")
    except Done:
        pass
stop.set()
lines = [ln for ln in out.getvalue().splitlines() if "Hello, World!" in ln]
check(lines, "no Hello, World! line from trace_print; got %r" % out.getvalue()[:300])
# bcc formats the fields as they are: the message is bytes
check(lines[0] == "%d b'Hello, World! %d'" % (tids[0], os.getpid()),
      "fmt fields wrong: %r" % lines[0])
passed("hello_trace_print")
