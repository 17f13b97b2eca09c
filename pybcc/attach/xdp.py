"""XDP: an XDP program on a network device through a BPF link."""
import socket

from ..errors import AttachError, BPFError
from ..kernel import bpf
from ..kernel.uapi import AttachType, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE, XDP_FLAGS_SKB_MODE
from .link import Link

MODES = {"": 0, "skb": XDP_FLAGS_SKB_MODE, "generic": XDP_FLAGS_SKB_MODE,
         "native": XDP_FLAGS_DRV_MODE, "drv": XDP_FLAGS_DRV_MODE, "hw": XDP_FLAGS_HW_MODE}


def ifindex(dev):
    """Interface index of a name or index."""
    if isinstance(dev, int):
        return dev
    try:
        return socket.if_nametoindex(dev)
    except OSError:
        raise AttachError(f"no network device {dev!r}") from None


def attach_xdp(prog_fd, dev, mode="", flags=0):
    """Attach to device ``dev`` (name or ifindex); mode "skb"/"native"/"hw"
    or XDP_FLAGS_* in ``flags``; default lets the kernel choose."""
    idx = ifindex(dev)
    flags |= MODES[mode]
    what = f"XDP on {dev}" + (f" ({mode})" if mode else "")
    try:
        fd = bpf.link_create(prog_fd, idx, AttachType.XDP, flags=flags)
    except BPFError as e:
        hint = " (another XDP program is attached)" if e.errno == 16 else ""
        raise AttachError(f"attaching {what}{hint}", e.errno) from None
    return Link(what, [fd], bpf_link=True)
