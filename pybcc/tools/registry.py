"""The list of tools: name, subsystem, one-line description, and how each gets
its data (on a kernel without kprobes, like the project machines, and on a
stock distribution kernel), with what differs from bcc's tool.

`pybcc --help` and docs/TOOLS.md are made from this list (a test keeps the
document in step), so a tool exists for users once it is listed here.
"""

from ..record import record

# Subsystems, in the order `pybcc --help` shows them.
SUBSYSTEMS = ("Processes", "Files", "Block I/O", "Scheduler and CPU", "Memory",
              "Network", "Syscalls", "Generic probes", "Language runtimes")


@record(frozen=True)
class ToolInfo:
    name: str
    subsystem: str
    description: str
    mechanism_here: str     # on a kernel without kprobes/fentry (tracepoints, tp_btf, uprobes)
    mechanism_stock: str    # on a stock kernel with kprobes and fentry
    differs: str = ""       # what differs from bcc's tool ("" when nothing)
    alias_of: str = ""      # a name bcc installs for another tool with fixed flags
    alias_args: tuple = ()  # (pythoncalls = ucalls -l python)

    @property
    def module(self):
        """The module in pybcc/tools/ that runs the tool."""
        return (self.alias_of or self.name).replace("-", "_")   # reset-trace


def _t(name, subsystem, description, here, stock=None, differs=""):
    return ToolInfo(name, subsystem, description, here, stock or here, differs)


_LANG_NAMES = {"java": "Java", "node": "Node.js", "perl": "Perl", "php": "PHP",
               "python": "Python", "ruby": "Ruby", "tcl": "Tcl", "c": "C"}


def _aliases(tool, suffix, description, languages):
    """The names bcc installs for ``tool -l LANG`` (pythoncalls, javagc, ...)."""
    return [ToolInfo(f"{lang}{suffix}", "Language runtimes",
                     f"{description} {_LANG_NAMES[lang]} (= {tool} -l {lang})",
                     f"as {tool}", f"as {tool}", alias_of=tool, alias_args=("-l", lang))
            for lang in languages]


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
               "'...11', the timestamp CLOCK_MONOTONIC); kernel mode on 6.1+ leaves out the "
               "kmallocs of the BPF allocator's refills (alloc_bulk): its allocs map is made "
               "entry by entry there, where bcc preallocates it"),
    _t("oomkill", "Memory", "Trace the out-of-memory killer",
       "tracepoint oom:mark_victim", "kprobe oom_kill_process",
       "with the tracepoint, 'pages' is worked out as the kernel's totalpages: the "
       "memory cgroup's limit (+ swap it may use) when a cgroup is at its limit, else "
       "RAM+swap"),
    _t("tcpconnect", "Network", "Trace active TCP connections (connect())",
       "sock:inet_sock_set_state + connect() syscall exit", "kprobes tcp_v4/v6_connect",
       "-d: names from uprobes on libc getaddrinfo (bcc: DNS answers via udp_recvmsg), so "
       "other resolvers are not seen; LPORT 0 for refused connects with the tracepoint"),
    _t("tcplife", "Network", "Trace TCP sessions with their lifespan and throughput",
       "tracepoint sock:inet_sock_set_state"),
    _t("tcpretrans", "Network", "Trace TCP retransmits",
       "raw tracepoint tcp_retransmit_skb", differs="-l needs kprobes or fentry"),
    _t("gethostlatency", "Network", "Show latency of getaddrinfo/gethostbyname[2] calls",
       "uprobes/uretprobes on libc"),
    _t("syscount", "Syscalls", "Summarize syscall counts and latencies",
       "tracepoints raw_syscalls:sys_enter/exit"),
    _t("funccount", "Generic probes", "Count kernel functions, user functions, tracepoints and USDT probes",
       "tracepoints, uprobes and USDT", "kprobe_multi/kprobes for kernel functions",
       "kernel functions need kprobes (no fentry path); adds --json"),
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
    _t("mountsnoop", "Files", "Trace mount() and umount() syscalls, and the new mount API",
       "tracepoints syscalls:sys_enter/exit_mount, _umount, _fsopen, _fsconfig, _fsmount, "
       "_move_mount",
       differs="adds the new mount API calls as libbpf-tools' mountsnoop; "
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
       "kprobes vfs_read/write/fsync_range/open/create/unlink/mkdir/rmdir (bcc's)",
       differs="without kprobes: counts syscalls, not vfs_* calls: readv/sendfile/"
               "kernel-internal I/O not counted; see -h for each column"),
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
    # issue 10: user runtimes
    _t("ucalls", "Language runtimes", "Summarize method calls (and syscalls) of a process "
       "in Java, Perl, PHP, Python, Ruby, Tcl",
       "USDT method__entry/return (per runtime) + tracepoints raw_syscalls:sys_enter/exit",
       differs="CPython 3.11: enables python:line's semaphore too (else function__entry "
               "never fires); Java names read with their lengths; --json, --duration"),
    *_aliases("ucalls", "calls", "Summarize method calls in", ("java", "perl", "php", "python",
                                                              "ruby", "tcl")),
    _t("uflow", "Language runtimes", "Trace method execution flow in Java, Perl, PHP, Python, "
       "Ruby, Tcl", "USDT method__entry/return (per runtime), ring buffer",
       differs="CPython 3.11: enables python:line's semaphore; --json, --duration"),
    *_aliases("uflow", "flow", "Trace method execution flow in", ("java", "perl", "php",
                                                                 "python", "ruby", "tcl")),
    _t("ugc", "Language runtimes", "Summarize garbage collections in Java, Node.js, Python, Ruby",
       "USDT GC begin/end probes (per runtime), ring buffer",
       differs="GC begin/end paired per thread and per probe pair; Java and Python "
               "descriptions printed (bcc's formatters return nothing); --json, --duration"),
    *_aliases("ugc", "gc", "Summarize garbage collections in", ("java", "node", "python",
                                                               "ruby")),
    _t("uobjnew", "Language runtimes", "Summarize object allocations in C (malloc), Java, Ruby, Tcl",
       "USDT allocation probes (per runtime); uprobe on libc malloc for C",
       differs="--json, --duration"),
    *_aliases("uobjnew", "objnew", "Summarize object allocations in", ("java", "ruby", "tcl")),
    ToolInfo("cobjnew", "Language runtimes", "Summarize C allocations (malloc) by block size "
             "(= uobjnew -l c)", "as uobjnew", "as uobjnew", alias_of="uobjnew",
             alias_args=("-l", "c")),
    _t("ustat", "Language runtimes", "Per-process calls, GCs, objects, class loads, exceptions "
       "and threads of language runtimes, top-like",
       "USDT probes (per runtime), one uprobe set per runtime file for all its processes",
       differs="processes found by executable, not comm; those without probes skipped and "
               "named once; -p PID and --json added; probes attached once, not per interval"),
    *_aliases("ustat", "stat", "Activity stats of", ("java", "node", "perl", "php", "python",
                                                    "ruby", "tcl")),
    _t("uthreads", "Language runtimes", "Trace thread creation in C (pthreads) and Java",
       "uprobe/uretprobe pthread_create + tracepoint sched:sched_process_fork; USDT "
       "hotspot thread__start/stop",
       differs="pthreads from pthread_create + the fork tracepoint (Debian's glibc has no "
               "pthread_start USDT probe, which bcc needs); --json, --duration"),
    *_aliases("uthreads", "threads", "Trace thread creation in", ("java",)),
    _t("bashreadline", "Processes", "Print entered bash commands from all running shells",
       "uretprobe on readline_internal_teardown or readline (bash or libreadline)",
       differs="-s alone finds the system's libreadline; --json, --duration"),
    # issue 10: networking
    _t("mptcpify", "Network", "Force applications to use MPTCP instead of TCP",
       "refused: needs fmod_ret (BPF trampolines)",
       "fmod_ret on update_socket_protocol (6.6+)",
       differs="adds --duration and --json (one object saying what is forced)"),
    _t("rdmaucma", "Network", "Trace RDMA user-space connection manager (rdma_ucm) events",
       "refused: needs fentry or kprobes",
       "fentry (else kprobe) on ucma_event_handler, rdma_cm types from the modules' BTF",
       differs="adds --duration and --json; one line when rdma_ucm is not loaded"),
    _t("tcptracer", "Network", "Trace TCP connections: connect, accept and close",
       "tracepoint sock:inet_sock_set_state + syscalls:sys_exit_accept/accept4 (fd -> socket)",
       differs="X at the first close step (close/shutdown, or a reset), not tcp_close; "
               "io_uring accepts not seen; --json addresses without brackets"),
    _t("solisten", "Network", "Trace listen() on TCP sockets",
       "tracepoints syscalls:sys_enter/exit_listen, CO-RE walk fd -> socket",
       differs="listen() syscall, not inet_listen: io_uring listens and failed calls not "
               "shown; NETNS is real (bcc prints 0)"),
    _t("tcpcong", "Network", "Summarize TCP congestion control state durations",
       "raw tracepoint tcp:tcp_cong_state_set (6.0+)",
       "the tracepoint (6.0+); before: fexit, else kprobe/kretprobe on the state-changing "
       "functions",
       differs="adds --json and --duration"),
    _t("tcpsubnet", "Network", "Summarize TCP bytes sent by destination subnet",
       "raw tracepoint sock:sock_send_length (6.5+)",
       "sock:sock_send_length (6.5+), else kprobe tcp_sendmsg",
       differs="6.5+: bytes each send moved, not bytes asked of tcp_sendmsg; -J objects also "
               "carry ts; adds --duration"),
    _t("tcppktlat", "Network", "Trace latency from TCP segment arrival to its read by the application",
       "tp_btf tcp:tcp_probe/tcp_rcv_space_adjust/tcp_destroy_sock (raw_tp twins)",
       differs="libbpf-tools' tool (bcc has none); adds --json and --duration"),
    _t("sofdsnoop", "Network", "Trace file descriptors passed over sockets (SCM_RIGHTS)",
       "tracepoints syscalls:sys_enter_sendmsg, sys_enter/exit_recvmsg (cmsg read from the "
       "caller's msghdr)",
       differs="first control message of sendmsg/recvmsg only (sendmmsg/recvmmsg not seen); "
               "RECV shows the receiver's fd numbers"),
    _t("netqtop", "Network", "Summarize packets per queue of a network interface, by size",
       "tp_btf net:net_dev_start_xmit, net:netif_receive_skb (raw_tp twins)",
       differs="adds --json and --duration; a bad interface or interval is an error (exit "
               "1/2), not a message with exit 0"),
    # issue 10: tls and databases
    _t("sslsniff", "Network", "Sniff the plain text of OpenSSL, GnuTLS and NSS reads/writes",
       "uprobes/uretprobes on SSL_read/write(_ex), SSL_do_handshake, gnutls_record_recv/send, "
       "NSPR PR_Read/Write/Recv/Send",
       differs="also SSL_read_ex/SSL_write_ex (what Python and OpenSSL 3 programs call); "
               "-p takes the libraries the process maps, or OpenSSL/GnuTLS/NSS linked into its "
               "executable, else the system's; --handshake turns on -l; --max-buffer-size at most 16384; "
               "a missing library is named, not an error; adds --duration and --json"),
    _t("dbslower", "Network", "Trace MySQL/MariaDB and PostgreSQL queries slower than a threshold",
       "USDT query__start/done (Debian's PostgreSQL), else uprobes on dispatch_command "
       "(MySQL, Debian's MariaDB) or exec_simple_query",
       differs="uprobes for PostgreSQL too, given its symbols; without -p, servers that start "
               "later are traced; -p PID also covers its children (PostgreSQL backends); "
               "QUERY is text (bcc on Python 3 prints b'...')"),
    _t("dbstat", "Network", "Display a histogram of MySQL/MariaDB and PostgreSQL query latencies",
       "USDT query__start/done (Debian's PostgreSQL), else uprobes on dispatch_command "
       "(MySQL, Debian's MariaDB) or exec_simple_query",
       differs="as dbslower; adds dbslower's -x PATH, --duration and --json"),
    _t("mysqld_qslower", "Network", "Trace MySQL/MariaDB server queries slower than a threshold",
       "USDT mysql:query__start/done, else uprobes on dispatch_command (Debian's MariaDB)",
       differs="the uprobe fallback (bcc: USDT only); QUERY is text (bcc on Python 3 prints "
               "b'...'); adds --duration and --json"),
    # issue 11: file systems and VFS
    _t("filetop", "Files", "File reads and writes by process, top-like",
       "syscall tracepoints read/write/pread64/pwrite64/readv/writev/preadv(2)/pwritev(2) "
       "+ CO-RE walk fd → file → dentry/inode", "kprobes vfs_read/vfs_write (bcc's)",
       differs="without kprobes: bytes transferred, not requested; readv/writev counted; "
               "sendfile/splice/io_uring not seen"),
    _t("fileslower", "Files", "Trace slow synchronous file reads and writes",
       "syscall tracepoints read/write families entry → exit + CO-RE walk fd → file",
       "kprobes/kretprobes vfs_read/vfs_write (bcc's)",
       differs="without kprobes: whole-syscall latency, bytes transferred; readv/writev included"),
    _t("filegone", "Files", "Trace why a file is gone (deleted or renamed)",
       "syscall tracepoints unlink/unlinkat/rmdir/rename/renameat/renameat2 entry + exit",
       "kprobes/kretprobes vfs_unlink/vfs_rmdir/vfs_rename (bcc's)",
       differs="without kprobes: the name is the path's last component, not the dentry's"),
    _t("dirtop", "Files", "File reads and writes by directory, top-like",
       "syscall tracepoints read/write families + CO-RE walk fd → file → dentry ancestors",
       "kprobes vfs_read/vfs_write (bcc's)",
       differs="without kprobes: bytes transferred, not requested; readv/writev counted; "
               "up to 1024 directories (bcc: 15)"),
    _t("vfscount", "Files", "Count VFS calls by function",
       "tracepoint raw_syscalls:sys_enter, each syscall counted as the vfs_* function it reaches",
       "kprobes (kprobe_multi) on vfs_* (bcc's)",
       differs="without kprobes: syscalls counted at entry; kernel-internal vfs_* calls "
               "not seen; see -h for the mapping"),
    _t("readahead", "Memory", "Show the performance of the read-ahead cache",
       "tracepoints readahead:page_cache_ra_unbounded/ra_order + filemap:"
       "mm_filemap_add_to_page_cache/get_pages/map_pages (recent kernels)",
       "kprobes page_cache_ra_order, filemap_alloc_folio, folio_mark_accessed (bcc's)",
       differs="without kprobes: a use is a read or mmap fault-around of the folio; "
               "-d stops the tool"),
    _t("dcstat", "Files", "Directory entry cache (dcache) statistics",
       "none: refuses in one line (the dcache has no tracepoints)",
       "kprobes lookup_fast, kretprobe d_lookup (bcc's)"),
    _t("dcsnoop", "Files", "Trace directory entry cache (dcache) lookups",
       "none: refuses in one line (the dcache has no tracepoints)",
       "kprobes lookup_fast, d_lookup + kretprobe (bcc's)"),
    # issue 11: per-file-system latency
    _t("fsdist", "Files", "Summarize file system operation latency (-t ext4, xfs, btrfs, nfs, ...)",
       "raw tracepoints sys_enter/sys_exit (read/write/open/fsync/fstat syscalls) + fd->super block walk",
       "kprobes on the file system's functions (fentry where the kernel has it, module BTF for modules)",
       "libbpf-tools' tool; without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring); getattr only of open files (fstat)"),
    _t("fsslower", "Files", "Trace file system operations slower than a threshold (-t TYPE)",
       "raw tracepoints sys_enter/sys_exit (read/write/open/fsync syscalls) + fd->super block walk",
       "kprobes on the file system's functions (fentry where the kernel has it, module BTF for modules)",
       "libbpf-tools' tool; without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("ext4dist", "Files", "Summarize ext4 operation latency",
       "raw tracepoints sys_enter/exit + fd->super block walk (as fsdist)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on ext4_file_read_iter/write_iter/open, ext4_sync_file",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("ext4slower", "Files", "Trace slow ext4 operations",
       "raw tracepoints sys_enter/exit + fd->super block walk (as fsslower)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on ext4_file_read_iter/write_iter/open, ext4_sync_file",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("xfsdist", "Files", "Summarize XFS operation latency",
       "raw tracepoints sys_enter/exit + fd->super block walk (as fsdist)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on xfs_file_read_iter/write_iter/open/fsync",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("xfsslower", "Files", "Trace slow XFS operations",
       "raw tracepoints sys_enter/exit + fd->super block walk (as fsslower)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on xfs_file_read_iter/write_iter/open/fsync",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("btrfsdist", "Files", "Summarize btrfs operation latency",
       "raw tracepoints sys_enter/exit + fd->super block walk (as fsdist)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on btrfs_file_read_iter/write_iter/open, btrfs_sync_file (generic_* on old kernels)",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("btrfsslower", "Files", "Trace slow btrfs operations",
       "raw tracepoints sys_enter/exit + fd->super block walk (as fsslower)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on btrfs_file_read_iter/write_iter/open, btrfs_sync_file (generic_* on old kernels)",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("nfsdist", "Files", "Summarize NFS operation latency",
       "raw tracepoints sys_enter/exit + fd->super block walk (nfs not in this kernel: says so)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on nfs_file_read/write, nfs_file_open/nfs4_file_open, nfs_getattr",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring); getattr only of open files there"),
    _t("nfsslower", "Files", "Trace slow NFS operations",
       "raw tracepoints sys_enter/exit + fd->super block walk (nfs not in this kernel: says so)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on nfs_file_read/write, nfs_file_open/nfs4_file_open, nfs_getattr",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring); getattr only of open files there; no COMMIT (C) rows"),
    _t("f2fsslower", "Files", "Trace slow f2fs operations",
       "raw tracepoints sys_enter/exit + fd->super block walk (f2fs not in this kernel: says so)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on f2fs_file_read_iter/write_iter/open, f2fs_sync_file",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("zfsdist", "Files", "Summarize ZFS operation latency",
       "none: zfs is not in this kernel (says so)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on zpl_iter_read/write, zpl_open, zpl_fsync",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
    _t("zfsslower", "Files", "Trace slow ZFS operations",
       "none: zfs is not in this kernel (says so)",
       "kprobes (fentry where the kernel has it, module BTF for modules) on zpl_iter_read/write, zpl_open, zpl_fsync",
       "without kprobes/fentry it times the syscall (VFS included; no mmap/io_uring)"),
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
    # issue 12: scheduler and CPU
    _t("offwaketime", "Scheduler and CPU",
       "Summarize blocked time by off-CPU stack + waker stack",
       "tp_btf sched_switch + sched_waking (raw_tp fallback) + stack maps",
       differs="the waker's stacks are taken at sched_waking (always in the waker) and the "
               "target's where it blocked, so both are right on the raw_tp path too; "
               "--format/-o pictures (time in µs) and --json added"),
    _t("wakeuptime", "Scheduler and CPU", "Summarize sleep to wakeup time by waker kernel stack",
       "tp_btf sched_switch + sched_waking (raw_tp fallback) + stack maps",
       differs="sched_waking runs in the waker, so its stack is right on every path; "
               "-v also puts addresses in folded lines; --format/-o pictures (µs), --json"),
    _t("softirqslower", "Scheduler and CPU", "Trace slow soft IRQs: long waits after raise, long runs",
       "tracepoints irq:softirq_raise/entry/exit",
       differs="a softirq entered without a raise seen is not reported (bcc reports "
               "it with a latency since boot); --json, --duration"),
    _t("cpuunclaimed", "Scheduler and CPU", "Sample CPU run queues and calculate unclaimed idle CPU",
       "99 Hz cpu-clock perf events (one fixed period), CO-RE read of the CPU's runqueue",
       differs="counts the whole CPU's nr_running, not the current task's cfs_rq; "
               "fixed period instead of frequency mode, so CPUs stay in step; --json"),
    _t("numasched", "Scheduler and CPU", "Trace tasks that switch NUMA nodes",
       "tp_btf sched_switch (raw_tp fallback), bpf_get_numa_node_id()",
       differs="-c filters in the kernel; COMM printed as text (bcc prints b'...'); "
               "says so when the machine has one node; --json, --duration"),
    _t("cpufreq", "Scheduler and CPU", "Sample CPU frequency system-wide and by process (libbpf-tools)",
       "tp_btf power:cpu_frequency (raw_tp fallback) + cpu-clock perf events; "
       "needs a cpufreq driver (the project machines have none: it says so)",
       differs="libbpf-tools' tool (bcc has none); -v shows what attached; --json"),
    _t("llcstat", "Scheduler and CPU", "Summarize cache references and misses by PID",
       "hardware perf events cache-references/cache-misses; none on the project machines "
       "(no PMU): it says so", "the same where the CPU has a PMU (not under TCG)",
       differs="bcc's total line divides by zero with no references (pybcc prints 0.00%); --json"),
    _t("criticalstat", "Scheduler and CPU", "Trace long critical sections (IRQs or preemption off)",
       "tracepoints preemptirq:irq/preempt_disable/enable + power:cpu_idle; absent here "
       "(CONFIG_PREEMPTIRQ_TRACEPOINTS not set): it says so",
       "the same; stock distribution kernels lack them too",
       differs="one line (exit 1) where the tracepoints are missing, instead of bcc's "
               "message block (exit 0); --json"),
    _t("kvmexit", "Scheduler and CPU", "Display KVM exit reasons and their counts",
       "tracepoint kvm:kvm_exit; KVM here is kvm_pvm, whose guests do not report through "
       "it (the tool says so)", "tracepoint kvm:kvm_exit (with kvm_intel/kvm_amd)",
       differs="reason names read from the tracepoint's format (AMD: the kernel's names "
               "upper-cased, e.g. IO not IOIO); -m accepted, no worker pool needed; "
               "at most 8 tids for -T; --json"),
    _t("ppchcalls", "Scheduler and CPU", "Summarize ppc hcall counts and latencies (powerpc only)",
       "raw tracepoints powerpc:hcall_entry/exit; powerpc pSeries only: elsewhere it says so",
       differs="-l and --hcall work on every architecture; --json"),

    # issue 12: locks and generic probes
    _t("funclatency", "Generic probes", "Time functions and print latency as a histogram",
       "uprobes/uretprobes for user functions", "kprobe_multi/kprobes for kernel functions",
       "kernel functions need kprobes (no fentry path); --json adds total and count"),
    _t("funcinterval", "Generic probes", "Time between calls of a function or tracepoint hits",
       "tracepoints and uprobes", "kprobes for kernel functions",
       "adds --json; '*' globs also for kernel functions and tracepoints"),
    _t("funcslower", "Generic probes", "Trace slow kernel or user function calls",
       "uprobes/uretprobes for user functions", "kprobes/kretprobes for kernel functions",
       "adds --json and --duration; a function may be a '*' glob"),
    _t("klockstat", "Scheduler and CPU", "Kernel mutex wait and hold times per caller",
       "tp_btf lock:contention_begin/end (raw_tp twin; 5.19+) + stack map",
       "the tracepoints (6.1, 6.12); kprobes mutex_lock/unlock with --kprobes or before 5.19",
       "tracepoints: contended waits only, no Hold table; -S sorts each table by its own "
       "field; -c matches a substring; adds --kprobes and --json"),
    _t("futexctn", "Processes", "Summarize futex (user lock) contention latency per lock and stack",
       "tracepoints syscalls:sys_enter/exit_futex + user stack map",
       differs="libbpf-tools' tool (bcc has none); bcc's histogram text; adds --json"),
    _t("deadlock", "Processes", "Detect potential deadlocks (lock order inversions) in a process",
       "uprobes on pthread_mutex_lock/unlock + tracepoints syscalls:sys_exit_clone/clone3",
       differs="--binary found by itself (the program or its libc); thread creation from the "
               "clone tracepoints (bcc: kretprobe); adds --json and --duration"),
    _t("ttysnoop", "Files", "Watch the output written to a tty or pts device",
       "tracepoint syscalls:sys_enter_write + CO-RE walk fd -> file -> inode",
       differs="write() only (bcc's tty_write kprobe also sees writev and kernel echo); "
               "adds --json and --duration; -s up to 8192"),
    _t("inject", "Generic probes", "Fail kernel allocations or bios on a call chain (error injection)",
       "refused: needs kprobes and bpf_override_return",
       "kprobes/kretprobes + bpf_override_return where CONFIG_BPF_KPROBE_OVERRIDE=y "
       "(not in Debian's kernels)",
       "STRCMP takes the literal first (as trace's); a function appears once in a chain"),
    _t("reset-trace", "Generic probes", "Reset the state of tracing (tracefs) left by a crashed tool",
       "tracefs files (kprobe_events, uprobe_events, trace; the rest with -F)",
       differs="adds -n/--dry-run and --instance NAME; tracefs found or mounted where it is "
               "(bcc: /sys/kernel/debug/tracing)"),
]

BY_NAME = {t.name: t for t in TOOLS}


def command(name, argv):
    """(module name, argv) that run tool ``name``: an alias runs its tool
    with its fixed flags first."""
    info = BY_NAME[name]
    return info.module, list(info.alias_args) + list(argv)


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
