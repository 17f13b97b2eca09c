"""bpflist: processes holding BPF programs and maps, counted from their open
file descriptors (bcc's columns and -v/-vv)."""
import os
import re
import sys

from ..output.table import Column, Table
from .lib.args import add_json, tool_parser
from .lib.procutil import known_comm

EXAMPLES = """examples:
    bpflist     # display all processes currently using BPF
    bpflist -v  # also count kprobes/uprobes
    bpflist -vv # display kprobes/uprobes and count them

kprobes/uprobes are counted per process from the names bcc gives the probes
it creates in tracefs (..._bcc_PID); probes made with perf_event_open (as
pybcc and libbpf make them) have no such name and are not counted.
"""

BPF_FD = re.compile(r"anon_inode:bpf-([\w-]+)")
BCC_PROBE = re.compile(r"_bcc_(\d+)\s")
TRACEFS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


def parse_args(argv):
    p = tool_parser("bpflist", "Display processes currently using BPF programs and maps",
                    EXAMPLES)
    p.add_argument("-v", "--verbosity", action="count", default=0,
                   help="count and display kprobes/uprobes as well")
    add_json(p)
    return p.parse_args(argv)


def bpf_fd_types(pid):
    """The BPF object type ("prog", "map", ...) of each of pid's open fds."""
    root = f"/proc/{pid}/fd"
    for fd in os.listdir(root):
        try:
            match = BPF_FD.match(os.readlink(os.path.join(root, fd)))
        except OSError:
            continue
        if match:
            yield match.group(1)


def probe_lines(kind):
    for base in TRACEFS:
        try:
            with open(f"{base}/{kind}_events") as f:
                return f.readlines()
        except OSError:
            continue
    return []


def count_all(verbosity, out):
    counts = {}
    if verbosity > 0:
        for kind in ("kprobe", "uprobe"):
            lines = probe_lines(kind)
            if verbosity > 1:
                out.write("open %ss:\n" % kind + "".join(ln.strip() + "\n" for ln in lines) + "\n")
            for line in lines:
                match = BCC_PROBE.search(line)
                if match:
                    key = (int(match.group(1)), kind)
                    counts[key] = counts.get(key, 0) + 1
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for kind in bpf_fd_types(int(entry)):
                key = (int(entry), kind)
                counts[key] = counts.get(key, 0) + 1
        except OSError:     # the process went away, or is not ours to read
            continue
    return counts


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    counts = count_all(args.verbosity, sys.stderr if args.json else sys.stdout)
    type_width = max((len(kind) for _, kind in counts), default=0) + 1
    table = Table([
        Column("PID", "%-6s ", lambda r: r[0][0], key="pid"),
        Column("COMM", "%-16s ", lambda r: known_comm(r[0][0]), key="comm"),
        Column("TYPE", f"%-{type_width}s ", lambda r: r[0][1], key="type"),
        Column("COUNT", "%s", lambda r: r[1], key="count"),
    ], json=args.json)
    table.print_header()
    for row in sorted(counts.items(), key=lambda r: r[0][0]):
        table.write(row)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
