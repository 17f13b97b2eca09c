"""ucalls: summarize method calls in high-level languages and/or syscalls
(bcc's columns and flags), through the runtimes' USDT probes."""
import sys

from ..kernel.syscall_names import syscall_name
from ..output.table import Column, Table
from .lib import langs
from .lib.args import add_duration_and_json, positive_int, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import Tool, fail, status

LANGUAGES = ["java", "perl", "php", "python", "ruby", "tcl"]

EXAMPLES = f"""examples:
    ./ucalls -l java 185        # trace Java calls and print statistics on ^C
    ./ucalls -l python 2020 1   # trace Python calls and print every second
    ./ucalls -l java 185 -S     # trace Java calls and syscalls
    ./ucalls 6712 -S            # trace only syscall counts
    ./ucalls -l ruby 1344 -T 10 # trace top 10 Ruby method calls
    ./ucalls -l ruby 1344 -L    # trace Ruby calls including latency
    ./ucalls -l php 443 -LS     # trace PHP calls and syscalls with latency
    ./ucalls -l python 2020 -mL # trace Python calls including latency in ms

{langs.HELP_PYTHON}
Ruby: C methods (cmethod__entry/return) are counted too (bcc: Ruby methods
only), since Ruby 2.5+ fires method__entry only while the process has a
TracePoint enabled. Debian 12 ships the probes in python3.11, openjdk
(libjvm.so), ruby and php; its perl, tcl and node have none (the tool says so).
"""


def parse_args(argv):
    p = tool_parser("ucalls", "Summarize method calls in high-level languages.", EXAMPLES)
    langs.add_common_args(p, LANGUAGES + ["none"],
                          "language to trace (if none, trace syscalls only)")
    p.add_argument("interval", type=positive_int, nargs="?",
                   help="print every specified number of seconds")
    p.add_argument("-T", "--top", type=positive_int,
                   help="number of most frequent/slow calls to print")
    p.add_argument("-L", "--latency", action="store_true",
                   help="record method latency from enter to exit (except recursive calls)")
    p.add_argument("-S", "--syscalls", action="store_true",
                   help="record syscall latency (adds overhead)")
    p.add_argument("-m", "--milliseconds", action="store_true",
                   help="report times in milliseconds (default is microseconds)")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def columns(args):
    unit = "ms" if args.milliseconds else "us"
    cols = [Column("METHOD", "%-50s ", lambda r: r[0]),
            Column("# CALLS", "%8d", lambda r: r[1], key="calls")]
    if args.latency:
        cols[1] = Column("# CALLS", "%8d ", lambda r: r[1], key="calls")
        cols.append(Column(f"TIME ({unit})", "%6.2f",
                           lambda r: r[2] / (1e6 if args.milliseconds else 1e3),
                           head="%8s", key=f"time_{unit}"))
    return cols


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    language = None if args.language == "none" else \
        args.language or langs.detect_language(args.pid, LANGUAGES)
    if not language and not args.syscalls:
        fail("Nothing to do; use -S to trace syscalls.")
    langs.show_source(args, "ucalls")
    lang = langs.LANGS[language] if language else None
    table = Table(columns(args), json=args.json)

    def rows():
        out = [(f"{k.clazz}.{k.method}", v.num_calls, v.total_ns)
               for k, v in tool.maps["calls"].pop_all()]
        if args.syscalls:
            out += [(syscall_name(k), v.num_calls, v.total_ns)
                    for k, v in tool.maps["syscalls"].pop_all()]
        out.sort(key=lambda r: r[2] if args.latency else r[1])
        return out[-args.top:] if args.top else out

    def report(json):
        data = rows()
        if json:
            return {"pid": args.pid, "language": language or "none",
                    "rows": [table.as_dict(r) for r in data]}
        return "".join([table.header_text().rstrip() + "\n",
                        *(table.text(r) + "\n" for r in data)])

    with Tool("ucalls", {"targ_pid": args.pid, "latency": args.latency}) as tool:
        if lang:
            at = langs.Attacher(tool, lang, args.pid)
            for calls in (lang.calls, *lang.more_calls):
                required = calls is lang.calls
                at.attach("method_entry", calls.entry, calls.cookie(), required)
                if args.latency:
                    at.attach("method_return", calls.ret, calls.cookie(True), required)
        if args.syscalls:
            tool.attach("sys_enter")
            if args.latency:
                tool.attach("sys_exit")
            status("Attached kernel tracepoints for syscall tracing.", args.json)
        status("Tracing calls in process %d (language: %s)... Ctrl-C to quit." %
               (args.pid, language or "none"), args.json)
        if lang and lang.hint:
            status(lang.hint, args.json)
        report_loop(report, args.interval or FOREVER, None, args.duration, args.json)
        if args.syscalls:
            status("Detaching kernel probes, please wait...", args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
