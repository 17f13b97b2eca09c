"""ttysnoop: watch the output written to a tty or pts device, e.g. a shell (bcc's flags and output)."""
import os
import sys

from ..output.table import write_json
from .lib.args import add_duration_and_json, add_ebpf, int_between, tool_parser
from .lib.runtime import Tool, fail, run_tool, status, stream_events

EXAMPLES = """examples:
    ./ttysnoop /dev/pts/2          # snoop output from /dev/pts/2
    ./ttysnoop 2                   # snoop output from /dev/pts/2 (shortcut)
    ./ttysnoop /dev/console        # snoop output from the system console
    ./ttysnoop /dev/tty0           # snoop output from /dev/tty0
    ./ttysnoop /dev/pts/2 -s 1024  # snoop output from /dev/pts/2 with data size 1024
    ./ttysnoop /dev/pts/2 -c 2     # snoop output from /dev/pts/2 with 2 checks for 256 bytes of data in buffer
                                     (potentially retrieving 512 bytes)
    ./ttysnoop --json 2            # NDJSON, one object per chunk written (pybcc)

Mechanism: the write() syscall tracepoint, keeping writes whose fd is the
device (a walk from the task to the file). bcc probes tty_write, which also
sees writev() and writes from the kernel (echo of typed input, console
messages); those are not shown here.
"""

MAX_DATASIZE = 8192     # ttysnoop.bpf.c
MAX_DATACOUNT = 1024


def parse_args(argv):
    p = tool_parser("ttysnoop", "Snoop output from a pts or tty device, eg, a shell", EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("device", help="path to a tty device (eg, /dev/tty0) or pts number")
    p.add_argument("-s", "--datasize", default=256,
                   type=int_between(1, MAX_DATASIZE, "data size"),
                   help="size of the transmitting buffer (default 256)")
    p.add_argument("-c", "--datacount", default=16,
                   type=int_between(1, MAX_DATACOUNT, "data count"),
                   help="number of times we check for 'data-size' data (default 16)")
    add_duration_and_json(p)
    add_ebpf(p, "ttysnoop")
    return p.parse_args(argv)


def kernel_dev(st_dev):
    """A stat() device number as the kernel's s_dev encodes it (MKDEV)."""
    return (os.major(st_dev) << 20) | os.minor(st_dev)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    path = args.device if args.device.startswith("/") else "/dev/pts/" + args.device
    try:
        st = os.stat(path)
    except OSError:
        fail("Unable to read device %s. Exiting." % path, code=2)
    constants = {"target_ino": st.st_ino, "target_dev": kernel_dev(st.st_dev),
                 "datasize": args.datasize, "datacount": args.datacount}
    out = sys.stdout

    with Tool("ttysnoop", constants, events=True) as tool:
        tool.attach_first("write_enter", "write_enter_unrolled")   # without bpf_loop()

        def show(data):
            count = int.from_bytes(data[:4], sys.byteorder)
            text = bytes(data[4:4 + count]).decode("utf-8", "replace")
            if args.json:
                write_json({"data": text})
            else:
                out.write(text)

        tool.open_events(show)
        # stdout carries only the device's output: say we are ready on stderr
        status(f"Snooping {path}... Hit Ctrl-C to end.", True)
        if not args.json and not args.noclear:
            out.write("\033[H\033[2J")          # what clear(1) prints
        out.flush()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
