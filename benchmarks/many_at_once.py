#!/usr/bin/env python3
"""Twenty pybcc tools at once (#18 item 3): start them together, let them
run, stop them with a mix of SIGINT, SIGTERM and SIGKILL, then count what
of theirs is left: programs, links, maps, perf events, uprobe/kprobe events,
bpffs entries and tracefs instances. Run as root.

  python3 benchmarks/many_at_once.py [--settle 10] [--rounds 3] [--json out.json]
"""
import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import many_at_once as m   # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--settle", type=float, default=10, help="seconds they run once all attached")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--json")
    args = p.parse_args()
    reports, bad = [], 0
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="pybcc-many-") as cache:
            env = dict(os.environ, PYBCC_CACHE_DIR=cache)
            r = m.run(m.TOOLS, settle=args.settle, env=env)
        reports.append(r)
        print(f"round {n + 1}: {len(m.TOOLS)} tools, all attached after {r['startup_seconds']} s; "
              f"held {r['held']['prog']} programs, {r['held']['link']} links, {r['held']['map']} maps, "
              f"{r['perf_events']} perf events")
        for res in r["results"]:
            flag = "TRACEBACK" if res["traceback"] else ("not attached" if not res["attached"] else "")
            print(f"  {res['tool']:<20} {res['signal']:<8} rc={res['rc']:<4} {flag}")
        print(f"  leftovers: {r['leftovers'] or 'none'}")
        bad += bool(r["leftovers"]) + sum(res["traceback"] or not res["attached"] for res in r["results"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(reports, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
