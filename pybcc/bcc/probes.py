"""BPF's attach_* / detach_* methods: one Link per attachment, kept by kind
so that detach_*, num_open_* and cleanup() find them.

Where this kernel lacks the mechanism (kprobes, fentry, LSM) the method
raises NotSupportedError naming what to use instead (a tracepoint, usually).
"""
import os
import re
import sys

from .. import attach as _attach
from .. import symbols
from ..attach import alternatives
from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import bpf, features
from . import fallbacks
from .text import as_bytes, as_str

_NON_IDENT = re.compile(r"[^a-zA-Z0-9_]")
_SYSCALL_PREFIX_RE = re.compile(r"^(sys_|__x64_sys_|__x32_compat_sys_|__ia32_compat_sys_|"
                                r"__arm64_sys_|__s390x_sys_|__s390_sys_|__riscv_sys_)")
_xdp_links = {}      # device → Link: attach_xdp is static in bcc, the link lives here

# bcc's global quota on open kprobes and uprobes, over every BPF object of
# the process (BCC_PROBE_LIMIT overrides the default).
DEFAULT_PROBE_LIMIT = 1000
_QUOTA_KINDS = ("kprobe", "uprobe")
_open_probes = 0


def get_num_open_probes():
    """How many kprobes and uprobes this process has open (bcc's _get_num_open_probes)."""
    return _open_probes


def get_probe_limit():
    limit = os.environ.get("BCC_PROBE_LIMIT", "")
    return int(limit) if limit.isdigit() else DEFAULT_PROBE_LIMIT


def _check_probe_quota(count):
    if _open_probes + count > get_probe_limit():
        raise AttachError(f"number of open probes would exceed the global quota "
                          f"({_open_probes} open + {count} > {get_probe_limit()}; "
                          f"BCC_PROBE_LIMIT raises it)")


def _count_probes(kind, delta):
    global _open_probes
    if kind in _QUOTA_KINDS:
        _open_probes += delta


def _kfunc_target(fn_name, *prefixes):
    for p in prefixes:
        if fn_name.startswith(p + "vmlinux__"):
            return fn_name[len(p) + len("vmlinux__"):]
        if fn_name.startswith(p):
            return fn_name[len(p):]
    return fn_name


class Probes:
    """Mixed into BPF; needs self.load_func and self._links (kind → {key: Link})."""

    def _add_link(self, kind, key, link):
        self._links.setdefault(kind, {})[key] = link
        _count_probes(kind, 1)
        return link

    def _supersede(self, kind, key):
        """bcc attaches a function to the same probe again when asked (the
        kernel then runs it twice a hit; nfsdist attaches nfs_file_open twice
        without nfsv4) and forgets the first attachment: keep that one
        attached too, out of the bookkeeping, until the BPF object closes."""
        old = self._links.get(kind, {}).pop(key, None)
        if old is not None:
            _count_probes(kind, -1)
            self._links.setdefault(kind + ":superseded", {})[(key, id(old))] = old

    def _drop_links(self, kind, match):
        """Close and forget the links of ``kind`` whose key satisfies ``match``;
        returns how many."""
        table = self._links.get(kind, {})
        keys = [k for k in table if match(k)]
        for k in keys:
            _count_probes(kind, -1)
            table.pop(k).close()
        return len(keys)

    get_probe_limit = staticmethod(get_probe_limit)

    # --- kprobes -------------------------------------------------------------------

    def fix_syscall_fnname(self, name):
        """A syscall function name with this kernel's prefix (b"sys_clone" →
        b"__x64_sys_clone"), as bytes."""
        name = as_str(name)
        m = _SYSCALL_PREFIX_RE.match(name)
        if m:
            return self.get_syscall_prefix() + as_bytes(name[m.end():])
        return as_bytes(name)

    @staticmethod
    def _require_kprobes(func):
        if not features.has_kprobes():
            raise NotSupportedError(
                f"cannot probe kernel function {func}: this kernel has no kprobes "
                f"(CONFIG_KPROBES off)", feature="kprobe",
                alternative=alternatives.instead_of_kprobe(func))

    def _attach_kprobe(self, event, fn_name, retprobe, event_off=0, event_re="", maxactive=0):
        event, fn_name, event_re = as_str(event), as_str(fn_name), as_str(event_re)
        kind = "kretprobe" if retprobe else "kprobe"
        if event_re:
            if features.has_kprobes():
                matched = sorted(as_str(f) for f in self.get_kprobe_functions(event_re))
            else:       # only syscall functions have stand-ins here
                matched = fallbacks.syscall_functions(event_re, as_str(self.get_syscall_prefix()))
                if not matched:
                    self._require_kprobes(event_re)
            _check_probe_quota(len(matched))
            done, last = 0, None
            for func in matched:
                try:
                    self._attach_kprobe(func, fn_name, retprobe, maxactive=maxactive)
                    done += 1
                except AttachError as e:
                    last = e
            if not done:
                raise AttachError(f"no {kind} attached: no kernel function matching "
                                  f"{event_re!r} could be probed" + (f" ({last})" if last else ""))
            return self
        event = as_str(self.fix_syscall_fnname(event))
        # bcc's bookkeeping: event name → functions attached to it
        key = (("r_" if retprobe else "p_") + _NON_IDENT.sub("_", event) +
               (f"_{event_off}" if event_off else ""), fn_name)
        _check_probe_quota(1)
        if not features.has_kprobes() and not event_off:
            if key in self._links.get("kprobe", {}):
                return self     # a tracepoint takes a program once (EEXIST): it runs once
            link = self._attach_stand_in(event, fn_name, retprobe)
            if link is not None:
                self._add_link("kprobe", key, link)
                return self
        self._require_kprobes(event)
        self._supersede("kprobe", key)
        fn = self.load_func(fn_name, self.KPROBE)
        # bcc attaches with the perf ioctl: with a BPF link's bpf() call, a
        # kretprobe on bpf() would see its own attach return (bcc's test_trace4)
        if retprobe:
            link = _attach.attach_kretprobe(fn.fd, event, maxactive=maxactive, bpf_link=False)
        else:
            link = _attach.attach_kprobe(fn.fd, event, event_off, bpf_link=False)
        self._add_link("kprobe", key, link)
        return self

    def _attach_stand_in(self, func, fn_name, retprobe):
        """Without kprobes: run the kprobe program ``fn_name`` on the
        tracepoint that stands in for ``func`` (fallbacks.py); None if none does."""
        kind = "kretprobe" if retprobe else "kprobe"
        tp = fallbacks.syscall_tracepoint(func, retprobe)
        raw = None if tp or retprobe else fallbacks.raw_tracepoint(func)
        if tp is None and raw is None:
            if fallbacks.is_syscall_function(func):
                # e.g. __x64_sys_stat: a syscall function without syscall
                # tracepoints (and never called through them): nothing to see
                print(f"pybcc: {kind} {func} ({fn_name}) is not traced: this kernel has no "
                      f"kprobes and no syscalls:sys_enter_* tracepoint for it", file=sys.stderr)
                return _attach.Link(f"{kind} {func} (not traced)")
            return None
        fn = self._load_variant(fn_name, "syscall_tp" if tp else "raw_tp")
        if fn is None:
            return None
        if tp:
            link = _attach.attach_tracepoint(fn.fd, tp)
        else:
            link = _attach.attach_raw_tracepoint(fn.fd, raw)
        if os.environ.get("PYBCC_DEBUG"):
            print(f"pybcc: {kind} {func} ({fn_name}) runs on "
                  f"{'tracepoint ' + tp if tp else 'raw tracepoint ' + raw}: "
                  f"this kernel has no kprobes", file=sys.stderr)
        return link

    def attach_kprobe(self, event=b"", event_off=0, fn_name=b"", event_re=b""):
        """Run ``fn_name`` when kernel function ``event`` (or every function
        matching ``event_re``) is entered."""
        return self._attach_kprobe(event, fn_name, False, event_off, event_re)

    def attach_kretprobe(self, event=b"", fn_name=b"", event_re=b"", maxactive=0):
        """Run ``fn_name`` when kernel function ``event`` returns."""
        return self._attach_kprobe(event, fn_name, True, 0, event_re, maxactive)

    def _detach_kprobe(self, event, retprobe, fn_name):
        event = as_str(self.fix_syscall_fnname(event))
        fn_name = as_str(fn_name) if fn_name else None
        ev = ("r_" if retprobe else "p_") + _NON_IDENT.sub("_", event)

        def match(k):
            return (k[0] == ev or k[0].startswith(ev + "_")) and fn_name in (None, k[1])
        if not self._drop_links("kprobe", match):
            raise AttachError(f"{'kretprobe' if retprobe else 'kprobe'} {event} is not attached")

    def detach_kprobe_event(self, ev_name):
        """Detach every function from bcc's event ``ev_name`` (b"p_vfs_read")."""
        ev_name = as_str(ev_name)
        if not self._drop_links("kprobe", lambda k: k[0] == ev_name):
            raise AttachError(f"kprobe event {ev_name} is not attached")

    def detach_kprobe_event_by_fn(self, ev_name, fn_name):
        """Detach ``fn_name`` from bcc's event ``ev_name``."""
        key = (as_str(ev_name), as_str(fn_name))
        if not self._drop_links("kprobe", lambda k: k == key):
            raise AttachError(f"{key[1]} is not attached to kprobe event {key[0]}")

    def detach_kprobe(self, event, fn_name=None):
        """Detach ``fn_name`` (default: every function) from kprobe ``event``."""
        self._detach_kprobe(event, False, fn_name)

    def detach_kretprobe(self, event, fn_name=None):
        self._detach_kprobe(event, True, fn_name)

    def num_open_kprobes(self):
        """How many kernel functions are probed (entry and return count apart)."""
        return len({k[0] for k in self._links.get("kprobe", {})})

    # --- tracepoints ------------------------------------------------------------------

    def attach_tracepoint(self, tp=b"", tp_re=b"", fn_name=b""):
        """Run ``fn_name`` on tracepoint ``tp`` ("category:name"), or on every
        tracepoint matching ``tp_re``."""
        tp, tp_re, fn_name = as_str(tp), as_str(tp_re), as_str(fn_name)
        if tp_re:
            tps = self.get_tracepoints(tp_re)
            if not tps:
                raise AttachError(f"no tracepoint matches {tp_re!r}")
            for one in tps:
                self.attach_tracepoint(tp=one, fn_name=fn_name)
            return self
        tp = tp.replace("/", ":", 1) if ":" not in tp else tp
        fn = self.load_func(fn_name, self.TRACEPOINT)
        self._add_link("tracepoint", (tp, fn_name), _attach.attach_tracepoint(fn.fd, tp))
        return self

    def detach_tracepoint(self, tp=b""):
        tp = as_str(tp)
        if not self._drop_links("tracepoint", lambda k: k[0] == tp):
            raise AttachError(f"tracepoint {tp} is not attached")

    def num_open_tracepoints(self):
        return len(self._links.get("tracepoint", {}))

    def attach_raw_tracepoint(self, tp=b"", fn_name=b""):
        """Run ``fn_name`` on raw tracepoint ``tp`` ("sched_switch")."""
        tp, fn_name = as_str(tp), as_str(fn_name)
        if tp in self._links.get("raw_tracepoint", {}):
            raise AttachError(f"raw tracepoint {tp} has been attached")
        fn = self.load_func(fn_name, self.RAW_TRACEPOINT)
        self._add_link("raw_tracepoint", tp, _attach.attach_raw_tracepoint(fn.fd, tp))
        return self

    def detach_raw_tracepoint(self, tp=b""):
        tp = as_str(tp)
        if not self._drop_links("raw_tracepoint", lambda k: k == tp):
            raise AttachError(f"raw tracepoint {tp} is not attached")

    def _attach_tp_btf(self, fn_name, target):
        fn = self._load_with_section(fn_name, "tp_btf/", target)
        self._add_link("tp_btf", fn_name, _attach.attach_tp_btf(fn.fd, target))

    # --- BTF-based: kfunc (fentry/fexit), LSM -------------------------------------------

    def _attach_kfunc(self, fn_name, target, ret):
        kind = "kretfunc" if ret else "kfunc"
        if not features.has_fentry():
            raise NotSupportedError(
                f"cannot attach {kind} {fn_name} to {target}: BPF trampolines (fentry/fexit) "
                f"are refused by this kernel", feature="fentry",
                alternative=alternatives.instead_of_fentry(target))
        if fn_name in self._links.get("kfunc", {}):
            raise AttachError(f"{kind} {fn_name} is already attached")
        fn = self._load_with_section(fn_name, "fexit/" if ret else "fentry/", target)
        self._add_link("kfunc", fn_name, _attach.attach_btf_program(
            fn.fd, "fexit" if ret else "fentry", target))
        return self

    def _attach_kmod_ret(self, fn_name, target):
        """KMOD_RET(func, ...): a BPF_MODIFY_RETURN (fmod_ret) program on ``func``."""
        if not features.has_fentry():
            raise NotSupportedError(
                f"cannot attach fmod_ret {fn_name} to {target}: BPF trampolines are refused "
                f"by this kernel", feature="fentry")
        fn = self._load_with_section(fn_name, "fmod_ret/", target)
        self._add_link("kfunc", fn_name, _attach.attach_btf_program(fn.fd, "fmod_ret", target))
        return self

    def attach_kfunc(self, fn_name=b""):
        """Attach kfunc__[vmlinux__]FUNC to FUNC's entry (fentry)."""
        fn_name = as_str(fn_name)
        return self._attach_kfunc(fn_name, _kfunc_target(fn_name, "kfunc__"), False)

    def attach_kretfunc(self, fn_name=b""):
        """Attach kretfunc__[vmlinux__]FUNC to FUNC's return (fexit)."""
        fn_name = as_str(fn_name)
        return self._attach_kfunc(fn_name, _kfunc_target(fn_name, "kretfunc__"), True)

    def _detach_btf_program(self, prefix, fn_name):
        fn_name = as_str(fn_name)
        fn_name = fn_name if fn_name.startswith(prefix) else prefix + fn_name
        if not self._drop_links("kfunc", lambda k: k == fn_name):
            raise AttachError(f"{prefix.rstrip('_')} {fn_name} is not attached")

    def detach_kfunc(self, fn_name=b""):
        self._detach_btf_program("kfunc__", fn_name)

    def detach_kretfunc(self, fn_name=b""):
        self._detach_btf_program("kretfunc__", fn_name)

    def detach_fmod_ret(self, fn_name=b""):
        self._detach_btf_program("kmod_ret__", fn_name)

    def _attach_lsm(self, fn_name, hook):
        if not features.has_lsm():
            raise NotSupportedError(
                f"cannot attach LSM program {fn_name} to hook {hook}: BPF LSM is not "
                f"enabled in this kernel (CONFIG_BPF_LSM and 'bpf' in lsm=)", feature="lsm")
        if fn_name in self._links.get("lsm", {}):
            raise AttachError(f"LSM program {fn_name} is already attached")
        fn = self._load_with_section(fn_name, "lsm/", hook)
        self._add_link("lsm", fn_name, _attach.attach_lsm(fn.fd, hook))
        return self

    def attach_lsm(self, fn_name=b""):
        """Attach lsm__HOOK to LSM hook HOOK."""
        fn_name = as_str(fn_name)
        return self._attach_lsm(fn_name, _kfunc_target(fn_name, "lsm__"))

    def detach_lsm(self, fn_name=b""):
        fn_name = as_str(fn_name)
        if not self._drop_links("lsm", lambda k: k == fn_name):
            raise AttachError(f"LSM program {fn_name} is not attached")

    # --- uprobes -----------------------------------------------------------------------

    @staticmethod
    def _uprobe_target(name, sym, addr, pid, sym_off):
        """(binary path, file offset) for bcc's name/sym/addr arguments."""
        name, sym = as_str(name), as_str(sym)
        spid = pid if pid and pid > 0 else None
        if addr is not None:
            path = symbols.resolve_module(name, spid) if name else None
            if path is None:
                raise AttachError(f"can't find library or program {name!r}")
            from ..attach import uprobe
            return path, uprobe.resolve(path, address=addr)[1] + sym_off
        if not sym:
            raise AttachError("uprobe: give sym=, sym_re= or addr=")
        try:
            path, offset, _ = symbols.symbol_address(name, sym, spid)
        except LookupError as e:
            raise AttachError(f"could not determine address of symbol {sym} in {name}: {e}") from None
        return path, offset + sym_off

    def _attach_uprobe(self, retprobe, name, sym, sym_re, addr, fn_name, pid, sym_off):
        fn_name = as_str(fn_name)
        if sym_re:
            found = self.get_user_functions_and_addresses(name, sym_re)
            if not found:
                raise AttachError(f"no function of {as_str(name)} matches {as_str(sym_re)!r}")
            _check_probe_quota(len(found))
            for _, vaddr in found:
                self._attach_uprobe(retprobe, name, "", "", vaddr, fn_name, pid, 0)
            return self
        path, offset = self._uprobe_target(name, sym, addr, pid, sym_off)
        key = ("r" if retprobe else "p", path, offset, pid)
        if key in self._links.get("uprobe", {}):
            raise AttachError(f"{'uretprobe' if retprobe else 'uprobe'} at {path}:{offset:#x} "
                              f"is already attached")
        _check_probe_quota(1)
        fn = self.load_func(fn_name, self.KPROBE)
        link = _attach.attach_uprobe(fn.fd, path, offset=offset, retprobe=retprobe, pid=pid)
        self._add_link("uprobe", key, link)
        return self

    def attach_uprobe(self, name=b"", sym=b"", sym_re=b"", addr=None, fn_name=b"", pid=-1,
                      sym_off=0):
        """Run ``fn_name`` when function ``sym`` (or address ``addr``, or each
        function matching ``sym_re``) of library/program ``name`` ("c",
        "libc.so.6", a path) is called; ``pid`` limits it to one process."""
        return self._attach_uprobe(False, name, sym, sym_re, addr, fn_name, pid, sym_off)

    def attach_uretprobe(self, name=b"", sym=b"", sym_re=b"", addr=None, fn_name=b"", pid=-1,
                         sym_off=0):
        """Run ``fn_name`` when the function returns."""
        return self._attach_uprobe(True, name, sym, sym_re, addr, fn_name, pid, sym_off)

    def _detach_uprobe(self, retprobe, name, sym, addr, pid, sym_off):
        path, offset = self._uprobe_target(name, sym, addr, pid, sym_off)
        key = ("r" if retprobe else "p", path, offset, pid)
        if not self._drop_links("uprobe", lambda k: k == key):
            raise AttachError(f"{'uretprobe' if retprobe else 'uprobe'} at {path}:{offset:#x} "
                              f"is not attached")

    @staticmethod
    def _uprobe_evname(key):
        """bcc's event name of a uprobe key: b"p_libc_so_6_0x9a2f0" (+ "_PID")."""
        if isinstance(key, str):        # a USDT probe's uprobe (usdt.py)
            return as_bytes(key)
        kind, path, offset, pid = key
        name = f"{kind}_{_NON_IDENT.sub('_', os.path.basename(path))}_{offset:#x}"
        return as_bytes(name if pid == -1 else f"{name}_{pid}")

    def detach_uprobe_event(self, ev_name):
        """Detach the uprobe bcc names ``ev_name`` (b"p_libc_so_6_0x9a2f0")."""
        ev_name = as_bytes(ev_name)
        if not self._drop_links("uprobe", lambda k: self._uprobe_evname(k) == ev_name):
            raise AttachError(f"uprobe {as_str(ev_name)} is not attached")

    @property
    def kprobe_fds(self):
        """bcc's view of the kprobes: event name → {function name: Link}."""
        view = {}
        for (ev, fn), link in self._links.get("kprobe", {}).items():
            view.setdefault(as_bytes(ev), {})[as_bytes(fn)] = link
        return view

    @property
    def uprobe_fds(self):
        """bcc's view of the uprobes: event name → Link."""
        return {self._uprobe_evname(k): link for k, link in self._links.get("uprobe", {}).items()}

    def detach_uprobe(self, name=b"", sym=b"", addr=None, pid=-1, sym_off=0):
        self._detach_uprobe(False, name, sym, addr, pid, sym_off)

    def detach_uretprobe(self, name=b"", sym=b"", addr=None, pid=-1, sym_off=0):
        self._detach_uprobe(True, name, sym, addr, pid, sym_off)

    def num_open_uprobes(self):
        return len(self._links.get("uprobe", {}))

    # --- perf events ---------------------------------------------------------------------

    def attach_perf_event(self, ev_type=-1, ev_config=-1, fn_name=b"", sample_period=0,
                          sample_freq=0, pid=-1, cpu=-1, group_fd=-1):
        """Run ``fn_name`` every ``sample_period`` events (or ``sample_freq``
        times a second) of perf event (ev_type, ev_config), on every CPU or ``cpu``."""
        if group_fd != -1:
            raise NotSupportedError("attach_perf_event: event groups (group_fd) are not "
                                    "supported by pybcc", feature="perf event groups")
        fn = self.load_func(fn_name, self.PERF_EVENT)
        link = _attach.attach_perf_event(fn.fd, ev_type, ev_config, sample_period,
                                         sample_freq, pid, cpu)
        key = (ev_type, ev_config)
        old = self._links.get("perf_event", {}).get(key)
        if old is not None:          # bcc keeps one attachment per (type, config)
            old.close()
        self._add_link("perf_event", key, link)
        return self

    def attach_perf_event_raw(self, attr=-1, fn_name=b"", pid=-1, cpu=-1, group_fd=-1):
        """Run ``fn_name`` on the perf event ``attr`` describes (a
        bcc.perf.Perf.perf_event_attr), on ``cpu`` or on every online CPU;
        detach_perf_event(attr.type, attr.config) detaches it."""
        from ..attach.perf import attach_perf_fd
        from ..attach.perf_event import combine
        from ..kernel.cpus import online_cpus
        from .perf import open_attr
        fn = self.load_func(fn_name, self.PERF_EVENT)
        what = f"perf event type={attr.type} config={attr.config}" + \
            (f" pid={pid}" if pid > 0 else "")
        links = []
        try:
            for c in [cpu] if cpu >= 0 else online_cpus():
                try:
                    pfd = open_attr(attr, pid, c, group_fd)
                except BPFError as e:
                    raise AttachError(f"opening {what} on CPU {c}", e.errno) from None
                links.append(attach_perf_fd(fn.fd, pfd, f"{what} cpu {c}"))
        except BaseException:
            for link in links:
                link.close()
            raise
        key = (attr.type, attr.config)
        old = self._links.get("perf_event", {}).get(key)
        if old is not None:
            old.close()
        self._add_link("perf_event", key, combine(what, links))
        return self

    def detach_perf_event(self, ev_type=-1, ev_config=-1):
        if not self._drop_links("perf_event", lambda k: k == (ev_type, ev_config)):
            raise AttachError(f"perf event type {ev_type} config {ev_config} is not attached")

    # --- network and cgroups --------------------------------------------------------------

    @staticmethod
    def attach_xdp(dev, fn, flags=0):
        """Attach XDP program ``fn`` (from load_func) to device ``dev``. The
        attachment is a BPF link: it ends with detach_xdp or this process."""
        dev = as_str(dev)
        old = _xdp_links.pop(dev, None)
        if old is not None:
            old.close()
        mode_flags = flags & 0xE        # SKB/DRV/HW mode bits; link_create takes no others
        _xdp_links[dev] = _attach.attach_xdp(fn.fd, dev, flags=mode_flags)

    @staticmethod
    def remove_xdp(dev, flags=0):
        Probes.detach_xdp(dev, flags)

    @staticmethod
    def detach_xdp(dev, flags=0):
        link = _xdp_links.pop(as_str(dev), None)
        if link is not None:
            link.close()

    @staticmethod
    def attach_raw_socket(fn, dev):
        """Attach SOCKET_FILTER ``fn`` to a new raw socket on ``dev``; the
        socket's fd is left in fn.sock (as bcc does)."""
        import socket
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_NONBLOCK,
                             socket.htons(0x0003))  # ETH_P_ALL
        try:
            if as_str(dev):
                sock.bind((as_str(dev), 0))
            link = _attach.attach_socket(fn.fd, sock)
        except OSError as e:
            sock.close()
            raise AttachError(f"raw socket on {as_str(dev)!r}", e.errno or 0) from None
        fn.sock = sock.fileno()
        fn._socket, fn._socket_link = sock, link

    @staticmethod
    def attach_func(fn, attachable_fd, attach_type, flags=0):
        """BPF_PROG_ATTACH ``fn`` to a cgroup/sockmap fd."""
        try:
            bpf.prog_attach(fn.fd, attachable_fd, attach_type, flags)
        except BPFError as e:
            raise AttachError(f"attaching {fn.name} (attach type {attach_type}) to fd "
                              f"{attachable_fd}", e.errno) from None

    @staticmethod
    def detach_func(fn, attachable_fd, attach_type):
        try:
            bpf.prog_detach(fn.fd, attachable_fd, attach_type)
        except BPFError as e:
            raise AttachError(f"detaching {fn.name} (attach type {attach_type}) from fd "
                              f"{attachable_fd}", e.errno) from None

    def _close_links(self):
        links = []
        for kind in list(self._links):
            for link in self._links.pop(kind).values():
                _count_probes(kind, -1)
                links.append(link)
        return _attach.close_all(links)


