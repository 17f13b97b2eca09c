"""Language runtimes the u* tool tests run: each helper starts a child that
calls a marker method (pybcc_tick) 100 times a second, and skips the test
when the runtime, or its USDT probes, are not installed.

Debian 12's python3.11 (/usr/bin/python3.11; a pyenv python on PATH has no
probes), openjdk-17 (libjvm.so), ruby3.1 (libruby) and php8.2 carry USDT
probes; its node, perl and tcl do not.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest

PYTHON = "/usr/bin/python3.11"

PY_TICK = """
import gc, sys, time
class PybccObj:
    pass
def pybcc_tick(i):
    return i + 1
def pybcc_outer(i):
    return pybcc_tick(i)
n = 0
end = time.time() + float(sys.argv[1])
while time.time() < end:
    n = pybcc_outer(n)
    if n % 20 == 0:
        junk = [PybccObj() for _ in range(50)]
        for o in junk:
            o.me = o        # cycles: the collector has something to find
        del junk
        gc.collect(0)
    time.sleep(0.01)
"""

JAVA_TICK = """
public class PybccTick {
    static int pybccTick(int i) { return i + 1; }
    static int pybccOuter(int i) { return pybccTick(i); }
    public static void main(String[] a) throws Exception {
        long end = System.currentTimeMillis() + (long) (Double.parseDouble(a[0]) * 1000);
        int n = 0;
        while (System.currentTimeMillis() < end) {
            n = pybccOuter(n);
            if (n % 20 == 0) {
                Thread t = new Thread(() -> {}, "pybcc-worker-" + n);
                t.start();
                t.join();
                System.gc();
            }
            Thread.sleep(10);
        }
    }
}
"""

RUBY_TICK = """
# Ruby 2.5+ fires method__entry/return only while a TracePoint is enabled
TracePoint.new(:call, :return) {}.enable
class PybccK
  def pybcc_tick(i); i + 1; end
  def pybcc_outer(i); pybcc_tick(i); end
end
k = PybccK.new
n = 0
t = Time.now + ARGV[0].to_f
while Time.now < t
  n = k.pybcc_outer(n)
  if n % 20 == 0
    s = "pybcc" * n
    a = [n, n]
    GC.start
  end
  sleep 0.01
end
"""

PHP_TICK = """
class PybccK {
    function pybcc_tick($i) { return $i + 1; }
    function pybcc_outer($i) { return $this->pybcc_tick($i); }
}
$k = new PybccK;
$n = 0;
$t = microtime(true) + (float)$argv[1];
while (microtime(true) < $t) { $n = $k->pybcc_outer($n); usleep(10000); }
"""


def _has_probes(path, provider):
    from pybcc import usdt
    return any(p.provider == provider for p in usdt.list_probes(path))


def _need(path, provider):
    if not path or not os.path.exists(path):
        pytest.skip(f"{path or provider} is not installed")
    if not _has_probes(path, provider):
        pytest.skip(f"{path} has no USDT probes of provider {provider}")


def _wait_started(child, marker_path, timeout=20):
    """Until the child maps ``marker_path`` (its runtime is loaded)."""
    real = os.path.realpath(marker_path)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if child.poll() is not None:
            raise AssertionError(f"the runtime exited early: {child.args}")
        try:
            with open(f"/proc/{child.pid}/maps") as f:
                if real in f.read():
                    return child
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{child.args} did not map {real}")


def start_python(seconds=30):
    _need(PYTHON, "python")
    child = subprocess.Popen([PYTHON, "-c", PY_TICK, str(seconds)])
    return _wait_started(child, PYTHON)


JVM = None


def _libjvm():
    java = shutil.which("java")
    if not java:
        return None
    home = os.path.dirname(os.path.dirname(os.path.realpath(java)))
    path = os.path.join(home, "lib", "server", "libjvm.so")
    return path if os.path.exists(path) else None


def start_java(tmp_path, seconds=30, extra=("-XX:+ExtendedDTraceProbes",)):
    libjvm = _libjvm()
    _need(libjvm, "hotspot")
    if not shutil.which("javac"):
        pytest.skip("javac (openjdk-17-jdk-headless) is not installed")
    src = tmp_path / "PybccTick.java"
    src.write_text(JAVA_TICK)
    subprocess.run(["javac", "-d", str(tmp_path), str(src)], check=True)
    child = subprocess.Popen(["java", *extra, "-Xmx64m", "-cp", str(tmp_path), "PybccTick",
                              str(seconds)])
    _wait_started(child, libjvm)
    time.sleep(1.0)     # the JVM maps libjvm.so long before main runs
    return child


def start_ruby(seconds=30):
    ruby = shutil.which("ruby")
    if not ruby:
        pytest.skip("ruby is not installed")
    libruby = next((ln.split("=>")[1].split()[0] for ln in subprocess.run(
        ["ldd", os.path.realpath(ruby)], capture_output=True, text=True).stdout.splitlines()
        if "libruby" in ln), None)
    _need(libruby, "ruby")
    child = subprocess.Popen([ruby, "-e", RUBY_TICK, str(seconds)])
    return _wait_started(child, libruby)


def start_php(seconds=30):
    php = shutil.which("php")
    _need(php and os.path.realpath(php), "php")
    child = subprocess.Popen([php, "-r", PHP_TICK, str(seconds)],
                             env=dict(os.environ, USE_ZEND_DTRACE="1"))
    return _wait_started(child, os.path.realpath(php))


def start_plain(program, seconds=30):
    """A runtime without probes (perl, tclsh, node), sleeping; skips if absent."""
    path = shutil.which(program)
    if not path:
        pytest.skip(f"{program} is not installed")
    code = {"perl": ["-e", f"sleep {seconds}"],
            "tclsh": None, "node": ["-e", f"setTimeout(() => {{}}, {seconds * 1000})"]}[program]
    if code is None:
        child = subprocess.Popen([path], stdin=subprocess.PIPE, text=True)
        child.stdin.write(f"after {seconds * 1000}\n")
        child.stdin.flush()
    else:
        child = subprocess.Popen([path, *code])
    time.sleep(0.5)
    return child


def start_c(tmp_path, name, source, args, flags=(), **popen):
    """Build ``source`` with gcc and start it with ``args``; skips without gcc."""
    if shutil.which("gcc") is None:
        pytest.skip(f"gcc is needed to build {name}")
    (tmp_path / f"{name}.c").write_text(source)
    subprocess.run(["gcc", "-O1", *flags, "-o", str(tmp_path / name),
                    str(tmp_path / f"{name}.c")], check=True)
    child = subprocess.Popen([str(tmp_path / name), *args], **popen)
    time.sleep(0.2)
    return child


def second_line(t, predicate, timeout=20):
    """The second output line of RunningTool ``t`` that satisfies
    ``predicate``: the first interval started while probes were attached."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = [ln for ln in list(t.lines) if predicate(ln)]
        if len(found) > 1:
            return found[1]
        time.sleep(0.1)
    raise AssertionError(t.stdout + "\n" + "\n".join(t.err_lines))


def stop(child):
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait()
