"""A metric declared over a BPF map: which map, how its keys become labels,
and what its values mean. Built-in sets and custom programs both declare
their metrics this way; collect() reads the map at scrape time.

Map shapes:
- counter: value is a u64 (or a struct, with ``value_field``), summed over
  CPUs for per-CPU maps; ``scale`` converts to the base unit (ns -> s);
- histogram: value is ``struct hist`` of exporter/metrics.h (slots and
  sum; with ``value_field``, that member of a struct of several), or a u64 count with the log2 slot in key field ``bucket_field``
  (libbpf-tools' layout; _sum is then estimated from the slots' lower
  bounds, as those maps do not keep one).
"""
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from . import histograms
from .decoders import DecodeError
from .limits import Limits


@dataclass
class Label:
    name: str
    field: Optional[str]                 # key field (a.b for nested), None: the whole key
    decode: Callable[[object], str]


@dataclass
class Metric:
    name: str                            # full Prometheus name (counters end in _total)
    kind: str                            # counter | gauge | histogram
    help: str
    map: str
    labels: List[Label] = field(default_factory=list)
    value_field: Optional[str] = None
    scale: float = 1.0
    slot_range: Optional[Tuple[int, int]] = None
    bucket_field: Optional[str] = None
    key_filter: Optional[Callable[[object], bool]] = None
    skip_zero: bool = False              # array maps: entries never written are 0
    limits: Limits = field(default_factory=Limits)
    reader: Optional[Callable[[dict], dict]] = None   # computes {labels: value} from the maps
    decode_errors: int = 0


class Hist:
    """Slots and sum of one histogram series."""
    __slots__ = ("slots", "sum")

    def __init__(self, slots, total):
        self.slots = list(slots)
        self.sum = total

    @property
    def count(self):
        return sum(self.slots)

    def __add__(self, other):
        n = max(len(self.slots), len(other.slots))
        a = self.slots + [0] * (n - len(self.slots))
        b = other.slots + [0] * (n - len(other.slots))
        return Hist([x + y for x, y in zip(a, b)], self.sum + other.sum)


def _field(obj, path):
    if path == "key":         # the whole key, when it is a scalar (bcc's BPF_HISTOGRAM)
        if not hasattr(obj, "key"):
            return obj
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _per_cpu_sum(values, value_field=None):
    """A value of a per-CPU map (a list, one per CPU) summed over the CPUs;
    ``value_field`` picks a member of struct values first."""
    if not isinstance(values, list):
        return values
    if value_field is not None:
        values = [_field(v, value_field) for v in values]
    if values and hasattr(values[0], "slots"):
        return sum((Hist(v.slots, v.sum) for v in values), Hist([], 0))
    return sum(values)


def _add(a, b):
    return a + b


def read_series(metric, maps):
    """{label values: value} for one metric, decoded, limited."""
    if metric.reader is not None:
        return metric.limits.apply([lb.name for lb in metric.labels], metric.reader(maps), _add)
    series = {}
    for key, value in maps[metric.map].items():
        if metric.key_filter is not None and not metric.key_filter(key):
            continue
        per_cpu = isinstance(value, list)
        value = _per_cpu_sum(value, metric.value_field)
        if metric.skip_zero and not value:
            continue
        try:
            labels = tuple(lb.decode(key if lb.field is None else _field(key, lb.field))
                           for lb in metric.labels)
        except (DecodeError, AttributeError, ValueError, TypeError, KeyError):
            metric.decode_errors += 1
            continue
        if metric.kind == "histogram":
            if metric.bucket_field is not None:
                slot = int(_field(key, metric.bucket_field))
                slots = [0] * (slot + 1)
                slots[slot] = value
                low = (1 << (slot - 1)) if slot > 0 else 0
                value = Hist(slots, low * value)
            else:
                if metric.value_field is not None and not per_cpu:
                    value = _field(value, metric.value_field)    # one of several histograms
                value = Hist(value.slots, value.sum)
        elif metric.value_field is not None and not per_cpu:
            value = _field(value, metric.value_field)
        series[labels] = series[labels] + value if labels in series else value
    return metric.limits.apply([lb.name for lb in metric.labels], series, _add)


def family(metric, series):
    """A prometheus_client metric family of the series."""
    names = [lb.name for lb in metric.labels]
    if metric.kind == "histogram":
        fam = HistogramMetricFamily(metric.name, metric.help, labels=names)
        for labels, h in sorted(series.items()):
            buckets = [(histograms.le_text(le), n)
                       for le, n in histograms.buckets(h.slots, metric.scale, metric.slot_range)]
            fam.add_metric(list(labels), buckets, histograms.to_base(h.sum, metric.scale))
        return fam
    cls = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
    fam = cls(metric.name, metric.help, labels=names)
    for labels, v in sorted(series.items()):
        fam.add_metric(list(labels), histograms.to_base(v, metric.scale))
    return fam
