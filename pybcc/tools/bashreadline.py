"""bashreadline: print entered bash commands from all running shells (bcc's
columns and flags), from a uretprobe on readline."""
import os
import sys

from ..output.table import Column, Table
from ..symbols import find_library
from .lib.args import add_duration_and_json, tool_parser
from .lib.runtime import Tool, fail, stream_events
from .lib.timestamps import wall_clock

EXAMPLES = """examples:
    ./bashreadline                        # readline in /bin/bash
    ./bashreadline -s                     # bash linked with the system's libreadline
    ./bashreadline -s /lib/libreadline.so # that libreadline

Only processes named bash are shown, as in bcc. The uretprobe goes on
readline_internal_teardown where the file exports it (it returns the line;
bcc's choice too), else on readline.
"""


def parse_args(argv):
    p = tool_parser("bashreadline", "Print entered bash commands from all running shells",
                    EXAMPLES)
    p.add_argument("-s", "--shared", nargs="?", const="", type=str,
                   help="specify the location of libreadline.so library. Default is "
                        "the system's libreadline")
    add_duration_and_json(p, "stop after this many seconds (pybcc extension)")
    return p.parse_args(argv)


def readline_file(shared):
    """The file to probe: /bin/bash, or the libreadline -s names (or finds)."""
    if shared is None:
        return "/bin/bash"
    path = shared or find_library("readline") or "/lib/libreadline.so"
    if not os.path.exists(path):
        fail(f"bashreadline: {path} does not exist (give its path: -s PATH)", code=2)
    return path


def readline_symbol(path):
    from ..symbols.elf import ElfError, ElfFile
    try:
        with ElfFile.open(path) as elf:
            names = {s[1] for s in elf.symbols(elf.section(".dynsym"))}
    except (OSError, ElfError) as e:
        fail(f"bashreadline: cannot read {path}: {e}", code=2)
    for name in (b"readline_internal_teardown", b"readline"):
        if name in names:
            return name.decode()
    fail(f"bashreadline: {path} has no readline function (is it bash or libreadline?)",
         code=2)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    path = readline_file(args.shared)
    symbol = readline_symbol(path)
    table = Table([Column("TIME", "%-9s ", wall_clock),
                   Column("PID", "%-7d ", "pid"),
                   Column("COMMAND", "%s", lambda e: e.str)], json=args.json)
    with Tool("bashreadline", events=True) as tool:
        tool.attach("readline_return", f"{path}:{symbol}")
        record = tool.record("event")
        tool.open_events(lambda data: table.write(record.decode(data)))
        table.print_header()
        stream_events(tool, args.duration)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
