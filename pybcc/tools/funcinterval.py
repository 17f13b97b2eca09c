"""funcinterval: time between calls of a function or hits of a tracepoint, as a histogram (bcc's flags and output)."""
import sys

from ..kernel import features
from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import add_ebpf, add_json, tool_parser
from .lib.funcprobes import (add_summary_args, add_unit_args, print_source, resolve, summarize,
                             time_unit)
from .lib.runtime import Tool, run_tool

EXAMPLES = """examples:
    # time the interval of do_sys_open()
    ./funcinterval do_sys_open
    # time the interval of xhci_ring_ep_doorbell(), in microseconds
    ./funcinterval -u xhci_ring_ep_doorbell
    # time the interval of do_nanosleep(), in milliseconds
    ./funcinterval -m do_nanosleep
    # output every 5 seconds, with timestamps
    ./funcinterval -mTi 5 vfs_read
    # time process 181 only
    ./funcinterval -p 181 vfs_read
    # time the interval of mm_vmscan_direct_reclaim_begin tracepoint
    ./funcinterval t:vmscan:mm_vmscan_direct_reclaim_begin
    # time the interval of c:malloc used by top every 3 seconds
    ./funcinterval -p `pidof -s top` -i 3 c:malloc
    # time /usr/local/bin/python main function
    ./funcinterval /usr/local/bin/python:main
    # NDJSON, one object per 1 s interval (pybcc)
    ./funcinterval --json -i 1 t:syscalls:sys_enter_nanosleep

Kernel functions need kprobes; user functions (LIB:FUNC, FUNC a regular
expression as bcc's) and tracepoints (t:CATEGORY:EVENT) work on every kernel.
"""

ATTACH_TYPES = {"p": "kprobe function", "u": "uprobe function", "t": "tracepoint"}


def parse_args(argv):
    p = tool_parser("funcinterval", "Time interval and print latency as a histogram", EXAMPLES)
    add_summary_args(p)
    add_unit_args(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the BPF program (for debugging purposes)")
    add_json(p)
    add_ebpf(p, "funcinterval")
    p.add_argument("pattern", help="Function/Tracepoint name for tracing")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    parts = args.pattern.split(":")
    # bcc: a user function's name is a regular expression; the others exact
    user = len(parts) == 2
    probes = resolve(args.pattern, user, args.pid, kinds="pt")
    probes.require_kprobes()
    attach_type = "uprobe function" if user else ATTACH_TYPES[probes.kind]
    label, div = time_unit(args)
    constants = {"unit_div": div}
    if args.pid:
        constants["targ_tgid"] = args.pid
    if args.verbose:
        print_source("funcinterval")

    def report(json):
        hists = collect_sections(tool.maps["hists"])
        tool.maps["last"][0] = 0        # bcc starts each interval afresh
        return sections_json(hists, label) if json else sections_text(hists, label)

    with Tool("funcinterval", constants) as tool:
        # all targets share one histogram: no cookies (kernels before 5.15 have none)
        twin = "" if features.has_atomic_fetch() else "_plain"
        failed = probes.attach(tool, "call_probe" + twin, "call_tracepoint" + twin, "call_multi",
                               first_cookie=0)
        shown = parts[-1] if len(parts) < 3 else ":".join(parts[1:])
        summarize(probes, failed, args, report,
                  'Tracing %s for "%s"... Hit Ctrl-C to end.' % (attach_type, shown))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
