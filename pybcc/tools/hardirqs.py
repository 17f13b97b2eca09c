"""hardirqs: summarize hard IRQ (interrupt) event time (bcc's flags and output)."""
import sys

from .lib.runtime import Tool, run_tool, status
from .lib import irqs

EXAMPLES = """examples:
    ./hardirqs            # sum hard irq event time
    ./hardirqs -d         # show hard irq event time as histograms
    ./hardirqs 1 10       # print 1 second summaries, 10 times
    ./hardirqs -NT 1      # 1s summaries, nanoseconds, and timestamps
    ./hardirqs -c 1       # sum hard irq event time on CPU 1 only
    ./hardirqs --json 1   # NDJSON, one object per 1s interval (pybcc)
"""


def parse_args(argv):
    return irqs.parse_args(argv, "hardirqs", "Summarize hard irq event time as histograms",
                           EXAMPLES, "--count", "show event counts instead of timing", "outputs")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with Tool("hardirqs", irqs.constants(args)) as tool:
        tool.attach("handler_entry")
        tool.attach("handler_exit")
        status("Tracing hard irq event%s... Hit Ctrl-C to end." % ("s" if args.count else " time"),
               args.json)
        irqs.report(tool, args, "hardirq", 26, lambda k: k.name)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
