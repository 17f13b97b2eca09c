# bcc.libbcc's lib.* entries that scripts call directly, on a loaded program:
# its functions and instructions, its tables' fds (used through the kernel),
# symbol resolution as strlen_hist_ifunc.py and bcc's SymbolCache use it,
# and a uprobe placed at the offset bcc_resolve_symname gives.
import ctypes as ct
import os

from bcc import BPF
from bcc.libbcc import lib, bcc_symbol, bcc_symbol_option
from pybcc.kernel import bpf as kbpf
from scriptlib import check, passed

b = BPF(text="""
BPF_ARRAY(calls, u64, 1);
BPF_HASH(other, u32, u32, 7);
int on_getpid(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        calls.increment(0);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
m = b.module
names = [lib.bpf_function_name(m, i) for i in range(lib.bpf_num_functions(m))]
check(names == [b"on_getpid"], names)
start, size = lib.bpf_function_start(m, b"on_getpid"), lib.bpf_function_size(m, b"on_getpid")
check(ct.string_at(start, size) == b.dump_func(b"on_getpid") and size % 8 == 0, "function bytes")
tables = [lib.bpf_table_name(m, i) for i in range(lib.bpf_num_tables(m))]
check(tables == [b"calls", b"other"], tables)
check(lib.bpf_table_max_entries(m, b"other") == 7 and lib.bpf_table_type_id(m, 1) == 1,
      "table max entries / type")
check(lib.bpf_table_key_size(m, b"other") == 4 and lib.bpf_table_leaf_size(m, b"calls") == 8,
      "key/leaf sizes")
check(lib.bpf_module_kern_version(m) >> 16 == int(os.uname().release.split(".")[0]), "version")
fd = lib.bpf_table_fd(m, b"other")
check(kbpf.map_info(fd)["max_entries"] == 7, "bpf_table_fd is not the map's fd")
check(lib.bpf_table_fd(m, b"nope") == -1, "absent table")

# strlen_hist_ifunc.py's way: the symbol's module and file offset
sym, opt = bcc_symbol(), bcc_symbol_option()
opt.use_symbol_type = 10
check(lib.bcc_resolve_symname(b"c", b"getpid", 0, 0, ct.byref(opt), ct.byref(sym)) == 0, "resolve")
module = ct.cast(sym.module, ct.c_char_p).value
check(b"libc" in module, module)
check(lib.bcc_resolve_symname(b"c", b"no_such_symbol_x", 0, 0, None, ct.byref(sym)) == -1, "absent")
b.attach_uprobe(name=module, addr=sym.offset, fn_name=b"on_getpid", pid=os.getpid())
libc = ct.CDLL(None)
for _ in range(5):
    libc.getpid()
check(b["calls"][0].value >= 5, "uprobe at the resolved offset counted %d" % b["calls"][0].value)

cache = lib.bcc_symcache_new(os.getpid(), None)
addr = ct.c_ulonglong()
check(lib.bcc_symcache_resolve_name(cache, b"c", b"getpid", ct.byref(addr)) == 0, "resolve_name")
check(addr.value == ct.cast(libc.getpid, ct.c_void_p).value, "address of getpid")
s = bcc_symbol()
check(lib.bcc_symcache_resolve(cache, addr.value + 1, ct.byref(s)) == 0 and s.demangle_name == b"getpid"
      and s.offset == 1, (s.demangle_name, s.offset))
lib.bcc_free_symcache(cache, os.getpid())
try:
    lib.bpf_no_such_entry
    check(False, "unknown entry did not raise")
except AttributeError as e:
    check("not emulated" in str(e), str(e))
passed("libbcc_entries")
