"""softirqs: summarize soft IRQ event time (bcc's flags and output)."""
import sys

from .lib.runtime import run_tool
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
    return irqs.run(args, "softirqs", "softirq_entry", "softirq_exit", "softirq", 16,
                    lambda k: k.vec, irqs.vec_to_name)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
