"""numasched: trace tasks that move to another NUMA node (bcc's columns and flags)."""
import sys

from ..output.table import Column
from .lib.args import add_duration_and_json, add_ebpf, pid, tool_parser
from .lib.runtime import run_tool, status
from .lib.snoop import snoop
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./numasched             # trace all processes
    ./numasched -p 185      # trace PID 185 only
"""

NODES_ONLINE = "/sys/devices/system/node/online"


def comm_name(text):
    return text.encode()[:15]


def parse_args(argv):
    p = tool_parser("numasched", "Trace task NUMA switch", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    p.add_argument("-c", "--comm", type=comm_name, help="trace this COMM only")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    add_ebpf(p, "numasched")
    return p.parse_args(argv)


COLUMNS = [
    Column("TIME", "%-8s ", wall_clock),
    Column("PID", "%-8d ", "pid"),
    Column("TID", "%-8d ", "tid"),
    Column("SRC_NID", "%-8d -> ", "old_nid", head="%-8s    "),
    Column("DST_NID", "%-8d ", "new_nid"),
    Column("COMM", "%-8s", "comm"),
]


def online_nodes():
    """The NUMA nodes' list as the kernel shows it ("0", "0-3"), or None."""
    try:
        with open(NODES_ONLINE) as f:
            return f.read().strip()
    except OSError:
        return None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {"targ_tgid": args.pid or 0, "targ_tid": args.tid or 0,
                 "targ_comm": args.comm or b""}
    nodes = online_nodes()
    if nodes is not None and nodes.isdigit():
        print("numasched: this machine has one NUMA node (%s): no task can switch nodes"
              % nodes, file=sys.stderr)

    def attach(tool):
        tool.attach_first("switch_btf", "switch_raw")
        status("Tracing task NUMA switch...", args.json)
    return snoop("numasched", args, COLUMNS, constants, attach=attach)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
