"""Structs a program declares itself that the kernel's BTF (vmlinux.h) also has.

bcc programs see only the kernel headers they include, so they declare
structs the headers keep private (struct nameidata, struct mnt_namespace),
or a struct of their own that happens to share a kernel name. With vmlinux.h
included, each is a redefinition. Per struct, by its members:

- a copy of the kernel's struct (at least half of its members are members of
  the kernel's): its body is dropped, and the kernel's definition, with this
  kernel's offsets, is used (``struct X {...} v;`` -> ``struct X v;``);
- the program's own struct (mostly members the kernel's does not have, like
  test_clang's ``struct sock { u32 *sk_daddr; }``): it wins. Every
  ``struct X`` of the program is renamed ``struct __pybcc_own_X``, and its
  member names that pybcc's header defines as kernel member aliases
  (sk_daddr, ...) are #undef'd, as they would not exist without the kernel's
  header. Pointers to it are still kernel memory (implicit reads).

Line breaks are kept, so the user's line numbers stay.
"""
import functools
import re

from .lexer import match_paren, significant, tokenize

OWN_PREFIX = "__pybcc_own_"


def resolve(text, kernel_records, header):
    """-> (text, [macro names to #undef before the program])."""
    if not kernel_records or not re.search(r"\b(?:struct|union)\s+\w+\s*\{", text):
        return text, []
    toks = tokenize(text)
    drops, own, undefs = [], set(), set()
    depth = 0
    for i, t in enumerate(toks):
        if t.kind != "punct" and t.kind != "ident":
            continue
        if t.is_("{"):
            depth += 1
        elif t.is_("}"):
            depth -= 1
        elif depth == 0 and t.text in ("struct", "union"):
            n = significant(toks, i + 1, 1)
            b = significant(toks, n + 1, 1)     # past the end when the text ends early
            if b >= len(toks) or toks[n].kind != "ident" or not toks[b].is_("{") or \
                    toks[n].text not in kernel_records:
                continue
            end = match_paren(toks, b)
            if end < 0:
                continue
            name = toks[n].text
            mine = _members(toks[b + 1:end])
            theirs = _kernel_members(t.text, name)
            if mine and 2 * len(mine & theirs) < len(mine):
                own.add(name)
                undefs |= mine & _header_aliases(header)
            else:
                drops.append((b, end))
    if not drops and not own:
        return text, []
    dropped = {k for b, e in drops for k in range(b, e + 1)}
    out = []
    for k, t in enumerate(toks):
        if k in dropped:
            out.append("\n" * t.text.count("\n"))
        elif t.kind == "ident" and t.text in own and k > 0:
            p = significant(toks, k - 1, -1)
            out.append(OWN_PREFIX + t.text if p >= 0 and toks[p].text in ("struct", "union")
                       else t.text)
        else:
            out.append(t.text)
    return "".join(out), sorted(undefs)


def _members(toks):
    """Member names declared in a struct body (members of nested anonymous
    structs and unions count, as C lets you name them directly)."""
    names, decl, depth = set(), [], 0
    for t in toks:
        if t.kind in ("ws", "comment", "pp"):
            continue
        if t.is_("{"):
            depth += 1
        elif t.is_("}"):
            depth -= 1
        if t.is_(";") and depth == 0:
            names |= _declared(decl)
            decl = []
        else:
            decl.append(t)
    return names


def _declared(decl):
    """Names one member declaration (its tokens) declares."""
    opens = [k for k, t in enumerate(decl) if t.is_("{")]
    if opens:              # a nested struct: its members, and its own name if any
        end = match_paren(decl, opens[0])
        tail = [t.text for t in decl[end + 1:]] if end > 0 else []
        names = _members(decl[opens[0] + 1:end]) if end > 0 else set()
        return names | _declared_names(" ".join(tail))
    return _declared_names(" ".join(t.text for t in decl))


def _declared_names(text):
    names = set()
    for part in re.sub(r"\[[^\]]*\]", "", text).split(","):
        part = re.sub(r":\s*\w+\s*$", "", part.strip())
        m = re.search(r"\(\s*\*\s*(\w+)\s*\)", part) or re.search(r"(\w+)\s*$", part)
        if m and m.group(1) not in ("struct", "union", "enum"):
            names.add(m.group(1))
    return names


def _kernel_members(kind, name):
    """Member names of the kernel's ``kind name`` (from its BTF)."""
    from ...compiler import kernel_types
    body = kernel_types.kernel().record_body(kind, name)
    return _members(tokenize(body)) if body else set()


@functools.lru_cache(maxsize=2)
def _read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


@functools.lru_cache(maxsize=2)
def _header_aliases(header):
    """Object-like macros of pybcc's header named like members (sk_daddr ->
    __sk_common.skc_daddr): lower-case names defined as a member path."""
    try:
        text = _read(header)
    except OSError:
        return frozenset()
    return frozenset(re.findall(r"^#define ([a-z_]\w*)[ \t]+[\w.]+\.[\w.]+\s*$", text, re.M))
