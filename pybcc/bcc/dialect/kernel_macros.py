"""Macros of the running kernel that BTF does not carry but bcc programs use
from kernel headers: the kernel's CONFIG_* options (as autoconf.h gives
them) and sizes that vary between kernels, read from the kernel's BTF.
The constant ones live in include/pybcc_bcc.h."""
import functools


def _btf_array_size(btf, bt, struct, member, inner=None):
    """Elements of array ``struct.member`` (or of ``member.inner`` when the
    member is a union or struct holding the array), or None."""
    for t in btf.find_all(struct, (bt.STRUCT, bt.UNION)):
        for m in t.members:
            if m.name != member:
                continue
            mt = btf.strip(m.type)
            if inner and mt.kind in (bt.STRUCT, bt.UNION):
                mt = next((btf.strip(x.type) for x in mt.members if x.name == inner), None)
            if mt is not None and mt.kind == bt.ARRAY:
                return mt.nelems
    return None


@functools.lru_cache(maxsize=None)
def defines():
    """#define lines for the running kernel (one string)."""
    out = []
    try:
        from ...kernel.kconfig import kconfig_values
        for name, value in kconfig_values().items():
            if value == "y":
                out.append(f"#define {name} 1")
            elif value == "m":
                out.append(f"#define {name}_MODULE 1")
            elif value and value != "n":
                out.append(f"#define {name} {value}")
    except Exception:   # no config: programs see no CONFIG_ macros, as without headers
        pass
    try:
        from ...btf import BTF
        from ...btf import types as bt
        btf = BTF.kernel()
        sizes = {"DNAME_INLINE_LEN": _btf_array_size(btf, bt, "dentry", "d_iname") or
                 _btf_array_size(btf, bt, "dentry", "d_shortname", "string"),
                 "TASK_COMM_LEN": _btf_array_size(btf, bt, "task_struct", "comm")}
        for name, value in sizes.items():
            if value:
                out.append(f"#undef {name}\n#define {name} {value}")
    except Exception:
        pass
    return "\n".join(out)
