"""tcpsubnet: summarize TCP bytes sent by destination subnet (bcc's flags and output)."""
import argparse
import socket
import struct
import sys
from datetime import datetime

from ..errors import AttachError, LoadError, NotSupportedError
from .lib.args import positive_int, tool_parser
from .lib.inet import parse_tool_args
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./tcpsubnet                 # Trace TCP sent to the default subnets:
                                # 127.0.0.1/32,10.0.0.0/8,172.16.0.0/12,
                                # 192.168.0.0/16,0.0.0.0/0
    ./tcpsubnet -f K            # Trace TCP sent to the default subnets
                                # aggregated in KBytes.
    ./tcpsubnet 10.80.0.0/24    # Trace TCP sent to 10.80.0.0/24 only
    ./tcpsubnet -J              # Format the output in JSON.

On Linux 6.5+ pybcc counts the bytes each send moved (sock:sock_send_length);
bcc counts the bytes asked of tcp_sendmsg, which pybcc does too on older kernels.
"""

DEFAULT_SUBNETS = "127.0.0.1/32,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,0.0.0.0/0"
MAX_SUBNETS = 64    # tcpsubnet.bpf.c's

# -f: bytes to the unit shown
FORMATS = {"b": lambda x: x * 8, "k": lambda x: x * 8 / 1024, "m": lambda x: x * 8 / 1024 ** 2,
           "B": lambda x: x, "K": lambda x: x / 1024, "M": lambda x: x / 1024 ** 2}


def subnet_list(text):
    """argparse type: bcc's comma-separated IPv4 subnets ADDR/BITS, as
    (text, network, mask) with the numbers in network byte order."""
    subnets = []
    for s in text.split(","):
        addr, _, bits = s.partition("/")
        try:
            net = struct.unpack("=I", socket.inet_aton(addr))[0]
            bits = int(bits)
        except (OSError, ValueError):
            raise argparse.ArgumentTypeError(
                f"subnet [{s}] is invalid: give ADDR/BITS, e.g. 10.80.0.0/24") from None
        if not 0 <= bits <= 32:
            raise argparse.ArgumentTypeError(
                f"invalid mask in subnet [{s}]: must be an int between 0 and 32")
        mask = struct.unpack("=I", struct.pack("!I", ((1 << bits) - 1) << (32 - bits)))[0]
        subnets.append((s, net, mask))
    if len(subnets) > MAX_SUBNETS:
        raise argparse.ArgumentTypeError(f"at most {MAX_SUBNETS} subnets")
    return subnets


def parse_args(argv):
    p = tool_parser("tcpsubnet", "Summarize TCP send and aggregate by subnet", EXAMPLES)
    p.add_argument("subnets", nargs="?", default=subnet_list(DEFAULT_SUBNETS), type=subnet_list,
                   help="comma separated list of subnets")
    p.add_argument("-v", "--verbose", action="store_true", help="output debug statements")
    p.add_argument("-J", "--json", action="store_true", help="format output in JSON")
    p.add_argument("-f", "--format", default="B", choices=list(FORMATS),
                   help="[bkmBKM] format to report: bits, Kbits, Mbits, bytes, "
                        "KBytes, MBytes (default B)")
    p.add_argument("-i", "--interval", default=1, type=positive_int,
                   help="output interval, in seconds (default 1)")
    return parse_tool_args(p, argv, json=False)


def constants_for(subnets):
    pad = [0] * (MAX_SUBNETS - len(subnets))
    return {"n_subnets": len(subnets),
            "nets": struct.pack(f"={MAX_SUBNETS}I", *[s[1] for s in subnets], *pad),
            "masks": struct.pack(f"={MAX_SUBNETS}I", *[s[2] for s in subnets], *pad)}


def attach(tool):
    """The sock tracepoint (6.5+), else bcc's kprobe."""
    try:
        tool.attach_first("send_tp", "send_kprobe")
    except (NotSupportedError, AttachError, LoadError) as e:
        raise NotSupportedError("tcpsubnet needs the sock:sock_send_length tracepoint (Linux 6.5+) or a "
                      f"kprobe on tcp_sendmsg; this kernel has neither ({e})") from None


def report(sent, subnets, show, as_json):
    """One interval: bcc's "[date time]" and a line per subnet, most bytes first,
    or bcc's -J object."""
    now = datetime.now()
    rows = sorted(sent.pop_all(), key=lambda kv: kv[1], reverse=True)
    if as_json:
        return {"date": now.strftime("%x"), "time": now.strftime("%X"),
                "entries": {subnets[k][0]: show(v) for k, v in rows}}
    return now.strftime("[%x %X]\n") + "".join(
        "%-21s %6d\n" % (subnets[k][0], show(v)) for k, v in rows)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.verbose:
        print(f"DEBUG:root:Starting with the following args:\nDEBUG:root:{args}\n"
              "DEBUG:root:Packets are going to be categorized in the following subnets:\n"
              f"DEBUG:root:{[s[0] for s in args.subnets]}", file=sys.stderr)
    with Tool("tcpsubnet", constants_for(args.subnets)) as tool:
        attach(tool)
        if not args.json:
            status("Tracing... Output every %d secs. Hit Ctrl-C to end" % args.interval)
        report_loop(lambda as_json: report(tool.maps["sent"], args.subnets,
                                           FORMATS[args.format], as_json),
                    args.interval, duration=args.duration, json=args.json, blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
