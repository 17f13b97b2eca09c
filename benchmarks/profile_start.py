#!/usr/bin/env python3
"""Where a pybcc tool's start-up goes, in CPU time (not wall time, which on a
shared machine mostly measures the other tenants).

  python3 benchmarks/profile_start.py execsnoop [--cold] [--cprofile [--top 25]]

First the phases: a few functions wrapped with CPU timers (process_time, and
RUSAGE_CHILDREN for clang), which distorts nothing. With --cprofile, also runs `pybcc TOOL --duration`-like start-up (the tool is stopped right after
it attached: SIGINT to itself from a timer) under cProfile with
time.process_time as the clock, with PYBCC_CACHE_DIR warm (run once first)
or empty (--cold), then prints the phases (imports, compile/cache,
BTF parsing, load, attach) and the top functions by own CPU time.
"""
import argparse
import atexit
import shutil
import io
import os
import pstats
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import cProfile, os, signal, sys, threading, time, pstats
tool, out, stop_after = sys.argv[1], sys.argv[2], float(sys.argv[3])
prof = cProfile.Profile(time.process_time)
# stop once the tool prints its header/"Tracing" line (it has attached then)
real_stdout = sys.stdout
class Watch:
    def write(self, s):
        if not getattr(self, "armed", False) and s.strip():
            self.armed = True
            threading.Timer(stop_after, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return len(s)
    def flush(self):
        pass
sys.stdout = Watch()
prof.enable()
from pybcc.cli import main
try:
    main([tool])
except SystemExit:
    pass
prof.disable()
prof.dump_stats(out)
"""

# --- phases: wrap a few functions with CPU timers (no profiler distortion) ---------
PHASE_CHILD = r"""
import os, resource, signal, sys, threading, time, json, functools, importlib
tool, out = sys.argv[1], sys.argv[2]
pt = time.process_time
def children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
acc = {}
depth = {}
def wrap(label, fn):
    @functools.wraps(fn)
    def w(*a, **k):
        if depth.get(label):
            return fn(*a, **k)
        depth[label] = 1
        t0, c0, w0 = pt(), children(), time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            depth[label] = 0
            e = acc.setdefault(label, [0.0, 0.0, 0.0, 0])
            e[0] += pt() - t0; e[1] += children() - c0; e[2] += time.perf_counter() - w0; e[3] += 1
    return w
marks = {"interpreter start-up (before main)": pt()}
t0 = pt()
import pybcc.cli
from pybcc.btf import types as T, cgen
from pybcc.compiler import build
from pybcc import loader
marks["import cli + btf/compiler/loader"] = pt() - t0
T.BTF.parse = classmethod(wrap("BTF.parse (all blobs)", T.BTF.parse.__func__))
cgen.vmlinux_header = wrap("vmlinux.h: cgen.vmlinux_header (incl. its BTF parse)", cgen.vmlinux_header)
build._exec = wrap("clang run (build._exec)", build._exec)
build.compile = wrap("compiler.compile total (cache lookup or build)", build.compile)
loader.Loader._apply_core = wrap("loader CO-RE (_apply_core, incl. kernel BTF)", loader.Loader._apply_core)
loader.load = wrap("loader.load total", loader.load)
import pybcc.compiler
pybcc.compiler.compile = build.compile
t0 = pt()
mod = importlib.import_module("pybcc.tools." + tool)
marks["import tool module (+_runtime, rest of pybcc)"] = pt() - t0
from pybcc.tools.lib import runtime as _runtime
_runtime.Tool.attach = wrap("program load + attach (Tool.attach)", _runtime.Tool.attach)
_runtime.Tool.__init__ = wrap("Tool() (compile + load)", _runtime.Tool.__init__)
_runtime.Tool.open_events = wrap("open event reader", _runtime.Tool.open_events)
class Watch:
    armed = False
    def write(self, s):
        if not self.armed and s.strip():
            self.armed = True
            marks["until first output (attached)"] = pt() - tstart
            threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return len(s)
    def flush(self): pass
sys.stdout = Watch()
tstart = pt()
try:
    _runtime.run_tool(mod.main, [])
except SystemExit:
    pass
marks["total process CPU (self)"] = pt()
marks["children CPU (clang)"] = children()
ru = resource.getrusage(resource.RUSAGE_SELF)
marks["peak RSS MB (self)"] = ru.ru_maxrss / 1024
json.dump({"marks": marks, "acc": acc}, open(out, "w"))
"""


# --- warm phases as installed: user and sys CPU per phase -------------------------
# Run by the venv's interpreter (benchlib.installed: the real interpreter, a
# non-editable install), stamped with getrusage (user and sys apart: map
# creation and the verifier are sys time) at each phase's end.
WARM_PHASES_CHILD = r"""
import os, sys, time
import resource
def now():
    r = resource.getrusage(resource.RUSAGE_SELF); return (r.ru_utime, r.ru_stime)
stamps = [("interpreter+site", now())]
import signal, threading
tool = sys.argv[1]; argv = sys.argv[2:]
import pybcc.cli as cli
getattr(cli, "_use_record_code", lambda: None)()     # as the CLI does first
stamps.append(("import pybcc.cli (+argparse, re)", now()))
from pybcc.tools import registry
module, rest = registry.command(tool, argv)
import importlib
mod = importlib.import_module("pybcc.tools." + module)
stamps.append(("import tool module (+runtime, loader, ...)", now()))
from pybcc.tools.lib import runtime
from pybcc import loader
import argparse
acc = {}
def wrap(obj, name, label):
    fn = getattr(obj, name)
    def w(*a, **k):
        t0 = now()
        try: return fn(*a, **k)
        finally:
            t1 = now(); e = acc.setdefault(label, [0, 0, 0])
            e[0] += t1[0]-t0[0]; e[1] += t1[1]-t0[1]; e[2] += 1
    setattr(obj, name, w)
wrap(argparse.ArgumentParser, "parse_args", "argparse parse_args")
wrap(loader.collection.Loader, "_create_maps", "maps (create)")
wrap(loader.collection.Loader, "_load_btf", "BTF load")
wrap(loader.collection.Loader, "__init__", "Loader() (BTF.ext index)")
wrap(loader.collection, "load_spec", "object spec (memo read)")
wrap(loader.collection.Loader, "_apply_core", "CO-RE (memo)")
wrap(loader.collection.Loader, "_prog_load", "prog load (verifier)")
wrap(runtime.Tool, "__init__", "Tool() total")
wrap(runtime.Tool, "attach", "attach total (load+attach)")
class Watch:
    armed = False
    def write(self, s):
        if not self.armed and s.strip():
            self.armed = True
            stamps.append(("until first output (ready)", now()))
            threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return len(s)
    def flush(self): pass
real = sys.stdout
sys.stdout = Watch()
try:
    runtime.run_tool(mod.main, rest)
except SystemExit:
    pass
stamps.append(("end (after SIGINT, report)", now()))
getattr(cli, "remember_record_code", lambda: None)()     # as the CLI does when a tool ends
sys.stdout = real
import json
out = {}
prev = (0, 0)
for label, (u, s) in stamps:
    out[label] = (u - prev[0], s - prev[1]); prev = (u, s)
for label, (u, s, n) in acc.items():
    out["  " + label] = (u, s)
out["total"] = prev
print(json.dumps(out))
"""


def tool_args(tool):
    """The arguments warm_start.py starts ``tool`` with (a target, a -t type)."""
    sys.path.insert(0, HERE)
    import warm_start
    return [warm_start.target_pid() if a == "{pid}" else a
            for a in warm_start.TOOL_ARGS.get(tool, [])]


def warm_phases(tools, runs, first=False, tree=None):
    """Medians over ``runs`` warm starts of each tool: {tool: {phase: (user, sys) ms}}.
    ``first``: first runs instead, each in a new empty cache. ``tree``: that
    tree's pybcc (benchlib.installed) instead of this one's."""
    import json
    import statistics
    sys.path.insert(0, HERE)
    import benchlib
    py = benchlib.venv_python(tree)
    out = {}
    for tool in tools:
        cache = tempfile.mkdtemp(prefix="pybcc-prof-cache-")
        env = dict(os.environ, PYBCC_CACHE_DIR=cache)
        argv = [py, "-c", WARM_PHASES_CHILD, tool] + tool_args(tool)
        if not first:
            subprocess.run(argv, env=env, cwd="/", capture_output=True)     # fills the caches
        got = []
        for _ in range(runs):
            if first:
                shutil.rmtree(cache, ignore_errors=True)
            p = subprocess.run(argv, env=env, cwd="/", capture_output=True, text=True)
            lines = p.stdout.strip().splitlines()
            if p.returncode == 0 and lines:
                got.append(json.loads(lines[-1]))
        shutil.rmtree(cache, ignore_errors=True)
        if got:
            out[tool] = {k: tuple(round(1000 * statistics.median(g[k][i] for g in got if k in g), 1)
                                  for i in (0, 1)) for k in got[0]}
    return out


def phases(tool, cold):
    import json
    cache = tempfile.mkdtemp(prefix="pybcc-prof-cache-")
    env = dict(os.environ, PYBCC_CACHE_DIR=cache)
    out = os.path.join(cache, "phases.json")
    if not cold:
        subprocess.run([sys.executable, "-c", PHASE_CHILD, tool, out], env=env, check=False,
                       stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", PHASE_CHILD, tool, out], env=env, check=False)
    with open(out) as f:
        d = json.load(f)
    shutil.rmtree(cache, ignore_errors=True)
    lines = [f"{tool} {'cold' if cold else 'warm'} start-up, CPU seconds (wrapped timers, no profiler):"]
    for k, v in d["marks"].items():
        lines.append(f"  {k:55} {v:8.3f}")
    for k, (cpu, child, wall, n) in d["acc"].items():
        lines.append(f"  {k:55} {cpu:8.3f}  (+children {child:.3f}, wall {wall:.3f}, calls {n})")
    return "\n".join(lines)


PHASES = [
    ("imports (all modules)", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("compile(): cache lookup or clang", "pybcc/compiler/build.py", "compile"),
    ("vmlinux.h generation", "pybcc/btf/cgen.py", "vmlinux_header"),
    ("BTF parsing (all)", "pybcc/btf/types.py", "parse"),
    ("kernel BTF load", "pybcc/btf/types.py", "kernel"),
    ("loader.load (ELF+BTF parse, CO-RE, maps)", "pybcc/loader.py", "load"),
    ("object spec parse (ELF)", "pybcc/elf_reader.py", "load_spec"),
    ("CO-RE relocation", "pybcc/loader.py", "_apply_core"),
    ("program load (verifier)", "pybcc/tools/lib/runtime.py", "attach"),
    ("feature probes", "pybcc/kernel/features.py", None),
    ("event reader open", "pybcc/tools/lib/runtime.py", "open_events"),
    ("run_tool (everything after cli import)", "pybcc/tools/lib/runtime.py", "run_tool"),
]


def phase_times(stats):
    out = []
    for label, fname, func in PHASES:
        best = 0.0
        for (f, _line, fn), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
            if fname in f and (func is None or fn == func):
                best = max(best, ct) if func else best + _tt
        out.append((label, best))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tool")
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--cprofile", action="store_true", help="also run under cProfile (inflates Python time)")
    ap.add_argument("--warm-phases", type=int, metavar="RUNS",
                    help="instead: user/sys ms per phase of a warm start as installed (the venv of "
                         "benchlib.installed), medians of RUNS; TOOL may be a comma-separated list")
    ap.add_argument("--first", action="store_true",
                    help="with --warm-phases: first runs, each in a new empty cache")
    ap.add_argument("--tree", help="with --warm-phases: another tree's pybcc (e.g. a before tree)")
    args = ap.parse_args()
    if args.warm_phases:
        kind = "first run" if args.first else "warm start"
        for tool, rows in warm_phases(args.tool.split(","), args.warm_phases, args.first,
                                      args.tree).items():
            print(f"{tool}: {kind}, median of {args.warm_phases} (user ms, sys ms)")
            for phase, (user, system) in rows.items():
                print(f"  {phase:47} {user:7.1f} {system:7.1f}")
        return
    print(phases(args.tool, args.cold))
    if not args.cprofile:
        return
    cache = tempfile.mkdtemp(prefix="pybcc-prof-cache-")
    env = dict(os.environ, PYBCC_CACHE_DIR=cache)
    prof = os.path.join(cache, "start.prof")
    if not args.cold:
        subprocess.run([sys.executable, "-c", CHILD, args.tool, prof, "0.05"], env=env, check=False,
                       stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", CHILD, args.tool, prof, "0.05"], env=env, check=False)
    st = pstats.Stats(prof)
    atexit.register(shutil.rmtree, cache, True)
    total = max(ct for (_cc, _nc, _tt, ct, _c) in st.stats.values())
    print(f"{args.tool} {'cold' if args.cold else 'warm'} start-up, CPU seconds under cProfile "
          f"(profiling inflates pure-Python code ~1.5-2x): total {total:.3f}")
    for label, t in phase_times(st):
        print(f"  {label:45} {t:7.3f}")
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(args.top)
    print("\n".join(line for line in s.getvalue().splitlines() if line.strip())[:6000])
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(args.top + 15)
    print("\n".join(line for line in s.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
