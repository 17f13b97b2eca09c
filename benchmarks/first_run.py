#!/usr/bin/env python3
"""Goal 2 of issue 16: the first run ever of every tool — CPU seconds
(user+sys) and peak RSS from exec until attached, then SIGINT, with every
cache empty and the tool's prebuilt object there (as after `pip install`).

  python3 benchmarks/first_run.py [--reps 3] [--tools a,b] [--baseline TREE] [--check-paths]

Each start gets its own new, empty PYBCC_CACHE_DIR and XDG_CACHE_HOME (and
HOME), so neither the object cache, the per-boot kernel memos, the record
code nor any other memo of an earlier start helps. Measured as
warm_start.py measures (its `measure`: /usr/bin/time, attached = attach fds
stable for 0.3 s), pybcc as installed (benchlib.installed), beside
libbpf-tools' execsnoop (the reference of "norm", one run per rep per tool)
and the venv's `python3 -c pass`. --baseline TREE: another tree's pybcc
(e.g. main exported with git archive, its prebuilt objects copied in),
alternating start by start with this one: a paired before/after.
--check-paths: one more start of each tool under strace, which must touch
nothing under /var/cache/pybcc or ~/.cache (the caches a first run must
not find).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import benchlib as bl
import warm_start as ws

TARGET = 0.3        # s CPU, issue 16 goal 2


def _fresh_env(base, label):
    """An environment whose every cache is a new empty directory."""
    home = tempfile.mkdtemp(prefix=label.replace(" ", "-") + "-", dir=base)
    return dict(os.environ, PYBCC_CACHE_DIR=os.path.join(home, "pybcc-cache"),
                XDG_CACHE_HOME=os.path.join(home, "xdg-cache"), HOME=home)


def _argv(tool, tree=None):
    args = [ws.target_pid() if a == "{pid}" else a for a in ws.TOOL_ARGS.get(tool, [])]
    return bl.pybcc_command(tree) + [tool] + args


def run(reps, log, tools=None, baseline=None):
    """-> {tool: {label: [Result, ...]}}, plus "python3 -c pass" under "_bare"."""
    bl.installed(log=log)
    if baseline:
        bl.installed(baseline, log=log)
    tools = [t for t in (tools or ws.registry_tools()) if t not in ws.NOT_MEASURED]
    trees = [("first run", None)] + ([("before", baseline)] if baseline else [])
    base = tempfile.mkdtemp(prefix="pybcc-bench-first-")
    results = {"_bare": {"python3 -c pass": []}}
    try:
        for tool in tools:
            by_label = results[tool] = {}
            for rep in range(reps):
                for label, tree in trees:
                    env = _fresh_env(base, label)
                    r = ws.measure(_argv(tool, tree), env)
                    shutil.rmtree(env["HOME"], ignore_errors=True)
                    by_label.setdefault(label, []).append(r)
                    log(f"  first {tool:14} {label:9} rep {rep + 1}: cpu={r.cpu:.3f} "
                        f"rss={r.rss_mb:.1f}MB {r.error or ''}")
                if os.access(ws.REFERENCE_PATH, os.X_OK):
                    by_label.setdefault(ws.SAME_MINUTES_REF, []).append(
                        ws.measure([ws.REFERENCE_PATH], dict(os.environ)))
            results["_bare"]["python3 -c pass"].append(ws.measure_bare(dict(os.environ)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return results


def _ok(rs):
    return [r for r in rs or [] if r.ready is not None]


def report(results, baseline):
    bare = results["_bare"]["python3 -c pass"]
    refs = [r.cpu for t, by in results.items() if t != "_bare" for r in _ok(by.get(ws.SAME_MINUTES_REF))]
    load = os.getloadavg()
    md = [f"`python3 -c pass` (the venv's): {bl.fmt([r.cpu for r in bare])} s CPU; libbpf-tools' "
          f"execsnoop (the norm's reference): {bl.fmt(refs)} s CPU; load average at the end "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.\n"]
    rows, cpus, before_cpus, misses = [], {}, {}, []
    for tool, by in results.items():
        if tool == "_bare":
            continue
        ref = bl.med([r.cpu for r in _ok(by.get(ws.SAME_MINUTES_REF))])
        cells = [tool]
        for label in (["before"] if baseline else []) + ["first run"]:
            ok = _ok(by.get(label))
            if not ok:
                cells += ["**fails**", "", ""]
                misses.append(f"- {tool}, {label}: `{(by.get(label) or [bl.Result()])[0].error}`")
                continue
            cpu = bl.med([r.cpu for r in ok])
            (before_cpus if label == "before" else cpus)[tool] = cpu
            cells += [bl.fmt([r.cpu for r in ok]), bl.fmt([r.rss_mb for r in ok], 1), bl.ratio(cpu, ref)]
        cells.append("yes" if cpus.get(tool, TARGET + 1) <= TARGET else "**no**")
        rows.append(cells)
    header = ["tool"]
    for label in (["before"] if baseline else []) + ["first run"]:
        header += [f"{label} CPU s", f"{label} MB", f"{label} norm"]
    md.append(bl.table(header + [f"≤ {TARGET} s"], rows))
    if cpus:
        vals = sorted(cpus.values())
        md.append(f"\n{sum(v <= TARGET for v in vals)} of {len(vals)} tools at ≤ {TARGET} s; "
                  f"median {bl.med(vals):.3f} s, largest {vals[-1]:.3f} s "
                  f"({max(cpus, key=cpus.get)}).")
    if before_cpus:
        both = [t for t in cpus if t in before_cpus]
        diffs = sorted(cpus[t] - before_cpus[t] for t in both)
        md.append(f"Paired: {sum(d < 0 for d in diffs)} of {len(both)} faster, median change "
                  f"{1000 * bl.med(diffs):+.1f} ms; before: {sum(before_cpus[t] <= TARGET for t in both)} "
                  f"at ≤ {TARGET} s, median {bl.med([before_cpus[t] for t in both]):.3f} s.")
    if misses:
        md.append("\n" + "\n".join(misses))
    return "\n".join(md)


def _wait_group_attached(child, timeout):
    """Whether a process of child's group (the tool, whichever pid strace
    gave it) came to hold attach fds (benchlib.attach_fds) for 0.3 s."""
    import time
    deadline, since = time.monotonic() + timeout, None
    while time.monotonic() < deadline and child.alive():
        group = [int(d) for d in os.listdir("/proc") if d.isdigit() and _pgid(d) == child.pid]
        if any(bl.attach_fds(pid) > 0 for pid in group):
            since = since or time.monotonic()
            if time.monotonic() - since >= 0.3:
                return True
        else:
            since = None
        time.sleep(0.05)
    return False


def _pgid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def check_paths(tools, log):
    """Start each tool once under strace: -> [(tool, path)] of the accesses
    to a cache a first run must not find (/var/cache/pybcc, the real ~/.cache)."""
    if not shutil.which("strace"):
        raise SystemExit("--check-paths needs strace")
    forbidden = ("/var/cache/pybcc", os.path.expanduser("~/.cache"))
    found = []
    base = tempfile.mkdtemp(prefix="pybcc-bench-first-strace-")
    try:
        for tool in tools:
            env = _fresh_env(base, "strace")
            trace = os.path.join(base, tool + ".strace")
            p = bl.Child(["strace", "-f", "-qq", "-e", "trace=%file", "-o", trace] + _argv(tool), env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            attached = _wait_group_attached(p, timeout=60)
            p.finish()
            with open(trace, errors="replace") as f:
                hits = sorted({line.split('"')[1] for line in f
                               if '"' in line and any(p in line.split('"')[1] for p in forbidden)})
            found += [(tool, h) for h in hits]
            log(f"  strace {tool:14} {'attached' if attached else 'did not attach'}: "
                f"{len(hits)} forbidden paths")
            shutil.rmtree(env["HOME"], ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return found


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", help="comma-separated (default: the registry's)")
    ap.add_argument("--baseline", metavar="TREE", help="another tree, measured start by start beside this one")
    ap.add_argument("--check-paths", action="store_true",
                    help="only: one start of each tool under strace; list any cache path it touches")
    a = ap.parse_args()
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    tools = a.tools.split(",") if a.tools else None
    if a.check_paths:
        bl.installed(log=log)
        found = check_paths([t for t in (tools or ws.registry_tools()) if t not in ws.NOT_MEASURED], log)
        print("\n".join(f"{t}: {p}" for t, p in found) or "no start touched /var/cache/pybcc or ~/.cache")
        return 1 if found else 0
    baseline = os.path.abspath(a.baseline) if a.baseline else None
    print(report(run(a.reps, log, tools, baseline), baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
