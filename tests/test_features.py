"""Feature probes tell the truth about the running kernel.

Facts that hold on any kernel pybcc supports are asserted everywhere; the
facts measured on the project machines (Linux 6.18 without kprobes) are
asserted only there, and the same probes are checked against independent
evidence (sysfs, tracefs) so that they also hold on the stock-kernel VM.
"""
import os
import platform

import pytest

from pybcc.attach import alternatives
from pybcc.errors import NotSupportedError
from pybcc.kernel import features, tracefs
from pybcc.kernel.uapi import MapType, ProgType

pytestmark = pytest.mark.usefixtures("root")

PROJECT_HOST = platform.release().startswith("6.18") and \
    not os.path.exists("/sys/bus/event_source/devices/kprobe")

_CACHED = [features.prog_type_supported, features.map_type_supported, features.helper_supported,
           features.has_bpf_link, features.has_perf_link, features.pmu_type, features.pmu_format,
           features.has_kprobe_multi, features.has_uprobe_multi, features.has_fentry, features.has_tp_btf, features.has_lsm,
           features.has_tcx, features._perf_opens]


@pytest.mark.parametrize("prog_type", [
    ProgType.SOCKET_FILTER, ProgType.KPROBE, ProgType.SCHED_CLS, ProgType.TRACEPOINT,
    ProgType.XDP, ProgType.PERF_EVENT, ProgType.RAW_TRACEPOINT, ProgType.CGROUP_SKB,
    ProgType.CGROUP_SOCK_ADDR, ProgType.SK_LOOKUP])
def test_common_program_types_load(prog_type):
    assert features.prog_type_supported(prog_type)


def test_unspec_program_type_is_refused():
    assert not features.prog_type_supported(ProgType.UNSPEC)


@pytest.mark.parametrize("map_type", [
    MapType.HASH, MapType.ARRAY, MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY,
    MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.STACK_TRACE, MapType.LRU_HASH,
    MapType.LPM_TRIE, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.QUEUE,
    MapType.STACK, MapType.RINGBUF, MapType.TASK_STORAGE, MapType.BLOOM_FILTER])
def test_common_map_types_create(map_type):
    assert features.map_type_supported(map_type)


def test_ringbuf_and_links():
    assert features.has_ringbuf()
    assert features.has_bpf_link()
    assert features.has_perf_link()


def test_helpers():
    assert features.helper_supported(ProgType.KPROBE, 14)          # get_current_pid_tgid
    assert features.helper_supported(ProgType.TRACEPOINT, 1)       # map_lookup_elem
    assert not features.helper_supported(ProgType.XDP, 27)         # get_stackid
    assert not features.helper_supported(ProgType.KPROBE, 100000)  # no such helper


def test_uprobe_pmu_and_format():
    assert features.has_uprobe_pmu() and features.has_uprobes()
    assert features.pmu_format("uprobe", "retprobe") == ("config", 0)
    if os.path.exists("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset"):
        assert features.pmu_format("uprobe", "ref_ctr_offset") == ("config", 32)
    assert features.pmu_format("uprobe", "no_such_field") is None
    assert features.pmu_type("no_such_pmu") is None


def test_kprobe_probes_agree_with_sysfs_and_tracefs():
    pmu = os.path.exists("/sys/bus/event_source/devices/kprobe/type")
    events = os.path.exists(os.path.join(tracefs.mount_point(), "kprobe_events"))
    assert features.has_kprobe_pmu() == pmu
    assert features.has_kprobes() == (pmu or events)


def test_tracepoints_work():
    assert features.prog_type_supported(ProgType.TRACEPOINT)
    assert tracefs.tracepoint_exists("syscalls:sys_enter_openat")


def test_fentry_implies_tp_btf():
    if features.has_fentry():
        assert features.has_tp_btf()


@pytest.mark.skipif(not PROJECT_HOST, reason="facts measured on the project machines only")
def test_project_host_facts():
    """Linux 6.18 without kprobes, TRACING loads refused except tp_btf."""
    assert not features.has_kprobes()
    assert not features.has_kprobe_pmu()
    assert not features.has_kprobe_multi()
    assert not features.has_fentry()
    assert not features.has_lsm()
    assert features.has_tp_btf()
    assert features.prog_type_supported(ProgType.TRACING)   # via tp_btf
    assert not features.hardware_perf_events()
    assert features.has_tcx()
    assert features.has_uprobe_multi()


def test_probes_are_cached():
    features.has_tcx()
    hits = features.has_tcx.cache_info().hits
    features.has_tcx()
    assert features.has_tcx.cache_info().hits == hits + 1


def test_probes_leak_no_fds():
    for fn in _CACHED:
        fn.cache_clear()
    before = set(os.listdir("/proc/self/fd"))
    features.summary()
    after = set(os.listdir("/proc/self/fd"))
    assert after == before


def test_summary_names_every_probe():
    s = features.summary()
    assert s["prog_type:TRACEPOINT"] is True
    assert s["map_type:RINGBUF"] is True
    for key in ("has_kprobes", "has_fentry", "has_tp_btf", "has_uprobe_pmu"):
        assert key in s


def test_alternatives_for_a_kernel_function():
    assert alternatives.tracepoint_for_function("__x64_sys_openat") == "syscalls:sys_enter_openat"
    assert alternatives.tracepoint_for_function("do_sys_openat2") == "syscalls:sys_enter_openat"
    assert alternatives.tracepoint_for_function("sched_switch") == "sched:sched_switch"
    assert alternatives.tracepoint_for_function("no_such_function_xyz") is None


def test_not_supported_message_names_the_alternative():
    if features.has_fentry():
        text = alternatives.instead_of_kprobe("vfs_read")
        assert text.startswith("fentry")
    else:
        text = alternatives.instead_of_kprobe("__x64_sys_openat")
        assert "t:syscalls:sys_enter_openat" in text
    e = NotSupportedError("kprobes are not available", feature="kprobe", alternative=text)
    assert str(e).endswith(f"use {text} instead")
