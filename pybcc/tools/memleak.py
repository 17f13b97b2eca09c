"""memleak: outstanding allocations by stack, in user processes or the kernel
(bcc's flags and report layout)."""
import argparse
import ctypes
import os
import resource
import shlex
import signal
import sys
import time
from datetime import datetime

from ..errors import NotSupportedError
from ..kernel import tracefs
from ..symbols import find_library, resolve_module, sym, symbol_cache
from .lib.runtime import Tool, fail, run_tool, stream_events
from .lib import stackfile

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
"""

DESCRIPTION = """
Trace outstanding memory allocations that weren't freed.
Supports both user-mode allocations made with libc functions and kernel-mode
allocations made with kmalloc/kmem_cache_alloc/get_free_pages and corresponding
memory release functions.
"""

# (symbol, may be missing from the library): each gets an entry and a return probe
USER_ALLOCATORS = [("malloc", False), ("calloc", False), ("realloc", False), ("mmap", False),
                   ("posix_memalign", False), ("valloc", True), ("memalign", False),
                   ("pvalloc", True), ("aligned_alloc", True)]
USER_FREES = ["free", "munmap"]
KERNEL_TRACEPOINTS = [("kmem", "kmalloc"), ("kmem", "kmalloc_node"), ("kmem", "kfree"),
                      ("kmem", "kmem_cache_alloc"), ("kmem", "kmem_cache_alloc_node"),
                      ("kmem", "kmem_cache_free"), ("kmem", "mm_page_alloc"),
                      ("kmem", "mm_page_free")]
PERCPU_TRACEPOINTS = [("percpu", "percpu_alloc_percpu"), ("percpu", "percpu_free_percpu")]


def parse_args(argv):
    p = argparse.ArgumentParser(description=DESCRIPTION, epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-p", "--pid", type=int, default=-1,
                   help="the PID to trace; if not specified, trace kernel allocs")
    p.add_argument("-t", "--trace", action="store_true",
                   help="print trace messages for each alloc/free call")
    p.add_argument("interval", nargs="?", default=5, type=int,
                   help="interval in seconds to print outstanding allocations")
    p.add_argument("count", nargs="?", type=int,
                   help="number of times to print the report before exiting")
    p.add_argument("-a", "--show-allocs", action="store_true",
                   help="show allocation addresses and sizes as well as call stacks")
    p.add_argument("-o", "--older", default=500, type=int,
                   help="prune allocations younger than this age in milliseconds")
    p.add_argument("-c", "--command", help="execute and trace the specified command")
    p.add_argument("--combined-only", action="store_true",
                   help="show combined allocation statistics only")
    p.add_argument("--wa-missing-free", action="store_true",
                   help="Workaround to alleviate misjudgments when free is missing")
    p.add_argument("-s", "--sample-rate", default=1, type=int,
                   help="sample every N-th allocation to decrease the overhead")
    p.add_argument("-T", "--top", type=int, default=10,
                   help="display only this many top allocating stacks (by size)")
    p.add_argument("-z", "--min-size", type=int,
                   help="capture only allocations larger than this size")
    p.add_argument("-Z", "--max-size", type=int,
                   help="capture only allocations smaller than this size")
    p.add_argument("-O", "--obj", type=str, default="c",
                   help="attach to allocator functions in the specified object")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--percpu", action="store_true", help="trace percpu allocations")
    stackfile.add_arguments(p, short_output=False)
    return p.parse_args(argv)


class TraceEvent(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_uint32), ("pid", ctypes.c_uint32), ("size", ctypes.c_uint64),
                ("address", ctypes.c_uint64), ("comm", ctypes.c_char * 16)]


def process_name(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip() or str(pid)
    except OSError:
        return "pid %d" % pid


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


def attach_user(tool, obj, pid):
    path = find_library(obj, pid) or resolve_module(obj, pid)
    if path is None:
        raise NotSupportedError(f"memleak: can't find the object {obj!r} (-O) to probe")
    for name, optional in USER_ALLOCATORS:
        try:
            tool.attach(name + "_enter", f"{path}:{name}", pid=pid)
            tool.attach(name + "_exit", f"{path}:{name}", pid=pid)
        except Exception:
            if not optional:
                raise
    for name in USER_FREES:
        tool.attach(name + "_enter", f"{path}:{name}", pid=pid)


def attach_kernel(tool, percpu):
    for cat, name in PERCPU_TRACEPOINTS if percpu else KERNEL_TRACEPOINTS:
        if tracefs.tracepoint_exists(cat, name):   # *_node ones are gone since 6.1
            tool.attach(name)


def frames(tool, stack_id, pid, with_address):
    out = []
    for addr in tool.maps["stack_traces"].walk(stack_id):
        text = sym(addr, pid, show_module=True, show_offset=True)
        out.append("0x%016x\t%s" % (addr, text) if with_address else text)
    return out


def print_outstanding(tool, args, pid):
    print("[%s] Top %d stacks with outstanding allocations:" %
          (datetime.now().strftime("%H:%M:%S"), args.top))
    now = time.monotonic_ns()
    min_age_ns = args.older * 1000000
    by_stack = {}    # stack id -> [size, count]
    for address, info in sorted(tool.maps["allocs"].items(), key=lambda a: a[1].size):
        if now - min_age_ns < info.timestamp_ns or info.stack_id < 0:
            continue
        entry = by_stack.setdefault(info.stack_id, [0, 0])
        entry[0] += info.size
        entry[1] += 1
        if args.show_allocs:
            print("\taddr = %x size = %s" % (address, info.size))
    shown = sorted(by_stack.items(), key=lambda kv: kv[1][0])[-args.top:] if args.top > 0 else []
    for stack_id, (size, count) in shown:
        print("\t%d bytes in %d allocations from stack\n\t\t%s" %
              (size, count, "\n\t\t".join(frames(tool, stack_id, pid, True))))


def print_outstanding_combined(tool, args, pid):
    stacks = sorted(tool.maps["combined_allocs"].items(), key=lambda kv: -kv[1].total_size)
    entries = []
    for stack_id, info in stacks:
        if len(entries) >= args.top:
            break
        if info.number_of_allocs == 0:      # everything from this stack was freed
            continue
        trace = frames(tool, stack_id, pid, False) if stack_id < (1 << 63) else []
        text = "\n\t\t".join(trace) if trace else "stack information lost"
        entries.append("\t%d bytes in %d allocations from stack\n\t\t%s" %
                       (info.total_size, info.number_of_allocs, text))
    print("[%s] Top %d stacks with outstanding allocations:" %
          (datetime.now().strftime("%H:%M:%S"), args.top))
    if entries:
        print("\n".join(reversed(entries)))


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
    for stack_id, size in sizes.items():
        names = [sym(a, pid) + suffix for a in tool.maps["stack_traces"].walk(stack_id)]
        line = ";".join([root] + names[::-1])
        stacks[line] = stacks.get(line, 0) + size
    return stacks


TRACE_TEXT = {1: "alloc entered, size = {size}",
              2: "alloc exited, size = {size}, result = {address:x}",
              3: "free entered, address = {address:x}, size = {size}"}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    picture = None
    if stackfile.requested(args):
        if args.trace:
            fail("memleak: -t prints each call; --format and --output draw outstanding stacks")
        picture = stackfile.StackFile(args, "memleak", argv, unit="bytes", total_label="%s outstanding",
                                      title="Memory Leak Flame Graph")
    quiet = stackfile.quiet(args)
    if args.min_size is not None and args.max_size is not None and args.min_size > args.max_size:
        fail("min_size (-z) can't be greater than max_size (-Z)")
    if args.sample_rate < 1:
        fail("memleak: the sample rate (-s) must be at least 1")
    if args.interval < 1:
        fail("memleak: the interval must be at least 1 second")
    if args.pid != -1 and args.command:
        fail("memleak: give either -p PID or -c COMMAND, not both")
    if args.ebpf:
        with open(os.path.join(os.path.dirname(__file__), "memleak.bpf.c")) as f:
            print(f.read())
        return 0

    pid = args.pid
    kernel_trace = pid == -1 and args.command is None
    if args.percpu and not kernel_trace:
        fail("memleak: --percpu traces the kernel's percpu allocator; drop -p/-c")
    constants = {"trace_all": args.trace, "user_stacks": not kernel_trace,
                 "sample_rate": args.sample_rate, "wa_missing_free": args.wa_missing_free,
                 "page_size": resource.getpagesize()}
    if args.min_size is not None:
        constants["min_size"] = args.min_size
    if args.max_size is not None:
        constants["max_size"] = args.max_size

    child = release = None
    if args.command is not None:
        print("Executing '%s' and tracing the resulting process." % args.command, flush=True)
        child, release = start_command(args.command)
        pid = child
    try:
        with Tool("memleak", constants, events=True) as tool:
            if kernel_trace:
                attach_kernel(tool, args.percpu)
                if not quiet:
                    print("Attaching to kernel allocators, Ctrl+C to quit.")
            else:
                attach_user(tool, args.obj, pid)
                if not quiet:
                    print("Attaching to pid %d, Ctrl+C to quit." % pid)
            sys.stdout.flush()
            if release is not None:
                release()
                release = None
            report_pid = pid if not kernel_trace else -1
            if args.trace:
                def on_event(data):
                    e = TraceEvent.from_buffer_copy(bytes(data[:ctypes.sizeof(TraceEvent)]))
                    msg = TRACE_TEXT[e.kind].format(size=e.size, address=e.address)
                    print("%-16s %-7d %s" % (e.comm.decode(errors="replace"), e.pid, msg),
                          flush=True)
                tool.open_events(on_event)
                stream_events(tool)
                return 0
            report = print_outstanding_combined if args.combined_only else print_outstanding
            root = "kernel" if kernel_trace else process_name(pid)
            printed = 0
            if picture:
                picture.start_clock()
            while args.count is None or printed < args.count:
                try:
                    time.sleep(args.interval)
                except KeyboardInterrupt:
                    break               # as bcc: Ctrl-C ends without another report
                if not kernel_trace:
                    symbol_cache(pid).refresh()     # keep the maps of a process that may exit
                if not quiet:
                    report(tool, args, report_pid)
                if picture and picture.output:  # the file follows each interval
                    picture.write(outstanding_stacks(tool, args, report_pid, root, kernel_trace))
                sys.stdout.flush()
                printed += 1
            if picture:
                picture.stop_clock()
                picture.write(outstanding_stacks(tool, args, report_pid, root, kernel_trace))
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
