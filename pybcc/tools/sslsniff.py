"""sslsniff: sniff the plain text of OpenSSL, GnuTLS and NSS reads and writes
(bcc's columns and flags)."""
import argparse
import os
import sys

from ..errors import BPFError
from ..output.table import Column, Table, write_json
from ..symbols import elfsyms
from ..symbols.libpath import find_library
from ..symbols.procmaps import read_maps
from .lib.args import add_duration_and_json, add_ebpf, int_between, pid, tool_parser, uid
from .lib.runtime import Tool, fail, run_tool, stream_events
from .lib.snoop import set_constants
from .lib.timestamps import SinceFirst

EXAMPLES = """examples:
    ./sslsniff              # sniff OpenSSL and GnuTLS functions
    ./sslsniff -p 181       # sniff PID 181 only
    ./sslsniff -u 1000      # sniff only UID 1000
    ./sslsniff -c curl      # sniff curl command only
    ./sslsniff --no-openssl # don't show OpenSSL calls
    ./sslsniff --no-gnutls  # don't show GnuTLS calls
    ./sslsniff --no-nss     # don't show NSS calls
    ./sslsniff --hexdump    # show data as hex instead of trying to decode it as UTF-8
    ./sslsniff -x           # show process UID and TID
    ./sslsniff -l           # show function latency
    ./sslsniff -l --handshake  # show SSL handshake latency
    ./sslsniff --extra-lib openssl:/path/libssl.so.1.1 # sniff extra library
"""

MAX_BUFFER = 16384     # BUF_CAP of sslsniff.bpf.c


class Library:
    """One TLS library: its short name, and (function, entry program, exit
    program) for each function probed; the handshake only with --handshake."""

    def __init__(self, title, short_name, functions, handshake=None):
        self.title, self.short_name = title, short_name
        self.functions, self.handshake = functions, handshake or []


LIBRARIES = {
    "openssl": Library("OpenSSL", "ssl", [
        ("SSL_write", "rw_enter", "write_exit"),
        ("SSL_read", "rw_enter", "read_exit"),
        # OpenSSL 1.1.1+; what Python's ssl module and many newer programs call
        ("SSL_write_ex", "rw_ex_enter", "write_exit"),
        ("SSL_read_ex", "rw_ex_enter", "read_exit"),
    ], handshake=[("SSL_do_handshake", "handshake_enter", "handshake_exit")]),
    "gnutls": Library("GnuTLS", "gnutls", [
        ("gnutls_record_send", "rw_long_enter", "write_exit"),
        ("gnutls_record_recv", "rw_long_enter", "read_exit"),
    ]),
    # NSS reads and writes go through NSPR's I/O layer
    "nss": Library("NSS", "nspr4", [
        ("PR_Write", "rw_enter", "write_exit"),
        ("PR_Send", "rw_enter", "write_exit"),
        ("PR_Read", "rw_enter", "read_exit"),
        ("PR_Recv", "rw_enter", "read_exit"),
    ]),
}
# functions older library versions lack: skipped quietly when absent
OPTIONAL = {"SSL_write_ex", "SSL_read_ex"}

RW_NAMES = {0: "READ/RECV", 1: "WRITE/SEND", 2: "HANDSHAKE"}


def extra_lib(text):
    """--extra-lib TYPE:PATH."""
    lib_type, sep, path = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"Invalid SSL library param: {text!r}")
    if lib_type not in LIBRARIES:
        raise argparse.ArgumentTypeError(f"Invalid SSL library type: {lib_type!r}")
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"Invalid library path: {path!r}")
    return lib_type, path


def parse_args(argv):
    p = tool_parser("sslsniff", "Sniff SSL data", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="sniff this PID only.")
    p.add_argument("-u", "--uid", type=uid, default=None, help="sniff this UID only.")
    p.add_argument("-x", "--extra", action="store_true", help="show extra fields (UID, TID)")
    p.add_argument("-c", "--comm", help="sniff only commands matching string "
                   "(the whole name, of at most 15 characters as the kernel keeps it).")
    p.add_argument("-o", "--no-openssl", action="store_false", dest="openssl",
                   help="do not show OpenSSL calls.")
    p.add_argument("-g", "--no-gnutls", action="store_false", dest="gnutls",
                   help="do not show GnuTLS calls.")
    p.add_argument("-n", "--no-nss", action="store_false", dest="nss",
                   help="do not show NSS calls.")
    p.add_argument("-d", "--debug", action="count", default=0,
                   help="debug mode: print the BPF program and what attached.")
    add_ebpf(p, "sslsniff")
    p.add_argument("--hexdump", action="store_true",
                   help="show data as hexdump instead of trying to decode it as UTF-8")
    p.add_argument("--max-buffer-size", type=int_between(1, MAX_BUFFER, "buffer size"),
                   default=8192, help=f"Size of captured buffer (at most {MAX_BUFFER})")
    p.add_argument("-l", "--latency", action="store_true", help="show function latency")
    p.add_argument("--handshake", action="store_true",
                   help="show SSL handshake latency (turns on -l; bcc ignores it without -l)")
    p.add_argument("--extra-lib", type=extra_lib, action="append",
                   help="Intercept calls from extra library (format: lib_type:lib_path)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    args = p.parse_args(argv)
    args.latency = args.latency or args.handshake
    return args


def columns(args):
    since = SinceFirst("timestamp_ns", 1e9)
    lat = lambda e: "%.3f" % (e.delta_ns / 1e6) if e.delta_ns else "N/A"   # noqa: E731
    return [
        Column("FUNC", "%-12s ", lambda e: RW_NAMES.get(e.rw, "?")),
        Column("TIME(s)", "%-18.9f ", since, key="time_s"),
        Column("COMM", "%-16s ", "comm"),
        Column("PID", "%-7d ", "pid"),
        Column("LEN", "%-6d", "len", head="%-7s"),
        Column("UID", " %-7d", "uid") if args.extra else None,
        Column("TID", " %-7d", "tid") if args.extra else None,
        Column("LAT(ms)", " %-7s", lat, key="lat_ms",
               json=lambda e: e.delta_ns / 1e6) if args.latency else None,
    ]


class Printer:
    """One event: bcc's line, then the data between DATA marks (or one JSON
    object with the data as text, or hex with --hexdump)."""

    def __init__(self, tool, args):
        self.table = Table(columns(args), json=args.json)
        self.record = tool.record("event", tail="buf")
        self.max_buffer = args.max_buffer_size
        self.hexdump, self.json = args.hexdump, args.json

    def __call__(self, data):
        e = self.record.decode(data)
        buf = bytes(data[self.record.size:]) if e.buf_filled else b""
        buf = buf[:min(e.len, self.max_buffer)]
        if self.hexdump:   # bcc's 32 characters a line; one string in JSON
            text = buf.hex()
            if not self.json:   # (what textwrap.fill(text, 32) makes of one long word)
                text = "\n".join(text[i:i + 32] for i in range(0, len(text), 32))
        else:
            text = buf.decode("utf-8", "replace")
        lost = e.len - len(buf) if e.buf_filled else 0
        if self.json:
            write_json({**self.table.as_dict(e), "data": text, "truncated": lost})
            return
        out = self.table.text(e) + "\n"
        if buf:
            end = (f"----- END DATA (TRUNCATED, {lost} bytes lost) -----" if lost > 0
                   else "----- END DATA -----")
            out += f"----- DATA -----\n{text}\n{end}\n\n\n"
        sys.stdout.write(out)


def attach_library(tool, lib, path, args):
    """Probe the functions ``path`` has; returns how many attached."""
    functions = lib.functions + (lib.handshake if args.handshake else [])
    attached = 0
    for func, enter, leave in functions:
        if tool.attach_uprobe(enter, path, func, pid=args.pid):
            tool.attach_uprobe(leave, path, func, retprobe=True, pid=args.pid)
            attached += 1
        elif func not in OPTIONAL:
            print(f"sslsniff: {lib.title}: {path} has no {func}", file=sys.stderr)
    return attached


def library_of(lib, pid):
    """The library's file. With a pid: the one that process maps, else its
    own executable when the library is linked into it, else the system's
    (the process may load it later: a uprobe covers later mappings too)."""
    path = find_library(lib.short_name, pid)
    if not pid:
        return path
    try:
        inode = os.stat(path).st_ino if path else None
        if inode and any(m.inode == inode for m in read_maps(pid)):
            return path
    except OSError:
        pass
    return linked_into(lib, pid) or path


def linked_into(lib, pid):
    """The executable of ``pid`` when the library is linked into it
    (statically linked OpenSSL, as in some builds of node or nginx), else None."""
    exe = f"/proc/{pid}/exe"
    try:
        return exe if elfsyms.find(exe, lib.functions[0][0]) else None
    except (OSError, BPFError):
        return None


def libraries(args):
    """(Library, path) to trace, and a note for each wanted library not found."""
    chosen, notes = [], []
    for name in ("openssl", "gnutls", "nss"):
        if not getattr(args, name):
            continue
        lib = LIBRARIES[name]
        path = library_of(lib, args.pid)
        if path:
            chosen.append((lib, path))
        else:
            where = f" in PID {args.pid}" if args.pid else ""
            notes.append(f"sslsniff: {lib.title} (lib{lib.short_name}) not found{where}; "
                         f"not tracing it")
    for lib_type, path in args.extra_lib or ():
        chosen.append((LIBRARIES[lib_type], path))
    # the same file twice would show each call twice
    unique = {(lib.title, os.path.realpath(path)): (lib, path) for lib, path in chosen}
    return list(unique.values()), notes


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.debug:
        with open(__file__.replace(".py", ".bpf.c")) as f:
            print(f.read())
        os.environ["PYBCC_DEBUG"] = "1"     # Tool.attach_uprobe names each probe
    chosen, notes = libraries(args)
    for note in notes:
        print(note, file=sys.stderr)
    constants = set_constants(max_buf=args.max_buffer_size, targ_pid=args.pid,
                              targ_comm=(args.comm or "").encode()[:15])
    if args.uid is not None:
        constants["targ_uid"] = args.uid

    with Tool("sslsniff", constants, events=True) as tool:
        attached = sum(attach_library(tool, lib, path, args) for lib, path in chosen)
        if not attached:
            fail("sslsniff: no TLS library function to trace" +
                 (f" in PID {args.pid}" if args.pid else "") +
                 " (give one with --extra-lib TYPE:PATH)")
        printer = Printer(tool, args)
        tool.open_events(printer)
        printer.table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
