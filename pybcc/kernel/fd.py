"""Ownership of kernel resources held through file descriptors.

``Fd`` is a descriptor that closes once: a second close() is a no-op, not a
close of whatever file took the number since. An object that shares an Fd
with another (a Collection and the Map wrapping one of its maps) can then
both close it safely, in any order, even when one of them was interrupted
half-built. ``Closeable`` gives an object that owns such resources the
with-statement and a last-chance close when it is garbage-collected.
"""
import os


class Fd(int):
    """An int file descriptor that remembers it was closed."""

    closed = False

    def close(self):
        if not self.closed and self >= 0:
            self.closed = True
            os.close(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def close_fd(fd):
    """Close an Fd (once) or a plain int descriptor; None is nothing to close."""
    if isinstance(fd, Fd):
        fd.close()
    elif fd is not None and fd >= 0:
        os.close(fd)


class Closeable:
    """close() by the with-statement, and at garbage collection as a last
    resort (never raising there: only our own fds are at stake)."""

    def close(self):
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
