# Raw tracepoint sys_enter: count this process's getppid syscalls by id.
import os

from bcc import BPF
from scriptlib import HEADERS, check, passed, skip

if not BPF.support_raw_tracepoint():
    skip("no raw tracepoints")

prog = HEADERS + r"""
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} hits SEC(".maps");

SEC("raw_tracepoint")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    u32 zero = 0;
    u64 *v;
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET || ctx->args[1] != NR_GETPPID)
        return 0;
    v = bpf_map_lookup_elem(&hits, &zero);
    if (v)
        __sync_fetch_and_add(v, 1);
    return 0;
}
""".replace("TARGET", str(os.getpid())).replace("NR_GETPPID", "110")

b = BPF(text=prog)
b.attach_raw_tracepoint(tp="sys_enter", fn_name="on_sys_enter")
try:
    b.attach_raw_tracepoint(tp="sys_enter", fn_name="on_sys_enter")
    check(False, "attaching twice should raise")
except Exception as e:
    check("already" in str(e) or "has been attached" in str(e), str(e))
for _ in range(4):
    os.getppid()
check(b["hits"][0].value == 4, "hits %d" % b["hits"][0].value)
b.detach_raw_tracepoint(tp="sys_enter")
os.getppid()
check(b["hits"][0].value == 4, "detached")
passed("raw_tracepoint")
