# A linear histogram (dist.increment(value)) printed with print_linear_hist.
import contextlib
import io
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
BPF_HISTOGRAM(dist, int, 32);

TRACEPOINT_PROBE(syscalls, sys_enter_write) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    int n = args->count;
    if (n < 32)
        dist.increment(n);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
fd = os.open("/dev/null", os.O_WRONLY)
for n in (1, 3, 3, 3, 3, 5):
    os.write(fd, b"z" * n)
os.close(fd)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    b["dist"].print_linear_hist("size")
text = out.getvalue()
print(text, end="")
check(text == ("     size          : count     distribution\n"
               "        0          : 0        |                                        |\n"
               "        1          : 1        |**********                              |\n"
               "        2          : 0        |                                        |\n"
               "        3          : 4        |****************************************|\n"
               "        4          : 0        |                                        |\n"
               "        5          : 1        |**********                              |\n"),
      "linear text")
passed("linear_hist")
