"""opensnoop: trace open(), openat() and openat2() (bcc's columns and flags)."""
import argparse
import os
import sys

from ..errors import BPFError
from ..output.table import Column, Table
from .lib.args import add_json, pid, positive_float, positive_int, tool_parser, uid
from .lib.containers import ContainerSets
from .lib.runtime import Tool, stream_events
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./opensnoop                        # trace all open() syscalls
    ./opensnoop -T                     # include timestamps
    ./opensnoop -U                     # include UID
    ./opensnoop -x                     # only show failed opens
    ./opensnoop -p 181                 # only trace PID 181
    ./opensnoop -t 123                 # only trace TID 123
    ./opensnoop -u 1000                # only trace UID 1000
    ./opensnoop -d 10                  # trace for 10 seconds only
    ./opensnoop -n main                # only print process names containing "main"
    ./opensnoop -e                     # show extended fields
    ./opensnoop -f O_WRONLY -f O_RDWR  # only print calls for writing
    ./opensnoop -F                     # show full path for an open file with relative path
    ./opensnoop --cgroupmap mappath    # only trace cgroups in this BPF map
    ./opensnoop --mntnsmap mappath     # only trace mount namespaces in the map
"""


def open_flag(name):
    """An O_* name (bcc's -f): its value."""
    if not name.startswith("O_") or not hasattr(os, name):
        raise argparse.ArgumentTypeError(f"Bad flag: {name}")
    return getattr(os, name)


def pages(text):
    n = positive_int(text)
    if n & (n - 1):
        raise argparse.ArgumentTypeError(f"must be a power of two, not {n}")
    return n


def parse_args(argv):
    p = tool_parser("opensnoop", "Trace open() syscalls", EXAMPLES)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed opens")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    p.add_argument("-u", "--uid", type=uid, help="trace this UID only")
    p.add_argument("-d", "--duration", type=positive_float,
                   help="total duration of trace in seconds")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    p.add_argument("-e", "--extended_fields", action="store_true", help="show extended fields")
    p.add_argument("-f", "--flag_filter", action="append", type=open_flag,
                   help="filter on flags argument (e.g., O_WRONLY)")
    p.add_argument("-F", "--full-path", action="store_true",
                   help="show full path for an open file with relative path")
    p.add_argument("-b", "--buffer-pages", type=pages,
                   help="size of the perf ring buffer (must be a power of two number of "
                        "pages and defaults to 64); given, events use a perf buffer of "
                        "this size instead of the 1 MiB ring buffer")
    add_json(p)
    return p.parse_args(argv)


def columns(args):
    """bcc's columns over a decoded event (its name the full path with -F)."""
    return [
        Column("TIME(s)", "%-14.9f", SinceFirst("ts_us", 1e6)) if args.timestamp else None,
        Column("UID", "%-6d", "uid") if args.print_uid else None,
        Column("TID", "%-6d ", "tid") if args.tid is not None else Column("PID", "%-6d ", "pid"),
        Column("COMM", "%-16s ", "comm"),
        Column("FD", "%4d ", "fd"),
        Column("ERR", "%3d ", "err"),
        Column("FLAGS", "%08o ", "flags", head="%-9s") if args.extended_fields else None,
        Column("PATH", "%s", "name"),
    ]


def join_path(name, dir_bytes):
    """The directory components come leaf first, NUL separated."""
    parts = [p for p in dir_bytes.split(b"\0") if p]
    parts.reverse()
    return b"/" + b"/".join(parts + [name]) if parts else b"/" + name


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mask = 0
    for flag in args.flag_filter or []:
        mask |= flag
    constants = {"failed_only": args.failed, "full_path": args.full_path, "flags_mask": mask,
                 "filter_cgroup": bool(args.cgroupmap), "filter_mntns": bool(args.mntnsmap)}
    if args.tid is not None:          # TID trumps PID
        constants["targ_tid"] = args.tid
    elif args.pid is not None:
        constants["targ_pid"] = args.pid
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    name_filter = args.name.encode() if args.name else None
    # -b asks for a perf buffer of that many pages; otherwise a ring buffer.
    use_perf = args.buffer_pages is not None
    table = Table(columns(args), json=args.json)

    with Tool("opensnoop", constants, events=not use_perf) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        # open() does not exist on every architecture; openat2 is Linux 5.6.
        for sc, required in (("openat", True), ("open", False), ("openat2", False)):
            try:
                tool.attach(f"{sc}_enter")
                tool.attach(f"{sc}_exit")
            except BPFError:
                if required:
                    raise

        record = tool.record("event", tail="dir")
        decode, dir_at = record.decode, record.size
        lines = []
        add = lines.append
        full_path = args.full_path
        # Lines are collected as bytes and decoded once per batch: the
        # per-event path is what the traced workload waits for at high rates.
        line_format = table.bytes_format()

        def each_event(data):
            e = decode(data)
            if name_filter and name_filter not in e.comm:
                return
            if full_path and e.dir_size:
                e = type(e)(e[:-1] + (join_path(e.name, bytes(data[dir_at:dir_at + e.dir_size])),))
            add(table.format(e).encode() if args.json else line_format % table.values(e))

        # bcc's default columns are all fields: format those straight from the
        # record's bytes, without building a Record (a third of the cost)
        fields = table.attributes()
        values = record.values_getter(fields) if fields else None
        comm_at = fields.index("comm") if fields else None

        def each_plain_event(data):
            v = values(data)
            if not name_filter or name_filter in v[comm_at]:
                add(line_format % v)

        def write_batch():
            # one decode and one write per drained batch, not per event
            if lines:
                text = b"".join(lines).decode(errors="replace")
                lines.clear()
                sys.stdout.write(text)

        plain = fields and not full_path and not args.json
        tool.open_events(each_plain_event if plain else each_event, page_cnt=args.buffer_pages or 64)
        table.print_header()
        stream_events(tool, args.duration, containers.sync, on_batch=write_batch)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
