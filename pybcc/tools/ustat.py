"""ustat: activity stats from high-level languages, top-like (bcc's columns
and flags): method calls, GCs, object allocations, class loads, exceptions
and threads per second, per process, from the runtimes' USDT probes."""
import argparse
import os
import sys
import time

from ..errors import AttachError
from ..output.table import Column, Table, write_json
from .lib import langs
from .lib.args import add_json, pid, positive_int, tool_parser
from .lib.runtime import Tool, sleep_intervals, status

LANGUAGES = ["java", "node", "perl", "php", "python", "ruby", "tcl"]
CLEAR = "\033[H\033[2J"     # what clear(1) writes on common terminals

EXAMPLES = f"""examples:
  ./ustat              # stats for all languages, 1 second refresh
  ./ustat -C           # don't clear the screen
  ./ustat -l java      # Java processes only
  ./ustat 5            # 5 second summaries
  ./ustat 5 10         # 5 second summaries, 10 times only
  ./ustat -C -p 185 1 3   # process 185 only, three 1 s summaries (pybcc)

Processes are found by their executable (java, node, perl, php, python,
ruby, tcl) each interval; the probes go on the runtime's file once, for every
process that runs it (new ones included). Processes whose runtime has no
USDT probes are not listed: ustat says once how many it skipped (Debian 12's
node, perl and tcl have none).
{langs.HELP_PYTHON}
Ruby 2.5+ fires method__entry only while the process has a TracePoint
enabled; cmethod__entry (C methods) always.
"""


def parse_args(argv):
    p = tool_parser("ustat", "Activity stats from high-level languages.", EXAMPLES)
    p.add_argument("-l", "--language", choices=LANGUAGES,
                   help="language to trace (default: all languages)")
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-S", "--sort", choices=[c.lower() for c in sorted(langs.CATEGORIES)],
                   help="sort by this field (descending order)")
    p.add_argument("-r", "--maxrows", default=20, type=positive_int,
                   help="maximum rows to print, default 20")
    p.add_argument("-d", "--debug", action="store_true",
                   help="Print the resulting BPF program (for debugging purposes)")
    p.add_argument("-p", "--pid", type=pid, help="trace this process only (pybcc extension)")
    p.add_argument("interval", nargs="?", default=1, type=positive_int,
                   help="output interval, in seconds")
    p.add_argument("count", nargs="?", default=99999999, type=positive_int,
                   help="number of outputs")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    add_json(p)
    return p.parse_args(argv)


def cmdline_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return " ".join(f.read().replace(b"\0", b" ").decode("utf-8", "replace").split())
    except OSError:
        return ""


class Targets:
    """The processes of the chosen runtimes, found by executable each
    interval, and the probes put on each runtime file once."""

    def __init__(self, tool, languages, only_pid=None, debug=False):
        self.tool, self.languages, self.only_pid, self.debug = tool, languages, only_pid, debug
        self.cmdlines = {}          # pid → command line, of processes with probes
        self.files = set()          # (dev, inode) of runtime files with probes attached
        self.without = {}           # pid → language, of processes without probes
        self.told = set()

    def _candidates(self):
        pids = [self.only_pid] if self.only_pid else \
            [int(d) for d in os.listdir("/proc") if d.isdigit()]
        for p in pids:
            try:
                exe = os.path.basename(os.readlink(f"/proc/{p}/exe"))
            except OSError:
                continue
            lang = next((n for n in self.languages
                         if n in exe or (n == "tcl" and exe.startswith("wish"))), None)
            if lang:
                yield p, langs.LANGS[lang]

    def refresh(self):
        self.cmdlines = {}
        for p, lang in self._candidates():
            if p == os.getpid():
                continue
            found = langs.probe_file(p, lang)
            if found is None:
                self.without[p] = lang.name
                continue
            self.cmdlines[p] = cmdline_of(p)
            path, locations = found
            st = os.stat(path)
            if (st.st_dev, st.st_ino) not in self.files:
                self.files.add((st.st_dev, st.st_ino))
                self._attach(lang, path, locations)
        new = {p: n for p, n in self.without.items() if p not in self.told}
        if new:
            self.told.update(new)
            names = sorted(set(new.values()))
            status(f"ustat: skipped {len(new)} {'/'.join(names)} process(es) without USDT "
                   f"probes: " + "; ".join(langs.LANGS[n].no_probes or f"{n}: built without them"
                                           for n in names), json=True)
        if self.debug:
            print("Attached to processes:", ", ".join(map(str, sorted(self.cmdlines))))

    def _attach(self, lang, path, locations):
        at = langs.Attacher(self.tool, lang, self.only_pid or -1, path, locations)
        for probe, category in lang.stats.items():
            try:
                at.attach("count_event", probe, langs.CATEGORIES.index(category),
                          required=False)
            except AttachError as e:
                status(f"ustat: {e}", json=True)


def columns(interval):
    def rate(cat):
        return lambda r: r[2].get(cat, 0) // interval
    return [Column("PID", "%-6d ", lambda r: r[0]),
            Column("CMDLINE", "%-20s ", lambda r: r[1][:20], json=lambda r: r[1]),
            Column("METHOD/s", "%-10d ", rate("METHOD"), key="method_s"),
            Column("GC/s", "%-6d ", rate("GC"), key="gc_s"),
            Column("OBJNEW/s", "%-10d ", rate("OBJNEW"), key="objnew_s"),
            Column("CLOAD/s", "%-8d ", rate("CLOAD"), key="cload_s"),
            Column("EXC/s", "%-6d ", rate("EXCP"), key="exc_s"),
            Column("THR/s", "%-6d", rate("THREAD"), key="thr_s")]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.verbose = args.debug
    langs.show_source(args, "ustat")
    languages = [args.language] if args.language else LANGUAGES
    table = Table(columns(args.interval), json=args.json)

    def screen(targets):
        counts = {}
        for k, v in tool.maps["counts"].pop_all():
            counts.setdefault(k.tgid, {})[langs.CATEGORIES[k.category]] = v
        rows = [(p, targets.cmdlines.get(p) or cmdline_of(p), counts.get(p, {}))
                for p in set(targets.cmdlines) | set(counts)]
        if args.sort:
            rows.sort(key=lambda r: -r[2].get(args.sort.upper(), 0))
        else:
            rows.sort(key=lambda r: r[0])
        rows = rows[:args.maxrows]
        with open("/proc/loadavg") as f:
            loadavg = f.read()
        if args.json:
            write_json({"ts": round(time.time(), 6), "loadavg": loadavg.strip(),
                        "rows": [table.as_dict(r) for r in rows]})
        else:
            out = ["\n" if args.noclear else CLEAR,
                   "%-8s loadavg: %s\n" % (time.strftime("%H:%M:%S"), loadavg),
                   table.header_text() + "\n", *(table.text(r) + "\n" for r in rows)]
            sys.stdout.write("".join(out))
        sys.stdout.flush()

    with Tool("ustat") as tool:
        targets = Targets(tool, languages, args.pid, args.debug)
        targets.refresh()
        status("Tracing... Output every %d secs. Hit Ctrl-C to end" % args.interval, args.json)
        for last in sleep_intervals(args.interval, args.count):
            screen(targets)
            if not last:
                targets.refresh()
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
