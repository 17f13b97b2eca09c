"""BTF-typed raw tracepoints (tp_btf): TRACING programs loaded with
expected_attach_type TRACE_RAW_TP and attach_btf_id = typedef btf_trace_NAME
(tracing.btf_target("tp_btf", NAME) gives both)."""
from .tracing import attach_btf_program


def attach_tp_btf(prog_fd, name="", cookie=0):
    """Attach a loaded tp_btf program; ``name`` is for messages."""
    if ":" in name:
        name = name.split(":", 1)[1]
    return attach_btf_program(prog_fd, "tp_btf", name, cookie)
