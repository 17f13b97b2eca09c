import json
import shutil
import subprocess

import pytest

from .badinput import assert_one_line_error
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

# A C++ busy loop with a distinctive, namespaced (so mangled) name.
SPIN_CPP = r"""
namespace pybcc_test {
__attribute__((noinline)) unsigned long busy_spin_marker(volatile unsigned long *x)
{
    for (;;)
        *x += 1;
    return *x;
}
}
int main() { volatile unsigned long x = 0; pybcc_test::busy_spin_marker(&x); return 0; }
"""


@pytest.fixture(scope="module")
def spinner_binary(tmp_path_factory):
    cxx = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler to build the busy-loop program")
    d = tmp_path_factory.mktemp("spin")
    (d / "spin.cpp").write_text(SPIN_CPP)
    # -O0 and frame pointers: main really calls the loop, and the stack walks
    subprocess.run([cxx, "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(d / "pybccspin"),
                    str(d / "spin.cpp")], check=True)
    return str(d / "pybccspin")


@pytest.fixture
def spinner(spinner_binary):
    p = subprocess.Popen([spinner_binary])
    yield p
    p.kill()
    p.wait()


def test_profile_folded_shows_demangled_busy_function(spinner):
    r = run_tool("profile", "-f", "-F", "199", "-p", spinner.pid, "2", timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln]
    assert lines and all(ln.startswith("pybccspin;") for ln in lines), r.stdout
    total = sum(int(ln.rsplit(" ", 1)[1]) for ln in lines)
    hot = [ln for ln in lines if ";main;pybcc_test::busy_spin_marker(" in ln]
    assert hot, r.stdout
    # nearly every sample is in the loop; 199 Hz for 2 s gives ~400 on an idle
    # CPU, far fewer when the spinner shares a loaded machine
    assert total >= 20, r.stdout
    assert sum(int(ln.rsplit(" ", 1)[1]) for ln in hot) >= 0.8 * total, r.stdout


def test_profile_multiline_kernel_and_user_with_delimiter(spinner):
    with RunningTool("profile", "-d", "-a", "-F", "99", "-p", spinner.pid,
                     ready="Sampling at 99 Hertz of PID [%d] by user + kernel stack... "
                           "Hit Ctrl-C to end." % spinner.pid) as t:
        t.wait_for(lambda ln: False, timeout=1.5)
    assert t.proc.returncode == 0, t.stderr
    blocks, cur = [], []
    for ln in t.lines[2:]:
        if ln:
            cur.append(ln)
        elif cur:
            blocks.append(cur)
            cur = []
    ours = [b for b in blocks if b[-2] == "    %-16s %s (%d)" % ("-", "pybccspin", spinner.pid)]
    assert ours, t.stdout
    assert all(int(b[-1]) > 0 for b in ours)
    frames = [ln.strip() for b in ours for ln in b[:-2]]
    assert any(f.startswith("pybcc_test::busy_spin_marker(") for f in frames), t.stdout
    # kernel frames (before the "--" delimiter) carry the _[k] annotation
    for b in ours:
        if "    --" in b:
            kernel = b[:b.index("    --")]
            assert kernel and all(f.endswith("_[k]") for f in kernel), b


def test_profile_rejects_missing_pinned_map():
    r = run_tool("profile", "--cgroupmap", "/sys/fs/bpf/pybcc-no-such-map", "1")
    assert r.returncode != 0
    assert "pybcc-no-such-map" in r.stderr


def test_profile_mntnsmap_filters_by_mount_namespace(spinner):
    import os
    import struct
    import uuid
    from pybcc.maps import MapSpec, create_map
    from pybcc.maps.spec import MapType
    path = f"/sys/fs/bpf/pybcc-test-mntns-{uuid.uuid4().hex[:8]}"
    m = create_map(MapSpec(name="mount_ns_set", type=MapType.HASH, key_size=8, value_size=4,
                           max_entries=1024))
    try:
        m.pin(path)
    except OSError as e:
        m.close()
        pytest.skip(f"cannot pin maps in /sys/fs/bpf: {e}")
    try:
        ns = os.stat(f"/proc/{spinner.pid}/ns/mnt").st_ino
        m[struct.pack("<Q", ns)] = struct.pack("<I", 1)
        # -p too: only the spinner's stacks to symbolize, so it stays quick
        r = run_tool("profile", "-f", "-F", "99", "-p", spinner.pid, "--mntnsmap", path, "1",
                     timeout=60)
        assert r.returncode == 0, r.stderr
        assert any(ln.startswith("pybccspin;") for ln in r.stdout.splitlines()), r.stdout
        # a namespace nobody is in: nothing sampled
        m.clear()
        m[struct.pack("<Q", 1)] = struct.pack("<I", 1)
        r = run_tool("profile", "-f", "-F", "99", "-p", spinner.pid, "--mntnsmap", path, "1",
                     timeout=60)
        assert r.returncode == 0 and r.stdout.strip() == "", r.stdout
    finally:
        m.unpin(path)
        m.close()


def test_profile_json_one_object_per_stack(spinner):
    r = run_tool("profile", "--json", "-F", "199", "-p", spinner.pid, "2", timeout=60)
    assert r.returncode == 0, r.stderr
    # the header goes to stderr; stdout is JSON lines only
    assert "Sampling at 199 Hertz of PID [%d]" % spinner.pid in r.stderr
    records = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert records and all(rec["pid"] == spinner.pid and rec["comm"] == "pybccspin"
                           and rec["unit"] == "samples" and rec["value"] > 0
                           for rec in records), r.stdout
    total = sum(rec["value"] for rec in records)
    hot = [rec for rec in records
           if any(f["function"].startswith("pybcc_test::busy_spin_marker(") and not f["kernel"]
                  for f in rec["frames"])]
    assert total >= 20 and sum(rec["value"] for rec in hot) >= 0.8 * total, r.stdout
    # innermost first: the loop, then main (user frames come after kernel ones)
    user = [f["function"] for f in hot[-1]["frames"] if not f["kernel"]]
    assert user[0].startswith("pybcc_test::busy_spin_marker(") and user[1] == "main", user
    assert all(isinstance(f["address"], int) for rec in records for f in rec["frames"])


@pytest.mark.parametrize("args, message", [
    (["-F", "abc"], "-F/--frequency: invalid number 'abc'"),
    (["-F", "0"], "must be positive"),
    (["-c", "-5"], "must be positive"),
    (["-p", "999999999"], "no process with pid 999999999"),
    (["-L", "1,x"], "invalid pid 'x'"),
    (["-C", "4096", "1"], "no CPU 4096"),
    (["--stack-storage-size", "0"], "must be positive"),
    (["-f", "--json"], "not allowed with"),
    (["0"], "must be positive"),
])
def test_profile_bad_input_is_one_line(args, message):
    assert_one_line_error(run_tool("profile", *args), message)
