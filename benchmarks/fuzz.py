#!/usr/bin/env python3
"""Fuzz every reader of untrusted input for a set time and report, per
target: executions, line coverage of its modules (coverage.py) and findings.

  python3 benchmarks/fuzz.py                    # 60 s per target
  python3 benchmarks/fuzz.py --seconds 10 --only btf,core
  python3 benchmarks/fuzz.py --no-coverage          # executions at full speed
  python3 benchmarks/fuzz.py --keep             # save findings under tests/data/fuzz/

The targets, seeds and strategies are those of tests/fuzz (hypothesis); the
test suite runs each for a few seconds. A finding is any exception other
than pybcc's typed errors, a hang (no result after 15 s here, under
coverage; 3 s in the tests) or a failed round trip. Executions are counted
under coverage.py, which costs several times the speed. Exit status 1 if anything was found.
"""
import argparse
import json
import os
import sys
import time
import warnings

# coverage.py's tracer slows the readers several times: allow for it
# (--no-coverage sets it back to 3 s).
os.environ.setdefault("PYBCC_FUZZ_DEADLINE", "15")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "fuzz")]

import runner    # noqa: E402
import targets   # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60, help="per target (default 60)")
    p.add_argument("--only", help="comma-separated target names: " + ",".join(targets.BY_NAME))
    p.add_argument("--keep", action="store_true", help="save findings as regression inputs")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--no-coverage", action="store_true",
                   help="count executions at full speed, without coverage.py")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    chosen = [targets.BY_NAME[n] for n in args.only.split(",")] if args.only else targets.TARGETS
    try:
        import coverage
    except ImportError:
        coverage = None
    if args.no_coverage:
        coverage = None
        os.environ["PYBCC_FUZZ_DEADLINE"] = "3"
        targets.DEADLINE = 3.0
    rows = []
    print(f"{'target':<12} {'seconds':>7} {'execs':>7} {'execs/s':>8} {'coverage':>9}  findings")
    for t in chosen:
        t.strategy()   # build the seeds outside the clock
        cov = None
        if coverage is not None:
            cov = coverage.Coverage(data_file=None, include=[os.path.join(ROOT, m if m.endswith(".py") else m + "/*")
                                                             for m in t.modules])
            cov.start()
        t0 = time.monotonic()
        stats = runner.fuzz(t, args.seconds, keep=args.keep)
        took = time.monotonic() - t0
        pct = None
        if cov is not None:
            cov.stop()
            total = hit = 0
            for f in cov.get_data().measured_files():
                _, statements, _, missing, _ = cov.analysis2(f)
                total += len(statements)
                hit += len(statements) - len(missing)
            pct = 100.0 * hit / total if total else None
        found = "; ".join(f"{f['error'][:80]} at {f['where']}" + (f" -> {os.path.relpath(f['file'], ROOT)}"
                                                                    if f["file"] else "")
                          for f in stats["findings"]) or "none"
        cov_text = f"{pct:.0f} %" if pct is not None else "n/a"
        print(f"{t.name:<12} {took:7.0f} {stats['executions']:7d} {stats['executions'] / took:8.0f} "
              f"{cov_text:>9}  {found}", flush=True)
        rows.append({"target": t.name, "seconds": round(took, 1), "executions": stats["executions"],
                     "coverage_percent": pct, "modules": list(t.modules),
                     "findings": [{k: v for k, v in f.items() if k != "value"} for f in stats["findings"]]})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if any(r["findings"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
