"""Raw tracepoints: RAW_TRACEPOINT programs see the tracepoint's raw arguments."""
from ..errors import AttachError, BPFError
from ..kernel import bpf, tracefs
from .link import Link


def _suggest(name):
    """Raw tracepoint names are tracepoint names without the category."""
    import difflib
    try:
        names = sorted({tp.split(":", 1)[1] for tp in tracefs.list_tracepoints()})
    except (OSError, BPFError):
        return ""
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    return "; did you mean " + ", ".join(close) + "?" if close else ""


def attach_raw_tracepoint(prog_fd, name):
    """Attach to raw tracepoint ``name`` (e.g. "sys_enter", "sched_switch")."""
    if ":" in name:            # accept "cat:name" as people write tracepoints
        name = name.split(":", 1)[1]
    what = f"raw tracepoint {name}"
    try:
        fd = bpf.raw_tracepoint_open(name, prog_fd)
    except BPFError as e:
        if e.errno == 2:  # ENOENT
            raise AttachError(f"{what} does not exist on this kernel{_suggest(name)}",
                              e.errno) from None
        raise AttachError(f"attaching {what}", e.errno) from None
    return Link(what, [fd], bpf_link=True)
