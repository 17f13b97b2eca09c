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

Decoders are those of decoders.py (syscall, errno, cgroup, ip, port, ...).
"""
import os

from . import decoders, histograms, objects
from .config import check_keys, get, positive
from .limits import Limits
from .metricset import Hook, RunningSet
from .metrics import Label, Metric

UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "bytes": 1.0, "none": 1.0}
PROGRAM_KEYS = {"name", "source", "attach", "constants", "metrics", "include_dirs", "max_series"}
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
    attach = get(where, node, "attach", list)
    hooks = [Hook((p,)) for p in attach] if attach else None
    include_dirs = [os.path.join(base, d) for d in get(where, node, "include_dirs", list, default=[])]
    from ..errors import BPFError
    try:
        obj = objects.custom_object(source, include_dirs)
    except BPFError as e:
        raise where.error(node, "source", f"program {name}: {str(e).strip()}") from None
    return RunningSet(name, obj, hooks, metrics, dict(get(where, node, "constants", dict, default={})),
                      options={"config": dict(node), "object": obj})
