"""Starting `pybcc exporter` in tests, scraping it, and causing exact activity."""
import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

WORKTREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Exporter:
    """`pybcc exporter` as a child process on a free loopback port."""

    def __init__(self, tmp_path, config_text=None, args=(), scheme="http"):
        self.port = free_port()
        self.config = None
        if config_text is not None:
            self.config = tmp_path / "exporter.yml"
            self.config.write_text(config_text)
        self.args = list(args)
        self.scheme = scheme
        self.stderr_path = tmp_path / "exporter.stderr"
        self.proc = None

    def __enter__(self):
        cmd = [sys.executable, "-m", "pybcc", "exporter", "--listen", f"127.0.0.1:{self.port}"]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        self.proc = subprocess.Popen(cmd + self.args, cwd=WORKTREE, stdout=subprocess.DEVNULL,
                                     stderr=open(self.stderr_path, "w"),
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        # A first start (objects, kernel BTF) takes minutes under TCG in the VM,
        # and over a minute on a loaded host (load average 20: the suite beside
        # benchmarks/loadgen.py). The limit only catches a hung exporter.
        deadline = time.monotonic() + 300
        while "serving" not in self.stderr:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()     # with does not call it when __enter__ fails
                raise AssertionError(f"exporter did not start: {self.stderr}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def stderr(self):
        return self.stderr_path.read_text()

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}/metrics"

    def scrape(self, accept=None, auth=None, context=None):
        """(status, content type, body text)."""
        req = urllib.request.Request(self.url)
        if accept is not None:
            req.add_header("Accept", accept)
        if auth is not None:
            req.add_header("Authorization", "Basic " + base64.b64encode(
                f"{auth[0]}:{auth[1]}".encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=20, context=context) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def samples(self, **kw):
        """{(sample name, frozenset of labels): value} of one scrape."""
        status, _, body = self.scrape(**kw)
        assert status == 200, body
        return {(s.name, frozenset(s.labels.items())): s.value
                for fam in text_string_to_metric_families(body) for s in fam.samples}


def value(samples, name, **labels):
    """The value of the sample with exactly these labels (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0)


def matching(samples, name, **labels):
    """[(labels dict, value)] of samples of ``name`` that have these labels."""
    want = set(labels.items())
    return [(dict(k), v) for (n, k), v in samples.items() if n == name and want <= set(k)]


def wait_until(fn, timeout=10, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


class Cgroup:
    """A cgroup v2 of the test's own: counts in it come from our processes only."""

    def __init__(self, name):
        from pybcc.exporter.decoders import cgroup2_root
        self.root = cgroup2_root()
        self.path = os.path.join(self.root, name)
        self.label = "/" + name

    def __enter__(self):
        try:
            os.mkdir(self.path)
        except OSError as e:
            import pytest
            pytest.skip(f"cannot make a cgroup v2 at {self.path}: {e}")
        return self

    def __exit__(self, *exc):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)

    def run(self, code, comm=None):
        """Run Python ``code`` in a child process inside this cgroup."""
        procs = os.path.join(self.path, "cgroup.procs")

        def enter():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        if comm:
            code = f"open('/proc/self/comm', 'w').write({comm!r})\n" + code
        r = subprocess.run([sys.executable, "-c", code], preexec_fn=enter,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout


LSEEKS = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.lseek.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_int]
for off in {offsets!r}:
    assert libc.lseek(-1, off, {whence}) == -1     # EBADF: no side effects
"""


def bad_lseeks(cgroup, offsets, whence=0, comm="pybccexplseek"):
    cgroup.run(LSEEKS.format(offsets=list(offsets), whence=whence), comm=comm)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


OOM_HOG = """
open('/proc/self/comm', 'w').write({comm!r})
hog = []
while True:
    hog.append(bytearray(1 << 20))
"""


def memory_cgroup(name, limit=48 << 20):
    """A memory-limited cgroup of our own: its procs file, or skip. cgroup v2
    where the memory controller is there, else the v1 memory hierarchy."""
    import pytest
    from pybcc.exporter.decoders import cgroup2_root
    v2 = cgroup2_root()
    try:
        with open(os.path.join(v2, "cgroup.controllers")) as f:
            has_memory = "memory" in f.read().split()
    except OSError:
        has_memory = False
    candidates = [(v2, "memory.max")] if has_memory else []
    candidates.append(("/sys/fs/cgroup/memory", "memory.limit_in_bytes"))
    for root, limit_file in candidates:
        path = os.path.join(root, name)
        try:
            if root == v2:
                with open(os.path.join(v2, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory")
            os.mkdir(path)
            with open(os.path.join(path, limit_file), "w") as f:
                f.write(str(limit))
            return path
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    pytest.skip("no memory cgroup to cause an OOM kill in")


def oom_kill(cgroup_path, comm):
    """Run a memory hog in ``cgroup_path`` until the OOM killer kills it."""
    def enter():
        with open(os.path.join(cgroup_path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    r = subprocess.run([sys.executable, "-c", OOM_HOG.format(comm=comm)], preexec_fn=enter,
                       capture_output=True, timeout=60)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-500:])
