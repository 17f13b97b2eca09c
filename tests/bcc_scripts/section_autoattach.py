# Plain C whose sections name their events attaches by itself: a
# uprobe.multi/ section (glob over libc's functions) and a ksyscall/
# section (refused clearly here without kprobes, counted where it works).
import ctypes
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed, skip
from pybcc.errors import NotSupportedError
from pybcc.kernel import features

LIBC = [l for l in open("/proc/self/maps").read().split() if "/libc.so" in l or "/libc-" in l][0]

COUNTER = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u64);
} calls SEC(".maps");

static __always_inline int count(void)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u64 one = 1, *v = bpf_map_lookup_elem(&calls, &pid);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&calls, &pid, &one, BPF_NOEXIST);
    return 0;
}
"""

if not features.has_uprobe_multi():
    skip("uprobe_multi links need Linux 6.6")
b = BPF(text=COUNTER + 'SEC("uprobe.multi/%s:getpp?d") int on_getppid(void *ctx) '
        '{ return count(); }\n' % LIBC)
libc = ctypes.CDLL("libc.so.6")
for _ in range(7):
    libc.getppid()
n = b["calls"][b["calls"].Key(os.getpid())].value
check(n == 7, "uprobe.multi counted %d getppid calls, want 7" % n)
b.cleanup()

prog = COUNTER + 'SEC("ksyscall/getppid") int on_sys_getppid(void *ctx) { return count(); }\n'
if features.has_kprobes():
    b = BPF(text=prog)
    for _ in range(5):
        os.getppid()
    n = b["calls"][b["calls"].Key(os.getpid())].value
    check(n >= 5, "ksyscall counted %d getppid calls, want 5" % n)
    b.cleanup()
else:
    try:
        BPF(text=prog)
        check(False, "ksyscall/ attached without kprobes")
    except NotSupportedError as e:
        check("kprobe" in str(e), "message names kprobes: %s" % e)
passed("section_autoattach")
