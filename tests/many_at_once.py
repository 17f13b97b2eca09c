"""Start many pybcc tools together, stop them with a mix of SIGINT, SIGTERM
and SIGKILL, and list what of theirs is left in the kernel: programs, links,
maps, perf events, uprobe/kprobe events, tracefs instances, pinned objects.

Theirs = held by their pids while they ran (bpftool ... show -j lists the
holders), or named after their pids (tracefs probe events), or pinned in
bpffs while they held it, or a bpffs / tracefs-instance entry named after
their pids. Other engineers' programs, pins and instances on the same
machine are left out.
"""
import json
import os
import signal
import subprocess
import sys
import time

TOOLS = [  # 20 tools, uprobe-based ones included (gethostlatency, funccount, trace)
    ["execsnoop"], ["opensnoop"], ["biolatency"], ["runqlat"], ["tcplife"], ["syscount"],
    ["capable"], ["killsnoop"], ["statsnoop"], ["exitsnoop"], ["biosnoop"], ["bitesize"],
    ["cpudist"], ["softirqs"], ["offcputime"], ["profile"], ["tcpconnect"], ["gethostlatency"],
    ["funccount", "c:malloc"], ["trace", "r:c:malloc"],
]
# One of each way of attaching (tracepoint, tp_btf link, uprobe, perf sampling): the test's set.
QUICK = [["execsnoop"], ["opensnoop"], ["biolatency"], ["runqlat"], ["profile"], ["gethostlatency"],
         ["funccount", "c:malloc"], ["tcplife"], ["syscount"]]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
TRACEFS = "/sys/kernel/tracing"
BPFFS = "/sys/fs/bpf"


def bpftool(*args):
    r = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    try:
        return json.loads(r.stdout or "[]")
    except ValueError:
        return []


_ANON = {"anon_inode:bpf-prog": "prog", "anon_inode:bpf_link": "link",
         "anon_inode:bpf-map": "map", "anon_inode:[perf_event]": "perf_event"}


def held(pid):
    """{kind: {id}} of the BPF programs, links, maps (by kernel id) and perf
    events (by fd) a process holds, from /proc/PID/fd and fdinfo."""
    out = {"prog": set(), "link": set(), "map": set(), "perf_event": set()}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            kind = _ANON.get(os.readlink(f"/proc/{pid}/fd/{fd}"))
            if kind is None:
                continue
            if kind == "perf_event":
                out[kind].add(int(fd))
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for ln in f:
                    if ln.startswith(f"{kind}_id:"):
                        out[kind].add(int(ln.split()[1]))
        except (OSError, ValueError):
            pass
    return out


def existing(kind):
    """Ids of the BPF objects of ``kind`` in the kernel now."""
    return {o["id"] for o in bpftool(kind, "show") if "id" in o}


def _lines(path):
    try:
        with open(path) as f:
            return [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return []


def probe_events(pids):
    """uprobe/kprobe events in tracefs named after one of ``pids``."""
    marks = {f"_{p}_" for p in pids}
    return [ln for kind in ("uprobe_events", "kprobe_events")
            for ln in _lines(os.path.join(TRACEFS, kind)) if any(m in ln for m in marks)]


def snapshot_dirs():
    """Entries of bpffs and of tracefs instances (to spot new ones)."""
    out = set()
    for root in (BPFFS, os.path.join(TRACEFS, "instances")):
        for d, dirs, files in os.walk(root):
            out.update(os.path.join(d, n) for n in dirs + files)
    return out


def _theirs(path, ids, pids):
    """Whether a new bpffs or tracefs-instance entry is the tools': an object
    pinned there that they held, or a name with one of their pids (or pybcc)
    in it. Others on the machine pin and make instances meanwhile."""
    name = os.path.basename(path)
    if "pybcc" in name or any(str(p) in name for p in pids):
        return True
    if path.startswith(BPFFS + "/") and os.path.isfile(path):
        for kind in ("map", "prog", "link"):
            obj = bpftool(kind, "show", "pinned", path)
            if isinstance(obj, dict) and obj.get("id") in ids[kind]:
                return True
    return False


def start(argv_list, env=None):
    procs = []
    for argv in argv_list:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "pybcc", *argv], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)))
    return procs


def wait_attached(procs, timeout=120):
    """Wait until every live process holds a BPF link or a perf event (each
    way of attaching gives one); returns {pid: held(pid)} at that moment."""
    deadline = time.monotonic() + timeout
    while True:
        state = {p.pid: held(p.pid) for p in procs if p.poll() is None}
        if all(h["link"] or h["perf_event"] for h in state.values()) or time.monotonic() > deadline:
            return state
        time.sleep(1)


def run(argv_list, settle=3.0, env=None, timeout=120):
    """The whole exercise. Returns a report dict; report["leftovers"] must be empty."""
    before = snapshot_dirs()
    t0 = time.monotonic()
    procs = start(argv_list, env)
    attached = wait_attached(procs, timeout)
    startup = time.monotonic() - t0
    time.sleep(settle)
    # Everything they hold just before they are stopped.
    holding = {p.pid: held(p.pid) for p in procs}
    ids = {k: set().union(*(h[k] for h in holding.values())) for k in ("prog", "link", "map")}
    pids = {p.pid for p in procs}
    signals = {}
    for i, p in enumerate(procs):
        sig = SIGNALS[i % len(SIGNALS)]
        signals[p.pid] = sig.name
        if p.poll() is None:
            p.send_signal(sig)
    results = []
    for p, argv in zip(procs, argv_list):
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            err += "\n(did not stop within 30 s)"
        h = attached.get(p.pid) or {}
        results.append({"tool": " ".join(argv), "pid": p.pid, "signal": signals[p.pid],
                        "rc": p.returncode, "attached": bool(h.get("link") or h.get("perf_event")),
                        "held": {k: len(v) for k, v in holding[p.pid].items()},
                        "traceback": "Traceback" in err, "stderr": err.strip()[-400:]})
    # The kernel frees programs and maps a little after their last fd closes.
    deadline = time.monotonic() + 10
    while True:
        left = {k: sorted(v & existing(k)) for k, v in ids.items()}
        left = {k: v for k, v in left.items() if v}
        events = probe_events(pids)
        new_dirs = sorted(d for d in snapshot_dirs() - before if _theirs(d, ids, pids))
        if (not left and not events and not new_dirs) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    leftovers = {f"{k}s": v for k, v in left.items()}
    if events:
        leftovers["probe_events"] = events
    if new_dirs:
        leftovers["bpffs/tracefs instances"] = new_dirs
    return {"startup_seconds": round(startup, 1), "held": {k: len(v) for k, v in ids.items()},
            "perf_events": sum(len(h["perf_event"]) for h in holding.values()),
            "results": results, "leftovers": leftovers}
