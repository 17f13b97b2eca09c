"""What the TCP tools (tcpconnect, tcplife, tcpretrans) share: addresses as
the BPF side stores them, the -4/-6 and port filters, and the wait of their
count modes."""
import socket
import struct
import time

from .runtime import fail

MAX_PORTS = 64      # the size of the BPF side's port arrays


def format_addr(af, raw):
    """An address from the 16 bytes the BPF side fills (IPv4 in the first 4)."""
    raw = bytes(raw)
    return socket.inet_ntop(af, raw[:4] if af == socket.AF_INET else raw[:16])


def add_family_args(parser):
    """bcc's -4/-6, read back by family_constants."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("-4", "--ipv4", action="store_true", help="trace IPv4 family only")
    g.add_argument("-6", "--ipv6", action="store_true", help="trace IPv6 family only")


def family_constants(args):
    """targ_family for -4 or -6; nothing traces both."""
    if args.ipv4:
        return {"targ_family": socket.AF_INET}
    if args.ipv6:
        return {"targ_family": socket.AF_INET6}
    return {}


def parse_ports(text, tool):
    try:
        ports = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        fail(f"{tool}: ports must be comma-separated numbers, not {text!r}")
    if not ports or len(ports) > MAX_PORTS or not all(0 < p < 65536 for p in ports):
        fail(f"{tool}: give 1 to 64 ports between 1 and 65535")
    return ports


def ports_constant(ports):
    return struct.pack(f"<{MAX_PORTS}H", *(ports + [0] * (MAX_PORTS - len(ports))))


def wait_for_interrupt(banner):
    """Count modes: print the banner, then nothing to read until Ctrl-C."""
    try:
        print(banner, flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
