"""A real Prometheus server scrapes the exporter while the test causes known
activity; its HTTP API must then agree: increase(), rate(), resets() and
histogram_quantile() over the exporter's series. A reload happens in the
middle, and other clients scrape at the same time with bad Accept headers."""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest

from .running import Cgroup, Exporter, bad_lseeks, free_port, wait_until

pytestmark = pytest.mark.usefixtures("root")
SCRAPE = 1   # seconds


class Prometheus:
    def __init__(self, tmp_path, target_port):
        self.binary = shutil.which("prometheus")
        if self.binary is None:
            pytest.skip("no prometheus binary (scripts/setup.sh installs Debian's prometheus)")
        self.port = free_port()
        self.dir = tmp_path / "prometheus"
        self.dir.mkdir()
        (self.dir / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE}s\n  scrape_timeout: {SCRAPE}s\n"
            f"scrape_configs:\n  - job_name: pybcc\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n")

    def __enter__(self):
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.dir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.dir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "log", "w"))
        try:
            if not wait_until(lambda: self._up(), timeout=30, interval=0.5):
                raise AssertionError("prometheus did not scrape the exporter: "
                                     + (self.dir / "log").read_text()[-2000:])
        except BaseException:    # with does not call __exit__ when __enter__ fails
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _up(self):
        try:
            return self.query('up{job="pybcc"}') == 1
        except OSError:
            return False

    def query(self, promql):
        """The single value of an instant query (None when empty)."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as r:
            data = json.load(r)
        assert data["status"] == "success", data
        result = data["data"]["result"]
        if not result:
            return None
        assert len(result) == 1, (promql, result)
        return float(result[0]["value"][1])


def loop_device(tmp_path):
    """A loop device of our own (so its disk label counts only our I/O)."""
    backing = tmp_path / "loop.img"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    r = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no loop device: {r.stderr.strip()}")
    return r.stdout.strip()


def direct_writes(dev, n, bs=4096, seek=0):
    subprocess.run(["dd", "if=/dev/zero", f"of={dev}", f"bs={bs}", f"count={n}", f"seek={seek}",
                    "oflag=direct"], check=True, capture_output=True)


def wait_scrapes(n=2.5):
    time.sleep(n * SCRAPE)


def test_prometheus_agrees_with_known_activity(tmp_path):
    cg_name = f"pybcc-exp-p{os.getpid()}"
    config = f"""
sets:
  block_io: {{}}
  tcp: {{}}
  syscalls: {{by_cgroup: true, cgroup_regex: "^/{cg_name}"}}
  off_cpu: {{by_cgroup: true, cgroup_regex: "^/{cg_name}"}}
"""
    dev = loop_device(tmp_path)
    disk = os.path.basename(dev)
    stop = threading.Event()
    side_scrapes = []
    try:
        with Cgroup(cg_name) as cg, Exporter(tmp_path, config) as exp, Prometheus(tmp_path, exp.port) as prom:
            def side_scraper(accept):
                while not stop.wait(0.05):
                    try:
                        side_scrapes.append(exp.scrape(accept=accept)[0])
                    except OSError as e:
                        side_scrapes.append(repr(e))
            scrapers = [threading.Thread(target=side_scraper, args=(a,))
                        for a in ("text/plain;;;q=x", "application/openmetrics-text; version=zz")]
            for t in scrapers:
                t.start()

            # phase 1: make each series exist before the counted activity
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            srv_port = listener.getsockname()[1]
            connect(listener, 1)
            direct_writes(dev, 1)
            bad_lseeks(cg, [1])
            wait_scrapes()

            # a reload that adds a set and keeps the others' counters
            exp.config.write_text(config + "  oom: {}\n")
            exp.proc.send_signal(signal.SIGHUP)
            assert wait_until(lambda: "reloaded" in exp.stderr), exp.stderr

            # phase 2: the counted activity
            sleeper = threading.Thread(target=cg.run, args=("import time\nfor _ in range(20): time.sleep(0.2)",))
            sleeper.start()
            direct_writes(dev, 200, seek=8)
            bad_lseeks(cg, range(100))
            connects = connect(listener, 50)
            sleeper.join()
            wait_scrapes()
            stop.set()
            for t in scrapers:
                t.join()

            window = "[2m]"
            lseeks = f'pybcc_syscall_errors_total{{syscall="lseek",errno="EBADF",cgroup="{cg.label}"}}'
            conn = f'pybcc_tcp_connects_total{{port="{srv_port}"}}'
            writes = f'pybcc_block_io_latency_seconds_count{{disk="{disk}",op="write"}}'
            for series, n in ((lseeks, 100), (conn, connects), (writes, 200)):
                exact = prom.query(f"max_over_time({series}{window}) - min_over_time({series}{window})")
                assert exact == n, (series, exact)
                # increase() extrapolates to the window's edges: at least the true count
                inc = prom.query(f"increase({series}{window})")
                assert n <= inc <= 1.6 * n, (series, inc)
                assert prom.query(f"resets({series}{window})") == 0
                assert prom.query(f"rate({series}{window})") > 0

            # 4 KiB writes: the median is in the bucket (4095, 8191] bytes
            q = prom.query(f'histogram_quantile(0.5, rate(pybcc_block_io_size_bytes_bucket'
                           f'{{disk="{disk}",op="write"}}{window}))')
            assert 4095 < q <= 8191, q
            # 0.2 s sleeps: the median off-CPU time is in (0.134, 0.268] s
            q = prom.query(f'histogram_quantile(0.5, sum by (le) (rate(pybcc_off_cpu_seconds_bucket'
                           f'{{cgroup="{cg.label}"}}{window})))')
            assert 0.134 < q <= 0.2685, q
            assert prom.query('pybcc_exporter_set_up{set="oom"}') == 1
            assert prom.query('pybcc_exporter_reloads_total{result="success"}') == 1
            assert side_scrapes and all(s == 200 for s in side_scrapes), set(side_scrapes)
            assert prom.query('sum(up{job="pybcc"})') == 1
            listener.close()
    finally:
        stop.set()
        subprocess.run(["losetup", "-d", dev], capture_output=True)


def connect(listener, n):
    """``n`` loopback connects to ``listener``, each accepted and closed."""
    port = listener.getsockname()[1]
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = listener.accept()
        a.close()
        c.close()
    return n
