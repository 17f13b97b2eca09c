# The scatterlist helpers that are inline functions in kernel headers
# (sg_is_chain, sg_is_last, sg_chain_ptr), as virtiostat uses them on a copy
# of a kernel scatterlist: each page_link's flag bits are read back.
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
#include <linux/scatterlist.h>

BPF_HASH(seen, u64, u64);

TRACEPOINT_PROBE(syscalls, sys_enter_kill) {
    if ((bpf_get_current_pid_tgid() >> 32) != PID || args->sig != 0)
        return 0;
    struct scatterlist sg = {};
    sg.page_link = (unsigned long)args->pid;
    u64 key = args->pid;
    u64 got = sg_is_chain(&sg) | (sg_is_last(&sg) << 1) |
              ((u64)sg_chain_ptr(&sg) << 8);
    seen.update(&key, &got);
    return 0;
}
"""

b = BPF(text=prog.replace("PID", str(os.getpid())))
links = {0x1000: (0, 0, 0x1000), 0x1001: (1, 0, 0x1000), 0x1002: (0, 1, 0x1000), 0x2003: (1, 1, 0x2000)}
for link in links:
    try:
        os.kill(link, 0)
    except OSError:
        pass                    # no such process: the probe saw the call
seen = b["seen"]
for link, (chain, last, ptr) in links.items():
    got = seen[seen.Key(link)].value
    want = chain | (last << 1) | (ptr << 8)
    check(got == want, "page_link %#x: got %#x, want %#x" % (link, got, want))
passed("scatterlist_helpers")
