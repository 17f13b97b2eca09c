"""The sets' fast text encoder (pybcc/exporter/exposition.py) against
prometheus-client's own exposition: the same samples once parsed, in both
formats, and output that promtool accepts; and fast at the series cap."""
import shutil
import subprocess
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as om_generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse

from pybcc.exporter import exposition, histograms
from pybcc.exporter.metrics import Hist, Label, Metric, family


def _metrics():
    labels = [Label("comm", "comm", str), Label("op", "op", str)]
    hist = Metric("t_latency_seconds", "histogram", 'latency "quoted" \\ help', "m", labels,
                  scale=1e-9, slot_range=histograms.NS_RANGE)
    size = Metric("t_size_bytes", "histogram", "size", "m", [], slot_range=histograms.BYTES_RANGE)
    counter = Metric("t_events_total", "counter", "events\nsecond line", "m", labels)
    secs = Metric("t_busy_seconds_total", "counter", "busy", "m", [], scale=1e-9)
    odd = ['a"b', "back\\slash", "new\nline", "", "plain"]
    return [
        (hist, {(c, f"op{i}"): Hist([(i * 7 + j) % 5 for j in range(40)], 123456789 + i)
                for i, c in enumerate(odd)}),
        (hist, {}),
        (size, {(): Hist([3, 0, 1] + [2] * 10, 4096)}),          # fewer slots than buckets
        (counter, {(c, "x"): 10 ** i for i, c in enumerate(odd)}),
        (secs, {(): 1_500_000_123}),
    ]


def _samples(parse, text):
    return sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                  for f in parse(text) for s in f.samples)


class _Families:
    def __init__(self, metrics):
        self.metrics = metrics

    def collect(self):
        for metric, series in self.metrics:
            yield family(metric, series)


def _registry(metrics):
    r = CollectorRegistry(auto_describe=False)
    r.register(_Families(metrics))
    return r


@pytest.mark.parametrize("metrics", [[m] for m in _metrics()])
def test_same_samples_as_prometheus_client_in_both_formats(metrics):
    r = _registry(metrics)
    ours = "".join(exposition.encode(m, s) for m, s in metrics)
    assert _samples(text_parse, ours) == _samples(text_parse, generate_latest(r).decode())
    ours_om = "".join(exposition.encode(m, s, openmetrics=True) for m, s in metrics) + "# EOF\n"
    assert _samples(om_parse, ours_om) == _samples(om_parse, om_generate_latest(r).decode())
    # family names, types and help survive too
    fams = {f.name: (f.type, f.documentation) for f in om_parse(ours_om)}
    ref = {f.name: (f.type, f.documentation) for f in om_parse(om_generate_latest(r).decode())}
    assert fams == ref


def test_promtool_accepts_the_output(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian's prometheus package)")
    metrics = [ms for ms in _metrics() if ms[1]]
    text = "".join(exposition.encode(m, s) for m, s in metrics)
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    # promtool exits 0 for clean input; lint remarks (not errors) go to stdout with exit 3
    assert r.returncode in (0, 3), r.stderr + r.stdout
    assert "error" not in (r.stderr + r.stdout).lower(), r.stderr + r.stdout


def test_histogram_at_the_series_cap_is_fast():
    metric = Metric("t_cap_seconds", "histogram", "cap", "m",
                    [Label("comm", "comm", str), Label("pid", "pid", str)],
                    scale=1e-9, slot_range=histograms.NS_RANGE)
    series = {(f"c{i}", str(i)): Hist([i % 7] * 40, 10 ** 9 + i) for i in range(2000)}
    t0 = time.process_time()
    text = exposition.encode(metric, series)
    cpu = time.process_time() - t0
    assert text.count("\n") == 2 + 2000 * 29
    assert cpu < 0.25, f"{cpu:.3f} s CPU for 58,000 samples"
