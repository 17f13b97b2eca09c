# BPF's static queries: syscall names, tracepoints, kernel types from BTF,
# kernel symbols both ways, the monotonic clock, user functions.
import os
import time

from bcc import BPF
from scriptlib import check, passed

prefix = BPF.get_syscall_prefix()
check(BPF.ksymname(prefix + b"getppid") != -1, "prefix %s" % prefix)
check(BPF.get_syscall_fnname(b"clone") == prefix + b"clone", "get_syscall_fnname")
check(BPF.tracepoint_exists("sched", "sched_switch"), "sched_switch exists")
check(not BPF.tracepoint_exists("sched", "no_such_event"), "no_such_event")
tps = BPF.get_tracepoints("sched:sched_.*")
check(b"sched:sched_switch" in tps and all(t.startswith(b"sched:") for t in tps), "get_tracepoints")

check(BPF.kernel_struct_has_field(b"task_struct", b"pid"), "task_struct.pid")
check(BPF.kernel_struct_has_field("task_struct", "__state") or
      BPF.kernel_struct_has_field("task_struct", "state"), "task_struct state")
check(not BPF.kernel_struct_has_field("task_struct", "no_such_field"), "no such field")
check(BPF.kernel_struct_has_field("sk_buff", "len"), "nested anonymous members searched")
check(BPF.kernel_enum_has_val("bpf_map_type", "BPF_MAP_TYPE_RINGBUF"), "enum value")
check(not BPF.kernel_enum_has_val("bpf_map_type", "BPF_MAP_TYPE_NOPE"), "no enum value")

addr = BPF.ksymname("vfs_read")
check(addr > 0, "ksymname")
check(BPF.ksym(addr) == b"vfs_read" and BPF.ksym(addr).decode() == "vfs_read", "ksym")
check(BPF.ksym(addr + 3, show_offset=True) == b"vfs_read+0x3", BPF.ksym(addr + 3, show_offset=True))
check(BPF.ksym(addr, show_module=True) == b"vfs_read [kernel]", BPF.ksym(addr, show_module=True))
check(BPF.ksymname("no_such_symbol_xyz") == -1, "absent symbol")

t1 = BPF.monotonic_time()
check(abs(t1 / 1e9 - time.monotonic()) < 1, "monotonic_time is CLOCK_MONOTONIC in ns")

libc = BPF.find_library("c")
check(libc and b"libc" in libc, "find_library: %r" % libc)
check(BPF.find_exe("sh") and os.path.isabs(BPF.find_exe("sh")), "find_exe")
funcs = BPF.get_user_functions_and_addresses("c", "^getpid$")
check(len(funcs) == 1 and funcs[0][0] == b"getpid" and funcs[0][1] > 0, repr(funcs))
passed("kernel_queries")
