"""capable: trace security capability checks (bcc's columns and flags).

Hooks, best first: kprobe or fentry on cap_capable() (they see whether a
check is audited and INSETID), else the capability:cap_capable tracepoint
(Linux 6.14), which does not: every check is then shown, as with -v, and
AUDIT/INSETID read N/A. PID is the process id and TID the thread id.
"""
import errno
import os
import sys

from ..errors import BPFError, NotSupportedError
from ..kernel import features, tracefs
from ..output.table import Column, Table, write_json
from .lib.args import add_duration_and_json, pid, tool_parser
from .lib.containers import ContainerSets
from .lib.runtime import Tool, stream_events
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./capable             # trace capability checks
    ./capable -v          # verbose: include non-audit checks
    ./capable -p 181      # only trace PID 181
    ./capable -K          # add kernel stacks to trace
    ./capable -U          # add user-space stacks to trace
    ./capable -x          # extra fields: show TID and INSETID columns
    ./capable --unique    # don't repeat stacks for the same pid or cgroup
    ./capable --cgroupmap mappath  # only trace cgroups in this BPF map
    ./capable --mntnsmap mappath   # only trace mount namespaces in the map
"""

# include/uapi/linux/capability.h
CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]

# where the tracepoint's fields must be for cap_capable_tp (capable.bpf.c)
TP_LAYOUT = {"cap": 32, "ret": 36}


def parse_args(argv):
    p = tool_parser("capable", "Trace security capability checks", EXAMPLES)
    p.add_argument("-v", "--verbose", action="store_true", help="include non-audit checks")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-K", "--kernel-stack", action="store_true", help="output kernel stack trace")
    p.add_argument("-U", "--user-stack", action="store_true", help="output user stack trace")
    p.add_argument("-x", "--extra", action="store_true",
                   help="show extra fields in TID and INSETID columns")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    p.add_argument("--unique", action="store_true",
                   help="don't repeat stacks for the same pid or cgroup")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def cap_name(cap):
    return CAPABILITIES[cap] if 0 <= cap < len(CAPABILITIES) else "?"


def tracepoint_usable():
    """Whether capability:cap_capable exists with the layout the program reads."""
    try:
        fmt = tracefs.tracepoint_format("capability", "cap_capable")
    except (OSError, BPFError):
        return False
    fields = {f.name: f.offset for f in fmt.fields}
    return all(fields.get(k) == v for k, v in TP_LAYOUT.items())


def open_tool(constants):
    """The tool on the best hook here; returns (tool, program name)."""
    # only the hooks this kernel has: a kprobe program would be verified
    # before its attach failed
    choices = [prog for prog, present in (("cap_capable_kprobe", features.has_kprobes),
                                          ("cap_capable_fentry", features.has_fentry))
               if present()]
    tp = tracepoint_usable()
    if tp:
        choices.append("cap_capable_tp")
    if not choices:
        raise NotSupportedError(
            "capable needs a kprobe or fentry on cap_capable() or the capability:cap_capable "
            "tracepoint (Linux 6.14); this kernel has none of them (kprobes missing, "
            "fentry missing)", feature="kprobe",
            alternative="a kernel with kprobes or fentry, or Linux 6.14+")
    # the stack map and the --unique set, as small as can be when unused
    sizes = {}
    if not (constants.get("kernel_stack") or constants.get("user_stack")):
        sizes["stacks"] = 1
    if not constants.get("unique"):
        sizes["seen"] = 1
    tool = Tool("capable", constants, events=True, map_sizes=sizes)
    try:
        return tool, tool.attach_first(*choices)
    except BaseException:
        tool.close()
        raise


def stack(tool, stack_id, kind, pid):
    """The stack's lines as bcc prints them under the event."""
    # -EFAULT: no stack of that kind here (a kernel stack in user code)
    if stack_id < 0 and stack_id != -errno.EFAULT:
        return ["    [Missed %s Stack]" % kind]
    if stack_id < 0:
        return []
    from ..symbols import sym     # (the ELF reader: only with -K/-U)
    return ["        %s" % sym(addr, pid, show_module=True, show_offset=True)
            for addr in tool.maps["stacks"].walk(stack_id)]


def not_known(v):
    """AUDIT and INSETID: -1 where the hook cannot tell."""
    return None if v == -1 else v


def columns(args):
    return [
        Column("TIME", "%-9s ", wall_clock),
        Column("UID", "%-6d ", "uid"),
        Column("PID", "%-6d ", "tgid"),
        Column("TID", "%-6d ", "pid") if args.extra else None,
        Column("COMM", "%-16s ", "comm"),
        Column("CAP", "%-4d ", "cap"),
        Column("NAME", "%-20s ", lambda e: cap_name(e.cap)),
        Column("AUDIT", "%-6s " if args.extra else "%-6s", lambda e: shown(e.audit),
               json=lambda e: not_known(e.audit)),
        Column("INSETID", "%s", lambda e: shown(e.insetid),
               json=lambda e: not_known(e.insetid)) if args.extra else None,
    ]


# the record's fields a line shows, in the columns' order (TID only with -x)
LINE_FIELDS = ("uid", "tgid", "pid", "comm", "cap", "audit", "insetid")


def shown(v):
    """AUDIT and INSETID as text: N/A where the hook cannot tell."""
    return "N/A" if v == -1 else str(v)


def plain_lines(record, table, extra):
    """(on_event, write_batch) that print each event's line as table.text
    does, formatted straight from the record's bytes and written once per
    batch. Where the kernel cannot tell audited checks (the tracepoint),
    capable shows every check on the machine, thousands a second: building a
    Record and going through each column's getter was most of its CPU."""
    fmt = "".join(c.fmt for c in table.columns) + "\n"
    values = record.values_getter(LINE_FIELDS)
    lines = []

    def on_event(data):
        uid, tgid, tid, comm, cap, audit, insetid = values(data)
        comm = comm.decode(errors="replace")
        if extra:
            lines.append(fmt % (wall_clock(), uid, tgid, tid, comm, cap, cap_name(cap),
                                shown(audit), shown(insetid)))
        else:
            lines.append(fmt % (wall_clock(), uid, tgid, comm, cap, cap_name(cap), shown(audit)))

    def write_batch():
        if lines:
            table.out.write("".join(lines))
            lines.clear()
    return on_event, write_batch


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"verbose": args.verbose, "kernel_stack": args.kernel_stack,
                 "user_stack": args.user_stack, "unique": args.unique,
                 "self_pid": os.getpid(), "filter_cgroup": bool(args.cgroupmap),
                 "filter_mntns": bool(args.mntnsmap)}
    if args.pid:
        constants["targ_pid"] = args.pid
    table = Table(columns(args), json=args.json)
    tool, used = open_tool(constants)
    with tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        if used == "cap_capable_tp" and not args.verbose:
            print("note: the capability:cap_capable tracepoint does not say whether a check "
                  "is audited: showing all checks (as -v); AUDIT reads N/A", file=sys.stderr)
        record = tool.record("event")

        def on_event(data):
            e = record.decode(data)
            stacks = {}
            if args.kernel_stack:
                stacks["kernel_stack"] = stack(tool, e.kernel_stack_id, "Kernel", -1)
            if args.user_stack:
                stacks["user_stack"] = stack(tool, e.user_stack_id, "User", e.tgid)
            if args.json:   # the stacks' frames as lists
                write_json({**table.as_dict(e),
                            **{k: [ln.strip() for ln in v] for k, v in stacks.items()}})
                return
            table.write(e)
            for lines in stacks.values():
                for line in lines:
                    print(line)

        write_batch = None
        if not (args.json or args.kernel_stack or args.user_stack):
            on_event, write_batch = plain_lines(record, table, args.extra)
        tool.open_events(on_event)
        table.print_header()
        stream_events(tool, args.duration, containers.sync, on_batch=write_batch)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
