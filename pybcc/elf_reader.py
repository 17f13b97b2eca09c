"""ELF BPF objects (as clang writes them) → specs: programs, maps, globals.

Nothing here touches the kernel. The loader turns an ObjectSpec into maps and
programs; knowing the running kernel (CO-RE, externs) is the loader's job.

A parsed object is remembered in pybcc's cache, keyed by the object's
digest: a tool's second start reads its spec back (a few ms) instead of
importing pyelftools and parsing the ELF again.
"""
from __future__ import annotations

import io
import os

from . import asm, cache, sections
from .btf import BTF
from .btf import types as bt
from .errors import LoadError
from .kernel.uapi import BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, MapType
from .maps.spec import PIN_BY_NAME, PIN_NONE, MapSpec  # noqa: F401  (the specs an object holds)
from .record import field, record

EM_BPF = 247
SHF_EXECINSTR = 0x4
SHN_UNDEF = 0
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_ABS32 = 3
R_BPF_64_32 = 10

# Global data beyond this is a corrupt header, not a map (the kernel's own
# limit, KMALLOC_MAX_SIZE, is a few MB): do not allocate it.
MAX_GLOBAL_DATA = 1 << 26


@record
class Reloc:
    """A relocation against one instruction of an executable section."""
    insn: int            # instruction index in the section
    type: int            # R_BPF_*
    sym_name: str
    sym_section: str     # section the symbol is defined in ("" if undefined)
    sym_value: int
    sym_kind: str        # "func", "object", "section", "notype"
    sym_bind: str        # "global", "local", "weak"


@record
class Section:
    """An executable section: its instructions and relocations."""
    name: str
    insns: list[asm.Insn]
    relocs: dict[int, Reloc] = field(default_factory=dict)
    funcs: dict[str, tuple] = field(default_factory=dict)  # name → (start, end, binding)


@record
class ProgramSpec:
    name: str
    section: str
    start: int           # first instruction in the section
    end: int
    sdef: sections.SectionDef | None
    target: str          # what the section name says to attach to
    license: str = "GPL"
    kern_version: int = 0

    @property
    def prog_type(self):
        return self.sdef.prog_type if self.sdef else None


@record
class Variable:
    """A global variable in a global-data map, settable before load."""
    name: str
    map_name: str        # the MapSpec holding it (e.g. ".rodata")
    offset: int
    size: int
    type_id: int


@record
class Extern:
    name: str
    kind: str            # "kconfig", "ksym" (variable) or "kfunc"
    type_id: int
    weak: bool


@record
class ObjectSpec:
    path: str
    btf: BTF | None
    btf_ext_data: bytes | None
    sections: dict[str, Section]
    programs: dict[str, ProgramSpec]
    maps: dict[str, MapSpec]
    variables: dict[str, Variable]
    externs: dict[str, Extern]
    license: str
    kern_version: int
    digest: str = ""          # sha256 of the ELF bytes


def _sym_kind(sym):
    return {"STT_FUNC": "func", "STT_OBJECT": "object", "STT_SECTION": "section"}.get(
        sym["st_info"]["type"], "notype")


def _sym_bind(sym):
    return {"STB_GLOBAL": "global", "STB_WEAK": "weak"}.get(sym["st_info"]["bind"], "local")


def _is_global_data(name):
    return any(name == p or name.startswith(p + ".") for p in (".data", ".rodata", ".bss"))


def load_spec(path_or_bytes, name=None, memo=True):
    """Parse a BPF ELF object (a path or its bytes) into an ObjectSpec.
    With ``memo``, a spec parsed before (same bytes) comes from the cache;
    an object file seen before (same size, times, inode) is not even read."""
    data = path_or_bytes
    path = name or "<bytes>"
    spec = None
    if isinstance(path_or_bytes, (str, os.PathLike)):
        path = str(path_or_bytes)
        # (the kind names the digest: entries of the SHA-256 used before are not taken for it)
        digest = cache.remembered_digest("object-blake2b", [path], lambda: _file_digest(path))
        if memo:
            spec = _read_beside(path, digest) or _read_memo_of(digest)
        if spec is None:
            with open(path, "rb") as f:
                data = f.read()
            digest = object_digest(data)
    else:
        digest = object_digest(data)
        if memo:
            spec = _read_memo_of(digest)
    if spec is not None:
        spec.path = path
        return spec
    memo_path = _memo_path(digest) if memo else None
    spec = _parse(data, path)
    spec.digest = digest
    if memo_path:
        try:
            cache.write_entry(memo_path, _pickled(spec))
        except OSError:
            pass    # an unusable cache only costs time
    return spec


def _file_digest(path):
    with open(path, "rb") as f:
        return object_digest(f.read())


def object_digest(data):
    """An object's identity, the key of its memos (spec, kernel answers):
    BLAKE2b-256, ~3x faster than Python's own SHA-256 (a first run hashes
    a ~650 KB tool object) and, like it, without OpenSSL."""
    try:
        from _blake2 import blake2b
    except ImportError:      # a Python built without it: any digest will do, the same one throughout
        return cache.sha256(data).hexdigest()
    return blake2b(data, digest_size=32).hexdigest()


def _parse(data, path):
    from elftools.common.exceptions import ELFError
    from elftools.construct.core import ConstructError
    try:
        return _Parser(data, path).parse()
    except LoadError:
        raise
    except (ELFError, ConstructError, ValueError, IndexError, KeyError, OverflowError,
            UnicodeDecodeError) as e:
        # pyelftools reads lazily: a corrupt object fails anywhere in parse()
        raise LoadError(f"{path}: malformed BPF object ({type(e).__name__}: {e})") from None


# The memo holds pickled spec classes: it is only valid for the code that
# wrote it, so its key covers the contents of the modules whose classes it
# holds (contents, not mtimes: a wheel's install sets new mtimes, and the
# specs shipped beside the prebuilt objects must still match).
_SPEC_MODULES = ("elf_reader.py", "asm.py", "sections.py", "record.py", "btf/types.py", "maps/spec.py")
_code_id = None


def _code():
    """The id of the code that pickles specs (see _SPEC_MODULES)."""
    global _code_id
    if _code_id is None:
        here = os.path.dirname(os.path.abspath(__file__))
        paths = [os.path.join(here, rel) for rel in _SPEC_MODULES]
        _code_id = cache.remembered_digest("spec-code", paths, lambda: _contents_id(here))
    return _code_id


def _contents_id(here):
    h = cache.sha256()
    for rel in _SPEC_MODULES:
        try:
            with open(os.path.join(here, rel), "rb") as f:
                h.update(rel.encode() + b"\0" + f.read())
        except OSError:
            h.update(rel.encode())
    return h.hexdigest()[:16]


def _memo_path(digest):
    """Where the spec of the object with ``digest`` is remembered; None when
    the cache cannot be used."""
    try:
        return os.path.join(cache.private_dir("object-specs"), f"{digest}-{_code()}.pickle")
    except OSError:
        return None


def _read_memo_of(digest):
    path = _memo_path(digest)
    return _read_memo(path) if path else None


def _read_memo(path):
    # entry_ok(): private directory, our file, digest intact (see pybcc.cache);
    # the pickle is as trusted as the objects the same cache feeds the kernel.
    if not cache.entry_ok(path):
        return None
    return _read_pickle(path)


def _pickled(spec):
    """The spec's bytes for its memo. Its BTF is kept as a BTF blob, parsed
    lazily when read back (a type is decoded when first asked for): ~0.3 ms,
    where unpickling its ~500 type objects took ~2 ms of every warm start."""
    import io
    import pickle

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj) is BTF and obj.base is None:
                return _btf_from_blob, (obj.to_bytes(), obj.endian)
            return NotImplemented

    out = io.BytesIO()
    Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(spec)
    return out.getvalue()


def _btf_from_blob(data, endian):
    btf = BTF.parse(data, lazy=True)
    if btf.endian != endian:
        raise ValueError("BTF byte order changed in its memo")
    return btf


def _read_pickle(path):
    try:
        from _pickle import load    # the C unpickler: pickle.py adds ~1 ms of imports
    except ImportError:
        from pickle import load
    try:
        with open(path, "rb") as f:
            spec = load(f)
    except Exception:  # noqa: BLE001 (a stale or foreign pickle: parse again)
        return None
    return spec if isinstance(spec, ObjectSpec) else None


# A prebuilt object (pybcc/tools/prebuilt) ships its spec beside it, written
# when it was built, so even a first start with an empty cache neither
# imports pyelftools nor parses the ELF. It is as trusted as the package's
# code: it must belong to root or to us and be writable by nobody else.
def _beside_path(path, digest):
    return f"{path}.{digest[:16]}-{_code()}.spec"


def _read_beside(path, digest):
    beside = _beside_path(path, digest)
    try:
        st = os.stat(beside)
        if st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
            return None
        return _read_pickle(beside)
    except OSError:
        return None


def write_spec_beside(path):
    """Parse the object at ``path`` and keep its spec beside it (for
    prebuilt objects); specs of older objects or code there are removed."""
    with open(path, "rb") as f:
        data = f.read()
    digest = object_digest(data)
    out = _beside_path(path, digest)
    if _read_beside(path, digest) is not None:
        return out
    spec = _parse(data, path)
    spec.digest = digest
    cache.write_atomic(out, _pickled(spec), mode=0o644)
    folder, base = os.path.split(path)
    for name in os.listdir(folder):
        if name.startswith(base + ".") and name.endswith(".spec") and \
                os.path.join(folder, name) != out:
            os.unlink(os.path.join(folder, name))
    return out


class _Parser:
    def __init__(self, data, path):
        from elftools.elf.elffile import ELFFile
        self.path = path
        try:
            self.elf = ELFFile(io.BytesIO(data))
        except Exception as e:
            raise LoadError(f"{path}: not an ELF object ({e})")
        if self.elf["e_machine"] not in ("EM_BPF", EM_BPF):
            raise LoadError(f"{path}: not a BPF object (machine {self.elf['e_machine']})")
        self.symtab = self.elf.get_section_by_name(".symtab")
        if self.symtab is None:
            raise LoadError(f"{path}: has no symbol table")
        self.symbols = list(self.symtab.iter_symbols())
        self.secnames = [s.name for s in self.elf.iter_sections()]

    def _sec_name(self, idx):
        return self.secnames[idx] if isinstance(idx, int) and idx < len(self.secnames) else ""

    def parse(self):
        elf = self.elf
        btf_sec = elf.get_section_by_name(".BTF")
        ext_sec = elf.get_section_by_name(".BTF.ext")
        self.btf = BTF.parse(btf_sec.data()) if btf_sec is not None else None
        license_sec = elf.get_section_by_name("license")
        # None: no license section (the loader says GPL); "" is a license too
        license = license_sec.data().split(b"\0")[0].decode() if license_sec is not None else None
        version_sec = elf.get_section_by_name("version")
        kern_version = int.from_bytes(version_sec.data()[:4], "little") if version_sec is not None else 0

        self._fixup_datasecs()
        secs = self._exec_sections()
        programs = self._programs(secs, license, kern_version)
        maps, variables = self._global_data()
        maps.update(self._btf_maps())
        maps.update(self._legacy_maps())
        return ObjectSpec(self.path, self.btf, ext_sec.data() if ext_sec is not None else None,
                          secs, programs, maps, variables, self._externs(), license, kern_version)

    # --- code ----------------------------------------------------------------

    def _exec_sections(self):
        secs = {}
        for idx, s in enumerate(self.elf.iter_sections()):
            if s["sh_type"] != "SHT_PROGBITS" or not (s["sh_flags"] & SHF_EXECINSTR) or not s.data_size:
                continue
            sec = Section(s.name, asm.decode(s.data()))
            for sym in self.symbols:
                if sym["st_shndx"] == idx and _sym_kind(sym) == "func":
                    start = sym["st_value"] // asm.INSN_SIZE
                    sec.funcs[sym.name] = (start, start + sym["st_size"] // asm.INSN_SIZE,
                                           _sym_bind(sym))
            secs[s.name] = sec
        for rel in self.elf.iter_sections():
            if rel["sh_type"] != "SHT_REL":
                continue
            target = self._sec_name(rel["sh_info"])
            if target not in secs:
                continue
            for r in rel.iter_relocations():
                sym = self.symbols[r["r_info_sym"]]
                secs[target].relocs[r["r_offset"] // asm.INSN_SIZE] = Reloc(
                    r["r_offset"] // asm.INSN_SIZE, r["r_info_type"], sym.name,
                    self._sec_name(sym["st_shndx"]), sym["st_value"], _sym_kind(sym), _sym_bind(sym))
        return secs

    def _programs(self, secs, license, kern_version):
        progs = {}
        for sec in secs.values():
            if sec.name == ".text":
                continue  # subprograms, linked into the programs that call them
            sdef, target = sections.lookup(sec.name)
            for fname, (start, end, bind) in sec.funcs.items():
                if bind == "local" and len(sec.funcs) > 1:
                    continue  # a static helper placed in the program's section
                progs[fname] = ProgramSpec(fname, sec.name, start, end, sdef, target, license, kern_version)
        return progs

    # --- BTF fix-ups -----------------------------------------------------------

    def _fixup_datasecs(self):
        """clang leaves DATASEC sizes and variable offsets zero: take them from ELF."""
        if self.btf is None:
            return
        offsets = {}
        for sym in self.symbols:
            if _sym_kind(sym) == "object":
                offsets[(self._sec_name(sym["st_shndx"]), sym.name)] = sym["st_value"]
        for t in self.btf.own_types:
            if t.kind != bt.DATASEC:
                continue
            sec = self.elf.get_section_by_name(t.name)
            if sec is None:
                # extern sections (.kconfig, .ksyms): the loader lays them out
                continue
            t.size = sec["sh_size"]
            for v in t.members:
                var = self.btf[v.type]
                off = offsets.get((t.name, var.name))
                if off is not None:
                    v.offset = off
            t.members.sort(key=lambda v: v.offset)

    # --- maps ----------------------------------------------------------------

    def _global_data(self):
        maps, variables = {}, {}
        base = os.path.basename(self.path).split(".")[0][:8] or "obj"
        for s in self.elf.iter_sections():
            if not _is_global_data(s.name) or (s["sh_flags"] & SHF_EXECINSTR) or not s["sh_size"]:
                continue
            if not s["sh_flags"] & 0x2:  # SHF_ALLOC
                continue
            if s["sh_size"] > MAX_GLOBAL_DATA:
                raise LoadError(f"{self.path}: section {s.name} of {s['sh_size']} bytes is too big for a map")
            data = bytearray(s["sh_size"]) if s["sh_type"] == "SHT_NOBITS" else bytearray(s.data())
            rodata = s.name.startswith(".rodata")
            value_type = 0
            if self.btf is not None:
                ds = self.btf.find_all(s.name, bt.DATASEC)
                value_type = ds[0].id if ds else 0
                for v in (ds[0].members if ds else []):
                    var = self.btf[v.type]
                    variables[var.name] = Variable(var.name, s.name, v.offset, v.size, var.ref)
            maps[s.name] = MapSpec(
                name=(base + s.name)[:15], type=MapType.ARRAY, key_size=4, value_size=len(data),
                max_entries=1, flags=BPF_F_MMAPABLE | (BPF_F_RDONLY_PROG if rodata else 0),
                btf_value_type_id=value_type, data=data, section=s.name, freeze=rodata, btf=self.btf)
        return maps, variables

    def _btf_maps(self):
        if self.btf is None:
            return {}
        secs = self.btf.find_all(".maps", bt.DATASEC)
        if not secs:
            return {}
        maps_sec = self.elf.get_section_by_name(".maps")
        slots = self._map_slot_relocs()
        maps = {}
        for v in secs[0].members:
            var = self.btf[v.type]
            spec = self._map_from_btf(var.name, self.btf.strip(var.ref))
            spec.btf = self.btf
            # initial values of map-in-map / prog array slots come from .rel.maps
            values = next((m for m in self.btf.strip(var.ref).members if m.name == "values"), None)
            if values is not None and maps_sec is not None:
                first = v.offset + values.bit_offset // 8
                for off, target in slots.items():
                    if first <= off < v.offset + v.size:
                        spec.init_slots[(off - first) // 8] = target
            maps[var.name] = spec
        return maps

    def _map_slot_relocs(self):
        rel = self.elf.get_section_by_name(".rel.maps")
        if rel is None:
            return {}
        return {r["r_offset"]: self.symbols[r["r_info_sym"]].name for r in rel.iter_relocations()}

    def _map_from_btf(self, name, st):
        if st.kind != bt.STRUCT:
            raise LoadError(f"{self.path}: map {name} is not a struct in BTF")
        spec = MapSpec(name, 0, key_size=0, value_size=0, max_entries=0)
        for m in st.members:
            mt = self.btf.strip(m.type)
            if m.name in ("type", "max_entries", "map_flags", "numa_node", "key_size",
                          "value_size", "map_extra", "pinning"):
                if mt.kind != bt.PTR or self.btf.strip(mt.ref).kind != bt.ARRAY:
                    raise LoadError(f"{self.path}: map {name}: {m.name} must be __uint()")
                val = self.btf.strip(mt.ref).nelems
                attr = {"map_flags": "flags", "type": "type"}.get(m.name, m.name)
                setattr(spec, attr, val)
            elif m.name in ("key", "value"):
                if mt.kind == bt.PTR:
                    setattr(spec, f"btf_{m.name}_type_id", mt.ref)
                    setattr(spec, f"{m.name}_size", self.btf.size_of(mt.ref))
                else:
                    raise LoadError(f"{self.path}: map {name}: {m.name} must be __type()")
            elif m.name == "values":
                # __array(values, struct inner) → array of pointers to the inner map def
                elem = self.btf.strip(mt.ref) if mt.kind == bt.ARRAY else None
                target = self.btf.strip(elem.ref) if elem is not None and elem.kind == bt.PTR else None
                if target is not None and target.kind == bt.STRUCT:
                    spec.inner = self._map_from_btf(name + ".inner", target)
                    spec.inner.btf = self.btf
                spec.value_size = spec.value_size or 4
                spec.key_size = spec.key_size or 4
        if spec.type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.PROG_ARRAY,
                         MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY):
            spec.key_size = spec.key_size or 4
            spec.value_size = spec.value_size or 4
        return spec

    def _legacy_maps(self):
        sec = self.elf.get_section_by_name("maps")
        if sec is None:
            return {}
        idx = self.secnames.index("maps")
        syms = sorted((s for s in self.symbols if s["st_shndx"] == idx and s.name),
                      key=lambda s: s["st_value"])
        data = sec.data()
        maps = {}
        for i, sym in enumerate(syms):
            off = sym["st_value"]
            end = syms[i + 1]["st_value"] if i + 1 < len(syms) else len(data)
            fields = [int.from_bytes(data[o:o + 4], "little") for o in range(off, min(end, off + 28), 4)]
            fields += [0] * (5 - len(fields))
            maps[sym.name] = MapSpec(sym.name, fields[0], fields[1], fields[2], fields[3], fields[4])
        return maps

    def _externs(self):
        externs = {}
        if self.btf is None:
            return externs
        for sec_name, kind in ((".kconfig", "kconfig"), (".ksyms", "ksym")):
            for ds in self.btf.find_all(sec_name, bt.DATASEC):
                for v in ds.members:
                    t = self.btf[v.type]
                    k = "kfunc" if t.kind == bt.FUNC else kind
                    externs[t.name] = Extern(t.name, k, t.id if t.kind == bt.FUNC else t.ref, False)
        for sym in self.symbols:
            if sym["st_shndx"] == "SHN_UNDEF" and sym.name and sym.name in externs:
                externs[sym.name].weak = _sym_bind(sym) == "weak"
        # kfuncs declared without __ksym still appear as undefined FUNC symbols
        for sym in self.symbols:
            if sym["st_shndx"] == "SHN_UNDEF" and sym.name and sym.name not in externs:
                funcs = self.btf.find_all(sym.name, bt.FUNC)
                if funcs:
                    externs[sym.name] = Extern(sym.name, "kfunc", funcs[0].id, _sym_bind(sym) == "weak")
        return externs
