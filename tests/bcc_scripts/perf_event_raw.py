# attach_perf_event_raw with a bcc.perf.Perf.perf_event_attr: count the page
# faults of this process (software event, every one sampled) while it touches
# fresh pages; nothing is counted after detach_perf_event.
import mmap
import os

from bcc import BPF, PerfSWConfig, PerfType
from bcc.perf import Perf
from scriptlib import check, passed

b = BPF(text="""
BPF_ARRAY(faults, u64, 1);
int on_fault(struct bpf_perf_event_data *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    faults.increment(0);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
attr = Perf.perf_event_attr()
attr.type, attr.config = PerfType.SOFTWARE, PerfSWConfig.PAGE_FAULTS
attr.sample_period = 1
b.attach_perf_event_raw(attr=attr, fn_name=b"on_fault", pid=os.getpid())


def touch(pages):
    m = mmap.mmap(-1, pages * mmap.PAGESIZE)
    for i in range(pages):
        m[i * mmap.PAGESIZE] = 1
    m.close()


touch(200)
counted = b["faults"][0].value
print("faults counted:", counted)
check(counted >= 200, "expected at least 200 page faults, counted %d" % counted)
b.detach_perf_event(ev_type=PerfType.SOFTWARE, ev_config=PerfSWConfig.PAGE_FAULTS)
touch(200)
check(b["faults"][0].value == counted, "counted after detach")

# Perf.perf_event_open: a tracepoint enabled on every CPU, recording nothing
with open("/sys/kernel/tracing/events/sched/sched_switch/id") as f:
    fds = Perf.perf_event_open(int(f.read()))
check(len(fds) >= 1, "no event opened")
for fd in fds:
    check(os.path.exists("/proc/self/fd/%d" % fd), "fd %d not open" % fd)
passed("perf_event_raw")
