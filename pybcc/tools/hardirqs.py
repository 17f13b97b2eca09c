"""hardirqs: summarize hard IRQ (interrupt) event time (bcc's flags and output)."""
import sys

from .lib.runtime import run_tool
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
    # counted at handler exit, where a shared line's other handlers (IRQ_NONE) drop out
    return irqs.run(args, "hardirqs", "handler_entry", "handler_exit", "hardirq", 26,
                    lambda k: k.name, count_at_exit=True)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
