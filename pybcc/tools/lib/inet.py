"""What the TCP tools (tcpconnect, tcplife, tcpretrans, tcpstates, ...) share: addresses as
the BPF side stores them, the -4/-6 and port filters, and their count modes."""
import argparse
import re
# _socket, the C module: socket.py builds enum classes at import (~8 ms)
from _socket import AF_INET, AF_INET6, inet_ntop, inet_pton
import struct
import time

from ...errors import BPFError
from ...output.table import Column, json_key, write_json
from .args import add_duration, add_ebpf, add_json, int_between
from .runtime import status, stream_events, take_interrupts
from .timestamps import SinceFirst, wall_clock

MAX_PORTS = 64      # the size of the BPF side's port arrays

# argparse type: a network namespace, by its inode number (bcc's -N/--netns)
netns_inode = int_between(1, 2 ** 32 - 1, "network namespace")


def format_addr(af, raw):
    """An address from the 16 bytes the BPF side fills (IPv4 in the first 4)."""
    raw = bytes(raw)
    return inet_ntop(af, raw[:4] if af == AF_INET else raw[:16])


# Column getters over an event with af, saddr and daddr
def ip_version(e):
    return 4 if e.af == AF_INET else 6


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
        return {"targ_family": AF_INET}
    if args.ipv6:
        return {"targ_family": AF_INET6}
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
        take_interrupts()
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1 if deadline is None else min(1, max(0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass


def by_family(counts):
    """Count map items (key with af, count) with IPv4 flows first, as bcc lists them."""
    return [kv for af in (AF_INET, AF_INET6) for kv in counts if kv[0].af == af]


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


# The kernel's TCP states, named as bcc's tcp.state2str names them
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING", 12: "NEW_SYN_RECV"}


def tcp_state_name(state):
    return TCP_STATES.get(state, str(state))


def add_port_args(parser):
    """bcc's -L/--localport and -D/--remoteport lists, read back by port_constants."""
    parser.add_argument("-L", "--localport", type=ports,
                        help="comma-separated list of local ports to trace.")
    parser.add_argument("-D", "--remoteport", type=ports,
                        help="comma-separated list of remote ports to trace.")


def port_constants(args):
    """The BPF side's lports/dports lists (pybcc/inet.h port_in_list) for -L/-D."""
    constants = {}
    if args.localport:
        constants.update(n_lports=len(args.localport), lports=ports_constant(args.localport))
    if args.remoteport:
        constants.update(n_dports=len(args.remoteport), dports=ports_constant(args.remoteport))
    return constants


def ip_address(text):
    """argparse type: an IPv4 or IPv6 address, as (family, 16 bytes) for the BPF side."""
    for af in (AF_INET, AF_INET6):
        try:
            raw = inet_pton(af, text)
        except OSError:
            continue
        return af, raw.ljust(16, b"\0")
    raise argparse.ArgumentTypeError(f"not an IPv4 or IPv6 address: {text!r}")


# a printf conversion with the separator after it
_PIECE = re.compile(r"%[-0-9.]*[a-z][^%]*")


def layout_columns(args, layouts, main):
    """The columns of a session tool with bcc's three layouts (tcpstates):
    ``layouts`` maps "default"/"wide"/"csv" to bcc's (value format, header
    format); ``main`` lists (title, getter, json getter) per conversion.
    -T/-t put TIME/TIME(s) in front; the IP column's title is empty in the
    default layout, as bcc prints it."""
    layout = "csv" if args.csv else "wide" if args.wide else "default"
    values, heads = (_PIECE.findall(f) for f in layouts[layout])
    return [
        Column("TIME", "%s," if args.csv else "%-8s ", wall_clock) if args.time else None,
        Column("TIME(s)", "%.6f," if args.csv else "%-9.6f ", SinceFirst("ts_us", 1e6))
        if args.timestamp else None,
    ] + [Column(title, fmt, get, head=head, key=json_key(title or "IP"), json=json)
         for (title, get, json), fmt, head in zip(main, values, heads)]


def ip_column(args):
    """(title, getter, json getter) of bcc's IP column: shown with -w or -s only."""
    show = args.wide or args.csv
    return ("IP" if show else "", lambda e: str(ip_version(e)) if show else "", ip_version)


def pid_constant(args):
    """targ_tgid for -p PID; nothing when every process is traced."""
    return {} if args.pid is None else {"targ_tgid": args.pid}


def stream_table(tool, table, args, banner=None, containers=None, write=None):
    """The event tools' main loop: decode each event of the tool's ``struct
    event`` and give it to ``write`` (default: a table row), after bcc's
    banner and header, until Ctrl-C or --duration; ``containers`` (a
    ContainerSets) is kept in step with the user's pinned maps meanwhile."""
    decode = tool.record("event").decode
    write = write or table.write
    tool.open_events(lambda data: write(decode(data)))
    if banner:
        status(banner, args.json)
    table.print_header()
    should_stop = None
    if containers is not None:
        def should_stop():
            containers.sync()
            return False
    stream_events(tool, args.duration, should_stop)


def attach_accept_exits(tool):
    """The accept4() and accept() syscalls' exits (accept() is accept4() on
    some architectures, which have no sys_exit_accept)."""
    tool.attach("accept_exit")
    try:
        tool.attach("accept_exit", "syscalls/sys_exit_accept")
    except BPFError:
        pass


def add_layout_args(parser):
    """bcc's -T/-t/-w/-s of the session tools (tcplife, tcpstates), read back by
    layout_columns."""
    parser.add_argument("-T", "--time", action="store_true",
                        help="include time column on output (HH:MM:SS)")
    parser.add_argument("-t", "--timestamp", action="store_true",
                        help="include timestamp on output (seconds)")
    parser.add_argument("-w", "--wide", action="store_true",
                        help="wide column output (fits IPv6 addresses)")
    parser.add_argument("-s", "--csv", action="store_true", help="comma separated values output")


def port_range(text):
    """argparse type: bcc's port range "LOW-HIGH" or one port, as (low, high)."""
    try:
        bounds = sorted(int(p) for p in text.split("-"))
    except ValueError:
        bounds = []
    if len(bounds) not in (1, 2) or not all(0 <= p < 65536 for p in bounds):
        raise argparse.ArgumentTypeError(f"a port or a range of ports LOW-HIGH, not {text!r}")
    return bounds[0], bounds[-1]


def parse_tool_args(parser, argv, duration=True, json=True):
    """The flags the networking tools end with (bcc's hidden --ebpf, pybcc's
    --duration and --json, unless the tool has its own), then the parse."""
    add_ebpf(parser, parser.prog.split()[-1])
    if duration:
        add_duration(parser, "stop after this many seconds (pybcc extension)")
    if json:
        add_json(parser)
    return parser.parse_args(argv)


def add_container_args(parser):
    """bcc's --cgroupmap/--mntnsmap (lib/containers.py, pybcc/containers.h)."""
    parser.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    parser.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")


def container_constants(args):
    return {"filter_cgroup": bool(args.cgroupmap), "filter_mntns": bool(args.mntnsmap)}


def connect_columns(args):
    """The process and flow columns of tcpconnect and tcpconnlat, PID to DADDR
    (LPORT with -L)."""
    return [
        Column("PID", "%-7d ", "pid"),
        Column("COMM", "%-12.12s ", "task"),
        Column("IP", "%-2d ", ip_version),
        Column("SADDR", "%-16s ", saddr),
        Column("LPORT", "%-6d ", "lport") if args.lport else None,
        Column("DADDR", "%-16s ", daddr),
    ]
