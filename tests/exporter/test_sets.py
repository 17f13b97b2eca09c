"""Metric sets against activity the tests cause: TCP retransmits (SYNs
dropped by a full accept queue, so retransmitted by the kernel's timer),
page-cache misses and hits (a file read cold, then warm), and the raw_tp
twins of the hot hooks (kernels without tp_btf)."""
import ctypes
import mmap
import os
import socket
import subprocess
import time

import pytest

from pybcc.exporter import builtin
from pybcc.exporter.decoders import tracepoint_symbols
from pybcc.exporter.metricset import Hook
from tools.pagecache_files import drop_pages, read_file   # tests/ is on sys.path (rootdir)

from .running import Exporter, value, wait_until
from .test_daemon import loopback_connects, named_execs, refused_connects
from .test_prometheus import direct_writes, loop_device

pytestmark = pytest.mark.usefixtures("root")


def _netstat(field):
    """A TcpExt counter of /proc/net/netstat (the kernel's own count)."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split()[1:], values.split()[1:]))[field])
    raise KeyError(field)


def test_syn_retransmits_are_counted_by_state(tmp_path):
    """A listener with backlog 0 that never accepts holds one connection;
    the kernel drops the SYNs of the next ones (ListenOverflows), and each
    connecting socket retransmits its SYN after the initial 1 s timeout."""
    n = 3
    with Exporter(tmp_path, "sets: [tcp]\n") as exp:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        first = socket.create_connection(srv.getsockname())     # fills the accept queue
        kernel_before = _netstat("TCPSynRetrans")
        before = value(exp.samples(), "pybcc_tcp_retransmits_total", state="SYN_SENT")
        clients = []
        try:
            for _ in range(n):
                c = socket.socket()
                c.setblocking(False)
                assert c.connect_ex(srv.getsockname()) == 115      # EINPROGRESS
                clients.append(c)
            got = wait_until(lambda: value(exp.samples(), "pybcc_tcp_retransmits_total",
                                           state="SYN_SENT") - before >= n, timeout=6)
            after = value(exp.samples(), "pybcc_tcp_retransmits_total", state="SYN_SENT")
            kernel_after = _netstat("TCPSynRetrans")
        finally:
            for c in clients:
                c.close()
            first.close()
            srv.close()
        assert got, f"SYN_SENT retransmits +{after - before}, expected >= {n}"
        # machine-wide, like the kernel's own counter read around both scrapes
        # (which also counts SYN-ACK retransmits): never more than it
        assert after - before <= kernel_after - kernel_before


def _resident_pages(path):
    """Pages of the file in the page cache (mincore over a private mapping,
    whose untouched pages are the page cache's)."""
    size = os.path.getsize(path)
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vec = (ctypes.c_ubyte * pages)()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) as m:
        start = ctypes.c_char.from_buffer(m)
        rc = libc.mincore(ctypes.addressof(start), size, vec)
        del start
    assert rc == 0, os.strerror(ctypes.get_errno())
    return sum(b & 1 for b in vec)


@pytest.mark.vm
def test_page_cache_misses_then_hits_for_a_file_read_cold_then_warm(tmp_path):
    # a file with page cache underneath that nobody maps (~0.7 MB of the
    # standard library: on the VM, the host's root file system), not one in
    # tmp_path (tmpfs there: shmem pages, which filemap's tracepoint skips)
    path = os.path.join(os.path.dirname(os.__file__), "pydoc_data", "topics.py")
    # oom too: the exporter exits when no set can start
    with Exporter(tmp_path, "sets: [page_cache, oom]\n") as exp:
        s = exp.samples()
        if value(s, "pybcc_exporter_set_up", set="page_cache") != 1:
            why = [ln for ln in exp.stderr.splitlines() if "page_cache" in ln]
            pytest.skip("page_cache not served here (needs fentry or kprobes): " + why[0])
        drop_pages(path)
        if _resident_pages(path):
            pytest.skip(f"{path}: its pages cannot be dropped from the page cache")
        read_file(path)
        if not _resident_pages(path):
            pytest.skip(f"{path}: its file system does not use the page cache")
        cold = exp.samples()
        read_file(path)
        warm = exp.samples()

        def delta(a, b, name):
            return value(b, name) - value(a, name)
        misses_cold = delta(s, cold, "pybcc_page_cache_misses_total")
        misses_warm = delta(cold, warm, "pybcc_page_cache_misses_total")
        hits_warm = delta(cold, warm, "pybcc_page_cache_hits_total")
        # counts are of folios (a large folio is one miss and one access)
        assert misses_cold >= 1
        assert misses_warm < max(2, misses_cold // 4), (misses_cold, misses_warm)
        assert hits_warm >= 0.9 * misses_cold, (misses_cold, hits_warm)


def _started_with_raw_twins(name, opts=None):
    """Built-in set NAME attached through its raw_tp twins only: what runs
    on kernels without tp_btf (the probe-read branch of exporter/hooks.h)."""
    rs = builtin.make_set(name, opts or {})
    rs.hooks = [Hook(tuple(c for c in h.choices if c.endswith("_raw")), h.required)
                for h in rs.hooks]
    return rs.start()


def _series(rs, name):
    return next(series for metric, series in rs.series() if metric.name == name)


@pytest.mark.vm       # the twins are for older kernels: run them on the VM kernels too
def test_raw_tp_twins_count_like_the_tp_btf_programs(tmp_path):
    """The raw_tp twins read fields with probe reads where the tp_btf
    programs load them directly: both must count the same."""
    try:
        dev = loop_device(tmp_path)     # block I/O on a disk of our own
    except pytest.skip.Exception:
        dev = None                      # e.g. no loop module: block_io only attaches
    sets = {}
    try:
        for name in ("tcp", "run_queue", "irq", "block_io", "process"):
            sets[name] = _started_with_raw_twins(name)
        assert all(p.endswith("_raw") for rs in sets.values() for p, _ in rs.attached)
        port = loopback_connects(7)
        refused_connects(3)
        if dev is not None:
            direct_writes(dev, 5, bs=8192)
        named_execs(tmp_path, "pybccrawtrue", 3)
        time.sleep(0.1)     # a timer soft IRQ, a wakeup after the sleep
        assert _series(sets["process"], "pybcc_process_execs_total")[("pybccrawtrue",)] == 3
        assert _series(sets["process"], "pybcc_process_exits_total")[("pybccrawtrue",)] == 3
        if dev is not None:
            disk = (os.path.basename(dev), "write")
            assert _series(sets["block_io"], "pybcc_block_io_latency_seconds")[disk].count == 5
            size = _series(sets["block_io"], "pybcc_block_io_size_bytes")[disk]
            assert size.count == 5 and size.sum == 5 * 8192
        tcp = sets["tcp"]
        assert _series(tcp, "pybcc_tcp_connects_total")[("ipv4", str(port))] == 7
        assert _series(tcp, "pybcc_tcp_accepts_total")[("ipv4", str(port))] == 7
        assert _series(tcp, "pybcc_tcp_state_transitions_total")[("SYN_SENT", "ESTABLISHED")] >= 7
        drops = _series(tcp, "pybcc_tcp_drops_total")
        if tracepoint_symbols("skb", "kfree_skb", "reason"):     # since 5.17
            assert drops[("NO_SOCKET",)] >= 3
        else:                                                    # no reasons before
            assert drops[("unknown",)] >= 3
        (rq,) = _series(sets["run_queue"], "pybcc_run_queue_latency_seconds").values()
        assert rq.count > 0 and rq.sum > 0
        soft = _series(sets["irq"], "pybcc_softirqs_total")
        assert soft[("timer",)] > 0
        assert _series(sets["irq"], "pybcc_softirq_seconds_total")[("timer",)] > 0
    finally:
        for rs in sets.values():
            rs.close()
        if dev is not None:
            subprocess.run(["losetup", "-d", dev], capture_output=True)


def _compete_for_cpus(seconds):
    """More runnable tasks than CPUs for a while: run queue waits of
    microseconds to milliseconds, with wakeups and preemptions."""
    n = 2 * (os.cpu_count() or 1) + 2
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        procs = [subprocess.Popen(["dd", "if=/dev/zero", "of=/dev/null", "bs=1k", "count=5000"],
                                  stderr=subprocess.DEVNULL) for _ in range(n)]
        for p in procs:
            p.wait()


@pytest.mark.vm       # kernels without sched_info (5.10 without schedstats) take the fallback
def test_run_queue_by_sched_info_counts_like_stamping_at_wakeup():
    """run_queue reads the kernel's sched_info in sched_switch; from_wakeup
    (and kernels without sched_info) stamp tasks at wakeup in a map: the
    same switch-ins are counted, over the same time, by both."""
    sets = []
    try:
        default = builtin.make_set("run_queue", {}).start()
        sets.append(default)
        expected = ["switch_btf"] if builtin.sched_info_kept() else \
            ["wakeup_btf", "wakeup_new_btf", "switch_ts_btf"]
        assert sorted(p for p, _ in default.attached) == sorted(expected)
        by_wakeup = builtin.make_set("run_queue", {"from_wakeup": True}).start()
        sets.append(by_wakeup)
        assert {p for p, _ in by_wakeup.attached} == {"wakeup_btf", "wakeup_new_btf",
                                                      "switch_ts_btf"}
        by_wakeup_raw = _started_with_raw_twins("run_queue", {"from_wakeup": True})
        sets.append(by_wakeup_raw)
        assert {p for p, _ in by_wakeup_raw.attached} == {"wakeup_raw", "wakeup_new_raw",
                                                          "switch_ts_raw"}

        def histograms():
            return [next(iter(_series(rs, "pybcc_run_queue_latency_seconds").values()))
                    for rs in sets]
        before = histograms()
        _compete_for_cpus(1.5)
        counts = [a.count - b.count for a, b in zip(histograms(), before)]
        assert all(a.sum > b.sum for a, b in zip(histograms(), before))
        assert min(counts) > 200, counts
        # the same switch-ins, give or take those at the edges of the reads
        assert max(counts) < 1.25 * min(counts), counts
    finally:
        for rs in sets:
            rs.close()


def _queue_has_stats(dev):
    """Whether the kernel stamps the disk's requests at issue (writeback
    throttling, on by default for blk-mq disks, keeps QUEUE_FLAG_STATS set)."""
    try:
        with open(f"/sys/block/{os.path.basename(dev)}/queue/wbt_lat_usec") as f:
            return int(f.read()) > 0
    except (OSError, ValueError):
        return False


@pytest.mark.vm       # the stamps' fields and their flavours differ by kernel version
def test_block_io_kernel_stamps_count_like_the_map_of_issue_times(tmp_path):
    """block_io reads the kernel's own issue stamp (io_start_time_ns,
    stats_sectors) where the queue keeps one; with use_kernel_stamps off it
    keeps issue times in its map: both must count the same I/Os, sizes and
    about the same latencies."""
    dev = loop_device(tmp_path)
    sets = []
    try:
        stamps = builtin.make_set("block_io", {}).start()
        sets.append(stamps)
        by_map = builtin.make_set("block_io", {})
        by_map.constants = {**by_map.constants, "use_kernel_stamps": False}
        sets.append(by_map.start())
        direct_writes(dev, 6, bs=16384)
        disk = (os.path.basename(dev), "write")
        lat = [_series(rs, "pybcc_block_io_latency_seconds")[disk] for rs in sets]
        size = [_series(rs, "pybcc_block_io_size_bytes")[disk] for rs in sets]
        assert [h.count for h in lat] == [6, 6]
        assert [(h.count, h.sum) for h in size] == [(6, 6 * 16384)] * 2
        # the kernel stamps just after the issue tracepoint (or from its
        # plug's cached clock, a little earlier): same order of magnitude
        assert 0.2 < lat[0].sum / lat[1].sum < 5, (lat[0].sum, lat[1].sum)
        if _queue_has_stats(dev):
            assert len(list(stamps.maps()["start"].items())) == 0   # no map entry per I/O
        assert len(list(by_map.maps()["start"].items())) > 0
    finally:
        for rs in sets:
            rs.close()
        subprocess.run(["losetup", "-d", dev], capture_output=True)


def test_tcp_connects_to_more_ports_than_slots_are_each_counted_once():
    """Connects and accepts count per CPU in a table of 256 slots per kind,
    and a port whose slot is taken goes to a hash map: with 300 remote
    ports some must overflow, and every port still counts exactly once."""
    rs = builtin.make_set("tcp", {}).start()
    ports = []
    try:
        for _ in range(300):
            closed = socket.socket()
            closed.bind(("127.0.0.1", 0))       # reserved, never listening
            ports.append(closed.getsockname()[1])
            try:
                socket.create_connection(("127.0.0.1", ports[-1])).close()
            except ConnectionRefusedError:
                pass
            closed.close()
        connects = _series(rs, "pybcc_tcp_connects_total")
        assert len(set(ports)) > 256
        assert {p: connects.get(("ipv4", str(p))) for p in ports} == {p: ports.count(p) for p in ports}
        assert list(rs.maps()["connects"].items()), "no port overflowed into the hash map"
    finally:
        rs.close()


def _proc_softirqs():
    """{vector name: runs since boot, all CPUs} (/proc/softirqs: the kernel
    counts a run just before its softirq_entry tracepoint)."""
    with open("/proc/softirqs") as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    return {r[0].rstrip(":").lower(): sum(int(x) for x in r[1:]) for r in rows if r}


def test_softirq_runs_match_the_kernels_own_count():
    """Each soft IRQ run is counted once, entry and exit paired per vector:
    over a window with loopback traffic, the set's runs per vector agree
    with /proc/softirqs, and time per run is plausible."""
    rs = builtin.make_set("irq", {}).start()
    try:
        time.sleep(0.2)     # a run entered before attaching is not counted
        runs0, ns0 = _series(rs, "pybcc_softirqs_total"), _series(rs, "pybcc_softirq_seconds_total")
        kernel0 = _proc_softirqs()
        loopback_connects(200)
        time.sleep(0.2)
        runs1, ns1 = _series(rs, "pybcc_softirqs_total"), _series(rs, "pybcc_softirq_seconds_total")
        kernel1 = _proc_softirqs()
        for vec in ("net_rx", "timer"):
            ours = runs1.get((vec,), 0) - runs0.get((vec,), 0)
            theirs = kernel1[vec] - kernel0[vec]
            # the two reads of each are a few ms apart, not at one instant
            assert abs(ours - theirs) <= 0.1 * theirs + 20, (vec, ours, theirs)
        net_rx = runs1[("net_rx",)] - runs0.get(("net_rx",), 0)
        ns_per_run = (ns1[("net_rx",)] - ns0.get(("net_rx",), 0)) / net_rx   # series are in ns
        assert 10 < ns_per_run < 1e6, ns_per_run
    finally:
        rs.close()


@pytest.mark.vm
def test_tcp_drops_of_a_sockets_queue_count_in_both_twins():
    """A drop is TCP by its socket when it has a full IP one (plain loads),
    else by its IP header (a probe read): a connection's close purges its
    queue (QUEUE_PURGE, the socket path), a refused connect drops the SYN
    (NO_SOCKET, the header path). tp_btf and raw_tp twins agree."""
    reasons = set(tracepoint_symbols("skb", "kfree_skb", "reason").values())
    if not {"QUEUE_PURGE", "NO_SOCKET"} <= reasons:
        pytest.skip("kfree_skb has no QUEUE_PURGE/NO_SOCKET drop reason on this kernel")
    sets = [builtin.make_set("tcp", {}).start()]
    try:
        sets.append(_started_with_raw_twins("tcp"))
        before = [_series(rs, "pybcc_tcp_drops_total") for rs in sets]
        loopback_connects(10)
        refused_connects(4)
        wanted = (("QUEUE_PURGE", 10), ("NO_SOCKET", 4))
        # a closed socket is destroyed (its queue purged) a little after
        # close() returns: in a 6.12 guest the last one came after the read
        deadline = time.monotonic() + 10
        while True:
            after = [_series(rs, "pybcc_tcp_drops_total") for rs in sets]
            ours = {reason: [a.get((reason,), 0) - b.get((reason,), 0)
                             for a, b in zip(after, before)] for reason, _ in wanted}
            if all(min(ours[r]) >= n for r, n in wanted) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for reason, n in wanted:
            # other jobs' TCP traffic lands in the same window, read a few
            # ms apart by the two sets
            assert min(ours[reason]) >= n and \
                max(ours[reason]) - min(ours[reason]) <= max(2, max(ours[reason]) // 5), \
                (reason, ours[reason])
    finally:
        for rs in sets:
            rs.close()


def test_max_entries_caps_the_maps_of_labelled_series_only():
    """max_entries resizes the hash maps that hold labelled series, also
    those read through a reader (tcp's overflow maps), not fixed counters."""
    sizes = {n: builtin.make_set(n, {"max_entries": 64}).map_sizes for n in ("tcp", "page_cache")}
    assert sizes["tcp"] == {"connects": 64, "accepts": 64, "retransmits": 64, "drops": 64}
    assert sizes["page_cache"] == {}


def test_syscalls_by_number_read_raw_match_the_map_api():
    """Without by_cgroup, system calls count in a per-CPU array that the
    scrape reads from its raw bytes (exporter/rawread.py): the calls made
    here are counted, and the raw read equals the map API's decoded one."""
    from pybcc.exporter.rawread import percpu_rows, percpu_sums
    rs = builtin.make_set("syscalls", {}).start()
    try:
        before = _series(rs, "pybcc_syscalls_total").get(("getpriority",), 0)
        for _ in range(50):
            os.getpriority(os.PRIO_PROCESS, 0)
        after = _series(rs, "pybcc_syscalls_total").get(("getpriority",), 0)
        assert 50 <= after - before <= 55        # others rarely call it
        m = rs.maps()["calls_by_nr"]
        sums = percpu_sums(m)
        decoded = {nr: sum(v) for nr, v in m.items() if sum(v)}
        rows = dict(percpu_rows(m, "<Q"))
        # read in that order, and counters only grow: calls made between
        # the reads (this process's, others') can only add
        assert sums.keys() <= decoded.keys()
        assert all(sums[nr] <= decoded[nr] <= sum(n for (n,) in rows[nr]) for nr in sums)
        assert max(sums.values()) >= 50
    finally:
        rs.close()
