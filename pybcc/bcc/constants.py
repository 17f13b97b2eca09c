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


class PerfEventSampleFormat:
    """perf_event_sample_format bits (uapi/linux/perf_event.h)."""
    (IP, TID, TIME, ADDR, READ, CALLCHAIN, ID, CPU, PERIOD, STREAM_ID, RAW, BRANCH_STACK,
     REGS_USER, STACK_USER, WEIGHT, DATA_SRC, IDENTIFIER, TRANSACTION, REGS_INTR, PHYS_ADDR,
     AUX, CGROUP, DATA_PAGE_SIZE, CODE_PAGE_SIZE, WEIGHT_STRUCT) = (1 << n for n in range(25))


class XDPAction:
    """xdp_action (uapi/linux/bpf.h)."""
    XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = range(5)


class XDPFlags:
    """XDP_FLAGS_* (uapi/linux/if_link.h)."""
    UPDATE_IF_NOEXIST, SKB_MODE, DRV_MODE, HW_MODE, REPLACE = (1 << n for n in range(5))
