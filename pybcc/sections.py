"""ELF section names (libbpf's SEC() conventions) → program type and attach kind.

One place for the conventions: lookup() gives a section's SectionDef (program
type, expected attach type, how to attach) and bcc_kind() the name bcc's API
uses for the same attachment ("kprobe", "kretfunc", "tracepoint", ...), which
the bcc dialect and the BPF class attach by. pybcc.autoattach attaches a
loaded program by its section.
"""
from __future__ import annotations


from .kernel.uapi import AttachType as A, ProgType as P
from .record import record


@record(frozen=True)
class SectionDef:
    prefix: str            # "kprobe/" (takes a target) or "xdp" (exact name)
    prog_type: P
    attach_type: A | None = None   # expected_attach_type at load time
    kind: str = ""         # how to attach: "kprobe", "tracepoint", ... ("" = by hand)
    btf_prefix: str = ""   # for BTF-targeted programs: kernel BTF name prefix
    sleepable: bool = False
    retprobe: bool = False


_DEFS = [
    SectionDef("socket", P.SOCKET_FILTER, kind="socket"),
    SectionDef("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE),
    SectionDef("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT),
    SectionDef("kprobe.multi/", P.KPROBE, A.TRACE_KPROBE_MULTI, "kprobe_multi"),
    SectionDef("kretprobe.multi/", P.KPROBE, A.TRACE_KPROBE_MULTI, "kprobe_multi", retprobe=True),
    SectionDef("uprobe.multi/", P.KPROBE, A.TRACE_UPROBE_MULTI, "uprobe_multi"),
    SectionDef("uretprobe.multi/", P.KPROBE, A.TRACE_UPROBE_MULTI, "uprobe_multi", retprobe=True),
    SectionDef("kprobe/", P.KPROBE, kind="kprobe"),
    SectionDef("kretprobe/", P.KPROBE, kind="kprobe", retprobe=True),
    SectionDef("ksyscall/", P.KPROBE, kind="ksyscall"),
    SectionDef("kretsyscall/", P.KPROBE, kind="ksyscall", retprobe=True),
    SectionDef("uprobe.s/", P.KPROBE, kind="uprobe", sleepable=True),
    SectionDef("uprobe/", P.KPROBE, kind="uprobe"),
    SectionDef("uretprobe.s/", P.KPROBE, kind="uprobe", sleepable=True, retprobe=True),
    SectionDef("uretprobe/", P.KPROBE, kind="uprobe", retprobe=True),
    SectionDef("usdt/", P.KPROBE, kind="usdt"),
    SectionDef("usdt.s/", P.KPROBE, kind="usdt", sleepable=True),
    SectionDef("tracepoint/", P.TRACEPOINT, kind="tracepoint"),
    SectionDef("tp/", P.TRACEPOINT, kind="tracepoint"),
    SectionDef("raw_tracepoint.w/", P.RAW_TRACEPOINT_WRITABLE, kind="raw_tracepoint"),
    SectionDef("raw_tp.w/", P.RAW_TRACEPOINT_WRITABLE, kind="raw_tracepoint"),
    SectionDef("raw_tracepoint/", P.RAW_TRACEPOINT, kind="raw_tracepoint"),
    SectionDef("raw_tp/", P.RAW_TRACEPOINT, kind="raw_tracepoint"),
    SectionDef("tp_btf/", P.TRACING, A.TRACE_RAW_TP, "tracing", "btf_trace_"),
    SectionDef("fentry.s/", P.TRACING, A.TRACE_FENTRY, "tracing", "", sleepable=True),
    SectionDef("fentry/", P.TRACING, A.TRACE_FENTRY, "tracing", ""),
    SectionDef("fmod_ret.s/", P.TRACING, A.MODIFY_RETURN, "tracing", "", sleepable=True),
    SectionDef("fmod_ret/", P.TRACING, A.MODIFY_RETURN, "tracing", ""),
    SectionDef("fexit.s/", P.TRACING, A.TRACE_FEXIT, "tracing", "", sleepable=True),
    SectionDef("fexit/", P.TRACING, A.TRACE_FEXIT, "tracing", ""),
    SectionDef("freplace/", P.EXT, None, ""),
    SectionDef("lsm.s/", P.LSM, A.LSM_MAC, "lsm", "bpf_lsm_", sleepable=True),
    SectionDef("lsm/", P.LSM, A.LSM_MAC, "lsm", "bpf_lsm_"),
    SectionDef("lsm_cgroup/", P.LSM, A.LSM_CGROUP, "", "bpf_lsm_"),
    SectionDef("iter.s/", P.TRACING, A.TRACE_ITER, "iter", "bpf_iter_", sleepable=True),
    SectionDef("iter/", P.TRACING, A.TRACE_ITER, "iter", "bpf_iter_"),
    SectionDef("syscall", P.SYSCALL, sleepable=True),
    SectionDef("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP),
    SectionDef("xdp/devmap", P.XDP, A.XDP_DEVMAP),
    SectionDef("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP),
    SectionDef("xdp/cpumap", P.XDP, A.XDP_CPUMAP),
    SectionDef("xdp.frags", P.XDP, A.XDP, "xdp"),
    SectionDef("xdp", P.XDP, A.XDP, "xdp"),
    SectionDef("perf_event", P.PERF_EVENT, kind="perf_event"),
    SectionDef("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS, "tcx"),
    SectionDef("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS, "tcx"),
    SectionDef("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS, "tcx"),
    SectionDef("tc/egress", P.SCHED_CLS, A.TCX_EGRESS, "tcx"),
    SectionDef("tc", P.SCHED_CLS, kind="tc"),
    SectionDef("classifier", P.SCHED_CLS, kind="tc"),
    SectionDef("action", P.SCHED_ACT),
    SectionDef("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, "cgroup"),
    SectionDef("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, "cgroup"),
    SectionDef("cgroup/skb", P.CGROUP_SKB),
    SectionDef("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, "cgroup"),
    SectionDef("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, "cgroup"),
    SectionDef("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, "cgroup"),
    SectionDef("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, "cgroup"),
    SectionDef("cgroup/post_bind6", P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, "cgroup"),
    SectionDef("cgroup/bind4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, "cgroup"),
    SectionDef("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, "cgroup"),
    SectionDef("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, "cgroup"),
    SectionDef("cgroup/connect6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, "cgroup"),
    SectionDef("cgroup/sendmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, "cgroup"),
    SectionDef("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, "cgroup"),
    SectionDef("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, "cgroup"),
    SectionDef("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, "cgroup"),
    SectionDef("cgroup/getpeername4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, "cgroup"),
    SectionDef("cgroup/getsockname4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, "cgroup"),
    SectionDef("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, "cgroup"),
    SectionDef("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, "cgroup"),
    SectionDef("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, "cgroup"),
    SectionDef("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, "cgroup"),
    SectionDef("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, "cgroup"),
    SectionDef("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER),
    SectionDef("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT),
    SectionDef("sk_skb", P.SK_SKB),
    SectionDef("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT),
    SectionDef("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2),
    SectionDef("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR),
    SectionDef("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP),
    SectionDef("struct_ops.s/", P.STRUCT_OPS, sleepable=True),
    SectionDef("struct_ops/", P.STRUCT_OPS),
    SectionDef("struct_ops", P.STRUCT_OPS),
    SectionDef("netfilter", P.NETFILTER, A.NETFILTER),
]


def lookup(section):
    """The SectionDef for an ELF section name and the target after the prefix.

    Exact names also match with a "/suffix" (libbpf allows "xdp/anything").
    Returns (None, "") for sections that are not programs by name.
    """
    for d in _DEFS:
        if d.prefix.endswith("/"):
            if section.startswith(d.prefix) or section + "/" == d.prefix:
                return d, section[len(d.prefix):]
        elif section == d.prefix or section.startswith(d.prefix + "/"):
            return d, section[len(d.prefix) + 1:]
    return None, ""


# Attach kinds of SectionDef → bcc's names, where bcc has one.
_BCC_KIND = {"tracepoint": "tracepoint", "raw_tracepoint": "raw_tracepoint",
             "kprobe": "kprobe", "ksyscall": "ksyscall", "uprobe": "uprobe", "usdt": "usdt",
             "kprobe_multi": "kprobe_multi", "uprobe_multi": "uprobe_multi"}
_BCC_RET_KIND = {"kprobe": "kretprobe", "ksyscall": "kretsyscall", "uprobe": "uretprobe",
                 "kprobe_multi": "kretprobe_multi", "uprobe_multi": "uretprobe_multi"}
# BTF-targeted programs: by the section's own prefix.
_BCC_BTF_KIND = (("fentry", "kfunc"), ("fexit", "kretfunc"), ("fmod_ret", "kmod_ret"),
                 ("lsm/", "lsm"), ("lsm.s/", "lsm"), ("tp_btf/", "tp_btf"))


def bcc_kind(sdef):
    """bcc's attach kind of a section ("kprobe", "kretprobe", "tracepoint",
    "raw_tracepoint", "uprobe", "kfunc", "lsm", "tp_btf", ...), or "" when
    bcc attaches such programs by hand (xdp, socket, cgroup, ...)."""
    if sdef is None:
        return ""
    for prefix, kind in _BCC_BTF_KIND:
        if sdef.prefix.startswith(prefix):
            return kind
    if sdef.retprobe:
        return _BCC_RET_KIND.get(sdef.kind, "")
    return _BCC_KIND.get(sdef.kind, "")


# bcc's and libbpf's spellings of the same kind (tp, raw_tp, fentry, ...) → bcc's.
_KIND_ALIASES = {"tp": "tracepoint", "raw_tp": "raw_tracepoint", "fentry": "kfunc",
                 "fexit": "kretfunc", "fmod_ret": "kmod_ret"}


def normalize_kind(kind):
    return _KIND_ALIASES.get(kind, kind)


def is_typed(sdef):
    """Programs whose context is BTF-typed arguments (no implicit reads)."""
    return sdef is not None and sdef.prefix.startswith(
        ("fentry", "fexit", "fmod_ret", "lsm", "tp_btf", "iter", "struct_ops"))
