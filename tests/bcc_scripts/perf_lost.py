# Lost events are reported: a one-page perf buffer flooded before the
# first poll calls lost_cb with the number of dropped records.
import os

from bcc import BPF
from scriptlib import check, passed

b = BPF(text="""
struct big_t {
    u64 seq;
    char pad[248];
};
BPF_PERF_OUTPUT(events);
BPF_ARRAY(seq, u64, 1);

TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    struct big_t e = {};
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    u64 *s = seq.lookup(&(int){0});
    if (s)
        e.seq = __sync_fetch_and_add(s, 1);
    events.perf_submit(args, &e, sizeof(e));
    return 0;
}
""".replace("TARGET", str(os.getpid())))
received, lost = [], []
b["events"].open_perf_buffer(lambda cpu, data, size: received.append(b["events"].event(data).seq),
                             page_cnt=1, lost_cb=lambda n: lost.append(n))
os.sched_setaffinity(0, {0})           # one CPU: one ring fills
for _ in range(500):
    os.getppid()
for _ in range(5):
    b.perf_buffer_poll(timeout=50)
total_lost = sum(lost)
print("received %d, lost %d" % (len(received), total_lost))
check(total_lost > 0, "no loss reported")
check(len(received) + total_lost == 500, "received + lost = sent (%d + %d)" % (len(received), total_lost))
passed("perf_lost")
