"""funccount: count kernel functions, user functions, tracepoints and USDT probes (bcc's flags and output).

Probe specifiers, as bcc's: FUNC or p::FUNC (kernel function), LIB:FUNC or
p:LIB:FUNC or /PATH:FUNC (user function), t:CAT:EVENT (tracepoint),
u:LIB:PROBE (USDT). '*' is a wildcard unless -r makes the pattern a regex.
"""
import os
import re
import sys

from ..output.table import Column, Table
from .lib.args import add_json, cpu, tool_parser
from .lib.funcprobes import add_summary_args, parse_pattern, resolve, summarize
from .lib.runtime import TOOLS_DIR, Tool

EXAMPLES = """examples:
    ./funccount 'vfs_*'             # count kernel fns starting with "vfs"
    ./funccount -r '^vfs.*'         # same as above, using regular expressions
    ./funccount -Ti 5 'vfs_*'       # output every 5 seconds, with timestamps
    ./funccount -d 10 'vfs_*'       # trace for 10 seconds only
    ./funccount -p 185 'vfs_*'      # count vfs calls for PID 181 only
    ./funccount t:sched:sched_fork  # count calls to the sched_fork tracepoint
    ./funccount -p 185 u:node:gc*   # count all GC USDT probes in node, PID 185
    ./funccount c:malloc            # count all malloc() calls in libc
    ./funccount go:os.*             # count all "os.*" calls in libgo
    ./funccount -p 185 go:os.*      # count all "os.*" calls in libgo, PID 185
    ./funccount ./test:read*        # count "read*" calls in the ./test binary
    ./funccount -c 1 'vfs_*'        # count vfs calls on CPU 1 only
    ./funccount --json -i 1 c:malloc  # NDJSON, one object per 1s interval (pybcc)
"""

COLUMNS = [Column("FUNC", "%-36s ", lambda r: r[0]), Column("COUNT", "%8d", lambda r: r[1])]


def parse_args(argv):
    p = tool_parser("funccount", "Count functions, tracepoints, and USDT probes", EXAMPLES)
    add_summary_args(p)
    p.add_argument("-r", "--regexp", action="store_true",
                   help="use regular expressions. Default is \"*\" wildcards only.")
    p.add_argument("-D", "--debug", action="store_true",
                   help="print BPF program before starting (for debugging purposes)")
    p.add_argument("-c", "--cpu", type=cpu, help="trace this CPU only")
    add_json(p)
    p.add_argument("pattern", help="search expression for events")
    args = p.parse_args(argv)
    try:
        re.compile(parse_pattern(args.pattern, args.regexp)[2])
    except (ValueError, re.error) as e:
        p.error(f"bad pattern {args.pattern!r}: {e}")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    probes = resolve(args.pattern, args.regexp, args.pid)
    constants = {}
    if args.pid:
        constants["targ_pid"] = args.pid
    if args.cpu is not None:
        constants["targ_cpu"] = args.cpu
    if args.debug:
        with open(os.path.join(TOOLS_DIR, "funccount.bpf.c")) as f:
            print(f.read())
        for i, name in enumerate(probes.names):
            print(f"// cookie {i + 1}: {name}")
    table = Table(COLUMNS, json=args.json)

    def report(json):
        totals = [(name, sum(counts[i])) for i, name in enumerate(probes.names)]
        for i, (_, n) in enumerate(totals):
            if n:
                counts[i] = 0
        rows = sorted(((name, n) for name, n in totals if n), key=lambda r: r[1])
        if json:
            return {"rows": [table.as_dict(r) for r in rows]}
        return "".join(line + "\n" for line in [table.header_text(), *map(table.text, rows)])

    with Tool("funccount", constants) as tool:
        failed = probes.attach(tool, "count_probe", "count_tracepoint", "count_kprobe_multi",
                               "count_usdt")
        counts = tool.maps["counts"]
        summarize(probes, failed, args, report)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
