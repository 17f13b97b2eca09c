"""Log2 histograms: the kernel's slots and the `le` buckets built from them."""
import math
import os
import struct

import pytest

from pybcc import loader
from pybcc.exporter import histograms, objects
from pybcc.exporter.metrics import Metric, family, read_series
from pybcc.kernel import bpf

HERE = os.path.dirname(os.path.abspath(__file__))


def test_buckets_are_cumulative_and_end_with_inf():
    slots = [1, 2, 0, 4]          # 0; 1; none in 2..3; three in 4..7
    assert histograms.buckets(slots) == [(0, 1), (1, 3), (3, 3), (7, 7), (math.inf, 7)]


def test_buckets_fold_outside_the_range_exactly():
    slots = [5, 0, 1, 1, 0, 2]
    # first bucket le=3 holds slots 0..2; slot 5 (16..31) only in +Inf
    assert histograms.buckets(slots, slot_range=(2, 4)) == [(3, 6), (7, 7), (15, 7), (math.inf, 9)]
    # a shorter slot array still yields every le of the range
    assert [le for le, _ in histograms.buckets([1], slot_range=(2, 4))] == [3, 7, 15, math.inf]


def test_le_labels_in_seconds_have_no_rounding_noise():
    les = [histograms.le_text(le) for le, _ in
           histograms.buckets([0] * 40, scale=1e-9, slot_range=histograms.NS_RANGE)]
    assert les[0] == "1.023e-06" and les[2] == "4.095e-06" and les[-1] == "+Inf"
    assert all(len(t) <= 14 for t in les), les


@pytest.fixture
def hist_probe(root):
    obj = objects.custom_object(os.path.join(HERE, "bpf", "hist_probe.bpf.c"))
    coll = loader.load(obj, programs=["add_value"])
    yield coll
    coll.close()


def test_every_log2_boundary_counts_values_on_both_sides_exactly(hist_probe):
    """For each boundary b = 2^i - 1: b lands in the bucket le=b, b+1 does not."""
    coll = hist_probe
    fd = coll.programs["add_value"].fd
    values = [0]
    for i in range(1, 64):
        b = (1 << i) - 1
        values += [b, b + 1]
    for v in values:
        bpf.prog_test_run(fd, ctx=struct.pack("<Q", v), repeat=0)   # raw_tp takes no repeat
    metric = Metric("test_values", "histogram", "h", "values")
    series = read_series(metric, coll.maps)
    h = series[()]
    assert h.count == len(values)
    assert h.sum == sum(values) % (1 << 64)
    for le, cumulative in histograms.buckets(h.slots):
        expected = sum(1 for v in values if v <= le)
        assert cumulative == expected, f"le={le}: {cumulative} != {expected}"
    # and in seconds, as the exporter writes them
    fam = family(Metric("test_seconds", "histogram", "h", "values", scale=1e-9), series)
    buckets = {s.labels["le"]: s.value for s in fam.samples if s.name.endswith("_bucket")}
    assert buckets["1.023e-06"] == sum(1 for v in values if v <= 1023)
    assert buckets["+Inf"] == len(values)
