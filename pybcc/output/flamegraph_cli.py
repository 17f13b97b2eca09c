"""`pybcc flamegraph [FOLDED_FILE|-] [options] > out.svg`: any folded stacks
(bcc -f, bpftrace, perf + stackcollapse, pybcc) drawn as pybcc's flame graph."""
import argparse
import sys

from . import flamegraph, folded, speedscope

EXAMPLES = """examples:
    pybcc profile -f 10 > out.folded; pybcc flamegraph out.folded > cpu.svg
    pybcc profile -af 10 | pybcc flamegraph - > cpu.svg   # _[k]: kernel frames in orange
    pybcc offcputime -f 5 | pybcc flamegraph --unit us --title "Off-CPU Time" > off.svg
    pybcc flamegraph --inverted out.folded > icicle.svg
    pybcc flamegraph --diff before.folded after.folded > diff.svg   # red grew, blue shrank
    pybcc flamegraph --diff --negate before.folded after.folded > gone.svg  # BEFORE's widths
    pybcc flamegraph --format speedscope out.folded -o out.speedscope.json
"""


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(prog="pybcc flamegraph",
                                description="Draw folded stacks as an interactive flame graph (SVG).",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    p.add_argument("files", nargs="*", default=["-"], metavar="FOLDED_FILE",
                   help="folded stacks ('frame;frame;... COUNT' lines); '-' or none: standard "
                        "input; several files add up")
    p.add_argument("--diff", action="store_true",
                   help="differential: two files, BEFORE AFTER; widths from AFTER, red where a "
                        "frame grew, blue where it shrank")
    p.add_argument("--negate", action="store_true",
                   help="with --diff: widths from BEFORE (shows what shrank or went away); "
                        "colours still red for growth, blue for shrinkage")
    p.add_argument("--normalize", action="store_true",
                   help="with --diff: scale BEFORE to AFTER's total first")
    p.add_argument("--title", help="title (default: Flame Graph)")
    p.add_argument("--subtitle", help="second line under the title")
    p.add_argument("--unit", default="samples", choices=flamegraph.UNITS,
                   help="what the counts are (us, ns: time, shown as µs/ms/s; bytes)")
    p.add_argument("--width", type=int, default=1200, help="image width in pixels (default 1200)")
    p.add_argument("--minwidth", type=positive_float, default=0.1,
                   help="frames narrower than this many pixels merge (default 0.1)")
    p.add_argument("--inverted", action="store_true", help="icicle graph: root at the top")
    p.add_argument("--format", choices=("svg", "speedscope", "folded"), default="svg",
                   help="output: svg (default), speedscope JSON, or folded (merged input)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    args = p.parse_args(argv)
    if (args.negate or args.normalize) and not args.diff:
        p.error("--negate and --normalize go with --diff")
    if args.diff and len(args.files) != 2:
        p.error("--diff needs two files: BEFORE AFTER")
    if args.width < 100:
        p.error("--width must be at least 100")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        profiles = [folded.read(path) for path in args.files]
    except OSError as e:
        print("pybcc flamegraph: cannot read %s: %s" % (e.filename, e.strerror), file=sys.stderr)
        return 1
    except folded.FoldedError as e:
        print("pybcc flamegraph: %s" % e, file=sys.stderr)
        return 1
    if args.diff:
        before, after = profiles
        if args.normalize:
            before = folded.normalize(before, after)
        stacks, merged = folded.pair(before, after), before if args.negate else after
    else:
        stacks = merged = folded.merge(*profiles)
    if not merged:
        print("pybcc flamegraph: no stacks in the input", file=sys.stderr)
        return 1
    if args.format == "speedscope":
        text = speedscope.dumps(merged, name=args.title or "pybcc", unit=args.unit)
    elif args.format == "folded":
        text = folded.format_lines(merged)
    else:
        text = flamegraph.render(stacks, title=args.title, subtitle=args.subtitle, unit=args.unit,
                                 width=args.width, min_width=args.minwidth, inverted=args.inverted,
                                 differential=args.diff, negate=args.negate)
    if not args.output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        print("pybcc flamegraph: cannot write %s: %s" % (args.output, e.strerror), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
