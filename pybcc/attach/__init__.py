"""Attach loaded programs to events. Each function returns a Link; closing
it detaches, and nothing stays attached after the process exits.

The functions are imported on first use (``pybcc.attach.attach_uprobe``
brings the symbol readers): a tool pays only for the kinds it attaches."""
from ..lazy import lazy_getattr

_WHERE = {
    "Link": "link", "close_all": "link",
    "attach_tracepoint": "tracepoint",
    "attach_raw_tracepoint": "raw_tracepoint",
    "attach_tp_btf": "tp_btf",
    "attach_fentry": "tracing", "attach_fexit": "tracing", "attach_fmod_ret": "tracing",
    "attach_lsm": "tracing", "attach_btf_program": "tracing", "btf_target": "tracing",
    "attach_kprobe": "kprobe", "attach_kretprobe": "kprobe", "attach_kprobe_multi": "kprobe",
    "attach_uprobe": "uprobe", "attach_uretprobe": "uprobe", "attach_uprobe_multi": "uprobe",
    "attach_perf_event": "perf_event",
    "attach_socket": "socket",
    "attach_xdp": "xdp",
    "attach_tc": "tc",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_getattr(__name__, _WHERE)
