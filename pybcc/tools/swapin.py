"""swapin: count swap-ins by process (bcc's output)."""
import os
import sys
from time import strftime

from ..errors import BPFError, NotSupportedError
from ..kernel import features
from ..output.table import Column, Table
from .lib.args import add_interval_count, add_json, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status

EXAMPLES = """examples:
    ./swapin               # count swap-ins by process, each second
    ./swapin -T 5 3        # 5 second summaries, 3 times, no timestamps
    ./swapin --json 1 5    # NDJSON, one object per interval (pybcc)

Source: bcc's kprobe on swap_readpage()/swap_read_folio() where kprobes exist.
Without them, the block:block_bio_queue tracepoint: read bios to the swap
partitions and devices of /proc/swaps, one per folio read. Swap-ins that zswap
serves from memory and those from swap files are not seen there.
"""
FUNCTIONS = ("swap_readpage", "swap_read_folio")

TABLE = Table([
    Column("COMM", "%-16s ", lambda r: r[0].comm),
    Column("PID", "%-7d ", lambda r: r[0].pid),
    Column("COUNT", "%d", lambda r: r[1]),
])


def parse_args(argv):
    p = tool_parser("swapin", "Count swapin events by process.", EXAMPLES)
    p.add_argument("-T", "--notime", action="store_true",
                   help="do not show the timestamp (HH:MM:SS)")
    add_interval_count(p, interval=1)
    add_json(p)
    return p.parse_args(argv)


def swap_devices():
    """The kernel's dev_t (major << 20 | minor) of each swap partition or device."""
    devs = set()
    with open("/proc/swaps") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if len(fields) > 1 and fields[1] == "partition":
                try:
                    rdev = os.stat(fields[0].replace("\\040", " ")).st_rdev
                except OSError:
                    continue
                devs.add(os.major(rdev) << 20 | os.minor(rdev))
    return devs


def sync_swap_devices(devs_map):
    """swap_devs as /proc/swaps has them now (swapon/swapoff may come later)."""
    want = swap_devices()
    have = set(devs_map.keys())
    for dev in have - want:
        del devs_map[dev]
    for dev in want - have:
        devs_map[dev] = 1


def attach(tool):
    """bcc's kprobe, else the tracepoint; returns whether the tracepoint is used."""
    if features.has_kprobes():
        try:
            tool.attach_first(*[("swap_read_kprobe", f) for f in FUNCTIONS])
            return False
        except BPFError:
            pass    # inlined: the tracepoint still sees the reads
    try:
        tool.attach_first("bio_queue_btf", "bio_queue_raw")
    except BPFError as e:
        raise NotSupportedError("swapin needs kprobes on swap_readpage()/swap_read_folio() "
                                f"or the block:block_bio_queue tracepoint ({e})") from None
    return True


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def report(json):
        if by_device:
            sync_swap_devices(tool.maps["swap_devs"])
        rows = sorted(tool.maps["counts"].pop_all(), key=lambda r: r[1])
        if json:
            return {"rows": [TABLE.as_dict(r) for r in rows]}
        head = "" if args.notime else strftime("%H:%M:%S") + "\n"
        return head + TABLE.header_text() + "\n" + "".join(TABLE.text(r) + "\n" for r in rows) \
            + "\n"

    with Tool("swapin") as tool:
        by_device = attach(tool)
        if by_device:
            sync_swap_devices(tool.maps["swap_devs"])
        status("Counting swap ins. Ctrl-C to end.", args.json)
        report_loop(report, args.interval, args.count, None, args.json, blank_line=False)
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
