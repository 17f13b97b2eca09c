"""libbcc's USDT entries and structs (bcc.libbcc), filled from pybcc's USDT
reader: bcc_usdt_foreach, bcc_usdt_get_location, bcc_usdt_get_argument.

The context is a bcc.USDT object (what USDT.get_context() returns). The
structs' strings are bytes the structs themselves keep alive (ctypes does).
"""
import ctypes as ct

from .. import usdt as _usdt
from ..usdt import args as _args
from .text import as_bytes as keep
from .text import as_str


class bcc_usdt(ct.Structure):
    _fields_ = [("provider", ct.c_char_p), ("name", ct.c_char_p), ("bin_path", ct.c_char_p),
                ("semaphore", ct.c_ulonglong), ("num_locations", ct.c_int),
                ("num_arguments", ct.c_int)]


class bcc_usdt_location(ct.Structure):
    _fields_ = [("address", ct.c_ulonglong), ("bin_path", ct.c_char_p)]


class BCC_USDT_ARGUMENT_FLAGS:
    """Which fields of a bcc_usdt_argument are valid (its ``valid`` bits)."""
    NONE = 0x0
    CONSTANT = 0x1
    DEREF_OFFSET = 0x2
    DEREF_IDENT = 0x4
    BASE_REGISTER_NAME = 0x8
    INDEX_REGISTER_NAME = 0x10
    SCALE = 0x20


class bcc_usdt_argument(ct.Structure):
    _fields_ = [("size", ct.c_int), ("valid", ct.c_int), ("constant", ct.c_longlong),
                ("deref_offset", ct.c_int), ("deref_ident", ct.c_char_p),
                ("base_register_name", ct.c_char_p), ("index_register_name", ct.c_char_p),
                ("scale", ct.c_int)]


def _probes(context):
    return _usdt.group(context._locations())


def _probe(context, provider, name):
    provider, name = as_str(provider), as_str(name)
    for p in _probes(context):
        if p.name == name and (not provider or p.provider == provider):
            return p
    return None


def foreach(context, callback):
    """callback(pointer to bcc_usdt) for every probe of the context."""
    for p in _probes(context):
        u = bcc_usdt(keep(p.provider), keep(p.name), keep(p.bin_path), p.semaphore,
                     p.num_locations, p.num_arguments)
        callback(ct.pointer(u))


def get_location(context, provider, name, index, location):
    p = _probe(context, provider, name)
    if p is None or not 0 <= index < p.num_locations:
        return -1
    loc = p.locations[index]
    location.address, location.bin_path = loc.pc, keep(loc.path)
    return 0


def get_argument(context, provider, name, loc_index, arg_index, argument):
    """Fill ``argument`` as libbcc does: size negative for a signed argument,
    ``valid`` naming the fields that apply."""
    p = _probe(context, provider, name)
    if p is None or not 0 <= loc_index < p.num_locations:
        return -1
    loc = p.locations[loc_index]
    parsed = _args.parse_args(loc.args, loc.machine)
    if not 0 <= arg_index < len(parsed):
        return -1
    a = parsed[arg_index]
    f = BCC_USDT_ARGUMENT_FLAGS
    ct.memset(ct.addressof(argument), 0, ct.sizeof(argument))
    argument.size = -a.size if a.signed else a.size
    if a.kind == _args.CONST:
        argument.valid, argument.constant = f.CONSTANT, a.off
        return 0
    argument.valid = f.BASE_REGISTER_NAME
    argument.base_register_name = keep(a.reg)
    if a.kind in (_args.DEREF, _args.DEREF_IDX):
        argument.valid |= f.DEREF_OFFSET
        argument.deref_offset = a.off
        if a.symbol:
            argument.valid |= f.DEREF_IDENT
            argument.deref_ident = keep(a.symbol)
    if a.kind == _args.DEREF_IDX:
        argument.valid |= f.INDEX_REGISTER_NAME | f.SCALE
        argument.index_register_name, argument.scale = keep(a.index), a.scale
    return 0
