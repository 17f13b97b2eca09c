"""Constants of bcc's Python API: program types, perf event types and
configs, XDP actions and flags, debug flags (values are the kernel's UAPI)."""


from ..kernel import uapi


def _names(cls_name, items):
    """A class of integer constants, as bcc's constant classes are."""
    return type(cls_name, (), dict(items))


def _prefixed(prefix):
    return [(k[len(prefix):], v) for k, v in vars(uapi).items() if k.startswith(prefix)]


BPFProgType = _names("BPFProgType", ((m.name, int(m)) for m in uapi.ProgType if m.name != "UNSPEC"))
BPFAttachType = _names("BPFAttachType", ((m.name, int(m)) for m in uapi.AttachType))
PerfType = _names("PerfType", _prefixed("PERF_TYPE_"))
PerfHWConfig = _names("PerfHWConfig", _prefixed("PERF_COUNT_HW_"))
PerfSWConfig = _names("PerfSWConfig", _prefixed("PERF_COUNT_SW_"))


# BPF(debug=...) flags. pybcc honours DEBUG_SOURCE and DEBUG_PREPROCESSOR
# (print the C given to the compiler) and DEBUG_BPF (keep verifier logs).
DEBUG_LLVM_IR = 0x1
DEBUG_BPF = 0x2
DEBUG_PREPROCESSOR = 0x4
DEBUG_SOURCE = 0x8
DEBUG_BPF_REGISTER_STATE = 0x10
DEBUG_BTF = 0x20

# Map types, as bcc.table names them (BPF_MAP_TYPE_HASH, ...).
globals().update({f"BPF_MAP_TYPE_{m.name}": int(m) for m in uapi.MapType if m.name != "UNSPEC"})

# Update flags.
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2
