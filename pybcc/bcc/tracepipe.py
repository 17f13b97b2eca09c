"""bcc's trace_pipe readers: bpf_trace_printk() output as lines or fields.

A trace_pipe line looks like
    "            bash-1234    [001] d..31  5678.123456: bpf_trace_printk: hello"
(older kernels: no "bpf_trace_printk:" tag but the probe's address). The
pipe is shared by every reader on the machine: each line goes to one reader.
"""
import os
import re
import sys

from ..kernel import tracefs

# task-pid, [cpu], flags (optional, at least on old kernels), timestamp, rest
_LINE = re.compile(rb"^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:(\S+)\s+)?(\d+\.\d+):\s?(.*)$")


def parse_line(line):
    """(task, pid, cpu, flags, ts, msg) of one trace_pipe line (bytes where
    bcc gives bytes), or None for lines that are not events: blank lines,
    "CPU:3 [LOST 12 EVENTS]" (bcc skips both)."""
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogateescape")
    line = line.rstrip(b"\n")
    if line.startswith(b"CPU:"):
        return None
    m = _LINE.match(line)
    if m is None:
        return None
    task, pid, cpu, flags, ts, rest = m.groups()
    # rest: "bpf_trace_printk: msg" or "0x00000001: msg" (the probe address)
    tag, sep, msg = rest.partition(b": ")
    if not sep or b" " in tag:
        msg = rest
    return (task.strip(), int(pid), int(cpu), flags or b"", float(ts), msg)


class TracePipe:
    """Mixed into BPF: trace_open/trace_readline/trace_fields/trace_print."""

    tracefile = None

    def trace_open(self, nonblocking=False):
        """Open trace_pipe once; later calls only switch blocking mode."""
        if self.tracefile is None:
            fd = os.open(tracefs.path("trace_pipe"), os.O_RDONLY)
            self.tracefile = os.fdopen(fd, "rb", buffering=0)
            self._trace_buf = b""
            self._trace_nonblocking = False
        if self._trace_nonblocking != nonblocking:
            os.set_blocking(self.tracefile.fileno(), not nonblocking)
            self._trace_nonblocking = nonblocking
        return self.tracefile

    def trace_close(self):
        if self.tracefile is not None:
            self.tracefile.close()
            self.tracefile = None

    def trace_readline(self, nonblocking=False):
        """One line of trace_pipe (bytes, no newline); None when nonblocking
        and nothing is there."""
        f = self.trace_open(nonblocking)
        while b"\n" not in self._trace_buf:
            try:
                chunk = f.read(4096)
            except BlockingIOError:
                chunk = None
            if not chunk:
                if nonblocking:
                    return None
                continue
            self._trace_buf += chunk
        line, self._trace_buf = self._trace_buf.split(b"\n", 1)
        return line.rstrip()

    def trace_fields(self, nonblocking=False):
        """(task, pid, cpu, flags, ts, msg) of the next event line; a tuple
        of six Nones when nonblocking and nothing is there."""
        while True:
            line = self.trace_readline(nonblocking)
            if line is None:
                return (None,) * 6
            fields = parse_line(line)
            if fields is not None:
                return fields

    def trace_print(self, fmt=None):
        """Print trace_pipe forever; ``fmt`` formats the fields
        ("{0} {1} {5}": task, pid, cpu, flags, ts, msg)."""
        while True:
            if fmt:
                line = fmt.format(*self.trace_fields())
            else:
                line = self.trace_readline()
            print(line)
            sys.stdout.flush()
