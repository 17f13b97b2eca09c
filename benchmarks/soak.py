#!/usr/bin/env python3
"""The soak (#18 item 2): the exporter (scraped every 15 s) and five tools
(execsnoop, opensnoop, biolatency, runqlat, tcplife) run for a long time
under a mixed workload (execs, opens,
stats of missing files, loopback TCP, direct block writes, CPU). Every
sample period it records, per tool: RSS, open fds, CPU % and the lost
events the tool reported. After warm-up, RSS and fds must stay flat
(growth <= 5 %). Writes a CSV and, when matplotlib is installed, a PNG.

  python3 benchmarks/soak.py                          # one hour, a sample a minute
  python3 benchmarks/soak.py --minutes 5 --sample 30  # the short proof run
Exit status 1 when a tool died or grew.
"""
import argparse
import csv
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXPORTER_LISTEN = "127.0.0.1:19435"
TOOLS = [["exporter", "--listen", EXPORTER_LISTEN], ["execsnoop"], ["opensnoop"],
         ["biolatency", "60"], ["runqlat", "60"], ["tcplife"]]
SCRAPE_EVERY = 15   # seconds, Prometheus' default scrape interval
LOST = re.compile(r"(?:Possibly )?lost (\d+)|(\d+) (?:events|samples) lost", re.I)
CLK = os.sysconf("SC_CLK_TCK")


def proc_stats(pid):
    """(rss kB, fds, cpu seconds) of a process; None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK
        return rss, fds, cpu
    except (OSError, StopIteration, ValueError, IndexError):
        return None


class Tool:
    def __init__(self, argv, outdir):
        self.name = argv[0]
        self.lost = 0
        self.err_tail = []
        self.out = open(os.path.join(outdir, f"{self.name}.out"), "w")
        self.proc = benchlib.popen(
            [sys.executable, "-m", "pybcc", *argv], cwd=ROOT, stdout=self.out,
            stderr=subprocess.PIPE, text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stderr(self):
        for line in self.proc.stderr:
            m = LOST.search(line)
            if m:
                self.lost += int(m.group(1) or m.group(2))
            else:
                self.err_tail = (self.err_tail + [line.rstrip()])[-5:]


def workload(stop, tmpdir):
    """Threads and processes making the activity the tools report."""
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "loadgen.py"), "--cpu", "1",
                               "--workers", "2"], stderr=subprocess.DEVNULL)]
    target = os.path.join(tmpdir, "blockio")

    def block_io():
        while not stop.is_set():
            subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=64k", "count=64",
                            "oflag=direct", "status=none"], check=False)
            stop.wait(0.5)
    t = threading.Thread(target=block_io, daemon=True)
    t.start()
    return procs


def scrape_exporter(stop, counts):
    """Scrape the exporter as Prometheus would; count good and failed scrapes."""
    import urllib.request
    while not stop.wait(SCRAPE_EVERY):
        try:
            with urllib.request.urlopen(f"http://{EXPORTER_LISTEN}/metrics", timeout=10) as r:
                r.read()
            counts["ok"] += 1
        except OSError:
            counts["failed"] += 1


def flat(values, limit=0.05):
    """Growth from the first to the last value after warm-up, as a fraction."""
    if len(values) < 2 or not values[0]:
        return 0.0
    return (values[-1] - values[0]) / values[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--sample", type=float, default=60, help="seconds between samples (default 60)")
    p.add_argument("--warmup", type=float, default=0.2,
                   help="fraction of the run left out of the flatness check (at least 60 s)")
    p.add_argument("--out", default=os.path.join(HERE, "soak"), help="directory for the CSV and the PNG")
    args = p.parse_args()
    if args.minutes <= 0 or args.sample <= 0 or not 0 <= args.warmup < 1:
        p.error("--minutes and --sample must be positive, --warmup in [0, 1)")
    os.makedirs(args.out, exist_ok=True)
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="pybcc-soak-", dir="/var/tmp") as tmpdir:
        env_cache = tempfile.mkdtemp(prefix="pybcc-soak-cache-")
        os.environ["PYBCC_CACHE_DIR"] = env_cache
        tools = [Tool(a, tmpdir) for a in TOOLS]    # their output: counted, then deleted
        load = workload(stop, tmpdir)
        scrapes = {"ok": 0, "failed": 0}
        threading.Thread(target=scrape_exporter, args=(stop, scrapes), daemon=True).start()
        rows, last_cpu = [], {}
        t0 = time.monotonic()
        end = t0 + args.minutes * 60
        try:
            while time.monotonic() < end:
                time.sleep(min(args.sample, max(0.0, end - time.monotonic())))
                now = time.monotonic() - t0
                for t in tools:
                    s = proc_stats(t.proc.pid)
                    if s is None:
                        rows.append([round(now), t.name, "", "", "", t.lost, "exited"])
                        continue
                    rss, fds, cpu = s
                    prev_t, prev_cpu = last_cpu.get(t.name, (0.0, 0.0))
                    pct = 100.0 * (cpu - prev_cpu) / max(now - prev_t, 1e-9)
                    last_cpu[t.name] = (now, cpu)
                    rows.append([round(now), t.name, rss, fds, round(pct, 1), t.lost, ""])
                print(f"{now / 60:5.1f} min  " + "  ".join(
                    f"{r[1]}: {r[2]} kB {r[3]} fds {r[4]} % lost {r[5]}" for r in rows[-len(tools):]),
                    flush=True)
        finally:
            stop.set()
            for lp in load:
                lp.send_signal(signal.SIGTERM)
                lp.wait()
            for t in tools:
                if t.proc.poll() is None:
                    t.proc.send_signal(signal.SIGINT)
            for t in tools:
                try:
                    t.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    t.proc.kill()
            subprocess.run(["rm", "-rf", env_cache])
            for t in tools:
                t.out.close()
                with open(t.out.name, "rb") as f:
                    t.lines_out = sum(1 for _ in f)
    csv_path = os.path.join(args.out, "soak.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seconds", "tool", "rss_kb", "fds", "cpu_percent", "lost_total", "note"])
        w.writerows(rows)
    # Flatness after warm-up.
    ok = True
    # Start-up (BTF, maps, attach) on a busy machine can take most of a minute.
    cut = max(args.minutes * 60 * args.warmup, 60)
    print("\ntool         rss growth  fds growth  cpu % (mean)  lost events  lines out  status")
    summary = []
    for t in tools:
        mine = [r for r in rows if r[1] == t.name and r[0] >= cut and r[2] != ""]
        rss = flat([r[2] for r in mine])
        fds = flat([r[3] for r in mine])
        cpu = sum(r[4] for r in mine) / len(mine) if mine else 0.0
        died = any(r[6] == "exited" for r in rows if r[1] == t.name)
        good = not died and rss <= 0.05 and fds <= 0.05 and len(mine) >= 2
        ok &= good
        status = "ok" if good else ("DIED " + " | ".join(t.err_tail) if died else
                                    "too short: under 2 samples after warm-up" if len(mine) < 2 else "GREW")
        print(f"{t.name:<12} {rss * 100:9.1f} % {fds * 100:9.1f} % {cpu:12.1f} {t.lost:12d} "
              f"{t.lines_out:10d}  {status}")
        summary.append((t.name, rss, fds, cpu, t.lost, status))
    print(f"\nexporter scrapes: {scrapes['ok']} ok, {scrapes['failed']} failed")
    ok &= scrapes["failed"] == 0 and scrapes["ok"] > 0
    png = plot(rows, tools, args.out)
    print(f"\nCSV: {csv_path}" + (f"\nplot: {png}" if png else "\nplot: matplotlib not installed"))
    return 0 if ok else 1


def plot(rows, tools, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (a, b, c) = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
    for t in tools:
        mine = [r for r in rows if r[1] == t.name and r[2] != ""]
        xs = [r[0] / 60 for r in mine]
        a.plot(xs, [r[2] / 1024 for r in mine], label=t.name)
        b.plot(xs, [r[3] for r in mine], label=t.name)
        c.plot(xs, [r[4] for r in mine], label=t.name)
    a.set_ylabel("RSS (MB)")
    b.set_ylabel("open fds")
    c.set_ylabel("CPU %")
    c.set_xlabel("minutes")
    a.legend(fontsize=7, ncol=3)
    a.set_title("pybcc soak: the exporter and five tools under a mixed workload")
    fig.tight_layout()
    path = os.path.join(outdir, "soak.png")
    fig.savefig(path, dpi=80)
    return path


if __name__ == "__main__":
    sys.exit(main())
