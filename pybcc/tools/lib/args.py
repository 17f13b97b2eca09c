"""Argument parsing shared by the tools: bcc's usage text, one-line errors,
and the flags every tool has (--json, --duration, interval and count)."""
import argparse
import os
import re
import sys

JSON_HELP = ("print NDJSON, one JSON object per line: per event, or per interval "
             "for summaries (pybcc extension)")


class ToolParser(argparse.ArgumentParser):
    """argparse with bcc's examples under the help, and a bad value reported
    in one line (what was wrong, and where to look) with exit code 2."""

    def __init__(self, prog=None, description=None, examples=None, **kw):
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(prog=prog, description=description, epilog=examples, **kw)

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} -h)\n")
        sys.exit(2)


def tool_parser(name, description, examples=None, **kw):
    return ToolParser(prog=f"pybcc {name}", description=description, examples=examples, **kw)


def add_json(p):
    p.add_argument("--json", action="store_true", help=JSON_HELP)


def add_duration(p, help="total duration of trace, in seconds"):
    p.add_argument("--duration", type=positive_float, help=help)


def add_interval_count(p, count_name="count", interval=99999999):
    """bcc's positional [interval [count]]: report each interval seconds, count times."""
    p.add_argument("interval", nargs="?", default=interval, type=positive_int,
                   help="output interval, in seconds")
    p.add_argument(count_name, nargs="?", default=99999999, type=positive_int,
                   help="number of outputs")


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {v}")
    return v


def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return v


def pid(text):
    """A process that exists now (a typo should not trace nothing, silently)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid pid {text!r}") from None
    if v <= 0 or not os.path.exists(f"/proc/{v}"):
        raise argparse.ArgumentTypeError(f"no process with pid {v}")
    return v


def regex(text):
    try:
        re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"bad regular expression {text!r}: {e}") from None
    return text


def cpu(text):
    """A CPU of this machine (an absent one would trace nothing, silently)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid CPU number {text!r}") from None
    if not 0 <= v < (os.cpu_count() or 1):
        raise argparse.ArgumentTypeError(f"no CPU {v} (CPUs are 0-{(os.cpu_count() or 1) - 1})")
    return v


def int_between(low, high, what):
    """A validating type: an int from ``low`` to ``high``, e.g. a signal number."""
    def check(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"{what} out of range ({low} to {high}): {v}")
        return v
    return check


# a user id: (u32)-1 means "no user"
uid = int_between(0, 0xfffffffe, "uid")


def non_negative_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {v}")
    return v
