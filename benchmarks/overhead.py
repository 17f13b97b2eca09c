"""Benchmark 3: overhead — how much a syscall-heavy workload (one million
open+close of one path, workloads/openloop.c) slows down with a tool
attached system-wide, for an aggregating tool (syscount-like) and a
streaming tool (opensnoop-like, output to /dev/null).

The tool is started, counted as attached once it holds perf-event/BPF-link
fds and their number has been stable for 0.4 s (plus 0.3 s), then the
workload runs; its own CLOCK_MONOTONIC time and CPU time are the measure.
Runs are interleaved (every implementation once per round) so drift in the
machine's load spreads over all of them.
"""
import os
import subprocess
import tempfile
import time

import benchlib as bl

N = 1_000_000


def impls(env_bcc):
    shim = os.path.join(bl.HERE, "scripts", "pybcc_perfbuf.py")
    bt = os.path.join(bl.HERE, "bpftrace")
    agg = [("pybcc syscount", [bl.PY, "-m", "pybcc", "syscount"], {}),
           ("libbpf-tools syscount", ["/usr/sbin/syscount"], {}),
           ("bcc syscount-bpfcc", ["/usr/sbin/syscount-bpfcc"], env_bcc),
           ("bpftrace raw_syscalls count by pid", ["bpftrace", os.path.join(bt, "syscount.bt")], {})]
    stream = [("pybcc opensnoop (ring buffer)", [bl.PY, "-m", "pybcc", "opensnoop"], {}),
              ("pybcc opensnoop (perf buffer)", [bl.PY, shim, "opensnoop"], {}),
              ("libbpf-tools opensnoop", ["/usr/sbin/opensnoop"], {}),
              ("bcc opensnoop-like (tracepoint script)",
               ["/usr/bin/python3", os.path.join(bl.HERE, "scripts", "bcc_opensnoop_tp.py")], env_bcc),
              ("bpftrace opensnoop-like", ["bpftrace", os.path.join(bt, "opensnoop.bt"), "0"], {})]
    return agg, stream


def workload(openloop, path):
    out = subprocess.run([openloop, path, str(N), "0"], capture_output=True, text=True, check=True)
    _, _, elapsed, cpu, _ = out.stdout.split()
    return float(elapsed), float(cpu)


def with_tool(openloop, path, argv, env):
    """-> dict(elapsed, cpu, tool_cpu) or dict(error)"""
    errf = tempfile.TemporaryFile()
    tool = bl.Child(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    n = bl.wait_attached_fds(tool.pid, timeout=90, alive=tool.alive)
    res = {}
    if n > 0 and tool.alive():
        time.sleep(0.3)
        res["elapsed"], res["cpu"] = workload(openloop, path)
        res["alive"] = tool.alive()
    rc, ru = tool.finish()
    res["tool_cpu"] = ru.ru_utime + ru.ru_stime
    if "elapsed" not in res or not res.get("alive"):
        errf.seek(0)
        res["error"] = bl.last_error_line(errf.read().decode(errors="replace")) + f" (exit {rc})"
    errf.close()
    return res


def run(openloop, env_bcc, reps, log):
    path = os.path.join(tempfile.gettempdir(), "pybcc-bench-openloop-target")
    open(path, "w").close()
    agg, stream = impls(env_bcc)
    allimpls = [("none", None, {})] + agg + stream
    results = {label: [] for label, _, _ in allimpls}
    broken = set()
    for rep in range(reps):
        order = allimpls[rep % len(allimpls):] + allimpls[:rep % len(allimpls)]
        for label, argv, extra in order:
            if label in broken:
                continue
            if argv is None:
                e, c = workload(openloop, path)
                r = {"elapsed": e, "cpu": c}
            else:
                r = with_tool(openloop, path, argv, dict(os.environ, **extra))
            results[label].append(r)
            log(f"  overhead {label:40} rep {rep + 1}: " +
                (r.get("error") or f"workload {r['elapsed']:.3f}s wall {r['cpu']:.3f}s CPU"
                 + (f", tool CPU {r['tool_cpu']:.2f}s" if "tool_cpu" in r else "")))
            if "error" in r:
                broken.add(label)
    os.unlink(path)
    return results, [a[0] for a in agg], [s[0] for s in stream]


def report(results, agg, stream, targets):
    base = results["none"]
    b_wall, b_cpu = bl.med([r["elapsed"] for r in base]), bl.med([r["cpu"] for r in base])
    md = []
    for title, labels, ref in (("Aggregating (syscount-like)", agg, "libbpf-tools syscount"),
                               ("Streaming (opensnoop-like, output to /dev/null)", stream,
                                "libbpf-tools opensnoop")):
        refrs = [r for r in results.get(ref, []) if "error" not in r]
        ref_wall = bl.med([r["elapsed"] for r in refrs])
        rows = [["no tool", bl.fmt([r["elapsed"] for r in base]), bl.fmt([r["cpu"] for r in base]),
                 "1.00", "", "", f"{len(base)}"]]
        for label in labels:
            rs = results.get(label, [])
            ok = [r for r in rs if "error" not in r]
            if not ok:
                rows.append([label, "**fails**: `" + (rs[0]["error"] if rs else "not run") + "`",
                             "", "", "", "", f"0/{len(rs)}"])
                continue
            wall = bl.med([r["elapsed"] for r in ok])
            rows.append([label, bl.fmt([r["elapsed"] for r in ok]), bl.fmt([r["cpu"] for r in ok]),
                         bl.ratio(wall, b_wall), bl.fmt([r["tool_cpu"] for r in ok], 2),
                         bl.ratio(wall, ref_wall) if label != ref else "1.00", f"{len(ok)}/{len(rs)}"])
        md.append(f"### {title}\n")
        md.append(bl.table(["tool attached", f"workload wall s ({N:,} open+close)", "workload CPU s",
                            "slowdown vs no tool", "tool's own CPU s", f"workload time / with {ref}",
                            "runs ok"], rows))
        md.append("")
    p = [r for r in results.get("pybcc syscount", []) if "error" not in r]
    l = [r for r in results.get("libbpf-tools syscount", []) if "error" not in r]
    if p and l:
        pw, lw = bl.med([r["elapsed"] for r in p]), bl.med([r["elapsed"] for r in l])
        targets.append(("aggregating overhead within 5 % of libbpf-tools' (workload time with pybcc "
                        "syscount ≤ 1.05 × with libbpf-tools syscount)", pw <= 1.05 * lw,
                        f"{pw:.3f} s vs {lw:.3f} s = {pw / lw:.3f}× (no tool: {b_wall:.3f} s)"))
    return "\n".join(md)
