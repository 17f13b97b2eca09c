"""--format folded|svg|speedscope and -o FILE for the stack tools (profile,
offcputime, stackcount, memleak): the counted stacks as folded text, an
interactive flame graph, or a speedscope profile, on stdout or in a file.

bcc's -f stays what it is: folded text on stdout. In an SVG, kernel frames
carry _[k] whatever -a says, so that they are drawn in their own colour.
"""
import shlex
import sys
import time

from .outfile import check_writable

FORMATS = ("folded", "svg", "speedscope")
FORMAT_HELP = ("write the stacks as folded text, an interactive flame graph (svg) or "
               "speedscope JSON (pybcc extension)")
OUTPUT_HELP = ("write the --format output into FILE instead of stdout (the format follows "
               "the name: .svg, .json, else folded, unless --format says)")


def add_arguments(parser, short_output=True):
    """``short_output=False`` where bcc's tool already has -o (memleak's --older)."""
    parser.add_argument("--format", choices=FORMATS, help=FORMAT_HELP)
    names = ("-o", "--output") if short_output else ("--output",)
    parser.add_argument(*names, metavar="FILE", help=OUTPUT_HELP)


def requested(args):
    """True when --format or -o asks for this module's output (-f alone
    keeps bcc's own folded lines)."""
    return bool(args.format or args.output)


def chosen_format(args):
    """None (bcc's text report), or one of FORMATS."""
    if args.format:
        return args.format
    if args.output:
        name = args.output.lower()
        return "svg" if name.endswith(".svg") else "speedscope" if name.endswith(".json") else "folded"
    return "folded" if getattr(args, "folded", False) else None


def quiet(args):
    """True when stdout carries only the stacks (no header, no blank lines)."""
    return chosen_format(args) is not None and not args.output


def report_stacks(picture, printer, stacks, args, unit):
    """profile's and offcputime's report: the Stacks as the picture asks
    (--format, -o), else as bcc prints them (lib.stacks.write_stacks)."""
    if picture:
        picture.stop_clock()      # the trace ended before symbolizing
        picture.write(picture.fold(printer, stacks))
    else:
        from .stacks import write_stacks
        write_stacks(printer, stacks, args.folded, args.json, unit=unit)


class StackFile:
    """Collects {folded stack: count} and writes it in the chosen format."""

    def __init__(self, args, tool, argv, unit="samples", title="Flame Graph", count_name=None,
                 total_label="%s"):
        if args.output:
            check_writable(args.output, tool)
        self.format = chosen_format(args)
        self.output = args.output
        self.tool, self.unit, self.title = tool, unit, title
        self.count_name = count_name
        self.total_label = total_label      # the subtitle's total: "%s off-CPU"
        self.command = "pybcc %s %s" % (tool, " ".join(shlex.quote(a) for a in argv))
        self.started = time.monotonic()
        self.traced = None
        self.stacks = {}        # for tools that add up counts over intervals

    @property
    def annotate_kernel(self):
        return self.format == "svg"

    def start_clock(self):
        """The trace begins (after loading and attaching)."""
        self.started = time.monotonic()

    def stop_clock(self):
        """The trace ended (the subtitle's duration leaves out symbolizing)."""
        if self.traced is None:
            self.traced = time.monotonic() - self.started

    def fold(self, printer, stacks, into=None):
        """{folded stack: value} from lib.stacks Stacks, as bcc's folded lines
        would print them (stacks that fold the same add up, also to what
        ``into`` holds already). A stack without a process (stackcount
        without -P) has no root frame."""
        from .stacks import folded_stacks
        out = {} if into is None else into
        for frames, value in folded_stacks(printer, stacks):
            line = ";".join(frames).lstrip(";")
            out[line] = out.get(line, 0) + value
        return out

    def write(self, stacks):
        from ...output import flamegraph, folded, speedscope   # at the end only
        fmt = self.format
        total = folded.total(stacks)
        if fmt == "folded":
            text = folded.format_lines(stacks)
        elif fmt == "speedscope":
            text = speedscope.dumps(stacks, name=self.command, unit=self.unit)
        else:
            amount = self.total_label % flamegraph.format_amount(total, self.count_name or self.unit)
            seconds = self.traced if self.traced is not None else time.monotonic() - self.started
            subtitle = "%s · %.1f s · %s · %s" % (self.command, seconds,
                                                   amount, time.strftime("%Y-%m-%d %H:%M:%S"))
            text = flamegraph.render(stacks, title=self.title, subtitle=subtitle, unit=self.unit,
                                     count_name=self.count_name)
        if not self.output:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        with open(self.output, "w", encoding="utf-8") as f:
            f.write(text)
        print("%s: wrote %s (%s, %d stacks)" % (self.tool, self.output, fmt, len(stacks)),
              file=sys.stderr)
