#!/usr/bin/env python3
"""Overhead of the off-CPU tools on a context-switch-heavy workload: two
processes pinned to one CPU pass a byte back and forth over pipes
(workloads/switchloop.c), so every round trip is two context switches and
each one runs the tools' sched_switch program (and offwaketime's and
wakeuptime's sched_waking one).

Compared, interleaved (every variant once per round, the order rotated):
no tool; each pybcc tool with its hash maps preallocated, or some of them
allocated at run time (BPF_F_NO_PREALLOC, as Tool(no_prealloc=...) asks on
kernels >= 6.1), chosen by scripts/pybcc_map_alloc.py; libbpf-tools' tool
where there is one. The workload reports its own CPU time (user+sys of both
processes: the BPF programs run in their context) and wall time. While it
runs, the kernel's BPF stats are on, and each program's run time per run is
read from the programs the tool holds (bpf_progstats): the direct cost of
one event, free of the machine's noise.

  sudo python3 benchmarks/switch_overhead.py --reps 8
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile

import benchlib as bl
import bpf_progstats
import overhead

MAP_ALLOC = os.path.join(bl.HERE, "scripts", "pybcc_map_alloc.py")


# Per tool, the sets of hash maps allocated at run time that are compared:
# all that can be (what session 8 shipped), the rarely-added ``counts``
# only, and none (every map preallocated: the reference).
RUN_TIME_MAPS = {"offcputime": ["start,counts", "counts", ""],
                 "offwaketime": ["start,counts,wokeby", "counts", ""],
                 "wakeuptime": ["start,counts", "counts", ""]}


def variants(tools):
    """(label, argv or None, the label it is compared with) for each variant
    of TOOLS: pybcc with each set of RUN_TIME_MAPS, libbpf-tools' tool."""
    out = [("no tool", None, None)]
    for tool in tools:
        ref = f"pybcc {tool}, every map preallocated"
        for maps in RUN_TIME_MAPS[tool]:
            label = f"pybcc {tool}, allocated at run time: {maps}" if maps else ref
            out.append((label, [bl.PY, MAP_ALLOC, maps, tool], ref))
        if os.path.exists(f"/usr/sbin/{tool}"):
            out.append((f"libbpf-tools {tool}", [f"/usr/sbin/{tool}"], ref))
    return out


def measure(switchloop, round_trips, cpu):
    """The workload's run, with the BPF stats of the tool's programs."""
    def run(tool_pid):
        stats = bpf_progstats.enable()
        try:
            before = bpf_progstats.snapshot([tool_pid])
            elapsed, cpu_s = overhead.timed([switchloop, str(round_trips), str(cpu)])
            progs = bpf_progstats.delta(before, bpf_progstats.snapshot([tool_pid]))
        finally:
            if stats is not None:
                os.close(stats)
        return {"elapsed": elapsed, "cpu": cpu_s, "progs": progs if stats is not None else {}}
    return run


def run(args, log):
    workdir = tempfile.mkdtemp(prefix="pybcc-switchloop-")
    switchloop = os.path.join(workdir, "switchloop")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", switchloop,
                    os.path.join(bl.HERE, "workloads", "switchloop.c")], check=True)
    # the pybcc measured is this tree's, whatever python3 would import elsewhere
    env = dict(os.environ, PYTHONPATH=bl.REPO)
    every = variants(args.tools.split(","))
    results = {label: [] for label, _, _ in every}
    broken = set()
    for rep in range(args.reps):
        for label, argv, _ in every[rep % len(every):] + every[:rep % len(every)]:
            if label in broken:
                continue
            if argv is None:
                e, c = overhead.timed([switchloop, str(args.round_trips), str(args.cpu)])
                r = {"elapsed": e, "cpu": c}
            else:
                # SIGKILL: the final report (symbolizing every stack seen
                # machine-wide) is not what is measured here
                r = overhead.while_attached(measure(switchloop, args.round_trips, args.cpu),
                                            argv, env, signal.SIGKILL)
            r["rep"] = rep
            results[label].append(r)
            log(f"  {label:45} rep {rep + 1}: " + (
                r.get("error") or f"workload {r['elapsed']:.3f}s wall {r['cpu']:.3f}s CPU; " +
                ", ".join(f"{p} {ns / max(n, 1):.0f} ns x {n}" for p, (n, ns) in
                          sorted(r.get("progs", {}).items()))))
            if "error" in r:
                broken.add(label)
    os.unlink(switchloop)
    os.rmdir(workdir)
    return every, results


def paired(runs, refs, far=1.2):
    """Workload CPU over the reference's in the same round: the median ratio
    and the runs more than ``far`` times the reference's."""
    ref_cpu = {r["rep"]: r["cpu"] for r in refs if "error" not in r}
    ratios = [r["cpu"] / ref_cpu[r["rep"]] for r in runs if r["rep"] in ref_cpu]
    if not ratios:
        return "—"
    return f"{bl.med(ratios):.3f} ({sum(x > far for x in ratios)} > {far})"


def report(every, results, round_trips):
    base = results["no tool"]
    b_cpu, b_wall = bl.med([r["cpu"] for r in base]), bl.med([r["elapsed"] for r in base])
    rows = []
    for label, _, ref in every:
        rs = results[label]
        ok = [r for r in rs if "error" not in r]
        if not ok:
            rows.append([label, "**fails**: `" + (rs[0]["error"] if rs else "not run") + "`",
                         "", "", "", "", "", f"0/{len(rs)}"])
            continue
        cpu = [r["cpu"] for r in ok]
        extra = [(c - b_cpu) / (2 * round_trips) * 1e9 for c in cpu]
        names = sorted({p for r in ok for p in r.get("progs", {})})
        per_run = ", ".join(
            f"{p} " + bl.fmt([r["progs"][p][1] / r["progs"][p][0] for r in ok
                              if r["progs"].get(p, (0,))[0]], 0) for p in names)
        rows.append([label, bl.fmt(cpu), bl.fmt([r["elapsed"] for r in ok]),
                     f"{bl.ratio(bl.med(cpu), b_cpu)} / "
                     f"{bl.ratio(bl.med([r['elapsed'] for r in ok]), b_wall)}",
                     "" if ref is None else bl.fmt(extra, 0),
                     "" if ref in (None, label) else paired(ok, results[ref]),
                     per_run or "", f"{len(ok)}/{len(rs)}"])
    return bl.table(["variant", "workload CPU s", "workload wall s",
                     "slowdown vs no tool (CPU / wall)", "added CPU ns per switch",
                     "CPU / every map preallocated, same round (median; runs above 1.2)", "BPF ns per run (program: median, range)", "runs ok"],
                    rows)


# What each tool's Tool() is given (lib/offcpu.run): object, constants, map sizes.
TOOL_LOADS = {"offcputime": ("offcputime", {}, {"stack_traces": 1024, "wokeby": 1}),
              "offwaketime": ("offcputime", {"track_wakers": True}, {"stack_traces": 16384}),
              "wakeuptime": ("wakeuptime", {}, {"stack_traces": 16384})}


def tool_init_cost(tools, reps):
    """{(tool, run-time maps): [CPU s of one Tool()]}: the start-up cost of
    each choice, measured in this process (map creation is kernel time
    charged to the caller), the variants alternating."""
    import time
    from pybcc.tools.lib.runtime import Tool, tool_object
    out = {}
    for _ in range(reps):
        for tool in tools:
            obj, constants, sizes = TOOL_LOADS[tool]
            for maps in RUN_TIME_MAPS[tool]:
                t0 = time.process_time()
                with Tool(tool, constants, obj=tool_object(obj), map_sizes=sizes,
                          no_prealloc=[m for m in maps.split(",") if m]):
                    pass
                out.setdefault((tool, maps), []).append(time.process_time() - t0)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=8)
    p.add_argument("--round-trips", type=int, default=200_000)
    p.add_argument("--cpu", type=int, default=1, help="the CPU both processes run on (-1: any)")
    p.add_argument("--tools", default="offcputime,offwaketime,wakeuptime")
    p.add_argument("--startup", action="store_true",
                   help="instead: the CPU of each variant's Tool() (map creation), --reps times")
    args = p.parse_args()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)
    if args.startup:
        costs = tool_init_cost(args.tools.split(","), args.reps)
        print(bl.table(["tool", "allocated at run time", "Tool() CPU ms (min, median)"],
                       [[tool, maps or "none", f"{min(v) * 1e3:.1f}, {bl.med(v) * 1e3:.1f}"]
                        for (tool, maps), v in costs.items()]))
        return
    every, results = run(args, log)
    print(f"Workload: {args.round_trips:,} pipe round trips "
          f"({2 * args.round_trips:,} context switches) on CPU {args.cpu}, "
          f"{args.reps} interleaved rounds; medians (range).\n")
    print(report(every, results, args.round_trips))


if __name__ == "__main__":
    main()
