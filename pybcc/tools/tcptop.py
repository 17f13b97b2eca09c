"""tcptop: summarize TCP send/recv throughput by host (bcc's columns and flags)."""
import socket
import sys
import time

from ..errors import AttachError, LoadError, NotSupportedError
from ..output.table import Column, Table, write_json
from .lib.args import pid, positive_int, tool_parser
from .lib.containers import ContainerSets
from .lib.inet import (add_container_args, add_family_args, container_constants, daddr,
                       family_constants, parse_tool_args, pid_constant, saddr)
from .lib.runtime import Tool, run_tool, sleep_intervals, status

EXAMPLES = """examples:
    ./tcptop           # trace TCP send/recv by host
    ./tcptop -C        # don't clear the screen
    ./tcptop -p 181    # only trace PID 181
    ./tcptop --cgroupmap mappath  # only trace cgroups in this BPF map
    ./tcptop --mntnsmap mappath   # only trace mount namespaces in the map
    ./tcptop -4        # trace IPv4 family only
    ./tcptop -6        # trace IPv6 family only

On Linux 6.5+ pybcc counts the bytes each send/recv call moved
(sock:sock_send_length/sock_recv_length); bcc counts the bytes asked of
tcp_sendmsg, which pybcc does too on older kernels.
"""

CLEAR = "\033[H\033[2J"     # what clear(1) writes on common terminals


def parse_args(argv):
    p = tool_parser("tcptop", "Summarize TCP send/recv throughput by host", EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-S", "--nosummary", action="store_true", help="skip system summary line")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("interval", nargs="?", default=1, type=positive_int,
                   help="output interval, in seconds (default 1)")
    p.add_argument("count", nargs="?", type=positive_int, help="number of outputs")
    add_container_args(p)
    add_family_args(p)
    return parse_tool_args(p, argv)


def flow_columns(v6):
    width = 32 if v6 else 21
    return [
        Column("PID", "%-7d ", lambda kv: kv[0].pid),
        Column("COMM", "%-12.12s ", lambda kv: kv[0].name, head="%-12s "),
        Column("LADDR6" if v6 else "LADDR", f"%-{width}s ",
               lambda kv: "%s:%d" % (saddr(kv[0]), kv[0].lport), key="laddr"),
        Column("RADDR6" if v6 else "RADDR", f"%-{width}s ",
               lambda kv: "%s:%d" % (daddr(kv[0]), kv[0].dport), key="raddr"),
        Column("RX_KB", "%6d ", lambda kv: kv[1].received // 1024),
        Column("TX_KB", "%6d", lambda kv: kv[1].sent // 1024),
    ]


TABLES = {False: Table(flow_columns(False)), True: Table(flow_columns(True))}


def attach(tool):
    """The sock tracepoints (6.5+), else bcc's kprobes."""
    try:
        tool.attach("send_tp")
        tool.attach("recv_tp")
        return
    except (NotSupportedError, AttachError, LoadError) as e:
        first = e
    try:
        tool.attach("send_kprobe")
        tool.attach("recv_kprobe")
    except (NotSupportedError, AttachError, LoadError):
        raise NotSupportedError(
            "tcptop needs the sock:sock_send_length tracepoint (Linux 6.5+) or kprobes on "
            f"tcp_sendmsg/tcp_cleanup_rbuf; this kernel has neither ({first})") from None


def report(flows, args):
    """One interval: bcc's screen, or one JSON object with every flow."""
    items = flows.pop_all()
    items.sort(key=lambda kv: kv[1].sent + kv[1].received, reverse=True)
    with open("/proc/loadavg") as f:
        loadavg = f.read()
    if args.json:
        rows = [{**TABLES[kv[0].af == socket.AF_INET6].as_dict(kv),
                 "ip": 6 if kv[0].af == socket.AF_INET6 else 4,
                 "rx_bytes": kv[1].received, "tx_bytes": kv[1].sent} for kv in items]
        write_json({"ts": round(time.time(), 6), "loadavg": loadavg.split()[:3], "rows": rows})
        return
    out = ["\n" if args.noclear else CLEAR]
    if not args.nosummary:
        out.append("%-8s loadavg: %s\n" % (time.strftime("%H:%M:%S"), loadavg))
    for v6 in (False, True):
        rows = [kv for kv in items if (kv[0].af == socket.AF_INET6) == v6]
        if rows:
            out.append(("\n" if v6 else "") + TABLES[v6].header_text() + "\n")
            out.extend(TABLES[v6].format(kv) for kv in rows)
    sys.stdout.write("".join(out))
    sys.stdout.flush()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = {**family_constants(args), **pid_constant(args),
                 **container_constants(args)}

    with Tool("tcptop", constants) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        attach(tool)
        status("Tracing... Output every %s secs. Hit Ctrl-C to end" % args.interval, args.json)
        for last in sleep_intervals(args.interval, args.count, args.duration):
            containers.sync()
            report(tool.maps["flows"], args)
            if last:
                break
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
