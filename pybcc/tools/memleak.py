"""memleak: outstanding allocations by stack, in user processes or the kernel
(bcc's flags and report layout)."""
import argparse
import os
import shlex
import signal
import sys
import time

from ..kernel import tracefs
from ..output.table import write_json
from .. import symbols     # (its modules imported on first use)
from .lib import stackfile
from .lib.args import add_duration, non_negative_int, pid, positive_int, tool_parser
from .lib.procutil import comm_of
from .lib.report import report_loop
from .lib.runtime import Tool, fail, run_tool, status, stream_events, tracing_may_allocate

EXAMPLES = """
EXAMPLES:

./memleak -p $(pidof allocs)
        Trace allocations and display a summary of "leaked" (outstanding)
        allocations every 5 seconds
./memleak -p $(pidof allocs) -t
        Trace allocations and display each individual allocator function call
./memleak -ap $(pidof allocs) 10
        Trace allocations and display allocated addresses, sizes, and stacks
        every 10 seconds for outstanding allocations
./memleak -c "./allocs"
        Run the specified command and trace its allocations
./memleak
        Trace allocations in kernel mode and display a summary of outstanding
        allocations every 5 seconds
./memleak -o 60000
        Trace allocations in kernel mode and display a summary of outstanding
        allocations that are at least one minute (60 seconds) old
./memleak -s 5
        Trace roughly every 5th allocation, to reduce overhead
./memleak -p $(pidof allocs) --output leaks.svg
        Also draw all outstanding bytes by stack as a flame graph, rewritten
        every interval (--format svg|speedscope|folded on stdout: at the end)

-t prints bcc's lines, (task, pid, cpu, flags, timestamp, message), made
from events rather than trace_pipe: flags read '...11' (a uprobe's on 6.x)
and the timestamp is CLOCK_MONOTONIC. Kernel mode on Linux 6.1+ leaves out
the kmallocs of the BPF memory allocator's refills (alloc_bulk), which
memleak's own map, made entry by entry there, would otherwise feed on; bcc
preallocates that map and sees only other BPF programs' refills.
"""

DESCRIPTION = """
Trace outstanding memory allocations that weren't freed.
Supports both user-mode allocations made with libc functions and kernel-mode
allocations made with kmalloc/kmem_cache_alloc/get_free_pages and corresponding
memory release functions.
"""

# (symbol, its entry program, its return program, may be missing from the
# library); programs serve every function that passes the size and returns
# the address alike (see memleak.bpf.c)
USER_ALLOCATORS = [("malloc", "size_arg1_enter", "alloc_return", False),
                   ("calloc", "calloc_enter", "alloc_return", False),
                   ("realloc", "realloc_enter", "alloc_return", False),
                   ("mmap", "size_arg2_enter", "mmap_return", False),
                   ("posix_memalign", "posix_memalign_enter", "posix_memalign_return", False),
                   ("valloc", "size_arg1_enter", "alloc_return", True),
                   ("memalign", "size_arg2_enter", "alloc_return", False),
                   ("pvalloc", "size_arg1_enter", "alloc_return", True),
                   ("aligned_alloc", "size_arg2_enter", "alloc_return", True)]
USER_FREES = ["free", "munmap"]     # each with free_enter
# (program, tracepoint): a slab program serves two (see memleak.bpf.c)
KERNEL_TRACEPOINTS = [("kmalloc", "kmem/kmalloc"), ("kmalloc", "kmem/kmalloc_node"),
                      ("slab_free", "kmem/kfree"), ("kmem_cache_alloc", "kmem/kmem_cache_alloc"),
                      ("kmem_cache_alloc", "kmem/kmem_cache_alloc_node"),
                      ("slab_free", "kmem/kmem_cache_free"), ("mm_page_alloc", "kmem/mm_page_alloc"),
                      ("mm_page_free", "kmem/mm_page_free")]
SORT_KEYS = ("size", "count")
PERCPU_TRACEPOINTS = [("percpu_alloc_percpu", "percpu/percpu_alloc_percpu"),
                      ("percpu_free_percpu", "percpu/percpu_free_percpu")]
# Maps only one mode uses (the uprobes: a size or pointer between a call's
# entry and return; the tracepoints: the call sites of the BPF allocator's
# refills), made as small as the kernel takes in the other
USER_MODE_MAPS = ("sizes", "memptrs")
KERNEL_MODE_MAPS = ("refill_sites",)


JSON_HELP = ("print NDJSON: with -t one object per call (comm, pid, cpu, ts, event, size, "
             "address); "
             "else one object per interval: unit (bytes) and stacks, each with frames "
             "(innermost first, each {function, kernel, address}), value (bytes) and "
             "allocations, plus with -a the allocations (address, size) (pybcc extension)")


def parse_args(argv):
    p = tool_parser("memleak", DESCRIPTION, EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, default=-1,
                   help="the PID to trace; if not specified, trace kernel allocs")
    p.add_argument("-t", "--trace", action="store_true",
                   help="print trace messages for each alloc/free call")
    p.add_argument("interval", nargs="?", default=5, type=positive_int,
                   help="interval in seconds to print outstanding allocations")
    p.add_argument("count", nargs="?", type=positive_int,
                   help="number of times to print the report before exiting")
    p.add_argument("-a", "--show-allocs", action="store_true",
                   help="show allocation addresses and sizes as well as call stacks")
    p.add_argument("-o", "--older", default=500, type=non_negative_int,
                   help="prune allocations younger than this age in milliseconds")
    p.add_argument("-c", "--command", help="execute and trace the specified command")
    p.add_argument("--combined-only", action="store_true",
                   help="show combined allocation statistics only")
    p.add_argument("--wa-missing-free", action="store_true",
                   help="Workaround to alleviate misjudgments when free is missing")
    p.add_argument("-s", "--sample-rate", default=1, type=positive_int,
                   help="sample every N-th allocation to decrease the overhead")
    p.add_argument("-T", "--top", type=non_negative_int, default=10,
                   help="display only this many top allocating stacks (by size)")
    p.add_argument("-z", "--min-size", type=non_negative_int,
                   help="capture only allocations larger than this size")
    p.add_argument("-Z", "--max-size", type=non_negative_int,
                   help="capture only allocations smaller than this size")
    p.add_argument("-O", "--obj", type=str, default="c",
                   help="attach to allocator functions in the specified object")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--percpu", action="store_true", help="trace percpu allocations")
    p.add_argument("--sort", choices=SORT_KEYS, default="size",
                   help="report sorted in given key; available key list: size, count")
    p.add_argument("--symbols-prefix", default="", help="memory allocator symbols prefix")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    add_duration(p, "stop after this many seconds (pybcc extension)")
    stackfile.add_arguments(p, short_output=False)
    args = p.parse_args(argv)
    if args.min_size is not None and args.max_size is not None and args.min_size > args.max_size:
        p.error("min_size (-z) can't be greater than max_size (-Z)")
    if args.pid != -1 and args.command:
        p.error("give either -p PID or -c COMMAND, not both")
    if args.percpu and (args.pid != -1 or args.command):
        p.error("--percpu traces the kernel's percpu allocator; drop -p/-c")
    if "/" in args.obj and not os.path.exists(args.obj):
        p.error(f"-O: no such file: {args.obj}")
    if args.command is not None:
        import shutil   # (it imports bz2 and lzma: only for -c)
        argv = shlex.split(args.command)
        if not argv or shutil.which(argv[0]) is None:
            p.error(f"-c: no such command: {argv[0] if argv else repr(args.command)}")
    return args


def start_command(command):
    """Start ``command`` held before exec, so its probes are in place before
    its first allocation; returns (pid, release function)."""
    argv = shlex.split(command)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.close(w)
            os.read(r, 1)
            os.close(r)
            os.execvp(argv[0], argv)
        except BaseException as e:
            print(f"memleak: can't run {argv[0]}: {e}", file=sys.stderr)
        os._exit(127)
    os.close(r)

    def release():
        os.write(w, b"x")
        os.close(w)
    return pid, release


def attach_user(tool, obj, pid, prefix=""):
    """uprobes on the allocators of ``obj`` (their names with ``prefix``:
    bcc's --symbols-prefix, e.g. je_ for jemalloc's)."""
    path = symbols.find_library(obj, pid) or symbols.resolve_module(obj, pid)
    if path is None or not os.path.exists(path):
        fail(f"memleak: can't find the object {obj!r} (-O) to probe", 2)
    for name, enter, ret, optional in USER_ALLOCATORS:
        try:
            tool.attach(enter, f"{path}:{prefix}{name}", pid=pid)
            tool.attach(ret, f"{path}:{prefix}{name}", pid=pid)
        except Exception:
            if not optional:
                raise
    for name in USER_FREES:
        tool.attach("free_enter", f"{path}:{prefix}{name}", pid=pid)


def attach_kernel(tool, percpu):
    for prog, tracepoint in PERCPU_TRACEPOINTS if percpu else KERNEL_TRACEPOINTS:
        if tracefs.tracepoint_exists(*tracepoint.split("/")):   # *_node ones are gone since 6.1
            tool.attach(prog, tracepoint)


def stack_of(printer, stack_id, value, allocations, kernel, comm, pid):
    """A Stack of allocations: the stack is the kernel's in kernel mode."""
    user_id, kernel_id = (-1, stack_id) if kernel else (stack_id, -1)
    return printer.stack(comm, pid, user_id, kernel_id, value,
                         fields={"allocations": allocations})


def outstanding(tool, args, stack):
    """bcc's default report: the live allocations older than -o, and their
    stacks by size (the top ones, smallest first)."""
    now = time.monotonic_ns()
    min_age_ns = args.older * 1000000
    allocs, by_stack = [], {}    # stack id -> [size, count]
    for address, info in sorted(tool.maps["allocs"].items(), key=lambda a: a[1].size):
        if now - min_age_ns < info.timestamp_ns or info.stack_id < 0:
            continue
        entry = by_stack.setdefault(info.stack_id, [0, 0])
        entry[0] += info.size
        entry[1] += 1
        allocs.append((address, info.size))
    by = 0 if args.sort == "size" else 1
    shown = sorted(by_stack.items(), key=lambda kv: kv[1][by])[-args.top:] if args.top > 0 else []
    return allocs, [stack(sid, size, count) for sid, (size, count) in shown]


def combined(tool, args, stack):
    """--combined-only: per-stack totals (the top ones, smallest first). As
    bcc's, a stack whose allocations were all freed stays, at 0 bytes."""
    by = "total_size" if args.sort == "size" else "number_of_allocs"
    stacks = sorted(tool.maps["combined_allocs"].items(), key=lambda kv: -getattr(kv[1], by))
    out = []
    for stack_id, info in stacks:
        if len(out) >= args.top:
            break
        if stack_id >= 1 << 63:             # the key is a u64: a failed (negative) id
            stack_id -= 1 << 64
        out.append(stack(stack_id, info.total_size, info.number_of_allocs))
    return [], list(reversed(out))


def report_text(args, allocs, stacks):
    out = ["[%s] Top %d stacks with outstanding allocations:\n" %
           (time.strftime("%H:%M:%S"), args.top)]
    out += ["\taddr = %x size = %s\n" % a for a in allocs if args.show_allocs]
    for s in stacks:
        if args.combined_only:
            trace = [f.name for f in s.frames()] or ["stack information lost"]
        else:
            trace = ["0x%016x\t%s" % (f.address, f.name) for f in s.frames()]
        out.append("\t%d bytes in %d allocations from stack\n\t\t%s\n" %
                   (s.value, s.fields["allocations"], "\n\t\t".join(trace)))
    return "".join(out)


def report_json(printer, args, allocs, stacks):
    out = {"unit": "bytes", "stacks": [printer.as_dict(s, "bytes") for s in stacks]}
    if args.show_allocs:
        out["allocs"] = [{"address": a, "size": size} for a, size in allocs]
    return out


def outstanding_stacks(tool, args, pid, root, kernel):
    """{folded stack: outstanding bytes} for every stack (not only the top
    ones): what --format and --output draw."""
    sizes = {}      # stack id -> bytes
    if args.combined_only:
        for stack_id, info in tool.maps["combined_allocs"].items():
            if info.number_of_allocs and stack_id < (1 << 63):
                sizes[stack_id] = sizes.get(stack_id, 0) + info.total_size
    else:
        oldest = time.monotonic_ns() - args.older * 1000000
        for _, info in tool.maps["allocs"].items():
            if info.timestamp_ns <= oldest and info.stack_id >= 0:
                sizes[info.stack_id] = sizes.get(info.stack_id, 0) + info.size
    suffix = "_[k]" if kernel else ""
    stacks = {}
    sym = symbols.sym
    for stack_id, size in sizes.items():
        names = [sym(a, pid) + suffix for a in tool.maps["stack_traces"].walk(stack_id)]
        line = ";".join([root] + names[::-1])
        stacks[line] = stacks.get(line, 0) + size
    return stacks


# bcc's bpf_trace_printk messages (its "%u" prints the size's low 32 bits)
TRACE_TEXT = {1: "alloc entered, size = {size32}",
              2: "alloc exited, size = {size}, result = {address:x}",
              3: "free entered, address = {address:x}, size = {size}"}
TRACE_EVENTS = {1: "alloc_enter", 2: "alloc_exit", 3: "free_enter"}
# trace_pipe's flags column as it reads in a uprobe on Linux 6.x (preempt and
# migrate-disable depth 1); pybcc sends events, not printk lines, so it is fixed
TRACE_FLAGS = b"...11"


def trace_calls(tool, json, duration=None):
    """-t: one line (or JSON object) per allocator call; the text is bcc's
    print of BPF.trace_fields(): (task, pid, cpu, flags, timestamp, message)."""
    record = tool.record("memleak_trace")

    def on_event(data):
        e = record.decode(data)
        msg = TRACE_TEXT[e.kind].format(size=e.size, size32=e.size & 0xFFFFFFFF,
                                        address=e.address)
        if json:
            write_json({"comm": e.comm.decode(errors="replace"), "pid": e.pid, "cpu": e.cpu,
                        "ts": e.ts / 1e9, "event": TRACE_EVENTS[e.kind],
                        "size": e.size, "address": e.address})
        else:
            fields = (e.comm, e.pid, e.cpu, TRACE_FLAGS, round(e.ts / 1e9, 6), msg.encode())
            sys.stdout.write("%r\n" % (fields,))
    tool.open_events(on_event)
    stream_events(tool, duration)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    picture = None
    if stackfile.requested(args):
        if args.trace:
            fail("memleak: -t prints each call; --format and --output draw outstanding stacks", 2)
        picture = stackfile.StackFile(args, "memleak", argv, unit="bytes", total_label="%s outstanding",
                                      title="Memory Leak Flame Graph")
    quiet = stackfile.quiet(args)       # stdout carries only the picture
    if args.ebpf:
        with open(os.path.join(os.path.dirname(__file__), "memleak.bpf.c")) as f:
            print(f.read())
        return 0

    pid = args.pid
    kernel_trace = pid == -1 and args.command is None
    # allocs is made entry by entry where the kernel allows (Tool's
    # no_prealloc): then the BPF allocator's refills of it are left out
    constants = {"trace_all": args.trace, "user_stacks": not kernel_trace,
                 "sample_rate": args.sample_rate, "wa_missing_free": args.wa_missing_free,
                 "page_size": os.sysconf("SC_PAGE_SIZE"),
                 "skip_bpf_refills": kernel_trace and tracing_may_allocate()}
    if args.min_size is not None:
        constants["min_size"] = args.min_size
    if args.max_size is not None:
        constants["max_size"] = args.max_size

    child = release = None
    if args.command is not None:
        status("Executing '%s' and tracing the resulting process." % args.command, args.json)
        child, release = start_command(args.command)
        pid = child
    try:
        # events only for -t: without it the events buffer is never written.
        # (combined_allocs stays preallocated: made entry by entry, its
        # refills' own kmallocs were traced into new entries, in a loop)
        unused = USER_MODE_MAPS if kernel_trace else KERNEL_MODE_MAPS
        with Tool("memleak", constants, events=args.trace, map_sizes=dict.fromkeys(unused, 1),
                  no_prealloc=["allocs"]) as tool:
            if kernel_trace:
                attach_kernel(tool, args.percpu)
                if not quiet:
                    status("Attaching to kernel allocators, Ctrl+C to quit.", args.json)
            else:
                attach_user(tool, args.obj, pid, args.symbols_prefix)
                if not quiet:
                    status("Attaching to pid %d, Ctrl+C to quit." % pid, args.json)
            if release is not None:
                release()
                release = None
            if args.trace:
                trace_calls(tool, args.json, args.duration)
                return 0
            printers = []   # made at the first report: a run stopped before never needs it
            sym_pid = -1 if kernel_trace else pid
            collect = combined if args.combined_only else outstanding
            comm = [""]     # the process's name, read when reporting (-c: after its exec)

            def printer():
                if not printers:
                    from .lib.stacks import StackPrinter
                    # frames with their module and offset, as bcc's memleak shows them
                    printers.append(StackPrinter(tool.maps["stack_traces"], user=not kernel_trace,
                                                 kernel=kernel_trace, offsets=True, modules=True))
                return printers[0]

            def stack(stack_id, size, count):
                return stack_of(printer(), stack_id, size, count, kernel_trace, comm[0], sym_pid)

            def report(json):
                if not kernel_trace:
                    symbols.symbol_cache(pid).refresh()     # keep the maps of a process that may exit
                    comm[0] = comm_of(pid) or comm[0]
                if picture and picture.output:      # the file follows each interval
                    picture.write(outstanding_stacks(tool, args, sym_pid, root(), kernel_trace))
                if quiet:
                    return ""
                allocs, stacks = collect(tool, args, stack)
                return report_json(printer(), args, allocs, stacks) if json else \
                    report_text(args, allocs, stacks)

            def root():
                return "kernel" if kernel_trace else (comm_of(pid) or "pid %d" % pid)
            if picture:
                picture.start_clock()
            report_loop(report, args.interval, args.count, args.duration, json=args.json,
                        blank_line=False, report_at_interrupt=False)
            if picture:
                picture.stop_clock()
                picture.write(outstanding_stacks(tool, args, sym_pid, root(), kernel_trace))
    finally:
        if release is not None:     # attaching failed: let the command go on untraced
            release()
        if child is not None:
            try:
                os.waitpid(child, os.WNOHANG)   # reap it if it is done
            except ChildProcessError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
