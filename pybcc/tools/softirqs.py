"""softirqs: summarize soft IRQ event time (bcc's flags and output)."""
import sys

from .lib.runtime import Tool, run_tool, status
from .lib import irqs

EXAMPLES = """examples:
    ./softirqs            # sum soft irq event time
    ./softirqs -C         # show the number of soft irq events
    ./softirqs -d         # show soft irq event time as histograms
    ./softirqs 1 10       # print 1 second summaries, 10 times
    ./softirqs -NT 1      # 1s summaries, nanoseconds, and timestamps
    ./softirqs -c 1       # sum soft irq event time on CPU 1 only
    ./softirqs --json 1   # NDJSON, one object per 1s interval (pybcc)
"""

def parse_args(argv):
    return irqs.parse_args(argv, "softirqs", "Summarize soft irq event time as histograms.",
                           EXAMPLES, "--events", "show the number of soft irq events", "count")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with Tool("softirqs", irqs.constants(args)) as tool:
        tool.attach("softirq_entry")
        if not args.events:
            tool.attach("softirq_exit")
        status("Tracing soft irq event%s... Hit Ctrl-C to end." % ("s" if args.events else " time"),
               args.json)
        irqs.report(tool, args, "softirq", 16, lambda k: k.vec, irqs.vec_to_name)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
