"""Kernel log2 histograms as Prometheus histograms.

The BPF side (bpf/include/exporter/metrics.h) counts value v in slot
bit_width(v): slot 0 holds 0 and slot i >= 1 holds [2^(i-1), 2^i - 1]. Every
value in slots 0..i is <= 2^i - 1, so a cumulative bucket with
le = (2^i - 1) * unit holds exactly the values Prometheus says it does
(v <= le), for integer values in the kernel's unit (ns, bytes).

Slots below the first boundary fold into the first bucket and slots above
the last into +Inf, both still exact: a metric keeps a fixed set of `le`
labels, which histogram_quantile() and rate() across scrapes need.
"""
import math

# (first slot, last slot) of the buckets a metric exposes, by unit
NS_RANGE = (10, 35)       # le 1.023 us .. 34.4 s
BYTES_RANGE = (9, 27)     # le 511 B .. 128 MiB


def boundary(slot):
    """Largest integer value counted in slots 0..slot."""
    return (1 << slot) - 1


def to_base(value, scale):
    """value (kernel unit) in the base unit; dividing by 10^9 rather than
    multiplying by 1e-9 keeps labels like 1.023e-06 free of rounding noise."""
    if scale == 1:
        return value        # ints stay exact (bytes, counts)
    if scale < 1:
        return value / round(1 / scale)
    return value * scale


def buckets(slots, scale=1.0, slot_range=None):
    """[(le, cumulative count)] ending with (+Inf, total), for a list of
    per-slot counts; ``scale`` converts the kernel unit to the base unit."""
    lo, hi = slot_range or (0, len(slots) - 1)
    out = []
    total = 0
    for i, n in enumerate(slots):
        total += n
        if lo <= i <= hi:
            out.append((to_base(boundary(i), scale), total))
    if len(slots) <= hi:      # a shorter slot array: the rest are empty
        for i in range(len(slots), hi + 1):
            if i >= lo:
                out.append((to_base(boundary(i), scale), total))
    out.append((math.inf, total))
    return out


def le_text(le):
    """`le` as Prometheus writes floats (the label must be stable across scrapes)."""
    if le == math.inf:
        return "+Inf"
    return repr(float(le))
