"""tcplife: TCP sessions with their lifespan and throughput (bcc's columns and flags)."""
import argparse
import ctypes
import socket
import sys
import time

from .lib.runtime import Tool, run_tool, stream_events
from .lib.inet import add_family_args, family_constants, format_addr, parse_ports, ports_constant

EXAMPLES = """examples:
    ./tcplife           # trace all TCP connect()s
    ./tcplife -T        # include time column (HH:MM:SS)
    ./tcplife -w        # wider columns (fit IPv6)
    ./tcplife -stT      # csv output, with times & timestamps
    ./tcplife -p 181    # only trace PID 181
    ./tcplife -L 80     # only trace local port 80
    ./tcplife -L 80,81  # only trace local ports 80 and 81
    ./tcplife -D 80     # only trace remote port 80
    ./tcplife -4        # only trace IPv4 family
    ./tcplife -6        # only trace IPv6 family
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace the lifespan of TCP sessions and summarize",
                                epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-T", "--time", action="store_true",
                   help="include time column on output (HH:MM:SS)")
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="include timestamp on output (seconds)")
    p.add_argument("-w", "--wide", action="store_true",
                   help="wide column output (fits IPv6 addresses)")
    p.add_argument("-s", "--csv", action="store_true", help="comma separated values output")
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("-L", "--localport", help="comma-separated list of local ports to trace.")
    p.add_argument("-D", "--remoteport", help="comma-separated list of remote ports to trace.")
    add_family_args(p)
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("ts_us", ctypes.c_uint64), ("span_us", ctypes.c_uint64),
                ("rx_b", ctypes.c_uint64), ("tx_b", ctypes.c_uint64),
                ("pid", ctypes.c_uint32), ("af", ctypes.c_uint16), ("lport", ctypes.c_uint16),
                ("dport", ctypes.c_uint16), ("pad", ctypes.c_uint16 * 3),
                ("saddr", ctypes.c_uint8 * 16), ("daddr", ctypes.c_uint8 * 16),
                ("task", ctypes.c_char * 16)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        print(open(__file__.replace(".py", ".bpf.c")).read())
        return 0
    constants = {}
    if args.pid is not None:
        constants["targ_tgid"] = args.pid
    constants.update(family_constants(args))
    if args.localport:
        ports = parse_ports(args.localport, "tcplife")
        constants.update(n_lports=len(ports), lports=ports_constant(ports))
    if args.remoteport:
        ports = parse_ports(args.remoteport, "tcplife")
        constants.update(n_dports=len(ports), dports=ports_constant(ports))

    # bcc's layouts: the default fits 80 columns
    header_fmt = "%-5s %-10.10s %s%-15s %-5s %-15s %-5s %5s %5s %s"
    line_fmt = "%-5d %-10.10s %s%-15s %-5d %-15s %-5d %5d %5d %.2f"
    if args.wide:
        header_fmt = "%-5s %-16.16s %-2s %-26s %-5s %-26s %-5s %6s %6s %s"
        line_fmt = "%-5d %-16.16s %-2s %-26s %-5s %-26s %-5d %6d %6d %.2f"
    if args.csv:
        header_fmt = "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s"
        line_fmt = "%d,%s,%s,%s,%s,%s,%d,%d,%d,%.2f"
    show_ip = args.wide or args.csv
    start_ts = [0]

    with Tool("tcplife", constants, events=True) as tool:
        tool.attach("set_state")

        def on_event(data):
            e = Event.from_buffer_copy(bytes(data[:ctypes.sizeof(Event)]))
            out = ""
            if args.time:
                out += ("%s," if args.csv else "%-8s ") % time.strftime("%H:%M:%S")
            if args.timestamp:
                if start_ts[0] == 0:
                    start_ts[0] = e.ts_us
                delta = (e.ts_us - start_ts[0]) / 1000000
                out += ("%.6f," if args.csv else "%-9.6f ") % delta
            ip = "4" if e.af == socket.AF_INET else "6"
            out += line_fmt % (e.pid, e.task.decode("utf-8", "replace"), ip if show_ip else "",
                               format_addr(e.af, e.saddr), e.lport, format_addr(e.af, e.daddr),
                               e.dport, e.tx_b // 1024, e.rx_b // 1024, e.span_us / 1000)
            print(out, flush=True)

        tool.open_events(on_event)
        header = ""
        if args.time:
            header += "%s," % "TIME" if args.csv else "%-8s " % "TIME"
        if args.timestamp:
            header += "%s," % "TIME(s)" if args.csv else "%-9s " % "TIME(s)"
        print(header + header_fmt % ("PID", "COMM", "IP" if show_ip else "", "LADDR", "LPORT",
                                     "RADDR", "RPORT", "TX_KB", "RX_KB", "MS"), flush=True)
        stream_events(tool)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
