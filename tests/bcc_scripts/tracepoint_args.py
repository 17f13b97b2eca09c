# TRACEPOINT_PROBE args: the openat tracepoint's filename and flags,
# the string read with bpf_probe_read_user_str, sent through a perf buffer.
import os
import tempfile

from bcc import BPF
from scriptlib import check, passed

prog = """
struct open_t {
    u32 pid;
    int flags;
    char fname[128];
};
BPF_PERF_OUTPUT(opens);

TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
    struct open_t o = {};
    o.pid = bpf_get_current_pid_tgid() >> 32;
    if (o.pid != TARGET)
        return 0;
    o.flags = args->flags;
    bpf_probe_read_user_str(&o.fname, sizeof(o.fname), args->filename);
    opens.perf_submit(args, &o, sizeof(o));
    return 0;
}
""".replace("TARGET", str(os.getpid()))

b = BPF(text=prog)
check(b.num_open_tracepoints() == 1, "TRACEPOINT_PROBE attached itself")
seen = []
b["opens"].open_perf_buffer(lambda cpu, data, size: seen.append(b["opens"].event(data)))
path = os.path.join(tempfile.gettempdir(), "pybcc-tp-args-%d" % os.getpid())
fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
os.close(fd)
os.unlink(path)
for _ in range(20):
    if any(e.fname == path.encode() for e in seen):
        break
    b.perf_buffer_poll(timeout=100)
mine = [e for e in seen if e.fname == path.encode()]
check(mine, "no openat of %s seen (saw %r)" % (path, [e.fname for e in seen][:5]))
want = os.O_CREAT | os.O_WRONLY | os.O_TRUNC
check(mine[0].flags & want == want, "flags %#x" % mine[0].flags)
passed("tracepoint_args")
