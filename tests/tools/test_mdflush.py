import contextlib
import os

import pytest

from pybcc.errors import BPFError

from .badinput import assert_one_line_error
from .kmod import modprobe
from .loopdev import loop_device
from .toolrun import RunningTool, run_tool

pytestmark = pytest.mark.usefixtures("root")

MDSTAT = "/proc/mdstat"
ARRAY = "md_pybcc"


def test_mdflush_says_when_md_is_missing():
    if os.path.exists(MDSTAT):
        pytest.skip("this kernel has md")
    r = run_tool("mdflush")
    assert_one_line_error(r, "no md (software RAID) driver loaded", code=1)


def test_mdflush_tracepoint_program_loads():
    """The tracepoint path passes the verifier here, md or not."""
    from pybcc.tools.lib.runtime import Tool
    try:
        with Tool("mdflush", events=True) as tool:
            tool.attach_first("bio_queue_btf", "bio_queue_raw")
            assert tool.mechanisms[0].endswith("block_bio_queue"), tool.mechanisms
    except BPFError as e:
        pytest.fail(f"block_bio_queue program refused: {e}")


def _write(path, value):
    try:
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as e:
        raise OSError(e.errno, f"writing {value!r} to {path}: {e.strerror}") from None


@contextlib.contextmanager
def md_linear(devices, size_kb):
    """A linear md array without metadata over ``devices``, made through
    md's sysfs files (no mdadm needed); yields its name."""
    modprobe("linear")
    if not os.path.exists("/sys/module/md_mod/parameters/new_array"):
        pytest.skip("no md driver (md_mod) on this kernel")
    md = f"/sys/block/{ARRAY}/md"
    try:
        _write("/sys/module/md_mod/parameters/new_array", ARRAY)
        _write(f"{md}/metadata_version", "none")
        _write(f"{md}/level", "linear")
        _write(f"{md}/raid_disks", len(devices))
        for slot, dev in enumerate(devices):
            st = os.stat(f"/dev/{dev}")
            _write(f"{md}/new_dev", f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
            _write(f"{md}/dev-{dev}/size", size_kb)
            _write(f"{md}/dev-{dev}/slot", slot)
        _write(f"{md}/array_state", "active")     # runs an inactive array
    except OSError as e:
        pytest.fail(f"cannot make an md array through sysfs: {e}")
    try:
        yield ARRAY
    finally:
        try:
            _write(f"{md}/array_state", "clear")
        except OSError:
            pass


@pytest.mark.vm
def test_mdflush_sees_fsync_of_an_md_array():
    """fsync() of the array's block device sends it a flush (REQ_PREFLUSH),
    which md_flush_request() handles."""
    with loop_device(8) as (a, _), loop_device(8) as (b, _):
        with md_linear([a, b], 4096) as name:
            with RunningTool("mdflush", ready="DEVICE", timeout=300) as t:
                fd = os.open(f"/dev/{name}", os.O_WRONLY)
                try:
                    os.write(fd, b"x" * 4096)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                line = t.wait_for(lambda ln: ln.endswith(" " + name), timeout=60)
    assert line is not None, t.stdout + t.stderr
    f = line.split()
    with open("/proc/self/comm") as c:
        comm = c.read().strip()
    assert len(f) == 4 and int(f[1]) == os.getpid() and f[2] == comm, line
    assert t.lines[0] == "Tracing md flush requests... Hit Ctrl-C to end."
    assert t.lines[1].split() == ["TIME", "PID", "COMM", "DEVICE"]


@pytest.mark.parametrize("args", [["--duration", "x"], ["extra"]])
def test_mdflush_bad_input(args):
    assert_one_line_error(run_tool("mdflush", *args), "error:")
