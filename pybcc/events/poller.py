"""One epoll set over several readers (perf buffers and ring buffers).

poll() waits, copies out every ready ring, then runs the callbacks, so all
ring space is handed back before any Python callback runs. When the wait
times out it drains every ring anyway: that is how samples below a perf
wake-up watermark, or ring buffer records written with BPF_RB_NO_WAKEUP,
reach the caller at most one timeout late.
"""
import select


class Poller:
    """Holds readers; ``owns`` (default) means close() closes them too.
    A reader closed on its own is dropped the next time it is seen."""

    def __init__(self, readers=(), owns=True):
        self._ep = select.epoll()
        self._owns = owns
        self._readers = []
        self._keys = {}  # fd -> (reader, key the reader gave for that fd)
        for r in readers:
            self.add(r)

    @property
    def readers(self):
        return list(self._readers)

    def add(self, reader):
        for fd, key in reader._poll_fds():
            self._ep.register(fd, select.EPOLLIN)
            self._keys[fd] = (reader, key)
        self._readers.append(reader)
        return reader

    def remove(self, reader):
        """Stop polling ``reader`` without closing it."""
        for fd, _ in reader._poll_fds():
            if self._keys.pop(fd, None) is not None:
                try:
                    self._ep.unregister(fd)
                except OSError:
                    pass
        if reader in self._readers:
            self._readers.remove(reader)

    def poll(self, timeout_ms=-1):
        """Wait up to timeout_ms (-1: forever) and drain what is ready; on a
        timeout drain everything. Returns how many records were read."""
        events = self._ep.poll(timeout_ms / 1000.0 if timeout_ms >= 0 else -1)
        if not events:
            return self.consume()
        n = 0
        ready = {}
        keys = self._keys
        for fd, _ in events:
            reader, key = keys.get(fd, (None, None))
            if reader is None:
                continue
            if reader.closed:           # closed on its own: stop waking for it
                self.remove(reader)
                continue
            n += reader._collect(key)
            ready[id(reader)] = reader
        for reader in ready.values():
            reader._deliver()
        return n

    def consume(self):
        """Drain every reader without waiting. Returns how many records were read."""
        live = [r for r in self._readers if not r.closed]
        n = 0
        for r in live:
            n += r._collect_all()
        for r in live:
            r._deliver()
        return n

    def fileno(self):
        """The epoll fd, to nest this poller in another event loop."""
        return self._ep.fileno()

    def close(self):
        if self._ep.closed:
            return
        self._ep.close()
        if self._owns:
            for r in self._readers:
                r.close()
        self._readers = []
        self._keys = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
