"""Cardinality limits applied to a metric's series at scrape time.

- ``regex``: keep only series whose label matches (e.g. cgroup paths);
- ``top``: at most N distinct values of a label (e.g. comm); the rest are
  summed under "other". Admission is sticky: a value once kept stays kept
  until reload, so every series (and "other") only ever grows, as a
  counter must;
- ``max_series``: a hard cap per metric; series beyond it are dropped and
  counted (pybcc_exporter_series_dropped).
"""
import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Set

OTHER = "other"


@dataclass
class Limits:
    max_series: int = 2000
    regex_label: Optional[str] = None
    regex: Optional[re.Pattern] = None
    top_label: Optional[str] = None
    top_n: int = 0
    kept: Set[str] = field(default_factory=set)   # sticky top-N admissions
    dropped: int = 0                              # series over the cap, last scrape

    def apply(self, label_names, series: Dict[tuple, object], add):
        """Filtered and capped series; ``add(a, b)`` merges two values."""
        if self.regex is not None and self.regex_label in label_names:
            i = label_names.index(self.regex_label)
            series = {k: v for k, v in series.items() if self.regex.search(k[i])}
        if self.top_n and self.top_label in label_names:
            series = self._fold_top(label_names.index(self.top_label), series, add)
        self.dropped = max(0, len(series) - self.max_series)
        if self.dropped:
            # keep a stable subset: the label sets that sort first
            series = dict(sorted(series.items())[:self.max_series])
        return series

    def _fold_top(self, i, series, add):
        totals = {}
        for k, v in series.items():
            totals[k[i]] = totals.get(k[i], 0) + _weight(v)
        for value in sorted(totals, key=lambda x: -totals[x]):
            if len(self.kept) >= self.top_n:
                break
            self.kept.add(value)
        out = {}
        for k, v in series.items():
            if k[i] not in self.kept:
                k = k[:i] + (OTHER,) + k[i + 1:]
            out[k] = add(out[k], v) if k in out else v
        return out


def _weight(v):
    return v if isinstance(v, (int, float)) else getattr(v, "count", 0)
