"""uthreads: trace thread creation/destruction events in high-level
languages (bcc's columns and flags): pthreads of any process, and Java's."""
import sys
import time

from ..output.table import Column, Table
from ..symbols import find_library, sym
from .lib import langs
from .lib.args import add_duration_and_json, tool_parser
from .lib.runtime import Tool, fail, status, stream_events

LANGUAGES = ["c", "java"]

EXAMPLES = """examples:
    ./uthreads -l java 185    # trace Java threads in process 185
    ./uthreads -l none 12245  # trace only pthreads in process 12245

pthreads: Debian's glibc has no pthread_start USDT probe (bcc's source), so
pybcc joins a uprobe on pthread_create (the start routine) with the
sched:sched_process_fork tracepoint (the new thread's id). Java: hotspot's
thread__start and thread__stop probes.
"""

KINDS = {0: "pthread", 1: "start", 2: "stop"}


def parse_args(argv):
    p = tool_parser("uthreads", "Trace thread creation/destruction events in high-level "
                    "languages.", EXAMPLES)
    langs.add_common_args(p, LANGUAGES + ["none"], "language to trace (none for pthreads only)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    language = langs.language_of(args, LANGUAGES, "uthreads", required=False)
    libc = find_library("c", args.pid)
    if not libc:
        fail(f"error: process {args.pid} maps no libc (pthread_create)")
    start = time.monotonic_ns()       # CLOCK_MONOTONIC, as bpf_ktime_get_ns

    def thread_id(e):
        return e.native_id if e.kind == 0 else "R=%s/N=%s" % (e.runtime_id, e.native_id)

    def description(e):
        if e.kind == 0:
            return sym(e.runtime_id, args.pid, show_module=True)
        return e.name.decode("utf-8", "replace")

    table = Table([Column("TIME", "%-8.3f ", lambda e: (e.ts - start) / 1e9, key="time_s"),
                   Column("ID", "%-16s ", thread_id,
                          json=lambda e: e.native_id if e.kind == 0 else
                          {"runtime": e.runtime_id, "native": e.native_id}),
                   Column("TYPE", "%-8s ", lambda e: KINDS[e.kind]),
                   Column("DESCRIPTION", "%-30s", description)], json=args.json)
    with Tool("uthreads", {"targ_pid": args.pid}, events=True) as tool:
        start = time.monotonic_ns()     # loaded: the next events are ours
        tool.attach("pthread_create_exit", f"{libc}:pthread_create", pid=args.pid)
        tool.attach("pthread_create_enter", f"{libc}:pthread_create", pid=args.pid)
        tool.attach("thread_forked")
        if language == "java":
            at = langs.Attacher(tool, langs.LANGS["java"], args.pid)
            at.attach("java_thread", "thread__start", 1)
            at.attach("java_thread", "thread__stop", 2)
        record = tool.record("event")
        tool.open_events(lambda data: table.write(record.decode(data)))
        status("Tracing thread events in process %d (language: %s)... Ctrl-C to quit." %
               (args.pid, language if language in LANGUAGES else "none"), args.json)
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
