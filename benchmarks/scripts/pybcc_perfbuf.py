#!/usr/bin/env python3
"""Run a pybcc tool with the ring buffer reported as unavailable, so the tool
uses its perf-buffer path. pybcc has no flag or environment variable for this
yet; the benchmark patches the feature probe in this process only.
Usage: pybcc_perfbuf.py TOOL [ARGS]"""
import sys

from pybcc.kernel import features

features.has_ringbuf = lambda: False

from pybcc.cli import main  # noqa: E402

sys.exit(main())
