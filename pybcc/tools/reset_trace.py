"""reset-trace: reset the state of tracing (tracefs), disabling what a crashed tool left enabled (bcc's flags and output).

bcc's reset-trace is a shell script; this is the same, file by file: the
files bcc's tools use (kprobe_events, uprobe_events, trace) are reset when
not empty; the others are only checked, and reset with -F. pybcc's tools
attach through perf links that the kernel removes when a tool exits, so
there is rarely anything of theirs to reset; probes made through tracefs by
older tools, bcc or perf are what this finds.
"""
import os
import sys

from .lib.args import tool_parser

EXAMPLES = """  eg,
       reset-trace              # disable semi-enabled tracing
       reset-trace -n -v        # show what would be reset, change nothing (pybcc)
       reset-trace --instance foo -F  # reset tracefs instance "foo" (pybcc)
"""

# (file, value written, value expected); the first three are bcc's own
BCC_FILES = [("kprobe_events", "", ""), ("uprobe_events", "", ""), ("trace", "", "")]
OTHER_FILES = [("current_tracer", "nop", "nop"), ("set_ftrace_filter", "", ""),
               ("set_graph_function", "", ""), ("set_ftrace_pid", "", "no pid"),
               ("events/enable", "0", "0"), ("tracing_thresh", "0", "0"),
               ("tracing_on", "1", "1")]


def parse_args(argv):
    p = tool_parser("reset-trace", "Reset the state of tracing, disabling all tracing.",
                    EXAMPLES)
    p.add_argument("-F", dest="force", action="store_true",
                   help="force: reset all tracing files")
    p.add_argument("-v", dest="verbose", action="store_true",
                   help="verbose: print details while working")
    p.add_argument("-q", dest="quiet", action="store_true", help="quiet: no output")
    p.add_argument("-n", "--dry-run", action="store_true",
                   help="say what would be reset, write nothing (pybcc)")
    p.add_argument("--instance", metavar="NAME",
                   help="the tracefs instance NAME (instances/NAME) instead of the "
                        "top level (pybcc)")
    return p.parse_args(argv)


class Resetter:
    def __init__(self, directory, args):
        self.dir, self.args = directory, args

    def say(self, text=""):
        if self.args.verbose:
            print(text)

    def contents(self, name):
        """The file without its comment lines, as the shell's $(grep -v '^#' f)
        has it; None (after a warning) when it cannot be read."""
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                text = f.read()
        except OSError as e:
            print(f"WARNING: file {name} not readable ({e.strerror}). Skipping.", file=sys.stderr)
            return None
        return "\n".join(ln for ln in text.split("\n") if not ln.startswith("#")).rstrip("\n")

    def numbered(self, name):
        if self.args.verbose:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                for i, ln in enumerate(f.read().splitlines(), 1):
                    print("%6d\t%s" % (i, ln))

    def write(self, name, value, expected):
        """bcc's writefile: reset the file when it is not as expected."""
        path = os.path.join(self.dir, name)
        if not os.access(path, os.W_OK):
            print(f"WARNING: file {name} not writable/exists. Skipping.", file=sys.stderr)
            return
        self.say(f"Checking {path}")
        found = self.contents(name)
        if found is None or found == expected:
            return
        if not self.args.quiet:
            print(f"Needed to reset {path}" + (" (dry run: not written)" if self.args.dry_run
                                               else ""))
        self.say(f"{name}, before (line enumerated):")
        self.numbered(name)
        if self.args.dry_run:
            return
        try:
            with open(path, "w") as f:      # O_TRUNC, as the shell's '>'
                f.write(value + "\n")
        except OSError:
            print(f'WARNING: command failed "echo {value} > {name}". bcc still running? '
                  f'Continuing.', file=sys.stderr)
        self.say(f"{name}, after (line enumerated):")
        self.numbered(name)
        self.say()

    def check(self, name, value, expected):
        """bcc's checkfile: reset only with -F; otherwise say it differs."""
        if not os.path.exists(os.path.join(self.dir, name)):
            print(f"WARNING: file {name} doesn't exist. Skipping.", file=sys.stderr)
            return
        if self.args.force:
            self.write(name, value, expected)
            return
        if self.args.quiet:
            return
        path = os.path.join(self.dir, name)
        self.say(f"Checking {path}")
        found = self.contents(name)
        if found is not None and found != expected:
            print(f"Noticed unrelated tracing file {path} isn't set as expected. Not "
                  f"resetting (-F to force, -v for verbose).")
            self.say(f"Contents of {name} is (line enumerated):")
            self.numbered(name)
            self.say(f'Expected "{expected}".')


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from ..errors import BPFError
    from ..kernel import tracefs
    try:
        root = tracefs.mount_point()
    except (OSError, BPFError) as e:
        print(f"ERROR: accessing tracing. Root user? /sys/kernel/tracing? ({e})", file=sys.stderr)
        return 1
    directory = os.path.join(root, "instances", args.instance) if args.instance else root
    if not os.path.isdir(directory):
        print(f"ERROR: no tracefs instance {args.instance} ({directory})", file=sys.stderr)
        return 2
    r = Resetter(directory, args)
    r.say("Resetting tracing state...")
    r.say()
    for name, value, expected in BCC_FILES:
        r.write(name, value, expected)
    for name, value, expected in OTHER_FILES:
        r.check(name, value, expected)
    r.say()
    r.say("Done.")
    return 0


if __name__ == "__main__":
    from .lib.runtime import run_tool
    sys.exit(run_tool(main, sys.argv[1:]))
