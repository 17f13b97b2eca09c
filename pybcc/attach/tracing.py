"""BTF-targeted tracing programs: fentry, fexit, fmod_ret and LSM hooks.

The target is fixed when the program is loaded (expected_attach_type and
attach_btf_id, see btf_target); attaching only creates the link.
"""
from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import features, bpf
from ..kernel.uapi import AttachType
from . import alternatives
from .link import Link

# kind → (attach type, how the BTF target is named)
KINDS = {
    "fentry": (AttachType.TRACE_FENTRY, "{}"),
    "fexit": (AttachType.TRACE_FEXIT, "{}"),
    "fmod_ret": (AttachType.MODIFY_RETURN, "{}"),
    "lsm": (AttachType.LSM_MAC, "bpf_lsm_{}"),
    "tp_btf": (AttachType.TRACE_RAW_TP, "btf_trace_{}"),
}
_EINVAL = 22


def btf_target(kind, name):
    """(expected_attach_type, attach_btf_id) to load a ``kind`` program on ``name``.

    KeyError-free: raises AttachError when the kernel has no such function."""
    from ..btf.types import FUNC, TYPEDEF
    attach_type, fmt = KINDS[kind]
    tid = features.btf_id(fmt.format(name), TYPEDEF if kind == "tp_btf" else FUNC)
    if tid is None:
        raise AttachError(f"{kind}: the kernel's BTF has no {fmt.format(name)} "
                          f"(no such {'tracepoint' if kind == 'tp_btf' else 'function'}?)")
    return attach_type, tid


def ensure_supported(kind, name=""):
    """Raise NotSupportedError when this kernel cannot run ``kind`` programs."""
    if kind in ("fentry", "fexit", "fmod_ret") and not features.has_fentry():
        raise NotSupportedError(
            f"{kind} programs cannot be loaded on this kernel (BPF trampolines "
            f"refused: BPF_PROG_TYPE_TRACING loads fail)", feature="fentry",
            alternative=alternatives.instead_of_fentry(name))
    if kind == "lsm" and not features.has_lsm():
        raise NotSupportedError(
            "BPF LSM programs cannot be attached on this kernel (needs CONFIG_BPF_LSM "
            "and 'bpf' in the lsm= boot list)", feature="lsm")
    if kind == "tp_btf" and not features.has_tp_btf():
        raise NotSupportedError("BTF-typed tracepoints (tp_btf) are not available on "
                                "this kernel", feature="tp_btf",
                                alternative="a raw tracepoint or a tracepoint")


def attach_btf_program(prog_fd, kind, name="", cookie=0):
    """Attach a loaded BTF-targeted program (fentry/fexit/fmod_ret/lsm/tp_btf)."""
    attach_type = KINDS[kind][0]
    what = f"{kind} {name}".strip()
    try:
        try:
            fd = bpf.link_create(prog_fd, 0, attach_type, tracing_cookie=cookie or None)
        except BPFError as e:
            if e.errno != _EINVAL or cookie:
                raise
            fd = bpf.raw_tracepoint_open(None, prog_fd)   # kernels before 5.x links
    except BPFError as e:
        ensure_supported(kind, name)
        raise AttachError(f"attaching {what}", e.errno) from None
    return Link(what, [fd], bpf_link=True)


def attach_fentry(prog_fd, func="", cookie=0):
    return attach_btf_program(prog_fd, "fentry", func, cookie)


def attach_fexit(prog_fd, func="", cookie=0):
    return attach_btf_program(prog_fd, "fexit", func, cookie)


def attach_fmod_ret(prog_fd, func="", cookie=0):
    return attach_btf_program(prog_fd, "fmod_ret", func, cookie)


def attach_lsm(prog_fd, hook="", cookie=0):
    return attach_btf_program(prog_fd, "lsm", hook, cookie)
