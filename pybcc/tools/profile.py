"""profile: sample CPU stack traces at a timed interval (bcc's flags and output)."""
import sys

from ..kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from .lib.args import cpu, pid, positive_int, tool_parser
from .lib import stackfile
from .lib.runtime import Tool, fail, run_tool
from .lib.stacks import (
    by_value,
    flags_printer,
    missing_warning,
    stack_context,
    trace_until_done,
)

EXAMPLES = """examples:
    ./profile             # profile stack traces at 49 Hertz until Ctrl-C
    ./profile -F 99       # profile stack traces at 99 Hertz
    ./profile -c 1000000  # profile stack traces every 1 in a million events
    ./profile 5           # profile at 49 Hertz for 5 seconds only
    ./profile -f 5        # output in folded format for flame graphs
    ./profile -p 185      # only profile process with PID 185
    ./profile -L 185      # only profile thread with TID 185
    ./profile -U          # only show user space stacks (no kernel)
    ./profile -K          # only show kernel space stacks (no user)
    ./profile --cgroupmap mappath  # only trace cgroups in this BPF map
    ./profile --mntnsmap mappath   # only trace mount namespaces in the map
    ./profile -o cpu.svg 10        # 10 seconds, as an interactive flame graph
    ./profile --format speedscope 10 > cpu.json   # for speedscope.app
"""

FILTER_NONE, FILTER_TGID, FILTER_TID = range(3)

JSON_HELP = ("print one JSON object per stack: comm, pid, frames (innermost first, "
             "each {function, kernel, address}), value and unit (samples) (pybcc extension)")


def pid_list(text):
    """-p/-L: comma separated ids of processes or threads that exist now."""
    return [pid(v) for v in text.split(",")]


def parse_args(argv):
    p = tool_parser("profile", "Profile CPU stack traces at a timed interval", EXAMPLES)
    threads = p.add_mutually_exclusive_group()
    threads.add_argument("-p", "--pid", type=pid_list,
                         help="profile process with one or more comma separated PIDs only")
    threads.add_argument("-L", "--tid", type=pid_list,
                         help="profile thread with one or more comma separated TIDs only")
    stacks = p.add_mutually_exclusive_group()
    stacks.add_argument("-U", "--user-stacks-only", action="store_true",
                        help="show stacks from user space only (no kernel space stacks)")
    stacks.add_argument("-K", "--kernel-stacks-only", action="store_true",
                        help="show stacks from kernel space only (no user space stacks)")
    sample = p.add_mutually_exclusive_group()
    sample.add_argument("-F", "--frequency", type=positive_int, help="sample frequency, Hertz")
    sample.add_argument("-c", "--count", type=positive_int,
                        help="sample period, number of events")
    p.add_argument("-d", "--delimited", action="store_true",
                   help="insert delimiter between kernel/user stacks")
    p.add_argument("-a", "--annotations", action="store_true",
                   help="add _[k] annotations to kernel frames")
    p.add_argument("-I", "--include-idle", action="store_true", help="include CPU idle stacks")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-f", "--folded", action="store_true",
                     help="output folded format, one line per stack (for flame graphs)")
    out.add_argument("--json", action="store_true", help=JSON_HELP)
    p.add_argument("--stack-storage-size", default=16384, type=positive_int,
                   help="the number of unique stack traces that can be stored and "
                        "displayed (default %(default)s)")
    p.add_argument("duration", nargs="?", default=99999999, type=positive_int,
                   help="duration of trace, in seconds")
    p.add_argument("-C", "--cpu", type=cpu, default=-1, help="cpu number to run profile on")
    p.add_argument("--cgroupmap", help="trace cgroups in this BPF map only")
    p.add_argument("--mntnsmap", help="trace mount namespaces in this BPF map only")
    stackfile.add_arguments(p)
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    picture = stackfile.StackFile(args, "profile", argv) if stackfile.requested(args) else None
    if args.pid is not None:
        mode, targets, thread_context = FILTER_TGID, args.pid, "PID %s" % args.pid
    elif args.tid is not None:
        mode, targets, thread_context = FILTER_TID, args.tid, "TID %s" % args.tid
    else:
        mode, targets, thread_context = FILTER_NONE, [], "all threads"
    constants = {"filter_mode": mode, "include_idle": args.include_idle,
                 "user_stacks": not args.kernel_stacks_only,
                 "kernel_stacks": not args.user_stacks_only,
                 "filter_cgroup": bool(args.cgroupmap), "filter_mntns": bool(args.mntnsmap)}
    pinned = {}
    if args.cgroupmap:
        pinned["cgroup_set"] = args.cgroupmap
    if args.mntnsmap:
        pinned["mntns_set"] = args.mntnsmap
    if args.count:
        freq, period = 0, args.count
    else:
        freq, period = args.frequency or 49, 0
    sample_context = "%d Hertz" % freq if freq else "every %d events" % period

    try:
        tool = Tool("profile", constants, map_sizes={"stack_traces": args.stack_storage_size},
                         pinned=pinned)
    except (OSError, ValueError) as e:
        fail("profile: cannot use the pinned map: %s" % e)
    with tool:
        for t in targets:
            tool.maps["targets"][t] = 1
        tool.attach("do_sample", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_freq=freq, sample_period=period, cpu=args.cpu)
        header = "Sampling at %s of %s by %s stack" % (
            sample_context, thread_context,
            stack_context(args.user_stacks_only, args.kernel_stacks_only))
        if args.cpu >= 0:
            header += " on CPU#%d" % args.cpu
        if picture:
            picture.start_clock()
        trace_until_done(tool, header, args.duration, args.folded or stackfile.quiet(args), args.json)
        report(tool, args, picture)
    return 0


def counted_stacks(tool, args, annotations=False):
    """The printer and the sampled stacks, smallest count first."""
    printer = flags_printer(tool, args, annotations=args.annotations or annotations)
    stacks = by_value(printer.stack(k.name, k.pid, k.user_stack_id, k.kernel_stack_id, v,
                                    first_ip=k.kernel_ip)
                      for k, v in tool.maps["counts"].items())
    return printer, stacks


def report(tool, args, picture=None):
    printer, stacks = counted_stacks(tool, args, annotations=bool(picture and picture.annotate_kernel))
    stackfile.report_stacks(picture, printer, stacks, args, "samples")
    missing_warning(printer, "could not be displayed", 17)
    dropped = sum(tool.maps["dropped"][0])
    if dropped:
        print("WARNING: %d samples were dropped: the counts map is full." % dropped, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
