"""The bcc C dialect front end: a bcc program (BPF(text=...)) → plain C.

    from pybcc.bcc.dialect import rewrite
    r = rewrite(text, filename="<text>", cflags=())
    obj = pybcc.compiler.compile(r.c_text, cflags, filename=r.filename, line_map=r.line_map)

``r.tables`` (name → TableDecl), ``r.functions`` (programs, each in ELF
section ".bpf.fn.NAME", or in its own SEC() for libbpf-style C),
``r.auto_attach`` ((function, kind, target) from bcc's naming conventions,
probe macros and SEC() names) and ``r.perf_submits`` (perf / ring buffer
table → C type of its records, kept in the object's BTF) tell the BPF facade
what to create, load and attach. Dialect errors raise CompileError naming the
user's line; the prelude ends with #line 1, so the compiler's own messages
and BTF line info name the user's lines too.

Modules: lexer (tokens that keep every character), tables (map macros →
BTF-defined maps), tracepoints (argument structs from tracefs formats),
implicit (kernel reads found in clang's AST), packets (bcc's packet
headers: field accesses → packet loads and stores, from clang's AST),
redefinitions (a program's own copies of structs vmlinux.h has), rewriter
(the rest, and the on-disk cache of results). Headers: include/pybcc_bcc.h,
include/pybcc_packet.h, include/bcc/proto.h.
"""
from .rewriter import HEADER, INCLUDE_DIR, Rewritten, printk_warnings, rewrite  # noqa: F401
from .tables import TableDecl  # noqa: F401
