"""Turn a verifier log into one line that names the instruction and the C line."""
import re

_INSN = re.compile(r"^(\d+): \((\w\w)\) (.*)$")
_NOISE = re.compile(r"^(processed \d+ insns|verification time|stack depth|mark_precise|"
                    r"last_idx|regs=|parent didn't|from \d+ to \d+|; |\d+: R\d|\s*$|"
                    r"func#|Validating|\d+: \(\w\w\).*;|Func#)")


def rejected_insn(log):
    """(index, text) of the last instruction the verifier looked at, or (None, "")."""
    idx, text = None, ""
    for line in log.splitlines():
        m = _INSN.match(line)
        if m:
            idx, text = int(m.group(1)), m.group(3).split(" ; ")[0].strip()
    return idx, text


def reason(log):
    """The verifier's own words about why it refused (the last meaningful line)."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    for line in reversed(lines):
        if _INSN.match(line) or _NOISE.match(line):
            continue
        return line
    return lines[-1] if lines else ""


def display_name(path):
    """A file name as the user knows it: clang prefixes pseudo-files such as
    "<text>" (BPF(text=...)) with its working directory; drop that."""
    i = path.find("/<")
    return path[i + 1:] if i >= 0 and path.endswith(">") else path


def source_of(line_info, insn_idx):
    """The LineInfo whose range holds ``insn_idx`` (records sorted by insn)."""
    best = None
    for rec in line_info:
        if rec.insn <= insn_idx:
            best = rec
        else:
            break
    return best


def explain(prog_name, section, log, line_info):
    """(headline, insn index, source record) for a rejected program."""
    idx, text = rejected_insn(log)
    why = reason(log) or "rejected"
    head = f"program {prog_name} ({section}): verifier rejected it"
    rec = source_of(line_info, idx) if idx is not None else None
    if idx is not None:
        head += f" at instruction {idx} ({text})"
    head += f": {why}"
    if rec is not None:
        head += f"\n  at {display_name(rec.file)}:{rec.line}: {rec.text.strip()}"
    return head, idx, rec
