# A log2 histogram of write() sizes filled in the kernel, printed with
# print_log2_hist: bcc's exact text.
import contextlib
import io
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, u64);
    __type(value, u64);
} dist SEC(".maps");

static __always_inline u64 log2l(u64 v)
{
    u64 r = 0;
    for (int i = 0; i < 64 && v > 1; i++) { v >>= 1; r++; }
    return r;
}

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(struct trace_event_raw_sys_enter *ctx)
{
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    u64 slot = log2l(ctx->args[2]) + 1, one = 1, *v;
    if (ctx->args[2] == 0)
        slot = 0;
    v = bpf_map_lookup_elem(&dist, &slot);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&dist, &slot, &one, BPF_NOEXIST);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
fd = os.open("/dev/null", os.O_WRONLY)
for size, times in ((1, 3), (5, 10), (100, 1), (3000, 20)):
    for _ in range(times):
        os.write(fd, b"x" * size)
os.close(fd)

out = io.StringIO()
with contextlib.redirect_stdout(out):
    b["dist"].print_log2_hist("bytes")
text = out.getvalue()
print(text, end="")
expected = """\
     bytes               : count     distribution
         0 -> 1          : 3        |******                                  |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 10       |********************                    |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 1        |**                                      |
       128 -> 255        : 0        |                                        |
       256 -> 511        : 0        |                                        |
       512 -> 1023       : 0        |                                        |
      1024 -> 2047       : 0        |                                        |
      2048 -> 4095       : 20       |****************************************|
"""
check(text == expected, "histogram text differs:\n" + text)
b["dist"].clear()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    b["dist"].print_log2_hist("bytes")
check(out.getvalue() == "", "empty histogram prints nothing")
passed("log2_hist")
