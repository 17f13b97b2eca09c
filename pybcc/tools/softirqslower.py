"""softirqslower: trace softirqs that wait long after being raised, or run
long (bcc's columns and flags)."""
import sys

from ..output.table import Column
from .lib.args import add_duration_and_json, add_ebpf, cpu, non_negative_int, tool_parser
from .lib.irqs import vec_to_name
from .lib.runtime import run_tool, status
from .lib.snoop import snoop
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./softirqslower        # trace softirq latency higher than 10000 us (default)
    ./softirqslower 100000 # trace softirq latency higher than 100000 us
    ./softirqslower -c 1   # trace softirq latency on CPU 1 only
"""

# what each event measured (the BPF side's stages)
STAGES = {1: "irq(hard) to softirq", 2: "softirq runtime"}


def parse_args(argv):
    p = tool_parser("softirqslower", "Trace slow soft IRQ (interrupt).", EXAMPLES)
    p.add_argument("min_us", nargs="?", default=10000, type=non_negative_int,
                   help="minimum softirq latency to trace, in us (default 10000)")
    p.add_argument("-c", "--cpu", type=cpu, help="trace this CPU only")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    add_ebpf(p, "softirqslower")
    return p.parse_args(argv)


COLUMNS = [
    Column("TIME", "%-8s ", wall_clock),
    Column("STAGE", "%-20s ", lambda e: STAGES.get(e.stage, str(e.stage))),
    Column("SOFTIRQ", "%-8s ", lambda e: vec_to_name(e.vec)),
    Column("LAT(us)", "%-14d ", lambda e: e.delta_ns // 1000, key="lat_us"),
    Column("CPU", "%-6d ", "cpu"),
    Column("COMM", "%-6s", "task", key="comm"),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"min_ns": args.min_us * 1000,
                 "targ_cpu": args.cpu if args.cpu is not None else -1}
    return snoop("softirqslower", args, COLUMNS, constants,
                 programs=("softirq_raise", "softirq_entry", "softirq_exit"),
                 attach=lambda tool: status("Tracing softirq latency higher than %d us... "
                                            "Hit Ctrl-C to end." % args.min_us, args.json))


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
