"""Benchmark 2: event streaming — the highest rate of per-event output
(opensnoop-like, one line per open) sustained with zero lost events, and the
losses above it.

The workload (workloads/openloop.c) first opens a "ready" path every 5 ms
until told to go, so the tool (started with -p PID) shows it is attached;
then it opens the data path N times at the target rate. The tool's stdout
goes to a file on tmpfs; after the workload ends and the file stops growing
the tool gets SIGINT. Received = data-path lines in the file; missing =
sent - received; "reported lost" = what the tool itself said it lost.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

import benchlib as bl

RATES = (2_500, 5_000, 10_000, 20_000, 40_000, 80_000, 0)   # 0 = as fast as it goes
MAX_N = 150_000   # opens in the 'as fast as it goes' run
SECONDS = 1.5


def impls(env_bcc):
    tp = os.path.join(bl.HERE, "scripts", "bcc_opensnoop_tp.py")
    shim = os.path.join(bl.HERE, "scripts", "pybcc_perfbuf.py")
    return [
        ("pybcc ring buffer", lambda pid: [bl.PY, "-m", "pybcc", "opensnoop", "-p", str(pid)], {}),
        ("pybcc perf buffer", lambda pid: [bl.PY, shim, "opensnoop", "-p", str(pid)], {}),
        ("libbpf-tools", lambda pid: ["/usr/sbin/opensnoop", "-p", str(pid)], {}),
        ("bcc (tracepoint script)", lambda pid: ["/usr/bin/python3", tp, "-p", str(pid)], env_bcc),
        ("bpftrace", lambda pid: ["bpftrace", os.path.join(bl.HERE, "bpftrace", "opensnoop.bt"), str(pid)], {}),
    ]


LOST_RE = re.compile(rb"(?:[Ll]ost|dropped)\D{0,20}?(\d+)")


def once(openloop, make_argv, env, rate, workdir, timeout=90):
    tok = os.urandom(4).hex()
    ready = os.path.join(workdir, f"ready-{tok}")
    data = os.path.join(workdir, f"data-{tok}")
    for p in (ready, data):
        open(p, "w").close()
    n = int(rate * SECONDS) if rate else MAX_N
    wl = subprocess.Popen([openloop, data, str(n), str(rate), ready], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    wl_pid = int(wl.stdout.readline())
    outp, errp = os.path.join(workdir, f"out-{tok}"), os.path.join(workdir, f"err-{tok}")
    out, err = open(outp, "wb"), open(errp, "wb")
    tool = bl.Child(make_argv(wl_pid), env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    res = {"rate": rate, "sent": n}
    # attached when the ready path shows up in the output
    deadline = time.monotonic() + timeout
    rb = os.path.basename(ready).encode()
    ok = False
    while time.monotonic() < deadline and tool.alive():
        with open(outp, "rb") as f:
            if rb in f.read():
                ok = True
                break
        time.sleep(0.02)
    if ok:
        wl.stdin.write("g")
        wl.stdin.flush()
        done = wl.stdout.readline().split()
        wl.wait()
        res["achieved"] = float(done[4])
        # drain: wait for the output to stop growing
        last, since = -1, time.monotonic()
        end = time.monotonic() + 15
        while time.monotonic() < end and tool.alive():
            size = os.path.getsize(outp)
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since > 0.5:
                break
            time.sleep(0.05)
    else:
        wl.kill()
        wl.wait()
    rc, ru = tool.finish()
    out.close()
    err.close()
    with open(errp, "rb") as f:
        errtext = f.read()
    if not ok:
        res["error"] = bl.last_error_line(errtext.decode(errors="replace")) + f" (exit {rc})"
    else:
        with open(outp, "rb") as f:
            text = f.read()
        got = text.count(os.path.basename(data).encode())
        res["received"] = got
        res["missing"] = n - got
        # bpftrace prints "Lost N events" on stdout, the others on stderr
        lost_lines = b"\n".join(line for line in text.splitlines()
                                 if line.lstrip().startswith((b"Lost", b"Possibly lost")))
        res["reported_lost"] = sum(int(m) for m in LOST_RE.findall(errtext + b"\n" + lost_lines))
        res["tool_cpu"] = ru.ru_utime + ru.ru_stime
    for p in (ready, data, outp, errp):
        os.unlink(p)
    return res


def run(openloop, env_bcc, log, rates=RATES):
    workdir = tempfile.mkdtemp(prefix="pybcc-bench-stream-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    results = {}
    try:
        for label, make_argv, extra in impls(env_bcc):
            env = dict(os.environ, **extra)
            results[label] = []
            losses = 0
            for rate in rates:
                r = once(openloop, make_argv, env, rate, workdir)
                results[label].append(r)
                log(f"  streaming {label:24} rate {rate or 'max':>7}: " +
                    (r.get("error") or f"achieved {r['achieved']:.0f}/s received {r['received']} "
                     f"missing {r['missing']} reported lost {r['reported_lost']} tool CPU {r['tool_cpu']:.2f}s"))
                if "error" in r:
                    break
                if r["missing"] > 0:
                    losses += 1
                    if losses >= 2:
                        break
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def best_rate(rs):
    ok = [r["achieved"] for r in rs if "error" not in r and r["missing"] == 0]
    return max(ok) if ok else None


def report(results, targets):
    md = []
    summary = []
    bcc = best_rate(results.get("bcc (tracepoint script)", []))
    for label, rs in results.items():
        best = best_rate(rs)
        if rs and "error" in rs[0]:
            summary.append([label, "**fails**: `" + rs[0]["error"] + "`", "", ""])
            continue
        above = [r for r in rs if "error" not in r and r["missing"] > 0]
        summary.append([label, f"{best:,.0f}" if best else "< lowest tried",
                        "; ".join(f"{r['achieved']:,.0f}/s: missing {r['missing']:,} of {r['sent']:,}, "
                                  f"reported lost {r['reported_lost']:,}" for r in above) or "none up to the max rate",
                        bl.ratio(best, bcc) if not label.startswith("bcc") else ""])
    md.append(bl.table(["implementation", "max rate with zero loss, events/s",
                        "above it (achieved rate: missing / reported lost)", "this / bcc"], summary))
    md.append("\nEvery run:\n")
    rows = []
    for label, rs in results.items():
        for r in rs:
            if "error" in r:
                continue
            rows.append([label, f"{r['rate']:,}" if r["rate"] else "max", f"{r['achieved']:,.0f}",
                         f"{r['sent']:,}", f"{r['received']:,}", f"{r['missing']:,}",
                         f"{r['reported_lost']:,}", f"{r['tool_cpu']:.2f}"])
    md.append(bl.table(["implementation", "target/s", "achieved/s", "sent", "received", "missing",
                        "reported lost", "tool CPU s"], rows))
    for label in ("pybcc ring buffer", "pybcc perf buffer"):
        best = best_rate(results.get(label, []))
        if best is not None and bcc is not None:
            targets.append((f"streaming ({label}) ≥ 2× bcc's zero-loss rate", best >= 2 * bcc,
                            f"{best:,.0f}/s vs bcc {bcc:,.0f}/s = {best / bcc:.2f}×"))
        elif best is not None:
            targets.append((f"streaming ({label}) ≥ 2× bcc's zero-loss rate", None,
                            "bcc did not run"))
        # lost events must be reported
        under = [r for r in results.get(label, []) if "error" not in r and r["missing"] > r["reported_lost"]]
        if under:
            md.append(f"\n**{label} under-reported losses** in {len(under)} run(s): " +
                      "; ".join(f"missing {r['missing']}, reported {r['reported_lost']}" for r in under))
    return "\n".join(md)
