"""A metric set while it runs: its loaded object, attached programs, metrics.

A set whose programs the kernel refuses fails alone: start() raises, the
daemon reports the reason (log and pybcc_exporter_set_up 0) and runs the
others. Links are BPF links held by file descriptors, so however the
process ends (even SIGKILL) the kernel detaches everything.
"""
from dataclasses import dataclass
from typing import Tuple

from .. import loader
from ..errors import BPFError
from .metrics import family, read_series


@dataclass
class Hook:
    choices: Tuple[str, ...]     # programs to try in order; the first that attaches serves
    required: bool = True


class RunningSet:
    def __init__(self, name, object_path, hooks, metrics, constants=None, map_sizes=None,
                 options=None):
        self.name = name
        self.object_path = object_path
        self.hooks = hooks
        self.metrics = metrics
        self.constants = constants or {}
        self.map_sizes = map_sizes or {}
        self.options = options          # the config it was made from (reload compares it)
        self.coll = None
        self.attached = []              # (program name, Program)
        self.skipped = []               # optional hooks the kernel refused: (choices, reason)

    def start(self):
        """Load and attach; on failure everything is closed and the error raised."""
        try:
            self.coll = loader.load(self.object_path, constants=self.constants, programs=[],
                                    map_sizes=self.map_sizes)
            if self.hooks is None:     # every program whose section says where it attaches
                self.hooks = [Hook((n,)) for n, ps in self.coll.spec.programs.items()
                              if ps.sdef is not None and ps.sdef.kind and ps.target]
            for hook in self.hooks:
                error = self._attach_first(hook.choices)
                if error is not None:
                    if hook.required:
                        raise error
                    self.skipped.append((hook.choices, str(error).splitlines()[0]))
        except BaseException:
            self.close()
            raise
        return self

    def _attach_first(self, choices):
        first_error = None
        for prog_name in choices:
            try:
                prog = self.coll.load_program(prog_name)
                prog.attach()
                self.attached.append((prog_name, prog))
                return None
            except BPFError as e:
                first_error = first_error or e
        return first_error

    def maps(self):
        return self.coll.maps

    def series(self):
        """(metric, {label values: value}) for each metric, read now."""
        maps = self.maps()
        for metric in self.metrics:
            yield metric, read_series(metric, maps)

    def collect(self):
        for metric, series in self.series():
            yield family(metric, series)

    def map_full(self):
        """Kernel-side inserts that failed on a full map (lost updates)."""
        m = self.coll.maps.get("map_full") if self.coll else None
        return sum(m[0]) if m is not None else 0

    def close(self):
        if self.coll is not None:
            self.coll.close()      # closes the programs' links, then maps
            self.coll = None
        self.attached = []
