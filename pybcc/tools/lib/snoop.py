"""The event loop of the simple snoop tools: attach a set of programs (some
optional where a syscall is missing on an architecture), then print each
decoded event as a table row until Ctrl-C or --duration."""
from ...errors import BPFError
from .runtime import stream_events


def attach_all(tool, programs, optional=()):
    """Attach every program; one in ``optional`` the kernel lacks is skipped."""
    for prog in programs:
        try:
            tool.attach(prog)
        except BPFError:
            if prog not in optional:
                raise


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
