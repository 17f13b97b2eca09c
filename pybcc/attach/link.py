"""Link: one attachment of one program to one event.

Closing the Link detaches the program. A Link owns file descriptors (a BPF
link, one or more perf events) whose closing is the detach, so the kernel
detaches by itself when the process dies, SIGKILL included; the only things
that would outlive the process are tracefs probe events, which a Link removes
through its cleanup callbacks on close.
"""
import ctypes
import os

from ..errors import BPFError
from ..kernel import bpf
from ..kernel.fd import Closeable


class Link(Closeable):
    """An attachment. ``fds`` are closed in order (BPF link before the perf
    event it is bound to), then ``cleanups`` run (e.g. removing a tracefs
    event, which the kernel refuses while a perf event still uses it)."""

    def __init__(self, description, fds=(), cleanups=(), bpf_link=False):
        self.description = description
        self._fds = list(fds)
        self._cleanups = list(cleanups)
        self._bpf_link = bpf_link
        self.closed = False

    @property
    def fd(self):
        """The main fd: the BPF link when there is one, else the (first) perf event."""
        return self._fds[0] if self._fds else None

    @property
    def fds(self):
        return tuple(self._fds)

    @property
    def link_id(self):
        """The kernel's id of the BPF link (as in `bpftool link`), or None."""
        if not self._bpf_link or self.closed:
            return None
        info = ctypes.create_string_buffer(16)  # struct bpf_link_info: type, id, prog_id
        bpf.obj_info(self.fd, info)
        return int.from_bytes(info.raw[4:8], "little")

    def close(self):
        """Detach. Safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        errors = []
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError as e:
                errors.append(e)
        for fn in self._cleanups:
            try:
                fn()
            except (OSError, BPFError) as e:
                errors.append(e)
        self._fds, self._cleanups = [], []
        if errors:
            raise BPFError(f"detaching {self.description}: {errors[0]}",
                           getattr(errors[0], "errno", 0) or 0)

    detach = close

    def __repr__(self):
        state = "closed" if self.closed else f"fds={self._fds}"
        return f"<Link {self.description} {state}>"


def close_all(links):
    """Close several links; returns the errors (BPFError/OSError) it met.

    Each tracepoint or probe detach waits for the kernel's RCU grace period
    (20-60 ms here). One after another, the twenty links of a tool such as
    vfsstat kept it from exiting for over a second; closed from threads
    (os.close releases the GIL), the waits overlap."""
    links = [link for link in links if not link.closed]
    errors = []

    def close(link):
        try:
            link.close()
        except (OSError, BPFError) as e:
            errors.append(e)

    if len(links) < 3:
        for link in links:
            close(link)
        return errors
    # _thread, not threading: importing threading cost each start ~1.5 ms
    import _thread
    done = []

    def close_then_release(link, lock):
        try:
            close(link)
        finally:
            lock.release()

    for link in links:
        lock = _thread.allocate_lock()
        lock.acquire()
        _thread.start_new_thread(close_then_release, (link, lock))
        done.append(lock)
    for lock in done:
        lock.acquire()
    return errors
