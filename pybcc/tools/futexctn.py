"""futexctn: summarize futex (user-space lock) contention latency per lock and stack (libbpf-tools' tool)."""
import sys

from ..output.histogram import log2_buckets, log2_hist_text
from .lib.args import add_interval_count, add_json, number, pid, positive_int, tool_parser
from .lib.report import report_loop
from .lib.runtime import Tool, run_tool, status
from .lib.stacks import stack_id_err

EXAMPLES = """examples:
    futexctn              # summarize futex contention latency as a histogram
    futexctn 1 10         # print 1 second summaries, 10 times
    futexctn -mT 1        # 1s summaries, milliseconds, and timestamps
    futexctn -s 1         # 1s summaries, without stack traces
    futexctn -l 0x8187bb8 # only trace lock 0x8187bb8
    futexctn -p 123       # only trace threads for PID 123
    futexctn -t 125       # only trace thread 125
    futexctn --json 1     # NDJSON, one object per interval (pybcc)

A wait is a FUTEX_WAIT call that returned 0 (woken by the holder), timed from
the futex syscall's entry to its exit (syscalls:sys_enter/exit_futex).
"""


lock_address = number(lambda text: int(text, 16), "lock address", lambda v: v > 0,
                      "invalid lock address {text}")


def parse_args(argv):
    p = tool_parser("futexctn", "Summarize futex contention latency as a histogram.", EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="Trace this PID only")
    p.add_argument("-t", "--tid", type=pid, help="Trace this TID only")
    p.add_argument("-l", "--lock", type=lock_address, help="Trace this lock only (hex address)")
    p.add_argument("-T", "--timestamp", action="store_true", help="Include timestamp on output")
    p.add_argument("-m", "--milliseconds", action="store_true", help="Millisecond histogram")
    p.add_argument("--perf-max-stack-depth", type=positive_int, default=127,
                   help="the limit for the stack traces (default 127)")
    p.add_argument("--stack-storage-size", type=positive_int, default=1024,
                   help="the number of unique stack traces that can be stored and "
                        "displayed (default 1024)")
    p.add_argument("-s", "--summary", action="store_true",
                   help="Summary futex contention latency")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="Verbose output: frame addresses and offsets")
    add_interval_count(p, "times")
    add_json(p)
    args = p.parse_args(argv)
    if args.perf_max_stack_depth > 127:
        p.error("argument --perf-max-stack-depth: at most 127")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    unit = "msecs" if args.milliseconds else "usecs"
    constants = {"targ_summary": args.summary, "targ_ms": args.milliseconds}
    for name, value in (("targ_pid", args.pid), ("targ_tid", args.tid), ("targ_lock", args.lock)):
        if value:
            constants[name] = value

    with Tool("futexctn", constants, map_sizes={"stack_traces": args.stack_storage_size}) as tool:
        tool.attach("futex_enter")
        tool.attach("futex_exit")
        stacks = tool.maps["stack_traces"]

        def frames(key):
            """The user stack's lines, innermost first (None: not readable)."""
            if stack_id_err(key.user_stack_id) or key.user_stack_id < 0:
                return None
            addrs = stacks.walk(key.user_stack_id)[:args.perf_max_stack_depth]
            tgid = key.pid_tgid >> 32
            from ..symbols import sym     # (the ELF reader: at the report only)
            if args.verbose:
                return ["#%-2d 0x%016x %s" % (i, a, sym(a, tgid, show_module=True,
                                                          show_offset=True))
                        for i, a in enumerate(addrs)]
            return [sym(a, tgid) for a in addrs]

        def entry(key, h):
            tid = key.pid_tgid & 0xffffffff
            return {"comm": h.comm, "pid": tid,
                    "lock": "0x%x" % key.uaddr, "contended": h.contended,
                    "avg": h.total_elapsed // max(h.contended, 1), "max": h.max, "min": h.min,
                    "stack": None if args.summary else frames(key), "slots": list(h.slots)}

        def report(json):
            found = sorted((entry(k, h) for k, h in tool.maps["hists"].pop_all()),
                           key=lambda e: (e["pid"], e["lock"]))
            stacks.clear()
            if json:
                for e in found:
                    e["unit"], e["buckets"] = unit, log2_buckets(e.pop("slots"))
                return {"locks": found}
            out = []
            for e in found:
                out.append("\n\n%s[%u] lock %s contended %u times, %u avg %s [max: %u %s, "
                           "min %u %s]\n" % (e["comm"], e["pid"], e["lock"], e["contended"],
                                             e["avg"], unit, e["max"], unit, e["min"], unit))
                if not args.summary:
                    lines = e["stack"] if e["stack"] is not None else ["[Missed User Stack]"]
                    out.append("    -\n" + "".join("    %s\n" % ln for ln in lines) + "    -\n")
                out.append(log2_hist_text(e["slots"], unit))
            return "".join(out)

        status("Summarize futex contention latency, hit ctrl-c to exit", True)
        report_loop(report, args.interval, args.times, None, args.json, args.timestamp)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
