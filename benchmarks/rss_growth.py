#!/usr/bin/env python3
"""Issue 16, goal 4: does a histogram tool's memory stay flat while it runs?

Starts a tool as installed (benchlib.installed()), takes its RSS when its
first report is printed, then every --every seconds for --minutes, and says
how far the RSS moved from that start (the goal: within 2 MB after 10
minutes). Usage: benchmarks/rss_growth.py [--tool runqlat --args "1"]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import benchlib

GOAL_MB = 2.0


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ProcessLookupError(pid)


def start(argv, env, tool):
    """Start the tool; return once it printed its first report."""
    reports = []
    p = benchlib.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                         cwd="/", start_new_session=True)

    def read():     # a report ends with a blank line (histograms) or is one line
        for line in p.stdout:
            if not line.strip():
                reports.append(time.monotonic())
    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not reports:
        if p.poll() is not None or time.monotonic() > deadline:
            stop(p, reports)
            sys.exit(f"rss_growth: {tool} printed no report (exit {p.poll()})")
        time.sleep(0.1)
    return p, reports


def stop(p, _reports):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGINT)
    p.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", default="runqlat")
    ap.add_argument("--args", default="1", help="the tool's arguments (default: a report each second)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--json", help="also write the samples here")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="pybcc-rss-") as cache:
        env = dict(os.environ, PYBCC_CACHE_DIR=cache)
        argv = benchlib.pybcc_command() + [a.tool] + a.args.split()
        stop(*start(argv, env, a.tool))     # a first run fills the cache: measure a warm one
        p, reports = start(argv, env, a.tool)
        try:
            t0, first = time.monotonic(), rss_kb(p.pid)
            samples = [(0.0, first, len(reports))]
            while time.monotonic() - t0 < a.minutes * 60:
                time.sleep(a.every)
                samples.append((round(time.monotonic() - t0, 1), rss_kb(p.pid), len(reports)))
        finally:
            stop(p, reports)

    start_kb = first
    end, peak = samples[-1][1], max(s[1] for s in samples)
    growth_mb = (end - start_kb) / 1024
    print(f"{a.tool} {a.args}: {len(reports)} reports in {samples[-1][0] / 60:.1f} min; "
          f"RSS at the first report {start_kb / 1024:.1f} MB, at the end {end / 1024:.1f} MB "
          f"({growth_mb:+.2f} MB), peak {peak / 1024:.1f} MB; load {os.getloadavg()[0]:.1f}")
    print(f"goal 4 (within {GOAL_MB:g} MB): {'met' if abs(growth_mb) <= GOAL_MB else 'NOT met'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"tool": a.tool, "args": a.args, "samples": samples}, f)


if __name__ == "__main__":
    main()
