"""Scrape-time reads of per-CPU array maps straight from their bytes.

The map API decodes every CPU's value of every element into a Python
object: ~6 us a value, ~3 ms per scrape for a 256-entry array on 2 CPUs,
and more with more CPUs. The exporter's per-CPU arrays hold plain
counters (or a small fixed struct), so one batched read of the whole
array, unpacked with struct, does: well under a millisecond.
"""
import ctypes
import errno
import struct

from ..errors import BPFError
from ..kernel import bpf
from ..kernel.uapi import Cmd

# no batch operations on this map type: EINVAL, EOPNOTSUPP, ENOTSUPP (524)
UNSUPPORTED = (errno.EINVAL, errno.EOPNOTSUPP, 524)


def _raw_values(m):
    """(count, buffer of the values of elements 0..count-1, one stride per
    CPU each): one MAP_LOOKUP_BATCH, or a lookup per element where the
    kernel has no batch operations on arrays (before 5.7)."""
    n, size = m.max_entries, m._value_buf_size
    values = ctypes.create_string_buffer(size * n)
    keys = ctypes.create_string_buffer(4 * n)
    try:
        return bpf.map_batch(Cmd.MAP_LOOKUP_BATCH, m.fd, None, ctypes.create_string_buffer(8),
                             keys, values, n), values
    except BPFError as e:
        if e.errno == errno.ENOENT:     # the end reached: all n read
            return e.count, values
        if e.errno not in UNSUPPORTED:
            raise
    key = ctypes.c_uint32()
    for i in range(n):
        key.value = i
        one = ctypes.create_string_buffer(size)
        bpf.map_elem(Cmd.MAP_LOOKUP_ELEM, m.fd, key, one)
        ctypes.memmove(ctypes.addressof(values) + i * size, one, size)
    return n, values


def percpu_rows(m, fmt):
    """[(index, [per-CPU tuple of the value's fields])] of per-CPU array map
    ``m`` whose value has struct format ``fmt`` (e.g. "<Q")."""
    count, values = _raw_values(m)
    stride, ncpus = m._stride, m.ncpus
    one = struct.Struct(fmt)
    raw = values.raw
    return [(i, [one.unpack_from(raw, (i * ncpus + c) * stride) for c in range(ncpus)])
            for i in range(count)]


def percpu_sums(m):
    """{index: sum over the CPUs} of the nonzero elements of a per-CPU
    array of u64 counters."""
    count, values = _raw_values(m)
    ncpus = m.ncpus
    words = memoryview(values.raw).cast("Q")     # stride 8: a u64 per CPU
    out = {}
    for i in range(count):
        total = sum(words[i * ncpus:(i + 1) * ncpus])
        if total:
            out[i] = total
    return out
