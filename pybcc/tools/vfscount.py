"""vfscount: count VFS calls (bcc's output: ADDR, FUNC, COUNT)."""
import os
import sys

from ..kernel import features
from ..kernel.syscall_names import syscall_number
from ..output.table import Column, Table
from ..symbols.kallsyms import kernel_symbols
from .lib.args import add_json, positive_int, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import Tool, status

# The vfs_* function each syscall reaches (6.x kernels); "name+" is the
# variant counted apart (see vfscount.bpf.c).
VFS_OF_SYSCALL = {
    "read": "vfs_read", "pread64": "vfs_read",
    "write": "vfs_write", "pwrite64": "vfs_write",
    "readv": "vfs_readv", "preadv": "vfs_readv", "preadv2": "vfs_readv",
    "writev": "vfs_writev", "pwritev": "vfs_writev", "pwritev2": "vfs_writev",
    "open": "vfs_open", "openat": "vfs_open", "openat2": "vfs_open", "creat": "vfs_open",
    "open_by_handle_at": "vfs_open",
    "stat": "vfs_fstatat", "lstat": "vfs_fstatat", "newfstatat": "vfs_fstatat",
    "fstat": "vfs_fstat", "statx": "vfs_statx",
    "fsync": "vfs_fsync_range", "fdatasync": "vfs_fsync_range",
    "unlink": "vfs_unlink", "unlinkat": "vfs_unlink", "unlinkat+": "vfs_rmdir",
    "rmdir": "vfs_rmdir", "mkdir": "vfs_mkdir", "mkdirat": "vfs_mkdir",
    "mknod": "vfs_mknod", "mknodat": "vfs_mknod", "mknod+": "vfs_create",
    "mknodat+": "vfs_create",
    "rename": "vfs_rename", "renameat": "vfs_rename", "renameat2": "vfs_rename",
    "link": "vfs_link", "linkat": "vfs_link", "symlink": "vfs_symlink",
    "symlinkat": "vfs_symlink", "readlink": "vfs_readlink", "readlinkat": "vfs_readlink",
    "truncate": "vfs_truncate", "fallocate": "vfs_fallocate",
    "getxattr": "vfs_getxattr", "lgetxattr": "vfs_getxattr", "fgetxattr": "vfs_getxattr",
    "setxattr": "vfs_setxattr", "lsetxattr": "vfs_setxattr", "fsetxattr": "vfs_setxattr",
    "listxattr": "vfs_listxattr", "llistxattr": "vfs_listxattr",
    "flistxattr": "vfs_listxattr", "removexattr": "vfs_removexattr",
    "lremovexattr": "vfs_removexattr", "fremovexattr": "vfs_removexattr",
    "statfs": "vfs_statfs", "fstatfs": "vfs_statfs",
    "lseek": "vfs_llseek", "fadvise64": "vfs_fadvise",
    "copy_file_range": "vfs_copy_file_range", "utimensat": "vfs_utimes",
    "utime": "vfs_utimes", "utimes": "vfs_utimes", "futimesat": "vfs_utimes",
}
VARIANT = 512       # vfscount.bpf.c


def _mapping_help():
    by_func = {}
    for sc, func in VFS_OF_SYSCALL.items():
        sc = {"unlinkat+": "unlinkat(AT_REMOVEDIR)", "mknod+": "mknod(S_IFREG)",
              "mknodat+": "mknodat(S_IFREG)"}.get(sc, sc)
        by_func.setdefault(func, []).append(sc)
    return "\n".join(f"  {f:<20} {', '.join(scs)}" for f, scs in sorted(by_func.items()))


EXAMPLES = f"""examples:
    ./vfscount           # count VFS calls until Ctrl-C
    ./vfscount 10        # count VFS calls for 10 seconds
    ./vfscount --json 5  # NDJSON, one object with the counts (pybcc)

Source: kprobes on every vfs_* function, as bcc, where the kernel has
kprobes (one kprobe_multi link where it can). Else the syscalls
(raw_syscalls:sys_enter), each counted as the vfs_* function it reaches
(PYBCC_DEBUG=1 says which source):
{_mapping_help()}
Differs from bcc without kprobes: a syscall is counted on entry, also when
it fails before reaching the function; functions the kernel calls on its
own behalf (vfs_getattr inside stat, vfs_read inside exec or splice,
overlayfs, nfsd) and vfs_* functions no syscall maps to are not counted.
"""


def parse_args(argv):
    p = tool_parser("vfscount", "Count VFS calls", EXAMPLES)
    p.add_argument("time", nargs="?", type=positive_int, default=FOREVER,
                   help="seconds to trace (default: until Ctrl-C)")
    add_json(p)
    return p.parse_args(argv)


COLUMNS = [
    Column("ADDR", "%-16x ", lambda r: r[0], json=lambda r: "%x" % r[0]),
    Column("FUNC", "%-26s ", lambda r: r[1]),
    Column("COUNT", "%8d", lambda r: r[2]),
]


def rows_of(counts):
    """(address, function, count) rows, fewest first, of {function: count}."""
    addresses = kernel_symbols().addresses(f for f, n in counts.items() if n)
    rows = [(addresses.get(f, 0), f, n) for f, n in counts.items() if n]
    return sorted(rows, key=lambda r: r[2])


def syscall_counts(tool):
    """{vfs function: count} from the per-syscall counters."""
    counts = tool.maps["counts"]
    out = {}
    for sc, func in VFS_OF_SYSCALL.items():
        nr = syscall_number(sc.rstrip("+"))
        if nr is None:
            continue
        n = sum(counts[nr + VARIANT if sc.endswith("+") else nr])
        out[func] = out.get(func, 0) + n
    return out


def open_syscalls():
    constants = {f"nr_{sc}": syscall_number(sc) for sc in ("unlinkat", "mknod", "mknodat")
                 if syscall_number(sc) is not None}
    tool = Tool("vfscount", constants)
    tool.attach("sys_enter")
    return tool, lambda: syscall_counts(tool)


def open_kprobes():
    """funccount's kprobes on vfs_*, where the kernel has kprobes."""
    from .lib.funcprobes import Probes
    probes = Probes("vfs_*", False, None)
    tool = Tool("funccount")
    try:
        probes.attach(tool, "count_probe", "count_tracepoint", "count_kprobe_multi")
    except BaseException:
        tool.close()
        raise
    if os.environ.get("PYBCC_DEBUG"):
        print(f"pybcc: attached kprobes on {len(probes.names)} vfs_* functions", file=sys.stderr)
    counts = tool.maps["counts"]
    return tool, lambda: {name: sum(counts[i]) for i, name in enumerate(probes.names)}


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    table = Table(COLUMNS, json=args.json)
    # funccount's probes tell the vfs_* functions apart by BPF cookie (5.15+)
    kprobes = features.has_kprobes() and features.has_bpf_cookie()
    tool, counts = open_kprobes() if kprobes else open_syscalls()

    def report(json):
        rows = rows_of(counts())
        if json:
            return {"rows": [table.as_dict(r) for r in rows]}
        return "".join(line + "\n" for line in [table.header_text(), *map(table.text, rows)])

    with tool:
        status("Tracing... Ctrl-C to end.", args.json)
        report_loop(report, FOREVER, 1, args.time if args.time < FOREVER else None, args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
