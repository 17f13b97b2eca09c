"""bcc.utils: small helpers bcc scripts import."""
import os
import re
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


class StrcmpRewrite:
    """STRCMP("literal", expr) in trace/argdist filter expressions → a call
    of a generated function comparing the string at expr with the literal."""

    @staticmethod
    def _generate_streq_function(string, probe_read_func, streq_functions, probeid):
        fname = "streq_%d" % probeid
        streq_functions += f"""
static inline bool {fname}(char const *unused, uintptr_t addr) {{
    char want[] = {string};
    char got[sizeof(want)];
    {probe_read_func}(&got, sizeof(got), (void *)addr);
    for (int i = 0; i < sizeof(want) - 1; ++i)
        if (want[i] != got[i])
            return false;
    return true;
}}
"""
        return fname, streq_functions

    @staticmethod
    def rewrite_expr(expr, bin_cmp, is_user, probe_user_list, streq_functions, probeid):
        """{"expr", "streq_functions", "probeid"} after rewriting each
        STRCMP("s", arg) of ``expr``; user memory (``is_user`` or an arg in
        ``probe_user_list``) is read with bpf_probe_read_user."""
        pattern = r'STRCMP\("([^"]+)",(.+?)\)' if bin_cmp else r'STRCMP\(("[^"]+"),(.+?)\)'
        for m in re.finditer(pattern, expr):
            user = is_user or m.group(2).strip() in probe_user_list
            reader = "bpf_probe_read_user" if user else "bpf_probe_read"
            fname, streq_functions = StrcmpRewrite._generate_streq_function(
                m.group(1), reader, streq_functions, probeid)
            probeid += 1
            expr = expr.replace("STRCMP", fname, 1)
        return {"expr": expr, "streq_functions": streq_functions, "probeid": probeid}


__all__ = ["StrcmpRewrite", "get_online_cpus", "get_possible_cpus", "detect_language", "printb", "ArgString",
           "warn_with_traceback", "FILESYSTEMENCODING"]
