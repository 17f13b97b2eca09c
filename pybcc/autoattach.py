"""Attach a loaded program where its section name says (libbpf conventions).

tracepoint/CAT/NAME, raw_tp/NAME, tp_btf/NAME, fentry/FUNC, lsm/HOOK,
kprobe/FUNC[+OFF], kretprobe/FUNC, ksyscall/NAME, kprobe.multi/PATTERN,
uprobe/PATH:SYM[+OFF], uprobe.multi/PATH:PATTERN, usdt/PATH:PROVIDER:NAME,
perf_event, xdp, socket, tc. Keyword arguments supply what a section name
cannot (a pid, an interface, a socket, a sample period).

This module sits above attach/ and usdt/ (a USDT section needs both); the
section conventions themselves live in pybcc.sections.
"""
import fnmatch
import importlib

from .errors import AttachError


def _attach_module(name):
    # Only the attach kind in use is imported (uprobes bring the symbol
    # readers, sockets the socket module): a tool's start stays cheap.
    return importlib.import_module(f"pybcc.attach.{name}")


def syscall_function(name):
    return _attach_module("kprobe").syscall_function(name)


def _split_offset(target):
    if "+" in target:
        name, off = target.rsplit("+", 1)
        return name, int(off, 0)
    return target, 0


def _glob_regex(pattern):
    """A libbpf glob ("malloc*") as a regex matching whole names only."""
    return "^" + fnmatch.translate(pattern)


def attach_program(prog, target=None, **kw):
    """Attach ``prog`` (a loader.Program) by its section; ``target``
    overrides the part after the section prefix."""
    sdef = prog.spec.sdef
    target = prog.spec.target if target is None else target
    kind = sdef.kind if sdef else ""
    fd = prog.fd
    where = f"program {prog.name} ({prog.spec.section})"
    if kind == "tracepoint":
        if "/" not in target and ":" not in target:
            raise AttachError(f"{where}: a tracepoint is named CATEGORY/NAME, not {target!r}")
        cat, name = target.replace(":", "/").split("/", 1)
        return _attach_module("tracepoint").attach_tracepoint(fd, cat, name, **kw)
    if kind == "raw_tracepoint":
        return _attach_module("raw_tracepoint").attach_raw_tracepoint(fd, target)
    if kind in ("tracing", "lsm"):
        name = {"tp_btf/": "tp_btf", "lsm/": "lsm", "lsm.s/": "lsm"}.get(
            sdef.prefix, sdef.prefix.split("/")[0].split(".")[0])
        return _attach_module("tracing").attach_btf_program(fd, name, target, **kw)
    if kind == "kprobe":
        func, off = _split_offset(target)
        return _attach_module("kprobe").attach_kprobe(fd, func, offset=off, retprobe=sdef.retprobe, **kw)
    if kind == "ksyscall":
        return _attach_module("kprobe").attach_kprobe(fd, syscall_function(target), retprobe=sdef.retprobe, **kw)
    if kind == "kprobe_multi":
        if not target:
            raise AttachError(f"{where}: a kprobe.multi section is kprobe.multi/PATTERN; "
                              f"give the target as attach(target='PATTERN')")
        return _attach_module("kprobe").attach_kprobe_multi(fd, target, retprobe=sdef.retprobe, **kw)
    if kind == "uprobe":
        path, _, sym = target.partition(":")
        if not path or not sym:
            raise AttachError(f"{where}: a uprobe section is uprobe/PATH:SYMBOL[+OFFSET]; "
                              f"give the target as attach(target='PATH:SYMBOL')")
        sym, off = _split_offset(sym)
        return _attach_module("uprobe").attach_uprobe(fd, path, sym, offset=off, retprobe=sdef.retprobe, **kw)
    if kind == "uprobe_multi":
        path, _, pattern = target.rpartition(":")
        if not path or not pattern:
            raise AttachError(f"{where}: a uprobe.multi section is uprobe.multi/PATH:PATTERN; "
                              f"give the target as attach(target='PATH:PATTERN')")
        return _attach_module("uprobe").attach_uprobe_multi(fd, path, symbols=_glob_regex(pattern),
                                          retprobe=sdef.retprobe, **kw)
    if kind == "usdt":
        # usdt/PATH:PROVIDER:NAME (the path itself may hold colons)
        parts = target.rsplit(":", 2)
        if len(parts) != 3 or not all(parts):
            raise AttachError(f"{where}: a USDT section is usdt/PATH:PROVIDER:NAME; give "
                              f"the target as attach(target='PATH:PROVIDER:NAME')")
        from .usdt.attach import attach_usdt
        return attach_usdt(kw.pop("collection", None), prog, parts[0], parts[1], parts[2], **kw)
    if kind == "perf_event":
        return _attach_module("perf_event").attach_perf_event(fd, **kw)
    if kind == "xdp":
        return _attach_module("xdp").attach_xdp(fd, **kw)
    if kind == "socket":
        return _attach_module("socket").attach_socket(fd, **kw)
    if kind in ("tc", "tcx"):
        if kind == "tcx":
            kw.setdefault("direction", "egress" if "egress" in sdef.prefix else "ingress")
        return _attach_module("tc").attach_tc(fd, **kw)
    raise AttachError(f"{where}: pybcc cannot attach this kind of program by its section "
                      f"name; attach it by hand")
