"""#if/#ifdef decided by the preprocessor, before tables and programs are collected.

bcc programs keep variants under #if (a table or probe that exists only for
some kernels or flags). The rewriter reads the text itself, so it must not
see what the preprocessor would drop: ppchcalls declares a table in both
branches of an #ifdef, syscount and ucalls keep probes under #ifdef.

clang decides: a copy of the text with a marker after every #if/#ifdef/
#ifndef/#elif/#else line is preprocessed with the same header and flags as
the real compile; a branch whose marker survives is taken. The code of the
branches not taken is blanked (line breaks kept); directives stay, so the
real compile still sees them.
"""
import logging
import os
import re
import subprocess

from .lexer import tokenize

log = logging.getLogger("pybcc.bcc.dialect")
_OPEN = re.compile(r"\s*#\s*(if|ifdef|ifndef)\b")
_BRANCH = re.compile(r"\s*#\s*(elif|else|elifdef|elifndef)\b")
_CLOSE = re.compile(r"\s*#\s*endif\b")
_MARKER = "__pybcc_branch_%d"


def _branches(toks):
    """[branch id or None] per token (None: outside any conditional) and the
    number of branches. A token belongs to the innermost branch around it."""
    owner, stack, count = [], [], 0
    for t in toks:
        if t.kind == "pp" and _OPEN.match(t.text):
            owner.append(stack[-1] if stack else None)
            stack.append(count)
            count += 1
        elif t.kind == "pp" and _BRANCH.match(t.text) and stack:
            owner.append(stack[-1])
            stack[-1] = count
            count += 1
        elif t.kind == "pp" and _CLOSE.match(t.text) and stack:
            stack.pop()
            owner.append(stack[-1] if stack else None)
        else:
            owner.append(stack[-1] if stack else None)
    return owner, count


def taken_branches(text, prelude, cflags, include_dirs, blank_pp):
    """The ids of the branches the preprocessor takes; None if it cannot tell."""
    toks = tokenize(text)
    out = []
    n = 0
    for t in toks:
        if t.kind == "pp" and blank_pp(t):
            out.append("\n" * t.text.count("\n"))
            continue
        out.append(t.text)
        if t.kind == "pp" and (_OPEN.match(t.text) or _BRANCH.match(t.text)):
            out.append(f"\n{_MARKER % n};")
            n += 1
    if not n:
        return set()
    from ...compiler.discover import cache_tmpdir
    from . import implicit
    source = prelude + "\n" + "".join(out)
    comp, _, flags = implicit._setup(cflags, source)
    with cache_tmpdir() as tmp:
        src = os.path.join(tmp, "conditionals.c")
        with open(src, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(source)
        incs = [a for d in include_dirs for a in ("-I", d)]
        env = dict(os.environ, **dict(comp.env)) if comp.env else None
        r = subprocess.run([*comp.argv, *flags, *incs, "-E", "-P", src], capture_output=True,
                           text=True, errors="replace", env=env, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        log.debug("preprocessing for #if failed: %s", r.stderr[-1000:])
        return None
    return {int(m) for m in re.findall(r"\b__pybcc_branch_(\d+);", r.stdout)}


def drop_untaken(text, prelude, cflags, include_dirs, blank_pp):
    """``text`` with the code of the branches not taken blanked (same lines)."""
    if not re.search(r"^\s*#\s*if", text, re.M):
        return text
    taken = taken_branches(text, prelude, cflags, include_dirs, blank_pp)
    if taken is None:
        return text
    toks = tokenize(text)
    owner, _ = _branches(toks)
    out = []
    for t, b in zip(toks, owner):
        if b is not None and b not in taken and t.kind != "pp":
            out.append(re.sub(r"[^\n]", " ", t.text))
        else:
            out.append(t.text)
    return "".join(out)
