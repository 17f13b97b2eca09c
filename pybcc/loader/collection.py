"""ObjectSpec → kernel objects: BTF, maps, programs (a Collection).

The steps follow the object's own order of needs: CO-RE fixes instructions
against the running kernel's types, externs are resolved, the object's BTF is
loaded (for map and program type information), maps are created and filled,
then each program is linked (linker.py: its subprograms appended, its map and
data references patched) and loaded. A rejected program raises
VerifierError that points at the C line.
"""
from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Mapping

from .. import asm, record
from ..btf import types as bt
from ..errors import BPFError, LoadError, NotSupportedError, VerifierError
from ..kernel import bpf, memlock
from ..kernel.fd import Fd, close_fd
from ..kernel.uapi import BPF_F_SLEEPABLE, Cmd, MapType, ProgType
from ..maps.factory import create_fd
from ..maps.spec import PIN_BY_NAME
from ..elf_reader import ObjectSpec, load_spec
from . import externs
from .externs import kernel_version_code
from .linker import Linker
from .memo import KernelMemo
from .sanitize import sanitized

FUNC_INFO_REC = struct.Struct("<II")
LINE_INFO_REC = struct.Struct("<IIII")
DEFAULT_PIN_ROOT = "/sys/fs/bpf"


class Program:
    """A loaded program. attach() picks the mechanism from its section name."""

    def __init__(self, spec, fd, linked):
        self.spec = spec
        self.name = spec.name
        self.fd = fd
        self.line_info = linked.line_info
        self.insn_count = len(linked.insns)
        self.links = []

    @property
    def type(self):
        return self.spec.prog_type

    def attach(self, target=None, **kw):
        """Attach by the section's convention; returns a Link (also kept here)."""
        from .. import autoattach
        link = autoattach.attach_program(self, target, **kw)
        self.links.append(link)
        return link

    def close(self):
        for link in self.links:
            link.close()
        self.links = []
        if self.fd is not None and self.fd >= 0:
            os.close(self.fd)
        self.fd = None


class Collection:
    """The loaded object: ``maps`` and ``programs`` by name."""

    def __init__(self, spec, loader=None):
        self.spec = spec
        self.loader = loader    # loads programs later (load_program); a Loader
        self.map_fds: dict[str, int] = {}
        self.programs: dict[str, Program] = {}
        self.errors: dict[str, BPFError] = {}
        self.btf_fd = None
        self.btf_error = None
        self._maps = {}

    @property
    def maps(self):
        """Map objects by name (the global-data maps by section: ".bss", ...),
        each made when first looked up: a tool reads one or two of its maps,
        and making a Map builds its key and value codecs from the BTF and
        imports its class's module (~1 ms a map)."""
        return _Maps(self)

    def __getitem__(self, name):
        return self.maps[name]

    def load_program(self, name, sdef=None, target=None):
        """Load one program now (once); ``sdef``/``target`` override what its
        section says (the bcc front end decides program types at run time)."""
        prog = self.programs.get(name)
        if prog is not None:
            return prog
        ps = self.spec.programs.get(name)
        if ps is None:
            raise LoadError(f"no program {name!r} in {self.spec.path} "
                            f"(have: {', '.join(sorted(self.spec.programs)) or 'none'})")
        if sdef is not None:
            ps = record.replace(ps, sdef=sdef, target=ps.target if target is None else target)
        prog = self.programs[name] = self.loader.load_program(ps)
        self.loader.finish()
        return prog

    def attach_all(self):
        """Attach every program whose section says where (kprobe/..., tracepoint/...)."""
        links = []
        for prog in self.programs.values():
            if prog.spec.sdef is not None and prog.spec.sdef.kind and prog.spec.target:
                links.append(prog.attach())
        return links

    def close(self):
        for prog in self.programs.values():
            prog.close()
        for m in self._maps.values():
            m.close()
        for fd in self.map_fds.values():
            close_fd(fd)    # an Fd shared with its Map wrapper: closes once
        self.map_fds = {}
        self._maps = {}
        self.loader = None
        if self.btf_fd is not None:
            os.close(self.btf_fd)
            self.btf_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Maps(Mapping):
    """A Collection's maps by name, opened on first lookup (Collection.maps)."""

    def __init__(self, coll):
        self._coll = coll

    def __getitem__(self, name):
        coll = self._coll
        m = coll._maps.get(name)
        if m is None:
            fd = coll.map_fds[name]     # KeyError: no such map
            from ..maps import open_map
            m = coll._maps[name] = open_map(fd, coll.spec.maps[name])
        return m

    def __iter__(self):
        return iter(self._coll.map_fds)

    def __len__(self):
        return len(self._coll.map_fds)

    def __contains__(self, name):
        return name in self._coll.map_fds


def load(source, *, constants=None, programs=None, pin_root=DEFAULT_PIN_ROOT,
         kernel_btf=None, keep_going=False, map_sizes=None, map_flags=None, reuse_maps=None):
    """Load an object (path, bytes or ObjectSpec) into the kernel.

    ``constants`` sets global variables (``const volatile`` ones included)
    before load. ``programs`` limits loading to those names (an empty list
    loads none: load them later with Collection.load_program). With
    ``keep_going``, a program that fails is recorded in ``errors`` and the
    others are still loaded; otherwise the first failure raises.
    ``map_sizes`` ({name: max_entries}) resizes maps before they are made;
    ``map_flags`` ({name: flags}) adds flags (e.g. BPF_F_NO_PREALLOC) to those
    the object gives a map;
    ``reuse_maps`` ({name: fd}) makes programs use an existing map (e.g. one
    pinned by someone else) instead of creating it.
    """
    spec = source if isinstance(source, ObjectSpec) else load_spec(source)
    for name, size in (map_sizes or {}).items():
        if name not in spec.maps:
            raise LoadError(f"{spec.path}: no map {name!r} to resize")
        spec.maps[name] = record.replace(spec.maps[name], max_entries=size)
    for name, flags in (map_flags or {}).items():
        if name not in spec.maps:
            raise LoadError(f"{spec.path}: no map {name!r} to set flags on")
        spec.maps[name] = record.replace(spec.maps[name], flags=spec.maps[name].flags | flags)
    loader = Loader(spec, kernel_btf, pin_root, reuse_maps)
    return loader.run(constants or {}, programs, keep_going)


class Loader:
    """Turns one ObjectSpec into a Collection; stays with the Collection to
    load its programs on demand (Collection.load_program)."""

    def __init__(self, spec, kernel_btf=None, pin_root=DEFAULT_PIN_ROOT, reuse_maps=None):
        self.spec = spec
        self.kernel = KernelMemo(spec.digest, kernel_btf)
        self.pin_root = pin_root
        self.coll = Collection(spec, self)
        self.ext = None
        self._filled = set()
        self.reuse = dict(reuse_maps or {})
        if spec.btf_ext_data and spec.btf is not None:
            from ..btf.ext import BTFExt
            self.ext = BTFExt.parse(spec.btf_ext_data, spec.btf)
        # The spec's instructions, shared: the linker copies what it links,
        # and CO-RE patches a section only in a copy of its own (_apply_core).
        self.insns = {name: s.insns for name, s in spec.sections.items()}
        self.linker = None

    def run(self, constants, only, keep_going):
        try:
            self._apply_core()
            found = externs.layout(self.spec, self.kernel)
            if found.kconfig_map is not None:
                self.spec.maps[".kconfig"] = found.kconfig_map
            self.linker = Linker(self.spec, self.insns, self.ext, found)
            self._set_constants(constants)
            self._load_btf()
            self._create_maps()
            for name, pspec in self.spec.programs.items():
                if (only is not None and name not in only) or (only is None and pspec.sdef is None):
                    continue
                try:
                    self.coll.programs[name] = self.load_program(pspec)
                except BPFError as e:
                    if not keep_going:
                        raise
                    self.coll.errors[name] = e
            self.finish()
        except BaseException:
            self.coll.close()
            raise
        return self.coll

    # --- CO-RE ---------------------------------------------------------------

    def _apply_core(self):
        if self.ext is None or not self.ext.core_relos.has_records():
            return
        for sec_name in self.ext.core_relos:
            if sec_name not in self.insns or not self.ext.core_relos.count(sec_name):
                continue
            # our own copy to patch (the spec may serve other loads); built
            # field by field, which is several times cheaper than copy.copy
            Insn = asm.Insn
            self.insns[sec_name] = [Insn(i.code, i.dst, i.src, i.off, i.imm)
                                    for i in self.insns[sec_name]]
            patches = self.kernel.core_patches(sec_name)
            if patches is None:
                from ..btf import core    # only when this kernel's answers are not remembered
                relos = self.ext.core_relos[sec_name]
                results = core.relocate(self.insns[sec_name], relos, self.spec.btf,
                                        self.kernel.core_targets, section=sec_name)
                self.kernel.set_core_patches(sec_name, core.patches(results))
            else:
                asm.apply_patches(self.insns[sec_name], patches)

    # --- externs ---------------------------------------------------------------

    def _set_constants(self, constants):
        for name, value in constants.items():
            var = self.spec.variables.get(name)
            if var is None:
                raise LoadError(f"{self.spec.path}: no global variable {name!r} "
                                f"(have: {', '.join(sorted(self.spec.variables)) or 'none'})")
            m = self.spec.maps[var.map_name]
            m.data[var.offset:var.offset + var.size] = _encode_value(self.spec.btf, var, value)

    # --- BTF -------------------------------------------------------------------

    def _load_btf(self):
        if self.spec.btf is None:
            return
        data = self.kernel.btf_blob()
        if data is None:
            data = sanitized(self.spec.btf).to_bytes()
            self.kernel.set_btf_blob(data)
        try:
            self.coll.btf_fd = bpf.btf_load(data)
        except BPFError:
            log = ctypes.create_string_buffer(1 << 20)
            try:
                self.coll.btf_fd = bpf.btf_load(data, log, 1)
            except BPFError as e:
                # Load without type information rather than not at all.
                self.coll.btf_error = f"{e}: {log.value.decode(errors='replace').strip()[-500:]}"

    # --- maps ------------------------------------------------------------------

    def _create_maps(self):
        for name, ms in self.spec.maps.items():
            # an Fd: the Map wrapping it later (Collection.maps) shares it
            self.coll.map_fds[name] = Fd(self._create_map(name, ms))

    def _create_map(self, name, ms):
        if name in self.reuse:
            return _reuse_map(name, ms, self.reuse[name])
        pin_path = None
        if ms.pinning == PIN_BY_NAME:
            pin_path = os.path.join(self.pin_root, ms.name)
            if os.path.exists(pin_path):
                return bpf.obj_get(pin_path)
        inner_fd = None
        if ms.inner is not None:
            inner_fd = self._create_map(name + ".inner", ms.inner)
        try:
            fd = create_fd(ms, self.coll.btf_fd, inner_fd)
        except BPFError as e:
            what = MapType(ms.type).name.lower() if ms.type in MapType._value2member_map_ else ms.type
            raise LoadError(f"creating map {ms.name} (type {what}, key {ms.key_size} B, "
                            f"value {ms.value_size} B, {ms.max_entries} entries)"
                            f"{memlock.explain(e.errno)}", e.errno) from None
        finally:
            if inner_fd is not None:
                os.close(inner_fd)
        if ms.data is not None:
            key = ctypes.c_uint32(0)
            val = ctypes.create_string_buffer(bytes(ms.data), len(ms.data))
            bpf.map_elem(Cmd.MAP_UPDATE_ELEM, fd, key, val)
            if ms.freeze:
                bpf.map_freeze(fd)
        if pin_path:
            bpf.obj_pin(fd, pin_path)
        return fd

    def finish(self):
        """After loading programs: fill prog-array and map-in-map slots,
        remember what was learnt about the kernel."""
        self._fill_slots()
        self.kernel.save()

    def _fill_slots(self):
        """Initial values of prog arrays and map-in-maps (from .rel.maps)."""
        for name, ms in self.spec.maps.items():
            for slot, target in ms.init_slots.items():
                if ms.type == MapType.PROG_ARRAY:
                    prog = self.coll.programs.get(target)
                    if prog is None or (name, slot) in self._filled:
                        continue
                    self._filled.add((name, slot))
                    value_fd = prog.fd
                else:
                    value_fd = self.coll.map_fds[target]
                try:
                    bpf.map_elem(Cmd.MAP_UPDATE_ELEM, self.coll.map_fds[name], ctypes.c_uint32(slot),
                                      ctypes.c_uint32(value_fd))
                except BPFError as e:
                    hint = (" (a prog array holds programs of one type only)"
                            if ms.type == MapType.PROG_ARRAY else "")
                    raise LoadError(f"putting {target} into slot {slot} of map {name}{hint}",
                                    e.errno) from None

    # --- programs ----------------------------------------------------------------

    def load_program(self, ps):
        """Link and load one ProgramSpec; returns a Program."""
        sdef = ps.sdef
        if sdef is None:
            raise LoadError(f"program {ps.name}: section {ps.section!r} does not say what "
                            f"kind of program it is (use SEC(\"tracepoint/...\"), SEC(\"kprobe/...\"), ...)")
        linked = self.linker.link(ps, self.coll.map_fds)
        fields = dict(prog_type=sdef.prog_type, expected_attach_type=sdef.attach_type or 0,
                      prog_flags=BPF_F_SLEEPABLE if sdef.sleepable else 0,
                      kern_version=ps.kern_version or kernel_version_code(),
                      prog_name=bpf.object_name(ps.name))
        if sdef.prog_type in (ProgType.TRACING, ProgType.LSM, ProgType.EXT) and sdef.attach_type is not None:
            module, fields["attach_btf_id"] = self._attach_target(ps)
            if module:      # a function of a module: name the module's BTF object
                from ..kernel import module_btf
                with Fd(module_btf.object_fd(module)) as btf_obj:
                    fields["attach_btf_obj_fd"] = btf_obj
                    return self._prog_load(ps, linked, fields)
        return self._prog_load(ps, linked, fields)

    def _attach_target(self, ps):
        sdef = ps.sdef
        target = ps.target
        if sdef.btf_prefix == "btf_trace_":
            kinds, name = (bt.TYPEDEF,), "btf_trace_" + target
        else:
            kinds, name = (bt.FUNC,), sdef.btf_prefix + target
        found = self.kernel.attach_target(name, kinds)
        if found is None:
            raise LoadError(f"program {ps.name}: {name} is not in the BTF of the kernel "
                            f"or of its modules, so {ps.section!r} cannot attach to it")
        return found

    def _prog_load(self, ps, linked, fields):
        insn_bytes = asm.encode(linked.insns)
        insns = ctypes.create_string_buffer(insn_bytes, len(insn_bytes))
        lic = ctypes.create_string_buffer(("GPL" if ps.license is None else ps.license).encode())
        keep = [insns, lic]
        fields.update(insns=bpf.addr(insns), insn_cnt=len(linked.insns), license=bpf.addr(lic))
        if self.coll.btf_fd is not None and linked.func_info:
            fi = b"".join(FUNC_INFO_REC.pack(i, t) for i, t in linked.func_info)
            li = b"".join(LINE_INFO_REC.pack(r.insn, r.file_off, r.line_off, r.line_col)
                          for r in linked.line_info)
            fib = ctypes.create_string_buffer(fi, len(fi))
            lib = ctypes.create_string_buffer(li, max(len(li), 1))
            keep += [fib, lib]
            fields.update(prog_btf_fd=self.coll.btf_fd, func_info=bpf.addr(fib),
                          func_info_cnt=len(linked.func_info), func_info_rec_size=FUNC_INFO_REC.size)
            if linked.line_info:
                fields.update(line_info=bpf.addr(lib), line_info_cnt=len(linked.line_info),
                              line_info_rec_size=LINE_INFO_REC.size)
        fd, _ = bpf.prog_load(**fields)
        if fd >= 0:
            return Program(ps, fd, linked)
        err = -fd
        # Load again with the verifier's log: only on failure, it costs time.
        size = 1 << 22
        log = ctypes.create_string_buffer(size)
        fd, _ = bpf.prog_load(**fields, log_level=1, log_buf=bpf.addr(log), log_size=size)
        if fd >= 0:  # flaky first failure (e.g. EAGAIN): keep the program
            return Program(ps, fd, linked)
        text = log.value.decode(errors="replace")
        if err == 1 and ps.sdef.prog_type in (ProgType.TRACING, ProgType.LSM) and not text.strip():
            raise NotSupportedError(
                f"program {ps.name} ({ps.section}): the kernel refuses {ps.sdef.prefix.rstrip('/')} "
                f"programs (EPERM)", feature=ps.sdef.prefix.rstrip("/"),
                alternative="a tracepoint, tp_btf or raw_tracepoint program", err=err)
        if not text.strip():
            raise LoadError(f"program {ps.name} ({ps.section}): the kernel refused to load it"
                            f"{memlock.explain(err)}", err)
        from . import verifier   # its patterns are compiled only after a rejection
        head, idx, rec = verifier.explain(ps.name, ps.section, text, linked.line_info)
        from ..btf.core import POISON_HELPER
        if "unknown#%d" % POISON_HELPER in text:
            head += ("\n  (that instruction was poisoned by pybcc: a CO-RE relocation found no "
                     "matching field or type in this kernel's BTF; guard it with "
                     "bpf_core_field_exists() or similar)")
        raise VerifierError(head, text, err, idx, rec)



def _reuse_map(name, ms, fd):
    """A duplicate of ``fd`` to stand for map ``name``, if it is compatible."""
    info = bpf.map_info(fd)
    mtype, key_size, value_size = info["type"], info["key_size"], info["value_size"]
    if (mtype, key_size, value_size) != (ms.type, ms.key_size, ms.value_size):
        raise LoadError(f"map {name}: the map given to reuse has type {mtype}, key {key_size} B, "
                        f"value {value_size} B; the program expects type {ms.type}, key "
                        f"{ms.key_size} B, value {ms.value_size} B")
    return os.dup(fd)


def _encode_value(btf, var, value):
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        t = btf.strip(var.type_id) if btf is not None else None
        signed = bool(t is not None and t.kind == bt.INT and t.encoding & bt.INT_SIGNED) or value < 0
        return value.to_bytes(var.size, "little", signed=signed)
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray)):
        if len(value) > var.size:
            raise LoadError(f"value for {var.name} is {len(value)} bytes; the variable has {var.size}")
        return bytes(value).ljust(var.size, b"\0")
    if isinstance(value, ctypes.Structure) or isinstance(value, ctypes.Array):
        return bytes(value)[:var.size].ljust(var.size, b"\0")
    raise LoadError(f"cannot set {var.name} from a {type(value).__name__}")
