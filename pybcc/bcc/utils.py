"""bcc.utils: small helpers bcc scripts import."""
import os
import sys

from ..kernel.cpus import online_cpus, possible_cpus
from .text import as_str


def get_online_cpus():
    return list(online_cpus())


def get_possible_cpus():
    return list(possible_cpus())


def detect_language(candidates, pid):
    """The language of process ``pid`` among ``candidates`` ("java",
    "node", "perl", "php", "python", "ruby"), from its executable and
    libraries, or None."""
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return None
    for lang in candidates:
        if exe.startswith(lang):
            return lang
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
    except OSError:
        return None
    for lang in candidates:
        if f"lib{lang}" in maps:
            return lang
    return None


FILESYSTEMENCODING = sys.getfilesystemencoding()


def printb(s, file=sys.stdout, nl=1):
    """Print bytes (or str) as they are, with a newline unless nl=0."""
    if isinstance(s, str):
        s = s.encode(FILESYSTEMENCODING, "surrogateescape")
    buf = getattr(file, "buffer", None)
    if buf is None:
        file.write(s.decode(FILESYSTEMENCODING, "replace") + ("\n" if nl else ""))
        file.flush()
        return
    file.flush()
    buf.write(s)
    if nl:
        buf.write(b"\n")
    file.flush()


class ArgString:
    """argparse type= for arguments bcc tools pass on as bytes."""

    def __init__(self, s):
        self.s = as_str(s)

    def __bytes__(self):
        return self.s.encode(FILESYSTEMENCODING, "surrogateescape")

    def __str__(self):
        return self.s


def warn_with_traceback(message, category, filename, lineno, file=None, line=None):
    import traceback
    import warnings
    log = file if hasattr(file, "write") else sys.stderr
    traceback.print_stack(f=sys._getframe(2), file=log)
    log.write(warnings.formatwarning(message, category, filename, lineno, line))


def _assert_is_bytes(arg):
    if arg is None:
        return arg
    if isinstance(arg, str):
        return arg.encode(FILESYSTEMENCODING, "surrogateescape")
    return arg


__all__ = ["get_online_cpus", "get_possible_cpus", "detect_language", "printb", "ArgString",
           "warn_with_traceback", "FILESYSTEMENCODING"]
