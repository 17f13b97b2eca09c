"""bpf(2), perf_event_open(2) and ioctl(2) through ctypes.

This module holds no policy: each function fills one attribute layout, calls
the kernel and returns what it returned, raising BPFError (with errno) when it
failed. Callers turn that into a message about their own object.

Attribute layouts are written as {field: (offset, struct format)} tables so
that each one reads like the C union member it mirrors.
"""
import ctypes
import os
import struct

from ..errors import BPFError
from . import memlock
from .uapi import PERF_FLAG_FD_CLOEXEC, Cmd

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

_NR = {
    "x86_64": {"bpf": 321, "perf_event_open": 298},
    "aarch64": {"bpf": 280, "perf_event_open": 241},
}[os.uname().machine]

# Larger than any kernel's union bpf_attr; the kernel accepts a larger size as
# long as the bytes it does not know are zero, which they are.
_ATTR_SIZE = 160


def addr(buf):
    """Address of a ctypes buffer (0 for None), for pointer fields."""
    return 0 if buf is None else ctypes.addressof(buf)


def _pack(layout, fields):
    buf = ctypes.create_string_buffer(_ATTR_SIZE)
    for name, value in fields.items():
        if value is None:
            continue
        off, fmt = layout[name]
        if fmt.endswith("s"):
            value = value.encode() if isinstance(value, str) else value
        struct.pack_into("<" + fmt, buf, off, value)
    return buf


def _unpack(layout, buf, name):
    off, fmt = layout[name]
    return struct.unpack_from("<" + fmt, buf, off)[0]


def bpf(cmd, attr, what=None):
    """Raw bpf(2). Returns the result; raises BPFError(errno) on failure."""
    ret = _libc.syscall(_NR["bpf"], int(cmd), attr, _ATTR_SIZE)
    if ret < 0:
        err = ctypes.get_errno()
        raise BPFError(what or f"bpf({Cmd(cmd).name})", err)
    return ret


MAP_CREATE = {
    "map_type": (0, "I"), "key_size": (4, "I"), "value_size": (8, "I"),
    "max_entries": (12, "I"), "map_flags": (16, "I"), "inner_map_fd": (20, "I"),
    "numa_node": (24, "I"), "map_name": (28, "16s"), "map_ifindex": (44, "I"),
    "btf_fd": (48, "I"), "btf_key_type_id": (52, "I"), "btf_value_type_id": (56, "I"),
    "btf_vmlinux_value_type_id": (60, "I"), "map_extra": (64, "Q"),
}
MAP_ELEM = {"map_fd": (0, "I"), "key": (8, "Q"), "value": (16, "Q"), "flags": (24, "Q")}
MAP_BATCH = {
    "in_batch": (0, "Q"), "out_batch": (8, "Q"), "keys": (16, "Q"), "values": (24, "Q"),
    "count": (32, "I"), "map_fd": (36, "I"), "elem_flags": (40, "Q"), "flags": (48, "Q"),
}
PROG_LOAD = {
    "prog_type": (0, "I"), "insn_cnt": (4, "I"), "insns": (8, "Q"), "license": (16, "Q"),
    "log_level": (24, "I"), "log_size": (28, "I"), "log_buf": (32, "Q"),
    "kern_version": (40, "I"), "prog_flags": (44, "I"), "prog_name": (48, "16s"),
    "prog_ifindex": (64, "I"), "expected_attach_type": (68, "I"), "prog_btf_fd": (72, "I"),
    "func_info_rec_size": (76, "I"), "func_info": (80, "Q"), "func_info_cnt": (88, "I"),
    "line_info_rec_size": (92, "I"), "line_info": (96, "Q"), "line_info_cnt": (104, "I"),
    "attach_btf_id": (108, "I"), "attach_btf_obj_fd": (112, "I"), "core_relo_cnt": (116, "I"),
    "fd_array": (120, "Q"), "core_relos": (128, "Q"), "core_relo_rec_size": (136, "I"),
    "log_true_size": (140, "I"),
}
OBJ_PIN = {"pathname": (0, "Q"), "bpf_fd": (8, "I"), "file_flags": (12, "I")}
PROG_ATTACH = {
    "target_fd": (0, "I"), "attach_bpf_fd": (4, "I"), "attach_type": (8, "I"),
    "attach_flags": (12, "I"), "replace_bpf_fd": (16, "I"),
}
TEST_RUN = {
    "prog_fd": (0, "I"), "retval": (4, "I"), "data_size_in": (8, "I"), "data_size_out": (12, "I"),
    "data_in": (16, "Q"), "data_out": (24, "Q"), "repeat": (32, "I"), "duration": (36, "I"),
    "ctx_size_in": (40, "I"), "ctx_size_out": (44, "I"), "ctx_in": (48, "Q"), "ctx_out": (56, "Q"),
    "flags": (64, "I"), "cpu": (68, "I"),
}
GET_ID = {"start_id": (0, "I"), "next_id": (4, "I"), "open_flags": (8, "I")}
OBJ_INFO = {"bpf_fd": (0, "I"), "info_len": (4, "I"), "info": (8, "Q")}
RAW_TP_OPEN = {"name": (0, "Q"), "prog_fd": (8, "I"), "cookie": (16, "Q")}
BTF_LOAD = {
    "btf": (0, "Q"), "btf_log_buf": (8, "Q"), "btf_size": (16, "I"),
    "btf_log_size": (20, "I"), "btf_log_level": (24, "I"), "btf_log_true_size": (28, "I"),
}
TASK_FD_QUERY = {
    "pid": (0, "I"), "fd": (4, "I"), "flags": (8, "I"), "buf_len": (12, "I"), "buf": (16, "Q"),
    "prog_id": (24, "I"), "fd_type": (28, "I"), "probe_offset": (32, "Q"), "probe_addr": (40, "Q"),
}
LINK_CREATE = {
    "prog_fd": (0, "I"), "target_fd": (4, "I"), "attach_type": (8, "I"), "flags": (12, "I"),
    "target_btf_id": (16, "I"),
    "iter_info": (16, "Q"), "iter_info_len": (24, "I"),
    "perf_event_bpf_cookie": (16, "Q"),
    "kprobe_multi_flags": (16, "I"), "kprobe_multi_cnt": (20, "I"),
    "kprobe_multi_syms": (24, "Q"), "kprobe_multi_addrs": (32, "Q"),
    "kprobe_multi_cookies": (40, "Q"),
    "tracing_cookie": (24, "Q"),
    "uprobe_multi_path": (16, "Q"), "uprobe_multi_offsets": (24, "Q"),
    "uprobe_multi_ref_ctr_offsets": (32, "Q"), "uprobe_multi_cookies": (40, "Q"),
    "uprobe_multi_cnt": (48, "I"), "uprobe_multi_flags": (52, "I"), "uprobe_multi_pid": (56, "I"),
    "tcx_relative_fd": (16, "I"), "tcx_expected_revision": (24, "Q"),
}
FD_ONLY = {"fd": (0, "I")}
PROG_BIND_MAP = {"prog_fd": (0, "I"), "map_fd": (4, "I"), "flags": (8, "I")}


def call(cmd, layout, what=None, **fields):
    """Fill ``layout`` with ``fields`` and run bpf(cmd). Returns (result, attr)."""
    attr = _pack(layout, fields)
    return bpf(cmd, attr, what), attr


def _creating(cmd, attr, what):
    """bpf(2) for a command that creates a kernel object: first make sure the
    locked-memory limit will not refuse it (memlock.py), and say so if it does."""
    memlock.ensure()
    try:
        return bpf(cmd, attr, what)
    except BPFError as e:
        hint = memlock.explain(e.errno)
        if hint:
            e.message += hint
        raise


def map_create(what=None, **fields):
    return _creating(Cmd.MAP_CREATE, _pack(MAP_CREATE, fields), what)


def map_elem(cmd, fd, key, value=None, flags=0):
    """LOOKUP/UPDATE/DELETE/GET_NEXT_KEY/LOOKUP_AND_DELETE on ctypes buffers."""
    return call(cmd, MAP_ELEM, None, map_fd=fd, key=addr(key), value=addr(value), flags=flags)[0]


def map_batch(cmd, fd, in_batch, out_batch, keys, values, count, elem_flags=0):
    """A batch command; returns how many elements it processed (the kernel
    writes the count back even when it stops with ENOENT at the end)."""
    attr = _pack(MAP_BATCH, dict(in_batch=addr(in_batch), out_batch=addr(out_batch),
                                 keys=addr(keys), values=addr(values), count=count,
                                 map_fd=fd, elem_flags=elem_flags))
    try:
        bpf(cmd, attr)
    except BPFError as e:
        e.count = _unpack(MAP_BATCH, attr, "count")
        raise
    return _unpack(MAP_BATCH, attr, "count")


def prog_load(**fields):
    """PROG_LOAD; returns (fd or -errno, true log size). Never raises: the
    caller owns the log buffer and decides how to report a rejection."""
    memlock.ensure()
    attr = _pack(PROG_LOAD, fields)
    ret = _libc.syscall(_NR["bpf"], int(Cmd.PROG_LOAD), attr, _ATTR_SIZE)
    if ret < 0:
        ret = -ctypes.get_errno()
    return ret, _unpack(PROG_LOAD, attr, "log_true_size")


def btf_load(data, log_buf=None, log_level=0):
    blob = ctypes.create_string_buffer(bytes(data), len(data))
    attr = _pack(BTF_LOAD, dict(btf=addr(blob), btf_size=len(data), btf_log_buf=addr(log_buf),
                                btf_log_size=len(log_buf) if log_buf is not None else 0,
                                btf_log_level=log_level))
    return _creating(Cmd.BTF_LOAD, attr, "loading BTF")


def obj_pin(fd, path):
    p = ctypes.create_string_buffer(os.fsencode(path))
    call(Cmd.OBJ_PIN, OBJ_PIN, f"pinning to {path}", pathname=addr(p), bpf_fd=fd)


def obj_get(path, flags=0):
    p = ctypes.create_string_buffer(os.fsencode(path))
    return call(Cmd.OBJ_GET, OBJ_PIN, f"opening pinned {path}", pathname=addr(p), file_flags=flags)[0]


def obj_info(fd, info_buf):
    """OBJ_GET_INFO_BY_FD into a ctypes buffer; returns the length filled."""
    _, attr = call(Cmd.OBJ_GET_INFO_BY_FD, OBJ_INFO, None, bpf_fd=fd,
                   info_len=len(info_buf), info=addr(info_buf))
    return _unpack(OBJ_INFO, attr, "info_len")


# struct bpf_map_info and struct bpf_btf_info (the fields pybcc reads).
MAP_INFO = {
    "type": (0, "I"), "id": (4, "I"), "key_size": (8, "I"), "value_size": (12, "I"),
    "max_entries": (16, "I"), "map_flags": (20, "I"), "name": (24, "16s"),
    "btf_id": (64, "I"), "btf_key_type_id": (68, "I"), "btf_value_type_id": (72, "I"),
}
MAP_INFO_SIZE = 96
BTF_INFO = {"btf": (0, "Q"), "btf_size": (8, "I"), "id": (12, "I")}
BTF_INFO_SIZE = 32


def map_info(fd):
    """The kernel's bpf_map_info for a map fd, as a dict (``name`` a str)."""
    buf = ctypes.create_string_buffer(MAP_INFO_SIZE)
    obj_info(fd, buf)
    info = {k: _unpack(MAP_INFO, buf, k) for k in MAP_INFO}
    info["name"] = info["name"].split(b"\0", 1)[0].decode(errors="replace")
    return info


def btf_data(fd):
    """The raw BTF of a loaded BTF object (fd)."""
    buf = ctypes.create_string_buffer(BTF_INFO_SIZE)
    obj_info(fd, buf)
    size = _unpack(BTF_INFO, buf, "btf_size")
    data = ctypes.create_string_buffer(size)
    buf = ctypes.create_string_buffer(BTF_INFO_SIZE)    # second call: point .btf at our buffer
    struct.pack_into("<QI", buf, 0, ctypes.addressof(data), size)
    obj_info(fd, buf)
    return data.raw


def object_name(name):
    """A map or program name as the kernel takes it: 15 characters of [A-Za-z0-9_.]."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "_." else "_" for c in name or "")[:15]


def next_id(cmd, start_id):
    """PROG/MAP/LINK/BTF_GET_NEXT_ID; returns the next id or None at the end."""
    try:
        _, attr = call(cmd, GET_ID, None, start_id=start_id)
    except BPFError as e:
        if e.errno == 2:  # ENOENT
            return None
        raise
    return _unpack(GET_ID, attr, "next_id")


def fd_by_id(cmd, obj_id):
    return call(cmd, GET_ID, None, start_id=obj_id)[0]


def raw_tracepoint_open(name, prog_fd):
    n = ctypes.create_string_buffer(name.encode()) if name else None
    return call(Cmd.RAW_TRACEPOINT_OPEN, RAW_TP_OPEN, f"attaching raw tracepoint {name}",
                name=addr(n), prog_fd=prog_fd)[0]


def link_create(prog_fd, target_fd, attach_type, flags=0, what=None, **extra):
    return call(Cmd.LINK_CREATE, LINK_CREATE, what, prog_fd=prog_fd, target_fd=target_fd,
                attach_type=int(attach_type), flags=flags, **extra)[0]


def link_detach(link_fd):
    call(Cmd.LINK_DETACH, FD_ONLY, None, fd=link_fd)


def prog_attach(prog_fd, target_fd, attach_type, flags=0):
    call(Cmd.PROG_ATTACH, PROG_ATTACH, None, target_fd=target_fd, attach_bpf_fd=prog_fd,
         attach_type=int(attach_type), attach_flags=flags)


def prog_detach(prog_fd, target_fd, attach_type):
    call(Cmd.PROG_DETACH, PROG_ATTACH, None, target_fd=target_fd, attach_bpf_fd=prog_fd,
         attach_type=int(attach_type))


def prog_test_run(prog_fd, data=b"", ctx=None, repeat=1, data_out_size=0):
    """Run a program on data/ctx; returns (retval, data_out bytes, duration ns)."""
    din = ctypes.create_string_buffer(bytes(data), len(data)) if data else None
    dout = ctypes.create_string_buffer(data_out_size) if data_out_size else None
    cin = ctypes.create_string_buffer(bytes(ctx), len(ctx)) if ctx else None
    _, attr = call(Cmd.PROG_TEST_RUN, TEST_RUN, "test-running program", prog_fd=prog_fd,
                   data_in=addr(din), data_size_in=len(data), data_out=addr(dout),
                   data_size_out=data_out_size, ctx_in=addr(cin),
                   ctx_size_in=len(ctx) if ctx else 0, repeat=repeat)
    out = dout.raw[:_unpack(TEST_RUN, attr, "data_size_out")] if dout else b""
    return _unpack(TEST_RUN, attr, "retval"), out, _unpack(TEST_RUN, attr, "duration")


def map_freeze(fd):
    call(Cmd.MAP_FREEZE, FD_ONLY, "freezing map", fd=fd)


def prog_bind_map(prog_fd, map_fd):
    call(Cmd.PROG_BIND_MAP, PROG_BIND_MAP, None, prog_fd=prog_fd, map_fd=map_fd)


# --- perf_event_open(2) -----------------------------------------------------

PERF_ATTR = {
    "type": (0, "I"), "size": (4, "I"), "config": (8, "Q"), "sample_period": (16, "Q"),
    "sample_type": (24, "Q"), "read_format": (32, "Q"), "flags": (40, "Q"),
    "wakeup_events": (48, "I"), "wakeup_watermark": (48, "I"), "bp_type": (52, "I"),
    "config1": (56, "Q"),
    "config2": (64, "Q"), "branch_sample_type": (72, "Q"),
}
PERF_ATTR_SIZE = 128


def perf_event_open(pid=-1, cpu=0, group_fd=-1, open_flags=PERF_FLAG_FD_CLOEXEC, what=None, **attr):
    """perf_event_open(2) with perf_event_attr fields by name (``flags`` is the
    attr bitfield word; ``open_flags`` the syscall's own flags); returns the fd."""
    attr.setdefault("size", PERF_ATTR_SIZE)
    buf = _pack(PERF_ATTR, attr)
    ret = _libc.syscall(_NR["perf_event_open"], buf, pid, cpu, group_fd, open_flags)
    if ret < 0:
        raise BPFError(what or "perf_event_open", ctypes.get_errno())
    return ret


_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong]


def ioctl(fd, request, arg=0, what=None):
    if _libc.ioctl(fd, request, arg) < 0:
        raise BPFError(what or f"ioctl({request:#x})", ctypes.get_errno())
