"""Argument parsing shared by the tools: bcc's usage text, one-line errors,
and the flags every tool has (--json, --duration, interval and count)."""
import argparse
import errno
import os
import re
import sys

JSON_HELP = ("print NDJSON, one JSON object per line: per event, or per interval "
             "for summaries (pybcc extension)")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """bcc's help layout (the description and examples as written), as wide
    as the terminal. argparse asks shutil for the width, and importing shutil
    (zlib, bz2, lzma) costs every tool's start a few ms even without -h."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns():
    """shutil.get_terminal_size().columns: $COLUMNS, the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    return columns if columns > 0 else _terminal_columns()


_terminal_width = None


def _terminal_columns():
    """The terminal's width, else 80; asked once (argparse makes a formatter
    for each add_argument call: ~13 ioctls per start)."""
    global _terminal_width
    if _terminal_width is None:
        try:
            _terminal_width = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            _terminal_width = 0
    return _terminal_width if _terminal_width > 0 else 80


class ToolParser(argparse.ArgumentParser):
    """argparse with bcc's examples under the help, and a bad value reported
    in one line (what was wrong, and where to look) with exit code 2."""

    def __init__(self, prog=None, description=None, examples=None, **kw):
        if kw.get("formatter_class", argparse.RawDescriptionHelpFormatter) is argparse.RawDescriptionHelpFormatter:
            kw["formatter_class"] = HelpFormatter
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


def add_duration_and_json(p, help="total duration of trace, in seconds"):
    """The trailing --duration and --json most tools end their flags with."""
    add_duration(p, help)
    add_json(p)


def add_interval_count(p, count_name="count", interval=99999999):
    """bcc's positional [interval [count]]: report each interval seconds, count times."""
    p.add_argument("interval", nargs="?", default=interval, type=positive_int,
                   help="output interval, in seconds")
    p.add_argument(count_name, nargs="?", default=99999999, type=positive_int,
                   help="number of outputs")


def number(conv, what, check=None, complaint=None):
    """A validating argparse type: ``conv`` (int, float) of the text, then
    ``check(value)``; a failure is one line naming ``what`` was wanted."""
    def parse(text):
        try:
            v = conv(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}") from None
        if check is not None and not check(v):
            raise argparse.ArgumentTypeError(complaint.format(v=v, text=text))
        return v
    return parse


positive_int = number(int, "number", lambda v: v > 0, "must be positive, not {v}")
positive_float = number(float, "number", lambda v: v > 0, "must be positive, not {text}")
non_negative_int = number(int, "number", lambda v: v >= 0, "must not be negative, not {v}")


# A process that exists now (a typo should not trace nothing, silently).
pid = number(int, "pid", lambda v: v > 0 and os.path.exists(f"/proc/{v}"),
             "no process with pid {v}")


def regex(text):
    try:
        re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"bad regular expression {text!r}: {e}") from None
    return text


# A CPU of this machine (an absent one would trace nothing, silently).
cpu = number(int, "CPU number", lambda v: 0 <= v < (os.cpu_count() or 1),
             f"no CPU {{v}} (CPUs are 0-{(os.cpu_count() or 1) - 1})")


def int_between(low, high, what):
    """A validating type: an int from ``low`` to ``high``, e.g. a signal number."""
    return number(int, what, lambda v: low <= v <= high,
                  f"{what} out of range ({low} to {high}): {{v}}")


# a user id: (u32)-1 means "no user"
uid = int_between(0, 0xfffffffe, "uid")


class _PrintBpfSource(argparse.Action):
    def __init__(self, option_strings, dest, tool=None, **kw):
        super().__init__(option_strings, dest, nargs=0, **kw)
        self.tool = tool

    def __call__(self, parser, namespace, values, option_string=None):
        tools_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(tools_dir, f"{self.tool}.bpf.c")) as f:
            sys.stdout.write(f.read())
        parser.exit(0)


def add_ebpf(p, tool):
    """bcc's hidden --ebpf: print the tool's BPF C and exit."""
    p.add_argument("--ebpf", action=_PrintBpfSource, tool=tool, help=argparse.SUPPRESS)


def errno_number(text):
    """An errno as a number or a name (EPERM), as bcc's syscount -e takes it."""
    try:
        return abs(int(text))
    except ValueError:
        pass
    value = getattr(errno, text, None)
    if not isinstance(value, int):
        raise argparse.ArgumentTypeError("couldn't map %s to an errno" % text)
    return value


def add_call_summary_args(p, call):
    """syscount's and ppchcalls' flags from -i to --CALL (``call`` is
    "syscall" or "hcall")."""
    p.add_argument("-i", "--interval", type=positive_int,
                   help="print summary at this interval (seconds)")
    p.add_argument("-d", "--duration", type=positive_int,
                   help="total duration of trace, in seconds")
    p.add_argument("-T", "--top", type=positive_int, default=10,
                   help=f"print only the top {call}s by count or latency")
    p.add_argument("-x", "--failures", action="store_true",
                   help=f"trace only failed {call}s (return < 0)")
    p.add_argument("-e", "--errno", type=errno_number,
                   help=f"trace only {call}s that return this error (numeric or EPERM, etc.)")
    p.add_argument("-L", "--latency", action="store_true", help=f"collect {call} latency")
    p.add_argument("-m", "--milliseconds", action="store_true",
                   help="display latency in milliseconds (default: microseconds)")
    p.add_argument("-P", "--process", action="store_true",
                   help=f"count by process and not by {call}")
    p.add_argument("-l", "--list", action="store_true",
                   help=f"print list of recognized {call}s and exit")
    p.add_argument(f"--{call}", type=str,
                   help=f"trace this {call} only (use option -l to get all recognized {call}s)")


def pid_tid_constants(args, pid_key="targ_pid"):
    """The BPF constants for -p PID / -t TID; the TID trumps the PID, as in bcc."""
    if args.tid:
        return {"targ_tid": args.tid}
    return {pid_key: args.pid} if args.pid else {}


# key_mode of the per-task histogram tools' BPF side (cpudist, runqlat)
KEY_NONE, KEY_PID, KEY_TID, KEY_PIDNS = range(4)


def task_key(tids, pids, pidnss=False):
    """bcc's precedence for one histogram per task: -L (thread) over -P
    (process) over --pidnss; the BPF key_mode and the sections' header."""
    if tids:
        return KEY_TID, "tid"
    if pids:
        return KEY_PID, "pid"
    if pidnss:
        return KEY_PIDNS, "pidns"
    return KEY_NONE, None
