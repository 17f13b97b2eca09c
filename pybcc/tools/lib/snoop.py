"""The event loop of the simple snoop tools: attach a set of programs (some
optional where a syscall is missing on an architecture), then print each
decoded event as a table row until Ctrl-C or --duration."""
from ...errors import BPFError
from ...kernel import features
from .args import add_duration, add_json, pid, tool_parser
from .runtime import stream_events


def parse_pid_snoop_args(name, description, examples, argv, pid_help="trace this PID only"):
    """The flags of a snoop tool that has no others: -p, --duration, --json."""
    p = tool_parser(name, description, examples)
    p.add_argument("-p", "--pid", type=pid, help=pid_help)
    add_duration(p, "stop after this many seconds (pybcc)")
    add_json(p)
    return p.parse_args(argv)


def attach_all(tool, programs, optional=()):
    """Attach every program; one in ``optional`` the kernel lacks is skipped."""
    for prog in programs:
        try:
            tool.attach(prog)
        except BPFError:
            if prog not in optional:
                raise


def attach_kprobes_or(tool, kprobes, fallback, optional=()):
    """bcc's kprobes (all of ``kprobes``) where the kernel has kprobes, else
    the ``fallback`` programs (tracepoints; those in ``optional`` may be
    missing). Returns "kprobe" or "tracepoint": the source used."""
    if features.has_kprobes():
        try:
            attach_all(tool, kprobes)
            return "kprobe"
        except BPFError:
            for link in tool.links:     # a half-attached set
                link.close()
            tool.links.clear()
            tool.mechanisms.clear()
    attach_all(tool, fallback, optional)
    return "tracepoint"


def print_events(tool, table, duration=None, comm=None, should_stop=None):
    """Rows of ``struct event`` records, those whose comm contains ``comm``
    (bytes, bcc's -n) when given; the header first."""
    record = tool.record("event")

    def on_event(data):
        e = record.decode(data)
        if comm is None or comm in e.comm:
            table.write(e)
    tool.open_events(on_event)
    table.print_header()
    stream_events(tool, duration, should_stop)
