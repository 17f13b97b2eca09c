"""Benchmark 1b: warm start of every tool in pybcc's registry — CPU seconds
(user+sys) and peak RSS of a start that finds its caches filled, from exec
until the tool is attached and then stopped with SIGINT — beside
libbpf-tools' and bpftrace's version of the same tool where one exists.

Attached is when the process holds perf-event/BPF-link fds and their number
has stayed the same for 0.3 s; then it gets SIGINT and its rusage is read
from wait4 (so the CPU includes detaching and the final report, for every
implementation alike). pybcc runs as a user installs it: the `pybcc`
command of a venv that `pip install`ed this checkout (benchlib.installed;
not editable, no checkout on sys.path), under the interpreter itself (not
a wrapper such as pyenv's shim). That venv's bare interpreter (`python3 -c
pass`) is measured too: on a loaded machine every CPU figure is inflated,
that one included.
"norm" is a CPU time divided by libbpf-tools' execsnoop's median, measured
beside each tool (one reference run per rep: over a run of 100 tools the
load drifts, and a reference measured once at the start made later tools'
norms look better or worse than they were): that ratio is what
tests/test_startup.py compares with the figures committed in
benchmarks/warm_start.json.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import benchlib as bl

FIGURES = os.path.join(bl.HERE, "warm_start.json")
# Tools that cannot start without a target.
TOOL_ARGS = {
    "funccount": ["t:syscalls:sys_enter_openat"],
    "stackcount": ["t:syscalls:sys_enter_openat"],
    "trace": ["t:syscalls:sys_enter_openat"],
    "argdist": ["-C", "t:syscalls:sys_enter_openat():int:args->flags"],
    # the u* tools trace one process: "{pid}" is a python3.11 (USDT probes) this run starts
    "ucalls": ["-l", "python", "{pid}"],
    "uflow": ["-l", "python", "{pid}"],
    "ugc": ["-l", "python", "{pid}"],
    "uobjnew": ["-l", "c", "{pid}"],
    "uthreads": ["{pid}"],
    "ustat": ["-p", "{pid}"],
    "netqtop": ["-n", "lo"],
    # the database tools probe a server binary (USDT in Debian's PostgreSQL)
    "dbslower": ["postgres", "-x"] + sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))[-1:],
    "dbstat": ["postgres", "-x"] + sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))[-1:],
    "dirtop": ["-d", "/tmp"],
    "fsdist": ["-t", "ext4"],
    "fsslower": ["-t", "ext4"],
    "biolatpcts": ["1:0"],      # issue 11: a block device (MAJ:MIN) is required
    # issue 12 (locks and generic probes); deadlock traces this benchmark's process;
    # inject refuses without bpf_override_return and reset-trace attaches nothing
    "funclatency": ["c:getpid"],
    "funcinterval": ["t:sched:sched_switch"],
    "funcslower": ["c:getpid"],
    "deadlock": [str(os.getpid())],
    "ttysnoop": ["/dev/console"],
    "inject": ["kmalloc", "SyS_mount()"],
}
_target = None


def target_pid():
    """The pid of a /usr/bin/python3.11 that sleeps in a loop, started once."""
    global _target
    if _target is None:
        import atexit
        _target = subprocess.Popen(["/usr/bin/python3.11", "-c",
                                    "import time\nwhile True: time.sleep(0.01)"])
        atexit.register(_target.kill)
    return str(_target.pid)
REFERENCE = "execsnoop"
REFERENCE_PATH = f"/usr/sbin/{REFERENCE}"
SAME_MINUTES_REF = "reference"      # label of the reference runs made beside each tool


# Never started by the benchmark: they change the machine for everyone (not
# tracing tools), or load no BPF at all.
NOT_MEASURED = {"reset-trace": "resets tracefs state", "inject": "injects kernel failures",
                "mptcpify": "turns every program's TCP sockets into MPTCP",
                "tplist": "loads no BPF", "bpflist": "loads no BPF"}


def registry_tools():
    sys.path.insert(0, bl.REPO)
    from pybcc.tools import registry
    return [t.name for t in registry.TOOLS   # aliases run the same code
            if not getattr(t, "alias_of", "") and t.name not in NOT_MEASURED]


def _child_of(pid, timeout=10.0):
    """The pid /usr/bin/time started (the tool)."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.005)
    return None


def measure(argv, env, timeout=30.0):
    """Start argv under /usr/bin/time, wait until attached, SIGINT it: ->
    Result. /usr/bin/time, not our own wait4: a child forked from this
    Python process inherits its peak RSS across exec (ru_maxrss would
    never read below ~15 MB, whatever the tool)."""
    import time
    res = bl.Result()
    with tempfile.NamedTemporaryFile(prefix="pybcc-warm-", mode="r") as out:
        t0 = time.perf_counter()
        p = bl.Child(["/usr/bin/time", "-o", out.name, "-f", "%U %S %M", *argv], env=env,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     cwd="/")
        tool_pid = _child_of(p.pid)
        n = bl.wait_attached_fds(tool_pid, timeout=timeout, stable=0.3, alive=p.alive) \
            if tool_pid else -1
        if n > 0:
            res.ready = time.perf_counter() - t0 - 0.3
        rc, ru = p.finish()    # SIGINT to the group: GNU time ignores it, the tool stops
        res.rc = rc
        fields = (out.read().strip().splitlines() or [""])[-1].split()
        err = p.popen.stderr.read().decode(errors="replace")
        p.popen.stderr.close()
    # CPU from wait4 (µs, the tool and time itself), peak RSS from time (KB)
    res.cpu = ru.ru_utime + ru.ru_stime
    try:
        res.rss_mb = int(fields[2]) / 1024.0
    except (IndexError, ValueError):
        res.rss_mb, res.ready = 0.0, None
    if res.ready is None:
        res.error = bl.last_error_line(err) + f" (exit {rc})"
    return res


def measure_bare(env):
    with tempfile.NamedTemporaryFile(prefix="pybcc-warm-", mode="r") as out:
        p = bl.Child(["/usr/bin/time", "-o", out.name, "-f", "%U %S %M", bl.venv_python(), "-c", "pass"],
                     env=env, cwd="/")
        _, ru = bl.wait_rusage(p.pid)
        m = out.read().split()[-1]
    res = bl.Result()
    res.ready, res.cpu, res.rss_mb = 0.0, ru.ru_utime + ru.ru_stime, int(m) / 1024.0
    return res


# --baseline TREE: another tree's pybcc measured beside this one, rep by rep
# (a paired before/after in the same minutes; each has its own cache dir)
BASELINE = None
NO_REFERENCES = False    # --no-references: pybcc only (libbpf-tools' execsnoop still, for "norm")


def impls(tool):
    args = [target_pid() if a == "{pid}" else a for a in TOOL_ARGS.get(tool, [])]
    out = [("pybcc warm", bl.pybcc_command() + [tool] + args)]
    if BASELINE:
        out.append(("pybcc before", bl.pybcc_command(BASELINE) + [tool] + args))
    if NO_REFERENCES and tool != REFERENCE:
        return out
    if os.access(f"/usr/sbin/{tool}", os.X_OK):
        out.append(("libbpf-tools", [f"/usr/sbin/{tool}"]))
    bt = os.path.join(bl.HERE, "bpftrace", tool + ".bt")
    if os.path.exists(bt) and shutil.which("bpftrace"):
        out.append(("bpftrace", ["bpftrace", bt] + (["0"] if tool == "opensnoop" else [])))
    return out


def run(reps, log, tools=None):
    """-> {tool: {label: [Result, ...]}}, plus "python3 -c pass" under "_bare"."""
    bl.installed(log=log)
    if BASELINE:
        bl.installed(BASELINE, log=log)
    tools = [t for t in (tools or registry_tools()) if t not in NOT_MEASURED]
    cache = tempfile.mkdtemp(prefix="pybcc-bench-warm-")
    env = dict(os.environ, PYBCC_CACHE_DIR=cache)
    # the baseline's own cache: one tree's cache sweep must not cool the other's
    env_before = dict(os.environ, PYBCC_CACHE_DIR=os.path.join(cache, "before"))
    results = {"_bare": {"python3 -c pass": []}}
    if REFERENCE not in tools:
        tools = [REFERENCE] + list(tools)
    try:
        for tool in tools:
            rows = impls(tool)
            for label, argv in rows:       # fills the caches: the runs below are warm
                if label.startswith("pybcc"):
                    measure(argv, env_before if label == "pybcc before" else env)
            by_label = results[tool] = {}
            for rep in range(reps):
                for label, argv in rows:
                    r = measure(argv, env_before if label == "pybcc before" else env)
                    by_label.setdefault(label, []).append(r)
                    log(f"  warm {tool:14} {label:13} rep {rep + 1}: cpu={r.cpu:.3f} "
                        f"rss={r.rss_mb:.1f}MB {r.error or ''}")
                # the norm's reference, measured in the same minutes as this
                # tool (the load drifts over a run of 100 tools)
                if tool != REFERENCE and os.access(REFERENCE_PATH, os.X_OK):
                    by_label.setdefault(SAME_MINUTES_REF, []).append(measure([REFERENCE_PATH], env))
                if tool == REFERENCE:
                    results["_bare"]["python3 -c pass"].append(measure_bare(env))
    finally:
        subprocess.run(["rm", "-rf", cache])
    return results


def reference_cpu(results):
    return bl.med([r.cpu for r in results.get(REFERENCE, {}).get("libbpf-tools", []) if r.ready])


def norms(results, label="pybcc warm"):
    """{tool: pybcc warm CPU / libbpf-tools execsnoop CPU} (medians; the
    reference's runs made beside that tool where there are some)."""
    ref = reference_cpu(results)
    out = {}
    for tool, by_label in results.items():
        ok = [r.cpu for r in by_label.get(label, []) if r.ready is not None]
        beside = [r.cpu for r in by_label.get(SAME_MINUTES_REF, []) if r.ready is not None]
        tool_ref = bl.med(beside) if beside else ref
        if tool_ref and ok:
            out[tool] = round(bl.med(ok) / tool_ref, 2)
    return out


def write_figures(results):
    with open(FIGURES, "w") as f:
        json.dump({"reference": f"/usr/sbin/{REFERENCE} (libbpf-tools), CPU s",
                   "norm": norms(results)}, f, indent=1, sort_keys=True)
        f.write("\n")


def report(results, targets):
    ref = reference_cpu(results)
    norm = norms(results)
    bare = results["_bare"]["python3 -c pass"]
    md = [f"Interpreter alone (the venv's `python3 -c pass`) in this run: {bl.fmt([r.cpu for r in bare])} s CPU, "
          f"{bl.fmt([r.rss_mb for r in bare], 1)} MB. libbpf-tools' execsnoop (the reference "
          f"of 'norm'): {ref and round(ref, 3)} s CPU.\n"]
    rows = []
    misses = []
    for tool, by_label in results.items():
        if tool == "_bare":
            continue
        cells = [tool]
        for label in ("pybcc warm", "libbpf-tools", "bpftrace"):
            rs = by_label.get(label)
            ok = [r for r in rs or [] if r.ready is not None]
            if not rs:
                cells += ["—", "—"]
            elif not ok:
                cells += ["**fails**", ""]
                misses.append(f"- {tool}, {label}: `{rs[0].error}`")
            else:
                cells += [bl.fmt([r.cpu for r in ok]), bl.fmt([r.rss_mb for r in ok], 1)]
        cells.append(f"{norm[tool]:.2f}" if tool in norm else "—")
        rows.append(cells)
        warm = [r for r in by_label.get("pybcc warm", []) if r.ready is not None]
        if warm:
            cpu, rss = bl.med([r.cpu for r in warm]), bl.med([r.rss_mb for r in warm])
            targets.append((f"{tool}: warm start ≤ 0.08 s CPU", cpu <= 0.08, f"{cpu:.3f} s"))
            targets.append((f"{tool}: warm start ≤ 22 MB peak RSS", rss <= 22, f"{rss:.1f} MB"))
    md.append(bl.table(["tool", "pybcc warm CPU s", "pybcc MB", "libbpf-tools CPU s", "libbpf-tools MB",
                        "bpftrace CPU s", "bpftrace MB", "norm (pybcc CPU / libbpf execsnoop CPU)"], rows))
    if misses:
        md.append("\n" + "\n".join(misses))
    return "\n".join(md)


def paired_report(results):
    """The --baseline table: before and after, medians, same minutes."""
    before, after = norms(results, "pybcc before"), norms(results)
    rows = []
    for tool, by_label in results.items():
        b = [r for r in by_label.get("pybcc before", []) if r.ready is not None]
        a = [r for r in by_label.get("pybcc warm", []) if r.ready is not None]
        if tool == "_bare" or not (a or b):
            continue
        rows.append([tool, bl.fmt([r.cpu for r in b]) if b else "**fails**",
                     bl.fmt([r.rss_mb for r in b], 1) if b else "",
                     bl.fmt([r.cpu for r in a]) if a else "**fails**",
                     bl.fmt([r.rss_mb for r in a], 1) if a else "",
                     f"{before[tool]:.2f} → {after[tool]:.2f}" if tool in before and tool in after else "—"])
    return bl.table(["tool", "before CPU s", "before MB", "after CPU s", "after MB",
                     "norm before → after"], rows)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", help="comma-separated (default: the registry's)")
    ap.add_argument("--write-figures", action="store_true", help="update " + FIGURES)
    ap.add_argument("--baseline", metavar="TREE",
                    help="also measure TREE's pybcc (e.g. main, exported with git archive), "
                         "alternating with this tree's: a paired before/after table")
    ap.add_argument("--no-references", action="store_true",
                    help="skip libbpf-tools and bpftrace (but libbpf-tools' execsnoop, the norm's reference)")
    a = ap.parse_args()
    BASELINE, NO_REFERENCES = a.baseline, a.no_references
    res = run(a.reps, lambda m: print(m, file=sys.stderr), a.tools.split(",") if a.tools else None)
    tg = []
    print(report(res, tg))
    if BASELINE:
        print("\n" + paired_report(res))
    if a.write_figures:
        write_figures(res)
