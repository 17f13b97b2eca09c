"""The compiler's messages about rewritten C, told in the user's own text.

The rewrite keeps line numbers (the prelude ends with #line 1), but within a
line it inserts text (a section attribute, map helper calls, register
reads), so clang's column and the source line it echoes are those of the
rewritten line. Each diagnostic on the user's file gets the user's line
echoed, and its column and caret moved to the matching place in it.
"""
import difflib
import re

_DIAG = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<rest>(?:fatal )?"
                   r"(?:error|warning|note): .*)$")


def _user_column(rewritten, user, col):
    """1-based column in ``user`` of 1-based column ``col`` of ``rewritten``."""
    i = col - 1
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, rewritten, user,
                                                        autojunk=False).get_opcodes():
        if i1 <= i < i2 or (i == i2 == len(rewritten)):
            return (j1 + (i - i1) if tag == "equal" else j1) + 1
    return min(col, len(user) + 1)


def in_user_text(output, filename, compiled_lines, user_lines):
    """``output`` (clang's diagnostics) with positions and echoed lines of
    ``filename`` mapped from the compiled body onto the user's lines (both
    lists of lines, 1-based line L at index L - 1)."""
    lines = output.splitlines()
    out, k = [], 0
    while k < len(lines):
        m = _DIAG.match(lines[k])
        n = int(m.group("line")) if m else 0
        if not m or m.group("file") != filename or not (0 < n <= min(len(compiled_lines),
                                                                     len(user_lines))):
            out.append(lines[k])
            k += 1
            continue
        rewritten, user = compiled_lines[n - 1], user_lines[n - 1]
        col = _user_column(rewritten, user, int(m.group("col")))
        out.append(f"{m.group('file')}:{n}:{col}: {m.group('rest')}")
        k += 1
        if k < len(lines) and lines[k] == rewritten:
            out.append(user)
            k += 1
            if k < len(lines) and lines[k].strip().startswith(("^", "~")):
                out.append(" " * (col - 1) + "^")
                k += 1
    return "\n".join(out)


def types_not_in_kernel(output, kernel_records):
    """"struct X" named by clang as incomplete or unknown that the kernel's
    BTF does not have either (so no header would help)."""
    if kernel_records is None:
        return []
    found = re.findall(r"(?:incomplete definition of type|incomplete type) '(struct|union) (\w+)'",
                       output)
    return sorted({f"{kind} {name}" for kind, name in found if name not in kernel_records
                   and "__kernel_" + name not in kernel_records})
