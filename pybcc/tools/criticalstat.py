"""criticalstat: trace long critical sections, with IRQs or preemption off
(bcc's flags and output). Needs the preemptirq tracepoints, which only
kernels built with CONFIG_PREEMPTIRQ_TRACEPOINTS have; elsewhere the tool
says so in one line."""
import os
import sys

from ..symbols import ksym, ksymname
from .lib.args import add_ebpf, positive_int, tool_parser
from .lib.runtime import Tool, fail, run_tool, status, stream_events

TRACEFS_DIRS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
EVENTS = ("irq_disable", "irq_enable", "preempt_disable", "preempt_enable")
MISSING = ("criticalstat: this kernel has no preemptirq tracepoints "
           "(CONFIG_PREEMPTIRQ_TRACEPOINTS is not set): critical sections cannot be traced")


def parse_args(argv):
    p = tool_parser("criticalstat", "Trace long critical sections")
    p.add_argument("-p", "--preemptoff", action="store_true",
                   help="Find long sections where preemption was off")
    p.add_argument("-i", "--irqoff", action="store_true",
                   help="Find long sections where IRQ was off")
    p.add_argument("-d", "--duration", default=100, type=positive_int,
                   help="Duration in uS (microseconds) below which we filter")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per section (pybcc extension)")
    add_ebpf(p, "criticalstat")
    args = p.parse_args(argv)
    args.preemptoff = args.preemptoff and not args.irqoff     # bcc: -i wins
    return args


def have_tracepoints():
    return any(all(os.path.exists(os.path.join(d, "events/preemptirq", e)) for e in EVENTS)
               for d in TRACEFS_DIRS)


class Printer:
    """bcc's block per section: the task, the section's start and end
    (caller -> its parent), and the kernel stack where it ended."""

    def __init__(self, tool, json):
        self.stacks = tool.maps["stack_traces"]
        self.stext = ksymname("_stext")
        self.json = json

    def where(self, offs):
        return ksym(self.stext + offs)

    def __call__(self, e):
        comm = e.comm.decode(errors="replace") if isinstance(e.comm, bytes) else e.comm
        stack = [ksym(a, show_offset=True) for a in self.stacks.walk(e.stack_id)] \
            if e.stack_id >= 0 else None
        if self.json:
            from ..output.table import write_json
            write_json({"comm": comm, "pid": e.id >> 32, "tid": e.id & 0xffffffff,
                        "time_us": e.time / 1000, "cpu": e.cpu,
                        "start": [self.where(e.addrs[0]), self.where(e.addrs[1])],
                        "end": [self.where(e.addrs[2]), self.where(e.addrs[3])],
                        "stack": stack})
            return
        out = ["===================================",
               "TASK: %s (pid %5d tid %5d) Total Time: %-9.3fus" % (
                   comm, e.id >> 32, e.id & 0xffffffff, e.time / 1000), "",
               "Section start: {} -> {}".format(self.where(e.addrs[0]), self.where(e.addrs[1])),
               "Section end:   {} -> {}".format(self.where(e.addrs[2]), self.where(e.addrs[3]))]
        if stack is None:
            out.append("NO STACK FOUND DUE TO COLLISION")
        else:
            out += ["  " + s for s in stack]
        out += ["===================================", ""]
        sys.stdout.write("\n".join(out) + "\n")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not have_tracepoints():
        fail(MISSING)
    kind = "preempt" if args.preemptoff else "irq"
    with Tool("criticalstat", {"min_ns": args.duration * 1000}, events=True) as tool:
        tool.attach("cpu_idle")
        tool.attach(kind + "_disable")
        tool.attach(kind + "_enable")
        decode = tool.record("event").decode
        printer = Printer(tool, args.json)
        tool.open_events(lambda data: printer(decode(data)))
        status("Finding critical section with {} disabled for > {}us".format(
            "preempt" if args.preemptoff else "IRQ", args.duration), args.json)
        stream_events(tool)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
