"""CO-RE: resolve BPF CO-RE relocations against a target (kernel) BTF.

clang records, for every instruction whose value depends on a type layout
(`__builtin_preserve_access_index`, `bpf_core_*` macros), a relocation in
.BTF.ext: the instruction, a local root type, an access string such as
"0:1:2" and a kind. Here each relocation is resolved against the target
BTF with the semantics libbpf documents (see libbpf's "BPF CO-RE reference
guide"), and the instruction is patched:

- target candidates are the named types of the same kind whose "essential
  name" (name minus a ``___flavor`` suffix) equals the local one's;
- the access string is walked on the local type (first index: array index
  on the root; then member indexes and array indexes), and replayed on each
  candidate by member *name*, looking through anonymous structs/unions;
- all matching candidates must agree, none matching gives 0 for the
  EXISTS kinds and type-based kinds, and otherwise "poisons" the
  instruction: it becomes a call to helper 0xbad2310, which the verifier
  rejects only if that code is reachable.

``relocate()`` patches a list of ``asm.Insn`` in place and returns one
``Relocation`` per record; ``patches()`` / ``apply_patches()`` give and
replay the result as plain tuples so a loader can cache it per
(object, kernel BTF).
"""
from __future__ import annotations

from .. import asm
from ..asm import apply_patches  # noqa: F401  (patches() and apply_patches() go together)
from ..errors import LoadError
from .types import (ARRAY, ENUM, ENUM64, FLOAT, FUNC_PROTO, FWD, INT, INT_SIGNED, PTR,
                    STRUCT, UNION, UNKN, BTF)
from ..record import field, record

(FIELD_BYTE_OFFSET, FIELD_BYTE_SIZE, FIELD_EXISTS, FIELD_SIGNED, FIELD_LSHIFT_U64,
 FIELD_RSHIFT_U64, TYPE_ID_LOCAL, TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE,
 ENUMVAL_EXISTS, ENUMVAL_VALUE, TYPE_MATCHES) = range(13)

KIND_NAMES = ["byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
              "local_type_id", "target_type_id", "type_exists", "type_size",
              "enumval_exists", "enumval_value", "type_matches"]

FIELD_KINDS = range(FIELD_BYTE_OFFSET, FIELD_RSHIFT_U64 + 1)
TYPE_KINDS = (TYPE_ID_LOCAL, TYPE_ID_TARGET, TYPE_EXISTS, TYPE_SIZE, TYPE_MATCHES)
ENUM_KINDS = (ENUMVAL_EXISTS, ENUMVAL_VALUE)

POISON_HELPER = 0xBAD2310   # "bad relo": verifier says "invalid func unknown#195896080"
MAX_SPEC_LEN = 64
_SIZE_CODES = {1: asm.B, 2: asm.H, 4: asm.W, 8: asm.DW}


class _Fail(LoadError):
    """A relocation cannot be resolved; relocate() re-raises it with context."""


class _Poison(Exception):
    """The instruction must be poisoned; the argument says why."""


def essential_name(name):
    """``task_struct___old`` → ``task_struct``: drop the last ``X___Y`` flavor."""
    if "___" not in name:
        return name
    for i in range(len(name) - 5, -1, -1):
        if name[i] != "_" and name[i + 1:i + 4] == "___" and name[i + 4] != "_":
            return name[:i + 1]
    return name


def _is_composite(t):
    return t.kind in (STRUCT, UNION)


def _is_enum(t):
    return t.kind in (ENUM, ENUM64)


def _kinds_compat(a, b):
    return a.kind == b.kind or (_is_enum(a) and _is_enum(b))


def _strip_id(btf, type_id):
    """Follow typedefs/modifiers; returns (id, type)."""
    t = btf.strip(type_id)
    return t.id, t


# --- access specs -------------------------------------------------------------

@record
class Access:
    type_id: int            # struct/union of a member access; element (or root) type of an index
    idx: int
    name: str | None     # member or enumerator name; None for an array index


@record
class Spec:
    """An access string walked on one BTF: where it lands and how far in."""
    btf: BTF
    root_id: int
    kind: int
    raw: list[int] = field(default_factory=list)      # every index, anonymous members included
    acc: list[Access] = field(default_factory=list)   # named members and array indexes
    bit_offset: int = 0

    def describe(self):
        """C-ish spelling: ``struct task_struct.pids[1].pid``, ``enum e::V``."""
        btf = self.btf
        text = btf.type_name(self.root_id)
        if self.kind in TYPE_KINDS or not self.raw:
            return text
        if self.kind in ENUM_KINDS:
            return f"{text}::{self.acc[0].name}"
        if self.raw[0]:
            text += f"[{self.raw[0]}]"
        tid = self.root_id
        for idx in self.raw[1:]:
            t = btf.strip(tid)
            if _is_composite(t):
                m = t.members[idx]
                if m.name:
                    text += f".{m.name}"
                tid = m.type
            else:       # array
                text += f"[{idx}]"
                tid = t.ref
        return text


def _size(btf, type_id):
    try:
        return btf.size_of(type_id)
    except (ValueError, IndexError) as e:
        raise _Fail(f"type [{type_id}] has no size") from e


def parse_spec(btf, type_id, access, kind):
    spec = Spec(btf, type_id, kind)
    if kind in TYPE_KINDS:
        if access != "0":
            raise _Fail(f"type relocation with access string {access!r} (expected '0')")
        return spec
    try:
        spec.raw = [int(x) for x in access.split(":")]
    except ValueError:
        raise _Fail(f"bad access string {access!r}") from None
    if not spec.raw or len(spec.raw) > MAX_SPEC_LEN or min(spec.raw) < 0:
        raise _Fail(f"bad access string {access!r}")
    tid, t = _strip_id(btf, type_id)
    first = spec.raw[0]
    if kind in ENUM_KINDS:
        if not _is_enum(t) or len(spec.raw) > 1 or first >= len(t.members):
            raise _Fail(f"enum relocation {access!r} on {btf.type_name(t)}")
        spec.acc.append(Access(tid, first, t.members[first].name))
        return spec
    if kind not in FIELD_KINDS:
        raise _Fail(f"unknown relocation kind {kind}")
    spec.acc.append(Access(tid, first, None))
    spec.bit_offset = first * _size(btf, tid) * 8
    for idx in spec.raw[1:]:
        tid, t = _strip_id(btf, tid)
        if _is_composite(t):
            if idx >= len(t.members):
                raise _Fail(f"member #{idx} out of range in {btf.type_name(t)}")
            m = t.members[idx]
            spec.bit_offset += m.bit_offset
            if m.name:
                spec.acc.append(Access(tid, idx, m.name))
            tid = m.type
        elif t.kind == ARRAY:
            flex = _is_flex(btf, spec.acc[-1], t)
            tid, _ = _strip_id(btf, t.ref)
            if not flex and idx >= t.nelems:
                raise _Fail(f"index {idx} out of range of {btf.type_name(t)}")
            spec.acc.append(Access(tid, idx, None))
            spec.bit_offset += idx * _size(btf, tid) * 8
        else:
            raise _Fail(f"access {access!r} goes through {btf.type_name(t)}, not a struct/union/array")
    return spec


def _is_flex(btf, prev, arr):
    """A zero-length array that is the last member of its struct may be indexed."""
    if prev.name is None or arr.nelems:
        return False
    return prev.idx == len(btf[prev.type_id].members) - 1


# --- type compatibility ---------------------------------------------------------

def _names_match(a, b):
    """Flavor-insensitive name equality; an anonymous target matches only anonymous."""
    if not b:
        return not a
    return essential_name(a) == essential_name(b)


def fields_compat(lb, lid, tb, tid):
    """Can a field of local type ``lid`` be relocated onto target type ``tid``?"""
    while True:
        lt, tt = lb.strip(lid), tb.strip(tid)
        if _is_composite(lt) and _is_composite(tt):
            return True
        if not _kinds_compat(lt, tt):
            return False
        if lt.kind in (PTR, FLOAT):
            return True
        if lt.kind in (FWD, ENUM, ENUM64):
            ln, tn = essential_name(lt.name), essential_name(tt.name)
            return not ln or not tn or ln == tn
        if lt.kind == INT:      # any size and signedness; only old-style bitfield ints differ
            return lt.int_offset == 0 and tt.int_offset == 0
        if lt.kind == ARRAY:
            lid, tid = lt.ref, tt.ref
            continue
        return False


def types_compat(lb, lid, tb, tid, depth=32):
    """The TYPE_EXISTS/TYPE_SIZE/TYPE_ID_TARGET notion: same shape, loosely."""
    if not _kinds_compat(lb[lid], tb[tid]):
        return False
    while True:
        depth -= 1
        if depth < 0:
            raise _Fail("type nesting too deep")
        lt, tt = lb.strip(lid), tb.strip(tid)
        if not _kinds_compat(lt, tt):
            return False
        if lt.kind in (UNKN, STRUCT, UNION, ENUM, ENUM64, FWD):
            return True
        if lt.kind == INT:
            return lt.int_offset == 0 and tt.int_offset == 0
        if lt.kind in (PTR, ARRAY):
            lid, tid = lt.ref, tt.ref
            continue
        if lt.kind == FUNC_PROTO:
            if len(lt.members) != len(tt.members):
                return False
            for lp, tp in zip(lt.members, tt.members):
                if not types_compat(lb, lb.strip(lp.type).id, tb, tb.strip(tp.type).id, depth):
                    return False
            lid, tid = lt.ref, tt.ref
            continue
        return False


def types_match(lb, lid, tb, tid, behind_ptr=False, level=32):
    """TYPE_MATCHES: stricter than compat (libbpf's bpf_core_type_matches()).

    Ints match on size and signedness; structs/unions need every local member
    (by name) in the target with a matching type, except behind a pointer
    where the name and struct-vs-union is enough (a fwd declaration also
    matches); enums need every local enumerator name and the same size;
    arrays need equal lengths; function prototypes match argument by argument.
    """
    if level <= 0:
        raise _Fail("type nesting too deep")
    for _ in range(32):
        lt, tt = lb.strip(lid), tb.strip(tid)
        if not _names_match(lt.name, tt.name):
            return False
        lk, tk = lt.kind, tt.kind
        if lk == UNKN:
            return tk == UNKN
        if lk == FWD:
            if behind_ptr and tk in (STRUCT, UNION):
                return (tk == UNION) == lt.kind_flag
            return tk == FWD and lt.kind_flag == tt.kind_flag
        if lk in (ENUM, ENUM64):
            if not _is_enum(tt) or lt.size != tt.size:
                return False
            tnames = {essential_name(v.name) for v in tt.members if v.name}
            return all(essential_name(v.name) in tnames for v in lt.members)
        if lk in (STRUCT, UNION):
            if behind_ptr:
                return lk == tk or (tk == FWD and tt.kind_flag == (lk == UNION))
            if lk != tk or len(lt.members) > len(tt.members):
                return False
            by_name = {}
            for tm in tt.members:
                by_name.setdefault(essential_name(tm.name), []).append(tm)
            for lm in lt.members:
                # An anonymous local member can only match an anonymous target one.
                if not any(types_match(lb, lm.type, tb, tm.type, behind_ptr, level - 1)
                           for tm in by_name.get(essential_name(lm.name), ())):
                    return False
            return True
        if lk != tk:
            return False
        if lk == INT:
            return lt.size == tt.size and bool(lt.encoding & INT_SIGNED) == bool(tt.encoding & INT_SIGNED)
        if lk == PTR:
            behind_ptr = True
        elif lk == ARRAY:
            if lt.nelems != tt.nelems:
                return False
        elif lk == FUNC_PROTO:
            if len(lt.members) != len(tt.members):
                return False
            if not all(types_match(lb, lp.type, tb, tp.type, behind_ptr, level - 1)
                       for lp, tp in zip(lt.members, tt.members)):
                return False
        else:
            return False
        lid, tid = lt.ref, tt.ref
    raise _Fail("type nesting too deep")


# --- matching a local spec on a target candidate ------------------------------

def _match_member(lb, lacc, tb, tid, tspec):
    """Find local member ``lacc`` by name in target struct ``tid`` (through
    anonymous members). Extends tspec and returns the member's type id, or
    None."""
    tid, tt = _strip_id(tb, tid)
    if not _is_composite(tt):
        return None
    lm = lb[lacc.type_id].members[lacc.idx]
    for i, m in enumerate(tt.members):
        if len(tspec.raw) >= MAX_SPEC_LEN:
            raise _Fail("access too deep")
        tspec.bit_offset += m.bit_offset
        tspec.raw.append(i)
        if not m.name:
            found = _match_member(lb, lacc, tb, m.type, tspec)
            if found is not None:
                return found
        elif m.name == lm.name:
            if fields_compat(lb, lm.type, tb, m.type):
                tspec.acc.append(Access(tid, i, m.name))
                return m.type
            return None
        tspec.bit_offset -= m.bit_offset
        tspec.raw.pop()
    return None


def match_spec(lspec, tb, tid):
    """Replay ``lspec`` on target candidate ``tid``: a target Spec or None."""
    lb = lspec.btf
    tspec = Spec(tb, tid, lspec.kind)
    kind = lspec.kind
    if kind in TYPE_KINDS:
        if kind == TYPE_MATCHES:
            ok = types_match(lb, lspec.root_id, tb, tid)
        else:
            ok = types_compat(lb, lspec.root_id, tb, tid)
        return tspec if ok else None
    if kind in ENUM_KINDS:
        tid, tt = _strip_id(tb, tid)
        if not _is_enum(tt):
            return None
        want = essential_name(lspec.acc[0].name)
        for i, v in enumerate(tt.members):
            if essential_name(v.name) == want:
                tspec.acc.append(Access(tid, i, v.name))
                tspec.raw.append(i)
                return tspec
        return None
    for i, lacc in enumerate(lspec.acc):
        tid, tt = _strip_id(tb, tid)
        if lacc.name is not None:
            tid = _match_member(lb, lacc, tb, tid, tspec)
            if tid is None:
                return None
            continue
        if i > 0:       # array index; the root index applies to the root itself
            if tt.kind != ARRAY:
                return None
            if not _is_flex(tb, tspec.acc[-1], tt) and lacc.idx >= tt.nelems:
                return None
            tid, _ = _strip_id(tb, tt.ref)
        tspec.acc.append(Access(tid, lacc.idx, None))
        tspec.raw.append(lacc.idx)
        tspec.bit_offset += lacc.idx * _size(tb, tid) * 8
    return tspec


# --- computing values -----------------------------------------------------------

def _field_value(kind, spec):
    """(value, field byte size, field type id, validate) of a field-based kind."""
    if kind == FIELD_EXISTS:
        return (1 if spec else 0), 0, 0, True
    if spec is None:
        raise _Poison("not found")
    btf = spec.btf
    acc = spec.acc[-1]
    if acc.name is None:        # ends on an array element (or the root itself)
        sz = _size(btf, acc.type_id)
        if kind == FIELD_BYTE_OFFSET:
            return spec.bit_offset // 8, sz, acc.type_id, True
        if kind == FIELD_BYTE_SIZE:
            return sz, 0, 0, True
        raise _Fail(f"{KIND_NAMES[kind]} cannot apply to an array element")
    t = btf[acc.type_id]
    m = t.members[acc.idx]
    ftid, ft = _strip_id(btf, m.type)
    bit_off = spec.bit_offset
    bit_sz = m.bitfield_size
    bitfield = bit_sz > 0
    if bitfield:
        # The smallest naturally aligned load (starting at the field's
        # declared size) that covers every bit of the bitfield.
        byte_sz = ft.size
        byte_off = bit_off // 8 // byte_sz * byte_sz
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8:
            if byte_sz >= 8:
                raise _Fail("bitfield cannot be read with one 64-bit load")
            byte_sz *= 2
            byte_off = bit_off // 8 // byte_sz * byte_sz
    else:
        byte_sz = _size(btf, ftid)
        byte_off = bit_off // 8
        bit_sz = byte_sz * 8
    # Bitfield offsets/sizes are a matter of choice and the compiler may have
    # chosen differently, so only unambiguous values are checked.
    validate = not bitfield
    if kind == FIELD_BYTE_OFFSET:
        return byte_off, (0 if bitfield else byte_sz), (0 if bitfield else ftid), validate
    if kind == FIELD_BYTE_SIZE:
        return byte_sz, 0, 0, validate
    if kind == FIELD_SIGNED:
        signed = (_is_enum(ft) and ft.kind_flag) or (ft.kind == INT and ft.encoding & INT_SIGNED)
        return int(bool(signed)), 0, 0, True
    if kind == FIELD_LSHIFT_U64:       # little-endian: move the field's top bit to bit 63
        return 64 - (bit_off + bit_sz - byte_off * 8), 0, 0, validate
    if kind == FIELD_RSHIFT_U64:
        return 64 - bit_sz, 0, 0, True
    raise _Fail(f"unknown field relocation kind {kind}")


def _type_value(kind, spec):
    if spec is None:
        return 0                  # type-based kinds yield 0 when there is no target
    if kind == TYPE_ID_TARGET:
        return spec.root_id
    if kind in (TYPE_EXISTS, TYPE_MATCHES):
        return 1
    if kind == TYPE_SIZE:
        return _size(spec.btf, spec.root_id)
    raise _Fail(f"unknown type relocation kind {kind}")


def _enum_value(kind, spec):
    if kind == ENUMVAL_EXISTS:
        return 1 if spec else 0
    if spec is None:
        raise _Poison("not found")
    acc = spec.acc[0]
    return spec.btf[acc.type_id].members[acc.idx].value


@record
class Relocation:
    """One resolved relocation. ``orig`` is the value computed on the local
    BTF (what clang put in the instruction), ``new`` the target's."""
    insn: int
    kind: int
    local: str                  # C-ish description of the local access
    target: str = ""            # same on the chosen target type ("" if none)
    orig: int = 0
    new: int = 0
    validate: bool = True
    poison: str | None = None   # why the instruction was poisoned
    orig_sz: int = 0
    new_sz: int = 0
    fail_memsz: bool = False
    patch: list = field(default_factory=list)   # [(insn idx, code, dst, src, off, imm)]

    @property
    def kind_name(self):
        return KIND_NAMES[self.kind] if 0 <= self.kind < len(KIND_NAMES) else str(self.kind)

    def message(self):
        if self.poison:
            return f"CO-RE {self.kind_name} relocation at insn #{self.insn}: {self.local} {self.poison}"
        return f"CO-RE {self.kind_name} relocation at insn #{self.insn}: {self.local} -> {self.target or '(none)'}"


def _calc(kind, lspec, tspec, res):
    try:
        if kind in FIELD_KINDS:
            res.orig, res.orig_sz, ltid, res.validate = _field_value(kind, lspec)
            res.new, res.new_sz, ttid, _ = _field_value(kind, tspec)
            if res.orig_sz != res.new_sz:
                # A load of a different width is only right for pointers and
                # unsigned ints (zero extension keeps the value).
                lt, tt = lspec.btf[ltid], tspec.btf[ttid]
                both_ptr = lt.kind == PTR and tt.kind == PTR
                both_uint = (lt.kind == INT and tt.kind == INT and
                             not lt.encoding & INT_SIGNED and not tt.encoding & INT_SIGNED)
                res.fail_memsz = not (both_ptr or both_uint)
        elif kind in TYPE_KINDS:
            res.orig, res.new = _type_value(kind, lspec), _type_value(kind, tspec)
            res.validate = kind != TYPE_ID_TARGET     # type ids shift when objects are linked
        else:
            res.orig, res.new = _enum_value(kind, lspec), _enum_value(kind, tspec)
    except _Poison:
        res.poison = "not found in kernel BTF" if tspec is None else "cannot be relocated"


# --- candidate lookup -----------------------------------------------------------

def find_candidates(local_btf, local_id, targets):
    """[(target btf, type id)] of the same kind and essential name. Like
    libbpf, later BTFs (modules) are searched only if earlier ones have none."""
    lt = local_btf[local_id]
    want = essential_name(lt.name)
    for tb in targets:
        found = [(tb, i) for i in tb.own_ids_by_essential_name(want, essential_name)
                 if _kinds_compat(lt, tb[i])]
        if found:
            return found
    return []


# --- resolving and patching -------------------------------------------------------

def resolve(relo, local_btf, targets, insn=None, cache=None):
    """Resolve one CoreRelo to a Relocation (nothing patched yet); raises
    LoadError. ``cache`` (a dict) keeps candidate lists between calls."""
    if isinstance(targets, BTF):
        targets = [targets]
    kind = relo.kind
    if kind < 0 or kind >= len(KIND_NAMES):
        raise _Fail(f"unknown relocation kind {kind}")
    if relo.type_id <= 0 or relo.type_id >= len(local_btf):
        raise _Fail(f"bad local type id {relo.type_id}")
    lspec = parse_spec(local_btf, relo.type_id, relo.access, kind)
    res = Relocation(relo.insn if insn is None else insn, kind, lspec.describe())
    if kind == TYPE_ID_LOCAL:
        res.orig = res.new = relo.type_id
        res.validate = False
        return res
    local_t = local_btf[relo.type_id]
    if not local_t.name:
        raise _Fail(f"{res.local}: anonymous types cannot be relocated")
    key = relo.type_id
    cands = cache.get(key) if cache is not None else None
    if cands is None:
        cands = find_candidates(local_btf, relo.type_id, targets)
        if cache is not None:
            cache[key] = cands
    chosen = None
    for tb, tid in cands:
        tspec = match_spec(lspec, tb, tid)
        if tspec is None:
            continue
        cand = Relocation(res.insn, kind, res.local, tspec.describe())
        _calc(kind, lspec, tspec, cand)
        if chosen is None:
            chosen, chosen_spec = cand, tspec
        elif tspec.bit_offset != chosen_spec.bit_offset:
            raise _Fail(f"{res.local}: ambiguous: {chosen.target} at bit {chosen_spec.bit_offset} "
                        f"vs {cand.target} at bit {tspec.bit_offset}")
        elif (cand.poison, cand.new) != (chosen.poison, chosen.new):
            raise _Fail(f"{res.local}: ambiguous: {chosen.target} gives {chosen.new} "
                        f"vs {cand.target} gives {cand.new}")
    if chosen is None:
        _calc(kind, lspec, None, res)
        return res
    return chosen


def _poison(insns, i, out):
    if insns[i].is_ld_imm64() and i + 1 < len(insns):
        _set(insns, i + 1, out, code=asm.JMP | asm.CALL, dst=0, src=0, off=0, imm=POISON_HELPER)
    _set(insns, i, out, code=asm.JMP | asm.CALL, dst=0, src=0, off=0, imm=POISON_HELPER)


def _set(insns, i, out, **kw):
    ins = insns[i]
    for k, v in kw.items():
        setattr(ins, k, v)
    out.append((i, ins.code, ins.dst, ins.src, ins.off, ins.imm))


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def patch_insn(insns, res):
    """Apply one resolved Relocation to ``insns``; raises _Fail on a mismatch."""
    i = res.insn
    ins = insns[i]
    out = res.patch = []
    if res.poison:
        _poison(insns, i, out)
        return
    orig, new = res.orig, res.new
    cls = ins.cls
    if cls in (asm.ALU, asm.ALU64):
        if ins.code & asm.X:
            raise _Fail("ALU instruction with a register operand")
        if res.validate and _s32(ins.imm) != _s32(orig):
            raise _Fail(f"instruction has imm {ins.imm}, expected {orig}")
        if not -(1 << 31) <= new < (1 << 32):
            raise _Fail(f"value {new} does not fit a 32-bit imm")
        _set(insns, i, out, imm=_s32(new))
    elif cls in (asm.LDX, asm.ST, asm.STX):
        if res.validate and ins.off != orig:
            raise _Fail(f"instruction has offset {ins.off}, expected {orig}")
        if new > 0x7FFF:
            raise _Fail(f"offset {new} does not fit the 16-bit offset")
        if res.fail_memsz:
            res.poison = ("is accessed with a size its kernel type does not allow (make sure "
                          "to read pointers, unsigned ints, or fields of matching type and size)")
            _poison(insns, i, out)
            return
        kw = {"off": new}
        if res.new_sz != res.orig_sz:
            have = {v: k for k, v in _SIZE_CODES.items()}[ins.code & 0x18]
            if have != res.orig_sz:
                raise _Fail(f"instruction accesses {have} bytes, expected {res.orig_sz}")
            if res.new_sz not in _SIZE_CODES:
                raise _Fail(f"kernel field size {res.new_sz} cannot be loaded")
            kw["code"] = (ins.code & ~0x18) | _SIZE_CODES[res.new_sz]
        _set(insns, i, out, **kw)
    elif ins.is_ld_imm64():
        nxt = insns[i + 1] if i + 1 < len(insns) else None
        if (ins.src or ins.off or nxt is None or nxt.code or nxt.dst or nxt.src or nxt.off):
            raise _Fail("ld_imm64 of unexpected form")
        imm = (ins.imm & 0xFFFFFFFF) | ((nxt.imm & 0xFFFFFFFF) << 32)
        if res.validate and imm != orig & 0xFFFFFFFFFFFFFFFF:
            raise _Fail(f"instruction has imm64 {imm}, expected {orig}")
        new &= 0xFFFFFFFFFFFFFFFF
        _set(insns, i, out, imm=_s32(new))
        _set(insns, i + 1, out, imm=_s32(new >> 32))
    else:
        raise _Fail(f"instruction (code {ins.code:#x}) cannot carry a CO-RE relocation")


def relocate(insns, relos, local_btf, target_btf=None, section="", base=0):
    """Resolve ``relos`` (CoreRelo list of one ELF section) and patch ``insns``.

    ``insns`` are the instructions starting at instruction ``base`` of the
    section (a program inside it); relocations outside them are skipped.
    ``target_btf`` is a BTF or a list (vmlinux first, then modules); default
    the running kernel's. Returns a list of Relocation; raises LoadError.
    """
    if target_btf is None:
        target_btf = BTF.kernel()
    # an iterable (vmlinux, then modules) stays lazy: modules are read only
    # when vmlinux has no candidate
    targets = [target_btf] if isinstance(target_btf, BTF) else target_btf
    cache = {}
    results = []
    for n, relo in enumerate(relos):
        if relo.insn_off % 8:
            raise LoadError(f"{section}: CO-RE relocation #{n} at unaligned offset {relo.insn_off}")
        i = relo.insn_off // 8 - base
        if not 0 <= i < len(insns):
            continue
        desc = f"{relo.access}"
        try:
            desc = parse_spec(local_btf, relo.type_id, relo.access, relo.kind).describe()
            res = resolve(relo, local_btf, targets, insn=i, cache=cache)
            patch_insn(insns, res)
        except _Fail as e:
            kind = KIND_NAMES[relo.kind] if 0 <= relo.kind < len(KIND_NAMES) else relo.kind
            raise LoadError(f"{section}: insn #{i}: CO-RE {kind} relocation of {desc}: {e}") from None
        results.append(res)
    return results


def patches(results):
    """The instruction changes of ``results`` as plain tuples (cacheable)."""
    return [p for r in results for p in r.patch]


def explain_poison(results, verifier_log):
    """If the verifier rejected a program for reaching a poisoned instruction
    ("invalid func unknown#195896080"), the relocation's message; else None.
    Instruction numbers must be those the relocation results use."""
    import re
    found = re.findall(r"^(\d+): \(85\) call unknown#%d" % POISON_HELPER, verifier_log, re.M)
    if not found:
        return None
    insn = int(found[-1])
    for r in results:
        if r.poison and any(p[0] == insn for p in r.patch):
            return r.message()
    return f"insn #{insn} was poisoned by a CO-RE relocation that could not be resolved"
