"""tplist: list kernel tracepoints (with their fields) or the USDT probes of a
binary, library or process (bcc's output and flags)."""
import fnmatch
import os
import re
import sys

from ..output.table import write_json
from ..symbols.libpath import find_binary, find_library
from ..usdt import list_probes, parse_args as parse_usdt_args
from ..usdt.args import CONST, DEREF, DEREF_IDX
from .lib.args import pid, tool_parser
from .lib.runtime import fail, run_tool

EXAMPLES = """examples:
    ./tplist                          # list every tracepoint
    ./tplist -v 'sched:*'             # sched tracepoints and their fields
    ./tplist -l /usr/bin/python3.11   # USDT probes of a binary or library
    ./tplist -p 181 -vv '*gc*'        # USDT probes of PID 181, locations and arguments
"""

TRACEFS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
FIELD = re.compile(r"field:([^;]*);")
PROC_ROOT = re.compile(r"^/proc/\d+/root(?=/)")


def parse_args(argv):
    p = tool_parser("tplist", "Display kernel tracepoints or USDT probes and their formats.",
                    EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="List USDT probes in the specified process")
    p.add_argument("-l", "--lib", default="",
                   help="List USDT probes in the specified library or executable")
    p.add_argument("-v", dest="verbosity", action="count", default=0,
                   help="Increase verbosity level (print variables, arguments, etc.)")
    p.add_argument("filter", nargs="?",
                   help="A filter that specifies which probes/tracepoints to print")
    p.add_argument("--json", action="store_true",
                   help="print NDJSON, one object per tracepoint or probe (pybcc extension)")
    return p.parse_args(argv)


def events_root():
    for base in TRACEFS:
        root = os.path.join(base, "events")
        if os.path.isdir(root):
            return root
    fail("tplist: tracefs is not mounted (no /sys/kernel/tracing/events)")


def tracepoint_fields(root, category, event):
    """[(type, name)] of a tracepoint's own fields (the common_ ones left out)."""
    try:
        with open(os.path.join(root, category, event, "format")) as f:
            text = f.read()
    except OSError:
        return []
    fields = []
    for decl in FIELD.findall(text):
        parts = decl.split()
        if parts and not parts[-1].startswith("common_"):
            fields.append((" ".join(parts[:-1]), parts[-1]))
    return fields


def print_tracepoints(args):
    root = events_root()
    for category in sorted(os.listdir(root)):
        cat_dir = os.path.join(root, category)
        if not os.path.isdir(cat_dir):
            continue
        for event in sorted(os.listdir(cat_dir)):
            name = f"{category}:{event}"
            if not os.path.isdir(os.path.join(cat_dir, event)):
                continue
            if args.filter and not fnmatch.fnmatch(name, args.filter):
                continue
            fields = tracepoint_fields(root, category, event) if args.verbosity or args.json \
                else []
            if args.json:
                write_json({"tracepoint": name,
                            "fields": [{"type": t, "name": n} for t, n in fields]})
                continue
            print(name)
            for ftype, fname in fields:
                print("    %s %s;" % (ftype, fname))


def argument_text(arg):
    """bcc's text for a USDT argument: "8 unsigned bytes @ *(di + 16)"."""
    if arg.kind == CONST:
        where = "%d" % arg.off
    elif arg.symbol:
        where = "*(&%s %s %d)" % (arg.symbol, "+" if arg.off >= 0 else "-", abs(arg.off))
    elif arg.kind in (DEREF, DEREF_IDX):
        index = ""
        if arg.kind == DEREF_IDX:
            index = " + %s" % arg.index + (" * %d" % arg.scale if arg.scale != 1 else "")
        where = "*(%s %s %d%s)" % (arg.reg, "+" if arg.off >= 0 else "-", abs(arg.off), index)
    else:
        where = arg.reg
    return "%d %s bytes @ %s" % (arg.size, "signed  " if arg.signed else "unsigned", where)


def shown_path(probe):
    """The file as the process names it (pybcc opens it through /proc/PID/root)."""
    return PROC_ROOT.sub("", probe.bin_path)


def probe_json(probe):
    return {"path": shown_path(probe), "probe": f"{probe.provider}:{probe.name}",
            "semaphore": probe.semaphore,
            "locations": [{"address": loc.pc,
                           "arguments": [argument_text(a)
                                         for a in parse_usdt_args(loc.args, loc.machine)]}
                          for loc in probe.locations]}


def print_probe(probe, verbosity):
    short = f"{probe.provider}:{probe.name}"
    if not verbosity:
        print(f"{shown_path(probe)} {short}")
        return
    print("%s [sema 0x%x]" % (short, probe.semaphore))
    if verbosity == 1:
        print("  %d location(s)" % probe.num_locations)
        print("  %d argument(s)" % probe.num_arguments)
        return
    for i, loc in enumerate(probe.locations, 1):
        print("  location #%d %s 0x%x" % (i, shown_path(probe), loc.pc))
        for j, arg in enumerate(parse_usdt_args(loc.args, loc.machine), 1):
            print("    argument #%d %s" % (j, argument_text(arg)))


def lib_path(name):
    """-l: a path, else (as bcc resolves it) a program on PATH, then a library."""
    if "/" in name:
        return name if os.path.isfile(name) else None
    return find_binary(name) or find_library(name, None)


def print_usdt(args):
    target = args.pid or lib_path(args.lib)
    if target is None:
        fail(f"tplist: can't find library or program {args.lib!r}")
    if args.pid and not os.path.isdir(f"/proc/{args.pid}"):
        fail(f"tplist: no process {args.pid}")
    try:
        probes = list_probes(target)
    except (OSError, ValueError) as e:
        fail(f"tplist: cannot read USDT probes of {target}: {e}")
    seen = set()
    for probe in probes:
        short = f"{probe.provider}:{probe.name}"
        if (args.filter and not fnmatch.fnmatch(short, args.filter)) or short in seen:
            continue
        seen.add(short)
        if args.json:
            write_json(probe_json(probe))
        else:
            print_probe(probe, args.verbosity)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.pid or args.lib:
        print_usdt(args)
    else:
        print_tracepoints(args)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
