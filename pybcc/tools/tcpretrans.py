"""tcpretrans: trace TCP retransmits (bcc's columns and flags)."""
import argparse
import ctypes
import socket
import sys
import time

from ..errors import AttachError, LoadError, NotSupportedError
from .lib.runtime import Tool, run_tool, stream_events
from .lib.inet import add_family_args, family_constants, format_addr, wait_for_interrupt

EXAMPLES = """examples:
    ./tcpretrans           # trace TCP retransmits
    ./tcpretrans -l        # include TLP attempts
    ./tcpretrans -4        # trace IPv4 family only
    ./tcpretrans -6        # trace IPv6 family only
"""

TYPES = {1: "R", 2: "L"}
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
          6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
          11: "CLOSING", 12: "NEW_SYN_RECV"}


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace TCP retransmits", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-s", "--sequence", action="store_true", help="display TCP sequence numbers")
    p.add_argument("-l", "--lossprobe", action="store_true",
                   help="include tail loss probe attempts")
    p.add_argument("-c", "--count", action="store_true",
                   help="count occurred retransmits per flow")
    add_family_args(p)
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_uint32), ("seq", ctypes.c_uint32), ("af", ctypes.c_uint16),
                ("lport", ctypes.c_uint16), ("dport", ctypes.c_uint16), ("type", ctypes.c_uint8),
                ("state", ctypes.c_uint8), ("saddr", ctypes.c_uint8 * 16),
                ("daddr", ctypes.c_uint8 * 16)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.ebpf:
        print(open(__file__.replace(".py", ".bpf.c")).read())
        return 0
    constants = {"do_count": args.count}
    constants.update(family_constants(args))

    with Tool("tcpretrans", constants, events=not args.count) as tool:
        tool.attach_first("retransmit_tp", "retransmit_kprobe")
        if args.lossprobe:
            try:
                tool.attach_first("tlp_kprobe", "tlp_fentry")
            except (NotSupportedError, AttachError, LoadError) as e:
                raise NotSupportedError(
                    "tcpretrans -l: tail loss probes have no tracepoint; they need a kprobe or "
                    f"fentry on tcp_send_loss_probe, and this kernel allows neither ({e}). "
                    "Run without -l to see retransmits.") from None
        if args.count:
            wait_for_interrupt("Tracing retransmits ... Hit Ctrl-C to end")
            print("\n%-25s %-25s %-10s" % ("LADDR:LPORT", "RADDR:RPORT", "RETRANSMITS"))
            rows = sorted(tool.maps["counts"].items(), key=lambda kv: kv[1])
            for af in (socket.AF_INET, socket.AF_INET6):
                for k, n in rows:
                    if k.af == af:
                        print("%s %10d" % ("%-20s <-> %-20s" % (
                            "[%s]#%d" % (format_addr(af, k.saddr), k.lport),
                            "[%s]#%d" % (format_addr(af, k.daddr), k.dport)), n))
            return 0

        def on_event(data):
            e = Event.from_buffer_copy(bytes(data[:ctypes.sizeof(Event)]))
            ip = 4 if e.af == socket.AF_INET else 6
            out = "%-8s %-7d %-2d %-20s %1s> %-20s" % (
                time.strftime("%H:%M:%S"), e.pid, ip,
                "%s:%d" % (format_addr(e.af, e.saddr), e.lport), TYPES.get(e.type, "?"),
                "%s:%d" % (format_addr(e.af, e.daddr), e.dport))
            state = STATES.get(e.state, str(e.state))
            out += " %-12s %s" % (state, e.seq) if args.sequence else " %s" % state
            print(out, flush=True)

        tool.open_events(on_event)
        print("Tracing retransmits ... Hit Ctrl-C to end")
        header = "%-8s %-7s %-2s %-20s %1s> %-20s" % ("TIME", "PID", "IP", "LADDR:LPORT", "T",
                                                     "RADDR:RPORT")
        header += " %-12s %-10s" % ("STATE", "SEQ") if args.sequence else " %-4s" % "STATE"
        print(header, flush=True)
        stream_events(tool)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
