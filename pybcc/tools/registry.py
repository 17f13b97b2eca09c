"""The list of tools: name, subsystem, one-line description, and how each gets
its data (on a kernel without kprobes, like the project machines, and on a
stock distribution kernel), with what differs from bcc's tool.

`pybcc --help` and docs/TOOLS.md are made from this list (a test keeps the
document in step), so a tool exists for users once it is listed here.
"""
from dataclasses import dataclass

# Subsystems, in the order `pybcc --help` shows them.
SUBSYSTEMS = ("Processes", "Files", "Block I/O", "Scheduler and CPU", "Memory",
              "Network", "Syscalls", "Generic probes")


@dataclass(frozen=True)
class ToolInfo:
    name: str
    subsystem: str
    description: str
    mechanism_here: str     # on a kernel without kprobes/fentry (tracepoints, tp_btf, uprobes)
    mechanism_stock: str    # on a stock kernel with kprobes and fentry
    differs: str = ""       # what differs from bcc's tool ("" when nothing)


def _t(name, subsystem, description, here, stock=None, differs=""):
    return ToolInfo(name, subsystem, description, here, stock or here, differs)


TOOLS = [
    _t("execsnoop", "Processes", "Trace new processes via exec() syscalls",
       "tracepoints syscalls:sys_enter/exit_execve"),
    _t("exitsnoop", "Processes", "Trace process termination (exit and fatal signals)",
       "tracepoint sched:sched_process_exit", differs="--timespec refused (RHEL 7 only)"),
    _t("killsnoop", "Processes", "Trace signals issued by the kill() syscall",
       "tracepoints syscalls:sys_enter/exit_kill"),
    _t("capable", "Processes", "Trace security capability checks",
       "tracepoint capability:cap_capable (6.14+)", "kprobe cap_capable",
       "the tracepoint lacks audit/INSETID: shown N/A"),
    _t("opensnoop", "Files", "Trace open(), openat() and openat2()",
       "syscall tracepoints open/openat/openat2"),
    _t("statsnoop", "Files", "Trace stat() syscalls", "stat-family syscall tracepoints"),
    _t("biolatency", "Block I/O", "Summarize block device I/O latency as a histogram",
       "tp_btf block_rq_issue/complete (raw_tp fallback)",
       differs="--json is NDJSON; bcc's dict print is -j alone; libbpf-tools' -c cgroup added"),
    _t("biosnoop", "Block I/O", "Trace block device I/O with PID and latency",
       "tp_btf block_io_start/rq_issue/rq_complete (raw_tp fallback)",
       differs="libbpf-tools' -m MIN and -c cgroup added"),
    _t("bitesize", "Block I/O", "Summarize block I/O size as a histogram per process",
       "tracepoint block:block_rq_issue", differs="adds libbpf-tools' -c, -p, -d, -T, interval and count"),
    _t("runqlat", "Scheduler and CPU", "Summarize run queue (scheduler) latency as a histogram",
       "tp_btf sched_wakeup/wakeup_new/switch (raw_tp fallback)"),
    _t("runqlen", "Scheduler and CPU", "Summarize scheduler run queue length as a histogram",
       "99 Hz cpu-clock perf event, CO-RE read of the CPU's runqueue",
       differs="counts the whole CPU's nr_running, not the CFS queue's"),
    _t("cpudist", "Scheduler and CPU", "Summarize on- and off-CPU time per task as a histogram",
       "tp_btf sched_switch (raw_tp fallback)"),
    _t("offcputime", "Scheduler and CPU", "Summarize off-CPU time by stack trace",
       "tp_btf sched_switch + stack maps"),
    _t("profile", "Scheduler and CPU", "Sample CPU stack traces at a timed interval",
       "cpu-clock perf events + stack maps"),
    _t("hardirqs", "Scheduler and CPU", "Summarize hard IRQ (interrupt) event time",
       "tracepoints irq:irq_handler_entry/exit"),
    _t("softirqs", "Scheduler and CPU", "Summarize soft IRQ event time",
       "tracepoints irq:softirq_entry/exit"),
    _t("memleak", "Memory", "Show outstanding memory allocations by stack",
       "uprobes on libc's allocators; kmem/percpu tracepoints for the kernel",
       differs="-t: bcc's trace_fields() tuples from events, not printk (flags fixed at "
               "'...11', the timestamp CLOCK_MONOTONIC)"),
    _t("oomkill", "Memory", "Trace the out-of-memory killer",
       "tracepoint oom:mark_victim", "kprobe oom_kill_process",
       "with the tracepoint, 'pages' is worked out as the kernel's totalpages: the "
       "memory cgroup's limit (+ swap it may use) when a cgroup is at its limit, else "
       "RAM+swap"),
    _t("tcpconnect", "Network", "Trace active TCP connections (connect())",
       "sock:inet_sock_set_state + connect() syscall exit", "kprobes tcp_v4/v6_connect",
       "-d/--dns refused; LPORT 0 for refused connects with the tracepoint"),
    _t("tcplife", "Network", "Trace TCP sessions with their lifespan and throughput",
       "tracepoint sock:inet_sock_set_state"),
    _t("tcpretrans", "Network", "Trace TCP retransmits",
       "raw tracepoint tcp_retransmit_skb", differs="-l needs kprobes or fentry"),
    _t("gethostlatency", "Network", "Show latency of getaddrinfo/gethostbyname[2] calls",
       "uprobes/uretprobes on libc"),
    _t("syscount", "Syscalls", "Summarize syscall counts and latencies",
       "tracepoints raw_syscalls:sys_enter/exit"),
    _t("funccount", "Generic probes", "Count kernel functions, user functions and tracepoints",
       "tracepoints and uprobes", "kprobe_multi/kprobes for kernel functions",
       "u: (USDT) refused; kernel functions need kprobes"),
    _t("stackcount", "Generic probes", "Count events and their stack traces",
       "tracepoints, uprobes, USDT", "kprobes for kernel functions"),
    _t("trace", "Generic probes", "Print a message when functions or tracepoints fire",
       "tracepoints, uprobes and USDT", "kprobes/kretprobes for kernel functions"),
    _t("argdist", "Generic probes", "Histograms and counts of function arguments",
       "tracepoints, uprobes and USDT", "kprobes/kretprobes for kernel functions"),
    # issue #10, networking tools (nettools branch)
    _t("tcpstates", "Network", "Trace TCP session state changes and durations",
       "tracepoint sock:inet_sock_set_state",
       differs="-Y needs python3-systemd (as bcc); --json skaddr is hex text"),
    _t("tcpaccept", "Network", "Trace TCP accepts",
       "tracepoints syscalls:sys_exit_accept/accept4, CO-RE walk fd -> socket",
       differs="syscall exit, not inet_csk_accept: io_uring accepts are not seen"),
    _t("tcpconnlat", "Network", "Trace TCP connects and show connection latency",
       "tracepoint sock:inet_sock_set_state (SYN_SENT -> ESTABLISHED)",
       differs="starts at SYN_SENT, after connect()'s route lookup, not at tcp_v4_connect entry"),
    _t("tcpdrop", "Network", "Trace TCP drops by the kernel, with the drop reason",
       "tracepoint skb:kfree_skb (reason: 5.17+; rx_sk: 6.13+) + stack map",
       differs="kernel stacks only with -S (bcc always prints them); no tcp_drop kprobe "
       "for kernels before 5.17"),
    _t("tcprtt", "Network", "Summarize TCP RTT as a histogram",
       "raw tracepoint tcp_probe (kprobe tcp_rcv_established before 4.16)",
       differs="-b/-B key IPv6 sockets too (bcc: IPv4 only)"),
    _t("bindsnoop", "Network", "Trace binds on IPv4/IPv6 sockets",
       "tracepoints syscalls:sys_enter/exit_bind (user sockaddr) + CO-RE walk fd -> socket",
       differs="bind() syscalls only (not in-kernel binds); -E -w shows strerror of the error"),
    _t("tcpsynbl", "Network", "Show the TCP SYN backlog as histograms per backlog limit",
       "tracepoint sock:inet_sock_set_state LISTEN -> SYN_RECV (the child's copy of the "
       "listener's backlog)", differs="adds --duration and --json"),
    _t("tcptop", "Network", "Summarize TCP send/recv throughput by host",
       "raw tracepoints sock_send_length/sock_recv_length (6.5+)",
       "6.12: the sock tracepoints; 6.1: kprobes tcp_sendmsg/tcp_cleanup_rbuf",
       "6.5+: bytes each call moved (bcc: bytes asked of tcp_sendmsg); --json adds exact bytes; "
       "on 5.10 the kprobe path counts some received bytes twice, as bcc does"),
    # issue #12 (cputools): CPU, scheduler, signals, threads
    _t("sigsnoop", "Processes", "Trace standard and real-time signals",
       "tracepoint signal:signal_generate; -k: syscalls kill/tkill/tgkill",
       differs="libbpf-tools' tool (bcc has none); -s takes 1..64; -k reads TCOMM from /proc"),
    _t("pidpersec", "Processes", "Count new processes (via fork) per second",
       "tracepoint sched:sched_process_fork", differs="-p PID (only that process's forks) added"),
    _t("threadsnoop", "Processes", "List new threads created with pthread_create()",
       "uprobe on libc pthread_create", differs="-p PID added"),
    _t("runqslower", "Scheduler and CPU", "Trace high run queue latency",
       "tp_btf sched_wakeup/wakeup_new/switch (raw_tp fallback)"),
    _t("wqlat", "Scheduler and CPU", "Summarize workqueue request latency as histograms",
       "tracepoints workqueue:workqueue_queue_work/execute_start"),
    _t("bpflist", "Generic probes", "Display processes currently using BPF programs and maps",
       "/proc/PID/fd links; -v: tracefs kprobe/uprobe_events",
       differs="-v counts only probes named the bcc way (_bcc_PID); pybcc's own are perf links"),
    _t("tplist", "Generic probes", "Display kernel tracepoints or USDT probes and their formats",
       "tracefs events/*/format; USDT notes of ELF files",
       differs="--json added; -vv shows link-time probe addresses, also with -p"),

    # issue #11 (storage, file systems, memory): fstools
    _t("syncsnoop", "Files", "Trace sync() family syscalls",
       "tracepoints syscalls:sys_enter_{sync,fsync,fdatasync,msync,sync_file_range,syncfs}",
       differs="bcc uses kprobes on the syscall functions; same calls and columns"),
    _t("mountsnoop", "Files", "Trace mount() and umount() syscalls",
       "tracepoints syscalls:sys_enter/exit_mount and _umount",
       differs="fsopen/fsconfig/fsmount/move_mount (new mount API) not shown; "
               "strings cut at 255 bytes"),
    _t("biotop", "Block I/O", "Block device (disk) I/O by process, top-like (-C: plain)",
       "tp_btf block_io_start/block_rq_issue/block_rq_complete (raw_tp twins)",
       "the same (block_rq_insert before 6.5)",
       "requests created before start show as COMM '?' PID 0"),
    _t("biopattern", "Block I/O", "Random vs sequential block I/O per disk (libbpf-tools)",
       "tp_btf block_rq_complete (raw_tp twin)",
       differs="libbpf-tools' tool (bcc has none); the first request of an interval "
               "is compared with the one before it"),
    _t("vfsstat", "Files", "Count some VFS calls per second",
       "syscalls tracepoints (read/write/fsync/open/mknod/unlink/mkdir/rmdir families)",
       differs="counts syscalls, not vfs_* calls: readv/sendfile/kernel-internal I/O "
               "not counted; see -h for each column"),
    _t("filelife", "Files", "Trace the lifespan of short-lived files",
       "syscalls tracepoints: open*/creat exit (FMODE_CREATED via the fd), unlink/unlinkat",
       differs="matched by file name, not dentry; mknod-made files not seen"),
    _t("shmsnoop", "Memory", "Trace shm*() syscalls",
       "tracepoints syscalls:sys_enter/exit_shm{get,at,dt,ctl}",
       differs="bcc uses kprobes/kretprobes; same calls and columns"),
    _t("drsnoop", "Memory", "Trace direct reclaim with its latency",
       "tracepoints vmscan:mm_vmscan_direct_reclaim_begin/end (--memcg: memcg_reclaim too)",
       differs="-v needs vm_zone_stat in /proc/kallsyms (refused in one line without); "
               "--memcg added"),
    # issue 11: block I/O, page cache and memory
    _t("cachestat", "Memory", "Count page cache hits, misses and dirtyings",
       "tracepoints filemap:mm_filemap_add_to_page_cache/get_pages/fault, "
       "writeback:writeback_dirty_folio (tp_btf, raw_tp fallback), in pages (6.10+)",
       "the tracepoints on 6.10+; before, kprobes filemap_add_folio, folio_mark_accessed, "
       "folio_account_dirtied, mark_buffer_dirty",
       differs="with the tracepoints: accesses are read()'s pages and mmap faults, DIRTIES "
               "the pages dirtied (no mark_buffer_dirty tracepoint)"),
    _t("cachetop", "Memory", "Page cache hits and misses per process, like top",
       "as cachestat (one object), counted per process",
       "as cachestat, counted per process",
       differs="-C/--batch plain text, -s/-r sort, count, --json added; without kprobes "
               "the counts are pages (see cachestat)"),
    _t("biostacks", "Block I/O", "Block I/O latency histograms by initiating kernel stack",
       "tp_btf block_io_start/block_io_done (raw_tp fallback), Linux 6.5+",
       "block_io tracepoints on 6.5+; before, fentry (else kprobes) on "
       "blk_account_io_start/done, kprobe blk_account_io_merge_bio",
       differs="libbpf-tools' tool (bcc has none); --json added"),
    _t("biolatpcts", "Block I/O", "Block I/O latency percentiles of one device, by operation",
       "tp_btf block_rq_complete (raw_tp fallback), the request's own start times",
       differs="--json as an alias of -j; percentiles exact over the three resolutions "
               "(bcc's skip the coarse slots walked before a finer resolution)"),
    _t("mdflush", "Block I/O", "Trace md (software RAID) flush requests",
       "tp_btf block_bio_queue (raw_tp fallback): REQ_PREFLUSH bios to md* disks",
       "kprobe md_flush_request",
       differs="without kprobes, flushes seen where they are queued; says so in one line "
               "when no md driver is loaded"),
    _t("compactsnoop", "Memory", "Trace zone compactions with latency and result",
       "tracepoints compaction:mm_compaction_suitable (tp_btf/raw_tp)/begin/end",
       differs="-e FRAGIDX worked out from the zone's free blocks (bcc: kretprobe "
               "fragmentation_index); whole-zone compactions shown with ORDER -1; --json"),
    _t("slabratetop", "Memory", "Kernel slab cache allocation rate, top-like",
       "tp_btf kmem_cache_alloc (raw_tp fallback): the cache in its arguments (6.0+)",
       "the tracepoint on 6.0+; kprobe kmem_cache_alloc before",
       differs="--json added"),
    _t("swapin", "Memory", "Count swap-ins by process",
       "tp_btf block_bio_queue (raw_tp fallback): read bios to swap partitions/devices",
       "kprobe swap_read_folio/swap_readpage",
       differs="without kprobes, swap-ins from swap files or served by zswap are not seen; "
               "--json added"),
    _t("numamove", "Memory", "NUMA misplaced page migrations per second and their time",
       "tracepoints migrate:mm_migrate_pages_start/mm_migrate_pages, reason NUMA misplaced",
       "fentry/fexit (else kprobes) on migrate_misplaced_folio/_page",
       differs="libbpf-tools' tool (bcc has none); without fentry/kprobes the time is "
               "migrate_pages()'s; interval, count, --json added"),
]

BY_NAME = {t.name: t for t in TOOLS}


def names():
    return sorted(BY_NAME)


def help_text():
    """The tools grouped by subsystem, one line each, for `pybcc --help`."""
    lines = []
    for sub in SUBSYSTEMS:
        group = [t for t in TOOLS if t.subsystem == sub]
        if not group:
            continue
        lines.append(f"{sub}:")
        lines += [f"  {t.name:<16} {t.description}" for t in group]
    return "\n".join(lines)


def markdown():
    """docs/TOOLS.md: one table row per tool (made by `python3 -m pybcc.tools.registry`)."""
    out = ["# pybcc's tools", "",
           "Generated from pybcc/tools/registry.py by `python3 -m pybcc.tools.registry "
           "> docs/TOOLS.md`; a test checks it is current.", "",
           "Every tool takes bcc's flags and prints bcc's output; `--json` prints "
           "NDJSON (one object per event, or one per interval for histograms and counts).",
           ""]
    for sub in SUBSYSTEMS:
        group = [t for t in TOOLS if t.subsystem == sub]
        if not group:
            continue
        out += [f"## {sub}", "",
                "| tool | description | mechanism without kprobes | on stock kernels | differs from bcc |",
                "|---|---|---|---|---|"]
        out += [f"| {t.name} | {t.description} | {t.mechanism_here} | {t.mechanism_stock} | "
                f"{t.differs or '—'} |" for t in group]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
