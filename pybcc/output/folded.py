"""Folded stacks: the one-line-per-stack text that flame graphs are drawn from.

A line is ``frame;frame;...;frame COUNT``, outermost frame first (bcc's -f,
bpftrace's folded maps, perf script | stackcollapse). Counts of repeated
stacks add up. Two profiles can be paired for a differential flame graph.
"""
import sys


class FoldedError(ValueError):
    """A line that is not ``STACK COUNT``."""


def parse_count(text):
    """Counts are integers; fractional weights (some converters write them) stay floats."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise
        return value


def parse(lines, source="<input>"):
    """{stack string: count} from folded text lines. Blank and '#' lines are skipped."""
    stacks = {}
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(None, 1)     # frame names may hold spaces; the count is last
        try:
            if len(parts) != 2:
                raise ValueError
            stack, count = parts
            value = parse_count(count)
        except ValueError:
            raise FoldedError("%s:%d: not a folded stack line (expected 'frame;frame;... COUNT'): %.60r"
                              % (source, lineno, line)) from None
        if value < 0:
            raise FoldedError("%s:%d: negative count %s" % (source, lineno, count))
        stack = stack.rstrip()
        stacks[stack] = stacks.get(stack, 0) + value
    return stacks


def read(path):
    """Parse a folded file; '-' is standard input."""
    if path == "-":
        return parse(sys.stdin, "<stdin>")
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse(f, path)


def merge(*profiles):
    """The sum of several {stack: count} profiles."""
    total = {}
    for profile in profiles:
        for stack, count in profile.items():
            total[stack] = total.get(stack, 0) + count
    return total


def pair(before, after):
    """{stack: (before count, after count)} over the stacks of both profiles."""
    return {stack: (before.get(stack, 0), after.get(stack, 0))
            for stack in set(before) | set(after)}


def normalize(before, after):
    """``before`` scaled so that its total equals ``after``'s (compare shapes, not amounts)."""
    total_before, total_after = sum(before.values()), sum(after.values())
    if not total_before:
        return dict(before)
    scale = total_after / total_before
    return {stack: count * scale for stack, count in before.items()}


def format_lines(stacks):
    """Folded text, smallest count first (bcc's order)."""
    return "".join("%s %s\n" % (stack, count)
                   for stack, count in sorted(stacks.items(), key=lambda kv: kv[1]))


def total(stacks):
    return sum(stacks.values())
