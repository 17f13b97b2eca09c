"""The compiler layer: BPF C text -> ELF object, through a cache.

    from pybcc.compiler import compile
    obj = compile(open("prog.bpf.c").read(), filename="prog.bpf.c")

The compiler is the system clang (or $CC), else the clang inside the
`ziglang` wheel; see discover.py. pybcc's own libbpf-compatible headers
(<bpf/bpf_helpers.h>, <bpf/bpf_tracing.h>, <bpf/bpf_core_read.h>,
<bpf/bpf_endian.h>) are always on the include path, and so is the
running kernel's vmlinux.h.
"""
from .build import (ProgramTypes, base_flags, compile, headers_digest, include_dir,  # noqa: F401
                    line_mapper, target_arch, vmlinux_dir)
from .cache import cache_root  # noqa: F401
from .discover import (Compiler, find_compiler, system_clang,  # noqa: F401
                       ziglang_compiler)
