#!/usr/bin/env python3
"""Run a pybcc tool with the benchmark's choice of which hash maps are
allocated at run time (BPF_F_NO_PREALLOC, where the kernel allows it) in
place of the tool's own (Tool(no_prealloc=...)), to measure what run-time
allocation costs in the traced events. pybcc has no flag for this; the
benchmark patches Tool in this process only.
Usage: pybcc_map_alloc.py MAPS TOOL [ARGS]   (MAPS: comma separated; "" for none)"""
import sys

from pybcc.tools.lib import runtime

_maps = [m for m in sys.argv.pop(1).split(",") if m]
_init = runtime.Tool.__init__


def _init_chosen(self, *args, no_prealloc=(), **kw):
    _init(self, *args, no_prealloc=_maps, **kw)


runtime.Tool.__init__ = _init_chosen

from pybcc.cli import main  # noqa: E402

sys.exit(main())
