"""Parse /proc/PID/maps and say where a process's file-backed mappings come from.

A line: "start-end perms offset dev inode   path". The path is as the process
sees it; to open it from outside a container we go through /proc/PID/root,
and for files deleted since they were mapped through /proc/PID/map_files.
"""
import os
from collections import namedtuple

Mapping = namedtuple("Mapping", "start end perms offset dev inode path deleted")

DELETED = " (deleted)"


def parse_line(line):
    """The Mapping of one line of a maps file, or None when it is not one."""
    parts = line.split(None, 5)
    if len(parts) < 5:
        return None
    start, _, end = parts[0].partition("-")
    path = parts[5] if len(parts) > 5 else ""
    deleted = path.endswith(DELETED)
    if deleted:
        path = path[:-len(DELETED)]
    return Mapping(int(start, 16), int(end, 16), parts[1], int(parts[2], 16),
                   parts[3], int(parts[4]), path, deleted)


def parse_maps(text):
    """Mappings from the text of a maps file (all of them, in address order)."""
    return [m for m in map(parse_line, text.splitlines()) if m is not None]


class LazyMaps:
    """The mappings of a maps file, in address order, each line parsed when
    it is first asked for: a stack tool's report reads the maps of every
    process it saw (hundreds of lines each) to name a few addresses."""

    def __init__(self, text):
        self._lines = [line for line in text.splitlines() if "-" in line]
        self.starts = [int(line[:line.index("-")], 16) for line in self._lines]
        self._parsed = {}

    def __len__(self):
        return len(self._lines)

    def __getitem__(self, i):
        """The Mapping of line ``i``, or None when that line is not one."""
        if i not in self._parsed:
            self._parsed[i] = parse_line(self._lines[i])
        return self._parsed[i]

    def __iter__(self):
        return (m for m in map(self.__getitem__, range(len(self))) if m is not None)


def _maps_text(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            return f.read()
    except FileNotFoundError:
        raise ProcessLookupError(f"no process {pid}") from None


def read_maps(pid):
    """Mappings of a live process; raises ProcessLookupError when it has gone."""
    return parse_maps(_maps_text(pid))


def read_maps_lazily(pid):
    """read_maps as a LazyMaps."""
    return LazyMaps(_maps_text(pid))


def is_file_backed(m):
    """True for mappings of real files ("[vdso]", "[heap]", anon and memfd are not)."""
    return m.path.startswith("/") and m.inode != 0


def open_path(pid, m):
    """A path through which we can read the file behind mapping ``m`` of ``pid``.

    /proc/PID/root resolves the process's own mount namespace (containers);
    map_files (root only) still reaches the inode after the file was deleted
    or replaced. Falls back to the plain path.
    """
    if pid is None:
        return m.path
    if m.deleted:
        mf = f"/proc/{pid}/map_files/{m.start:x}-{m.end:x}"
        if os.path.exists(mf):
            return mf
    rooted = f"/proc/{pid}/root{m.path}"
    if os.path.exists(rooted):
        return rooted
    return m.path


def read_memory(pid, start, size):
    """Bytes of a process's memory (for the vdso image), or None."""
    try:
        with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
            f.seek(start)
            return f.read(size)
    except (OSError, OverflowError, ValueError):
        return None


def ns_pid(pid):
    """The pid as the process sees it in its own pid namespace (for /tmp/perf-PID.map)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return pid
