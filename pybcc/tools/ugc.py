"""ugc: summarize garbage collection events in high-level languages (bcc's
columns and flags), from the runtimes' GC begin/end USDT probes."""
import sys
import time

from ..output.table import Column, Table
from .lib import langs
from .lib.args import add_duration_and_json, non_negative_int, tool_parser
from .lib.runtime import Tool, fail, status, stream_events

LANGUAGES = ["java", "node", "python", "ruby"]

EXAMPLES = """examples:
    ./ugc -l java 185        # trace Java GCs in process 185
    ./ugc -l ruby 1344 -m    # trace Ruby GCs reporting in ms
    ./ugc -M 10 -l java 185  # trace only Java GCs longer than 10ms

Descriptions: Java, each memory pool's "MANAGER POOL used=BEFORE->AFTER
max=BEFORE->AFTER" and "no additional info available" for the gc__begin/end
pair; Python "gen N GC collected M objects"; Ruby the mark and sweep stages;
Node the GC kinds. Debian 12's node has no USDT probes (the tool says so).
"""


def parse_args(argv):
    p = tool_parser("ugc", "Summarize garbage collection events in high-level languages.",
                    EXAMPLES)
    langs.add_common_args(p, LANGUAGES)
    p.add_argument("-m", "--milliseconds", action="store_true",
                   help="report times in milliseconds (default is microseconds)")
    p.add_argument("-M", "--minimum", type=non_negative_int, default=0,
                   help="display only GCs longer than this many milliseconds")
    p.add_argument("-F", "--filter", type=str,
                   help="display only GCs whose description contains this text")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


class Text:
    """An event's strings as text, for the describe functions."""

    def __init__(self, e):
        self.field1, self.field2, self.field3, self.field4 = e.field1, e.field2, e.field3, e.field4
        self.string1 = e.string1.decode("utf-8", "replace")
        self.string2 = e.string2.decode("utf-8", "replace")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    language = langs.language_of(args, LANGUAGES, "ugc")
    lang = langs.LANGS[language]
    unit = "ms" if args.milliseconds else "us"
    start = time.monotonic_ns()       # CLOCK_MONOTONIC, as bpf_ktime_get_ns
    table = Table([
        Column("START", "%-8.3f ", lambda r: (r[0].ts - start) / 1e9, key="start_s"),
        Column(f"TIME ({unit})", "%-8.2f ",
               lambda r: r[0].elapsed_ns / (1e6 if args.milliseconds else 1e3),
               key=f"time_{unit}"),
        Column("DESCRIPTION", "%s", lambda r: r[1], head="%-40s")], json=args.json)
    with Tool("ugc", {"min_ns": args.minimum * 1000000}, events=True) as tool:
        start = time.monotonic_ns()     # loaded: the next events are ours
        at = langs.Attacher(tool, lang, args.pid)
        attached = []
        for index, gc in enumerate(lang.gc):
            begin, end = gc.cookies(index)
            # end first: an end without its begin is dropped in the kernel
            if at.attach("gc_end", gc.end, end, required=False) and \
                    at.attach("gc_begin", gc.begin, begin, required=False):
                attached.append(gc)
        if not attached:
            fail(f"error: {at.path} has none of {language}'s GC probes "
                 f"({', '.join(gc.begin for gc in lang.gc)})")
        record = tool.record("event")

        def on_event(data):
            e = record.decode(data)
            description = lang.gc[e.probe_index].describe(Text(e))
            if args.filter and args.filter not in description:
                return
            table.write((e, description))
        tool.open_events(on_event)
        status("Tracing garbage collections in %s process %d... Ctrl-C to quit." %
               (language, args.pid), args.json)
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
