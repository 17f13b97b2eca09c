"""bcc.usdt: user statically-defined tracing probes, bcc's USDT class.

    u = USDT(pid=1234)                 # or USDT(path="/usr/bin/python3")
    u.enable_probe("function__entry", "trace_entry")
    b = BPF(text=prog, usdt_contexts=[u])

In the program, ``bpf_usdt_readarg(N, ctx, &v)`` reads argument N (from 1)
into v and ``bpf_usdt_readarg_p(N, ctx, buf, len)`` copies len bytes from
the address argument N holds. Unlike bcc, no per-probe C is generated: each
location's argument spec sits in a map and the uprobe's BPF cookie says which
(pybcc.usdt, <bpf/usdt.bpf.h>), so get_text() is the same for every probe
and the compiled object can be cached.

The BPF class calls ``ctx.attach_uprobes(bpf, attach_usdt_ignore_pid)``
after loading the program, for each context in usdt_contexts.
"""
import os
import struct
import sys
import weakref

from .. import usdt as _usdt
from ..errors import AttachError, BPFError
from ..usdt import args as _args
from ..usdt import spec as _spec
from .text import as_bytes, as_str

# Prepended to the user's program text by BPF(text=..., usdt_contexts=[...]).
_TEXT = r"""#ifndef __PYBCC_USDT_READERS
#define __PYBCC_USDT_READERS
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
/* bcc's USDT argument readers (pybcc: specs come from the attach cookie). */
#define bpf_usdt_readarg(index, ctx, addr) ({ \
	long __pybcc_uv = 0; \
	int __pybcc_ue = bpf_usdt_arg((struct pt_regs *)(ctx), (index) - 1, &__pybcc_uv); \
	if (!__pybcc_ue) \
		__builtin_memcpy((void *)(addr), &__pybcc_uv, \
				 sizeof(*(addr)) < 8 ? sizeof(*(addr)) : 8); \
	__pybcc_ue; })
static __always_inline int __pybcc_usdt_readarg_p(int index, struct pt_regs *ctx,
						  void *buf, __u32 len)
{
	long addr = 0;
	int err = bpf_usdt_arg(ctx, index - 1, &addr);
	if (err)
		return err;
	return bpf_probe_read_user(buf, len, (void *)addr);
}
#define bpf_usdt_readarg_p(index, ctx, buf, len) \
	__pybcc_usdt_readarg_p((index), (struct pt_regs *)(ctx), (void *)(buf), (len))
#endif
#line 1
"""

_CTYPES = {(1, True): "int8_t", (1, False): "uint8_t", (2, True): "int16_t",
           (2, False): "uint16_t", (4, True): "int32_t", (4, False): "uint32_t",
           (8, True): "int64_t", (8, False): "uint64_t"}


class USDTException(Exception):
    pass


class USDTProbeArgument:
    def __init__(self, arg):
        self._arg = arg
        self.size = arg.size
        self.signed = arg.signed
        self.text = arg.text

    def ctype(self):
        return _CTYPES[(self.size, self.signed)]

    def describe(self):
        d = _spec.describe(self._arg)
        where = {"const": f"{d.get('value')}", "reg": f"%{d.get('reg')}"}.get(d["type"])
        if where is None:
            where = f"*(%{d['reg']} + {d['offset']}" + \
                (f" + %{d['index']}*{d['scale']}" if d.get("index") else "") + ")"
        return f"{self.size * 8}-bit {'signed' if self.signed else 'unsigned'} {where}"

    def __str__(self):
        return self.describe()


class USDTProbeLocation:
    def __init__(self, loc):
        self._loc = loc
        self.address = loc.pc
        self.bin_path = as_bytes(loc.path)
        self._parsed = None

    def _args(self):
        if self._parsed is None:
            self._parsed = _args.parse_args(self._loc.args, self._loc.machine)
        return self._parsed

    @property
    def num_arguments(self):
        return len(self._args())

    def get_argument(self, index):
        return USDTProbeArgument(self._args()[index])

    def __str__(self):
        return f"{self.bin_path.decode()} 0x{self.address:x}"


class USDTProbe:
    """One probe (as enumerate_probes lists it)."""

    def __init__(self, probe):
        self._probe = probe
        self.provider = as_bytes(probe.provider)       # bytes, as in bcc
        self.name = as_bytes(probe.name)
        self.bin_path = as_bytes(probe.bin_path)
        self.semaphore = probe.semaphore
        self.num_locations = probe.num_locations
        self.num_arguments = probe.num_arguments

    def short_name(self):
        return f"{self.provider.decode()}:{self.name.decode()}"

    def get_location(self, index):
        return USDTProbeLocation(self._probe.locations[index])

    def __str__(self):
        return f"{self.short_name()} [sema 0x{self.semaphore:x}]"


def _add_to_semaphores(pid, locs, delta):
    """Add ``delta`` to the semaphores of ``locs`` in process ``pid`` (each
    address once); returns the locations changed. A process that is gone
    or refuses is left alone."""
    from ..symbols import procmaps
    changed, seen = [], set()
    try:
        maps = procmaps.read_maps(pid)
        mem = open(f"/proc/{pid}/mem", "r+b", buffering=0)
    except OSError:
        return changed
    with mem:
        for loc in locs:
            if not loc.semaphore_offset:
                continue
            try:
                inode = os.stat(loc.path).st_ino
            except OSError:
                continue
            for m in maps:
                if m.inode != inode or "w" not in m.perms or \
                        not m.offset <= loc.semaphore_offset < m.offset + m.end - m.start:
                    continue
                addr = m.start + loc.semaphore_offset - m.offset
                if addr in seen:
                    break
                seen.add(addr)
                try:
                    mem.seek(addr)
                    value = struct.unpack("<H", mem.read(2))[0]
                    mem.seek(addr)
                    mem.write(struct.pack("<H", max(0, min(0xFFFF, value + delta))))
                    changed.append(loc)
                except (OSError, struct.error):
                    pass
                break
    return changed


def _split_probe(probe):
    provider, sep, name = probe.rpartition(":")
    return (provider or None) if sep else None, name


class USDT:
    """The USDT probes of one process (pid) or one binary or library (path)."""

    def __init__(self, pid=None, path=None):
        self.pid = int(pid) if pid is not None else None
        self.path = as_str(path) if path else None
        if self.pid is None and not self.path:
            raise USDTException("USDT needs a pid or a path")
        if self.pid is not None and not os.path.exists(f"/proc/{self.pid}"):
            raise USDTException(f"USDT failed to instrument PID {self.pid}: no such process")
        if self.path:
            resolved = self.path
            if "/" not in resolved:
                from .. import symbols
                resolved = symbols.find_library(resolved, self.pid) or \
                    symbols.find_binary(resolved)
            if not resolved or not os.path.exists(resolved):
                raise USDTException(f"USDT failed to instrument path {self.path}: "
                                    f"no such file")
            self.path = resolved
        self._enabled = []          # (provider or None, name, fn_name, [Location])
        self._semaphores = []       # finalizers giving back enable_probe's counts
        self._links = []

    def _locations(self):
        if self.path:
            return _usdt.read_probes(self.path)
        return _usdt.process_probes(self.pid)

    def _target(self):
        return self.path if self.path else self.pid

    def enable_probe(self, probe, fn_name):
        """Run BPF function ``fn_name`` at probe ``probe`` ("provider:name" or "name")."""
        probe, fn_name = as_str(probe), as_str(fn_name)
        provider, name = _split_probe(probe)
        try:
            locs = _usdt.find_locations(self._target(), provider, name,
                                        self.pid if self.pid else -1)
        except (AttachError, ProcessLookupError) as e:
            raise USDTException(f"Failed to enable USDT probe {probe}: {e}. The program "
                                f"may lack the probe, or its runtime was built without USDT "
                                f"support (e.g. --with-dtrace); list probes with "
                                f"USDT(...).enumerate_probes() or tplist") from None
        self._enabled.append((provider, name, fn_name, locs))
        if self.pid:
            # bcc counts a probe's semaphore up as soon as it is enabled on a
            # process (tools such as ustat attach the uprobes themselves)
            bumped = _add_to_semaphores(self.pid, locs, 1)
            if bumped:
                self._semaphores.append(
                    weakref.finalize(self, _add_to_semaphores, self.pid, bumped, -1))

    def enable_probe_or_bail(self, probe, fn_name):
        try:
            self.enable_probe(probe, fn_name)
        except USDTException as e:
            print(e, file=sys.stderr)
            sys.exit(1)

    def get_context(self):
        return self

    def get_text(self):
        """C to compile before the program: <bpf/usdt.bpf.h> and bcc's readers,
        ending with #line 1 so that errors name the user's own lines."""
        return _TEXT

    def get_probe_arg_ctype(self, probe_name, arg_index):
        """C type of argument ``arg_index`` (from 0) of an enabled or known probe."""
        provider, name = _split_probe(as_str(probe_name))
        locs = _usdt.notes.match(self._locations(), provider, name)
        if not locs:
            raise USDTException(f"no USDT probe {as_str(probe_name)}")
        arg = _args.parse_args(locs[0].args, locs[0].machine)[arg_index]
        return _CTYPES[(arg.size, arg.signed)]

    def enumerate_probes(self):
        return [USDTProbe(p) for p in _usdt.group(self._locations())]

    def enumerate_active_probes(self):
        """(binary path, function, address, pid) per enabled location, as bcc
        returns them (address is the link-time address of the probe)."""
        return [(as_bytes(loc.path), as_bytes(fn_name), loc.pc, self.pid if self.pid else -1)
                for _, _, fn_name, locs in self._enabled for loc in locs]

    def attach_uprobes(self, bpf, attach_usdt_ignore_pid=False):
        """Attach every enabled probe's function; called by BPF after loading.
        The links are kept by ``bpf`` (kind "uprobe"), so bpf.cleanup() detaches."""
        pid = -1 if attach_usdt_ignore_pid or not self.pid else self.pid
        coll = getattr(bpf, "_coll", None)
        for provider, name, fn_name, locs in self._enabled:
            fn = bpf.load_func(fn_name, bpf.KPROBE)
            paths = sorted({loc.path for loc in locs})
            for path in paths:      # one attachment per object (a pid may map several)
                try:
                    link = _usdt.attach_usdt(coll, fn, path,
                                             provider, name, pid=pid)
                except BPFError as e:
                    raise USDTException(f"Failed to attach USDT probe "
                                        f"{provider + ':' if provider else ''}{name} "
                                        f"to {fn_name}: {e}") from None
                self._links.append(link)
                key = f"usdt_{provider or ''}_{name}_{fn_name}_{path}_{pid}"
                if hasattr(bpf, "_add_link"):
                    bpf._add_link("uprobe", key, link)
        # The kernel counts the semaphores now, while the uprobes exist.
        for undo in self._semaphores:
            undo()
        self._semaphores = []
        return self
