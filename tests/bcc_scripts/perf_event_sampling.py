# attach_perf_event: sample the software cpu-clock on every CPU and count
# samples of this process while it spins.
import time

from bcc import BPF, PerfType, PerfSWConfig
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} samples SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
    u32 zero = 0;
    u64 *v;
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    v = bpf_map_lookup_elem(&samples, &zero);
    if (v)
        (*v)++;
    return 0;
}
""".replace("TARGET", str(__import__("os").getpid()))

b = BPF(text=prog)
b.attach_perf_event(ev_type=PerfType.SOFTWARE, ev_config=PerfSWConfig.CPU_CLOCK,
                    fn_name="on_sample", sample_freq=499)
# 0.5 s of this thread's CPU time (a busy machine gives less per wall second)
end, give_up = time.thread_time() + 0.5, time.time() + 30
while time.thread_time() < end and time.time() < give_up:
    pass
total = b["samples"].sum(0).value
print("samples:", total)
check(total > 20, "too few samples: %d" % total)
b.detach_perf_event(ev_type=PerfType.SOFTWARE, ev_config=PerfSWConfig.CPU_CLOCK)
passed("perf_event_sampling")
