"""bcc.perf: perf_event_open(2) for scripts that open perf events themselves.

    attr = Perf.perf_event_attr()          # the kernel's struct, with bcc's names
    attr.type, attr.config = PerfType.SOFTWARE, PerfSWConfig.TASK_CLOCK
    attr.sample_period = 1000000
    b.attach_perf_event_raw(attr=attr, fn_name=b"on_event", pid=os.getpid())

    Perf.perf_event_open(tracepoint_id)    # enable a tracepoint on every CPU
                                           # (filtered so that it records nothing)

The events opened by Perf.perf_event_open stay open for the life of the
process, as in bcc.
"""
import ctypes as ct
import struct

from ..errors import BPFError
from ..kernel import bpf
from ..kernel.cpus import online_cpus

# The attr's flag word, bit by bit from bit 0 (include/uapi/linux/perf_event.h);
# precise_ip is two bits wide.
_FLAG_BITS = ("disabled inherit pinned exclusive exclude_user exclude_kernel exclude_hv "
              "exclude_idle mmap comm freq inherit_stat enable_on_exec task watermark "
              "precise_ip mmap_data sample_id_all exclude_host exclude_guest "
              "exclude_callchain_kernel exclude_callchain_user mmap2 comm_exec use_clockid "
              "context_switch write_backward namespaces ksymbol bpf_event aux_output cgroup "
              "text_poke").split()


def _union(*names, ctype=ct.c_uint64):
    return type("_" + names[0], (ct.Union,), {"_fields_": [(n, ctype) for n in names]})


class _Attr(ct.Structure):
    _anonymous_ = ("_period", "_wakeup", "_config1", "_config2")
    _fields_ = ([("type", ct.c_uint32), ("size", ct.c_uint32), ("config", ct.c_uint64),
                 ("_period", _union("sample_period", "sample_freq")),
                 ("sample_type", ct.c_uint64), ("read_format", ct.c_uint64)]
                + [(n, ct.c_uint32, 2 if n == "precise_ip" else 1) for n in _FLAG_BITS]
                + [("__reserved_1", ct.c_uint32, 30),
                   ("_wakeup", _union("wakeup_events", "wakeup_watermark", ctype=ct.c_uint32)),
                   ("bp_type", ct.c_uint32),
                   ("_config1", _union("bp_addr", "kprobe_func", "uprobe_path", "config1")),
                   ("_config2", _union("bp_len", "kprobe_addr", "probe_offset", "config2")),
                   ("branch_sample_type", ct.c_uint64), ("sample_regs_user", ct.c_uint64),
                   ("sample_stack_user", ct.c_uint32), ("clockid", ct.c_int32),
                   ("sample_regs_intr", ct.c_uint64), ("aux_watermark", ct.c_uint32),
                   ("sample_max_stack", ct.c_uint16), ("__reserved_2", ct.c_uint16),
                   ("aux_sample_size", ct.c_uint32), ("__reserved_3", ct.c_uint32)])

    def __init__(self):
        super().__init__()
        self.size = 120          # PERF_ATTR_SIZE_VER6, what bcc passes

    def __setattr__(self, name, value):
        # bcc warns, rather than failing, when a script sets a name the struct lacks
        if not hasattr(type(self), name):
            print(f"Warning: Setting field {name} on perf_event_attr that isn't part of "
                  f"the ctype - {name} won't make it to perf_event_open")
        super().__setattr__(name, value)


# Offsets pybcc's perf_event_open knows by name: the first 80 bytes of the attr.
_NAMED = (("type", 0, "I"), ("size", 4, "I"), ("config", 8, "Q"), ("sample_period", 16, "Q"),
          ("sample_type", 24, "Q"), ("read_format", 32, "Q"), ("flags", 40, "Q"),
          ("wakeup_events", 48, "I"), ("bp_type", 52, "I"), ("config1", 56, "Q"),
          ("config2", 64, "Q"), ("branch_sample_type", 72, "Q"))


def open_attr(attr, pid=-1, cpu=-1, group_fd=-1, what=None):
    """perf_event_open(2) of a Perf.perf_event_attr; returns the fd."""
    raw = ct.string_at(ct.addressof(attr), ct.sizeof(attr))
    if raw[80:].strip(b"\0"):
        raise ValueError("perf_event_attr: fields after branch_sample_type (sample_regs_user, "
                         "clockid, aux_*) are not supported by pybcc")
    fields = {name: struct.unpack_from("<" + fmt, raw, off)[0] for name, off, fmt in _NAMED}
    fields["size"] = bpf.PERF_ATTR_SIZE
    return bpf.perf_event_open(pid=pid, cpu=cpu, group_fd=group_fd,
                               what=what or f"perf_event_open(type={attr.type}, "
                                            f"config={attr.config})", **fields)


class Perf:
    perf_event_attr = _Attr

    NR_PERF_EVENT_OPEN = 298            # x86_64 (bcc's constant; pybcc picks the arch's own)
    PERF_TYPE_HARDWARE = 0
    PERF_TYPE_SOFTWARE = 1
    PERF_TYPE_TRACEPOINT = 2
    PERF_TYPE_HW_CACHE = 3
    PERF_SAMPLE_RAW = 1 << 10
    PERF_FLAG_FD_CLOEXEC = 8
    PERF_EVENT_IOC_SET_FILTER = 0x40082406
    PERF_EVENT_IOC_ENABLE = 0x2400

    _open_fds = []                      # kept open until the process exits, as bcc does

    @staticmethod
    def _open_for_cpu(cpu, attr, pid=-1):
        try:
            fd = open_attr(attr, pid, cpu)
        except BPFError as e:
            raise OSError(e.errno, str(e)) from None
        Perf._open_fds.append(fd)
        try:
            if attr.type == Perf.PERF_TYPE_TRACEPOINT:
                # a filter that matches no process: enabled, yet records nothing
                flt = ct.create_string_buffer(b"common_pid == -17")
                bpf.ioctl(fd, Perf.PERF_EVENT_IOC_SET_FILTER, ct.addressof(flt))
            bpf.ioctl(fd, Perf.PERF_EVENT_IOC_ENABLE, 0)
        except BPFError as e:
            raise OSError(e.errno, str(e)) from None
        return fd

    @staticmethod
    def perf_event_open(tpoint_id, pid=-1, ptype=PERF_TYPE_TRACEPOINT, freq=0):
        """Open and enable event (ptype, tpoint_id) on every online CPU; returns the fds."""
        attr = Perf.perf_event_attr()
        attr.config, attr.type = tpoint_id, ptype
        attr.sample_type = Perf.PERF_SAMPLE_RAW
        if freq > 0:
            attr.freq, attr.sample_freq = 1, freq
        else:
            attr.sample_period = 1
        attr.wakeup_events = 9999999        # never wake a reader: nobody reads these
        return [Perf._open_for_cpu(cpu, attr, pid) for cpu in online_cpus()]

    @staticmethod
    def perf_custom_event_open(attr, pid=-1):
        return [Perf._open_for_cpu(cpu, attr, pid) for cpu in online_cpus()]
