"""funclatency: time kernel or user functions and show their latency as a histogram (bcc's flags and output)."""
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..kernel import features

from ..output.histogram import collect_sections, extension_text, sections_json, \
    sections_text, take_extension
from .lib.args import add_ebpf, add_json, positive_int, tool_parser
from .lib.funcprobes import (add_summary_args, add_unit_args, print_source, resolve, summarize,
                             time_unit)
from .lib.runtime import Tool, run_tool

EXAMPLES = """examples:
    ./funclatency do_sys_open       # time the do_sys_open() kernel function
    ./funclatency c:read            # time the read() C library function
    ./funclatency -u vfs_read       # time vfs_read(), in microseconds
    ./funclatency -m do_nanosleep   # time do_nanosleep(), in milliseconds
    ./funclatency -i 2 -d 10 c:open # output every 2 seconds, for duration 10s
    ./funclatency -mTi 5 vfs_read   # output every 5 seconds, with timestamps
    ./funclatency -p 181 vfs_read   # time process 181 only
    ./funclatency 'vfs_fstat*'      # time both vfs_fstat() and vfs_fstatat()
    ./funclatency 'c:*printf'       # time the *printf family of functions
    ./funclatency -F 'vfs_r*'       # show one histogram per matched function
    ./funclatency --json -m c:usleep  # NDJSON, one object per interval (pybcc)

One kernel function is timed with fentry/fexit where the kernel has them,
several with kprobes (kprobe_multi at once); user functions (LIB:FUNC) use
uprobes and work on every kernel.
"""

MAX_LEVEL = 32          # funclatency.bpf.c's per-thread stack


def parse_args(argv):
    p = tool_parser("funclatency", "Time functions and print latency as a histogram", EXAMPLES)
    add_summary_args(p)
    add_unit_args(p)
    p.add_argument("-F", "--function", action="store_true",
                   help="show a separate histogram per function")
    p.add_argument("-r", "--regexp", action="store_true",
                   help="use regular expressions. Default is \"*\" wildcards only.")
    p.add_argument("-l", "--level", type=positive_int,
                   help=f"set the level of nested or recursive functions (at most {MAX_LEVEL})")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the BPF program (for debugging purposes)")
    add_json(p)
    add_ebpf(p, "funclatency")
    p.add_argument("pattern", help="search expression for functions")
    args = p.parse_args(argv)
    if args.level and args.level > MAX_LEVEL:
        p.error(f"argument -l/--level: at most {MAX_LEVEL}, not {args.level}")
    return args


def fentry_possible(probes):
    return not probes.library and len(probes.names) == 1 and features.has_fentry()


def attach_fentry(tool, probes):
    """fentry/fexit on the one kernel function the pattern names, where the
    kernel has them (cheaper than kprobes); False: use probes instead."""
    if not fentry_possible(probes):
        return False
    func = probes.names[0]
    try:
        for prog in ("entry_fentry", "return_fexit"):
            sdef = tool.coll.spec.programs[prog].sdef
            tool.coll.load_program(prog, sdef=sdef, target=func)
            tool.attach(prog, func)
    except (AttachError, LoadError, NotSupportedError):
        for link in tool.links:
            link.close()
        tool.links = []
        return False
    return True


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    probes = resolve(args.pattern, args.regexp, args.pid, kinds="p")
    if not fentry_possible(probes):
        probes.require_kprobes()
    label, div = time_unit(args)
    # bcc: a histogram per function with -F, and per process for user functions
    need_key = args.function or (probes.library and not args.pid)
    key_pid = bool(need_key and probes.library)
    constants = {"unit_div": div, "max_level": args.level or 0,
                 "key_func": bool(need_key), "key_pid": key_pid}
    if args.pid:
        constants["targ_tgid"] = args.pid
    if args.verbose:
        print_source("funclatency")

    def section(key):
        return (key.idx, key.pid) if need_key else None

    def shown(sec):
        name = probes.names[sec[0]]
        return f"{name} [{sec[1]}]" if key_pid else name

    def report(json):
        hists = collect_sections(tool.maps["hists"], section)
        total, count = take_extension(tool.maps["extension"])
        header = "Function" if need_key else None
        if json:
            out = sections_json(hists, label, header and "function", shown)
            out.update(total=total // div, count=count)
            return out
        return sections_text(hists, label, header, shown) + \
            extension_text(total // div, count, label)

    with Tool("funclatency", constants) as tool:
        failed = []
        if not attach_fentry(tool, probes):
            failed = probes.attach(tool, "entry_probe", multi_prog="entry_multi")
            failed += probes.attach(tool, "return_probe", multi_prog="return_multi",
                                    retprobe=True)
        summarize(probes, failed, args, report)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
