"""reset-trace on a throwaway tracefs instance: the top level belongs to
everyone on this machine, so the tests only read it (--dry-run)."""
import os

import pytest

from pybcc.kernel import tracefs

from .toolrun import bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture
def instance():
    """A new tracefs instance with its trace buffer written to, one event
    enabled, and tracing turned off: what a crashed tool might leave."""
    name = f"pybcc-reset-trace-{os.getpid()}"
    path = os.path.join(tracefs.mount_point(), "instances", name)
    try:
        os.mkdir(path)
    except OSError as e:
        pytest.skip(f"cannot make a tracefs instance: {e}")
    try:
        with open(os.path.join(path, "trace_marker"), "w") as f:
            f.write("pybcc reset-trace marker\n")
        with open(os.path.join(path, "events/sched/sched_process_exec/enable"), "w") as f:
            f.write("1\n")
        with open(os.path.join(path, "tracing_on"), "w") as f:
            f.write("0\n")
        yield name, path
    finally:
        with open(os.path.join(path, "events/enable"), "w") as f:
            f.write("0\n")
        os.rmdir(path)


def read(path, name):
    with open(os.path.join(path, name)) as f:
        return f.read()


def test_reset_trace_resets_the_trace_and_reports_the_rest(instance):
    name, path = instance
    r = run_tool("reset-trace", "--instance", name)
    assert r.returncode == 0, r.stderr
    assert f"Needed to reset {path}/trace" in r.stdout.splitlines()
    for f in ("events/enable", "tracing_on"):
        assert (f"Noticed unrelated tracing file {path}/{f} isn't set as expected. Not "
                f"resetting (-F to force, -v for verbose).") in r.stdout.splitlines(), r.stdout
    assert "pybcc reset-trace marker" not in read(path, "trace")        # cleared
    assert read(path, "tracing_on") == "0\n" and read(path, "events/enable") != "0\n"


def test_reset_trace_force_and_dry_run(instance):
    name, path = instance
    r = run_tool("reset-trace", "--instance", name, "-F", "-n", "-v")
    assert r.returncode == 0, r.stderr
    assert f"Needed to reset {path}/tracing_on (dry run: not written)" in r.stdout
    assert "Resetting tracing state..." in r.stdout and r.stdout.splitlines()[-1] == "Done."
    assert "pybcc reset-trace marker" in read(path, "trace")            # nothing written
    r = run_tool("reset-trace", "--instance", name, "-F")
    assert r.returncode == 0, r.stderr
    assert read(path, "tracing_on") == "1\n" and read(path, "events/enable") == "0\n"
    assert read(path, "events/sched/sched_process_exec/enable") == "0\n"
    r = run_tool("reset-trace", "--instance", name, "-F", "-q")
    assert r.stdout == "", r.stdout                                     # all reset: quiet


def test_reset_trace_dry_run_at_the_top_level_writes_nothing():
    before = read(tracefs.mount_point(), "tracing_on")
    r = run_tool("reset-trace", "-n", "-F")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert all(ln.endswith("(dry run: not written)") for ln in r.stdout.splitlines()
               if ln.startswith("Needed to reset")), r.stdout
    assert read(tracefs.mount_point(), "tracing_on") == before


def test_reset_trace_bad_input():
    bad_input("reset-trace", "--instance", "no-such-instance-of-pybcc")
    bad_input("reset-trace", "-x")
