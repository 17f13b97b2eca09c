"""tcpconnect: trace active TCP connections (bcc's columns and flags)."""
import argparse
import ctypes
import socket
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..kernel import features
from .lib.runtime import Tool, fail, run_tool, stream_events
from .lib.inet import (add_family_args, family_constants, format_addr, parse_ports, ports_constant,
                   wait_for_interrupt)

EXAMPLES = """examples:
    ./tcpconnect           # trace all TCP connect()s
    ./tcpconnect -t        # include timestamps
    ./tcpconnect -d        # include DNS queries associated with connects
    ./tcpconnect -p 181    # only trace PID 181
    ./tcpconnect -P 80     # only trace port 80
    ./tcpconnect -P 80,81  # only trace port 80 and 81
    ./tcpconnect -4        # only trace IPv4 family
    ./tcpconnect -6        # only trace IPv6 family
    ./tcpconnect -U        # include UID
    ./tcpconnect -u 1000   # only trace UID 1000
    ./tcpconnect -c        # count connects per src ip and dest ip/port
    ./tcpconnect -L        # include LPORT while printing outputs
    ./tcpconnect --cgroupmap mappath  # only trace cgroups in this BPF map
    ./tcpconnect --mntnsmap mappath   # only trace mount namespaces in the map
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace TCP connects", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-t", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("-P", "--port", help="comma-separated list of destination ports to trace.")
    add_family_args(p)
    p.add_argument("-L", "--lport", action="store_true", help="include LPORT on output")
    p.add_argument("-U", "--print-uid", action="store_true", help="include UID on output")
    p.add_argument("-u", "--uid", type=int, help="trace this UID only")
    p.add_argument("-c", "--count", action="store_true",
                   help="count connects per src ip and dest ip/port")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    p.add_argument("-d", "--dns", action="store_true",
                   help="include likely DNS query associated with each connect")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("ts_us", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("uid", ctypes.c_uint32),
                ("af", ctypes.c_uint16), ("lport", ctypes.c_uint16), ("dport", ctypes.c_uint16),
                ("pad", ctypes.c_uint16), ("saddr", ctypes.c_uint8 * 16),
                ("daddr", ctypes.c_uint8 * 16), ("task", ctypes.c_char * 16)]


# kprobes where the kernel has them (bcc's way), else the tracepoint pair
MECHANISMS = [["tcp_v4_connect_entry", "tcp_v4_connect_return",
               "tcp_v6_connect_entry", "tcp_v6_connect_return"],
              ["connect_state", "connect_exit"]]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.cgroupmap or args.mntnsmap:
        fail("tcpconnect: --cgroupmap/--mntnsmap are not supported by pybcc yet; "
             "filter with -p PID or -u UID instead")
    if args.dns:
        fail("tcpconnect: -d/--dns is not supported by pybcc (it needs kprobes on "
             "udp_recvmsg and a DNS parser)")
    if args.ebpf:
        print(open(__file__.replace(".py", ".bpf.c")).read())
        return 0
    constants = {"do_count": args.count}
    if args.pid is not None:
        constants["targ_tgid"] = args.pid
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    constants.update(family_constants(args))
    if args.port:
        ports = parse_ports(args.port, "tcpconnect")
        constants["n_ports"] = len(ports)
        constants["ports"] = ports_constant(ports)

    with Tool("tcpconnect", constants, events=not args.count) as tool:
        choices = MECHANISMS if features.has_kprobes() else MECHANISMS[1:]
        attach_pairs(tool, choices)
        if args.count:
            wait_for_interrupt("Tracing connect ... Hit Ctrl-C to end")
            print("\n%-25s %-25s %-20s %-10s" % ("LADDR", "RADDR", "RPORT", "CONNECTS"))
            rows = sorted(tool.maps["counts"].items(), key=lambda kv: -kv[1])
            for af in (socket.AF_INET, socket.AF_INET6):
                for key, n in rows:
                    if key.af == af:
                        print("%s %-10d" % ("%-25s %-25s %-20s" % (
                            format_addr(af, key.saddr), format_addr(af, key.daddr), key.dport), n))
            return 0

        print("Tracing connect ... Hit Ctrl-C to end", flush=True)
        start_ts = [0]

        def on_event(data):
            e = Event.from_buffer_copy(bytes(data[:ctypes.sizeof(Event)]))
            out = ""
            if args.timestamp:
                if start_ts[0] == 0:
                    start_ts[0] = e.ts_us
                out += "%-9.3f" % ((e.ts_us - start_ts[0]) / 1000000)
            if args.print_uid:
                out += "%-6d" % e.uid
            ip = 4 if e.af == socket.AF_INET else 6
            comm = e.task.decode(errors="replace")
            saddr, daddr = format_addr(e.af, bytes(e.saddr)), format_addr(e.af, bytes(e.daddr))
            if args.lport:
                out += "%-7d %-12.12s %-2d %-16s %-6d %-16s %-6d " % (
                    e.pid, comm, ip, saddr, e.lport, daddr, e.dport)
            else:
                out += "%-7d %-12.12s %-2d %-16s %-16s %-6d " % (
                    e.pid, comm, ip, saddr, daddr, e.dport)
            print(out, flush=True)

        tool.open_events(on_event)
        header = ""
        if args.timestamp:
            header += "%-9s" % "TIME(s)"
        if args.print_uid:
            header += "%-6s" % "UID"
        if args.lport:
            header += "%-7s %-12s %-2s %-16s %-6s %-16s %-6s" % (
                "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR", "DPORT")
        else:
            header += "%-7s %-12s %-2s %-16s %-16s %-6s" % (
                "PID", "COMM", "IP", "SADDR", "DADDR", "DPORT")
        print(header, flush=True)
        stream_events(tool)
    return 0


def attach_pairs(tool, choices):
    """Attach the first set of programs that all attach (kprobes, then
    tracepoints); a partly attached set is undone before the next try."""
    first_error = None
    for programs in choices:
        done = len(tool.links)
        try:
            for prog in programs:
                tool.attach(prog)
            return programs
        except (NotSupportedError, AttachError, LoadError) as e:
            first_error = first_error or e
            for link in tool.links[done:]:
                link.close()
            del tool.links[done:], tool.mechanisms[done:]
    raise first_error


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
