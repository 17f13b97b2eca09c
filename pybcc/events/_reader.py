"""What every event reader shares: the pending batch, poll/consume, closing.

A reader copies records out of its ring into ``_pending`` and gives the ring
space back to the kernel *before* any Python callback runs, so a slow
callback cannot make the kernel drop events while the ring sits full.
"""

from ..errors import BPFError
from ..kernel import bpf, uapi
from ..kernel.fd import Closeable


def fd_of(obj):
    """Accept a map fd or any object with an ``fd`` attribute (a Map)."""
    return obj if isinstance(obj, int) else obj.fd


def map_info(fd, name):
    """(map_type, key_size, value_size, max_entries) of a map fd."""
    try:
        info = bpf.map_info(fd)
    except BPFError as e:
        raise BPFError(f"{name}: fd {fd} is not an open BPF map", e.errno) from None
    return info["type"], info["key_size"], info["value_size"], info["max_entries"]


def map_type_name(mtype):
    try:
        return uapi.MapType(mtype).name
    except ValueError:
        return f"type {mtype}"


class Reader(Closeable):
    """Base class; subclasses fill ``_collect`` / ``_collect_all`` / ``_invoker``."""

    closed = False

    def __init__(self, callback):
        self._callback = callback
        self._pending = []
        self._poller = None

    # Subclasses: the fds to wait on, as (fd, key); key is given back to _collect.
    def _poll_fds(self):
        raise NotImplementedError

    def _collect(self, key):
        raise NotImplementedError

    def _collect_all(self):
        raise NotImplementedError

    def _report_lost(self):
        """Subclasses: tell lost_callback about records lost since the last call."""

    def _invoker(self, callback):
        """Subclasses: a function that hands one pending record to ``callback``."""
        raise NotImplementedError

    def _deliver(self):
        self._report_lost()
        cb = self._callback
        recs = self._pending
        if cb is None or not recs:
            return
        self._pending = []
        call = self._invoker(cb)
        n = 0
        try:
            for rec in recs:
                n += 1
                call(rec)
        except BaseException:
            self._requeue(recs, n)
            raise

    def _requeue(self, recs, done):
        # A callback raised: keep what it did not see for the next call.
        self._pending = recs[done:] + self._pending

    def consume(self):
        """Drain every ring without waiting; returns how many records it read."""
        n = self._collect_all()
        self._deliver()
        return n

    def read_batch(self):
        """Drain every ring and return the records instead of calling back."""
        self._collect_all()
        recs, self._pending = self._pending, []
        return recs

    def poll(self, timeout_ms=-1):
        """Wait up to timeout_ms (-1: forever) for data, then drain; returns
        how many records it read. Uses a private Poller holding only this reader."""
        if self._poller is None:
            from .poller import Poller
            self._poller = Poller([self], owns=False)
        return self._poller.poll(timeout_ms)

    def _close_poller(self):
        if self._poller is not None:
            self._poller.close()
            self._poller = None

