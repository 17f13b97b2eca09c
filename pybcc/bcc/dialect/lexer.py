"""A small C tokenizer that keeps every character (joining the tokens gives
the text back), so rewrites can splice text without losing line numbers."""
from __future__ import annotations

import re

from ...record import record

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+|\\\n|\n)
  | (?P<comment>//(?:[^\n\\]|\\.)*|/\*.*?\*/)
  | (?P<string>(?:L|u8|u|U)?"(?:[^"\\\n]|\\.)*")
  | (?P<char>(?:L|u8|u|U)?'(?:[^'\\\n]|\\.)*')
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[0-9a-zA-Z_.])*)
  | (?P<ident>[A-Za-z_$][A-Za-z_0-9$]*)
  | (?P<punct>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!=<>]=|\.\.\.|\#\#|.)
""", re.S | re.X)


@record
class Token:
    kind: str     # ws, comment, string, char, number, ident, punct, pp
    text: str
    pos: int      # offset in the text
    line: int     # 1-based line of the first character

    def is_(self, text):
        return self.text == text and self.kind in ("punct", "ident")


def tokenize(text, line=1, line_start=True):
    """All tokens of text. A preprocessor directive (from '#' at the start of a
    line to its unescaped end) is one 'pp' token."""
    toks = []
    pos, n = 0, len(text)
    at_line_start = line_start
    while pos < n:
        if at_line_start:
            m = re.match(r"[ \t]*#", text[pos:pos + 256])
            if m:
                end = pos
                while True:
                    nl = text.find("\n", end)
                    if nl < 0:
                        end = n
                        break
                    # a directive continues over backslash-newlines and block comments
                    chunk = text[pos:nl]
                    if chunk.endswith("\\") or chunk.count("/*") > chunk.count("*/"):
                        end = nl + 1
                        continue
                    end = nl
                    break
                t = text[pos:end]
                toks.append(Token("pp", t, pos, line))
                line += t.count("\n")
                pos = end
                at_line_start = False
                continue
        m = _TOKEN.match(text, pos)
        kind = m.lastgroup
        t = m.group(kind)
        toks.append(Token(kind, t, pos, line))
        nls = t.count("\n")
        line += nls
        at_line_start = t == "\n"
        pos = m.end()
    return toks


def significant(toks, i, step=1):
    """Index of the next token from i (inclusive) that is not whitespace or a comment."""
    n = len(toks)
    while 0 <= i < n and toks[i].kind in ("ws", "comment"):
        i += step
    return i


def match_paren(toks, i):
    """toks[i] is an opening bracket; return the index of its partner."""
    return _partner(toks, range(i, len(toks)), OPENERS, CLOSERS)


def match_paren_back(toks, j):
    """toks[j] is a closing bracket; return the index of its partner."""
    return _partner(toks, range(j, -1, -1), CLOSERS, OPENERS)


OPENERS, CLOSERS = ("(", "[", "{"), (")", "]", "}")


def _partner(toks, indices, entering, leaving):
    """Walk toks at ``indices`` (from a bracket, either way), a level deeper
    at each ``entering`` bracket and back at its ``leaving`` partner; the
    index where the walk is back at level 0, or -1 for unbalanced text."""
    stack = []
    for k in indices:
        t = toks[k]
        if t.kind != "punct":
            continue
        if t.text in entering:
            stack.append(leaving[entering.index(t.text)])
        elif t.text in leaving:
            if not stack or stack.pop() != t.text:
                return -1
            if not stack:
                return k
    return -1


def split_args(toks, lo, hi):
    """Split toks[lo:hi] at top-level commas: list of (start, end) index pairs."""
    out, depth, start = [], 0, lo
    for j in range(lo, hi):
        t = toks[j]
        if t.kind != "punct":
            continue
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth -= 1
        elif t.text == "," and depth == 0:
            out.append((start, j))
            start = j + 1
    if start < hi or out:
        out.append((start, hi))
    return out


def text_of(toks, lo, hi):
    return "".join(t.text for t in toks[lo:hi])
