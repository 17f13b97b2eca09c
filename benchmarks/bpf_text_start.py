#!/usr/bin/env python3
"""Goal 3 of issue 16: `BPF(text=...)` start-up, CPU seconds (user+sys, the
compiler's included) and peak RSS of a typical bcc script (a tracepoint, a
hash, a histogram, a perf buffer) from exec until it is attached.

  python3 benchmarks/bpf_text_start.py [--reps 5] [--only cached,new,empty] [--compare TREE]

Three starts, each in a fresh process:
- cached: the same script again, its object in the cache;
- new:    a script never seen, with the per-boot caches (vmlinux.h, the
          dialect's precompiled header, compiler facts) already there: what
          a user editing a script sees ("cold (b)");
- empty:  the first compile ever, in an empty cache ("cold (a)").
pybcc runs as installed (the venv of benchmarks/benchlib.installed), and
that venv's `python3 -c pass` is measured beside, as the floor on this machine.
--compare TREE: another checkout (e.g. `git archive main` unpacked) measured
in the same loop, each start of one tree right after the same of the other.
The child prints its own rusage (self and waited-for children, i.e. clang)
at attached; peak RSS is the script's own (clang's is printed apart).
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib

SCRIPT = r'''
import os, resource, sys
from pybcc.bcc import BPF
prog = r"""
struct data_t { u32 pid; u64 ts; char comm[16]; };
BPF_HASH(start, u32, u64);
BPF_HISTOGRAM(dist);
BPF_PERF_OUTPUT(events);
TRACEPOINT_PROBE(sched, sched_process_exec) {
    struct data_t d = {};
    d.pid = bpf_get_current_pid_tgid() >> 32;
    d.ts = bpf_ktime_get_ns();
    bpf_get_current_comm(&d.comm, sizeof(d.comm));
    u64 *old = start.lookup(&d.pid);
    if (old)
        dist.increment(bpf_log2l(d.ts - *old + VARIANT));
    start.update(&d.pid, &d.ts);
    events.perf_submit(args, &d, sizeof(d));
    return 0;
}
"""
b = BPF(text=prog.replace("VARIANT", sys.argv[1]))
b["events"].open_perf_buffer(lambda cpu, data, size: None)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime, me.ru_maxrss, kids.ru_maxrss)
sys.stdout.flush()
os._exit(0)
'''


def run_script(cache, variant, tree=None):
    env = dict(os.environ, PYBCC_CACHE_DIR=cache)
    t = time.perf_counter()
    r = subprocess.run([benchlib.venv_python(tree), "-c", SCRIPT, str(variant)], env=env,
                       capture_output=True, text=True, cwd="/")
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"script failed: {r.stderr[-2000:]}")
    self_cpu, kids_cpu, rss, kids_rss = r.stdout.split()[-4:]
    return float(self_cpu) + float(kids_cpu), wall, int(rss) / 1024, int(kids_rss) / 1024


def interpreter():
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([benchlib.venv_python(), "-c", "pass"])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def fmt(vals):
    return f"{statistics.median(vals):.3f} ({min(vals):.3f}–{max(vals):.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="cached,new,empty")
    ap.add_argument("--compare", metavar="TREE", help="another pybcc tree, measured alongside")
    args = ap.parse_args()
    kinds = args.only.split(",")
    trees = [None] + ([os.path.abspath(args.compare)] if args.compare else [])
    for tree in trees:
        benchlib.installed(tree, log=lambda m: print(m, file=sys.stderr))
    rows = {(t, k): [] for t in trees for k in kinds}
    base = tempfile.mkdtemp(prefix="pybcc-bench-text-")
    try:
        for i, tree in enumerate(trees):   # the per-boot caches and variant 0's object
            run_script(os.path.join(base, f"warm{i}"), 0, tree)
        for rep in range(args.reps):
            for i, tree in enumerate(trees):
                warm = os.path.join(base, f"warm{i}")
                if "cached" in kinds:
                    rows[tree, "cached"].append(run_script(warm, 0, tree))
                if "new" in kinds:
                    rows[tree, "new"].append(run_script(warm, 1000 + rep, tree))
                if "empty" in kinds:
                    empty = os.path.join(base, f"empty{i}-{rep}")
                    rows[tree, "empty"].append(run_script(empty, 0, tree))
                    shutil.rmtree(empty, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    floor = [interpreter() for _ in range(args.reps)]
    print(f"python3 -c pass: {fmt(floor)} s CPU; load average {os.getloadavg()[0]:.1f}")
    print("| tree | start | CPU s to attached (incl. clang) | wall s | script peak RSS MB | clang peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for tree in trees:
        for k in kinds:
            cpu, wall, rss, crss = zip(*rows[tree, k])
            print(f"| {tree or 'this'} | {k} | {fmt(cpu)} | {statistics.median(wall):.3f} | "
                  f"{statistics.median(rss):.1f} | {statistics.median(crss):.1f} |")


if __name__ == "__main__":
    main()
