# Attach/detach bookkeeping and lifetime: num_open_*, detach_tracepoint,
# tp_re, context manager, cleanup() twice, tables gone after cleanup.
import os

from bcc import BPF
from scriptlib import check, passed

prog = """
BPF_ARRAY(hits, u64, 1);
int count(void *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        hits.increment(0);
    return 0;
}
""".replace("TARGET", str(os.getpid()))

with BPF(text=prog) as b:
    b.attach_tracepoint(tp="syscalls:sys_enter_getppid", fn_name="count")
    check(b.num_open_tracepoints() == 1, "one tracepoint")
    os.getppid()
    check(b["hits"][0].value == 1, "counted")
    b.detach_tracepoint(tp="syscalls:sys_enter_getppid")
    check(b.num_open_tracepoints() == 0, "detached")
    os.getppid()
    check(b["hits"][0].value == 1, "not counted after detach")
    b.attach_tracepoint(tp_re="syscalls:sys_enter_getp(p?)id$", fn_name="count")
    check(b.num_open_tracepoints() == 2, "tp_re attached %d" % b.num_open_tracepoints())
    fn = b.load_func("count", BPF.TRACEPOINT)
    check(fn is b.load_func(b"count", BPF.TRACEPOINT) and fn.fd > 0 and fn.name == "count",
          "load_func caches")
    check("hits" in b and list(b) == ["hits"], "table names")
    try:
        b.load_func("nope", BPF.TRACEPOINT)
        check(False, "unknown function should raise")
    except Exception as e:
        check("nope" in str(e), str(e))
check(b.num_open_tracepoints() == 0, "context manager detached everything")
b.cleanup()
links = sum(len(x) for x in b._links.values())
check(links == 0, "no links left")
passed("lifecycle")
