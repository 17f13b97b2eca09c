"""speedscope's file format (https://www.speedscope.app/file-format-schema.json):
one "sampled" profile whose stacks index a shared frame table, with one
weight per stack. speedscope.app and its command line open these files.
"""
import json

from . import write_text

SCHEMA = "https://www.speedscope.app/file-format-schema.json"
# Our units (see flamegraph.UNITS) in speedscope's words.
UNITS = {"samples": "none", "count": "none", "us": "microseconds", "ns": "nanoseconds",
         "bytes": "bytes"}


def document(stacks, name="pybcc", unit="samples", exporter="pybcc"):
    """The speedscope JSON object for {"a;b;c": count} (outermost frame first,
    which is also the order speedscope's sampled stacks use)."""
    frame_index = {}
    frames, samples, weights = [], [], []
    for stack, weight in sorted(stacks.items()):
        if weight <= 0:
            continue
        indices = []
        for name_ in stack.split(";"):
            i = frame_index.get(name_)
            if i is None:
                i = frame_index[name_] = len(frames)
                frames.append({"name": name_})
            indices.append(i)
        samples.append(indices)
        weights.append(weight)
    total = sum(weights)
    return {
        "$schema": SCHEMA,
        "exporter": exporter,
        "name": name,
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [{
            "type": "sampled",
            "name": name,
            "unit": UNITS.get(unit, "none"),
            "startValue": 0,
            "endValue": total,
            "samples": samples,
            "weights": weights,
        }],
    }


def dumps(stacks, **options):
    return json.dumps(document(stacks, **options), separators=(",", ":")) + "\n"


def write(path_or_file, stacks, **options):
    """Write the speedscope JSON to a path or an open text file."""
    write_text(path_or_file, dumps(stacks, **options))
