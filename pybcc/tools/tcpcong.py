"""tcpcong: time TCP flows spend in each congestion control state (bcc's columns and flags)."""
import socket
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..output.histogram import collect_sections, sections_json, sections_text
from ..output.table import Column, Table
from .lib.args import add_interval_count, tool_parser
from .lib.inet import daddr, parse_tool_args, port_range, saddr
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./tcpcong                 # show tcp congestion status duration
    ./tcpcong 1 10            # show 1 second summaries, 10 times
    ./tcpcong -L 3000-3006 1  # 1s summaries, local port 3000-3006
    ./tcpcong -R 5000-5005 1  # 1s summaries, remote port 5000-5005
    ./tcpcong -uT 1           # 1s summaries, microseconds, and timestamps
    ./tcpcong -d              # show the duration as histograms

As bcc's, the table sums each flow's time from the start of tracing (it is
not reset each interval) and counts a state's time when the flow leaves it;
the histograms are per interval. Linux 6.0+ reports every change through
tcp:tcp_cong_state_set; older kernels need kprobes or fentry on the functions
that change the state (bcc's).
"""

STATES = ("open", "disorder", "cwr", "recovery", "loss")   # TCP_CA_Open .. TCP_CA_Loss
CHANGERS = ("tcp_fastretrans_alert", "tcp_enter_cwr", "tcp_process_tlp_ack", "tcp_enter_loss",
            "tcp_enter_recovery")


def parse_args(argv):
    p = tool_parser("tcpcong", "Summarize tcp socket congestion control status duration",
                    EXAMPLES)
    p.add_argument("-L", "--localport", type=port_range, help="trace local ports only")
    p.add_argument("-R", "--remoteport", type=port_range, help="trace the dest ports only")
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-d", "--dist", action="store_true", help="show distributions as histograms")
    p.add_argument("-u", "--microseconds", action="store_true", help="output in microseconds")
    add_interval_count(p, "outputs")
    return parse_tool_args(p, argv)


def flow_table(v6, unit, json):
    """bcc's table of one family: its header and row formats differ."""
    scale = 1 if unit == "us" else 1000
    width = 32 if v6 else 21
    # bcc's formats for Dod, Rcov, Cwr, Los values (IPv6 rows are laid out differently)
    value_fmts = ("%-7d ", "%-7d ", "%-6d ", "%-6d ") if v6 else ("%-6d ", "%-7d ", "%-7d ", "%-6d ")
    heads = ("%-6s ", "%-7s ", "%-7s ", "%-6s ")
    six = "6" if v6 else ""
    spent = lambda state: lambda kv: int(kv[1].us[state] / scale)   # noqa: E731
    return Table([
        Column("LAddrPort" + six, f"%-{width}s ", lambda kv: "%s/%d" % (saddr(kv[0]), kv[0].lport),
               head=f"%-{width}s " if v6 else f"%-{width}s", key="laddr_port"),
        Column("RAddrPort" + six, f"%-{width}s ", lambda kv: "%s/%d" % (daddr(kv[0]), kv[0].dport),
               key="raddr_port"),
        Column("Open_" + unit, "%-7d ", spent(0), key="open_" + unit),
        *[Column(f"{title}_{unit}", fmt, spent(state), head=head, key=f"{name}_{unit}")
          for state, (title, name), fmt, head in zip(
              (1, 3, 2, 4), (("Dod", "disorder"), ("Rcov", "recovery"), ("Cwr", "cwr"),
                             ("Los", "loss")), value_fmts, heads)],
        Column("Chgs", "%-5d", lambda kv: kv[1].changes, key="changes"),
    ], json=json)


def attach(tool):
    """The tracepoint (6.0+), else fexit, else kretprobes on the functions
    that change the state (those the kernel has not inlined)."""
    try:
        tool.attach("cong_state_tp")
        return
    except (NotSupportedError, AttachError, LoadError) as e:
        first = e
    for kinds in (["fexit"], ["kprobe", "kretprobe"]):
        for fn in CHANGERS:
            try:
                for kind in kinds:
                    tool.attach(f"{fn}_{kind}")
            except (NotSupportedError, AttachError, LoadError):
                continue
        if tool.links:
            return
    raise NotSupportedError(
        "tcpcong needs the tcp:tcp_cong_state_set tracepoint (Linux 6.0+), or fentry or "
        f"kprobes on {', '.join(CHANGERS)}; this kernel has none of them ({first})")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    unit = "us" if args.microseconds else "ms"
    constants = {"do_dist": args.dist, "targ_ms": not args.microseconds}
    for name, bounds in (("lport", args.localport), ("dport", args.remoteport)):
        if bounds:
            constants[f"{name}_min"], constants[f"{name}_max"] = bounds
    tables = {v6: flow_table(v6, unit, args.json) for v6 in (False, True)}

    with Tool("tcpcong", constants) as tool:
        attach(tool)
        status("Tracing tcp congestion control status duration... Hit Ctrl-C to end.",
               args.json)

        def report(json):
            if args.dist:
                label = "usecs" if args.microseconds else "msecs"
                hists = collect_sections(tool.maps["hists"], lambda k: k.state)
                show = lambda state: STATES[state]   # noqa: E731
                if json:
                    return sections_json(hists, label, "tcp_congest_state", show)
                return sections_text(hists, label, "tcp_congest_state", show)
            flows = sorted(tool.maps["flows"].items(), key=lambda kv: kv[0].lport)
            if json:
                return {"rows": [{**tables[kv[0].af == socket.AF_INET6].as_dict(kv),
                                  "ip": 6 if kv[0].af == socket.AF_INET6 else 4}
                                 for kv in flows if kv[1].changes]}
            out = []
            for v6 in (False, True):
                rows = [kv for kv in flows if (kv[0].af == socket.AF_INET6) == v6]
                if rows:      # bcc prints the header when the family has any flow
                    out.append(tables[v6].header_text() + "\n")
                out += [tables[v6].format(kv) for kv in rows if kv[1].changes]
            return "".join(out)
        report_loop(report, args.interval, args.outputs, args.duration, args.json,
                    args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
