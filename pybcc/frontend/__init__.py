"""The bcc C dialect front end.

    from pybcc.frontend import rewrite
    r = rewrite(text, filename="<text>", cflags=())
    obj = pybcc.compiler.compile(r.c_text, cflags, filename=r.filename, line_map=r.line_map)

``r.tables`` (name → TableDecl), ``r.functions`` (programs, each in ELF
section ".bpf.fn.NAME"), ``r.auto_attach`` ((function, kind, target) from
bcc's naming conventions and probe macros) and ``r.perf_submits`` (perf /
ring buffer table → C type of its records, kept in the object's BTF) tell
the BPF facade what to create, load and attach.
"""
from .rewriter import HEADER, INCLUDE_DIR, Rewritten, check_printk_format, rewrite  # noqa: F401
from .tables import TableDecl  # noqa: F401
