"""What hardirqs and softirqs (and softirqslower) share: the softirq names, bcc's flags, the constants their BPF
programs take (include/pybcc/irqtime.h), and the report of each interval:
totals per handler, or histograms."""
from .args import add_duration_and_json, add_interval_count, cpu, tool_parser
from .report import report_loop
from .runtime import fail
from ...output.histogram import collect_sections, sections_json, sections_text
from ...output.table import Column, Table

MODE_TIME, MODE_COUNT, MODE_DIST = range(3)

# softirq_to_name[] of kernel/softirq.c
VEC_NAMES = ["hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched",
             "hrtimer", "rcu"]


def vec_to_name(vec):
    """A softirq vector's name (softirqs, softirqslower)."""
    return VEC_NAMES[vec] if vec < len(VEC_NAMES) else str(vec)


def parse_args(argv, name, description, examples, count_option, count_help, outputs_name):
    """bcc's flags; ``count_option`` (-C) and ``outputs_name`` are spelled
    differently by the two tools, so that usage text stays bcc's."""
    p = tool_parser(name, description, examples)
    p.add_argument("-T", "--timestamp", action="store_true", help="include timestamp on output")
    p.add_argument("-N", "--nanoseconds", action="store_true", help="output in nanoseconds")
    p.add_argument("-C", count_option, action="store_true", help=count_help)
    p.add_argument("-d", "--dist", action="store_true", help="show distributions as histograms")
    p.add_argument("-c", "--cpu", type=cpu, help="trace this CPU only")
    add_interval_count(p, outputs_name)
    add_duration_and_json(p)
    args = p.parse_args(argv)
    args.counting = getattr(args, count_option[2:])
    args.outputs = getattr(args, outputs_name)
    if args.counting and (args.dist or args.nanoseconds):
        fail("The %s option can't be used with time-based options" % count_option)
    return args


def units(count, nanoseconds):
    """(factor, label) as bcc's irq tools choose them."""
    if count:
        return 1, "count"
    if nanoseconds:
        return 1, "nsecs"
    return 1000, "usecs"


def constants(args):
    """The BPF program's constants, for parse_args' result."""
    mode = MODE_COUNT if args.counting else MODE_DIST if args.dist else MODE_TIME
    return {"mode": mode, "factor": units(args.counting, args.nanoseconds)[0],
            "targ_cpu": args.cpu if args.cpu is not None else -1}


def report(tool, args, kind, width, section, shown=str):
    """Report each interval until count, --duration or Ctrl-C: histograms by
    ``section(key)`` with -d, else totals (in a column ``width`` wide) named
    ``shown(section(key))``; ``kind`` is "hardirq" or "softirq"."""
    factor, label = units(args.counting, args.nanoseconds)
    totals = Table([Column(kind.upper(), "%%-%ds " % width, lambda r: r[0]),
                    Column("TOTAL_" + label, "%11d", lambda r: r[1] / factor, key="total",
                           json=lambda r: r[1] / factor if factor != 1 else r[1])])

    def one_interval(json):
        if args.dist:
            hists = collect_sections(tool.maps["dist"], section)
            return sections_json(hists, label, kind, shown) if json else \
                sections_text(hists, label, kind, shown)
        rows = sorted(((shown(section(k)), v) for k, v in tool.maps["dist"].pop_all()),
                      key=lambda r: r[1])
        if json:
            return {"unit": label, "rows": [totals.as_dict(r) for r in rows]}
        return "".join(line + "\n" for line in [totals.header_text(), *map(totals.text, rows)])

    report_loop(one_interval, args.interval, args.outputs, args.duration, args.json,
                args.timestamp)


def run(args, name, entry, exit, kind, width, section, shown=str, count_at_exit=False):
    """A whole run of hardirqs or softirqs: load NAME, attach its ``entry``
    program and its ``exit`` one (not needed to count, unless
    ``count_at_exit``), say what is traced ("hard irq"/"soft irq" from
    ``kind``), then report (see report)."""
    from .runtime import Tool, status
    words = {"hardirq": "hard irq", "softirq": "soft irq"}[kind]
    with Tool(name, constants(args)) as tool:
        tool.attach(entry)
        if count_at_exit or not args.counting:
            tool.attach(exit)
        status("Tracing %s event%s... Hit Ctrl-C to end." % (words, "s" if args.counting else " time"),
               args.json)
        report(tool, args, kind, width, section, shown)
    return 0
