"""opensnoop: trace open(), openat() and openat2() (bcc's columns and flags)."""
import argparse
import ctypes
import os
import struct
import sys
import time

from ..errors import BPFError
from .lib.runtime import Tool, fail, stream_events

EXAMPLES = """examples:
    ./opensnoop                        # trace all open() syscalls
    ./opensnoop -T                     # include timestamps
    ./opensnoop -U                     # include UID
    ./opensnoop -x                     # only show failed opens
    ./opensnoop -p 181                 # only trace PID 181
    ./opensnoop -t 123                 # only trace TID 123
    ./opensnoop -u 1000                # only trace UID 1000
    ./opensnoop -d 10                  # trace for 10 seconds only
    ./opensnoop -n main                # only print process names containing "main"
    ./opensnoop -e                     # show extended fields
    ./opensnoop -f O_WRONLY -f O_RDWR  # only print calls for writing
    ./opensnoop -F                     # show full path for an open file with relative path
    ./opensnoop --cgroupmap mappath    # only trace cgroups in this BPF map
    ./opensnoop --mntnsmap mappath     # only trace mount namespaces in the map
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trace open() syscalls", epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-U", "--print-uid", action="store_true", help="print UID column")
    p.add_argument("-x", "--failed", action="store_true", help="only show failed opens")
    p.add_argument("-p", "--pid", type=int, help="trace this PID only")
    p.add_argument("-t", "--tid", type=int, help="trace this TID only")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    p.add_argument("-u", "--uid", type=int, help="trace this UID only")
    p.add_argument("-d", "--duration", type=float, help="total duration of trace in seconds")
    p.add_argument("-n", "--name", help="only print process names containing this name")
    p.add_argument("-e", "--extended_fields", action="store_true", help="show extended fields")
    p.add_argument("-f", "--flag_filter", action="append",
                   help="filter on flags argument (e.g., O_WRONLY)")
    p.add_argument("-F", "--full-path", action="store_true",
                   help="show full path for an open file with relative path")
    p.add_argument("-b", "--buffer-pages", type=int,
                   help="size of the perf ring buffer (must be a power of two number of "
                        "pages and defaults to 64); given, events use a perf buffer of "
                        "this size instead of the 1 MiB ring buffer")
    return p.parse_args(argv)


class Event(ctypes.Structure):
    _fields_ = [("ts_us", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("tid", ctypes.c_uint32),
                ("uid", ctypes.c_uint32), ("ret", ctypes.c_int32), ("flags", ctypes.c_int32),
                ("dir_size", ctypes.c_uint32), ("comm", ctypes.c_char * 16),
                ("name", ctypes.c_char * 256)]


HEADER_SIZE = ctypes.sizeof(Event)
# The same layout for the per-event path: struct beats ctypes' from_buffer_copy.
EVENT = struct.Struct("<QIIIiiI16s256s")
assert EVENT.size == HEADER_SIZE


class ContainerSets:
    """Mirror bcc's --cgroupmap/--mntnsmap pinned hash maps (keys: cgroup
    ids, mount namespace inode numbers) into the tool's own sets, re-read
    every second so changes to the pinned map take effect."""

    def __init__(self, tool, cgroupmap, mntnsmap):
        from ..maps.map import Map
        self.pairs = []
        for path, name in ((cgroupmap, "cgroup_set"), (mntnsmap, "mntns_set")):
            if path:
                self.pairs.append((Map.from_pinned(path), tool.maps[name]))
        self.next_sync = 0

    @staticmethod
    def _key(k):
        if isinstance(k, (bytes, bytearray)):
            return int.from_bytes(bytes(k)[:8], sys.byteorder)
        return int(k)

    def sync(self):
        if not self.pairs or time.monotonic() < self.next_sync:
            return
        self.next_sync = time.monotonic() + 1
        for source, ours in self.pairs:
            wanted = {self._key(k) for k in source.keys()}
            for k in [k for k in ours.keys() if k not in wanted]:
                del ours[k]
            for k in wanted:
                ours[k] = 1


def flag_mask(names):
    mask = 0
    for flag in names or []:
        if not flag.startswith("O_") or not hasattr(os, flag):
            fail(f"Bad flag: {flag}")
        mask |= getattr(os, flag)
    return mask


def join_path(name, dir_bytes):
    """The directory components come leaf first, NUL separated."""
    parts = [p for p in dir_bytes.split(b"\0") if p]
    parts.reverse()
    return b"/" + b"/".join(parts + [name]) if parts else b"/" + name


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.buffer_pages is not None and (args.buffer_pages <= 0 or
                                          args.buffer_pages & (args.buffer_pages - 1)):
        fail("-b/--buffer-pages must be a power of two")
    constants = {"failed_only": args.failed, "full_path": args.full_path,
                 "flags_mask": flag_mask(args.flag_filter),
                 "filter_cgroup": bool(args.cgroupmap), "filter_mntns": bool(args.mntnsmap)}
    if args.tid is not None:          # TID trumps PID
        constants["targ_tid"] = args.tid
    elif args.pid is not None:
        constants["targ_pid"] = args.pid
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    name_filter = args.name.encode() if args.name else None
    # -b asks for a perf buffer of that many pages; otherwise a ring buffer.
    use_perf = args.buffer_pages is not None
    initial_ts = 0

    with Tool("opensnoop", constants, events=not use_perf) as tool:
        containers = ContainerSets(tool, args.cgroupmap, args.mntnsmap)
        containers.sync()
        # open() does not exist on every architecture; openat2 is Linux 5.6.
        for sc, required in (("openat", True), ("open", False), ("openat2", False)):
            try:
                tool.attach(f"{sc}_enter")
                tool.attach(f"{sc}_exit")
            except BPFError:
                if required:
                    raise

        unpack = EVENT.unpack_from
        lines = []
        add = lines.append
        show_tid = args.tid is not None
        plain = not (args.timestamp or args.print_uid or args.extended_fields or args.full_path)

        def on_event(data):
            nonlocal initial_ts
            ts_us, pid, tid, uid, ret, flags, dir_size, comm, name = unpack(data)
            comm = comm.partition(b"\0")[0]
            if name_filter and name_filter not in comm:
                return
            fd, err = (ret, 0) if ret >= 0 else (-1, -ret)
            name = name.partition(b"\0")[0]
            if plain:
                add(b"%-6d %-16s %4d %3d %s\n" % (tid if show_tid else pid, comm, fd, err, name))
                return
            if not initial_ts:
                initial_ts = ts_us
            out = b""
            if args.timestamp:
                out += b"%-14.9f" % ((ts_us - initial_ts) / 1000000)
            if args.print_uid:
                out += b"%-6d" % uid
            out += b"%-6d %-16s %4d %3d " % (tid if show_tid else pid, comm, fd, err)
            if args.extended_fields:
                out += b"%08o " % (flags & 0xffffffff)
            if args.full_path and dir_size:
                name = join_path(name, bytes(data[HEADER_SIZE:HEADER_SIZE + dir_size]))
            add(out + name + b"\n")

        def write_batch():
            # one decode and one write per drained batch, not per event
            if lines:
                text = b"".join(lines).decode(errors="replace")
                lines.clear()
                sys.stdout.write(text)

        tool.open_events(on_event, page_cnt=args.buffer_pages or 64)
        header = ""
        if args.timestamp:
            header += "%-14s" % "TIME(s)"
        if args.print_uid:
            header += "%-6s" % "UID"
        header += "%-6s %-16s %4s %3s " % ("TID" if args.tid is not None else "PID",
                                          "COMM", "FD", "ERR")
        if args.extended_fields:
            header += "%-9s" % "FLAGS"
        print(header + "PATH", flush=True)

        def should_stop():
            containers.sync()
            return False
        stream_events(tool, args.duration, should_stop, on_batch=write_batch)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
