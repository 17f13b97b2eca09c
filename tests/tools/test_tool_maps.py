"""runtime.Tool's map choices: the events buffers a tool does not use are
made as small as the kernel takes, and hash maps named no_prealloc are
allocated entry by entry where the kernel lets tracing programs do so."""
import mmap
import os
import subprocess
import uuid

import pytest

from pybcc import loader
from pybcc.errors import LoadError
from pybcc.kernel import bpf
from pybcc.kernel.uapi import BPF_F_NO_PREALLOC
from pybcc.loader.externs import kernel_version_code
from pybcc.tools.lib import runtime

pytestmark = pytest.mark.usefixtures("root")


def _info(tool, name):
    return bpf.map_info(tool.coll.map_fds[name])


@pytest.mark.vm
def test_execsnoop_allocates_execs_at_run_time_from_6_1_only():
    # before 6.1 the verifier warns (WARN_ONCE) about such a map in a tracing program
    allowed = kernel_version_code() >= (6 << 16) | (1 << 8)
    assert runtime.tracing_may_allocate() == allowed
    marker = f"pybcc-{uuid.uuid4().hex[:8]}"
    seen = []
    with runtime.Tool("execsnoop", events=True, no_prealloc=["execs"]) as tool:
        info = _info(tool, "execs")
        assert bool(info["map_flags"] & BPF_F_NO_PREALLOC) == allowed, info
        assert info["max_entries"] == 10240
        tool.attach("execve_enter")
        tool.attach("execve_exit")
        record = tool.record("event", tail="args")
        tool.open_events(lambda data: seen.append(
            (record.decode(data), bytes(data[record.size:]))))
        child = subprocess.Popen(["/bin/true", marker])
        child.wait()
        for _ in range(50):
            tool.poll(100)
            if any(marker.encode() in args for _, args in seen):
                break
        assert sum(1 for ev, _ in seen if ev.pid == child.pid) == 1, seen
        # the entry made for the exec is gone once it returned
        assert not list(tool.maps["execs"].keys())


def test_a_tool_without_events_makes_a_minimal_ring_buffer():
    with runtime.Tool("runqlat") as tool:
        assert _info(tool, "events_rb")["max_entries"] == mmap.PAGESIZE
        # events=False keeps tool.h's perf path whole (opensnoop -b uses it)
        assert _info(tool, "events_pb")["max_entries"] == os.cpu_count()


def test_only_the_events_buffer_in_use_has_its_size(monkeypatch):
    if runtime.features.has_ringbuf():
        monkeypatch.setenv("PYBCC_EVENTS", "ringbuf")
        with runtime.Tool("execsnoop", events=True) as tool:
            assert _info(tool, "events_rb")["max_entries"] == runtime.RINGBUF_SIZE
            assert _info(tool, "events_pb")["max_entries"] == 1
    monkeypatch.setenv("PYBCC_EVENTS", "perf")
    with runtime.Tool("execsnoop", events=True) as tool:
        assert _info(tool, "events_rb")["max_entries"] == mmap.PAGESIZE
        assert _info(tool, "events_pb")["max_entries"] == os.cpu_count()


def test_map_flags_of_a_map_the_object_lacks_is_an_error():
    with pytest.raises(LoadError, match="no map 'nosuch'"):
        loader.load(runtime.tool_object("execsnoop"), programs=[],
                    map_flags={"nosuch": BPF_F_NO_PREALLOC})
