"""Attach loaded programs to events. Each function returns a Link; closing
it detaches, and nothing stays attached after the process exits."""
from .link import Link  # noqa: F401
from .tracepoint import attach_tracepoint  # noqa: F401
from .raw_tracepoint import attach_raw_tracepoint  # noqa: F401
from .tp_btf import attach_tp_btf  # noqa: F401
from .tracing import (attach_fentry, attach_fexit, attach_fmod_ret, attach_lsm,  # noqa: F401
                      attach_btf_program, btf_target)
from .kprobe import attach_kprobe, attach_kretprobe, attach_kprobe_multi  # noqa: F401
from .uprobe import attach_uprobe, attach_uretprobe, attach_uprobe_multi  # noqa: F401
from .perf_event import attach_perf_event  # noqa: F401
from .socket import attach_socket  # noqa: F401
from .xdp import attach_xdp  # noqa: F401
from .tc import attach_tc  # noqa: F401
