"""The built-in metric sets: each names its BPF object (bpf/NAME.bpf.c),
the hooks to attach, and the metrics read from its maps. No C to write:
enable a set by name in the config.

Options every set takes: max_series (per metric), max_entries (size of the
set's kernel maps: the kernel-side cap), top_comm (N comm values, the rest
as "other"), cgroup_regex (keep series of matching cgroup paths). syscalls
and off_cpu also take by_cgroup (add cgroup and container_id labels);
run_queue takes from_wakeup (stamp tasks at wakeup, as bcc's runqlat does,
instead of reading the kernel's sched_info: see bpf/runqueue.bpf.c).
"""
import re

from . import decoders, histograms, objects
from .rawread import percpu_rows, percpu_sums
from .config import get, positive
from .limits import Limits
from .metricset import Hook, RunningSet
from .metrics import Label, Metric

NS = 1e-9
COMMON_OPTIONS = {"max_series", "max_entries", "top_comm", "cgroup_regex"}


def _twin(name):
    """A tp_btf program and its raw_tp twin (pybcc/twins.h)."""
    return Hook((name + "_btf", name + "_raw"))


def _lb(name, field, decoder, **options):
    return Label(name, field, decoders.make(decoder, **options))


def block_io(opts):
    labels = lambda: [_lb("disk", "dev", "disk"), _lb("op", "op", "block_op")]  # noqa: E731
    return "blockio", [_twin("rq_issue"), _twin("rq_complete")], [
        Metric("pybcc_block_io_latency_seconds", "histogram",
               "Block I/O latency from issue to completion, by disk and operation.",
               "hists", labels(), value_field="latency", scale=NS,
               slot_range=histograms.NS_RANGE),
        Metric("pybcc_block_io_size_bytes", "histogram",
               "Block I/O request size, by disk and operation.",
               "hists", labels(), value_field="size", slot_range=histograms.BYTES_RANGE),
    ], {}


def sched_info_kept():
    """Whether the kernel stamps queued tasks (sched_info.last_queued) and
    links a task to its run queue (se.cfs_rq->rq, group scheduling), so that
    run_queue needs sched_switch only (bpf/runqueue.bpf.c).
    /proc/PID/schedstat exists with CONFIG_SCHED_INFO; kernels before 5.14
    keep it only with schedstats or delay accounting on, and then show
    "0 0 0". An unknown kernel configuration counts as group scheduling
    (every distribution kernel has it: the cgroup cpu controller needs it)."""
    try:
        with open("/proc/self/schedstat") as f:
            if not any(int(x) for x in f.read().split()):
                return False
    except (OSError, ValueError):
        return False
    from ..kernel.kconfig import kconfig_values
    config = kconfig_values()
    return not config or config.get("CONFIG_FAIR_GROUP_SCHED") == "y"


# run_queue's hooks where the kernel keeps no sched_info: stamps at wakeup
RUN_QUEUE_BY_WAKEUPS = ("wakeup", "wakeup_new", "switch_ts")


def run_queue(opts):
    by_sched_info = sched_info_kept() and not opts.get("from_wakeup", False)
    hooks = [_twin(h) for h in (("switch",) if by_sched_info else RUN_QUEUE_BY_WAKEUPS)]
    return "runqueue", hooks, [
        Metric("pybcc_run_queue_latency_seconds", "histogram",
               "Time tasks wait on a run queue, from wakeup or preemption to running.",
               "latency", scale=NS, slot_range=histograms.NS_RANGE),
    ], {}


def _cgroup_labels(opts, field):
    if not opts.get("by_cgroup", False):
        return []
    return [_lb("cgroup", field, "cgroup"), _lb("container_id", field, "container_id")]


def off_cpu(opts):
    return "offcpu", [_twin("switch")], [
        Metric("pybcc_off_cpu_seconds", "histogram",
               "Time tasks spend blocked off-CPU, from switch-out to switch-in.",
               "offcpu", _cgroup_labels(opts, None), scale=NS, slot_range=histograms.NS_RANGE),
    ], {"by_cgroup": bool(opts.get("by_cgroup", False))}


def syscalls(opts):
    by_cgroup = bool(opts.get("by_cgroup", False))
    extra = _cgroup_labels(opts, "cgroup")
    syscall = decoders.make("syscall")

    def by_nr(maps):
        return {(syscall(nr),): n for nr, n in percpu_sums(maps["calls_by_nr"]).items()}
    # without by_cgroup, all calls are in a per-CPU array by number
    calls = Metric("pybcc_syscalls_total", "counter", "System calls completed, by name.",
                   "calls_by_nr", [Label("syscall", None, str)], reader=by_nr)
    if by_cgroup:
        calls = Metric("pybcc_syscalls_total", "counter", "System calls completed, by name.",
                       "calls", [_lb("syscall", "nr", "syscall")] + extra)
    return "syscalls", [_twin("sys_exit")], [
        calls,
        Metric("pybcc_syscall_errors_total", "counter",
               "System calls that failed, by name and errno.",
               "calls", [_lb("syscall", "nr", "syscall"), _lb("errno", "err", "errno")] + extra,
               key_filter=lambda k: k.err != 0),
    ], {"by_cgroup": by_cgroup}


def _ports(slots, overflow):
    """{(family, port): count} of connects or accepts: the per-CPU slots of
    map ``slots`` plus the hash map ``overflow`` for ports whose slot
    another port holds (bpf/tcp.bpf.c)."""
    family, port = decoders.make("address_family"), decoders.make("port")

    def read(maps):
        out = {}

        def add(fam, number, n):
            labels = (family(fam), port(number))
            out[labels] = out.get(labels, 0) + n
        for _, per_cpu in percpu_rows(maps[slots], "<HHIQ"):
            for fam, number, _, n in per_cpu:     # each CPU's slot has its own owner
                if n:
                    add(fam, number, n)
        for key, per_cpu in maps[overflow].items():
            add(key.family, key.port, sum(per_cpu))
        return out
    return read


def _transitions(maps):
    """{(old_state, new_state): count} of the per-CPU array indexed
    old * 16 + new (bpf/tcp.bpf.c)."""
    state = decoders.make("tcp_state")
    return {(state(i >> 4), state(i & 15)): n for i, n in percpu_sums(maps["transitions"]).items()}


def _drops(maps):
    """{(reason,): count}: per-CPU counts by reason number in common_drops
    plus the hash map for the others (bpf/tcp.bpf.c); 0 is a kernel
    without drop reasons (before 5.17)."""
    reason = decoders.make("drop_reason")
    out = {}
    counts = list(percpu_sums(maps["common_drops"]).items()) + list(maps["drops"].items())
    for number, n in counts:
        if n:
            labels = (reason(number) if number else "unknown",)
            out[labels] = out.get(labels, 0) + n
    return out


def tcp(opts):
    state = lambda name, field: _lb(name, field, "tcp_state")  # noqa: E731
    port = lambda: [Label("family", None, str), Label("port", None, str)]  # noqa: E731
    # kfree_skb has a drop reason since Linux 5.17: before, the programs
    # that read it are refused, and drops count with reason "unknown"
    drops = Hook(("kfree_skb_btf", "kfree_skb_raw", "kfree_skb_noreason_btf",
                  "kfree_skb_noreason_raw"), required=False)
    return "tcp", [_twin("set_state"), _twin("retransmit"), drops], [
        # transitions: a per-CPU array indexed old_state * 16 + new_state
        Metric("pybcc_tcp_state_transitions_total", "counter", "TCP socket state changes.",
               "transitions", [Label("old_state", None, str), Label("new_state", None, str)],
               reader=_transitions),
        Metric("pybcc_tcp_connects_total", "counter",
               "Active TCP opens (CLOSE to SYN_SENT), by remote port.", "connects", port(),
               reader=_ports("connect_slots", "connects")),
        Metric("pybcc_tcp_accepts_total", "counter",
               "Passive TCP opens (SYN_RECV to ESTABLISHED), by local port.", "accepts", port(),
               reader=_ports("accept_slots", "accepts")),
        Metric("pybcc_tcp_retransmits_total", "counter",
               "TCP segments retransmitted, by socket state.", "retransmits",
               [state("state", None)]),
        Metric("pybcc_tcp_drops_total", "counter",
               "TCP packets the kernel dropped, by drop reason.", "drops",
               [Label("reason", None, str)], reader=_drops),
    ], {}


def oom(opts):
    return "oom", [_twin("mark_victim")], [
        Metric("pybcc_oom_kills_total", "counter", "Processes killed by the OOM killer, by comm.",
               "kills", [_lb("comm", "comm", "string")]),
    ], {}


def process(opts):
    return "process", [_twin("exec"), _twin("exit")], [
        Metric("pybcc_process_execs_total", "counter", "Successful execs, by new comm.",
               "execs", [_lb("comm", "comm", "string")]),
        Metric("pybcc_process_exits_total", "counter", "Process exits, by comm.",
               "exits", [_lb("comm", "comm", "string")]),
    ], {}


def _hard_irqs(value_field):
    """{(handler name,): total} of the hard IRQ map, keyed by irqaction: the
    name is in the value of the CPU that created the entry (bpf/irq.bpf.c)."""
    text = decoders.make("string")

    def read(maps):
        out = {}
        for _, per_cpu in maps["hard"].items():
            per_cpu = per_cpu if isinstance(per_cpu, list) else [per_cpu]
            name = next((text(v.name) for v in per_cpu if v.name), None)
            if name is not None:
                key = (name,)
                out[key] = out.get(key, 0) + sum(getattr(v, value_field) for v in per_cpu)
        return out
    return read


def irq(opts):
    name = lambda: [Label("name", None, str)]  # noqa: E731
    vec = lambda: [_lb("vector", None, "softirq")]  # noqa: E731
    return "irq", [_twin("hard_entry"), _twin("hard_exit"), _twin("soft_entry"),
                   _twin("soft_exit")], [
        Metric("pybcc_hardirq_seconds_total", "counter", "Time in hard IRQ handlers, by handler.",
               "hard", name(), scale=NS, reader=_hard_irqs("ns")),
        Metric("pybcc_hardirqs_total", "counter", "Hard IRQ handler runs, by handler.",
               "hard", name(), reader=_hard_irqs("count")),
        Metric("pybcc_softirq_seconds_total", "counter", "Time in soft IRQs, by vector.",
               "soft", vec(), value_field="ns", scale=NS, skip_zero=True),
        Metric("pybcc_softirqs_total", "counter", "Soft IRQ runs, by vector.",
               "soft", vec(), value_field="count", skip_zero=True),
    ], {}


ACCESSES, MISSES, DIRTIED = 0, 1, 2


def _pages(maps):
    return {k: v for k, v in maps["pages"].items()}


def page_cache(opts):
    def one(which):
        return lambda maps: {(): _pages(maps).get(which, 0)}

    def hits(maps):
        p = _pages(maps)
        # a miss also marks its page accessed; bcc's cachestat subtracts them too
        return {(): max(0, p.get(ACCESSES, 0) - p.get(MISSES, 0))}
    return "pagecache", [Hook(("accessed_fentry", "accessed_kprobe")), _twin("added"),
                         _twin("dirtied")], [
        Metric("pybcc_page_cache_accesses_total", "counter", "Page cache pages accessed.",
               "pages", reader=one(ACCESSES)),
        Metric("pybcc_page_cache_misses_total", "counter",
               "Pages added to the page cache (misses).", "pages", reader=one(MISSES)),
        Metric("pybcc_page_cache_hits_total", "counter", "Page cache accesses that hit.",
               "pages", reader=hits),
        Metric("pybcc_page_cache_dirtied_total", "counter", "Page cache pages dirtied.",
               "pages", reader=one(DIRTIED)),
    ], {}


# name -> (builder, set-specific options)
SETS = {
    "block_io": (block_io, set()),
    "run_queue": (run_queue, {"from_wakeup"}),
    "off_cpu": (off_cpu, {"by_cgroup"}),
    "syscalls": (syscalls, {"by_cgroup"}),
    "tcp": (tcp, set()),
    "oom": (oom, set()),
    "process": (process, set()),
    "irq": (irq, set()),
    "page_cache": (page_cache, set()),
}
# What runs with no config: cheap, always-on monitoring, within 1 % of the
# CPU of an event-dense workload (benchmarks/RESULTS.md, docs/EXPORTER.md
# "Overhead": each set's cost measured). Opt-in through the config, as
# node_exporter keeps its interrupts and softirqs collectors off by default:
# syscalls (a hook on every system call: ~6 % of the benchmark's mixed
# workload), off_cpu (every context switch, ~0.5 %) and irq (two hooks per
# hard and per soft IRQ: ~0.4 %, nearly as much as the default sets' 0.5 %;
# the kernel's per-CPU IRQ time is in /proc/stat already). page_cache
# needs fentry or kprobes.
DEFAULT_SETS = ["block_io", "run_queue", "tcp", "oom", "process"]
DEFAULT_MAX_SERIES = 2000
DEFAULT_TOP_COMM = 50


def check_options(where, name, opts):
    """Checks a set's options (ConfigError with file:line)."""
    from .config import check_keys
    if name not in SETS:
        raise where.error(opts, None, f"no metric set {name!r} "
                                      f"(built-in sets: {', '.join(sorted(SETS))})")
    check_keys(where, opts, COMMON_OPTIONS | SETS[name][1], f"set {name}")
    get(where, opts, "max_series", int, check=positive, what=f"{name}.max_series")
    get(where, opts, "max_entries", int, check=positive, what=f"{name}.max_entries")
    get(where, opts, "top_comm", int, check=positive, what=f"{name}.top_comm")
    get(where, opts, "by_cgroup", bool, what=f"{name}.by_cgroup")
    get(where, opts, "from_wakeup", bool, what=f"{name}.from_wakeup")

    def regex_ok(v):
        try:
            re.compile(v)
        except re.error as e:
            return f"bad regular expression: {e}"
        return None
    get(where, opts, "cgroup_regex", str, check=regex_ok, what=f"{name}.cgroup_regex")


def make_set(name, opts, max_series=DEFAULT_MAX_SERIES):
    """A RunningSet (not started) of built-in set ``name`` with ``opts``."""
    builder, _ = SETS[name]
    obj_name, hooks, metrics, constants = builder(opts)
    regex = opts.get("cgroup_regex")
    for m in metrics:
        names = [lb.name for lb in m.labels]
        m.limits = Limits(
            max_series=opts.get("max_series", max_series),
            regex_label="cgroup" if regex and "cgroup" in names else None,
            regex=re.compile(regex) if regex and "cgroup" in names else None,
            top_label="comm" if "comm" in names else None,
            top_n=opts.get("top_comm", DEFAULT_TOP_COMM) if "comm" in names else 0)
    obj = objects.builtin_object(obj_name)
    map_sizes = {}
    if "max_entries" in opts:
        # hash maps only: an array's size is its index range (syscall numbers)
        from ..kernel.uapi import MapType
        from ..elf_reader import load_spec
        spec = load_spec(obj)
        hashes = {MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH}
        # that hold labelled series (a metric with a reader names the map
        # its series or their overflow are in: tcp's connects, accepts and
        # drops, irq's hard; page_cache's are fixed counters)
        map_sizes = {m.map: opts["max_entries"] for m in metrics
                     if (m.reader is None or m.labels) and spec.maps[m.map].type in hashes}
    return RunningSet(name, obj, hooks, metrics, constants, map_sizes, options=dict(opts))
