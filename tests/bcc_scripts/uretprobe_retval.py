# uretprobe (attached from its SEC name, libbpf style): the return value of libc's getpid() in a child equals its pid.
import subprocess
import sys

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u64);
} rets SEC(".maps");

SEC("uretprobe/libc.so.6:getpid")
int ret_getpid(struct pt_regs *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u64 rc = PT_REGS_RC(ctx);
    bpf_map_update_elem(&rets, &pid, &rc, BPF_ANY);
    return 0;
}
"""

b = BPF(text=prog)      # the section names the probe: attached already
check(b.num_open_uprobes() == 1, "uretprobe from the section name")
child = subprocess.run([sys.executable, "-c",
                        "import ctypes, os; ctypes.CDLL('libc.so.6').getpid(); print(os.getpid())"],
                       capture_output=True, text=True, check=True)
pid = int(child.stdout)
rets = b["rets"]
check(rets[rets.Key(pid)].value == pid, "return value %d != pid %d" % (rets[rets.Key(pid)].value, pid))
b.detach_uretprobe(name="c", sym="getpid")
check(b.num_open_uprobes() == 0, "detached")
passed("uretprobe_retval")
