"""uobjnew: summarize object allocations in high-level languages (bcc's
columns and flags): the runtimes' USDT allocation probes, or malloc() for C."""
import sys

from ..output.table import Column, Table
from ..symbols import find_library
from .lib import langs
from .lib.args import add_duration_and_json, positive_int, tool_parser
from .lib.report import FOREVER, report_loop
from .lib.runtime import Tool, fail, status

LANGUAGES = ["c", "java", "ruby", "tcl"]

EXAMPLES = """examples:
    ./uobjnew -l java 145         # summarize Java allocations in process 145
    ./uobjnew -l c 2020 1         # grab malloc() sizes and print every second
    ./uobjnew -l ruby 6712 -C 10  # top 10 Ruby types by number of allocations
    ./uobjnew -l ruby 6712 -S 10  # top 10 Ruby types by total size

C: a uprobe on libc's malloc() of the process, counted by block size. Java
needs -XX:+ExtendedDTraceProbes (or -XX:+DTraceAllocProbes). Ruby: object,
string, hash and array creations (the last three with their length as the
size). Debian 12's tcl has no USDT probes (the tool says so).
"""


def parse_args(argv):
    p = tool_parser("uobjnew", "Summarize object allocations in high-level languages.",
                    EXAMPLES)
    langs.add_common_args(p, LANGUAGES)
    p.add_argument("interval", type=positive_int, nargs="?",
                   help="print every specified number of seconds")
    p.add_argument("-C", "--top-count", type=positive_int,
                   help="number of most frequently allocated types to print")
    p.add_argument("-S", "--top-size", type=positive_int,
                   help="number of largest types by allocated bytes to print")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def attach(tool, language, lang, pid):
    """The fixed names (kind → name) of the probes attached."""
    if language == "c":
        libc = find_library("c", pid)
        if not libc:
            fail(f"error: process {pid} maps no libc")
        tool.attach("alloc_malloc", f"{libc}:malloc", pid=pid)
        return {}
    at = langs.Attacher(tool, lang, pid)
    kinds = {}
    for a in lang.allocs:
        kind = len(kinds) + 1 if a.fixed_name else 0
        if a.fixed_name:
            kinds[kind] = a.fixed_name
        at.attach("alloc_usdt", a.probe,
                  a.name_arg | a.name_len << 4 | a.size_arg << 8 | kind << 16)
    return kinds


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    language = langs.language_of(args, LANGUAGES, "uobjnew")
    kinds = {}

    def name(k):
        if language == "c":
            return "block size %d" % k.size
        return kinds.get(k.kind) or k.name

    table = Table([Column("NAME/TYPE", "%-30s ", lambda kv: name(kv[0]), key="name"),
                   Column("# ALLOCS", "%8d ", lambda kv: kv[1].num_allocs, key="allocs"),
                   Column("# BYTES", "%12d", lambda kv: kv[1].total_size, key="bytes")],
                  json=args.json)

    def report(json):
        pairs = list(tool.maps["allocs"].pop_all() if args.interval else tool.maps["allocs"].items())
        if args.top_count:
            pairs = sorted(pairs, key=lambda kv: kv[1].num_allocs)[-args.top_count:]
        else:
            pairs = sorted(pairs, key=lambda kv: kv[1].total_size)
            if args.top_size:
                pairs = pairs[-args.top_size:]
        if json:
            return {"pid": args.pid, "language": language, "rows": [table.as_dict(kv) for kv in pairs]}
        return table.header_text() + "\n" + "".join(table.text(kv) + "\n" for kv in pairs)

    with Tool("uobjnew") as tool:
        kinds = attach(tool, language, langs.LANGS.get(language), args.pid)
        status("Tracing allocations in process %d (language: %s)... Ctrl-C to quit." %
               (args.pid, language), args.json)
        report_loop(report, args.interval or FOREVER, None, args.duration, args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
