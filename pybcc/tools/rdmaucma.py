"""rdmaucma: trace the events of the RDMA user-space connection manager (bcc's tool)."""
import os
import sys
import time

from ..errors import BPFError
from ..kernel import features
from ..output.table import Column, Table
from .lib.args import add_duration, add_ebpf, add_json, tool_parser
from .lib.inet import daddr, saddr
from .lib.runtime import Tool, fail, run_tool, status, stream_events

EXAMPLES = """examples:
    ./rdmaucma            # Trace all RDMA Userspace Connection Manager Access Event

ucma_event_handler() of the rdma_ucm module is traced by fentry, else by kprobe;
the module must be loaded (modprobe rdma_ucm).
"""
# enum rdma_cm_event_type (include/rdma/rdma_cm.h), as bcc names them
EVENT_NAMES = ("address resolved", "address error", "route resolved", "route error",
               "connect request", "connect response", "connect error", "unreachable",
               "rejected", "established", "disconnected", "device removal",
               "multicast join", "multicast error", "address change", "timewait exit")


def parse_args(argv):
    p = tool_parser("rdmaucma", "Trace RDMA Userspace Connection Manager Access Event",
                    EXAMPLES)
    p.add_argument("-D", "--debug", action="store_true",
                   help="print BPF program before starting (for debugging purposes)")
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    add_ebpf(p, "rdmaucma")
    return p.parse_args(argv)


def why_not_here():
    """One line saying what this kernel lacks, or None."""
    if not features.has_fentry() and not features.has_kprobes():
        return ("rdmaucma: this kernel has neither kprobes nor fentry, needed to trace "
                "ucma_event_handler()")
    if not os.path.isdir("/sys/module/rdma_ucm"):
        return "rdmaucma: the rdma_ucm module is not loaded (modprobe rdma_ucm)"
    if os.path.exists("/sys/module/rdma_ucm/initstate") and \
            not os.path.exists("/sys/kernel/btf/rdma_ucm"):
        # a loadable module without BTF: its structs (rdma_cm_id, ...) are
        # known to no BTF of this kernel, so CO-RE cannot read them
        return ("rdmaucma: this kernel publishes no BTF for the rdma_ucm module "
                "(module BTF came in Linux 5.11, with CONFIG_DEBUG_INFO_BTF_MODULES)")
    return None


def event_name(e):
    return EVENT_NAMES[e.event] if e.event < len(EVENT_NAMES) else "unknown event"


def endpoint(address, port):
    return f"{address}:{port}"


COLUMNS = [
    Column("Timestamp", "%-9s ", lambda e: time.strftime("%H:%M:%S"), key="time"),
    Column("Event", "%-16s ", event_name),
    Column("Family", "%-6s ", lambda e: "IPv4" if e.af == 2 else "IPv6"),
    Column("Local", "%-45s ", lambda e: endpoint(saddr(e), e.lport)),
    Column("Remote", "%-45s", lambda e: endpoint(daddr(e), e.dport)),
]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = why_not_here()
    if problem:
        fail(problem)
    if args.debug:
        with open(os.path.join(os.path.dirname(__file__), "rdmaucma.bpf.c")) as f:
            sys.stdout.write(f.read())
    table = Table(COLUMNS, json=args.json)
    with Tool("rdmaucma", events=True) as tool:
        try:
            tool.attach_first("ucma_event_fentry", "ucma_event_kprobe")
        except BPFError as e:
            fail(f"rdmaucma: cannot attach to ucma_event_handler: {e}")
        record = tool.record("event")
        tool.open_events(lambda data: table.write(record.decode(data)))
        status("Tracing RDMA Userspace Connection Manager Access event... Hit Ctrl-C to end.",
               args.json)
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
