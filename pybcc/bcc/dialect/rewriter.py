"""bcc's C dialect → plain libbpf-style C.

The rewrite works on tokens, never on raw text: map macros become BTF-defined
maps, ``table.method(...)`` calls become helper calls, probe macros and name
conventions become functions in their own ELF sections, kprobe parameters are
read from pt_regs. Every rewrite keeps the user's line breaks, and the prelude
ends with a #line directive, so the compiler (and BTF line info) report the
user's own line numbers. Implicit kernel reads are added afterwards from
clang's AST (implicit.py).
"""
from __future__ import annotations

import os
import re

from ... import cache
from ...errors import CompileError
from ...lazy import LazyLogger
from ...record import field, record
from . import tables as T
from .lexer import match_paren, match_paren_back, significant, split_args, text_of, tokenize

log = LazyLogger("pybcc.bcc.dialect")
INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
HEADER = os.path.join(INCLUDE_DIR, "pybcc_bcc.h")

# Angle includes of kernel and bcc headers: everything they would give comes
# from pybcc_bcc.h (vmlinux.h + pybcc's headers).
_DROPPED_INCLUDES = ("linux/", "net/", "uapi/", "asm/", "asm-generic/", "bcc/", "trace/",
                     "generated/", "kernel/", "crypto/", "scsi/", "sound/", "rdma/", "xen/")

# bcc's probe macros: name → (function-name prefix, attach kind, typed BTF args)
_PROBE_MACROS = {
    "KFUNC_PROBE": ("kfunc__vmlinux__", "kfunc"),
    "KRETFUNC_PROBE": ("kretfunc__vmlinux__", "kretfunc"),
    "MODULE_KFUNC_PROBE": ("kfunc__", "kfunc"),
    "MODULE_KRETFUNC_PROBE": ("kretfunc__", "kretfunc"),
    "LSM_PROBE": ("lsm__", "lsm"),
    "KMOD_RET": ("kmod_ret__", "kmod_ret"),
}

# Function-name conventions that say where a program attaches.
_NAME_KINDS = (("kprobe__", "kprobe"), ("kretprobe__", "kretprobe"),
               ("tracepoint__", "tracepoint"), ("raw_tracepoint__", "raw_tracepoint"),
               ("kfunc__", "kfunc"), ("kretfunc__", "kretfunc"), ("lsm__", "lsm"),
               ("kmod_ret__", "kmod_ret"))

_SYSCALL_PREFIXES = ("syscall__", "kprobe__sys_", "kprobe____x64_sys_", "kprobe____arm64_sys_",
                     "kprobe____s390x_sys_", "kprobe____riscv_sys_", "kprobe____ia32_sys_")

# libbpf's program macros: name → typed BTF arguments (no implicit reads)
_LIBBPF_MACROS = {"BPF_PROG": True, "BPF_PROG2": True, "BPF_KPROBE": False, "BPF_KRETPROBE": False,
                  "BPF_KSYSCALL": False, "BPF_KPROBE_SYSCALL": False, "BPF_UPROBE": False,
                  "BPF_URETPROBE": False, "BPF_USDT": False}

_C_KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof", "do", "else", "case",
               "__attribute__", "typeof", "__typeof__", "_Static_assert", "asm", "__asm__"}


@record
class Rewritten:
    c_text: str                  # the C to compile
    # Item i: user line of compiled line i + 1. The prelude ends with #line 1,
    # so the compiler already reports the user's lines: the map is the identity.
    line_map: list
    tables: dict[str, T.TableDecl]
    functions: list[str]         # BPF programs, in text order
    auto_attach: list[tuple[str, str, str]]   # (function, kind, target)
    perf_submits: dict[str, str]  # perf/ring buffer table → C type of its records
    filename: str = "<text>"
    typed_functions: list[str] = field(default_factory=list)  # BTF-typed ctx (kfunc, lsm, ...)
    include_dirs: tuple[str, ...] = (INCLUDE_DIR,)
    warnings: list[str] = field(default_factory=list)   # bcc's warnings, for stderr


def error(filename, line, msg):
    return CompileError(f"{filename}:{line}: error: {msg}", filename=filename, line=line)


def _fit(new, old):
    """Pad new with the line breaks of old it lacks, so line numbers stay put."""
    missing = old.count("\n") - new.count("\n")
    return new + "\n" * missing if missing > 0 else new


def _param_name(ptext):
    """"const char __user *filename" → ("filename", "const char *")."""
    p = re.sub(r"\s+", " ", re.sub(r"/\*.*?\*/|//[^\n]*", " ", ptext, flags=re.S)).strip()
    p = re.sub(r"\b(__user|__kernel|__force|__rcu)\b", "", p).strip()
    m = re.search(r"([A-Za-z_]\w*)\s*((?:\[[^\]]*\])*)$", p)
    if not m:
        return None, p
    typ = (p[:m.start()] + m.group(2)).strip()
    return m.group(1), re.sub(r"\s+", " ", typ)


def _is_void_params(params):
    return not params or (len(params) == 1 and params[0].strip() in ("", "void"))


class _Rewriter:
    def __init__(self, text, filename, cflags):
        self.text = text
        self.filename = filename
        self.cflags = list(cflags)
        self.toks = tokenize(text)
        self.tables = {}
        self.table_at = {}        # token index of a map macro → its TableDecl
        self.functions = []
        self.auto_attach = []
        self.typed = []
        self.tp_structs = {}      # struct name → (category, event, line)
        self.edits = []           # (lo, hi, text): replace toks[lo:hi]
        self.defines = self._collect_defines()
        self.line_directives = []   # (physical line of a #line directive, its number)
        for t in self.toks:
            m = re.match(r"\s*#\s*(?:line\s+)?(\d+)(?:\s|$)", t.text) if t.kind == "pp" else None
            if m:
                self.line_directives.append((t.line, int(m.group(1))))
        self.counter = 0
        self.in_define = False
        self.warnings = []        # bcc's warnings (printk formats), printed by the caller
        self.bodies = []          # (program, its "{" and "}" token indexes)
        self.user_vars = {}       # function → parameters declared __user (user memory)

    # --- helpers ------------------------------------------------------------

    def err(self, tok_or_line, msg):
        line = tok_or_line if isinstance(tok_or_line, int) else tok_or_line.line
        return error(self.filename, self.presumed(line), msg)

    def presumed(self, line):
        """The line as the compiler reports it: text prepended to the user's
        program (the facade's USDT helpers) can end with #line 1 "name"."""
        for at, n in reversed(self.line_directives):
            if line > at:
                return n + line - at - 1
        return line

    def sig(self, i, hi=None):
        j = significant(self.toks, i)
        return j if hi is None or j < hi else hi

    def _collect_defines(self):
        defs = {k: str(v) for k, v in T.MAP_FLAGS.items()}
        for f in self.cflags:
            if f.startswith("-D"):
                k, _, v = f[2:].partition("=")
                defs[k] = v or "1"
        for t in self.toks:
            if t.kind == "pp":
                m = re.match(r"\s*#\s*define\s+([A-Za-z_]\w*)[ \t]+(.*)$", t.text, re.S)
                if m:
                    defs.setdefault(m.group(1), m.group(2).replace("\\\n", " ").strip())
        return defs

    def evaluate(self, expr, depth=0):
        """A size expression → int, through #defines; None if not constant."""
        e = expr.strip()
        if depth > 10 or not e:
            return None
        e = re.sub(r"\b([A-Za-z_]\w*)\b",
                   lambda m: "(%s)" % self.defines[m.group(1)] if m.group(1) in self.defines else m.group(1), e)
        if e != expr.strip() and depth < 10:
            return self.evaluate(e, depth + 1)
        e = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", e)
        e = re.sub(r"\b0([0-7]+)\b", r"0o\1", e)
        if not re.fullmatch(r"[\s0-9a-fA-FxXo()+\-*/%<>|&^~]*", e):
            return None
        try:
            v = eval(e.replace("/", "//"), {"__builtins__": {}})  # digits and operators only
        except Exception:
            return None
        return int(v) if isinstance(v, int) else None

    # --- top level ----------------------------------------------------------

    def run(self):
        toks, n = self.toks, len(self.toks)
        self._scan_tables()
        i, decl_start = 0, None
        while i < n:
            t = toks[i]
            if t.kind in ("ws", "comment"):
                i += 1
                continue
            if t.kind == "pp":
                self._pp(i)
                decl_start = None
                i += 1
                continue
            if decl_start is None:
                decl_start = i
            if t.is_(";"):
                decl_start = None
            elif t.kind == "ident" and t.text in T.MAP_MACROS:
                j = self.sig(i + 1)
                if j < n and toks[j].is_("("):
                    i = self._map_macro(i, j)
                    continue
            elif t.kind == "ident" and t.text in ("TRACEPOINT_PROBE", "RAW_TRACEPOINT_PROBE") \
                    or t.text in _PROBE_MACROS:
                j = self.sig(i + 1)
                if j < n and toks[j].is_("("):
                    i = self._probe_macro(i, j, decl_start)
                    decl_start = None
                    continue
            elif t.is_("struct"):
                j = self.sig(i + 1)
                if j < n and toks[j].kind == "ident" and toks[j].text.startswith("tracepoint__"):
                    self._tp_struct_ref(toks[j])
            elif t.is_("{"):
                end = match_paren(toks, i)
                if end < 0:
                    raise self.err(t, "unbalanced '{'")
                if not self._function(decl_start, i, end):
                    self._scan_tp_refs(i, end)
                    i = end + 1
                    continue
                decl_start = None
                i = end + 1
                continue
            i += 1
        self._check_program_calls()
        return self

    def _check_program_calls(self):
        """As bcc: a program may not call another program (a function that is
        not static): each is loaded on its own, so the call has no target."""
        programs = {name for name, _, _ in self.bodies}
        for name, lo, hi in self.bodies:
            for k in range(lo + 1, hi):
                t = self.toks[k]
                if t.kind == "ident" and t.text in programs:
                    p = self.sig(k + 1, hi)
                    before = significant(self.toks, k - 1, -1)
                    if p < hi and self.toks[p].is_("(") and not self.toks[before].is_("."):
                        raise self.err(t, f"{name}: cannot call non-static helper function "
                                       f"{t.text}() (make it static, or inline)")

    def _scan_tables(self):
        """Find table names first: #defines may use a table declared later."""
        toks = self.toks
        for i, t in enumerate(toks):
            if t.kind == "ident" and t.text in T.MAP_MACROS:
                j = self.sig(i + 1)
                if j < len(toks) and toks[j].is_("("):
                    end = match_paren(toks, j)
                    if end < 0:
                        raise self.err(t, f"{t.text}: unbalanced parentheses")
                    args = [text_of(toks, a, b).strip() for a, b in split_args(toks, j + 1, end)]
                    try:
                        d = T.parse_macro(t.text, args, self.evaluate)
                    except T.MacroError as e:
                        raise self.err(t, str(e)) from None
                    if d.name in self.tables:
                        raise self.err(t, f"table {d.name!r} is declared twice")
                    d.line = t.line
                    self.tables[d.name] = d
                    self.table_at[i] = d

    def _map_macro(self, i, j):
        end = match_paren(self.toks, j)
        d = self.table_at[i]
        self.edits.append((i, end + 1, _fit(T.emit(d).rstrip(";"), text_of(self.toks, i, end + 1))))
        return end + 1

    def _pp(self, i):
        t = self.toks[i]
        if _dropped_include(t):
            self.edits.append((i, i + 1, "\n" * t.text.count("\n")))
            return
        if _proto_include(t):
            self.edits.append((i, i + 1, _proto_include(t)))
            return
        m = re.match(r"(\s*#\s*define\s+[A-Za-z_]\w*(?:\([^)]*\))?)(.*)$", t.text, re.S)
        if m and (any(name in m.group(2) for name in self.tables) or "bpf_trace_printk" in m.group(2)):
            body = tokenize(m.group(2), t.line + m.group(1).count("\n"), line_start=False)
            sub = _Rewriter.__new__(_Rewriter)
            sub.__dict__.update(self.__dict__)
            sub.toks = body
            sub.in_define = True   # the format may be a macro parameter: checked by clang
            self.edits.append((i, i + 1, m.group(1) + sub._expr(0, len(body))))

    def _tp_struct_ref(self, tok):
        m = re.fullmatch(r"tracepoint__(\w+?)__(\w+)", tok.text)
        if not m:
            raise self.err(tok, f"struct {tok.text}: expected struct tracepoint__CATEGORY__EVENT")
        self.tp_structs.setdefault(tok.text, (m.group(1), m.group(2), tok.line))

    def _scan_tp_refs(self, lo, hi):
        for k in range(lo, hi):
            if self.toks[k].is_("struct"):
                j = self.sig(k + 1)
                if j < hi and self.toks[j].kind == "ident" and self.toks[j].text.startswith("tracepoint__"):
                    self._tp_struct_ref(self.toks[j])

    # --- functions ----------------------------------------------------------

    @staticmethod
    def _section(name):
        return f'__attribute__((section(".bpf.fn.{name}"), used)) '

    def _function(self, decl_start, lbrace, rbrace):
        """If toks[lbrace] opens a function body, rewrite the function and
        return True."""
        toks = self.toks
        rp = significant(toks, lbrace - 1, -1)
        if rp < 0 or not toks[rp].is_(")"):
            return False
        lp = match_paren_back(toks, rp)
        ni = significant(toks, lp - 1, -1) if lp > 0 else -1
        if ni < 0 or toks[ni].kind != "ident" or toks[ni].text in _C_KEYWORDS:
            return False
        name = toks[ni].text
        decl = [t.text for t in toks[decl_start:ni] if t.kind == "ident"] if decl_start is not None else []
        is_static = "static" in decl
        params = [text_of(toks, a, b) for a, b in split_args(toks, lp + 1, rp)]
        self._scan_tp_refs(lp, rp)
        body = self._expr(lbrace + 1, rbrace)
        prologue = ""
        section = re.search(r'\b(?:SEC|section)\s*\(\s*"([^"]*)"', text_of(toks, decl_start, ni)) \
            if decl_start is not None else None
        if section:
            # libbpf-style C: the program names its own section (and maybe
            # uses BPF_PROG(name, ...)-style macros)
            if name in _LIBBPF_MACROS and params:
                typed = _LIBBPF_MACROS[name]
                name = params[0].strip()
                if typed:
                    self.typed.append("____" + name)
            self._explicit_section(name, section.group(1))
        elif not is_static and not {"inline", "__inline", "__always_inline"} & set(decl):
            # bcc makes every function of the program that is not static a
            # program, with or without parameters (runqlen's do_perf_event())
            if len(params) > 7:     # the context and 6 register arguments, as bcc
                raise self.err(toks[ni], f"{name}: too many arguments, bcc only supports "
                               "in-register parameters (the context and 6 more)")
            self.functions.append(name)
            self.bodies.append((name, lbrace, rbrace))
            self._conventions(name, toks[ni])
            self.edits.append((decl_start, decl_start, self._section(name)))
            first = _param_name(params[0]) if params else (None, "")
            if len(params) > 1 and first[0] and "pt_regs" in first[1] and "*" in first[1]:
                prologue = self._kprobe_prologue(name, first[0], params[1:], toks[ni])
                self.edits.append((lp + 1, rp, _fit(params[0], text_of(toks, lp + 1, rp))))
        elif decl_start is not None and \
                not {"noinline", "__noinline", "always_inline", "__always_inline"} & set(decl):
            # bcc inlines every other function into its programs (its LLVM
            # passes mark them always_inline): a string literal a helper gets
            # is then a constant, not a .rodata read (btrfsdist's
            # memcpy(&key.op, op, 8) of "fsync" read past the section)
            self.edits.append((decl_start, decl_start, "__attribute__((always_inline)) "))
        self.edits.append((lbrace, rbrace + 1, "{" + prologue + body + "}"))
        return True

    def _explicit_section(self, name, sec):
        from ... import sections
        sdef, target = sections.lookup(sec)
        if sdef is None:
            return
        self.functions.append(name)
        if sections.is_typed(sdef):
            self.typed += [name, "____" + name]
        kind = sections.bcc_kind(sdef)
        if kind and target:
            self.auto_attach.append((name, kind, target.replace("/", ":", 1) if kind == "tracepoint" else target))

    def _conventions(self, name, tok):
        for prefix, kind in _NAME_KINDS:
            if name.startswith(prefix):
                target = name[len(prefix):]
                if kind == "tracepoint":
                    m = re.fullmatch(r"(\w+?)__(\w+)", target)
                    if not m:
                        raise self.err(tok, f"{name}: expected tracepoint__CATEGORY__EVENT")
                    target = f"{m.group(1)}:{m.group(2)}"
                elif kind in ("kfunc", "kretfunc", "kmod_ret", "lsm") and "__" in target[1:]:
                    mod, _, fn = target.partition("__")
                    if mod and fn:
                        target = fn if mod == "vmlinux" else f"{mod}:{fn}"
                self.auto_attach.append((name, kind, target))
                return

    def _kprobe_prologue(self, name, ctx, params, tok):
        """Locals for typed kprobe parameters, read from the registers."""
        out = []
        syscall = name.startswith(_SYSCALL_PREFIXES)
        if syscall:
            out.append(f"struct pt_regs *__pybcc_regs = __PYBCC_SYSCALL_REGS({ctx});")
        if len(params) > (6 if syscall else 8):
            raise self.err(tok, f"{name}: too many parameters to read from registers")
        for n, p in enumerate(params, 1):
            pname, ptype = _param_name(p)
            if not pname:
                raise self.err(tok, f"{name}: cannot parse parameter {p.strip()!r}")
            if "[" in ptype:
                ptype = ptype[:ptype.index("[")] + "*"
            src = f"__PYBCC_SYSCALL_ARG({n}, __pybcc_regs)" if syscall else f"PT_REGS_PARM{n}({ctx})"
            if "__user" in p:
                self.user_vars.setdefault(name, []).append(pname)
            sep = "" if ptype.endswith("*") else " "
            out.append(f"{ptype}{sep}{pname} = ({ptype}){src};")
        return " ".join(out) + " "

    def _probe_macro(self, i, j, decl_start):
        toks = self.toks
        macro, t = toks[i].text, toks[i]
        end = match_paren(toks, j)
        if end < 0:
            raise self.err(t, f"{macro}: unbalanced parentheses")
        args = [text_of(toks, a, b).strip() for a, b in split_args(toks, j + 1, end)]
        lb = self.sig(end + 1)
        if lb >= len(toks) or not toks[lb].is_("{"):
            raise self.err(t, f"{macro}(...) must be followed by a function body")
        rb = match_paren(toks, lb)
        if rb < 0:
            raise self.err(toks[lb], "unbalanced '{'")
        orig = text_of(toks, i, end + 1)
        if macro == "TRACEPOINT_PROBE":
            if len(args) != 2 or not all(a.isidentifier() for a in args):
                raise self.err(t, "TRACEPOINT_PROBE takes (category, event)")
            fname = f"tracepoint__{args[0]}__{args[1]}"
            self.tp_structs.setdefault(fname, (args[0], args[1], t.line))
            head = f"{self._section(fname)}int {fname}(struct {fname} *args)"
            self.functions.append(fname)
            self.auto_attach.append((fname, "tracepoint", f"{args[0]}:{args[1]}"))
        elif macro == "RAW_TRACEPOINT_PROBE":
            if len(args) != 1 or not args[0].isidentifier():
                raise self.err(t, "RAW_TRACEPOINT_PROBE takes (event)")
            fname = f"raw_tracepoint__{args[0]}"
            head = f"{self._section(fname)}int {fname}(struct bpf_raw_tracepoint_args *ctx)"
            self.functions.append(fname)
            self.auto_attach.append((fname, "raw_tracepoint", args[0]))
        else:
            prefix, kind = _PROBE_MACROS[macro]
            module = macro.startswith("MODULE_")
            if len(args) < (2 if module else 1) or not all(a.isidentifier() for a in args[:1 + module]):
                raise self.err(t, f"{macro} takes ({'module, ' if module else ''}function, typed args...)")
            if module:
                fname = f"{prefix}{args[0]}__{args[1]}"
                target, params = f"{args[0]}:{args[1]}", args[2:]
            else:
                fname = f"{prefix}{args[0]}"
                target, params = args[0], args[1:]
            inner = f"____{fname}"
            if _is_void_params(params):
                params = []
            casts = []
            for n, p in enumerate(params):
                pname, ptype = _param_name(p)
                if not pname:
                    raise self.err(t, f"{macro}: cannot parse parameter {p!r}")
                casts.append(f"({ptype})ctx[{n}]")
            plist = ", ".join(["unsigned long long *ctx"] + params)
            head = (f"int {fname}(unsigned long long *ctx); "
                    f"static __always_inline int {inner}({plist}); "
                    f"{self._section(fname)}int {fname}(unsigned long long *ctx) "
                    f"{{ return {inner}({', '.join(['ctx'] + casts)}); }} "
                    f"static __always_inline int {inner}({plist})")
            self.functions.append(fname)
            self.typed.append(inner)
            self.auto_attach.append((fname, kind, target))
        self.edits.append((i, end + 1, _fit(head, orig)))
        between = text_of(toks, end + 1, lb)
        self.edits.append((end + 1, rb + 1, between + "{" + self._expr(lb + 1, rb) + "}"))
        return rb + 1

    # --- expressions --------------------------------------------------------

    def _expr(self, lo, hi):
        """Text of toks[lo:hi] with table methods and bpf_trace_printk rewritten."""
        toks, out, k = self.toks, [], lo
        while k < hi:
            t = toks[k]
            if t.kind == "ident" and t.text in self.tables:
                j = self.sig(k + 1, hi)
                if j < hi and toks[j].is_("."):
                    m = self.sig(j + 1, hi)
                    p = self.sig(m + 1, hi) if m < hi else hi
                    if m < hi and toks[m].kind == "ident" and p < hi and toks[p].is_("("):
                        q = match_paren(toks, p)
                        if q < 0 or q >= hi:
                            raise self.err(t, f"{t.text}.{toks[m].text}: unbalanced parentheses")
                        args = [self._expr(a, b) for a, b in split_args(toks, p + 1, q)]
                        new = self._method(t.text, toks[m].text, args, toks[m])
                        out.append(_fit(new, text_of(toks, k, q + 1)))
                        k = q + 1
                        continue
            elif t.kind == "ident" and t.text == "bpf_trace_printk":
                p = self.sig(k + 1, hi)
                if p < hi and toks[p].is_("("):
                    q = match_paren(toks, p)
                    if q < 0 or q >= hi:
                        raise self.err(t, "bpf_trace_printk: unbalanced parentheses")
                    spans = split_args(toks, p + 1, q)
                    if not (self.in_define and not self._literal_format(spans)):
                        self._check_printk(spans, t)
                    args = [text_of(toks, *spans[0])] + [self._expr(a, b) for a, b in spans[1:]]
                    out.append(_fit("__pybcc_trace_printk(" + ",".join(args) + ")", text_of(toks, k, q + 1)))
                    k = q + 1
                    continue
            out.append(t.text)
            k += 1
        return "".join(out)

    def _literal_format(self, spans):
        lits = [t for t in self.toks[spans[0][0]:spans[0][1]] if t.kind not in ("ws", "comment")] if spans else []
        return bool(lits) and all(t.kind == "string" for t in lits)

    def _check_printk(self, spans, tok):
        if not spans:
            raise self.err(tok, "bpf_trace_printk needs a format string")
        lits = [t for t in self.toks[spans[0][0]:spans[0][1]] if t.kind not in ("ws", "comment")]
        if not lits or any(t.kind != "string" for t in lits):
            raise self.err(tok, "bpf_trace_printk: the format must be a string literal")
        fmt = "".join(t.text[t.text.index('"') + 1:-1] for t in lits)
        nargs = len(spans) - 1
        if nargs > 3:     # bpf_trace_printk() takes 5 arguments: clang refuses more
            raise self.err(tok, f"bpf_trace_printk: at most 3 arguments after the format (got {nargs}); "
                           "use a perf or ring buffer for more")
        col = lits[0].pos - self.text.rfind("\n", 0, lits[0].pos) + lits[0].text.index('"') + 1
        for off, msg in printk_warnings(fmt, nargs):
            self.warnings.append(f"{self.filename}:{self.presumed(lits[0].line)}:{col + off}: "
                                 f"warning: {msg}")

    def _method(self, table, method, args, tok):
        d = self.tables[table]
        m = f"(void *)&{table}"
        self.counter += 1
        u = self.counter
        na = len(args)

        def need(lo, hi=None):
            hi = lo if hi is None else hi
            if not lo <= na <= hi:
                want = str(lo) if lo == hi else f"{lo} or {hi}"
                raise self.err(tok, f"{table}.{method}() takes {want} argument{'s' if hi != 1 else ''}, got {na}")

        a = [x.strip() for x in args]
        if method == "lookup":
            need(1)
            if not T.has_btf_value(d):
                return f"bpf_map_lookup_elem({m}, {a[0]})"
            return f"((__typeof__({table}.value))bpf_map_lookup_elem({m}, {a[0]}))"
        if method in ("lookup_or_init", "lookup_or_try_init", "increment", "atomic_increment") \
                and not T.has_btf_value(d):
            raise self.err(tok, f"{table}.{method}() needs a table with a value type")
        if method in ("update", "insert"):
            need(2)
            flag = "BPF_ANY" if method == "update" else "BPF_NOEXIST"
            return f"bpf_map_update_elem({m}, {a[0]}, {a[1]}, {flag})"
        if method == "delete":
            need(1)
            return f"bpf_map_delete_elem({m}, {a[0]})"
        if method in ("lookup_or_init", "lookup_or_try_init"):
            need(2)
            # bcc: lookup_or_init leaves the program (return 0) when the
            # element cannot be had, so the pointer it gives is never NULL
            give_up = f" if (!__l{u}) return 0;" if method == "lookup_or_init" else ""
            return (f"({{ __typeof__({table}.value) __l{u}; void *__k{u} = (void *)({a[0]}); "
                    f"__l{u} = bpf_map_lookup_elem({m}, __k{u}); if (!__l{u}) {{ "
                    f"bpf_map_update_elem({m}, __k{u}, {a[1]}, BPF_NOEXIST); "
                    f"__l{u} = bpf_map_lookup_elem({m}, __k{u});{give_up} }} __l{u}; }})")
        if method in ("increment", "atomic_increment"):
            need(1, 2)
            inc = a[1] if na > 1 else "1"
            add = (f"__sync_fetch_and_add(__l{u}, {inc})" if method == "atomic_increment"
                   else f"(*__l{u}) += {inc}")
            init = ""
            if d.map_type not in (T.MapType.ARRAY, T.MapType.PERCPU_ARRAY):
                init = (f"if (!__l{u}) {{ __typeof__(*{table}.value) __z{u}; "
                        f"__builtin_memset(&__z{u}, 0, sizeof(__z{u})); "
                        f"bpf_map_update_elem({m}, &__k{u}, &__z{u}, BPF_NOEXIST); "
                        f"__l{u} = bpf_map_lookup_elem({m}, &__k{u}); }} ")
            return (f"({{ __typeof__(*{table}.key) __k{u} = {a[0]}; "
                    f"__typeof__({table}.value) __l{u} = bpf_map_lookup_elem({m}, &__k{u}); "
                    f"{init}if (__l{u}) {add}; }})")
        submits = {
            # method: (argument count, the table type it needs, the helper call)
            "perf_submit": (3, T.MapType.PERF_EVENT_ARRAY,
                            "bpf_perf_event_output({0}, {m}, BPF_F_CURRENT_CPU, {1}, {2})"),
            "perf_submit_skb": (4, T.MapType.PERF_EVENT_ARRAY,
                                "bpf_perf_event_output({0}, {m}, "
                                "(((__u64)({1})) << 32) | BPF_F_CURRENT_CPU, {2}, {3})"),
            "ringbuf_output": (3, T.MapType.RINGBUF, "bpf_ringbuf_output({m}, {0}, {1}, {2})"),
            "ringbuf_reserve": (1, T.MapType.RINGBUF, "bpf_ringbuf_reserve({m}, {0}, 0)"),
        }
        if method in submits:
            count, map_type, call = submits[method]
            need(count)
            self._submit(table, tok, map_type)
            return call.format(*a, m=m)
        if method in ("ringbuf_submit", "ringbuf_discard"):
            need(2)
            return f"bpf_{method}((void *)({a[0]}), {a[1]})"
        if method == "ringbuf_query":
            need(1)
            return f"bpf_ringbuf_query({m}, {a[0]})"
        simple = {
            # method: (helper, argument count, arguments before the map, extra after)
            "get_stackid": ("bpf_get_stackid", 2, 1),
            "call": ("bpf_tail_call", 2, 1),
            "push": ("bpf_map_push_elem", 2, 0),
            "pop": ("bpf_map_pop_elem", 1, 0),
            "peek": ("bpf_map_peek_elem", 1, 0),
            "check_current_task": ("bpf_current_task_under_cgroup", 1, 0),
            "redirect_map": ("bpf_redirect_map", 2, 0),
            "perf_read": ("bpf_perf_event_read", 1, 0),
            "perf_counter_value": ("bpf_perf_event_read_value", 3, 0),
            "sk_storage_get": ("bpf_sk_storage_get", 3, 0),
            "sk_storage_delete": ("bpf_sk_storage_delete", 1, 0),
            "inode_storage_get": ("bpf_inode_storage_get", 3, 0),
            "inode_storage_delete": ("bpf_inode_storage_delete", 1, 0),
            "task_storage_get": ("bpf_task_storage_get", 3, 0),
            "task_storage_delete": ("bpf_task_storage_delete", 1, 0),
            "get_local_storage": ("bpf_get_local_storage", 1, 0),
            "sock_map_update": ("bpf_sock_map_update", 3, 1),
            "sock_hash_update": ("bpf_sock_hash_update", 3, 1),
            "msg_redirect_map": ("bpf_msg_redirect_map", 3, 1),
            "msg_redirect_hash": ("bpf_msg_redirect_hash", 3, 1),
            "sk_redirect_map": ("bpf_sk_redirect_map", 3, 1),
            "sk_redirect_hash": ("bpf_sk_redirect_hash", 3, 1),
        }
        if method in simple:
            helper, count, before = simple[method]
            need(count)
            parts = a[:before] + [m] + a[before:]
            return f"{helper}({', '.join(parts)})"
        known = sorted(["lookup", "update", "insert", "delete", "lookup_or_init", "lookup_or_try_init",
                        "increment", "atomic_increment", "perf_submit", "perf_submit_skb",
                        "ringbuf_output", "ringbuf_reserve", "ringbuf_submit", "ringbuf_discard",
                        "ringbuf_query", *simple])
        raise self.err(tok, f"{table}.{method}(): unknown table method (known: {', '.join(known)})")

    def _submit(self, table, tok, want):
        d = self.tables[table]
        if d.map_type != want:
            kind = "BPF_PERF_OUTPUT" if want == T.MapType.PERF_EVENT_ARRAY else "BPF_RINGBUF_OUTPUT"
            raise self.err(tok, f"{table} is not a {kind} table")

    # --- output -------------------------------------------------------------

    def apply(self):
        toks = self.toks
        edits = sorted(self.edits, key=lambda e: (e[0], e[1]))
        out, k = [], 0
        for lo, hi, new in edits:
            if lo < k:
                raise AssertionError(f"overlapping rewrites at token {lo}")
            out.append(text_of(toks, k, lo))
            out.append(new)
            k = max(k, hi)
        out.append(text_of(toks, k, len(toks)))
        return "".join(out)


_PRINTK_ONLY = "only %d %u %x %ld %lu %lx %lld %llu %llx %p %s conversion specifiers allowed"


def printk_warnings(fmt, nargs):
    """bcc's warnings about a bpf_trace_printk format: [(offset in fmt, message)].
    As bcc, they do not stop the compile (the kernel checks the format when
    the program prints: a format it refuses prints nothing). bcc's rules:
    printable ASCII; at most 3 conversions; %d %u %x with l or ll, %p, %pS,
    %s (once); %% is a percent sign."""
    out = []
    convs, has_s, i = 0, False, 0
    while i < len(fmt):
        c = fmt[i]
        if not (c.isascii() and (c.isprintable() or c.isspace())):
            return out + [(i, "unrecognized character")]
        if c != "%" or fmt[i + 1:i + 2] == "%":     # %% prints a %: the kernel takes it
            i += 1 if c != "%" else 2
            continue
        if convs >= 3:
            return out + [(i, "cannot use more than 3 conversion specifiers")]
        convs += 1
        at, i = i, i + 1
        nxt = fmt[i:i + 1]
        if nxt in ("p", "s"):
            i += 2 if fmt[i:i + 2] == "pS" else 1
            after = fmt[i:i + 1]
            if after and not (after.isspace() or (after.isascii() and not after.isalnum() and after.isprintable())):
                return out + [(at, _PRINTK_ONLY.replace("%p %s", "%p %pS %s"))]
            if nxt == "s":
                if has_s:
                    return out + [(at, "cannot use several %s conversion specifiers")]
                has_s = True
            continue
        i += 2 if fmt[i:i + 2] == "ll" else 1 if nxt == "l" else 0
        if fmt[i:i + 1] not in ("d", "u", "x"):
            return out + [(at, _PRINTK_ONLY)]
        i += 1
    if convs != nargs:
        out.append((0, f"the format has {convs} conversion{'s' if convs != 1 else ''} but "
                       f"{nargs} argument{'s' if nargs != 1 else ''} follow it: the kernel prints nothing"))
    return out


def _dropped_include(tok):
    """#include <linux/...> and the like: pybcc_bcc.h gives what they would
    (<bcc/proto.h> is pybcc's own, included when the program asks for it)."""
    m = re.match(r"\s*#\s*include\s*<([^>]+)>", tok.text)
    return bool(m and m.group(1).startswith(_DROPPED_INCLUDES) and m.group(1) != "bcc/proto.h")


def _proto_include(tok):
    """#include <bcc/proto.h> → the same by absolute path (the front end's
    clang runs need no include path for it)."""
    m = re.match(r"(\s*#\s*include\s*)<bcc/proto\.h>(.*)$", tok.text, re.S)
    return m and m.group(1) + '"%s"' % os.path.join(INCLUDE_DIR, "bcc", "proto.h") + m.group(2)


def _kernel_records():
    """Struct and union names of the running kernel's vmlinux.h (empty
    without BTF or a compiler)."""
    try:
        from . import implicit
        return implicit.kernel_names()[0]
    except Exception:
        return frozenset()


def _license_needed(text):
    """No license section of the program's own: bcc's footer gives one."""
    return not re.search(r'SEC\s*\(\s*"license"|section\s*\(\s*"license"|\b_license\b', text)


# bcc's license handling: the program may #define BPF_LICENSE (default GPL),
# cflags may not.
_LICENSE_CHECK = "#ifdef BPF_LICENSE\n#error BPF_LICENSE cannot be specified through cflags\n#endif"
_LICENSE_FOOTER = """
#ifndef BPF_LICENSE
#define BPF_LICENSE GPL
#endif
#define __PYBCC_STR1(s) #s
#define __PYBCC_STR(s) __PYBCC_STR1(s)
char _license[] SEC("license") = __PYBCC_STR(BPF_LICENSE);
"""


def rewrite(text, filename="<text>", cflags=(), implicit_reads=True, use_cache=True):
    """Rewrite a bcc program (the text given to BPF(text=...)) into plain C.

    Raises CompileError naming the user's line for dialect errors (unknown
    table method, bad macro arguments, missing tracepoint, bad printk format).
    Results are cached on disk (keyed by the text, flags, pybcc's front end
    and the kernel's BTF), so a program seen before costs no clang run.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    filename = os.fspath(filename) if filename else "<text>"
    cflags = tuple(os.fspath(f) for f in cflags)
    key = _cache_key(text, filename, cflags, implicit_reads) if use_cache else None
    if key:
        hit = _cache_get(key)
        if hit is not None:
            return hit
    r = _rewrite(text, filename, cflags, implicit_reads)
    if key:
        _cache_put(key, r)
    return r


def _rewrite(text, filename, cflags, implicit_reads):
    from ...kernel import tracefs
    from . import conditionals, implicit, kernel_macros, packets, redefinitions, tracepoints
    version = ""
    rel = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", os.uname().release)
    if rel:
        version = ("#define LINUX_VERSION_CODE KERNEL_VERSION(%s, %s, %s)"
                   % (rel.group(1), rel.group(2), rel.group(3) or 0))
    user_dirs = [os.path.dirname(os.path.abspath(filename))] if filename != "<text>" else []
    kernel = kernel_macros.defines() + kernel_macros.for_text(text)
    text = conditionals.drop_untaken(text, f'#include "{HEADER}"\n{kernel}\n{version}', cflags,
                                     user_dirs + [INCLUDE_DIR], _dropped_include)
    undefs = []
    records = _kernel_records()
    if records:
        text, undefs = redefinitions.resolve(text, records, HEADER)
    rw = _Rewriter(text, filename, cflags).run()
    body = rw.apply()

    prelude = [_LICENSE_CHECK, f'#include "{HEADER}"', kernel] + [f"#undef {u}" for u in undefs]
    known = frozenset()
    if rw.tp_structs:
        try:
            _, known = implicit.kernel_names()
        except Exception:  # no BTF or no header: pointer fields become void *
            pass
    for sname, (cat, ev, line) in rw.tp_structs.items():
        try:
            prelude.append(tracepoints.struct_text(cat, ev, known))
        except tracefs.TracepointNotFound as e:
            raise error(filename, line, f"tracepoint {cat}:{ev} does not exist on this kernel ({e})") from None
        except Exception as e:
            raise error(filename, line, f"tracepoint {cat}:{ev}: cannot read its format: {e}") from None
    if version:
        prelude.append(version)
    license_macro = _license_needed(text) and "BPF_LICENSE" in text
    if _license_needed(text) and not license_macro:
        prelude.append('char _license[] SEC("license") = "GPL";')
    prelude.append('#line 1 "%s"' % filename.replace("\\", "\\\\").replace('"', '\\"'))
    c_text = "\n".join(prelude) + "\n" + body
    if license_macro:       # after the program, which defines it
        c_text += _LICENSE_FOOTER
    if packets.used(c_text):
        c_text = packets.rewrite(c_text, HEADER, cflags, filename)
    submits = {}
    if implicit_reads:
        c_text, submits = implicit.analyse(c_text, HEADER, cflags, rw.typed, rw.user_vars)
    perf = {}
    keep = []
    for name, d in rw.tables.items():
        if d.map_type in (T.MapType.PERF_EVENT_ARRAY, T.MapType.RINGBUF) and name in submits:
            perf[name] = submits[name]
            # An unused subprogram keeps the record type in BTF for the reader.
            keep.append(f"static __attribute__((used)) void __pybcc_record_type_{name}"
                        f"({submits[name]} *p) {{ }}")
    if keep:
        c_text += ("" if c_text.endswith("\n") else "\n") + "\n".join(keep) + "\n"
    nlines = text.count("\n") + 1
    return Rewritten(c_text=c_text, line_map=list(range(1, nlines + 1)), tables=rw.tables,
                     functions=rw.functions, auto_attach=rw.auto_attach, perf_submits=perf,
                     filename=filename, typed_functions=list(rw.typed), warnings=rw.warnings)


# --- cache ---------------------------------------------------------------------

CACHE_VERSION = b"pybcc-frontend-1"
_sources_digest = None


def _frontend_digest():
    """Hash of the front end's own code and headers (once per process)."""
    global _sources_digest
    if _sources_digest is None:
        h = cache.sha256(CACHE_VERSION)
        here = os.path.dirname(os.path.abspath(__file__))
        for d, dirs, files in sorted(os.walk(here)):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".h")):
                    with open(os.path.join(d, name), "rb") as f:
                        h.update(name.encode() + b"\0" + f.read())
        _sources_digest = h.hexdigest()
    return _sources_digest


def _cache_key(text, filename, cflags, implicit_reads):
    try:
        from ...compiler import build, find_compiler
        parts = [_frontend_digest(), build.headers_digest(), build.kernel_btf_id(),
                 find_compiler().identity, text, filename, str(implicit_reads), *cflags]
    except Exception as e:  # no compiler or BTF: the rewrite itself will say so
        log.debug("front-end cache disabled: %s", e)
        return None
    h = cache.sha256()
    for p in parts:
        b = p.encode("utf-8", "surrogateescape")
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()


def _cache_path(key):
    from ... import cache
    return os.path.join(cache.private_dir("frontend"), key + ".json")


def _cache_get(key):
    from ... import cache
    try:
        d = cache.read_json(_cache_path(key))
        if not d:
            return None
        tables = {}
        for name, t in d["tables"].items():
            t = dict(t, map_type=T.MapType(t["map_type"]))
            tables[name] = T.TableDecl(**t)
        return Rewritten(c_text=d["c_text"], line_map=d["line_map"], tables=tables,
                         functions=d["functions"], auto_attach=[tuple(a) for a in d["auto_attach"]],
                         perf_submits=d["perf_submits"], filename=d["filename"],
                         typed_functions=d["typed_functions"], warnings=d.get("warnings", []))
    except (OSError, KeyError, TypeError, ValueError) as e:
        log.debug("front-end cache entry unusable: %s", e)
        return None


def _cache_put(key, r):
    from ... import cache
    d = {"c_text": r.c_text, "line_map": r.line_map,
         "tables": {n: dict(T.as_dict(t), map_type=int(t.map_type)) for n, t in r.tables.items()},
         "functions": r.functions, "auto_attach": [list(a) for a in r.auto_attach],
         "perf_submits": r.perf_submits, "filename": r.filename,
         "typed_functions": r.typed_functions, "warnings": r.warnings}
    try:
        cache.write_json(_cache_path(key), d)
    except OSError as e:
        log.debug("cannot write the front-end cache: %s", e)
