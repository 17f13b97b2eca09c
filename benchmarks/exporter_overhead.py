#!/usr/bin/env python3
"""Exporter benchmark: what `pybcc exporter` (the default metric sets) costs.

overhead  A mixed workload (workloads/mixed.c: open/read/close, 4 KiB
          O_DIRECT writes + fdatasync, loopback TCP connects, fork+exec) runs
          with no tracer, with the exporter, and with libbpf-tools'
          aggregating tools side by side (biolatency -D, runqlat, syscount,
          hardirqs, softirqs: the nearest thing to ebpf_exporter the package
          registries have). Rounds are interleaved; medians of the workload's
          CPU time (the BPF programs run in its context, so their cost lands
          there) and wall time.
soak      The exporter alone for MINUTES, scraped every 15 s as Prometheus
          would: its own CPU (% of one CPU), RSS every scrape, and the time
          its BPF programs ran in other processes (the kernel's BPF stats).

syscall-cost  Only system calls (3 per loop: open, read, close of /dev/zero):
          the added nanoseconds per system call with the syscalls set alone,
          the most frequent hook of the default sets.

ab        none and the default sets only, interleaved (the same as overhead
          with two conditions), for many rounds.

before-after  none, the default sets, and the default sets at --rev (another
          commit's exporter, from git archive), interleaved; adds the median
          of the per-round ratios to none (paired, less noisy on a busy box).

direct    The in-kernel cost, which other load on the machine does not
          drown: with BPF stats on, the run time of the tracer's programs
          over one workload run (by program id, from what its processes
          hold) plus the tracer process's own CPU (the exporter scraped
          every 15 s meanwhile), divided by the workload's
          CPU time and by wall x CPUs; and per program its runs, ns/run and
          runs per second of wall time. The programs count machine-wide
          events, other jobs' too, so the first ratio is an upper bound.

scrape-cap  CPU of a scrape of one histogram at the 2,000-series cap: map
          read and decode, our encoder, prometheus-client's exposition.

hook-floor  What any hooked event costs before a program does anything:
          K empty programs of one kind (tp_btf, raw_tp, tracepoint) on
          sys_enter (or tp_btf on task_rename, fired by prctl(PR_SET_NAME):
          --event), a getppid() loop timed (thread CPU) with none, with the
          programs, and with the programs and BPF stats on, interleaved;
          plus the run time the stats report per run. What the stats
          report is only part of what they cost (one of their two clock
          reads), and the tracepoint's dispatch is outside it: `direct`
          charges run time only, so it leaves out this much per event.

usage: python3 benchmarks/exporter_overhead.py overhead [--rounds 11]
       python3 benchmarks/exporter_overhead.py ab [--rounds 40]
       python3 benchmarks/exporter_overhead.py direct [--rounds 5] [--direct-rev REV]
                                                       [--no-libbpf-tools]
       python3 benchmarks/exporter_overhead.py before-after --rev REV [--rounds 15]
       python3 benchmarks/exporter_overhead.py soak [--minutes 10]
       python3 benchmarks/exporter_overhead.py syscall-cost [--rounds 11]
       python3 benchmarks/exporter_overhead.py hook-floor [--rounds 7] [--programs 8]
                                                          [--event sys_enter|task_rename]
Results as JSON on stdout; a summary on stderr.
"""
import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = os.environ.get("PYBCC_PYTHON", sys.executable)
WORK = (300_000, 1000, 3000, 300)     # syscalls, writes, connects, execs
LIBBPF_TOOLS = [["/usr/sbin/biolatency", "-D", "3600"], ["/usr/sbin/runqlat", "3600"],
                ["/usr/sbin/syscount", "-i", "3600"], ["/usr/sbin/hardirqs", "3600"],
                ["/usr/sbin/softirqs", "3600"]]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(tmp):
    exe = os.path.join(tmp, "mixed")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "workloads", "mixed.c")], check=True)
    return exe


def block_dir():
    for d in ("/var/tmp", tempfile.gettempdir(), REPO):
        if os.major(os.stat(d).st_dev) != 0:
            return d
    sys.exit("no directory on a block device for the O_DIRECT writes")


def run_workload(exe, directory, work=WORK):
    """(wall s, CPU s) of one workload run; the CPU is getrusage of the
    children (the workload and its fork+execs), which other load on the
    machine inflates far less than wall time."""
    run = run_workload_usage(exe, directory, work)
    return run["wall_s"], run["cpu_s"]


def run_workload_usage(exe, directory, work=WORK):
    """One workload run: wall and CPU time, its context switches (getrusage
    of the children) and the machine's busy CPU time meanwhile (/proc/stat)."""
    r0, busy0, soft0 = resource.getrusage(resource.RUSAGE_CHILDREN), busy_cpu_s(), softirqs()
    t0 = time.monotonic()
    subprocess.run([exe, directory] + [str(n) for n in work], capture_output=True, check=True)
    wall = time.monotonic() - t0
    r1, busy1, soft1 = resource.getrusage(resource.RUSAGE_CHILDREN), busy_cpu_s(), softirqs()
    return {"wall_s": wall,
            "cpu_s": r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
            "voluntary_switches": r1.ru_nvcsw - r0.ru_nvcsw,
            "involuntary_switches": r1.ru_nivcsw - r0.ru_nivcsw,
            "machine_busy_cpu_s": busy1 - busy0,
            "softirqs": {v: soft1[v] - soft0.get(v, 0) for v in soft1}}


def softirqs():
    """{vector: soft IRQs since boot, all CPUs} (/proc/softirqs)."""
    with open("/proc/softirqs") as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    return {r[0].rstrip(":"): sum(int(x) for x in r[1:]) for r in rows if r}


def busy_cpu_s():
    """CPU seconds all CPUs spent not idle since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")   # minus idle, iowait


def proc_cpu(pid):
    """user+sys seconds of a live process."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_cpu_exact(pid):
    """CPU seconds of a live process: its live threads to the nanosecond
    (/proc/PID/task/*/schedstat), or /proc/PID/stat's 10 ms ticks when
    those are more: the ticks include threads that have exited (the HTTP
    server's thread per scrape), which the per-thread figures lose."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass            # the thread ended
    return max(total * 1e-9, proc_cpu(pid))


class Scraper:
    """Scrapes an exporter every INTERVAL seconds in a thread, as Prometheus
    would, so that its CPU over a run includes the scrapes."""

    def __init__(self, exporter, interval=15):
        self.exporter, self.interval = exporter, interval
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.wait(self.interval):
            self.exporter.scrape()

    def stop(self):
        self.stop_event.set()
        self.thread.join()


def proc_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Exporter:
    def __init__(self, args=(), repo=REPO):
        self.port = free_port()
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = benchlib.popen([PY, "-m", "pybcc", "exporter", "--listen",
                                      f"127.0.0.1:{self.port}", *args], cwd=repo,
                                     stdout=subprocess.DEVNULL, stderr=self.err,
                                     start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            self.err.seek(0)
            text = self.err.read()
            if "serving" in text:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"exporter did not start: {text}")
            time.sleep(0.1)

    def scrape(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            return r.read().decode()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)


class LibbpfTools:
    def __init__(self, tools=LIBBPF_TOOLS):
        self.procs = [benchlib.popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       start_new_session=True) for argv in tools]
        time.sleep(3)     # they print nothing when attached; they load in well under this
        self.failed = [(a[0], p.stderr.read().decode().strip().splitlines()[-1:])
                       for a, p in zip(tools, self.procs) if p.poll() is not None]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def _config(tmp, name, sets):
    path = os.path.join(tmp, name + ".yml")
    with open(path, "w") as f:
        f.write("sets: [%s]\n" % ", ".join(sets))
    return ["--config", path]


def overhead(rounds, work=None, conds=None):
    from pybcc.exporter.builtin import DEFAULT_SETS
    tmp = tempfile.mkdtemp(prefix="pybcc-exporter-bench-")
    exe, directory = build(tmp), block_dir()
    work = work or WORK
    run_workload(exe, directory, work)     # warm caches
    conds = conds or {
        "none": None,
        "pybcc exporter (default sets)": [],
        "pybcc exporter (default sets plus syscalls)":
            _config(tmp, "withsys", DEFAULT_SETS + ["syscalls"]),
        "libbpf-tools aggregators x5": "libbpf-tools"}
    names = list(conds)
    res = {c: [] for c in names}
    load0 = os.getloadavg()
    notes = {}
    for r in range(rounds):
        for cond in names[r % len(names):] + names[:r % len(names)]:
            tracer, how = None, conds[cond]
            if how == "libbpf-tools" or isinstance(how, tuple):
                tracer = LibbpfTools(*([list(how)] if isinstance(how, tuple) else []))
                if tracer.failed:
                    notes[cond] = f"not started: {tracer.failed}"
            elif isinstance(how, dict):          # another checkout's exporter
                tracer = Exporter(how["args"], how["repo"])
                time.sleep(1)
            elif how is not None:
                tracer = Exporter(how)
                time.sleep(1)
            elapsed, cpu = run_workload(exe, directory, work)
            if tracer is not None:
                tracer.stop()
            res[cond].append((elapsed, cpu))
        log(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{c}: cpu {res[c][-1][1]:.3f}s" for c in names))
    base_cpu = statistics.median(c for _, c in res["none"])
    base_wall = statistics.median(e for e, _ in res["none"])
    summary = {}
    for c in names:
        cpu = statistics.median(x for _, x in res[c])
        wall = statistics.median(e for e, _ in res[c])
        # each round's CPU against the same round's none: pairs runs made
        # minutes apart at most, so slow drifts of the machine's load cancel
        paired = [100 * (x / b - 1) for (_, x), (_, b) in zip(res[c], res["none"])]
        summary[c] = {"cpu_median_s": cpu, "wall_median_s": wall,
                      "cpu_quartiles_s": quartiles([x for _, x in res[c]])[1:],
                      "cpu_overhead_pct": 100 * (cpu - base_cpu) / base_cpu,
                      "wall_overhead_pct": 100 * (wall - base_wall) / base_wall,
                      "paired_pct_median_quartiles": quartiles(paired),
                      "cpu_runs": [x for _, x in res[c]], "wall_runs": [e for e, _ in res[c]]}
        m, lo, hi = summary[c]["paired_pct_median_quartiles"]
        log(f"{c:34s} cpu {cpu:.3f}s ({summary[c]['cpu_overhead_pct']:+.2f}%)  "
            f"wall {wall:.3f}s ({summary[c]['wall_overhead_pct']:+.2f}%)  "
            f"paired {m:+.2f}% [{lo:+.2f} .. {hi:+.2f}]")
    return {"workload": dict(zip(("syscall_loops", "writes", "connects", "execs"), work)),
            "rounds": rounds, "results": summary, "notes": notes,
            "load_average_start_end": [load0, os.getloadavg()]}


def quartiles(values):
    """(median, lower quartile, upper quartile)."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return statistics.median(values), q[0], q[2]


# soft IRQ vectors the workload raises: loopback TCP and block completions
WORKLOAD_SOFTIRQS = ("NET_RX", "NET_TX", "BLOCK")


def workload_share(name, runs, run, execs=WORK[3]):
    """The share of a program's runs that the workload itself caused, from
    what it is known to do: a context switch of one of its tasks (getrusage)
    is two sched_switch events (out and in), a voluntary one ends in a
    wakeup; a fork+exec is one wakeup_new, one exec and one exit; soft IRQs
    count as the workload's in the proportion of its vectors (NET_RX, NET_TX,
    BLOCK) among all soft IRQs meanwhile (/proc/softirqs). The other hooks
    (block I/O, TCP, hard IRQs, system calls) are charged in full: mostly
    the workload's, and an upper bound."""
    switches = run["voluntary_switches"] + run["involuntary_switches"]
    soft = run["softirqs"]
    if "soft" in name:
        own = runs * sum(soft.get(v, 0) for v in WORKLOAD_SOFTIRQS) / max(1, sum(soft.values()))
    elif "wakeup_n" in name or name.startswith(("exec", "exit")):
        own = execs
    elif "switch" in name:
        own = 2 * switches
    elif "wakeup" in name:
        own = run["voluntary_switches"]
    else:
        return 1.0
    return min(1.0, own / runs) if runs else 1.0


def program_sets(sets):
    """{program name: set} over the built-in sets SETS (their hooks'
    programs, both twins); a name two sets share goes to the first."""
    from pybcc.exporter import builtin
    out = {}
    for name in sets:
        builder, _ = builtin.SETS[name]
        for hook in builder({})[1]:
            for prog in hook.choices:
                out.setdefault(prog, name)
    return out


def direct(rounds, libbpf_tools=True, rev=None, sets=None, also=(), unseen_ns=0.0):
    """In-kernel cost of the tracers' programs plus their own CPU over each
    workload run, against the workload's CPU, the machine's busy CPU and
    wall x CPUs. ``sets``: the exporter's sets (default: its default
    sets); ``also``: more lists of sets to run this checkout with.
    ``unseen_ns``: the per-run cost that BPF stats do not report (the
    tracepoint's dispatch and one of the stats' two clock reads, from
    hook-floor): added per run of the workload's own events in
    cost_pct_of_workload_cpu_own_events_with_unseen."""
    import bpf_progstats
    tmp = tempfile.mkdtemp(prefix="pybcc-exporter-bench-")
    exe, directory = build(tmp), block_dir()
    stats_fd = bpf_progstats.enable()     # on for libbpf-tools too
    if stats_fd is None:
        sys.exit("the kernel refused BPF stats")
    run_workload(exe, directory)          # warm caches
    from pybcc.exporter.builtin import DEFAULT_SETS
    what = f"sets {', '.join(sets)}" if sets else "default sets"
    args = _config(tmp, "sets", sets) if sets else []
    conds = {f"pybcc exporter ({what})": lambda: Exporter(args)}
    cond_sets = {f"pybcc exporter ({what})": sets or DEFAULT_SETS}
    for i, more in enumerate(also):
        name = f"pybcc exporter (sets {', '.join(more)})"
        conds[name] = lambda more_args=_config(tmp, f"also{i}", more): Exporter(more_args)
        cond_sets[name] = more
    if rev:
        repo = checkout(rev)
        name = f"pybcc exporter at {rev} ({what})"
        conds[name] = lambda: Exporter(args, repo)
        # REV's own default sets when none are given
        cond_sets[name] = sets or _default_sets(repo)
    if libbpf_tools:
        conds["libbpf-tools aggregators x5"] = LibbpfTools
        cond_sets["libbpf-tools aggregators x5"] = []
    keys = ("cost_pct_of_workload_cpu", "cost_pct_of_workload_cpu_own_events",
            "cost_pct_of_workload_cpu_own_events_with_unseen", "cost_pct_of_machine_busy_cpu", "cost_pct_of_wall_x_cpus", "bpf_s",
            "tracer_cpu_s", "workload_cpu_s", "workload_wall_s", "machine_busy_cpu_s",
            "workload_context_switches", "workload_softirq_share", "load_average")
    res = {c: {k: [] for k in keys} | {"programs": {}, "_usage": []} for c in conds}
    ncpu = os.cpu_count()
    for r in range(rounds):
        for cond, start in conds.items():
            tracer = start()
            pids = [tracer.proc.pid] if isinstance(tracer, Exporter) else \
                [p.pid for p in tracer.procs if p.poll() is None]
            time.sleep(1)
            scraper = Scraper(tracer) if isinstance(tracer, Exporter) else None
            before, cpu0 = bpf_progstats.snapshot(pids), sum(proc_cpu_exact(p) for p in pids)
            run = run_workload_usage(exe, directory)
            after, cpu1 = bpf_progstats.snapshot(pids), sum(proc_cpu_exact(p) for p in pids)
            if scraper is not None:
                scraper.stop()
            tracer.stop()
            progs = bpf_progstats.delta(before, after)
            bpf_s = sum(ns for _, ns in progs.values()) * 1e-9
            own_s = sum(ns * workload_share(n, runs, run) for n, (runs, ns) in progs.items()) * 1e-9
            own_runs = sum(runs * workload_share(n, runs, run) for n, (runs, _) in progs.items())
            cost = bpf_s + cpu1 - cpu0
            out = res[cond]
            for k, v in zip(keys, (
                    100 * cost / run["cpu_s"], 100 * (own_s + cpu1 - cpu0) / run["cpu_s"],
                    100 * (own_s + own_runs * unseen_ns * 1e-9 + cpu1 - cpu0) / run["cpu_s"],
                    100 * cost / run["machine_busy_cpu_s"],
                    100 * cost / (run["wall_s"] * ncpu), bpf_s, cpu1 - cpu0, run["cpu_s"],
                    run["wall_s"], run["machine_busy_cpu_s"],
                    run["voluntary_switches"] + run["involuntary_switches"],
                    workload_share("soft", 1, run), os.getloadavg()[0])):
                out[k].append(v)
            for name, (runs, ns) in progs.items():
                out["programs"].setdefault(name, []).append((runs, ns, run["wall_s"]))
            out["_usage"].append(run)
            log(f"round {r + 1}/{rounds} {cond}: {len(progs)} programs, BPF {bpf_s * 1e3:.1f} ms "
                f"({own_s * 1e3:.1f} ms for the workload's own events), tracer "
                f"{1e3 * (cpu1 - cpu0):.0f} ms, workload CPU {run['cpu_s']:.3f} s, wall "
                f"{run['wall_s']:.1f} s, machine busy {run['machine_busy_cpu_s']:.1f} s, "
                f"load {os.getloadavg()[0]:.1f}")
    os.close(stats_fd)
    summary = {}
    for cond, out in res.items():
        s = summary[cond] = {k: quartiles(v) for k, v in out.items() if k in keys}
        s["runs"] = {k: v for k, v in out.items() if k in keys}
        s["programs"] = {}
        for name, samples in sorted(out["programs"].items()):
            runs = sum(n for n, _, _ in samples)
            ns = sum(t for _, t, _ in samples)
            wall = sum(w for _, _, w in samples)
            s["programs"][name] = {"runs_per_workload_run": runs / len(samples),
                                   "ns_per_run": ns / runs if runs else 0,
                                   "runs_per_s": runs / wall,
                                   "ms_per_workload_run": ns / len(samples) * 1e-6}
        log(f"{cond} (median [quartiles] of {rounds} rounds):")
        for k in keys[:5]:
            m, lo, hi = s[k]
            log(f"  {k:48s} {m:6.2f} % [{lo:.2f} .. {hi:.2f}]")
        total_ms = sum(p["ms_per_workload_run"] for p in s["programs"].values()) or 1
        s["sets"] = by_set(out["programs"], out["_usage"], cond_sets[cond])
        for name, c in s["sets"].items():
            log(f"  set {name:10s} {c['ms_per_workload_run']:6.2f} ms per workload run, "
                f"{c['ms_own_events']:6.2f} ms for its own events: "
                f"{c['pct_of_workload_cpu_own_events']:.2f} % of its CPU (median of rounds)")
        for name, p in sorted(s["programs"].items(), key=lambda kv: -kv[1]["ms_per_workload_run"]):
            p["share_of_programs"] = p["ms_per_workload_run"] / total_ms
            log(f"  {name:16s} {p['runs_per_workload_run']:9.0f} runs {p['ns_per_run']:6.0f} ns/run "
                f"{p['runs_per_s']:8.0f}/s {p['ms_per_workload_run']:7.2f} ms "
                f"{100 * p['share_of_programs']:5.1f} %")
    return {"rounds": rounds, "cpus": ncpu, "unseen_ns_per_run": unseen_ns, "workload": dict(zip(
        ("syscall_loops", "writes", "connects", "execs"), WORK)), "results": summary}


def _default_sets(repo):
    """DEFAULT_SETS of the exporter in checkout REPO."""
    out = subprocess.run([PY, "-c", "from pybcc.exporter.builtin import DEFAULT_SETS; "
                                    "print(','.join(DEFAULT_SETS))"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split(",")


def by_set(programs, usages, sets):
    """Per metric set of ``sets``: ms of its programs per workload run (all
    events and the workload's own, as in direct()) and the median per round
    of the own-events share of the workload's CPU. run_queue and off_cpu
    both name their program switch_*: with both enabled, it counts as
    run_queue's."""
    owner = program_sets(sets)
    out = {}
    for name, samples in programs.items():
        st = owner.get(name, "?")
        c = out.setdefault(st, {"ms": [0.0] * len(usages), "own": [0.0] * len(usages)})
        for r, (runs, ns, _) in enumerate(samples):
            c["ms"][r] += ns * 1e-6
            c["own"][r] += ns * 1e-6 * workload_share(name, runs, usages[r])
    result = {}
    for st, c in out.items():
        pct = [100 * own * 1e-3 / u["cpu_s"] for own, u in zip(c["own"], usages)]
        result[st] = {"ms_per_workload_run": statistics.median(c["ms"]),
                      "ms_own_events": statistics.median(c["own"]),
                      "pct_of_workload_cpu_own_events": statistics.median(pct)}
    return result


def ab(rounds):
    """No exporter against the default sets, interleaved: the A/B ratio on
    the workload's CPU time."""
    return overhead(rounds, conds={"none": None, "pybcc exporter (default sets)": []})


def checkout(rev):
    """A copy of the repository at REV (git archive) in a temporary directory."""
    tmp = tempfile.mkdtemp(prefix="pybcc-exporter-" + rev[:12] + "-")
    archive = subprocess.run(["git", "-C", REPO, "archive", rev], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    return tmp


def before_after(rounds, rev):
    """none, the default sets with this checkout, and with REV's exporter,
    interleaved: is the change an improvement, and is it under 1 %?"""
    return overhead(rounds, conds={
        "none": None, "pybcc exporter (default sets)": [],
        f"pybcc exporter at {rev} (default sets)": {"args": [], "repo": checkout(rev)}})


def scrape_cap(series=2000, repeat=5):
    """CPU of one scrape of a histogram at the series cap: block_io's
    histograms map filled with ``series`` (disk, op) keys, read and decoded, then written
    by the exporter's encoder and, for comparison, by prometheus-client."""
    from prometheus_client import CollectorRegistry, generate_latest
    from pybcc import loader
    from pybcc.exporter import builtin, exposition
    from pybcc.exporter.metrics import family, read_series
    rs = builtin.make_set("block_io", {"max_entries": series}, series)
    coll = loader.load(rs.object_path, constants=rs.constants, programs=[], map_sizes=rs.map_sizes)
    try:
        m = coll.maps["hists"]
        for i in range(series):
            k, v = m.Key(), m.Leaf()
            k.dev, k.op = (4095 << 20) | i, i % 4    # no such disk: labels "4095:i"
            for j in range(10, 30):
                v.latency.slots[j] = i + j
            v.latency.sum = 10 ** 9 + i
            m[k] = v
        metric = rs.metrics[0]

        class Families:
            def collect(self):
                yield family(metric, read)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(Families())
        runs = {"read_decode_s": [], "encode_s": [], "prometheus_client_s": []}
        for _ in range(repeat):
            t0 = time.process_time()
            read = read_series(metric, coll.maps)
            t1 = time.process_time()
            text = exposition.encode(metric, read)
            t2 = time.process_time()
            generate_latest(registry)
            t3 = time.process_time()
            for k, t in zip(runs, (t1 - t0, t2 - t1, t3 - t2)):
                runs[k].append(t)
    finally:
        coll.close()
    out = {k: statistics.median(v) for k, v in runs.items()}
    out.update(series=len(read), samples=text.count("\n") - 2, bytes=len(text),
               runs=runs, load_average=os.getloadavg())
    log(f"{out['series']} series, {out['samples']} samples: read+decode {out['read_decode_s']:.3f} s, "
        f"encode {out['encode_s']:.3f} s (prometheus-client: {out['prometheus_client_s']:.3f} s)")
    return out


def syscall_cost(rounds):
    loops = 1_000_000
    tmp = tempfile.mkdtemp(prefix="pybcc-exporter-bench-")
    out = overhead(rounds, work=(loops, 0, 0, 0), conds={
        "none": None, "pybcc exporter (syscalls set)": _config(tmp, "sys", ["syscalls"]),
        "pybcc exporter (syscalls set, --no-bpf-stats)":
            _config(tmp, "sys2", ["syscalls"]) + ["--no-bpf-stats"],
        "libbpf-tools syscount": (["/usr/sbin/syscount", "-i", "3600"],)})
    base = out["results"]["none"]["cpu_median_s"]
    for c, r in out["results"].items():
        r["added_ns_per_syscall"] = (r["cpu_median_s"] - base) / (3 * loops) * 1e9
        log(f"{c:46s} {r['added_ns_per_syscall']:+.0f} ns per system call")
    return out


HOOK_KINDS = {"tp_btf": 'SEC("tp_btf/{tp}") int e{i}(u64 *ctx) {{ return 0; }}\n',
              "raw_tp": 'SEC("raw_tp/{tp}") int e{i}(u64 *ctx) {{ return 0; }}\n',
              "tracepoint": 'SEC("tracepoint/{category}/{tp}") int e{i}(void *ctx) '
                            '{{ return 0; }}\n'}
# hook-floor's events: (category, tracepoint, a call that fires it once)
FLOOR_EVENTS = {"sys_enter": ("raw_syscalls", "sys_enter", None),
                "task_rename": ("task", "task_rename", "prctl")}


def _event_trigger(how):
    """A callable that fires the tracepoint once: getppid() (any system
    call enters sys_enter), or prctl(PR_SET_NAME) for task_rename."""
    if how is None:
        return os.getppid
    import ctypes
    libc, name = ctypes.CDLL(None), ctypes.c_char_p(b"pybcc-floor")
    return lambda: libc.prctl(15, name, 0, 0, 0)


def hook_floor(rounds, programs=8, calls=300_000, event="sys_enter"):
    from pybcc import compiler, loader
    from pybcc.exporter.selfmetrics import enable_bpf_stats, program_stats
    category, tp, how = FLOOR_EVENTS[event]
    kinds = HOOK_KINDS if event == "sys_enter" else {"tp_btf": HOOK_KINDS["tp_btf"]}
    objs = {}
    for kind, text in kinds.items():
        src = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n' + "".join(
            text.format(i=i, tp=tp, category=category) for i in range(programs)) + \
            'char LICENSE[] SEC("license") = "GPL";\n'
        objs[kind] = compiler.compile(src)
    fire = _event_trigger(how)

    def per_call():
        t0 = time.thread_time_ns()
        for _ in range(calls):
            fire()
        return (time.thread_time_ns() - t0) / calls
    conds = ["none"] + [f"{k}{s}" for k in objs for s in ("", " + stats")]
    res, reported = {c: [] for c in conds}, {k: [] for k in objs}
    for _ in range(rounds):
        for cond in conds:
            kind = cond.split()[0]
            coll = stats_fd = None
            if kind in objs:
                coll = loader.load(objs[kind], programs=[])
                progs = [coll.load_program(f"e{i}") for i in range(programs)]
                for p in progs:
                    p.attach()
                if cond.endswith("stats"):
                    stats_fd = enable_bpf_stats()
            res[cond].append(per_call())
            if stats_fd is not None:
                os.close(stats_fd)
                runs_ns = [program_stats(p.fd) for p in progs]
                reported[kind].append(sum(ns for _, ns in runs_ns) / max(1, sum(n for n, _ in runs_ns)))
            if coll is not None:
                coll.close()
    base = statistics.median(res["none"])
    out = {"event": f"{category}:{tp}", "programs": programs, "calls_per_round": calls,
           "rounds": rounds, "ns_per_call": {c: statistics.median(v) for c, v in res.items()},
           "runs": res, "load_average": os.getloadavg(), "per_event_ns": {}}
    for kind in objs:
        plain = (statistics.median(res[kind]) - base) / programs
        stats = (statistics.median(res[kind + " + stats"]) - base) / programs
        seen = statistics.median(reported[kind])
        out["per_event_ns"][kind] = {"without_stats": plain, "with_stats": stats,
                                     "stats_report_per_run": seen,
                                     "not_in_run_time": stats - seen}
        log(f"{kind:10s} per program run: {plain:5.1f} ns without BPF stats, {stats:5.1f} ns with "
            f"them; the stats report {seen:5.1f} ns/run, so {stats - seen:5.1f} ns is not in run time")
    return out


def _metric(text, name, labels=""):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + ("{" if labels is None else labels)) or \
                (labels == "" and line.startswith(name + " ")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def soak(minutes, interval):
    exp = Exporter()
    start_cpu, t0 = proc_cpu(exp.proc.pid), time.monotonic()
    first = exp.scrape()
    bpf0 = _metric(first, "pybcc_exporter_bpf_program_run_seconds_total", None)
    curve = []
    scrape_times = []
    while time.monotonic() - t0 < minutes * 60:
        time.sleep(interval)
        s0 = time.monotonic()
        text = exp.scrape()
        scrape_times.append(time.monotonic() - s0)
        curve.append((round(time.monotonic() - t0), round(proc_rss_mb(exp.proc.pid), 2)))
    elapsed = time.monotonic() - t0
    cpu = proc_cpu(exp.proc.pid) - start_cpu
    bpf = _metric(text, "pybcc_exporter_bpf_program_run_seconds_total", None) - bpf0
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    exp.stop()
    out = {"minutes": minutes, "scrape_interval_s": interval, "exporter_cpu_s": cpu,
           "exporter_cpu_pct_of_one_cpu": 100 * cpu / elapsed,
           "bpf_programs_cpu_pct_of_one_cpu": 100 * bpf / elapsed,
           "scrape_seconds_median": statistics.median(scrape_times),
           "series_per_scrape": series,
           "rss_mb_first": curve[0][1], "rss_mb_last": curve[-1][1],
           "rss_mb_max": max(r for _, r in curve), "rss_curve": curve}
    log(json.dumps({k: v for k, v in out.items() if k != "rss_curve"}, indent=1))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["overhead", "ab", "direct", "before-after", "soak",
                                    "syscall-cost", "scrape-cap", "hook-floor"])
    p.add_argument("--rev", default="main", help="before-after: the revision to compare with")
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--direct-rev", help="direct: also measure another revision's exporter")
    p.add_argument("--no-libbpf-tools", action="store_true",
                   help="direct: measure the exporter only")
    p.add_argument("--sets", help="direct: the exporter's sets, comma-separated (default: "
                                  "its default sets)")
    p.add_argument("--unseen-ns", type=float, default=0.0,
                   help="direct: per-run cost the BPF stats do not report (from hook-floor)")
    p.add_argument("--programs", type=int, default=8, help="hook-floor: programs per kind")
    p.add_argument("--event", choices=["sys_enter", "task_rename"], default="sys_enter",
                   help="hook-floor: the tracepoint (task_rename: tp_btf only)")
    p.add_argument("--also-sets", action="append", default=[],
                   help="direct: also run this checkout with these sets (repeatable)")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--interval", type=float, default=15)
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    sys.path.insert(0, REPO)
    if a.mode == "overhead":
        result = overhead(a.rounds)
    elif a.mode == "ab":
        result = ab(a.rounds)
    elif a.mode == "direct":
        result = direct(a.rounds, not a.no_libbpf_tools, a.direct_rev,
                        a.sets.split(",") if a.sets else None,
                        [x.split(",") for x in a.also_sets], a.unseen_ns)
    elif a.mode == "before-after":
        result = before_after(a.rounds, a.rev)
    elif a.mode == "scrape-cap":
        result = scrape_cap()
    elif a.mode == "syscall-cost":
        result = syscall_cost(a.rounds)
    elif a.mode == "hook-floor":
        result = hook_floor(a.rounds, a.programs, event=a.event)
    else:
        result = soak(a.minutes, a.interval)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
