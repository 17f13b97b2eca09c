"""tcpsynbl: the TCP listen backlog at each completed handshake, per backlog limit."""
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import add_duration_and_json, tool_parser
from .lib.inet import add_family_args, family_constants
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./tcpsynbl          # trace syn backlog
    ./tcpsynbl -4       # trace IPv4 family only
    ./tcpsynbl -6       # trace IPv6 family only
"""


def parse_args(argv):
    p = tool_parser("tcpsynbl", "Show TCP SYN backlog.", EXAMPLES)
    add_family_args(p)
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def attach(tool, args):
    """The tracepoint, else bcc's kprobes (the family chosen by -4/-6)."""
    try:
        tool.attach("set_state")
        return
    except (NotSupportedError, AttachError, LoadError):
        pass
    if not args.ipv6:
        tool.attach("v4_kprobe")
    if not args.ipv4:
        tool.attach("v6_kprobe")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with Tool("tcpsynbl", family_constants(args)) as tool:
        attach(tool, args)
        status("Tracing SYN backlog size. Ctrl-C to end.", args.json)

        def report(json):
            hists = collect_sections(tool.maps["hists"], lambda k: k.backlog_max)
            if json:
                return sections_json(hists, "backlog", "backlog_max")
            return sections_text(hists, "backlog", "backlog_max")
        report_loop(report, duration=args.duration, json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
