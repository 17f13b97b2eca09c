"""mdflush: trace md (software RAID) flush requests (bcc's columns)."""
import os
import sys
from time import strftime

from ..errors import BPFError, NotSupportedError
from ..kernel import features
from ..output.table import Column, Table
from .lib.args import add_duration_and_json, tool_parser
from .lib.runtime import Tool, fail, run_tool, status
from .lib.snoop import print_events

EXAMPLES = """examples:
    ./mdflush              # trace md flush requests
    ./mdflush --json       # NDJSON, one object per flush (pybcc)

Source: bcc's kprobe on md_flush_request() where kprobes exist. Without
them, the block:block_bio_queue tracepoint: bios with REQ_PREFLUSH queued to
a disk named md*, the flushes md_flush_request() receives (PID and COMM are
the submitter's, as with the kprobe).
"""
MDSTAT = "/proc/mdstat"

COLUMNS = [
    Column("TIME", "%-8s ", lambda e: strftime("%H:%M:%S")),
    Column("PID", "%-7d ", "pid"),
    Column("COMM", "%-16s ", "comm"),
    Column("DEVICE", "%s", "disk", key="device"),
]


def parse_args(argv):
    p = tool_parser("mdflush", "Trace md flush events", EXAMPLES)
    add_duration_and_json(p, "stop after this many seconds (pybcc)")
    return p.parse_args(argv)


def attach(tool):
    if features.has_kprobes():
        try:
            tool.attach("md_flush_request")
            return
        except BPFError:
            pass        # md built without md_flush_request as a symbol: the tracepoint
    try:
        tool.attach_first("bio_queue_btf", "bio_queue_raw")
    except BPFError as e:
        raise NotSupportedError(f"mdflush needs kprobes or the block:block_bio_queue "
                                f"tracepoint ({e})") from None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.exists(MDSTAT):
        fail("mdflush: this kernel has no md (software RAID) driver loaded: "
             f"{MDSTAT} is missing (modprobe md_mod, or make an array)")
    with Tool("mdflush", events=True) as tool:
        attach(tool)
        status("Tracing md flush requests... Hit Ctrl-C to end.", args.json)
        print_events(tool, Table(COLUMNS, json=args.json), args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
