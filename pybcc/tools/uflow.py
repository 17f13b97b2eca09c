"""uflow: trace method execution flow in high-level languages (bcc's columns
and flags): each entry (->) and return (<-), indented by call depth."""
import sys
import time

from ..output.table import Column, Table
from .lib import langs
from .lib.args import add_duration_and_json, tool_parser
from .lib.runtime import Tool, fail, status, stream_events

LANGUAGES = ["java", "perl", "php", "python", "ruby", "tcl"]

EXAMPLES = f"""examples:
    ./uflow -l java 185                # trace Java method calls in process 185
    ./uflow -l ruby 134                # trace Ruby method calls in process 134
    ./uflow -M indexOf -l java 185     # trace only 'indexOf'-prefixed methods
    ./uflow -C '<stdin>' -l python 180 # trace only REPL-defined methods

TIME(us) is, as in bcc, the seconds since tracing started.
{langs.HELP_PYTHON}
Ruby 2.5+ fires method__entry/return only while the process has a TracePoint
enabled; its C methods (cmethod__*) always show.
"""


def parse_args(argv):
    p = tool_parser("uflow", "Trace method execution flow in high-level languages.", EXAMPLES)
    langs.add_common_args(p, LANGUAGES)
    p.add_argument("-M", "--method", help="trace only calls to methods starting with this prefix")
    p.add_argument("-C", "--class", dest="clazz",
                   help="trace only calls to classes starting with this prefix")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def prefix(text, what):
    data = (text or "").encode()
    if len(data) >= langs.LANG_STR:
        fail(f"uflow: the {what} prefix is longer than {langs.LANG_STR - 1} bytes", code=2)
    return data


def _text(b):
    return b.decode("utf-8", "replace")


def columns(start):
    def flow(e):
        depth = e.depth & ~(1 << 63)
        arrow = "<- " if e.depth >> 63 else "-> "
        return "  " * (depth - 1) + arrow + _text(e.m.clazz) + "." + _text(e.m.method)
    return [Column("CPU", "%-3d ", "cpu"),
            Column("PID", "%-6d ", lambda e: e.pid_tgid >> 32),
            Column("TID", "%-6d ", lambda e: e.pid_tgid & 0xFFFFFFFF),
            Column("TIME(us)", "%-8.3f ", lambda e: (e.ts - start) / 1e9, key="time_s"),
            Column("METHOD", "%-40s", flow, head="%s",
                   json=lambda e: {"direction": "return" if e.depth >> 63 else "entry",
                                   "depth": e.depth & ~(1 << 63), "class": _text(e.m.clazz),
                                   "method": _text(e.m.method)})]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    language = langs.language_of(args, LANGUAGES, "uflow")
    lang = langs.LANGS[language]
    constants = {"class_prefix": prefix(args.clazz, "class"),
                 "method_prefix": prefix(args.method, "method")}
    start = time.monotonic_ns()      # CLOCK_MONOTONIC, as bpf_ktime_get_ns
    with Tool("uflow", constants, events=True) as tool:
        at = langs.Attacher(tool, lang, args.pid)
        # returns first: a return seen before its entry leaves the depth at 0,
        # an entry whose return is missed would leave it one too deep
        for is_return in (True, False):
            for calls in (lang.calls, *lang.more_calls):
                at.attach("method_event", calls.ret if is_return else calls.entry,
                          calls.cookie(is_return), calls is lang.calls)
        table = Table(columns(start), json=args.json)
        record = tool.record("event")
        tool.open_events(lambda data: table.write(record.decode(data)))
        status("Tracing method calls in %s process %d... Ctrl-C to quit." %
               (language, args.pid), args.json)
        if lang.hint:
            status(lang.hint, args.json)
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
