"""tcprtt: summarize TCP smoothed RTT as histograms (bcc's flags and output)."""
import sys

from ..output.histogram import collect_sections, sections_json, sections_text
from .lib.args import int_between, positive_int, tool_parser
from .lib.inet import add_family_args, family_constants, format_addr, ip_address, parse_tool_args
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./tcprtt            # summarize TCP RTT
    ./tcprtt -i 1 -d 10 # print 1 second summaries, 10 times
    ./tcprtt -m -T      # summarize in millisecond, and timestamps
    ./tcprtt -p         # filter for local port
    ./tcprtt -P         # filter for remote port
    ./tcprtt -a         # filter for local address
    ./tcprtt -A         # filter for remote address
    ./tcprtt -b         # show sockets histogram by local address
    ./tcprtt -B         # show sockets histogram by remote address
    ./tcprtt -D         # show debug bpf text
    ./tcprtt -e         # show extension summary(average)
    ./tcprtt -4         # trace only IPv4 family
    ./tcprtt -6         # trace only IPv6 family

-b/-B also key IPv6 sockets by their address (bcc shows them as *******).
"""

BY_NONE, BY_LADDR, BY_RADDR = range(3)
port = int_between(1, 65535, "port")


def parse_args(argv):
    p = tool_parser("tcprtt", "Summarize TCP RTT as a histogram", EXAMPLES)
    p.add_argument("-i", "--interval", type=positive_int, help="summary interval, seconds")
    p.add_argument("-d", "--duration", type=positive_int, default=99999,
                   help="total duration of trace, seconds")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-m", "--milliseconds", action="store_true", help="millisecond histogram")
    p.add_argument("-p", "--lport", type=port, help="filter for local port")
    p.add_argument("-P", "--rport", type=port, help="filter for remote port")
    p.add_argument("-a", "--laddr", type=ip_address, help="filter for local address")
    p.add_argument("-A", "--raddr", type=ip_address, help="filter for remote address")
    p.add_argument("-b", "--byladdr", action="store_true",
                   help="show sockets histogram by local address")
    p.add_argument("-B", "--byraddr", action="store_true",
                   help="show sockets histogram by remote address")
    p.add_argument("-e", "--extension", action="store_true",
                   help="show extension summary(average)")
    p.add_argument("-D", "--debug", action="store_true",
                   help="print BPF program before starting (for debugging purposes)")
    add_family_args(p)
    return parse_tool_args(p, argv, duration=False)


def address_text(who):
    """A section's address as bcc shows it; ******* for all addresses."""
    if not who.af:
        return "*******"
    return format_addr(who.af, who.addr)


def constants_for(args):
    constants = family_constants(args)
    constants.update(targ_ms=args.milliseconds, want_avg=args.extension,
                     key_by=BY_LADDR if args.byladdr else BY_RADDR if args.byraddr else BY_NONE)
    if args.lport:
        constants["targ_lport"] = args.lport
    if args.rport:
        constants["targ_rport"] = args.rport
    for name, value in (("laddr", args.laddr), ("raddr", args.raddr)):
        if value:
            constants[f"targ_{name}_af"], constants[f"targ_{name}"] = value
    return constants


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.debug:
        print(open(__file__.replace(".py", ".bpf.c")).read())
    label = "msecs" if args.milliseconds else "usecs"
    header = ("Local Address" if args.byladdr else "Remote Address" if args.byraddr
              else "All Addresses")

    with Tool("tcprtt", constants_for(args)) as tool:
        tool.attach_first("probe_raw", "rcv_kprobe")
        status("Tracing TCP RTT... Hit Ctrl-C to end.", args.json)

        def report(json):
            hists = collect_sections(tool.maps["hists"], lambda k: k.who)
            avgs = {who: a.total // a.count for who, a in tool.maps["avgs"].pop_all() if a.count}

            def shown(who):
                text = address_text(who)
                if args.extension and who in avgs:
                    text += " [AVG %d]" % avgs[who]
                return text
            if not json:
                return sections_text(hists, label, header, shown)
            out = sections_json(hists, label, header, address_text)
            if args.extension:
                for h, who in zip(out["histograms"], sorted(hists)):
                    h["avg"] = avgs.get(who)
            return out
        interval = args.interval or args.duration
        count = -(-args.duration // interval)     # bcc stops once duration seconds passed
        report_loop(report, interval, count, None, args.json, args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
