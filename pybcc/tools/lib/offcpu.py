"""What the off-CPU tools share on the Python side (offcputime, offwaketime,
wakeuptime): bcc's flags for which threads and stacks to trace and for how
long, and the constants of include/pybcc/offcpu.h that they become."""
import argparse
import struct

from .args import pid, positive_int
from . import stackfile

THREADS_ALL, THREADS_TGID, THREADS_TID, THREADS_USER, THREADS_KERNEL = range(5)
MAX_TARG_IDS = 5        # offwaketime's -p/-t take up to 5 ids, as bcc's
U64_MAX = (1 << 64) - 1
# struct key_t of offcputime.bpf.c (struct module formats): the blocked
# thread's struct who_t (pid, tgid, user and kernel stack ids, name), then
# its waker's (offwaketime's)
WHO = "IIii16s"
TARGET_KEY, TARGET_WAKER_KEY = "<" + WHO + "32x", "<" + WHO * 2


def examples(tool, what, max_us, picture):
    """bcc's examples of offcputime and offwaketime (they differ in the
    tool's name, the first line's words and the -M example), and ours for -o."""
    rows = [("", "trace %s time until Ctrl-C" % what),
            ("5", "trace for 5 seconds only"),
            ("-f 5", "5 seconds, and output in folded format"),
            ("-m 1000", "trace only events that last more than 1000 usec"),
            ("-M %d" % max_us, "trace only events that last less than %d usec" % max_us),
            ("-p 185", "only trace threads for PID 185"),
            ("-t 188", "only trace thread 188"),
            ("-u", "only trace user threads (no kernel)"),
            ("-k", "only trace kernel threads (no user)"),
            ("-U", "only show user space stacks (no kernel)"),
            ("-K", "only show kernel space stacks (no user)")]
    width = len(tool) + 14      # bcc aligns the comments a little after "./TOOL -M 10000"
    lines = ["    %-*s # %s" % (width, ("./%s %s" % (tool, flags)).rstrip(), text)
             for flags, text in rows]
    lines.append("    ./%s -o %s" % (tool, picture))
    return "examples:\n" + "\n".join(lines) + "\n"


def state_mask(text):
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid state mask {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {v}")
    return v


def pid_list(text):
    """-p/-t of offwaketime: up to 5 comma separated ids that exist now."""
    ids = [pid(v) for v in text.split(",")]
    if len(ids) > MAX_TARG_IDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_TARG_IDS} ids, not {len(ids)}")
    return ids


def add_thread_arguments(p, id_type=pid, ids="PID", tids="TID",
                         pid_help="trace this PID only", tid_help="trace this TID only"):
    """bcc's -p/-t/-u/-k (one of them)."""
    threads = p.add_mutually_exclusive_group()
    threads.add_argument("-p", "--pid", metavar=ids, dest="tgid", type=id_type, help=pid_help)
    threads.add_argument("-t", "--tid", metavar=tids, dest="pid", type=id_type, help=tid_help)
    threads.add_argument("-u", "--user-threads-only", action="store_true",
                         help="user threads only (no kernel threads)")
    threads.add_argument("-k", "--kernel-threads-only", action="store_true",
                         help="kernel threads only (no user threads)")


def add_stack_arguments(p):
    """bcc's -U/-K (one of them) and -d."""
    stacks = p.add_mutually_exclusive_group()
    stacks.add_argument("-U", "--user-stacks-only", action="store_true",
                        help="show stacks from user space only (no kernel space stacks)")
    stacks.add_argument("-K", "--kernel-stacks-only", action="store_true",
                        help="show stacks from kernel space only (no user space stacks)")
    p.add_argument("-d", "--delimited", action="store_true",
                   help="insert delimiter between kernel/user stacks")


def add_output_arguments(p, json_help, storage_default):
    """-f or --json, --stack-storage-size, duration, and --format/-o."""
    out = p.add_mutually_exclusive_group()
    out.add_argument("-f", "--folded", action="store_true", help="output folded format")
    out.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--stack-storage-size", default=storage_default, type=positive_int,
                   help="the number of unique stack traces that can be stored and "
                        "displayed (default %d)" % storage_default)
    p.add_argument("duration", nargs="?", default=99999999, type=positive_int,
                   help="duration of trace, in seconds")
    stackfile.add_arguments(p)


def add_block_time_arguments(p, state=True):
    """-m/-M, and bcc's --state."""
    p.add_argument("-m", "--min-block-time", default=1, type=positive_int,
                   help="the amount of time in microseconds over which we store traces (default 1)")
    p.add_argument("-M", "--max-block-time", default=U64_MAX, type=positive_int,
                   help="the amount of time in microseconds under which we store traces "
                        "(default U64_MAX)")
    if state:
        p.add_argument("--state", type=state_mask,
                       help="filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE) "
                            "see include/linux/sched.h")


def parse_args(argv, name, description, examples, json_help, storage_default, **thread_options):
    """offcputime's and offwaketime's flags (``thread_options``: how -p/-t
    read their ids, see add_thread_arguments)."""
    from .args import add_ebpf, tool_parser
    p = tool_parser(name, description, examples)
    add_thread_arguments(p, **thread_options)
    add_stack_arguments(p)
    add_output_arguments(p, json_help, storage_default)
    add_block_time_arguments(p)
    add_ebpf(p, "offcputime")       # both tools' object
    return p.parse_args(argv)


def _ids(value):
    ids = value if isinstance(value, list) else [value]
    return struct.pack("<%dI" % MAX_TARG_IDS, *ids, *[0] * (MAX_TARG_IDS - len(ids))), \
        ",".join(map(str, ids))


def thread_constants(args):
    """(constants of offcpu.h, bcc's words for the threads: "PID 185", "all threads")."""
    user_only = getattr(args, "user_threads_only", False)
    kernel_only = getattr(args, "kernel_threads_only", False)
    ids, what = bytes(4 * MAX_TARG_IDS), "all threads"
    if getattr(args, "tgid", None) is not None:
        mode, (ids, shown) = THREADS_TGID, _ids(args.tgid)
        what = "PID %s" % shown
    elif getattr(args, "pid", None) is not None:
        mode, (ids, shown) = THREADS_TID, _ids(args.pid)
        what = "TID %s" % shown
    elif user_only:
        mode, what = THREADS_USER, "user threads"
    elif kernel_only:
        mode, what = THREADS_KERNEL, "kernel threads"
    else:
        mode = THREADS_ALL
    state = getattr(args, "state", None)
    constants = {"thread_mode": mode, "targ_ids": ids,
                 "filter_state": state is not None, "targ_state": state or 0,
                 "min_block_us": args.min_block_time,
                 "max_block_us": min(args.max_block_time, U64_MAX)}
    return constants, what


def stack_constants(args):
    """user_stacks/kernel_stacks of stacks.h from -U/-K."""
    return {"user_stacks": not args.kernel_stacks_only, "kernel_stacks": not args.user_stacks_only}


def counted(tool, key_format):
    """(key fields, value) of each entry of the ``counts`` map (u64 values),
    unpacked with ``key_format`` (struct) straight from the map's bytes:
    a report reads hundreds, and decoding each key as a struct object costs
    several times more."""
    counts = tool.maps["counts"]
    if struct.calcsize(key_format) != counts.key_size:
        raise ValueError("counts: %d-byte keys, not %d" % (counts.key_size,
                                                         struct.calcsize(key_format)))
    keys, values = counts.items_bytes()
    return zip(struct.iter_unpack(key_format, keys),
               (v for v, in struct.iter_unpack("<Q", values)))


def comm(raw):
    """A char[16] task name as the maps' decoding gives it: up to its first NUL."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def report(tool, args, picture, collect, missing="lost and could not be displayed"):
    """The end of a run: ``collect(tool, args, annotations)`` gives the
    printer and its stacks, reported as the picture or bcc's text asks;
    then bcc's warnings (stacks ``missing``, negative durations) and ours
    (full maps)."""
    import sys
    from .stacks import missing_warning
    printer, stacks = collect(tool, args, bool(picture and picture.annotate_kernel))
    stackfile.report_stacks(picture, printer, stacks, args, "us")
    missing_warning(printer, missing, 12)
    negative, full = (sum(v) for v in (tool.maps["problems"][0], tool.maps["problems"][1]))
    if negative:
        print("WARN: Skipped %d events with negative duration" % negative, file=sys.stderr)
    if full:
        print("WARNING: %d off-CPU periods were not counted: the tool's maps are full." % full,
              file=sys.stderr)


# The hash maps whose entries are made as they are needed (where the kernel
# allows it), not all at the start: ``counts`` gains an entry only for a new
# stack (pair). ``start`` (and offwaketime's ``wokeby``) stay preallocated:
# an entry is added and deleted at every context switch of the machine, and
# allocating it there made some runs of a switch-heavy workload cost 1.2-2x
# the CPU (5 of 72; none preallocated), for ~1 ms saved at start
# (benchmarks/switch_overhead.py, RESULTS.md).
RUN_TIME_ALLOCATED = ("counts",)


def run(args, argv, name, header, report, picture_title, picture_total, constants,
        programs=("switch",), obj=None, map_sizes=None):
    """Trace as bcc's off-CPU tools do: load (``constants`` added to the
    thread and stack ones; ``map_sizes`` beside --stack-storage-size),
    attach ``programs`` (tp_btf, else raw_tp), print ``header`` ("..." and
    the duration added), trace for the duration or until Ctrl-C, then
    ``report(tool, args, picture)``."""
    from .runtime import Tool
    from .stacks import trace_until_done
    picture = None
    if stackfile.requested(args):
        picture = stackfile.StackFile(args, name, argv, unit="us", total_label=picture_total,
                                      title=picture_title)
    every = thread_constants(args)[0]
    every.update(stack_constants(args), **constants)
    with Tool(name, every, obj=obj, no_prealloc=RUN_TIME_ALLOCATED,
              map_sizes={"stack_traces": args.stack_storage_size, **(map_sizes or {})}) as tool:
        for prog in programs:
            tool.attach_first(prog + "_btf", prog + "_raw")
        if picture:
            picture.start_clock()
        trace_until_done(tool, header, args.duration, args.folded or stackfile.quiet(args),
                         args.json)
        report(tool, args, picture)
    return 0
