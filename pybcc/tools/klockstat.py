"""klockstat: kernel mutex wait and hold times per caller (bcc's flags and output)."""
import errno
import re
import sys

from ..errors import AttachError, LoadError, NotSupportedError
from ..kernel import features
from ..output.table import Column, Table
from ..symbols import ksym
from .lib.args import add_json, non_negative_int, pid, pid_tid_constants, positive_int, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import Tool, fail, run_tool, status
from .lib.stacks import TRACING_FRAMES, stack_id_err

EXAMPLES = """examples:
    klockstat                           # trace system wide
    klockstat -d 5                      # trace for 5 seconds only
    klockstat -i 5                      # display stats every 5 seconds
    klockstat -p 123                    # trace locks for PID 123
    klockstat -t 321                    # trace locks for TID 321
    klockstat -c pipe_                  # display stats only for lock callers with 'pipe_' substring
    klockstat -S acq_count              # sort lock acquired results on acquired count
    klockstat -S hld_total              # sort lock held results on total held time
    klockstat -S acq_count,hld_total    # combination of above
    klockstat -n 3                      # display 3 locks
    klockstat -s 3                      # display 3 levels of stack
    klockstat --json -d 5               # NDJSON (pybcc)

Mechanism: the lock:contention_begin/end tracepoints (Linux 5.19+) where the
kernel has them: the Spin table then shows contended mutex acquisitions only
(waits), and there is no Hold table (nothing traces the unlock). Elsewhere,
or with --kprobes, bcc's kprobes on mutex_lock/mutex_unlock: every
acquisition, and hold times. Times are in nanoseconds.
"""

SORT_FIELDS = ("max", "total", "count")
# The lock's own frames, between the tracepoint (or kprobe) and its caller
LOCK_FRAMES = re.compile(r"^(_*mutex_|_*rt_mutex|osq_|_*down_|rwsem_|_*raw_spin_|queued_|"
                         r"native_queued|__pv_queued|lock_acquire|__lock_|_*schedule|"
                         r"preempt_schedule)")


def sort_spec(text):
    """bcc's -S: acq_FIELD and/or hld_FIELD, comma separated."""
    out = {}
    for item in text.split(","):
        table, _, field = item.partition("_")
        if table not in ("acq", "hld") or field not in SORT_FIELDS:
            raise ValueError(f"Wrong sort argument: {item} (fields: acq_[max|total|count] "
                             f"hld_[max|total|count])")
        out[table] = field
    return out


def parse_args(argv):
    p = tool_parser("klockstat", "Trace kernel mutex lock wait and hold times", EXAMPLES)
    time_group = p.add_mutually_exclusive_group()
    time_group.add_argument("-d", "--duration", type=positive_int,
                            help="total duration of trace in seconds")
    time_group.add_argument("-i", "--interval", type=positive_int,
                            help="print summary at this interval (seconds)")
    p.add_argument("-n", "--locks", type=non_negative_int, default=99999999,
                   help="print given number of locks")
    p.add_argument("-s", "--stacks", type=non_negative_int, default=1,
                   help="print given number of stack entries")
    p.add_argument("-c", "--caller", help="print locks taken by given caller")
    p.add_argument("-S", "--sort",
                   help="sort data on <aq_field,hd_field>, fields: acq_[max|total|count] "
                        "hld_[max|total|count]")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    p.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    p.add_argument("--stack-storage-size", default=16384, type=positive_int,
                   help="the number of unique stack traces that can be stored and "
                        "displayed (default 16384)")
    p.add_argument("--kprobes", action="store_true",
                   help="use bcc's kprobes on mutex_lock/unlock even where the lock "
                        "tracepoints exist (pybcc)")
    add_json(p)
    args = p.parse_args(argv)
    try:
        args.sort_by = sort_spec(args.sort) if args.sort else {}
    except ValueError as e:
        p.error(str(e))
    return args


# Return slots of the mutex_lock kretprobe, one per thread inside it (and
# threads sleep there): kernels before 6.2 without CONFIG_PREEMPTION (5.10)
# give a kretprobe one per CPU by default, and missed most returns (bcc's
# tool too). Asked for through tracefs kprobe_events (the kprobe PMU cannot).
MUTEX_LOCK_MAXACTIVE = 1024


def attach(tool, use_kprobes):
    """The tracepoints, or bcc's kprobes; True when hold times are traced."""
    if not use_kprobes:
        try:
            tool.attach_first("begin_btf", "begin_raw")
            tool.attach_first("end_btf", "end_raw")
            return False
        except (AttachError, LoadError, NotSupportedError) as e:
            if not features.has_kprobes():
                raise type(e)(f"{e} (klockstat needs the lock:contention_begin/end "
                              f"tracepoints, Linux 5.19+, or kprobes)") from None
    if not features.has_kprobes():
        fail("klockstat: --kprobes: this kernel has no kprobes (CONFIG_KPROBES off); "
             "without it the lock:contention_begin/end tracepoints serve")
    # with CONFIG_DEBUG_LOCK_ALLOC, mutex_lock is mutex_lock_nested
    lock = "mutex_lock_nested" if ksym_exists("mutex_lock_nested") else "mutex_lock"
    # the kretprobe first, as bcc: of two probes on one function the newer
    # runs first, so the entry's stack is taken before the kretprobe swaps
    # the return address for its trampoline (which unwinders before 5.15
    # cannot see through: every caller was kretprobe_trampoline)
    tool.attach("mutex_lock_return", lock, maxactive=MUTEX_LOCK_MAXACTIVE)
    tool.attach("mutex_lock_entry", lock)
    tool.attach("mutex_unlock_entry", "mutex_unlock")
    return True


def ksym_exists(name):
    from ..symbols import kernel_symbols
    return kernel_symbols().address(name) is not None


class Report:
    """Both of bcc's tables, from the stats maps (emptied at each report)."""

    def __init__(self, tool, args, holds):
        self.tool, self.args, self.holds = tool, args, holds
        self.missing = 0
        self.enomem = False

    def frames(self, stack_id):
        """The caller and the frames above it, as "name+0xoff"."""
        if stack_id < 0:
            return None
        names = [ksym(a, show_offset=True) for a in self.tool.maps["stack_traces"].walk(stack_id)]
        while names and (names[0].startswith(TRACING_FRAMES) or LOCK_FRAMES.match(names[0])):
            names.pop(0)
        return names

    def rows(self, stats_map, field):
        out = []
        for key, st in stats_map.pop_all():
            stack_id = key if isinstance(key, int) else key.value
            self.missing += stack_id_err(stack_id)
            self.enomem |= stack_id == -errno.ENOMEM
            frames = self.frames(stack_id)
            caller = frames[0] if frames else "[Missed Kernel Stack]"
            if self.args.caller and (frames is None or self.args.caller not in caller):
                continue
            out.append({"caller": caller, "avg": st.total // max(st.count, 1),
                        "count": st.count, "max": st.max, "total": st.total,
                        "stack": (frames or [])[1:self.args.stacks]})
        out.sort(key=lambda r: r[field], reverse=True)
        return out[:self.args.locks]

    def tables(self):
        yield "acquire", "Spin", self.tool.maps["acq_stats"], self.args.sort_by.get("acq", "max")
        if self.holds:
            yield "hold", "Hold", self.tool.maps["hld_stats"], self.args.sort_by.get("hld", "max")

    def __call__(self, json):
        out = {} if json else []
        for name, word, stats, field in self.tables():
            rows = self.rows(stats, field)
            if json:
                out[name] = rows
                continue
            table = Table(columns(word))
            out.append("\n" + table.header_text() + "\n")
            for r in rows:
                out.append(table.text(r) + "\n")
                out.extend("%40s\n" % f for f in r["stack"])
        self.tool.maps["stack_traces"].clear()
        return out if json else "".join(out)


def columns(word):
    return [Column("Caller", "%40s ", lambda r: r["caller"]),
            Column(f"Avg {word}", "%10d ", lambda r: r["avg"]),
            Column("Count", "%6d ", lambda r: r["count"]),
            Column(f"Max {word.lower()}", "%10d ", lambda r: r["max"]),
            Column(f"Total {word.lower()}", "%10d", lambda r: r["total"])]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    constants = pid_tid_constants(args, "targ_tgid")
    with Tool("klockstat", constants, map_sizes={"stack_traces": args.stack_storage_size}) as tool:
        holds = attach(tool, args.kprobes)
        report = Report(tool, args, holds)
        status("Tracing lock events... Hit Ctrl-C to end.", args.json)
        report_loop(report, args.interval or args.duration or FOREVER, 1 if not args.interval
                    else None, None, args.json, blank_line=False)
    if report.missing:
        print("WARNING: %d stack traces lost and could not be displayed.%s" % (
            report.missing, " Consider increasing --stack-storage-size." if report.enomem
            else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
