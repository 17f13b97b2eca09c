"""bcc's packet dialect: field accesses on packet headers become packet loads and stores.

A pointer to a packet header (a struct declared with BPF_PACKET_HEADER, as
<bcc/proto.h> declares ethernet_t, ip_t, udp_t, ...) holds an offset into the
packet, not an address: ``struct ip_t *ip = cursor_advance(cursor, sizeof(*ip))``.
As bcc does, with ``skb`` the function's first parameter:

    ip->dst              (a read)   -> bpf_dext_pkt(skb, (u64)ip+16, 0, 32)
    ip->dst = v          (a store)  -> bpf_dins_pkt(skb, (u64)ip+16, 0, 32, v)
    ip->ttl -= 1                    -> bpf_dins_pkt(skb, (u64)ip+8, 0, 8, bpf_dext_pkt(...) - (1))
    incr_cksum_l3(&ip->hchecksum, old, new)
                                    -> bpf_l3_csum_replace_(skb, (u64)(&ip->hchecksum), old, new, sizeof(new))

``&ip->field`` stays as it is: it is the field's packet offset. The loads and
stores are found in clang's AST (the program's variables whose type is a
pointer to a packet header); field offsets come from the header declarations,
packed bit by bit as the attribute makes clang lay them out.
"""
import functools
import os
import re


PROTO_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include", "bcc", "proto.h")

_STRUCT = re.compile(r"\bstruct\s+(\w+)\s*\{([^{}]*)\}\s*BPF_PACKET_HEADER\b")
_FIELD = re.compile(r"^(.*?)\b([A-Za-z_]\w*)\s*(?:\[\s*(\d+)\s*\])?\s*(?::\s*(\d+))?$")
_SIZES = {"char": 1, "short": 2, "int": 4, "long": 8, "long long": 8, "float": 4, "double": 8}
_SIZED = re.compile(r"(?:__)?(?:[us]|u?int|be|le)(8|16|32|64)(?:_t)?")


def used(text):
    """Does a program use the packet dialect at all (a cheap test first)?"""
    return "BPF_PACKET_HEADER" in text or "bcc/proto.h" in text or "incr_cksum_l" in text


def _type_size(t):
    words = [w for w in t.split() if w not in ("unsigned", "signed", "const", "volatile")]
    name = " ".join(w for w in words if w != "int") if len(words) > 1 else " ".join(words)
    name = name or "int"
    if name in _SIZES:
        return _SIZES[name]
    m = _SIZED.fullmatch(name)
    return int(m.group(1)) // 8 if m else None


def layouts(text):
    """{struct: {field: (byte offset, bit offset, width in bits)}} of the
    packet headers declared in text."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    out = {}
    for m in _STRUCT.finditer(text):
        bits, fields = 0, {}
        for decl in m.group(2).split(";"):
            f = _FIELD.match(" ".join(decl.split()))
            if not f or not f.group(1).strip():
                continue
            size = _type_size(f.group(1))
            if size is None:
                break           # a type we cannot size: later offsets unknown
            if f.group(4) is not None:          # a bit field: the next bits
                width = int(f.group(4))
            else:                               # whole bytes, from a byte boundary
                bits = (bits + 7) // 8 * 8
                width = size * 8 * (int(f.group(3)) if f.group(3) else 1)
            fields[f.group(2)] = (bits >> 3, bits & 7, width)
            bits += width
        out[m.group(1)] = fields
    return out


@functools.lru_cache(maxsize=1)
def _proto_layouts():
    with open(PROTO_H, encoding="utf-8") as f:
        return layouts(f.read())


def rewrite(c_text, header, cflags=(), filename="<text>"):
    """c_text with bcc's packet rewrites applied (unchanged when clang
    rejects the text: the real compile reports why)."""
    from . import implicit
    dump, main, _ = implicit.ast_dump(c_text, header, cflags)
    if dump is None:
        return c_text
    implicit._mark_files(dump, [None])
    headers = dict(_proto_layouts(), **layouts(c_text))
    rw = _Packets(c_text, main, headers, filename)
    for d in dump.get("inner", ()):
        loc = d.get("loc", {})
        if d.get("kind") == "FunctionDecl" and d.get("inner") and \
                (loc.get("_file", main) == main or "spellingLoc" in loc):
            rw.function(d)
    return rw.apply()


class _Packets:
    def __init__(self, text, main, headers, filename):
        from . import implicit
        self.filename = filename
        self.data = text.encode("utf-8", "surrogateescape")
        self.headers = headers
        self.main = main
        self.analysis = implicit._Analysis(text, main, frozenset(), ())
        self.edits = []           # (begin, end, new bytes), byte offsets
        self.skb = None

    def _line(self, off):
        return self.data.count(b"\n", 0, off) + 1

    def _error(self, node, msg):
        loc = node.get("range", {}).get("begin", {})
        off = loc.get("offset", loc.get("expansionLoc", {}).get("offset", 0))
        # the prelude ends with #line 1: count the user's lines after it
        start = self.data.rfind(b"\n#line 1 ", 0, off)
        line = self._line(off) - (self._line(start) + 1 if start >= 0 else 0)
        from .rewriter import error
        return error(self.filename, line, msg)

    def _field(self, e):
        """(variable name, (byte, bit, width)) when e is ptr->field on a
        packet header pointer variable, else None."""
        from .implicit import _record_of_pointer, _strip, _type
        e = _strip(e)
        if e.get("kind") != "MemberExpr" or not e.get("isArrow") or not e.get("inner"):
            return None
        base = _strip(e["inner"][0])
        if base.get("kind") != "DeclRefExpr":
            return None
        ref = base.get("referencedDecl", {})
        rec = _record_of_pointer(_type(ref) or _type(base))
        field = self.headers.get(rec, {}).get(e.get("name"))
        if field is None or ref.get("kind") not in ("VarDecl", "ParmVarDecl"):
            return None
        return ref.get("name"), field

    def _args(self, var, field):
        byte, bit, width = field
        return f"{self.skb}, (u64){var}+{byte}, {bit}, {width}"

    def span(self, node):
        """(begin, end) byte offsets of node in the text: the expression as
        written, or the whole use of a macro it comes from (-DPORT=...)."""
        s = self.analysis.span(node)
        if s:
            return s
        r = node.get("range", {})
        ends = []
        for loc, is_end in ((r.get("begin", {}), False), (r.get("end", {}), True)):
            ex = loc.get("expansionLoc", loc)
            if ex.get("_file") != self.main or "offset" not in ex:
                return None
            if not is_end:
                ends.append(ex["offset"])
            elif "expansionLoc" in loc:
                ends.append(self.analysis._macro_use_end(ex))
            else:
                ends.append(ex["offset"] + ex.get("tokLen", 0))
        return tuple(ends) if None not in ends and ends[0] < ends[1] else None

    def _spans(self, node, *nodes):
        spans = [self.span(n) for n in nodes]
        if any(s is None for s in spans):
            raise self._error(node, "cannot use a packet header field here (inside a macro?): "
                              "write the access in the program's own text")
        return spans

    def function(self, fn):
        params = [p for p in fn.get("inner", ()) if p.get("kind") == "ParmVarDecl"]
        self.skb = params[0].get("name") if params else None
        for body in fn.get("inner", ()):
            if body.get("kind") == "CompoundStmt":
                self.walk(body)

    def _need_skb(self, node):
        if not self.skb:
            raise self._error(node, "packet header access in a function without a context "
                              "parameter (the first parameter is the packet)")

    def walk(self, root):
        stack = [root]
        while stack:
            n = stack.pop()
            kids = list(n.get("inner", ()))
            k = n.get("kind")
            if k in ("BinaryOperator", "CompoundAssignOperator") and len(kids) == 2 and \
                    (k == "CompoundAssignOperator" or n.get("opcode") == "="):
                f = self._field(kids[0])
                if f:
                    self._store(n, kids, f)
                    kids = kids[1:]          # the target is done; its value may read fields
            elif k == "ImplicitCastExpr" and n.get("castKind") == "LValueToRValue" and kids:
                f = self._field(kids[0])
                if f:
                    self._need_skb(n)
                    (s,) = self._spans(n, kids[0])
                    self.edits.append((s[0], s[1], f"bpf_dext_pkt({self._args(*f)})"))
                    continue
            elif k == "CallExpr" and kids:
                self._cksum(n, kids)
            stack.extend(reversed(kids))

    def _store(self, n, kids, f):
        self._need_skb(n)
        lhs, rhs = self._spans(n, kids[0], kids[1])
        head = f"bpf_dins_pkt({self._args(*f)}, "
        if n.get("kind") == "CompoundAssignOperator":      # a -= b: a = a - (b)
            op = n.get("opcode", "=")[:-1]
            head += f"bpf_dext_pkt({self._args(*f)}) {op} ("
            self.edits.append((rhs[1], rhs[1], "))"))
        else:
            self.edits.append((rhs[1], rhs[1], ")"))
        self.edits.append((lhs[0], rhs[0], head))

    def _cksum(self, n, kids):
        from .implicit import _strip
        callee = _strip(kids[0])
        name = callee.get("referencedDecl", {}).get("name") if callee.get("kind") == "DeclRefExpr" else None
        nargs = {"incr_cksum_l3": 3, "incr_cksum_l4": 4}.get(name)
        if nargs is None:
            return
        args = kids[1:]
        if len(args) != nargs:
            raise self._error(n, f"{name} takes {nargs} arguments")
        self._need_skb(n)
        call, *spans = self._spans(n, n, *args)
        new = self.data[spans[2][0]:spans[2][1]].decode("utf-8", "surrogateescape")
        fn = "bpf_l3_csum_replace_" if nargs == 3 else "bpf_l4_csum_replace_"
        self.edits.append((call[0], spans[0][0], f"{fn}({self.skb}, (u64)("))
        self.edits.append((spans[0][1], spans[0][1], ")"))
        if nargs == 3:
            self.edits.append((spans[2][1], call[1], f", sizeof({new}))"))
        else:
            self.edits.append((spans[2][1], spans[3][0], ", ((("))
            self.edits.append((spans[3][1], call[1], f") & 0x1) << 4) | sizeof({new}))"))

    def apply(self):
        out, prev = [], 0
        for b, e, new in sorted(self.edits, key=lambda x: (x[0], x[1])):
            if b < prev:
                continue        # overlaps an edit already made (cannot happen in valid C)
            out.append(self.data[prev:b])
            out.append(new.encode("utf-8", "surrogateescape"))
            prev = e
        out.append(self.data[prev:])
        return b"".join(out).decode("utf-8", "surrogateescape")
