"""deadlock: detect potential deadlocks (lock order inversions) in a running process (bcc's flags and output)."""
import os
import sys
import time

from ..output.table import write_json
from ..symbols import elfsyms, read_maps, resolve_module, sym
from ..symbols.elf import STT_OBJECT, ElfFile
from .lib.args import add_duration_and_json, pid, positive_int, tool_parser
from .lib.lockgraph import LockGraph
from .lib.outfile import check_writable
from .lib.runtime import Tool, fail, run_tool, status

EXAMPLES = """Examples:
    deadlock 181                 # Analyze PID 181
    deadlock 181 --binary /lib/x86_64-linux-gnu/libpthread.so.0
                                 # Analyze PID 181 and locks from this binary.
                                 # (pybcc: without --binary, the program or the
                                 # library of the process that has the lock
                                 # symbols, e.g. libc.so.6)
    deadlock 181 --verbose
                                 # Analyze PID 181 and print statistics about
                                 # the mutex wait graph.
    deadlock 181 --lock-symbols my_mutex_lock1,my_mutex_lock2 \\
        --unlock-symbols my_mutex_unlock1,my_mutex_unlock2
                                 # Analyze PID 181 and trace custom mutex
                                 # symbols instead of pthread mutexes.
    deadlock 181 --dump-graph graph.json
                                 # Analyze PID 181 and dump the mutex wait
                                 # graph to graph.json.
    deadlock 181 --json          # the cycle as one JSON object (pybcc)

Thread creation is traced at the clone/clone3 syscalls' exit (bcc: a
kretprobe on clone).
"""


def strlist(s):
    return s.strip().split(",")


def parse_args(argv):
    p = tool_parser("deadlock", "Detect potential deadlocks (lock inversions) in a running "
                    "binary.\nMust be run as root.", EXAMPLES)
    p.add_argument("pid", type=pid, help="Pid to trace")
    p.add_argument("--binary", type=str, default="",
                   help="If set, trace the mutexes from the binary at this path. For "
                        "statically-linked binaries, this argument is not required. For "
                        "dynamically-linked binaries, this argument is required and should be "
                        "the path of the pthread library the binary is using. Example: "
                        "/lib/x86_64-linux-gnu/libpthread.so.0 (pybcc: found by itself)")
    p.add_argument("--dump-graph", type=str, default="",
                   help="If set, this will dump the mutex graph to the specified file.")
    p.add_argument("--verbose", action="store_true",
                   help="Print statistics about the mutex wait graph.")
    p.add_argument("--lock-symbols", type=strlist, default=["pthread_mutex_lock"],
                   help="Comma-separated list of lock symbols to trace. Default is "
                        "pthread_mutex_lock. These symbols cannot be inlined in the binary.")
    p.add_argument("--unlock-symbols", type=strlist, default=["pthread_mutex_unlock"],
                   help="Comma-separated list of unlock symbols to trace. Default is "
                        "pthread_mutex_unlock. These symbols cannot be inlined in the binary.")
    p.add_argument("-t", "--threads", type=positive_int, default=65536,
                   help="Specifies the maximum number of threads to trace. default 65536. "
                        "Note. 40 bytes per thread.")
    p.add_argument("-e", "--edges", type=positive_int, default=65536,
                   help="Specifies the maximum number of edge cases that can be recorded. "
                        "default 65536. Note. 88 bytes per edge case.")
    p.add_argument("-s", "--stacktraces", type=positive_int, default=65536,
                   help="Specifies the maximum number of stack traces that can be recorded. "
                        "This number is rounded up to the next power of two."
                        "default 65536. Note. 1 kbytes vmalloced per stack trace.")
    add_duration_and_json(p, "stop after this many seconds without finding a cycle (pybcc)")
    args = p.parse_args(argv)
    if args.dump_graph:
        check_writable(args.dump_graph, "deadlock")
    return args


def find_binary(args):
    """bcc's --binary, or the first of the program and its libc/libpthread
    that defines every lock and unlock symbol."""
    wanted = args.lock_symbols + args.unlock_symbols
    if args.binary:
        candidates = [args.binary]
    else:
        try:
            exe = os.readlink(f"/proc/{args.pid}/exe")
        except OSError as e:
            fail(f"{e}. Is the process (pid={args.pid}) running?")
        candidates = _program_and_libraries(exe, args.pid)
    first = None
    for path in candidates:
        first = first or path
        try:
            # each name's records only: the whole table of a large program
            # (python3: 0.3 s) is not needed to know it defines them
            missing = [s for s in wanted if elfsyms.find(path, s) is None]
        except (OSError, ValueError) as e:
            fail(f"deadlock: cannot read {path}: {e}", code=2)
        if not missing:
            return path
        if args.binary:
            fail(f"deadlock: {path} has no symbol {missing[0]}. Is --binary argument "
                 f"missing or wrong?", code=2)
    fail(f"deadlock: no symbol {wanted[0]} in {first} or its libc; give --binary", code=2)


def _program_and_libraries(exe, pid):
    """The program, then its libc and libpthread, each looked up only when
    the one before lacks the names."""
    yield exe
    for lib in ("c", "pthread"):
        path = resolve_module(lib, pid)
        if path:
            yield path


class DataSymbols:
    """Names of global and static variables (the mutexes) of one object
    mapped by the process, from its symbol table."""

    def __init__(self, pid, path):
        """Where ``path`` is mapped in ``pid`` is read now (the process may
        exit); its symbols only when a cycle is reported."""
        self.path = path
        self.objects = None
        real = os.path.realpath(path)
        try:
            inode = os.stat(real).st_ino
        except OSError:
            inode = None        # (another mount namespace: by path only)
        try:
            # the inode first: a realpath is a few system calls per line
            self.starts = [m.start - m.offset for m in read_maps(pid)
                           if (inode is None or m.inode == inode) and m.path
                           and os.path.realpath(m.path) == real]
        except (OSError, ProcessLookupError):
            self.starts = []
        self.bias = None

    def _load(self):
        self.objects = []
        if not self.starts:
            return
        try:
            with ElfFile.open(self.path) as elf:
                for tab in (".symtab", ".dynsym"):
                    for _, name, value, size, _, _, _ in elf.symbols(elf.section(tab),
                                                                     (STT_OBJECT,)):
                        self.objects.append((value, max(size, 1), name.decode(errors="replace")))
                first = min((s.vaddr - s.offset for s in elf.loads()), default=0)
        except (OSError, ValueError):
            return
        self.bias = min(self.starts) - first

    def name(self, addr):
        if self.objects is None:
            self._load()
        if self.bias is None:
            return ""
        vaddr = addr - self.bias
        for value, size, name in self.objects:
            if value <= vaddr < value + size:
                return name
        return ""


class Deadlock:
    def __init__(self, tool, args):
        self.tool, self.args = tool, args
        self.stacks = tool.maps["stack_traces"]

    def graph(self):
        g = LockGraph()
        for key, e in self.tool.maps["edges"].items():
            g.add_edge(key.mutex1, key.mutex2, thread_pid=e.thread_pid, thread_comm=e.comm,
                       first_mutex_stack_id=e.mutex1_stack_id,
                       second_mutex_stack_id=e.mutex2_stack_id)
        return g

    def stack(self, stack_id):
        if stack_id < 0:
            return []
        try:
            addrs = self.stacks.walk(stack_id)
        except (KeyError, OSError):
            return []
        # a frame-pointer walk through code built without them can loop on
        # one address: stop there
        addrs = [a for i, a in enumerate(addrs) if i == 0 or a != addrs[i - 1]]
        return [(a, sym(a, self.args.pid)) for a in addrs]

    def threads(self):
        return {k if isinstance(k, int) else k.value: v
                for k, v in self.tool.maps["thread_to_parent"].items()}

    def report(self, g, edges, names):
        """bcc's report of a cycle (text), or its JSON object."""
        info = self.threads()
        pids = []
        for m, n in edges:
            tid = g.attrs[(m, n)]["thread_pid"]
            if tid not in pids:
                pids.append(tid)
        if self.args.json:
            def frames(sid):
                return [{"address": a, "function": f} for a, f in self.stack(sid)]
            write_json({
                "cycle": [{"name": names[m][0], "address": m, "symbol": names[m][1]}
                          for m, _ in edges],
                "edges": [{"from": names[m][0], "to": names[n][0],
                           "thread": g.attrs[(m, n)]["thread_pid"],
                           "comm": g.attrs[(m, n)]["thread_comm"],
                           "acquired_stack": frames(g.attrs[(m, n)]["second_mutex_stack_id"]),
                           "held_stack": frames(g.attrs[(m, n)]["first_mutex_stack_id"])}
                          for m, n in edges],
                "threads": [{"thread": t, "parent": info[t].parent_pid,
                             "parent_comm": info[t].comm, "stack": frames(info[t].stack_id)}
                            if t in info else {"thread": t} for t in pids]})
            return
        out = ["----------------\nPotential Deadlock Detected!\n",
               "Cycle in lock order graph: %s\n" % " => ".join(
                   names[m][2] for m in [e[0] for e in edges] + [edges[0][0]])]
        for m, n in edges:
            a = g.attrs[(m, n)]
            out.append("%s acquired here while holding %s in Thread %d (%s):" % (
                names[n][2], names[m][2], a["thread_pid"], a["thread_comm"]))
            out += self.stack_lines(a["second_mutex_stack_id"]) + [""]
            out.append("%s previously acquired by the same Thread %d (%s) here:" % (
                names[m][2], a["thread_pid"], a["thread_comm"]))
            out += self.stack_lines(a["first_mutex_stack_id"]) + [""]
        for t in pids:
            if t in info:
                out.append("Thread %d created by Thread %d (%s) here: " % (
                    t, info[t].parent_pid, info[t].comm))
                out += self.stack_lines(info[t].stack_id)
            else:
                out.append("Could not find stack trace where Thread %d was created" % t)
            out.append("")
        sys.stdout.write("\n".join(out) + "\n")

    def stack_lines(self, stack_id):
        return ["@ %016x %s" % (a, f) for a, f in self.stack(stack_id)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    binary = find_binary(args)
    constants = {"targ_tgid": args.pid}
    sizes = {"thread_to_held_mutexes": args.threads, "thread_to_parent": args.threads,
             "edges": args.edges, "stack_traces": args.stacktraces}
    with Tool("deadlock", constants, map_sizes=sizes,
              no_prealloc=["thread_to_held_mutexes", "thread_to_parent", "edges"]) as tool:
        tool.attach("clone_exit")
        try:
            tool.attach("clone3_exit")
        except Exception:       # kernels before 5.3 have no clone3
            pass
        for symbol in args.unlock_symbols:
            tool.attach("mutex_release", f"{binary}:{symbol}", pid=args.pid)
        for symbol in args.lock_symbols:
            tool.attach("mutex_acquire", f"{binary}:{symbol}", pid=args.pid)
        status("Tracing... Hit Ctrl-C to end.", args.json)
        finder = Deadlock(tool, args)
        data = DataSymbols(args.pid, os.readlink(f"/proc/{args.pid}/exe"))
        deadline = time.monotonic() + args.duration if args.duration else None
        try:
            while True:
                g = finder.graph()
                if args.verbose:
                    print("Mutexes: %d, Edges: %d" % (len(g.nodes), len(g.edges)),
                          file=sys.stderr if args.json else sys.stdout)
                if args.dump_graph:
                    import json as jsonlib      # (only for --dump-graph)
                    with open(args.dump_graph, "w") as f:
                        f.write(jsonlib.dumps(g.node_link_data(), indent=2))
                cycle = g.find_cycle()
                if cycle:
                    names = {}
                    for i, (m, _) in enumerate(cycle):
                        symbol = data.name(m)
                        names[m] = (f"M{i}", symbol, "Mutex M%d (%s0x%016x)" % (
                            i, symbol + " " if symbol else "", m))
                    finder.report(g, cycle, names)
                    return 1
                if deadline is not None and time.monotonic() >= deadline:
                    return 0
                time.sleep(1)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
