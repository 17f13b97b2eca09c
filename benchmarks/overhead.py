"""Benchmark 3: overhead — how much a syscall-heavy workload (one million
open+close of one path, workloads/openloop.c) slows down with a tool
attached system-wide, for an aggregating tool (syscount-like) and a
streaming tool (opensnoop-like, output to /dev/null).

The tool is started, counted as attached once it holds perf-event/BPF-link
fds and their number has been stable for 0.4 s (plus 0.3 s), then the
workload runs and reports its own CLOCK_MONOTONIC time and CPU time. The
BPF programs run in the workload's context, so their cost lands in the
workload's system time: the workload's CPU seconds are what the targets are
judged on (wall time on a shared 2-CPU machine mostly measures the other
tenants).
Runs are interleaved (every implementation once per round) so drift in the
machine's load spreads over all of them.
"""
import os
import signal
import subprocess
import tempfile
import time

import benchlib as bl

N = 1_000_000          # opens for the aggregating tools (and the no-tool baseline)
N_STREAM = 300_000     # opens for the streaming tools: each one is an event to print,
                       # so a million takes minutes on a loaded 2-CPU machine


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


def workload(openloop, path, n=N):
    return timed([openloop, path, str(n), "0"])


def timed(argv):
    """Run a workload of workloads/ that ends by printing "done N elapsed_s
    cpu_s rate" -> (elapsed_s, cpu_s)."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    _, _, elapsed, cpu, _ = out.stdout.split()
    return float(elapsed), float(cpu)


def with_tool(openloop, path, argv, env, n=N):
    """-> dict(elapsed, cpu, tool_cpu) or dict(error)"""
    def measure(_pid):
        elapsed, cpu = workload(openloop, path, n)
        return {"elapsed": elapsed, "cpu": cpu, "n": n}
    return while_attached(measure, argv, env)


def while_attached(measure, argv, env, stop_signal=signal.SIGINT):
    """Start the tool, wait until it is attached, then ``measure(tool_pid)``
    (a dict of results) -> that dict with tool_cpu, or with error."""
    errf = tempfile.TemporaryFile()
    tool = bl.Child(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    nfd = bl.wait_attached_fds(tool.pid, timeout=90, alive=tool.alive)
    res = {}
    if nfd > 0 and tool.alive():
        time.sleep(0.3)
        res.update(measure(tool.pid))
        res["alive"] = tool.alive()
    rc, ru = tool.finish(stop_signal)
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
    streaming = {s[0] for s in stream}
    results = {label: [] for label, _, _ in allimpls}
    broken = set()
    for rep in range(reps):
        order = allimpls[rep % len(allimpls):] + allimpls[:rep % len(allimpls)]
        for label, argv, extra in order:
            if label in broken:
                continue
            if argv is None:
                e, c = workload(openloop, path)
                r = {"elapsed": e, "cpu": c, "n": N}
            else:
                r = with_tool(openloop, path, argv, dict(os.environ, **extra),
                              N_STREAM if label in streaming else N)
            results[label].append(r)
            log(f"  overhead {label:40} rep {rep + 1}: " +
                (r.get("error") or f"workload {r['elapsed']:.3f}s wall {r['cpu']:.3f}s CPU"
                 + (f", tool CPU {r['tool_cpu']:.2f}s" if "tool_cpu" in r else "")))
            if "error" in r:
                broken.add(label)
    os.unlink(path)
    return results, [a[0] for a in agg], [s[0] for s in stream]


def report(results, agg, stream, targets):
    """Times are per million opens (streaming runs use N_STREAM and are scaled)."""
    def wall(r):
        return r["elapsed"] * N / r["n"]

    def cpu(r):
        return r["cpu"] * N / r["n"]

    base = results["none"]
    b_wall, b_cpu = bl.med([wall(r) for r in base]), bl.med([cpu(r) for r in base])
    md = []
    for title, labels, ref in (("Aggregating (syscount-like)", agg, "libbpf-tools syscount"),
                               ("Streaming (opensnoop-like, output to /dev/null)", stream,
                                "libbpf-tools opensnoop")):
        refrs = [r for r in results.get(ref, []) if "error" not in r]
        ref_wall, ref_cpu = bl.med([wall(r) for r in refrs]), bl.med([cpu(r) for r in refrs])
        rows = [["no tool", bl.fmt([wall(r) for r in base]), bl.fmt([cpu(r) for r in base]),
                 "1.00 / 1.00", "", "", f"{len(base)}"]]
        for label in labels:
            rs = results.get(label, [])
            ok = [r for r in rs if "error" not in r]
            if not ok:
                rows.append([label, "**fails**: `" + (rs[0]["error"] if rs else "not run") + "`",
                             "", "", "", "", f"0/{len(rs)}"])
                continue
            w, c = bl.med([wall(r) for r in ok]), bl.med([cpu(r) for r in ok])
            rows.append([label, bl.fmt([wall(r) for r in ok]), bl.fmt([cpu(r) for r in ok]),
                         f"{bl.ratio(c, b_cpu)} / {bl.ratio(w, b_wall)}",
                         bl.fmt([r["tool_cpu"] for r in ok], 2),
                         "" if label == ref else f"{bl.ratio(c, ref_cpu, 3)} / {bl.ratio(w, ref_wall, 3)}",
                         f"{len(ok)}/{len(rs)}"])
        n = N if title.startswith("Agg") else N_STREAM
        md.append(f"### {title}\n")
        md.append(f"Workload: {n:,} open+close; workload times scaled to 1,000,000 opens; "
                  "the tool's own CPU is for the whole run (start-up included), unscaled.\n")
        md.append(bl.table(["tool attached", "workload wall s", "workload CPU s (user+sys)",
                            "slowdown vs no tool (CPU / wall)", "tool's own CPU s",
                            f"this / {ref} (CPU / wall)", "runs ok"], rows))
        md.append("")
    p = [r for r in results.get("pybcc syscount", []) if "error" not in r]
    lb = [r for r in results.get("libbpf-tools syscount", []) if "error" not in r]
    if p and lb:
        pc, lc = bl.med([cpu(r) for r in p]), bl.med([cpu(r) for r in lb])
        pw, lw = bl.med([wall(r) for r in p]), bl.med([wall(r) for r in lb])
        targets.append(("aggregating overhead within 5 % of libbpf-tools' (workload CPU with pybcc "
                        "syscount ≤ 1.05 × with libbpf-tools syscount)", pc <= 1.05 * lc,
                        f"CPU {pc:.3f} s vs {lc:.3f} s = {pc / lc:.3f}× (no tool {b_cpu:.3f} s); "
                        f"wall {pw:.2f} s vs {lw:.2f} s = {pw / lw:.2f}×"))
    return "\n".join(md)
