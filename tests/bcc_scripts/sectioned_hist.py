# A histogram keyed by a struct {comm, slot}, filled in the kernel by
# dist.increment(key): print_log2_hist prints one section per comm.
import contextlib
import io
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
typedef struct comm_key {
    char comm[16];
    u64 slot;
} comm_key_t;
BPF_HISTOGRAM(dist, comm_key_t);

TRACEPOINT_PROBE(syscalls, sys_enter_write) {
    comm_key_t key = {};
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    bpf_get_current_comm(&key.comm, sizeof(key.comm));
    key.slot = bpf_log2l(args->count);
    dist.increment(key);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

with open("/proc/self/comm", "w") as f:
    f.write("pybcc-sect")
b = BPF(text=prog)
fd = os.open("/dev/null", os.O_WRONLY)
for n in (1, 1, 6, 6, 6, 6):
    os.write(fd, b"y" * n)
os.close(fd)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    b["dist"].print_log2_hist("bytes", "comm", section_print_fn=lambda c: c.decode())
text = out.getvalue()
print(text, end="")
check(text == ("\ncomm = pybcc-sect\n"
               "     bytes               : count     distribution\n"
               "         0 -> 1          : 2        |********************                    |\n"
               "         2 -> 3          : 0        |                                        |\n"
               "         4 -> 7          : 4        |****************************************|\n"),
      "sectioned text")
passed("sectioned_hist")
