"""Where kprobes are missing: the tracepoint that stands in for a kprobe.

bcc tools kprobe syscall functions (attach_kprobe(event=get_syscall_fnname(
"kill"), ...)) with typed arguments and read the return value with
PT_REGS_RC in a kretprobe. On a kernel without kprobes such a program runs
instead on syscalls:sys_enter_NAME (kprobe) or syscalls:sys_exit_NAME
(kretprobe), whose records hold the same arguments and the return value; the
program is compiled a second time with register reads mapped onto the record
(see pybcc_bcc.h, __PYBCC_SYSCALL_TP).

Other kernel functions stand in only through the explicit table below: a raw
tracepoint whose arguments begin with the function's own (checked against the
kernel's BTF before use), so the same program runs on it unchanged
(__PYBCC_RAW_TP). Return probes of those have no stand-in.
"""
import functools
import re

from ..kernel import tracefs

_SYSCALL_FUNCTION = re.compile(r"^(?:__x64_sys_|__ia32_sys_|__arm64_sys_|__s390x_sys_|"
                               r"__riscv_sys_|__se_sys_|__do_sys_|ksys_|sys_)(\w+)$")

# kernel function → (raw tracepoint, how many leading arguments the two share)
RAW_TRACEPOINT_FOR = {
    "blk_account_io_start": ("block_io_start", 1),      # struct request *
    "__blk_account_io_start": ("block_io_start", 1),
    "blk_account_io_done": ("block_io_done", 1),        # struct request *
    "__blk_account_io_done": ("block_io_done", 1),
    "blk_mq_start_request": ("block_rq_issue", 1),      # struct request *
    "blk_start_request": ("block_rq_issue", 1),
    "blk_mq_end_request": ("block_rq_complete", 2),     # struct request *, blk_status_t
    "submit_bio": ("block_bio_queue", 1),               # struct bio *
    "wake_up_new_task": ("sched_wakeup_new", 1),        # struct task_struct *
    "tcp_retransmit_skb": ("tcp_retransmit_skb", 2),    # struct sock *, struct sk_buff *
    "__tcp_retransmit_skb": ("tcp_retransmit_skb", 2),
    "tcp_rcv_space_adjust": ("tcp_rcv_space_adjust", 1),  # struct sock *
}


def is_syscall_function(func):
    return _SYSCALL_FUNCTION.match(func) is not None


def syscall_tracepoint(func, retprobe):
    """"syscalls:sys_enter_NAME" (sys_exit_NAME for a return probe) for a
    syscall function such as "__x64_sys_kill", or None."""
    m = _SYSCALL_FUNCTION.match(func)
    if not m:
        return None
    event = ("sys_exit_" if retprobe else "sys_enter_") + m.group(1)
    return f"syscalls:{event}" if tracefs.tracepoint_exists("syscalls", event) else None


@functools.lru_cache(maxsize=None)
def raw_tracepoint(func):
    """The raw tracepoint that stands in for a kprobe on ``func``, or None:
    only a pair of the table whose arguments match in the kernel's BTF."""
    tp, shared = RAW_TRACEPOINT_FOR.get(func, (None, 0))
    if tp is None:
        return None
    try:
        from ..btf import BTF
        from ..btf import types as bt
        btf = BTF.kernel()
        fn = btf.find_all(func, (bt.FUNC,))
        td = btf.find_all("btf_trace_" + tp, (bt.TYPEDEF,))
        if not fn or not td:
            return None
        fparams = btf[fn[0].ref].members
        proto = btf.strip(btf.strip(td[0].ref).ref)        # typedef → pointer → proto
        tparams = proto.members[1:]                          # after the void *__data
    except Exception:
        return None
    if len(fparams) < shared or len(tparams) < shared:
        return None

    def spelled(t):
        return btf.type_name(btf.strip(t)).replace("const ", "")
    same = all(spelled(a.type) == spelled(b.type) for a, b in zip(fparams[:shared], tparams))
    return tp if same else None


def syscall_functions(event_re, prefix):
    """Syscall functions ("__x64_sys_NAME") matching ``event_re`` (whole
    name) whose sys_enter_NAME tracepoint exists: what a kprobe regex can
    reach without kprobes."""
    rx = re.compile(event_re)
    names = [tp.split(":", 1)[1][len("sys_enter_"):]
             for tp in tracefs.list_tracepoints("syscalls:sys_enter_*")]
    return [prefix + n for n in names if rx.fullmatch(prefix + n)]
