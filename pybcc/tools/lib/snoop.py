"""The event loop of the simple snoop tools: attach a set of programs (some
optional where a syscall is missing on an architecture), then print each
decoded event as a table row until Ctrl-C or --duration."""
from ...errors import BPFError
from ...kernel import features
from ...output.table import Table
from .args import add_duration_and_json, pid, tool_parser
from .runtime import Tool, stream_events


def parse_pid_snoop_args(name, description, examples, argv, pid_help="trace this PID only"):
    """The flags of a snoop tool that has no others: -p, --duration, --json."""
    p = tool_parser(name, description, examples)
    p.add_argument("-p", "--pid", type=pid, help=pid_help)
    add_duration_and_json(p, "stop after this many seconds (pybcc)")
    return p.parse_args(argv)


def attach_all(tool, programs, optional=()):
    """Attach every program (a name, (name, target) or (name, target, dict
    of Tool.attach's keywords)); one in ``optional`` the kernel lacks is
    skipped."""
    for prog in programs:
        name, target, *kw = prog if isinstance(prog, tuple) else (prog, None)
        try:
            tool.attach(name, target, **(kw[0] if kw else {}))
        except BPFError:
            if prog not in optional and name not in optional:
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


def print_events(tool, table, duration=None, comm=None, should_stop=None, as_bytes=False):
    """Rows of ``struct event`` records, those whose comm contains ``comm``
    (bytes, bcc's -n) when given; the header first. ``as_bytes``: where
    every column shows a record field, format the line as bytes, as bcc's
    printb does (a non-ASCII name pads by bytes), and decode once per batch:
    for tools that print at the rate of common syscalls."""
    record = tool.record("event")
    fields = table.attributes() if as_bytes and not table.json else None
    if fields and (comm is None or "comm" in fields):
        # straight from the record's bytes, without building a Record
        values, line = record.values_getter(fields), table.bytes_format()
        comm_at = fields.index("comm") if comm is not None else None
        lines = []

        def on_plain_event(data):
            v = values(data)
            if comm_at is None or comm in v[comm_at]:
                lines.append(line % v)

        def write_batch():
            if lines:
                text = b"".join(lines).decode(errors="replace")
                lines.clear()
                table.out.write(text)
        tool.open_events(on_plain_event)
        table.print_header()
        stream_events(tool, duration, should_stop, on_batch=write_batch)
        return

    def on_event(data):
        e = record.decode(data)
        if comm is None or comm in e.comm:
            table.write(e)
    tool.open_events(on_event)
    table.print_header()
    stream_events(tool, duration, should_stop)


def snoop(name, args, columns, constants=None, programs=(), optional=(), attach=None,
          comm=None, should_stop=None, as_bytes=False):
    """The whole run of a simple snoop tool: load NAME's object with
    ``constants``, attach ``programs`` (and whatever ``attach(tool)`` does),
    then print each event as a row of ``columns`` (text, or --json) until
    Ctrl-C, --duration or should_stop() (``as_bytes``: see print_events)."""
    table = Table(columns, json=args.json)
    with Tool(name, constants, events=True) as tool:
        attach_all(tool, programs, optional)
        if attach is not None:
            attach(tool)
        print_events(tool, table, getattr(args, "duration", None), comm, should_stop, as_bytes)
    return 0


def set_constants(**values):
    """The BPF constants among ``values`` that are set: 0/None keep the
    object's default (no filter)."""
    return {k: v for k, v in values.items() if v}
