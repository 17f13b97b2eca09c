"""Keyless maps: queues and stacks (push/pop/peek) and bloom filters
(push/contains). Their elements have no keys, so no dict access."""

from ..kernel.uapi import BPF_ANY, BPF_EXIST, Cmd
from .map import Map


class QueueMap(Map):
    """FIFO (QUEUE) or, as StackMap, LIFO (STACK) of values."""

    def push(self, value, flags=BPF_ANY):
        """Add a value; flags=BPF_EXIST drops the oldest value when full."""
        self._update_buf(None, self._encode_value(value), flags=flags)

    def push_overwrite(self, value):
        self.push(value, BPF_EXIST)

    def _take(self, cmd, op):
        try:
            vbuf = self._lookup_buf(None, cmd=cmd, op=op)
        except KeyError:
            raise KeyError(f"{op} from empty map {self.name!r}") from None
        return self._decode_value(vbuf)

    def pop(self):
        """Remove and return the next value; KeyError when empty."""
        return self._take(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, "pop")

    def peek(self):
        """The next value without removing it; KeyError when empty."""
        return self._take(Cmd.MAP_LOOKUP_ELEM, "peek")

    def drain(self):
        """Pop every value: a list, oldest first for queues."""
        out = []
        while True:
            try:
                out.append(self.pop())
            except KeyError:
                return out

    def clear(self):
        self.drain()


class StackMap(QueueMap):
    pass


class BloomFilterMap(Map):
    """A set with false positives: push(v), then ``v in m`` (maybe) or not (surely)."""

    def push(self, value):
        self._update_buf(None, self._encode_value(value))

    add = push

    def __contains__(self, value):
        return self._elem_found("lookup", Cmd.MAP_LOOKUP_ELEM, None, self._encode_value(value))
