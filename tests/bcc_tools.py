"""Run Debian's bcc tools (bpfcc-tools: /usr/sbin/NAME-bpfcc), unmodified,
under `pybcc run`, with some activity around each, and classify the run:

    works     ran, no traceback, printed data (and what the tool's entry in
              TOOLS says it must show, when it says)
    refuses   stopped with one clear line: this kernel lacks what it needs
              (pybcc's NotSupportedError, or the tool's own check)
    needs     the tool needs a program that is not here (a java, ruby, mysqld
              process) or is not a Python tool (reset-trace)
    fails     anything else: a pybcc gap

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
# Inside the VM (scripts/vm-bcctools.sh: TCG, no KVM) everything is several
# times slower: wait that much longer for a tool to start and to stop.
SLOW = 5 if os.environ.get("PYBCC_VMTEST") else 1

# Arguments a tool needs to do something, and (optionally) a regex its output
# must match to count as working (the activity below makes it true).
TOOLS = {
    "argdist": (["-C", "t:syscalls:sys_enter_kill():int:args->sig", "-i", "1"], r"COUNT"),
    "biolatency": (["1", "2"], None),
    "biolatpcts": (["-i", "1", "vda"], None),
    "cachetop": (["1"], None),
    "dirtop": (["-d", "/tmp", "1", "1"], None),
    "netqtop": (["-n", "lo", "-i", "1"], None),
    "biopattern": (["1", "1"], None),
    "bitesize": ([], None),
    "capable": ([], None),
    "cpudist": (["1", "1"], r"usecs"),
    "dbslower": (["mysql"], None),
    "dbstat": (["mysql"], None),
    # this (Python) process; glibc 2.34+ has the pthread functions in libc
    "deadlock": (["--binary", "/lib/x86_64-linux-gnu/libc.so.6", str(os.getpid())], None),
    # a pty of its own, which the activity writes the mark to ({pty})
    "ttysnoop": (["-C", "{pty}"], MARK),
    "execsnoop": ([], MARK),
    "exitsnoop": ([], MARK),
    "funccount": (["-d", "2", "c:getpid"], r"getpid"),
    "funcinterval": (["-d", "2", "c:getpid"], None),
    "funclatency": (["-d", "2", "c:getpid"], None),
    "funcslower": (["-u", "0", "c:getpid"], None),
    "hardirqs": (["1", "1"], None),
    "inject": (["kmalloc", "-I", "linux/mm.h", "should_failslab(struct kmem_cache *s, gfp_t gfpflags)"], None),
    "killsnoop": ([], r"\bsh\s+0\s"),
    "mountsnoop": ([], r"mount\("),
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
    "opensnoop": ([], r"pybcc-act|hostname"),
    "trace": (["t:syscalls:sys_enter_kill \"%d\", args->sig"], r"\bsh\b"),
    "tcpconnect": ([], r"127\.0\.0\.1"),
    "tcpaccept": ([], r"127\.0\.0\.1"),
    "tcplife": ([], r"127\.0\.0\.1"),
    "tcpstates": ([], r"127\.0\.0\.1"),
    "threadsnoop": ([], None),
    "vfsstat": (["1", "1"], None),
    "wakeuptime": (["1"], None),
}
for _name in ("filetop", "biotop", "tcptop", "slabratetop"):
    TOOLS.setdefault(_name, (["1", "1"], None))
# Language tools (Debian's wrappers run ucalls/uflow/... -l LANG): PID is
# filled in with a process of that language when one can be started here.
LANGUAGES = {"python": ["/usr/bin/python3", "-c", "import time\nwhile True: time.sleep(0.01)"]}

# What the kernel refusing looks like: pybcc's one line, or the tool's own check.
REFUSAL = re.compile(r"this kernel|kernel (?:does not|doesn't|lacks)|CONFIG_|"
                     r"not supported|no kprobes|refused by|kernel version|requires? .*kernel|"
                     r"not available on this|not a probeable kernel function", re.I)

# Tools whose failure or refusal is the kernel's or the tool's (Debian's bcc
# 0.26 predates some kernels' changes), not pybcc's: the evidence, shown under
# the table in docs/BCC_FIDELITY.md. "tool" holds on every kernel,
# "tool@6.12" on kernels whose release starts with 6.12.
EXPLAINED = {
    "compactsnoop": "reads raw tracepoint argument 5 of mm_compaction_begin, which has 4 on "
                    "these kernels: it fails the same under bcc",
    "inject": "bpf_override_return needs CONFIG_BPF_KPROBE_OVERRIDE, which Debian's kernels "
              "do not set: pybcc says so in one line (bcc fails with the verifier's log)",
    "readahead": "where kfuncs work it attaches to do_page_cache_ra and __page_cache_alloc, "
                 "neither of them a function in the BTF of Debian's 6.1 or 6.12 (they have "
                 "page_cache_ra_order/_unbounded and filemap_alloc_folio[_noprof]): no BTF id "
                 "to attach to, the same under bcc",
    "tcpaccept@6.12": "it picks the sk_protocol read by the distance from sk_gso_max_segs to "
                      "sk_lingertime (2 bytes since 5.6, 4 before); in 6.12's struct sock "
                      "(BTF) they are at bytes 554 and 576 (sk_protocol at 574; 6.1: 516, 518, "
                      "520), so it reads the byte 3 before sk_wmem_queued as the protocol and "
                      "drops every TCP accept: the same under bcc",
    "ttysnoop@6.12": "its kfunc reads from->kvec directly; in 6.12's struct iov_iter that "
                      "pointer shares a union with __ubuf_iovec, so the verifier types the load "
                      "a scalar and refuses the next read (R1 invalid mem access 'scalar' at its "
                      "13th instruction): bcc commit ce5c8938 (2024, 'Fix ttysnoop.py with newer "
                      "kernels') shows this very log and reads it with bpf_probe_read_kernel; "
                      "Debian's 0.26 predates it",
    "tcptop@6.12": "kprobes tcp_sendpage unconditionally (kprobe__tcp_sendpage); Linux 6.5 "
                   "removed it and 6.12's BTF has no such function: bcc fails the same",
    "slabratetop@6.12": "kprobes kmem_cache_alloc (kprobe__kmem_cache_alloc); since 6.10 "
                        "(allocation profiling) the function is kmem_cache_alloc_noprof, the "
                        "only one in 6.12's BTF: bcc fails the same",
}


def explained(tool, release):
    """EXPLAINED's evidence for ``tool`` on kernel ``release`` ("on 6.12: ..."
    for a kernel's own), or None."""
    for key, text in EXPLAINED.items():
        name, _, prefix = key.partition("@")
        if name == tool and release.startswith(prefix):
            return f"on {prefix}: {text}" if prefix else text
    return None

# An ext4 file system the VM run mounts (test_bcc_tools._guest_modules): the
# activity writes there too when it is mounted.
EXT4_DIR = "/tmp/pybcc-ext4"

ACTIVITY = r"""
cp /bin/true /tmp/%(mark)s 2>/dev/null; /tmp/%(mark)s; rm -f /tmp/%(mark)s
ls / >/dev/null; stat /etc/hostname >/dev/null; cat /etc/hostname >/dev/null; sync
dd if=/dev/zero of=/tmp/pybcc-act bs=4k count=32 conv=fsync 2>/dev/null; cat /tmp/pybcc-act >/dev/null
stat /tmp/pybcc-act >/dev/null; rm -f /tmp/pybcc-act
if mountpoint -q %(ext4)s; then
    dd if=/dev/zero of=%(ext4)s/act bs=4k count=32 conv=fsync 2>/dev/null; cat %(ext4)s/act >/dev/null; rm -f %(ext4)s/act
fi
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
if "%(tty)s":
    # a tty's output: by write() and by writev() (bcc 0.26's ttysnoop sees
    # only the second on 6.0+, where a write() is an ITER_UBUF iov_iter)
    fd = os.open("%(tty)s", os.O_WRONLY | os.O_NOCTTY)
    os.write(fd, b"%(mark)s write\n"); os.writev(fd, [b"%(mark)s ", b"writev\n"]); os.close(fd)
PY
sleep 0.3
"""


# pybcc gaps a VM run showed, fixed after it (drop an entry once a run has
# the tool working).
FIXED_SINCE = {}


def tool_names():
    return sorted(os.path.basename(p)[:-len("-bpfcc")] for p in glob.glob("/usr/sbin/*-bpfcc"))


def _read_until(proc, limit, done, out=b""):
    """Read the tool's output until ``done(out)``, the tool exits or ``limit``
    seconds pass."""
    import select
    end = time.time() + limit
    while time.time() < end and proc.poll() is None and not done(out):
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    return out


def command(name):
    """(script, args) to run for tool ``name``; Debian's language tools are
    bash wrappers ("$lib/ucalls -l java "$@""): run the script they call."""
    path = f"/usr/sbin/{name}-bpfcc"
    with open(path, errors="replace") as f:
        text = f.read()
    args, _ = TOOLS.get(name, ([], None))
    if text.startswith("#!/bin/bash") or text.startswith("#!/bin/sh"):
        m = re.search(r'^\$lib/(\w+) (.*?)\s*"\$@"', text, re.M)
        if not m:
            return None, None
        return f"/usr/sbin/{m.group(1)}", m.group(2).split() + list(args)
    return path, list(args)


def _language_process(script, args):
    """A process of the language a u* tool wants (its pid goes last), or None."""
    if "-l" not in args:
        return None
    lang = args[args.index("-l") + 1]
    argv = LANGUAGES.get(lang)
    if argv is None or not os.path.exists(argv[0]):
        return None
    return subprocess.Popen(argv)


def run_tool(name, startup=60 * SLOW, window=1.5 * SLOW):
    """(class, detail, seconds, stdout, stderr, seconds to its first line) of
    one tool's run."""
    _, expect = TOOLS.get(name, ([], None))
    script, args = command(name)
    t0 = time.time()
    if script is None:
        return "needs", "not a Python tool", 0.0, "", "", 0.0
    lang_proc = None
    if "-l" in args:
        lang_proc = _language_process(script, args)
        if lang_proc is None:
            return "needs", f"no {args[args.index('-l') + 1]} runtime here", 0.0, "", "", 0.0
        args = args + ([] if os.path.basename(script) == "ustat" else [str(lang_proc.pid)])
    pty = os.openpty() if "{pty}" in args else None
    tty = os.ttyname(pty[1]) if pty else ""
    args = [tty if a == "{pty}" else a for a in args]
    try:
        return _run(script, args, expect, startup, window, t0, tty)
    finally:
        if lang_proc is not None:
            lang_proc.kill()
            lang_proc.wait()
        for fd in pty or ():
            os.close(fd)


def _run(script, args, expect, startup, window, t0, tty=""):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("PYBCC_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "pybcc", "run", script, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=ROOT, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out = _read_until(proc, startup, lambda out: b"\n" in out)    # it is running
    started = time.time() - t0
    # Tools open their buffers after the header; a tool that refuses exits
    # after its one line (under TCG that takes seconds: don't start the
    # activity for it).
    out = _read_until(proc, 1.0 * SLOW, lambda out: False, out)
    if proc.poll() is None:
        subprocess.run(["sh", "-c", ACTIVITY % {"mark": MARK, "ext4": EXT4_DIR, "tty": tty}], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30 * SLOW)
        out = _read_until(proc, window, lambda out: False, out)
        if expect:
            # A snoop tool prints every event on a busy machine (the other
            # tools' compiles open thousands of files): give it time to
            # print the activity's before Ctrl-C drops what it has not read.
            pattern = re.compile(expect.encode())
            out = _read_until(proc, 20 * SLOW, lambda out: pattern.search(out), out)
        proc.send_signal(signal.SIGINT)
    try:
        more, err = proc.communicate(timeout=15 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        more, err = proc.communicate()
    out = (out + more).decode(errors="replace")
    err = err.decode(errors="replace")
    seconds = time.time() - t0
    return classify(proc.returncode, out, err, expect) + (seconds, out, err, started)


# What tools print when something they need is not running here.
NEEDS = re.compile(r"pidof|USAGE: mysqld|no such process|No such process|Is the process|"
                   r"nocbreak|setupterm|_curses", re.I)
# Tools' own checks of the kernel, printed on stdout.
OWN_REFUSAL = re.compile(r"^(ERROR|WARNING): .*(kallsyms|not available|not found|traceable)|"
                         r"Failed to attach to a hardware event|only support Intel", re.M)


def classify(rc, out, err, expect):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    if NEEDS.search(last) or NEEDS.search(out[:300]):
        return "needs", (last or out.strip().splitlines()[0])[:200]
    if OWN_REFUSAL.search(out) or OWN_REFUSAL.search(last):
        m = OWN_REFUSAL.search(out) or OWN_REFUSAL.search(last)
        line = (out + "\n" + last)[m.start():].splitlines()[0]
        return "refuses", line[:200]
    traceback = "Traceback (most recent call last)" in err
    interrupted = traceback and last.startswith("KeyboardInterrupt")
    if traceback and not interrupted:
        return "fails", last[:200]
    if rc not in (0, -signal.SIGINT, 130, 1) and not interrupted:
        return "fails", f"exit {rc}: {last[:200]}"
    if rc == 1 and REFUSAL.search(last):
        return "refuses", last[:200]
    if rc == 1 and not out.strip():
        return "fails", last[:200] or "exit 1, no output"
    if expect and not re.search(expect, out):
        if REFUSAL.search(err):
            return "refuses", last[:200]
        return "fails", f"ran, but no {expect!r} in its output" + (f" ({last[:120]})" if last else "")
    if not out.strip():
        return "fails", "ran, printed nothing" + (f" ({last[:120]})" if last else "")
    if re.search(r"could not determine address|Failed to attach|cannot attach", out + err):
        return "fails", (last or out.strip().splitlines()[0])[:200]
    return "works", (out.strip().splitlines() or [""])[0][:80]


def warm_up():
    """Build what every tool's first compile needs (vmlinux.h from the kernel's
    BTF, ...) once, before tools start in parallel: otherwise the first few all
    wait on it and, on a busy machine, miss their start-up time."""
    subprocess.run([sys.executable, "-c", "from pybcc.bcc import BPF\n"
                    "BPF(text='int on_x(void *ctx) { return 0; }').load_func(b'on_x', BPF.KPROBE)"],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300 * SLOW)


def prepare_cache(cache_dir, vmlinux_elf):
    """Fill pybcc cache ``cache_dir`` for a VM's kernel (its ``vmlinux_elf``,
    as scripts/vmtest/vmtest.sh unpacks it) with what every bcc program's
    compile needs and that depends only on the kernel's BTF: vmlinux.h,
    pybcc_bcc.h precompiled against it, the index of the kernel's type names
    (compiler/kernel_types.py) and the sizes dialect/kernel_macros.py reads
    from the BTF. Under TCG the guest takes many minutes for these
    (python writing vmlinux.h, clang parsing it); here seconds. The guest
    finds them by the same keys (the BTF's hash, same compiler, paths)."""
    from elftools.elf.elffile import ELFFile
    with open(vmlinux_elf, "rb") as f:
        btf = ELFFile(f).get_section_by_name(".BTF").data()    # = /sys/kernel/btf/vmlinux
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    btf_path = os.path.join(cache_dir, "guest-vmlinux.btf")
    with open(btf_path, "wb") as f:
        f.write(btf)
    code = ("import os, sys\n"
            "from pybcc.btf import types\n"
            "from pybcc.btf.cgen import vmlinux_header\n"
            "from pybcc.compiler import build, kernel_types\n"
            "from pybcc.bcc.dialect import implicit, kernel_macros, rewriter\n"
            "from pybcc.bcc.source import BCC_MCPU\n"
            "vmdir = vmlinux_header(sys.argv[1])\n"
            "# the guest's kernel, not this one\n"
            "build._kernel_vmlinux_dir = lambda generate=True: vmdir\n"
            "types._kernel_btf = types.BTF.load(sys.argv[1])\n"
            "kernel_types.kernel()\n"
            "kernel_macros._kernel_sizes()\n"
            "sys.exit(implicit.precompiled(rewriter.HEADER, (BCC_MCPU,)) is None)\n")
    subprocess.run([sys.executable, "-c", code, btf_path], cwd=ROOT, check=True,
                   env=dict(os.environ, PYBCC_CACHE_DIR=cache_dir))


def run_all(names, workers=3, progress=None, warm=True, kept=None):
    """{tool: result}; ``progress``: a file to append each tool's line to as it
    finishes (a VM killed at its time limit still leaves the tools it ran), a
    failing tool's output going to ``progress``.log; ``kept``: lines of an
    earlier table (table_blocks) written into it first.
    ``warm``: False when the cache has what warm_up() builds already
    (prepare_cache)."""
    t0 = time.time()
    if warm:
        warm_up()
    if progress:
        with open(progress, "w") as f:
            f.write(f"# kernel {os.uname().release}\n# warm-up {time.time() - t0:.0f}s\n")
            f.write("".join(kept or []))
        open(progress + ".log", "w").close()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(run_tool, n): n for n in names}
        results = {}
        for fut in concurrent.futures.as_completed(futures):
            n = futures[fut]
            results[n] = r = fut.result()
            if progress:
                with open(progress, "a") as f:
                    f.write(f"{n:<16} {r[0]:<8} {r[2]:5.1f}s  {r[1]}\n"
                            f"#   {n}: first line after {r[5]:.1f}s\n")
                if r[0] == "fails":
                    with open(progress + ".log", "a") as f:
                        f.write(f"=== {n}\n--- stdout:\n{r[3][-2000:]}\n--- stderr:\n{r[4][-6000:]}\n")
        return results


def table_blocks(path):
    """{tool: its lines} of a file table() wrote (for a rerun of some tools
    that keeps the others' rows)."""
    blocks = {}
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                blocks[line.split()[0]] = [line]
            elif line.startswith("#   ") and ":" in line:
                name = line.split()[1].rstrip(":")
                if name in blocks:
                    blocks[name].append(line)
    return blocks


def unseen_first(names, table_path):
    """``names`` with the tools that no other table beside ``table_path``
    (the other VM kernels' of this run) has yet first: under TCG a kernel's
    run may be cut at its time limit, and then the columns together cover
    more tools."""
    seen = set()
    for other in glob.glob(os.path.join(os.path.dirname(table_path) or ".", "vm-*.txt")):
        if os.path.abspath(other) != os.path.abspath(table_path):
            seen |= set(read_table(other)[1])
    return [n for n in names if n not in seen] + [n for n in names if n in seen]


def table(results, seconds, kept=None):
    """The classification as text: one line per tool, then the counts;
    ``kept``: {tool: lines} of tools not rerun (table_blocks)."""
    rows = {n: [f"{n:<16} {r[0]:<8} {r[2]:5.1f}s  {r[1]}\n", f"#   {n}: first line after {r[5]:.1f}s\n"]
            for n, r in results.items()}
    rows.update({n: block for n, block in (kept or {}).items() if n not in results})
    lines = [f"# kernel {os.uname().release}\n"] + [ln for n in sorted(rows) for ln in rows[n]]
    counts = {}
    for block in rows.values():
        cls = block[0].split()[1]
        counts[cls] = counts.get(cls, 0) + 1
    lines.append(f"# {len(results)} tools run in {seconds:.0f}s, {len(rows)} in the table: {counts}\n")
    return "".join(lines)


def read_table(path):
    """(kernel release, {tool: (class, detail)}) of a file table() wrote (a
    tool's later row wins: a rerun's progress lines follow the kept ones)."""
    release, rows = "?", {}
    with open(path) as f:
        for line in f:
            if line.startswith("# kernel "):
                release = line.split()[2]
            elif line.strip() and not line.startswith("#"):
                name, cls, _seconds, *detail = line.split(None, 3)
                rows[name] = (cls, detail[0].strip() if detail else "")
    return release, rows


def _cell(row, width=90):
    if row is None:
        return "not run"
    cls, detail = row
    if cls == "works":
        return "works"
    detail = detail.replace("|", "\\|").replace("`", "'")[:width]
    return f"{cls}: {detail}" if detail else cls


def markdown(host_path, vm_paths):
    """docs/BCC_FIDELITY.md: one row per tool, its result here and in each VM."""
    host_release, host = read_table(host_path)
    vms = sorted((read_table(p) for p in vm_paths), key=lambda t: t[0])
    heads = [f"here ({host_release})" if host_release != "?" else "here"] + \
        [release for release, _ in vms]
    out = ["# bcc's tools under `pybcc run`", "",
           "Generated by `scripts/vm-bcctools.sh` (do not edit): Debian's bpfcc-tools,",
           "unmodified, under `pybcc run` with activity around each (tests/bcc_tools.py",
           "classifies the runs). The VM columns run, under Debian's stock kernels in",
           "QEMU (TCG, no KVM), the tools that refuse here (most for lack of",
           "kprobes/fentry), with the modules they probe loaded (md_mod, nfs, nfsv4, nfsd,",
           "ext4, xfs, btrfs: Debian builds them as modules) and an ext4 file system the",
           "activity writes to; `not run` means the tool was not selected for the VM (it",
           "works here, or needs a program that is not installed).", "",
           "works: ran and printed data (what tests/bcc_tools.py expects of it, when it says);",
           "refuses: stopped with one line saying what this kernel lacks; needs: a program",
           "or runtime that is not installed; fails: a pybcc gap, or the tool's own bug.", "",
           "| tool | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for name in sorted(host):
        cells = [_cell(host[name])] + [_cell(rows.get(name)) for _, rows in vms]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    fixed = [n for n in sorted(FIXED_SINCE) if any(rows.get(n, ("",))[0] in ("fails", "refuses")
                                                   for rows in [host] + [r for _, r in vms])]
    if fixed:
        out += ["", "Failures of these runs fixed since, in pybcc or in how the VM runs the tools "
                "(the programs load here as kprobe programs; not rerun in the VM yet):", ""]
        out += [f"- {n}: {FIXED_SINCE[n]}" for n in fixed]
    columns = [(host_release, host)] + vms
    notes = sorted({(n, explained(n, release)) for release, rows in columns
                    for n, (cls, _) in rows.items()
                    if cls in ("fails", "refuses") and explained(n, release)})
    if notes:
        out += ["", "Failures and refusals that are not pybcc's (the kernel's, or the tool's",
                "own: Debian's bcc is 0.26):", ""]
        out += [f"- {n}: {text}" for n, text in notes]
    out.append("")
    for head, rows in zip(heads, [host] + [r for _, r in vms]):
        counts = {}
        for cls, _ in rows.values():
            counts[cls] = counts.get(cls, 0) + 1
        out.append(f"- {head}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--markdown"]:
        print(markdown(sys.argv[2], sys.argv[3:]), end="")
        sys.exit(0)
    if sys.argv[1:2] == ["--prepare-cache"]:     # CACHE_DIR VMLINUX_ELF
        prepare_cache(sys.argv[2], sys.argv[3])
        sys.exit(0)
    names = sys.argv[1:] or tool_names()
    t0 = time.time()
    print(table(run_all(names), time.time() - t0), end="")
