"""bcc's --cgroupmap/--mntnsmap: the tools filter on sets the BPF side
checks (pybcc/containers.h), copied from the pinned maps the user gives."""
import sys
import time

from ...maps.map import Map


class ContainerSets:
    """Mirror bcc's --cgroupmap/--mntnsmap pinned hash maps (keys: cgroup
    ids, mount namespace inode numbers) into the tool's own sets, re-read
    every second so changes to the pinned map take effect."""

    def __init__(self, tool, cgroupmap, mntnsmap):
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
        """Copy the pinned maps' keys into ours, once a second at most.
        Returns None (false), so a stream can call it as its should_stop."""
        if not self.pairs or time.monotonic() < self.next_sync:
            return
        self.next_sync = time.monotonic() + 1
        for source, ours in self.pairs:
            wanted = {self._key(k) for k in source.keys()}
            for k in [k for k in ours.keys() if k not in wanted]:
                del ours[k]
            for k in wanted:
                ours[k] = 1
