"""execsnoop: trace new processes via exec() syscalls (bcc's columns and flags)."""
import re
import sys
import time

from ..output.table import Column, Table
from .lib.args import add_duration_and_json, regex, tool_parser
from .lib.procutil import ppid_of
from .lib.runtime import Tool, run_tool, stream_events

EXAMPLES = """examples:
    ./execsnoop           # trace all exec() syscalls
    ./execsnoop -x        # include failed exec()s
    ./execsnoop -T        # include time (HH:MM:SS)
    ./execsnoop -U        # include UID
    ./execsnoop -u 1000   # only trace UID 1000
    ./execsnoop -t        # include timestamps
    ./execsnoop -q        # add "quotemarks" around arguments
    ./execsnoop -n main   # only print command lines containing "main"
    ./execsnoop -l tpkg   # only print command where arguments contains "tpkg"
    ./execsnoop -P 181    # only trace new processes whose parent PID is 181
"""


def parse_args(argv):
    p = tool_parser("execsnoop", "Trace exec() syscalls", EXAMPLES)
    p.add_argument("-T", "--time", action="store_true", help="include time column on output (HH:MM:SS)")
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-x", "--fails", action="store_true", help="include failed exec()s")
    p.add_argument("-u", "--uid", type=int, help="trace this UID only")
    p.add_argument("-q", "--quote", action="store_true",
                   help='Add quotemarks (") around arguments.')
    p.add_argument("-n", "--name", type=regex, help="only print commands matching this name (regex), any arg")
    p.add_argument("-l", "--line", type=regex, help="only print commands where arg contains this line (regex)")
    p.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    p.add_argument("--max-args", default="20", help="maximum number of arguments parsed and displayed, defaults to 20")
    p.add_argument("-P", "--ppid", type=int, help="trace this parent PID only")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def columns(args, start):
    """bcc's columns; the process's columns read from the row (event, argv text)."""
    def ppid(row):
        e = row[0]
        return e.ppid if e.ppid > 0 else ppid_of(e.pid)
    return [
        Column("TIME", "%-9s", lambda row: time.strftime("%H:%M:%S")) if args.time else None,
        Column("TIME(s)", "%-8.3f", lambda row: time.time() - start) if args.timestamp else None,
        Column("UID", "%-6d", lambda row: row[0].uid) if args.print_uid else None,
        Column("PCOMM", "%-16s ", lambda row: row[0].comm, key="comm"),
        Column("PID", "%-7d ", lambda row: row[0].pid),
        Column("PPID", "%-7s ", lambda row: str(ppid(row)) if ppid(row) > 0 else "?",
               json=lambda row: ppid(row) if ppid(row) > 0 else None),
        Column("RET", "%3d ", lambda row: row[0].retval),
        Column("ARGS", "%s", lambda row: row[1]),
    ]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    max_args = int(args.max_args)
    if not 1 <= max_args <= 60:
        print("--max-args must be between 1 and 60", file=sys.stderr)
        return 1
    constants = {"max_args": max_args, "ignore_failed": not args.fails}
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    if args.ppid is not None:
        constants["targ_ppid"] = args.ppid
    name_re = re.compile(args.name.encode()) if args.name else None
    line_re = re.compile(args.line.encode()) if args.line else None
    table = Table(columns(args, time.time()), json=args.json)

    # execs holds an exec's argv until it returns: 10,240 entries of 7.7 KB,
    # of which a few are ever in use; made all at once they cost 15-20 ms
    with Tool("execsnoop", constants, events=True, no_prealloc=["execs"]) as tool:
        tool.attach("execve_enter")
        tool.attach("execve_exit")
        record = tool.record("event", tail="args")

        def on_event(data):
            e = record.decode(data)
            raw = bytes(data[record.size:record.size + e.args_size])
            argv_list = raw.split(b"\0")[:-1] if raw else []
            if e.args_count > len(argv_list):
                argv_list.append(b"...")
            if args.quote:
                argv_list = [b'"' + a.replace(b'"', b'\\"') + b'"' for a in argv_list]
            argv_text = b" ".join(argv_list).replace(b"\n", b"\\n")
            if name_re and not name_re.search(e.comm):
                return
            if line_re and not line_re.search(argv_text):
                return
            table.write((e, argv_text))

        tool.open_events(on_event)
        table.print_header()
        stream_events(tool, args.duration)
    return 0

if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
