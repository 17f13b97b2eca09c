"""The exporter's metrics about itself.

Per program run count and run time come from the kernel's BPF stats, which
cost a little per run and so are off by default: the exporter enables them
(BPF_ENABLE_STATS, held by an fd) while it runs, and they go off when the fd
closes, however the process ends.
"""
import ctypes
import os
import struct

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..errors import BPFError
from ..kernel import bpf
from ..kernel.uapi import Cmd

BPF_STATS_RUN_TIME = 0
# struct bpf_prog_info: run_time_ns and run_cnt (include/uapi/linux/bpf.h)
PROG_INFO_SIZE = 224
RUN_TIME_NS_OFFSET = 192
RUN_CNT_OFFSET = 200


def enable_bpf_stats():
    """An fd that keeps BPF run-time stats on, or None where the kernel
    (before 5.8) or our privileges do not allow it."""
    try:
        return bpf.call(Cmd.ENABLE_STATS, {"type": (0, "I")}, "enabling BPF stats",
                             type=BPF_STATS_RUN_TIME)[0]
    except BPFError:
        return None


def program_stats(fd):
    """(run count, run time in ns) of a loaded program."""
    buf = ctypes.create_string_buffer(PROG_INFO_SIZE)
    bpf.obj_info(fd, buf)
    return (struct.unpack_from("<Q", buf, RUN_CNT_OFFSET)[0],
            struct.unpack_from("<Q", buf, RUN_TIME_NS_OFFSET)[0])


class SelfCollector:
    """Self-metrics over the daemon's sets; registered next to them."""

    def __init__(self, daemon):
        self.daemon = daemon

    def collect(self):
        d = self.daemon
        up = GaugeMetricFamily("pybcc_exporter_set_up",
                               "1 if the metric set runs, 0 if the kernel could not serve it.",
                               labels=["set"])
        failed = GaugeMetricFamily("pybcc_exporter_set_error_info",
                                   "Why a metric set is not running.", labels=["set", "error"])
        attached = GaugeMetricFamily("pybcc_exporter_programs_attached",
                                     "BPF programs attached, by set.", labels=["set"])
        runs = CounterMetricFamily("pybcc_exporter_bpf_program_runs",
                                   "Times each BPF program ran (kernel BPF stats).",
                                   labels=["set", "program"])
        run_time = CounterMetricFamily("pybcc_exporter_bpf_program_run_seconds",
                                       "Time spent in each BPF program (kernel BPF stats).",
                                       labels=["set", "program"])
        lost = CounterMetricFamily("pybcc_exporter_lost_events",
                                   "Updates lost in the kernel because a map was full.",
                                   labels=["set"])
        decode = CounterMetricFamily("pybcc_exporter_decode_errors",
                                     "Map keys whose labels could not be decoded.",
                                     labels=["set", "metric"])
        dropped = GaugeMetricFamily("pybcc_exporter_series_dropped",
                                    "Series over the per-metric cap at the last scrape.",
                                    labels=["set", "metric"])
        for name, rs in sorted(d.sets.items()):
            up.add_metric([name], 1)
            attached.add_metric([name], len(rs.attached))
            lost.add_metric([name], rs.map_full())
            for prog_name, prog in rs.attached:
                try:
                    cnt, ns = program_stats(prog.fd)
                except (BPFError, TypeError):
                    continue
                runs.add_metric([name, prog_name], cnt)
                run_time.add_metric([name, prog_name], ns * 1e-9)
            for m in rs.metrics:
                decode.add_metric([name, m.name], m.decode_errors)
                dropped.add_metric([name, m.name], m.limits.dropped)
        for name, error in sorted(d.failed.items()):
            up.add_metric([name], 0)
            failed.add_metric([name, error], 1)
        yield from (up, failed, attached, runs, run_time, lost, decode, dropped)
        stats = GaugeMetricFamily("pybcc_exporter_bpf_stats_enabled",
                                  "1 while the exporter holds the kernel's BPF stats on.")
        stats.add_metric([], 1 if d.stats_fd is not None else 0)
        yield stats
        scrape = GaugeMetricFamily("pybcc_exporter_collect_duration_seconds",
                                   "How long reading each set's maps took at the last scrape.",
                                   labels=["set"])
        for name, secs in sorted(d.collect_seconds.items()):
            scrape.add_metric([name], secs)
        yield scrape
        reloads = CounterMetricFamily("pybcc_exporter_reloads", "Config reloads, by result.",
                                      labels=["result"])
        for result, n in sorted(d.reloads.items()):
            reloads.add_metric([result], n)
        yield reloads
        started = GaugeMetricFamily("pybcc_exporter_start_time_seconds",
                                    "When the exporter started (Unix time).")
        started.add_metric([], d.started)
        yield started


def close_fd(fd):
    if fd is not None:
        os.close(fd)
