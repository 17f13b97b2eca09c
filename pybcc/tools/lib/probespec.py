"""Probe specifiers of bcc's multi-tools (trace, argdist) and the C they generate.

argdist's form (the general one)::

    TYPE:LIB:FUNC[(SIGNATURE)][:TYPE[,TYPE...]:EXPR[,EXPR...][:FILTER]][#LABEL]

with TYPE one of p (function entry), r (function return), t (tracepoint,
LIB is then the category), u (USDT); k is accepted for p and U for u.

trace's form::

    [TYPE:][LIB:]FUNC[+OFFSET][(SIGNATURE)] [(FILTER)] ["FORMAT"[, ARG...]]

Expressions and filters are C. They may use arg1..arg6, retval (or $retval),
$pid, $tgid, $uid, $gid, $cpu, $task, args->FIELD in tracepoints, the
signature's parameter names, and STRCMP("literal", expr). These tools
generate C per invocation (that is inherent); the compiler caches by text, so
running the same command again compiles nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from ...record import field, record

from ... import compiler
from ...errors import AttachError, NotSupportedError
from ...kernel import features, tracefs
from ...symbols import resolve_module
from .args import positive_int
from .runtime import INCLUDE_DIR, Tool

PROBE_TYPES = {"p": "p", "k": "p", "r": "r", "t": "t", "u": "u", "U": "u"}
MAX_STRING_SIZE = 4096      # -Z/-z: a string is copied into an event or a map key


def string_size(text):
    """The tools' -Z/-z: how much of a string to copy (1..MAX_STRING_SIZE)."""
    v = positive_int(text)
    if v > MAX_STRING_SIZE:
        raise argparse.ArgumentTypeError(f"at most {MAX_STRING_SIZE}, not {v}")
    return v


class SpecError(ValueError):
    """A probe specifier that does not parse, or names what is not there:
    bad input, exit status 2 as for a bad flag value (an unknown probe type
    keeps the 1 it always had)."""

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code


@record
class Spec:
    raw: str
    probe_type: str                 # p, r, t, u
    library: str = ""               # "" for the kernel; the category for t
    function: str = ""              # function, tracepoint event or USDT probe
    offset: int = 0
    signature: str = ""             # "size_t size, int flags"
    types: list[str] = field(default_factory=list)
    exprs: list[str] = field(default_factory=list)
    filter: str = ""
    label: str | None = None

    @property
    def is_user(self):
        """A probe in user space (a uprobe or a USDT probe): its pointers are user memory."""
        return self.probe_type == "u" or (self.probe_type in ("p", "r") and bool(self.library))

    @property
    def usdt_probe(self):
        """(provider or None, name) of a USDT probe: u:LIB:[PROVIDER:]NAME."""
        provider, _, name = self.function.rpartition(":")
        return provider or None, name

    @property
    def tp_category(self):
        return self.library if self.probe_type == "t" else ""


# --- splitting ---------------------------------------------------------------------

def split_top(text, sep=","):
    """Split at ``sep`` (one or more characters) outside parentheses,
    brackets and string literals."""
    parts, depth, quote, cur = [], 0, None, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur += ch
            if ch == "\\" and i + 1 < len(text):
                cur += text[i + 1]
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch in "([{":
            depth += 1
            cur += ch
        elif ch in ")]}":
            depth -= 1
            cur += ch
        elif depth == 0 and text.startswith(sep, i):
            parts.append(cur)
            cur = ""
            i += len(sep)
            continue
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts


def _balanced_end(text, start):
    """Index just past the parenthesis that closes the one at ``start``."""
    depth, quote = 0, None
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _split_offset(func, raw):
    if "+" not in func:
        return func, 0
    func, off = func.split("+", 1)
    try:
        return func, int(off, 0)
    except ValueError:
        raise SpecError(f"error in probe '{raw}': invalid offset format '{off}', "
                        f"must be decimal or hexadecimal") from None


def parse_specifier(text):
    """argdist's specifier (see the module doc)."""
    raw = text
    spec_text, _, label = text.partition("#")
    spec_text = spec_text.strip()

    def bail(msg):
        raise SpecError(f"error parsing probe '{raw}': {msg}")

    parts = spec_text.split(":", 2)
    if len(parts) < 3:
        bail("at least the probe type, library, and function signature must be specified")
    kind, library, rest = parts
    if kind not in PROBE_TYPES:
        raise SpecError(f"error parsing probe '{raw}': probe type must be 'p', 'r', 't', "
                        f"or 'u' but got '{kind}'", exit_code=1)
    kind = PROBE_TYPES[kind]
    m = re.match(r"\s*([^:(\s]+)\s*", rest)
    if not m:
        bail(f"function signature '{rest}' has an invalid format")
    func = m.group(1)
    signature, rest = _take_signature(rest[m.end():], bail)
    func, offset = _split_offset(func, raw)
    spec = Spec(raw, kind, library, func, offset, signature, label=label or None)
    if rest.strip():
        if not rest.startswith(":"):
            bail(f"unexpected '{rest}' after the function")
        fields = split_top(rest[1:], ":")
        if len(fields) > 3:
            bail("extraneous ':'-separated parts detected")
        if len(fields) < 2:
            bail("a type list needs an expression list (TYPE:EXPR)")
        spec.types = [t.strip() for t in split_top(fields[0]) if t.strip()]
        spec.exprs = [e.strip() for e in split_top(fields[1]) if e.strip()]
        if not spec.types:
            bail("no expr types specified")
        if not spec.exprs:
            bail("no exprs specified")
        if len(spec.types) != len(spec.exprs):
            bail("mismatched # of exprs and types")
        spec.filter = fields[2].strip() if len(fields) == 3 else ""
    if kind in ("t", "u") and signature:
        bail("USDT and tracepoint probes can't have a function signature; "
             "use arg1, arg2, ... or args->FIELD instead")
    return spec


def _take_signature(rest, bail):
    """(the "(...)" signature at the start of ``rest`` without its parentheses,
    or "", and what follows it)."""
    if not rest.startswith("("):
        return "", rest
    end = _balanced_end(rest, 0)
    if end < 0:
        bail("unmatched parenthesis in the function signature")
    return rest[1:end - 1].strip(), rest[end:]


@record
class TraceProbe:
    spec: Spec
    fmt: str = ""                   # the format string without its quotes
    values: list[str] = field(default_factory=list)


def parse_trace_probe(text):
    """trace's probe (see the module doc)."""
    raw = text

    def bail(msg):
        raise SpecError(f"error in probe '{raw}': {msg}")

    m = re.match(r"\s*([^ \t(]+)", text)
    if not m:
        bail("no probe specifier")
    spec_text = m.group(1)
    signature, rest = _take_signature(text[m.end():], bail)

    parts = spec_text.split(":")
    if len(parts) == 1:
        parts = ["p", "", parts[0]]
    elif len(parts) == 2:
        parts = ["p", parts[0], parts[1]]
    kind = parts[0] or "p"
    if kind not in PROBE_TYPES:
        raise SpecError(f"error in probe '{raw}': probe type must be '', 'p', 't', 'r', or 'u', "
                        f"but got '{kind}'", exit_code=1)
    kind = PROBE_TYPES[kind]
    func, offset = _split_offset(parts[-1], raw)
    if kind == "t":
        if len(parts) != 3:
            bail("a tracepoint is t:CATEGORY:EVENT")
        library = parts[1]
    elif kind == "u":
        library = parts[1]
        func = ":".join(parts[2:])
    else:
        library = ":".join(parts[1:-1])
    if signature and kind in ("u", "t"):
        bail("USDT and tracepoint probes can't have a function signature; "
             "use arg1, arg2, ... instead")
    spec = Spec(raw, kind, library, func, offset, signature)

    rest = rest.lstrip()
    if rest.startswith("("):
        end = _balanced_end(rest, 0)
        if end < 0:
            bail("unmatched end of predicate")
        spec.filter = rest[1:end - 1]
        rest = rest[end:].lstrip()
    probe = TraceProbe(spec)
    if rest:
        fm = re.match(r'"((?:[^"\\]|\\.)*)"\s*,?(.*)$', rest, re.S)
        if fm is None:
            bail('expected format string in "s')
        probe.fmt = fm.group(1)
        probe.values = [v.strip() for v in split_top(fm.group(2)) if v.strip()]
    return probe


# --- C generation ------------------------------------------------------------------

PRELUDE = """#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <pybcc/tool.h>
"""

ALIASES = [
    # signed, so that "retval < 0" means what it says
    (r"\$retval\b|\bretval\b", "((long)PT_REGS_RC(ctx))"),
    (r"\$uid\b", "((u32)bpf_get_current_uid_gid())"),
    (r"\$gid\b", "((u32)(bpf_get_current_uid_gid() >> 32))"),
    (r"\$pid\b", "((u32)bpf_get_current_pid_tgid())"),
    (r"\$tgid\b", "((u32)(bpf_get_current_pid_tgid() >> 32))"),
    (r"\$PID\b", "((u32)(bpf_get_current_pid_tgid() >> 32))"),
    (r"\$cpu\b", "bpf_get_smp_processor_id()"),
    (r"\$task\b", "((struct task_struct *)bpf_get_current_task())"),
]


def _c_ident(text):
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


class Generator:
    """Collects the C of one program: helper functions, maps, probes."""

    def __init__(self, string_size=80, includes=(), bin_cmp=False):
        self.string_size = string_size
        self.bin_cmp = bin_cmp          # STRCMP compares bytes, not C strings
        self.parts = [PRELUDE]
        for inc in includes:
            if inc.startswith((".", "/")):
                self.parts.append('#include "%s"\n' % os.path.abspath(inc))
            else:
                self.parts.append("#include <%s>\n" % inc)
        self.streq_count = 0
        self.tp_structs = {}
        self.usdt = False               # <bpf/usdt.bpf.h> is included

    def add(self, text):
        self.parts.append(text)

    def text(self):
        return "\n".join(self.parts) + '\nchar LICENSE[] SEC("license") = "GPL";\n'

    # expressions ---------------------------------------------------------------------

    def rewrite(self, expr, spec, user_strings=True):
        """Turn a tool expression into C valid inside the probe function."""
        expr = re.sub(r"\b(arg[1-6])@user\b", r"\1", expr)
        expr = self._rewrite_strcmp(expr, spec, user_strings)
        expr = read_through_pointers(expr, spec, user_strings)
        if is_syscall_kprobe(spec):
            # the syscall wrapper's one argument is the user's pt_regs
            expr = re.sub(r"\barg([1-6])\b",
                          r"({ u64 __v = 0; struct pt_regs *__r = (struct pt_regs *)"
                          r"PT_REGS_PARM1(ctx); bpf_probe_read_kernel(&__v, sizeof(__v), "
                          r"&PT_REGS_PARM\1(__r)); __v; })", expr)
        elif spec.probe_type == "u":
            # the probe's arguments, as its note describes them (<bpf/usdt.bpf.h>)
            expr = re.sub(r"\barg(1[0-2]|[1-9])\b",
                          lambda m: f"({{ long __a = 0; bpf_usdt_arg(ctx, {int(m.group(1)) - 1}, "
                                    f"&__a); __a; }})", expr)
        else:
            expr = re.sub(r"\barg([1-6])\b", r"PT_REGS_PARM\1(ctx)", expr)
        for pat, repl in ALIASES:
            expr = re.sub(pat, repl, expr)
        return expr

    def _rewrite_strcmp(self, expr, spec, user_strings):
        out, pos = "", 0
        for m in re.finditer(r"STRCMP\s*\(", expr):
            if m.start() < pos:
                continue
            end = _balanced_end(expr, m.end() - 1)
            if end < 0:
                raise SpecError(f"unbalanced STRCMP in '{expr}'")
            args = split_top(expr[m.end():end - 1])
            if len(args) != 2 or not args[0].strip().startswith('"'):
                raise SpecError('STRCMP takes ("literal", expression)')
            literal = args[0].strip()[1:-1].encode().decode("unicode_escape")
            name = f"pybcc_streq_{self.streq_count}"
            self.streq_count += 1
            self.add(self._streq_function(name, literal, user_strings))
            out += expr[pos:m.start()] + f"{name}((void *)({args[1].strip()}))"
            pos = end
        return out + expr[pos:]

    def _streq_function(self, name, literal, user_strings):
        want = literal.encode() + (b"" if self.bin_cmp else b"\0")
        checks = "\n".join(f"    if (buf[{i}] != {b}) return false;" for i, b in enumerate(want))
        kind = "" if self.bin_cmp else "_str"
        read_user = f"bpf_probe_read_user{kind}(buf, sizeof(buf), p) < 0 && " if user_strings else ""
        return f"""
static __always_inline bool {name}(void *p)
{{
    unsigned char buf[{len(want) + 1}] = {{}};
    if ({read_user}bpf_probe_read_kernel{kind}(buf, sizeof(buf), p) < 0)
        return false;
{checks}
    return true;
}}
"""

    def read_string(self, dest, expr, prefer_user):
        """C that copies the string at ``expr`` into ``dest`` (a char array),
        from user or kernel memory, trying the likelier one first."""
        first, second = ("user", "kernel") if prefer_user else ("kernel", "user")
        return (f"    {{ const void *__p = (const void *)({expr});\n"
                f"      if (__p && bpf_probe_read_{first}_str({dest}, sizeof({dest}), __p) < 0)\n"
                f"          bpf_probe_read_{second}_str({dest}, sizeof({dest}), __p); }}\n")

    # probe functions -------------------------------------------------------------------

    def signature_locals(self, spec):
        """Declarations giving the signature's parameter names their values."""
        if not spec.signature or spec.probe_type not in ("p",):
            return ""
        out = ""
        for i, param in enumerate(p.strip() for p in split_top(spec.signature)):
            if not param or param == "void":
                continue
            if i >= 6:
                raise SpecError(f"only 6 parameters can be read, in '{spec.raw}'")
            cut = max(param.rfind("*"), param.rfind(" "))
            ptype, pname = param[:cut + 1].strip(), param[cut + 1:].strip()
            out += f"    {ptype} {pname} = ({ptype})PT_REGS_PARM{i + 1}(ctx);\n"
        return out

    def signature_names(self, spec):
        names = []
        for param in split_top(spec.signature or ""):
            param = param.strip()
            if param and param != "void":
                cut = max(param.rfind("*"), param.rfind(" "))
                names.append(param[cut + 1:].strip())
        return names

    def function_head(self, spec, name):
        """SEC and prototype of the probe function; its context is ``ctx``."""
        if spec.probe_type == "t":
            struct = self.tracepoint_struct(spec.library, spec.function)
            return (f'SEC("tracepoint/{spec.library}/{spec.function}")\n'
                    f"int {name}(struct {struct} *args)\n{{\n    void *ctx = args;\n")
        if spec.probe_type == "u":
            if not self.usdt:
                self.usdt = True
                self.parts.insert(1, "#include <bpf/usdt.bpf.h>\n")
            return f'SEC("usdt")\nint {name}(struct pt_regs *ctx)\n{{\n'
        if spec.is_user:
            sec = "uretprobe" if spec.probe_type == "r" else "uprobe"
        else:
            sec = "kretprobe" if spec.probe_type == "r" else "kprobe"
            sec += "/" + spec.function
        return f'SEC("{sec}")\nint {name}(struct pt_regs *ctx)\n{{\n'

    def tracepoint_struct(self, category, event):
        """A struct laid out as the tracepoint's format file says (bcc's
        TRACEPOINT_PROBE args); pointers become unsigned long."""
        key = (category, event)
        if key in self.tp_structs:
            return self.tp_structs[key]
        try:
            fmt = tracefs.tracepoint_format(category, event)
        except Exception as e:
            raise SpecError(f"tracepoint {category}:{event} not found ({e})") from None
        name = "pybcc_tp_" + _c_ident(f"{category}_{event}")
        lines, pos, pad = [], 0, 0
        for f in sorted(fmt.fields, key=lambda f: f.offset):
            if f.offset < pos:
                continue            # a union member; keep the first
            if f.offset > pos:
                lines.append(f"    char __pad{pad}[{f.offset - pos}];")
                pad += 1
            lines.append("    " + _field_decl(f))
            pos = f.offset + f.size
        text = "struct %s {\n%s\n} __attribute__((packed));\n" % (name, "\n".join(lines))
        self.add(text)
        self.tp_structs[key] = name
        return name


_INT_TYPES = {(1, False): "u8", (2, False): "u16", (4, False): "u32", (8, False): "u64",
              (1, True): "s8", (2, True): "s16", (4, True): "s32", (8, True): "s64"}


def _field_decl(f):
    if f.data_loc:
        return f"u32 {f.name};    /* __data_loc */"
    if "[" in f.type:
        n = f.array_len or 0
        elem = f.size // n if n else 1
        base = "char" if "char" in f.type and elem == 1 else _INT_TYPES.get((elem, f.signed), "u8")
        return f"{base} {f.name}[{n if n else f.size}];"
    if "*" in f.type:
        return f"unsigned long {f.name};"
    return f"{_INT_TYPES.get((f.size, f.signed), 'u64')} {f.name};"


_CHAIN = re.compile(r"(?<![\w.>$])([A-Za-z_]\w*)((?:\s*(?:->|\.)\s*[A-Za-z_]\w*)+)")
_HOP = re.compile(r"(->|\.)\s*([A-Za-z_]\w*)")


def read_through_pointers(expr, spec, user):
    """``p->a.b->c`` as probe reads, one per "->" (a probe may not load
    through a pointer it was given): user memory for user-space probes (and
    syscall arguments), else kernel memory. A tracepoint's ``args->field``
    is the probe's own context, read directly."""
    kind = "user" if user else "kernel"

    def reads(m):
        hops = _HOP.findall(m.group(2))
        value, i, n, steps = m.group(1), 0, 0, []
        if value == "args" and spec.probe_type == "t" and hops[0][0] == "->":
            value, i = "args->" + hops[0][1], 1
        while i < len(hops) and hops[i][0] == ".":
            value, i = value + "." + hops[i][1], i + 1
        while i < len(hops):        # hops[i] is a "->": read what it leads to
            path, i = f"{value}->{hops[i][1]}", i + 1
            while i < len(hops) and hops[i][0] == ".":
                path, i = path + "." + hops[i][1], i + 1
            value, n = f"__deref{n}", n + 1
            steps.append(f"typeof({path}) {value}; "
                         f"bpf_probe_read_{kind}(&{value}, sizeof({value}), &{path});")
        if not steps:
            return m.group(0)
        return "({ " + " ".join(steps) + f" {value}; }})"
    return _CHAIN.sub(reads, expr)


def is_syscall_kprobe(spec):
    return spec.probe_type in ("p", "r") and not spec.library and \
        spec.function.startswith(("__x64_sys_", "__arm64_sys_"))


# --- loading and attaching -------------------------------------------------------------

class GeneratedTool(Tool):
    """A Tool whose BPF C is generated text rather than a NAME.bpf.c file."""

    def __init__(self, text, name, constants=None, events=False):
        # Against a vmlinux.h of only the kernel types the text and the
        # tools' headers name, as BPF(text=) does (the whole one if clang
        # still fails): generating and parsing the whole one is most of a
        # first run's second.
        obj = compiler.compile(text, include_dirs=[INCLUDE_DIR], filename=f"{name}.bpf.c",
                               vmlinux=compiler.ProgramTypes((INCLUDE_DIR,)))
        super().__init__(name, constants, events=events, obj=obj)


def user_target(spec, pid=-1):
    """The path of a uprobe's binary or library; SpecError (exit 2) when it
    is not there (checked before compiling, so a typo fails at once)."""
    path = resolve_module(spec.library, pid if pid and pid > 0 else None)
    if not path or not os.path.exists(path):
        raise SpecError(f"unable to find library {spec.library}")
    return path


def attach_probe(tool, prog_name, spec, pid=-1):
    """Attach one generated probe function where its specifier says."""
    if spec.probe_type == "t":
        return tool.attach(prog_name)
    if spec.probe_type == "u":
        provider, name = spec.usdt_probe
        return attach_usdt_probe(tool, prog_name, spec.library or pid, provider, name, pid)
    if spec.is_user:
        path = user_target(spec, pid)
        target = f"{path}:{spec.function}" + (f"+{spec.offset}" if spec.offset else "")
        return tool.attach(prog_name, target, pid=pid if pid and pid > 0 else -1)
    if not features.has_kprobes():
        raise NotSupportedError(
            f"{spec.raw}: kernel functions need kprobes, and this kernel has none "
            f"(CONFIG_KPROBES off); they work where kprobes exist", feature="kprobe",
            alternative="a tracepoint: t:CATEGORY:EVENT (see /sys/kernel/tracing/events), "
                        "e.g. 't:syscalls:sys_enter_openat \"%s\", args->filename'")
    target = spec.function + (f"+{spec.offset}" if spec.offset else "")
    return tool.attach(prog_name, target)


def attach_usdt_probe(tool, prog_name, target, provider, name, pid=-1):
    """Attach a program to USDT probe [provider:]name of ``target`` (a binary
    or library path or name, or a pid); ``pid`` > 0: only in that process."""
    from ... import usdt
    if not target or (isinstance(target, int) and target <= 0):
        raise SpecError(f"USDT probe {name}: give its binary or library (u:LIB:PROBE) or -p PID")
    try:
        link = usdt.attach_usdt(tool.coll, prog_name, target, provider, name,
                                pid=pid if pid and pid > 0 else -1)
    except AttachError as e:
        raise SpecError(str(e)) from None
    tool.links.append(link)
    tool.mechanisms.append(link.description)
    if os.environ.get("PYBCC_DEBUG"):
        print(f"pybcc: attached {link.description}", file=sys.stderr)
    return link
