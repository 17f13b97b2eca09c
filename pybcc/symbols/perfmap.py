"""JIT symbol files: /tmp/perf-PID.map, written by node, the JVM agent, LuaJIT, ...

Each line is "START SIZE name" with START and SIZE in hex (with or without 0x).
Later lines win: a JIT reuses address ranges for newly compiled code.
"""
import bisect
import os

from .procmaps import ns_pid


def perf_map_path(pid):
    """Where the perf map of ``pid`` lives, seen from here (inside its /tmp)."""
    inner = f"/tmp/perf-{ns_pid(pid)}.map"
    rooted = f"/proc/{pid}/root{inner}"
    if os.path.exists(rooted):
        return rooted
    return f"/tmp/perf-{pid}.map"


class PerfMap:
    def __init__(self, path):
        self.path = path
        self.mtime = None
        self._starts, self._ends, self._names = [], [], []
        self.reload()

    def reload(self):
        """Reread if the file changed since last time; return whether it exists."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        if st.st_mtime_ns == self.mtime:
            return True
        entries = {}
        with open(self.path, errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) < 3:
                    continue
                try:
                    start, size = int(parts[0], 16), int(parts[1], 16)
                except ValueError:
                    continue
                entries[start] = (size, parts[2])
        order = sorted(entries)
        self._starts = order
        self._ends = [s + entries[s][0] for s in order]
        self._names = [entries[s][1] for s in order]
        self.mtime = st.st_mtime_ns
        return True

    def lookup(self, addr):
        """(name, offset) or None."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self._ends[i]:
            return self._names[i], addr - self._starts[i]
        return None
