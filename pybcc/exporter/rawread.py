"""Scrape-time reads of per-CPU array maps straight from their bytes.

The map API decodes every CPU's value of every element into a Python
object: ~6 us a value, ~3 ms per scrape for a 256-entry array on 2 CPUs,
and more with more CPUs. The exporter's per-CPU arrays hold plain
counters (or a small fixed struct), so one batched read of the whole
array, unpacked with struct, does: well under a millisecond.
"""
import struct


def percpu_rows(m, fmt):
    """[(index, [per-CPU tuple of the value's fields])] of per-CPU array map
    ``m`` whose value has struct format ``fmt`` (e.g. "<Q")."""
    count, values = m.array_bytes()
    stride, ncpus = m._stride, m.ncpus
    one = struct.Struct(fmt)
    raw = values.raw
    return [(i, [one.unpack_from(raw, (i * ncpus + c) * stride) for c in range(ncpus)])
            for i in range(count)]


def percpu_sums(m):
    """{index: sum over the CPUs} of the nonzero elements of a per-CPU
    array of u64 counters."""
    count, values = m.array_bytes()
    ncpus = m.ncpus
    words = memoryview(values.raw).cast("Q")     # stride 8: a u64 per CPU
    out = {}
    for i in range(count):
        total = sum(words[i * ncpus:(i + 1) * ncpus])
        if total:
            out[i] = total
    return out
