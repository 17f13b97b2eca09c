"""Implicit kernel reads (bcc's "magic" dereferences), found in clang's AST.

A load through a pointer to a kernel struct (declared in vmlinux.h) is not
allowed in kprobe/tracepoint programs: the verifier wants bpf_probe_read.
clang tells us exactly where the loads are: every load is an
ImplicitCastExpr<LValueToRValue>. When the loaded lvalue lives in kernel
memory (p->field with p a kernel pointer, chains of . and [] below it) its
source range is wrapped in _PYBCC_READ(...). Address-of (&p->f), array members
that decay to pointers and assignment targets are not loads, so they stay.

To keep the AST small and fast, vmlinux.h and pybcc's headers are parsed once
into a precompiled header (cached on disk): the AST dump then holds only the
program's own declarations.

The same AST gives the record types submitted to perf and ring buffers.
"""
import hashlib
import json
import logging
import os
import re
import subprocess


log = logging.getLogger("pybcc.bcc.dialect")

# Program context and UAPI structs: loads from them are direct.
_CTX_RECORDS = {"__sk_buff", "xdp_md", "sk_msg_md", "sk_reuseport_md", "pt_regs"}
# Functions with one of these parameters are networking programs: no implicit reads.
_NET_RECORDS = {"__sk_buff", "xdp_md", "sk_msg_md", "bpf_sock_ops", "bpf_sock_addr",
                "sk_reuseport_md", "bpf_sk_lookup", "bpf_sockopt", "bpf_sysctl",
                "bpf_cgroup_dev_ctx"}
_KERNEL_BPF_RECORDS = {"bpf_prog", "bpf_map", "bpf_prog_aux", "bpf_array", "bpf_link",
                       "bpf_insn_aux_data", "bpf_verifier_env"}
_MAP_VALUE_HELPERS = {"bpf_map_lookup_elem", "bpf_ringbuf_reserve", "bpf_sk_storage_get",
                      "bpf_task_storage_get", "bpf_inode_storage_get", "bpf_get_local_storage",
                      "bpf_cgrp_storage_get", "bpf_map_lookup_percpu_elem"}
# Register macros whose expansion is a plain load (the _CORE/_SYSCALL ones read already).
_REGS_MACRO = re.compile(rb"PT_REGS_(?:PARM[1-6]|RET|FP|RC|SP|IP)\s*\(")
_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+(\w+)\([^)]*\)((?:[^\n\\]|\\.|\\\n)*)", re.M)
_PTR_RE = re.compile(r"^(?:(?:const|volatile)\s+)*(struct|union)\s+(\w+)\s*\*\s*(?:const\s*)?$")
_PTR_PTR_RE = re.compile(r"^(?:(?:const|volatile)\s+)*(?:struct|union)\s+(\w+)\s*\*\s*(?:const\s*)?"
                         r"\*\s*(?:const\s*)?$")


def kernel_names():
    """(record names, tag and typedef names) of the running kernel's BTF."""
    from ...compiler import kernel_types
    kt = kernel_types.kernel()
    return frozenset(kt.record_names()), frozenset(kt.type_names())


class KernelBitfields:
    """{(record, member)} of the kernel's bitfields, as ``in`` asks: looked
    up in the BTF per record, not read for every record beforehand."""

    def __init__(self):
        self._known = {}

    def __contains__(self, pair):
        hit = self._known.get(pair)
        if hit is None:
            from ...compiler import kernel_types
            hit = self._known[pair] = kernel_types.kernel().has_bitfield(*pair)
        return hit


def _setup(cflags, text=None, vmdir=None):
    """(compiler, vmlinux directory, flags) for the front end's clang runs:
    with ``text``, a vmlinux.h of the kernel types it (and pybcc's headers)
    name; else the one in ``vmdir``, or the whole one."""
    from ... import compiler
    from ...compiler import build
    comp = compiler.find_compiler()
    if not vmdir and text is None:
        vmdir = build.vmlinux_dir(True)
    elif not vmdir:
        from ...compiler import kernel_types
        vmdir = kernel_types.program_dir(text, (_HEADER_DIR,))
    flags = build.base_flags(comp) + ["-I", vmdir, "-I", build.include_dir()] + [os.fspath(f) for f in cflags]
    return comp, vmdir, flags


_HEADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")


def _pch(comp, flags, vmdir, header):
    """Path of the precompiled header for `header`, built once per (compiler,
    flags, vmlinux.h, headers). Sealed like every cache entry clang reads
    (pybcc.cache): a modified, truncated, foreign or writable one is refused
    with a warning and built again."""
    from ... import cache
    from ...compiler import build
    from ...compiler.discover import cache_tmpdir
    h = hashlib.sha256(b"pybcc-frontend-pch-1")
    with open(header, "rb") as f:
        hdr = f.read()
    # the headers it includes from its own directory (pybcc_packet.h) count too
    here = os.path.dirname(header)
    for name in sorted(os.listdir(here)):
        if name.endswith(".h") and os.path.join(here, name) != header:
            with open(os.path.join(here, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    for part in (comp.identity, vmdir, build.headers_digest(), *flags):
        h.update(part.encode() + b"\0")
    h.update(hdr)
    path = os.path.join(cache.private_dir("frontend"), h.hexdigest() + ".pch")
    if cache.entry_ok(path):
        return path
    with cache_tmpdir() as tmp:
        out = os.path.join(tmp, "h.pch")
        r = _exec([*comp.argv, *flags, "-x", "c-header", header, "-o", out], comp)
        if r.returncode != 0:
            raise RuntimeError(f"precompiling {header} failed:\n{r.stderr[-3000:]}")
        os.chmod(out, 0o600)
        cache.install(out, path)
    return path


def precompiled(header, cflags=(), vmdir=None):
    """The precompiled `header` for these cflags (the one ast_dump uses) and
    the vmlinux.h in ``vmdir`` (default: the whole one), or None when clang
    cannot build it. The compile of the rewritten text includes it too:
    clang then skips parsing vmlinux.h, which is most of a compile (seconds
    here with the whole header, minutes in a VM without KVM)."""
    comp, vmdir, flags = _setup(cflags, vmdir=vmdir)
    try:
        return _pch(comp, flags, vmdir, header)
    except (RuntimeError, OSError) as e:
        log.debug("no precompiled header: %s", e)
        return None


def _exec(argv, comp):
    env = dict(os.environ, **dict(comp.env)) if comp.env else None
    return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          env=env, stdin=subprocess.DEVNULL)


def ast_dump(c_text, header, cflags=()):
    """clang's JSON AST of c_text (main-file declarations only), or None when
    clang rejects the text (the real compile will report why)."""
    from ...compiler import kernel_types
    from ...compiler.discover import cache_tmpdir
    # The kernel types the text names first (kernel_types.py): it must see
    # complete types, so what clang finds incomplete is added, and the whole
    # vmlinux.h is the last resort.
    program, learned, rebuilt = True, 0, False
    while True:
        comp, vmdir, flags = _setup(cflags, c_text if program else None)
        pch = _pch(comp, flags, vmdir, header)
        with cache_tmpdir() as tmp:
            src = os.path.join(tmp, "frontend.c")
            with open(src, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(c_text)
            r = _exec([*comp.argv, *flags, "-include-pch", pch, "-fsyntax-only",
                       "-Xclang", "-ast-dump=json", src], comp)
        if r.returncode == 0:
            break
        # A header touched since the PCH was built (same content, new mtime)
        # makes clang refuse the PCH: build it again, once.
        if not rebuilt and re.search(r"precompiled header|PCH", r.stderr):
            log.debug("rebuilding %s: %s", pch, r.stderr[:500])
            rebuilt = True
            try:
                os.unlink(pch)
            except OSError:
                pass
        elif program and learned < kernel_types.LEARN_ROUNDS and kernel_types.learn(r.stderr):
            learned += 1
        elif program:
            program = False
        else:
            break
    if r.returncode != 0 or not r.stdout:
        log.debug("AST pass failed: %s", r.stderr[-2000:])
        return None, src, vmdir
    return json.loads(r.stdout), src, vmdir


def _mark_files(node, cur):
    """The dump names a location's file only when it changes: give every
    location its file (in document order)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if "offset" in n:
                if "file" in n:
                    cur[0] = n["file"]
                n["_file"] = cur[0]
            stack.extend(reversed(list(n.values())))
        elif isinstance(n, list):
            stack.extend(reversed(n))


def _strip(e, kinds=("ImplicitCastExpr", "ParenExpr")):
    while e.get("kind") in kinds and e.get("inner"):
        e = e["inner"][0]
    return e


def _type(e):
    t = e.get("type") or {}
    return t.get("desugaredQualType") or t.get("qualType") or ""


def _record_of_pointer(tstr):
    m = _PTR_RE.match(tstr.strip())
    return m.group(2) if m else None


def _calls(e, names):
    """Does the subtree call one of `names`?"""
    stack = [e]
    while stack:
        n = stack.pop()
        if n.get("kind") == "CallExpr" and n.get("inner"):
            callee = _strip(n["inner"][0])
            if callee.get("kind") == "DeclRefExpr" and \
                    callee.get("referencedDecl", {}).get("name") in names:
                return True
        stack.extend(n.get("inner", ()))
    return False


class _Analysis:
    def __init__(self, text, main, records, typed, user_vars=None, bitfields=frozenset()):
        self.data = text.encode("utf-8", "surrogateescape")   # clang's offsets count bytes
        self.main = main
        self.records = records
        self.typed = set(typed)
        self.ranges = set()
        self.bitfields = bitfields
        self.bf_edits = set()     # (begin, end, base_end, member_off): bitfield reads
        self.user_ranges = set()  # reads of user memory (__user kprobe parameters)
        self.user_vars = user_vars or {}
        self.cur_user = ()
        self.top_types = set()    # record and typedef names declared at file scope
        self.defines = {}         # function-like macro → (body start, end) offsets, parens stripped
        for m in _DEFINE.finditer(self.data):
            body = m.group(2)
            lead = len(body) - len(body.lstrip(b" \t(")) if body.lstrip(b" \t(") else 0
            trail = len(body.rstrip(b" \t\\\n)"))
            if trail > lead:
                self.defines[m.group(1)] = (m.start(2) + lead, m.start(2) + trail)
        self.map_vars = set()     # ids of pointer variables holding map values
        self.kptr_vars = set()    # ids of pointer variables holding kernel addresses
        self.submits = {}         # table → C type of submitted records
        self.own_functions = set()  # the program's own function names

    # -- locations --

    def _loc(self, loc, want_end):
        if "spellingLoc" in loc:
            sp, ex = loc["spellingLoc"], loc["expansionLoc"]
            if ex.get("isMacroArgExpansion") and sp.get("_file") == self.main:
                return "arg", sp["offset"] + (sp["tokLen"] if want_end else 0), ex
            return "body", None, ex
        if loc.get("_file") != self.main or "offset" not in loc:
            return "none", None, None
        return "plain", loc["offset"] + (loc["tokLen"] if want_end else 0), None

    def span(self, e):
        r = e.get("range")
        if not r:
            return None
        bk, b, bex = self._loc(r["begin"], False)
        ek, en, eex = self._loc(r["end"], True)
        if bk in ("arg", "body") and ek == "body" and bex and eex and \
                bex.get("offset") == eex.get("offset") and bex.get("_file") == self.main:
            return self._whole_macro(r, bex["offset"])
        if bk == "plain" and ek == "body" and eex is not None and eex.get("_file") == self.main:
            # ends inside a macro written in the text: sk->sk_daddr (an alias
            # of __sk_common.skc_daddr) or p->MEMBER(x); take the whole use
            ek, en = "plain", self._macro_use_end(eex)
        if ek == "plain" and bk in ("arg", "body") and bex is not None and bex.get("_file") == self.main:
            if bk == "body" or not self._balanced(b, en):
                b = bex["offset"]
            bk = "plain"
        if bk == "plain" and ek == "body" and eex is not None and eex.get("_file") == self.main:
            en = self._object_macro_end(eex)    # inet->inet_rcv_saddr: a member alias
            ek = "plain" if en is not None else ek
        if bk != ek or bk not in ("plain", "arg") or b is None or en is None or b >= en:
            return None
        if not self._balanced(b, en):
            return None
        return b, en

    def _object_macro_end(self, ex):
        """End of the object-like macro (a name, no arguments) expanded at
        ``ex``, or None for a function-like one."""
        end = ex.get("offset", -1) + ex.get("tokLen", 0)
        if end <= 0 or self.data[end:].lstrip()[:1] == b"(":
            return None
        return end

    def _whole_macro(self, r, off):
        """A node made by one macro invocation, when the node is the macro's
        whole expansion: PT_REGS_xxx(regs) on a pt_regs pointer that is not
        the context, or a #define of the program like P(t) -> t->parent.
        Returns the invocation's range, or None."""
        m = _REGS_MACRO.match(self.data, off)
        if not m:
            m = re.compile(rb"(\w+)\s*\(").match(self.data, off)
            d = self.defines.get(m.group(1)) if m else None
            if d is None:
                return None
            start, end = d
            sp_b = r["begin"].get("spellingLoc", {})
            sp_e = r["end"].get("spellingLoc", {})
            if sp_e.get("_file") != self.main or sp_e.get("offset", -1) + sp_e.get("tokLen", 0) != end:
                return None
            if r["begin"]["expansionLoc"].get("isMacroArgExpansion"):
                if not re.match(rb"\(*\s*[A-Za-z_]\w*", self.data[start:end]):
                    return None
            elif sp_b.get("_file") != self.main or sp_b.get("offset") != start:
                return None
        return self._invocation_end(off)

    def _macro_use_end(self, ex):
        """End offset of the macro used at expansion location ``ex``: after
        its name, or after its arguments for a function-like use."""
        off = ex.get("offset")
        if off is None:
            return None
        name_end = off + ex.get("tokLen", 0)
        if re.compile(rb"\s*\(").match(self.data, name_end):
            end = self._invocation_end(off)
            return end[1] if end else None
        return name_end

    def _invocation_end(self, off):
        depth = 0
        i0 = self.data.find(b"(", off)
        if i0 < 0:
            return None
        for i in range(i0, len(self.data)):
            c = self.data[i:i + 1]
            if c == b"(":
                depth += 1
            elif c == b")":
                depth -= 1
                if depth == 0:
                    return off, i + 1
        return None

    def _balanced(self, b, e):
        depth = 0
        for ch in self.data[b:e]:
            if ch in b"([{":
                depth += 1
            elif ch in b")]}":
                depth -= 1
                if depth < 0:
                    return False
        return depth == 0

    # -- kernel memory --

    def _exempt(self, base, rec):
        if rec in _CTX_RECORDS and rec != "pt_regs":
            return True
        if rec.startswith("bpf_") and rec not in _KERNEL_BPF_RECORDS:
            return True
        b = _strip(base)
        k = b.get("kind")
        if k == "DeclRefExpr":
            ref = b.get("referencedDecl", {})
            if ref.get("kind") == "ParmVarDecl" and rec == "pt_regs":
                return True      # the program's own context
            if ref.get("id") in self.map_vars:
                return True
        if k == "UnaryOperator" and b.get("opcode") == "&":
            return not self.kmem(b["inner"][0])   # (&local)->field: a stack object
        if _calls(base, _MAP_VALUE_HELPERS):
            return True
        return False

    def _kptr(self, base):
        """Is ``base`` (casts aside) a variable that holds a kernel address?"""
        b = _strip(base, ("ImplicitCastExpr", "ParenExpr", "CStyleCastExpr"))
        return b.get("kind") == "DeclRefExpr" and \
            b.get("referencedDecl", {}).get("id") in self.kptr_vars

    def kmem(self, e):
        e = _strip(e, ("ParenExpr",))
        k = e.get("kind")
        if k in ("MemberExpr", "ArraySubscriptExpr", "UnaryOperator") and e.get("inner") and \
                (k != "MemberExpr" or e.get("isArrow")) and (k != "UnaryOperator" or e.get("opcode") == "*") \
                and self._kptr(e["inner"][0]):
            return True
        if k == "MemberExpr" and e.get("inner"):
            base = e["inner"][0]
            if e.get("isArrow"):
                rec = _record_of_pointer(_type(base))
                return bool(rec and rec in self.records and not self._exempt(base, rec))
            return self.kmem(base)
        if k == "ArraySubscriptExpr" and e.get("inner"):
            base = e["inner"][0]
            if base.get("kind") == "ImplicitCastExpr" and base.get("castKind") == "ArrayToPointerDecay":
                return self.kmem(base["inner"][0])
            return self._kernel_pointer(base) or self._kernel_address(base)   # p[i]
        if k == "UnaryOperator" and e.get("opcode") == "*" and e.get("inner"):
            p = e["inner"][0]
            return self._kernel_pointer(p) or self._kernel_address(p)   # *p
        return False

    def _kernel_pointer(self, p):
        """Does pointer value p point into kernel memory: a pointer to a kernel
        struct, or any pointer loaded from kernel memory (name->name[1],
        (*names)[1]) or from the probed function's registers?"""
        rec = _record_of_pointer(_type(p))
        if rec and rec in self.records and not self._exempt(p, rec):
            return True
        if self._kernel_pointer_array(p):
            return True
        v = p       # the load under the casts
        while v.get("inner") and v.get("kind") in ("ImplicitCastExpr", "ParenExpr",
                                                     "CStyleCastExpr"):
            if v.get("castKind") == "LValueToRValue":
                inner = v["inner"][0]
                return self.kmem(inner) or self._register(inner)
            v = v["inner"][0]
        # *(&p->field): the address of kernel memory
        return v.get("kind") == "UnaryOperator" and v.get("opcode") == "&" and \
            bool(v.get("inner")) and self.kmem(v["inner"][0])

    def _kernel_pointer_array(self, p):
        """Is p a parameter that holds an array of kernel struct pointers
        (virtiostat's count_len(struct scatterlist **sgs, ...), called with a
        kprobe's argument)? Its elements are read with bpf_probe_read, which
        reads the stack as well when the caller passes &local."""
        m = _PTR_PTR_RE.match(_type(p))
        b = _strip(p, ("ImplicitCastExpr", "ParenExpr"))
        return bool(m and m.group(1) in self.records and b.get("kind") == "DeclRefExpr" and
                    b.get("referencedDecl", {}).get("kind") == "ParmVarDecl")

    @staticmethod
    def _register(e):
        """Is e a register of the program's pt_regs context (PT_REGS_PARM1(ctx))?
        A kprobe's arguments are kernel addresses."""
        e = _strip(e, ("ParenExpr",))
        if e.get("kind") != "MemberExpr" or not e.get("isArrow") or not e.get("inner"):
            return False
        base = _strip(e["inner"][0], ("ImplicitCastExpr", "ParenExpr", "CStyleCastExpr"))
        return base.get("kind") == "DeclRefExpr" and \
            base.get("referencedDecl", {}).get("kind") == "ParmVarDecl" and \
            _record_of_pointer(_type(e["inner"][0])) == "pt_regs"

    def _kernel_address(self, p):
        """Is ``p`` the address of kernel memory, or an offset from one, as a
        pointer or an integer (bindsnoop's ``*(&sockp->rcv_tos - 2)`` and
        ``*(u8 *)((u64)&skp->sk_wmem_queued - 3)``)?"""
        p = _strip(p, ("ParenExpr", "ImplicitCastExpr", "CStyleCastExpr"))
        k = p.get("kind")
        if k == "UnaryOperator" and p.get("opcode") == "&" and p.get("inner"):
            return self.kmem(p["inner"][0])
        if k == "BinaryOperator" and p.get("opcode") in ("+", "-") and p.get("inner"):
            return any(self._kernel_address(q) for q in p["inner"])
        return False

    # -- walk --

    def bitfield(self, e, s):
        """A read of a bitfield member (p->bits) cannot take an address: read
        it with BPF_CORE_READ_BITFIELD_PROBED(p, bits) instead."""
        if e.get("kind") != "MemberExpr" or not e.get("isArrow"):
            return False
        base = e["inner"][0]
        rec = _record_of_pointer(_type(base))
        name = e.get("name", "").encode()
        if (rec, e.get("name")) not in self.bitfields:
            return False
        bs = self.span(_strip(base, ("ParenExpr", "ImplicitCastExpr")))
        member = s[1] - len(name)
        if not bs or self.data[member:s[1]] != name or self.data[bs[1]:member].strip() != b"->":
            return False
        self.bf_edits.add((s[0], s[1], bs[1], member))
        return True

    def is_user(self, e):
        """Is e's kernel-memory base a __user parameter (not a chain through kernel memory)?"""
        e = _strip(e, ("ParenExpr",))
        while e.get("kind") in ("MemberExpr", "ArraySubscriptExpr") and e.get("inner"):
            base = e["inner"][0]
            if e.get("kind") == "MemberExpr" and e.get("isArrow"):
                b = _strip(base)
                return b.get("kind") == "DeclRefExpr" and \
                    b.get("referencedDecl", {}).get("name") in self.cur_user
            e = _strip(base, ("ParenExpr", "ImplicitCastExpr"))
        return False

    def function(self, fn):
        if fn.get("name") in self.typed:
            return
        self.cur_user = set(self.user_vars.get(fn.get("name"), ()))
        params = [p for p in fn.get("inner", ()) if p.get("kind") == "ParmVarDecl"]
        for p in params:
            rec = _record_of_pointer(_type(p))
            if rec in _NET_RECORDS:
                return
        body = [c for c in fn.get("inner", ()) if c.get("kind") == "CompoundStmt"]
        for b in body:
            self.walk(b, [])

    def _from_kernel(self, e):
        """Does a pointer value come from kernel memory: an expression that
        reads kernel memory (task->se.cfs_rq, skb->head + off), uses a
        kernel address held in a variable, or calls one of the program's own
        functions (skb_to_tcphdr(skb))? Map values are not."""
        if _calls(e, _MAP_VALUE_HELPERS):
            return False
        stack = [e]
        while stack:
            n = stack.pop()
            k = n.get("kind")
            if k == "ImplicitCastExpr" and n.get("castKind") == "LValueToRValue" and n.get("inner"):
                if self.kmem(n["inner"][0]) or self._kptr(n["inner"][0]) or \
                        self._register(n["inner"][0]):
                    return True
            elif k == "CallExpr" and n.get("inner"):
                callee = _strip(n["inner"][0])
                ref = callee.get("referencedDecl", {}) if callee.get("kind") == "DeclRefExpr" else {}
                name = ref.get("name", "")
                if name and not name.startswith(("bpf_", "__builtin", "__pybcc", "_PYBCC")) and \
                        name in self.own_functions and "*" in _type(n):
                    return True
            elif k == "ImplicitCastExpr" and n.get("castKind") == "ArrayToPointerDecay" and \
                    n.get("inner") and self.kmem(n["inner"][0]):
                return True       # t->comm as a pointer: kernel memory
            elif k == "UnaryOperator" and n.get("opcode") == "&":
                if n.get("inner") and self.kmem(n["inner"][0]):
                    return True   # &p->field: an address in kernel memory
                continue          # any other address taken is not a load
            stack.extend(n.get("inner", ()))
        return False

    def _note_pointer(self, var_id, var_type, value):
        if "*" in var_type and var_id is not None and self._from_kernel(value):
            self.kptr_vars.add(var_id)

    def walk(self, n, parents):
        stack = [(n, parents)]
        while stack:
            n, parents = stack.pop()
            k = n.get("kind")
            if k == "VarDecl" and n.get("inner"):
                if _record_of_pointer(_type(n)) is not None and _calls(n["inner"][0], _MAP_VALUE_HELPERS):
                    self.map_vars.add(n.get("id"))
                else:
                    self._note_pointer(n.get("id"), _type(n), n["inner"][0])
            elif k == "BinaryOperator" and n.get("opcode") == "=" and len(n.get("inner", ())) == 2:
                lhs = _strip(n["inner"][0])
                if lhs.get("kind") == "DeclRefExpr":
                    ref = lhs.get("referencedDecl", {})
                    self._note_pointer(ref.get("id"), _type(lhs), n["inner"][1])
            elif k == "ImplicitCastExpr" and n.get("castKind") == "LValueToRValue" and n.get("inner"):
                sub = n["inner"][0]
                if self.kmem(sub):
                    s = self.span(_strip(sub, ("ParenExpr",)))
                    if s and self.bitfield(_strip(sub, ("ParenExpr",)), s):
                        pass
                    elif s:
                        (self.user_ranges if self.is_user(sub) else self.ranges).add(s)
            elif k == "CallExpr" and n.get("inner"):
                self.call(n, parents)
            kids = n.get("inner", ())
            chain = parents + [n]
            for c in reversed(kids):
                stack.append((c, chain))

    def call(self, n, parents):
        callee = _strip(n["inner"][0])
        name = callee.get("referencedDecl", {}).get("name") if callee.get("kind") == "DeclRefExpr" else None
        args = n["inner"][1:]
        where = {"bpf_perf_event_output": (1, 3), "bpf_ringbuf_output": (0, 1),
                 "bpf_ringbuf_reserve": (0, None)}.get(name)
        if where is None or len(args) <= where[0]:
            return
        m = _strip(args[where[0]], ("ImplicitCastExpr", "ParenExpr", "CStyleCastExpr"))
        if m.get("kind") != "UnaryOperator" or m.get("opcode") != "&":
            return
        ref = _strip(m["inner"][0])
        table = ref.get("referencedDecl", {}).get("name")
        if not table:
            return
        if where[1] is not None:
            if len(args) <= where[1]:
                return
            t = _type(_strip(args[where[1]], ("ImplicitCastExpr", "ParenExpr")))
        else:
            t = ""
            for p in reversed(parents):
                if p.get("kind") in ("ImplicitCastExpr", "CStyleCastExpr") and \
                        p.get("castKind") in ("BitCast", "NoOp"):
                    t = (p.get("type") or {}).get("qualType", "")
                    break
                if p.get("kind") not in ("ParenExpr",):
                    break
        t = t.strip()
        if t.endswith("*") and t[:-1].strip() not in ("void", "const void", "char", "const char"):
            self.submits.setdefault(table, re.sub(r"^const\s+", "", t[:-1].strip()))


def analyse(c_text, header, cflags=(), typed=(), user_vars=None):
    """-> (c_text with implicit reads, {table: submitted C type}). Without a
    usable AST the text is returned unchanged."""
    dump, main, vmdir = ast_dump(c_text, header, cflags)
    if dump is None:
        return c_text, {}
    _mark_files(dump, [None])
    records, _ = kernel_names()
    # the program's own copies of kernel structs (redefinitions.py) describe kernel memory
    records = records | set(re.findall(r"\b(?:struct|union)\s+(__pybcc_own_\w+)", c_text))
    a = _Analysis(c_text, main, records, typed, user_vars, KernelBitfields())
    for d in dump.get("inner", ()):
        loc = d.get("loc", {})
        if d.get("kind") == "FunctionDecl" and d.get("inner") and \
                (loc.get("_file", main) == main or "spellingLoc" in loc):
            a.own_functions.add(d.get("name"))
    for d in dump.get("inner", ()):
        if d.get("kind") in ("RecordDecl", "TypedefDecl") and d.get("name"):
            a.top_types.add(d["name"])
        if d.get("kind") == "FunctionDecl" and d.get("inner"):
            loc = d.get("loc", {})
            if loc.get("_file", main) == main or "spellingLoc" in loc:
                a.function(d)
    # Record types declared inside a function cannot be named at file scope.
    submits = {t: c for t, c in a.submits.items()
               if c.split()[-1] in a.top_types or c.split()[-1] in records}
    return insert_reads(c_text, a.ranges, a.user_ranges, a.bf_edits), submits


def insert_reads(text, ranges, user_ranges=(), bitfields=()):
    """Wrap each (begin, end) byte-offset range of text in _PYBCC_READ(...)
    (_PYBCC_READ_USER(...) for user_ranges); bitfields (begin, end, base_end,
    member) become _PYBCC_READ_BF(base, member)."""
    text = text.encode("utf-8", "surrogateescape")
    opens, closes, skips = {}, {}, {}
    for rs, macro in ((ranges, b"_PYBCC_READ("), (user_ranges, b"_PYBCC_READ_USER(")):
        for b, e in rs:
            opens.setdefault(b, []).append((e, macro))
            closes[e] = closes.get(e, 0) + 1
    for b, e, base_end, member in bitfields:
        opens.setdefault(b, []).append((e, b"_PYBCC_READ_BF("))
        closes[e] = closes.get(e, 0) + 1
        opens.setdefault(base_end, [])
        skips[base_end] = member        # "->" becomes ", "
    out, prev = [], 0
    for pos in sorted(set(opens) | set(closes)):
        if pos < prev:
            continue
        out.append(text[prev:pos])
        if pos in skips:
            out.append(b")" * closes.get(pos, 0) + b", ")
            prev = skips[pos]
            continue
        # outer (longer) ranges open first
        opening = b"".join(m for _, m in sorted(opens.get(pos, ()), key=lambda x: -x[0]))
        out.append(b")" * closes.get(pos, 0) + opening)
        prev = pos
    out.append(text[prev:])
    return b"".join(out).decode("utf-8", "surrogateescape")
