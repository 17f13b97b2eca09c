"""tc: a SCHED_CLS program on a device's ingress or egress, through tcx
links (Linux 6.6). Older kernels need netlink clsact filters, which pybcc
does not implement yet."""
from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import features, bpf
from ..kernel.uapi import AttachType
from .link import Link
from .xdp import ifindex

DIRECTIONS = {"ingress": AttachType.TCX_INGRESS, "egress": AttachType.TCX_EGRESS}


def attach_tc(prog_fd, dev, direction="ingress"):
    """Attach to ``dev`` (name or ifindex) in ``direction``. The program's
    return value: -1 (TCX_NEXT) passes to the next program, 0 (TCX_PASS)
    accepts, 2 (TCX_DROP) drops."""
    what = f"tc {direction} on {dev}"
    if not features.has_tcx():
        raise NotSupportedError(f"cannot attach {what}: tcx links need Linux 6.6, and "
                                "pybcc does not implement netlink clsact filters yet",
                                feature="tcx")
    try:
        fd = bpf.link_create(prog_fd, ifindex(dev), DIRECTIONS[direction])
    except BPFError as e:
        raise AttachError(f"attaching {what}", e.errno) from None
    return Link(what, [fd], bpf_link=True)
