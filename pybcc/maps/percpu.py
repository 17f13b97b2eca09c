"""Per-CPU maps: each element holds one value per possible CPU.

The kernel copies values in and out as one slot per possible CPU, each slot
the value size rounded up to 8 bytes. Values decode to a list indexed by
position in the possible-CPU mask (which is 0..N-1 on real machines).
"""
import ctypes

from ..kernel.cpus import possible_cpus
from .array import ArrayMap
from .map import HashMap


def num_possible_cpus():
    return len(possible_cpus())


class PerCpuMixin:
    """Value handling for per-CPU maps; mixed in before HashMap/ArrayMap."""

    @property
    def ncpus(self):
        return num_possible_cpus()

    @property
    def _stride(self):
        return (self.value_size + 7) & ~7

    @property
    def _value_buf_size(self):
        return self._stride * self.ncpus

    def _encode_value(self, value):
        """A list of one value per CPU, or any other value for every CPU."""
        n, stride = self.ncpus, self._stride
        if isinstance(value, list):
            if len(value) != n:
                raise ValueError(f"map {self.name!r}: {len(value)} per-CPU values given, "
                                 f"{n} possible CPUs")
            values = value
        else:
            values = [value] * n
        buf = ctypes.create_string_buffer(stride * n)
        base = ctypes.addressof(buf)
        for i, v in enumerate(values):
            one = self.value_codec.encode(v)     # kept alive during the copy
            ctypes.memmove(base + i * stride, ctypes.addressof(one), self.value_size)
        return buf

    def _decode_value(self, buf, offset=0):
        one = super()._decode_value
        stride = self._stride
        return [one(buf, offset + i * stride) for i in range(self.ncpus)]

    # bcc's PerCpu helpers: reductions over the CPUs of one element.
    def sum(self, key):
        return sum(_scalar(v) for v in self[key])

    def max(self, key):
        return max(_scalar(v) for v in self[key])

    def average(self, key):
        return self.sum(key) / self.ncpus


def _scalar(v):
    return v.value if isinstance(v, ctypes._SimpleCData) else v


class PerCpuHashMap(PerCpuMixin, HashMap):
    pass


class PerCpuArrayMap(PerCpuMixin, ArrayMap):
    pass
