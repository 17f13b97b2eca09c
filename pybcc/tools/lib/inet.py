"""What the TCP tools (tcpconnect, tcplife, tcpretrans) share: addresses as
the BPF side stores them, the -4/-6 and port filters, and their count modes."""
import argparse
import socket
import struct
import time

from ...output.table import write_json
from .runtime import status

MAX_PORTS = 64      # the size of the BPF side's port arrays


def format_addr(af, raw):
    """An address from the 16 bytes the BPF side fills (IPv4 in the first 4)."""
    raw = bytes(raw)
    return socket.inet_ntop(af, raw[:4] if af == socket.AF_INET else raw[:16])


# Column getters over an event with af, saddr and daddr
def ip_version(e):
    return 4 if e.af == socket.AF_INET else 6


def saddr(e):
    return format_addr(e.af, e.saddr)


def daddr(e):
    return format_addr(e.af, e.daddr)


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


def ports(text):
    """argparse type: bcc's comma-separated list of ports."""
    try:
        values = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"ports must be comma-separated numbers, not {text!r}") from None
    if not values or len(values) > MAX_PORTS or not all(0 < p < 65536 for p in values):
        raise argparse.ArgumentTypeError(f"give 1 to {MAX_PORTS} ports between 1 and 65535")
    return values


def ports_constant(values):
    return struct.pack(f"<{MAX_PORTS}H", *(values + [0] * (MAX_PORTS - len(values))))


def wait_for_interrupt(banner, json=False, duration=None):
    """Count modes: print the banner, then nothing to read until Ctrl-C
    (or ``duration`` seconds)."""
    deadline = time.monotonic() + duration if duration else None
    try:
        status(banner, json)
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1 if deadline is None else min(1, max(0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass


def by_family(counts):
    """Count map items (key with af, count) with IPv4 flows first, as bcc lists them."""
    return [kv for af in (socket.AF_INET, socket.AF_INET6) for kv in counts if kv[0].af == af]


def write_counts(table, rows):
    """A count mode's table: bcc's text after a blank line, or with --json
    one object {"rows": [...]}."""
    if table.json:
        write_json({"rows": [table.as_dict(r) for r in rows]})
        return
    print()
    table.print_header()
    for r in rows:
        table.write(r)
