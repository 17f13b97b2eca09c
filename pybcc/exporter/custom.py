"""Custom programs: the user's libbpf-style .bpf.c plus a declaration of
which map gives which metric, how keys decode into labels, and the unit.

    programs:
      - name: biolat                    # the set's name in self-metrics and logs
        source: biolat.bpf.c            # relative to the config file
        attach: [on_issue, on_done]     # default: every program with an attach section
        constants: {min_us: 10}         # const volatile globals, set before load
        metrics:
          counters:
            - name: my_events_total
              help: Events, by comm.
              map: counts
              value_field: n            # when the value is a struct
              unit: ns                  # ns|us|ms|s (to seconds) or bytes|none
              labels:
                - {name: comm, field: comm, decoder: string}
                - {name: op, field: op, decoder: {static_map: {0: read, 1: write}}}
          histograms:
            - name: my_latency_seconds
              map: lat                  # value: struct hist (exporter/metrics.h)
              unit: ns
              bucket_field: slot        # or: key field with the log2 slot, u64 counts
                                        # ("key" for a scalar key, as BPF_HISTOGRAM's)

Decoders are those of decoders.py (syscall, errno, cgroup, ip, port, ...).

``dialect: bcc`` takes a program in bcc's C dialect instead (BPF_HASH(...),
TRACEPOINT_PROBE(...), kprobe__NAME, ...): it is compiled by pybcc's bcc
front end and attached by bcc's naming conventions, as `BPF(text=...)`
would; its tables are read as maps, by the same declarations.
"""
import os

from . import decoders, histograms, objects
from .config import check_keys, get, positive
from .limits import Limits
from .metricset import Hook, RunningSet
from .metrics import Label, Metric

UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "bytes": 1.0, "none": 1.0}
PROGRAM_KEYS = {"name", "source", "dialect", "attach", "constants", "metrics", "include_dirs",
                "max_series", "cflags"}
METRIC_KEYS = {"name", "help", "map", "labels", "value_field", "unit", "bucket_field"}
LABEL_KEYS = {"name", "field", "decoder"}


def _decoder(where, node, value):
    """A decoder given as a name, or {name: options} (e.g. {static_map: {...}})."""
    if isinstance(value, str):
        name, options = value, {}
    elif isinstance(value, dict) and len(value) == 1:
        name, options = next(iter(value.items()))
        options = {"mapping": options} if name == "static_map" else dict(options or {})
    else:
        raise where.error(node, "decoder", f"decoder: expected a name or {{name: options}}, "
                                           f"got {value!r}")
    try:
        return decoders.make(name, **options)
    except KeyError:
        raise where.error(node, "decoder", f"unknown decoder {name!r} "
                                           f"(have: {', '.join(sorted(decoders.DECODERS))})") \
            from None
    except (TypeError, ValueError) as e:
        raise where.error(node, "decoder", f"decoder {name}: {e}") from None


def _metric(where, node, kind, max_series):
    check_keys(where, node, METRIC_KEYS, f"a {kind[:-1]}")
    name = get(where, node, "name", str)
    if not name:
        raise where.error(node, None, f"a {kind[:-1]} needs a name")
    unit = get(where, node, "unit", str, default="none",
               check=lambda u: None if u in UNITS else f"one of {', '.join(UNITS)}")
    labels = []
    for lnode in get(where, node, "labels", list, default=[]):
        check_keys(where, lnode, LABEL_KEYS, "a label")
        lname = get(where, lnode, "name", str)
        if not lname:
            raise where.error(lnode, None, "a label needs a name")
        labels.append(Label(lname, get(where, lnode, "field", str),
                            _decoder(where, lnode, lnode.get("decoder", "uint"))))
    slot_range = None
    if kind == "histograms":
        slot_range = histograms.NS_RANGE if unit in ("ns",) else None
    return Metric(name, "histogram" if kind == "histograms" else "counter",
                  get(where, node, "help", str, default=name),
                  get(where, node, "map", str) or name, labels,
                  value_field=get(where, node, "value_field", str),
                  scale=UNITS[unit], slot_range=slot_range,
                  bucket_field=get(where, node, "bucket_field", str),
                  limits=Limits(max_series=max_series))


def make_program(where, node, max_series):
    """A RunningSet (not started) for one entry of `programs:`; checks the
    entry and compiles the source (ConfigError with file:line)."""
    check_keys(where, node, PROGRAM_KEYS, "a program")
    name = get(where, node, "name", str)
    source = get(where, node, "source", str)
    if not name or not source:
        raise where.error(node, None, "a program needs name: and source:")
    base = os.path.dirname(os.path.abspath(where.path))
    source = os.path.join(base, source)
    if not os.path.exists(source):
        raise where.error(node, "source", f"program {name}: no such file {source}")
    max_series = get(where, node, "max_series", int, default=max_series, check=positive)
    mnode = get(where, node, "metrics", dict, default={})
    check_keys(where, mnode, {"counters", "histograms"}, f"program {name} metrics")
    metrics = [_metric(where, m, kind, max_series)
               for kind in ("counters", "histograms")
               for m in get(where, mnode, kind, list, default=[])]
    if not metrics:
        raise where.error(node, "metrics", f"program {name}: no metrics declared")
    dialect = get(where, node, "dialect", str, default="libbpf",
                  check=lambda d: None if d in ("libbpf", "bcc") else "libbpf or bcc")
    cflags = [str(f) for f in get(where, node, "cflags", list, default=[])]
    from ..errors import BPFError
    if dialect == "bcc":
        for key in ("attach", "constants", "include_dirs"):
            if key in node:
                raise where.error(node, key, f"program {name}: {key}: not for dialect bcc "
                                             "(bcc attaches by its naming conventions)")
        try:
            from ..bcc import source as bcc_source
            obj = bcc_source.build(None, source, cflags).obj_path     # compile errors now
        except BPFError as e:
            raise where.error(node, "source", f"program {name}: {str(e).strip()}") from None
        return BccProgramSet(name, source, cflags, metrics,
                             options={"config": dict(node), "object": obj})
    attach = get(where, node, "attach", list)
    hooks = [Hook((p,)) for p in attach] if attach else None
    include_dirs = [os.path.join(base, d) for d in get(where, node, "include_dirs", list, default=[])]
    try:
        obj = objects.custom_object(source, include_dirs + [os.path.dirname(source)], cflags)
    except BPFError as e:
        raise where.error(node, "source", f"program {name}: {str(e).strip()}") from None
    return RunningSet(name, obj, hooks, metrics, dict(get(where, node, "constants", dict, default={})),
                      options={"config": dict(node), "object": obj})


class BccProgramSet(RunningSet):
    """A custom program in bcc's dialect, run by pybcc's BPF facade."""

    def __init__(self, name, source, cflags, metrics, options):
        super().__init__(name, None, [], metrics, options=options)
        self.source = source
        self.cflags = cflags
        self.bpf = None
        self._maps = {}

    def start(self):
        from ..bcc import BPF
        try:
            self.bpf = BPF(src_file=self.source, cflags=self.cflags)
        except BaseException:
            self.close()
            raise
        self.attached = sorted(self.bpf.funcs.items())
        return self

    def maps(self):
        # pybcc's own map objects on the tables' fds: str names, ints, records
        from ..maps import open_map
        for name in {m.map for m in self.metrics}:
            if name not in self._maps:
                table = self.bpf.get_table(name)
                self._maps[name] = open_map(os.dup(table.fd), table.spec)
        return self._maps

    def map_full(self):
        return 0

    def close(self):
        for m in self._maps.values():
            m.close()
        self._maps = {}
        if self.bpf is not None:
            self.bpf.cleanup()
            self.bpf = None
        self.attached = []
