"""Run Debian's bcc tools (bpfcc-tools: /usr/sbin/NAME-bpfcc), unmodified,
under `pybcc run`, with some activity around each, and classify the run:

    works     ran, no traceback, printed data (and what the tool's entry in
              TOOLS says it must show, when it says)
    refuses   stopped with one clear line: this kernel lacks what it needs
    fails     anything else (a pybcc gap, or a tool that needs a program
              that is not running here)

    python3 tests/bcc_tools.py [NAME...]     prints the table
"""
import concurrent.futures
import glob
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "pybccmark"

# Arguments a tool needs to do something, and (optionally) a regex its output
# must match to count as working (the activity below makes it true).
TOOLS = {
    "argdist": (["-C", "t:syscalls:sys_enter_kill():int:args->sig", "-i", "1"], r"COUNT"),
    "biolatency": (["1", "2"], None),
    "biolatpcts": (["-i", "1"], None),
    "biopattern": (["1", "1"], None),
    "bitesize": ([], None),
    "capable": ([], None),
    "cpudist": (["1", "1"], r"usecs"),
    "dbslower": (["mysql"], None),
    "dbstat": (["mysql"], None),
    "deadlock": (["1"], None),
    "execsnoop": ([], MARK),
    "exitsnoop": ([], MARK),
    "funccount": (["-d", "2", "c:getpid"], r"getpid"),
    "funcinterval": (["-d", "2", "c:getpid"], None),
    "funclatency": (["-d", "2", "c:getpid"], None),
    "funcslower": (["-u", "0", "c:getpid"], None),
    "hardirqs": (["1", "1"], None),
    "inject": (["kmalloc", "-I", "linux/mm.h"], None),
    "killsnoop": ([], r"\bsh\s+0\s"),
    "mountsnoop": ([], r"mount\("),
    "opensnoop": ([], r"pybcc-act"),
    "offcputime": (["1"], None),
    "offwaketime": (["1"], None),
    "profile": (["1"], None),
    "runqlat": (["1", "1"], r"usecs"),
    "runqlen": (["1", "1"], r"runqlen"),
    "shmsnoop": ([], r"SHMGET"),
    "softirqs": (["1", "1"], r"SOFTIRQ"),
    "stackcount": (["-D", "2", "c:getpid"], None),
    "statsnoop": ([], r"pybcc-act|hostname"),
    "syncsnoop": ([], r"sync"),
    "syscount": (["-d", "2"], r"SYSCALL"),
    "tplist": (["sched:sched_switch"], r"sched:sched_switch"),
    "trace": (["t:syscalls:sys_enter_kill \"%d\", args->sig"], r"kill|PID"),
    "tcpconnect": ([], r"127\.0\.0\.1"),
    "tcpaccept": ([], r"127\.0\.0\.1"),
    "tcplife": ([], r"127\.0\.0\.1"),
    "tcpstates": ([], r"127\.0\.0\.1"),
    "threadsnoop": ([], None),
    "ttysnoop": (["/dev/null"], None),
    "vfsstat": (["1", "1"], None),
    "wakeuptime": (["1"], None),
}
for _lang in ("java", "node", "perl", "php", "python", "ruby", "tcl"):
    for _kind in ("calls", "flow", "gc", "objnew", "stat", "threads"):
        TOOLS.setdefault(_lang + _kind, (["1"] if _kind == "stat" else [str(os.getpid())], None))
TOOLS["pythonstat"] = (["1", "1"], None)
for _name in ("cobjnew", "cachetop", "filetop", "biotop", "tcptop", "dirtop", "slabratetop",
              "netqtop"):
    TOOLS.setdefault(_name, (["1", "1"] if _name != "cobjnew" else [str(os.getpid())], None))

# What the kernel refusing looks like: pybcc's one line, or the tool's own check.
REFUSAL = re.compile(r"this kernel|kernel (?:does not|doesn't|lacks)|CONFIG_|"
                     r"not supported|no kprobes|refused by|kernel version|requires? .*kernel|"
                     r"not available on this", re.I)

ACTIVITY = r"""
cp /bin/true /tmp/%(mark)s 2>/dev/null; /tmp/%(mark)s; rm -f /tmp/%(mark)s
ls / >/dev/null; stat /etc/hostname >/dev/null; cat /etc/hostname >/dev/null; sync
dd if=/dev/zero of=/tmp/pybcc-act bs=4k count=32 conv=fsync 2>/dev/null; cat /tmp/pybcc-act >/dev/null
stat /tmp/pybcc-act >/dev/null; rm -f /tmp/pybcc-act
kill -0 $$
mkdir -p /tmp/pybcc-mnt && mount -t tmpfs none /tmp/pybcc-mnt 2>/dev/null && umount /tmp/pybcc-mnt
python3 - <<'PY'
import ctypes, socket, os, threading
libc = ctypes.CDLL(None)
libc.shmat.restype = ctypes.c_void_p
k = libc.shmget(0, 4096, 0o1600); a = libc.shmat(k, None, 0)
libc.shmdt(ctypes.c_void_p(a)); libc.shmctl(k, 0, None)
for _ in range(50):
    libc.getpid()
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"x" * 1000); a.recv(1000); c.close(); a.close(); s.close()
t = threading.Thread(target=lambda: None); t.start(); t.join()
PY
sleep 0.3
"""


def tool_names():
    return sorted(os.path.basename(p)[:-len("-bpfcc")] for p in glob.glob("/usr/sbin/*-bpfcc"))


def _read_until_output(proc, limit):
    """Wait until the tool prints its first line (it is running) or exits."""
    import select
    out = b""
    end = time.time() + limit
    while time.time() < end and proc.poll() is None:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            if b"\n" in out:
                break
    return out


def run_tool(name, startup=45, window=1.5):
    """(class, detail, seconds, stdout, stderr) of one tool's run."""
    args, expect = TOOLS.get(name, ([], None))
    t0 = time.time()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("PYBCC_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "pybcc", "run", f"/usr/sbin/{name}-bpfcc", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=ROOT, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out = _read_until_output(proc, startup)
    if proc.poll() is None:
        time.sleep(1.0)     # tools open their buffers after the header
        subprocess.run(["sh", "-c", ACTIVITY % {"mark": MARK}], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
        time.sleep(window)
        proc.send_signal(signal.SIGINT)
    try:
        more, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        more, err = proc.communicate()
    out = (out + more).decode(errors="replace")
    err = err.decode(errors="replace")
    seconds = time.time() - t0
    return classify(proc.returncode, out, err, expect) + (seconds, out, err)


def classify(rc, out, err, expect):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    traceback = "Traceback (most recent call last)" in err
    interrupted = traceback and last.startswith("KeyboardInterrupt")
    if traceback and not interrupted:
        return "fails", last[:200]
    if rc not in (0, -signal.SIGINT, 130, 1) and not interrupted:
        return "fails", f"exit {rc}: {last[:200]}"
    if rc == 1 and not out.strip():
        if REFUSAL.search(err):
            return "refuses", last[:200]
        return "fails", last[:200] or "exit 1, no output"
    if expect and not re.search(expect, out):
        if REFUSAL.search(err):
            return "refuses", last[:200]
        return "fails", f"ran, but no {expect!r} in its output" + (f" ({last[:120]})" if last else "")
    if not out.strip():
        return "fails", "ran, printed nothing" + (f" ({last[:120]})" if last else "")
    return "works", (out.strip().splitlines() or [""])[0][:80]


def run_all(names, workers=2):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {n: pool.submit(run_tool, n) for n in names}
        return {n: f.result() for n, f in futures.items()}


if __name__ == "__main__":
    names = sys.argv[1:] or tool_names()
    t0 = time.time()
    results = run_all(names)
    for n in names:
        cls, detail, secs = results[n][:3]
        print(f"{n:<16} {cls:<8} {secs:5.1f}s  {detail}")
    counts = {}
    for r in results.values():
        counts[r[0]] = counts.get(r[0], 0) + 1
    print(f"# {len(names)} tools in {time.time() - t0:.0f}s: {counts}")
