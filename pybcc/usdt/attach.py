"""Attach a BPF program to a USDT probe: one uprobe per probe location.

Each location's decoded arguments (a spec) go into the program's
pybcc_usdt_specs map; the uprobe's BPF cookie is the spec's index, which
the program reads back with bpf_get_attach_cookie (see <bpf/usdt.bpf.h>).
Kernels without cookies get the probe's address → index in pybcc_usdt_ip
instead (which needs the address in a process: a pid, or a non-PIE binary).
The semaphore's file offset is the uprobe's ref_ctr_offset, so the kernel
counts the semaphore up while the probe is attached and down after.
"""
import ctypes
import os
import struct

from .. import symbols
from ..attach.link import Link
from ..attach.uprobe import attach_uprobe
from ..errors import AttachError, BPFError, NotSupportedError
from ..kernel import bpf
from ..kernel.uapi import Cmd
from . import notes, spec as S
from .args import parse_args

SPECS_MAP = "pybcc_usdt_specs"
IP_MAP = "pybcc_usdt_ip"
MAX_SPECS = 256     # BPF_USDT_MAX_SPEC_CNT of usdt.bpf.h

_tables = {}        # kernel map id of a specs map → _SpecTable


class _SpecTable:
    """Which slots of one specs map hold which spec; identical specs share a slot."""

    def __init__(self, size):
        self.size = size
        self.by_bytes = {}    # spec bytes → [slot, users]

    def take(self, data):
        ent = self.by_bytes.get(data)
        if ent is None:
            used = {e[0] for e in self.by_bytes.values()}
            slot = next((i for i in range(self.size) if i not in used), None)
            if slot is None:
                raise AttachError(f"USDT: all {self.size} spec slots are in use "
                                  f"(#define BPF_USDT_MAX_SPEC_CNT larger before "
                                  f"including <bpf/usdt.bpf.h>)")
            ent = self.by_bytes[data] = [slot, 0]
        ent[1] += 1
        return ent[0], ent[1] == 1

    def release(self, data):
        ent = self.by_bytes.get(data)
        if ent is not None:
            ent[1] -= 1
            if ent[1] <= 0:
                del self.by_bytes[data]


class USDTLink(Link):
    """The uprobes of one USDT attachment; close() detaches them all and
    frees their spec slots."""

    def __init__(self, description, links, locations, release):
        super().__init__(description)
        self.links = links
        self.locations = locations
        self._release = release

    @property
    def fd(self):
        return self.links[0].fd if self.links else None

    @property
    def fds(self):
        return tuple(fd for link in self.links for fd in link.fds)

    def close(self):
        if self.closed:
            return
        self.closed = True
        errors = []
        for link in self.links:
            try:
                link.close()
            except BPFError as e:
                errors.append(e)
        self.links = []
        release, self._release = self._release, None
        if release:
            release()
        if errors:
            raise errors[0]

    detach = close

    def __repr__(self):
        return f"<USDTLink {self.description} {len(self.links)} uprobes>"


def _map_info(fd):
    info = bpf.map_info(fd)
    return info["id"], info["name"], info["value_size"], info["max_entries"]


def _maps_of_program(prog_fd):
    """{map name: fd} of the maps a loaded program uses (fds are ours to close)."""
    info = ctypes.create_string_buffer(256)
    bpf.obj_info(prog_fd, info)
    (nr,) = struct.unpack_from("<I", info.raw, 52)
    if not nr:
        return {}
    ids = (ctypes.c_uint32 * nr)()
    info = ctypes.create_string_buffer(256)
    struct.pack_into("<IQ", info, 52, nr, ctypes.addressof(ids))
    bpf.obj_info(prog_fd, info)
    out = {}
    for map_id in ids:
        try:
            fd = bpf.fd_by_id(Cmd.MAP_GET_FD_BY_ID, map_id)
        except BPFError:
            continue
        name = _map_info(fd)[1]
        if name in (SPECS_MAP[:15], IP_MAP) and name not in out:
            out[name] = fd
        else:
            os.close(fd)
    return out


def _find_maps(collection, prog_fd):
    """(specs map fd, ip map fd, fds to close later); fds None when the program
    does not read arguments (it did not include <bpf/usdt.bpf.h>)."""
    if collection is not None and SPECS_MAP in collection.map_fds:
        return collection.map_fds[SPECS_MAP], collection.map_fds.get(IP_MAP), []
    found = _maps_of_program(prog_fd)
    specs, ip = found.get(SPECS_MAP[:15]), found.get(IP_MAP)
    return specs, ip, list(found.values())


def _has_cookies():
    from ..kernel import features
    from ..kernel.uapi import ProgType
    try:
        return features.helper_supported(ProgType.KPROBE, 174)   # bpf_get_attach_cookie
    except BPFError:
        return False


def find_locations(target, provider, name, pid=-1):
    """[notes.Location] of probe provider:name in ``target``: a path, a
    library or program name, or a pid (every object the process maps)."""
    if isinstance(target, int):
        locs = notes.process_probes(target)
        where = f"process {target}"
    else:
        path = target
        if "/" not in target:
            path = symbols.find_library(target, pid if pid > 0 else None) or \
                symbols.find_binary(target)
            if not path:
                raise AttachError(f"USDT: cannot find binary or library {target!r}")
        elif pid > 0:
            path = symbols.libpath.reachable_path(pid, path)
        if not os.path.exists(path):
            raise AttachError(f"USDT: {path} does not exist")
        locs = notes.read_probes(path)
        where = path
    found = notes.match(locs, provider, name)
    if not found:
        have = sorted({f"{loc.provider}:{loc.name}" for loc in locs})
        what = f"{provider}:{name}" if provider else name
        raise AttachError(f"USDT probe {what} not found in {where}" +
                          (f" (it has: {', '.join(have[:20])}{' ...' if len(have) > 20 else ''})"
                           if have else " (it has no USDT probes)"))
    return found


def _symbols_for(loc, arg_list):
    want = {a.symbol for a in arg_list if a.symbol}
    return {s: notes.elf_symbol(loc.path, s) for s in want}


def attach_usdt(collection, prog, target, provider, name, pid=-1, cookie=0, locations=None):
    """Attach ``prog`` (a loader.Program, its name in ``collection``, or a
    program fd) to USDT probe ``provider``:``name`` (provider None: any) of
    ``target`` (binary or library path or name, or a pid). ``pid`` > 0 traces
    only that process (an int ``target`` is also the pid). ``cookie`` is what
    bpf_usdt_cookie() returns. ``locations``: the probes of ``target`` (an
    openable path) as read_probes gave them, when the caller has read them
    already. Returns a USDTLink."""
    if isinstance(target, int) and pid <= 0:
        pid = target
    if isinstance(prog, str):
        if collection is None:
            raise AttachError("attach_usdt: a program name needs its collection")
        prog = collection.programs.get(prog) or collection.load_program(prog)
    prog_fd = prog if isinstance(prog, int) else prog.fd
    prog_name = getattr(prog, "name", f"fd {prog_fd}")
    if locations is not None:
        locs = notes.match(locations, provider, name)
        if not locs:
            raise AttachError(f"USDT probe {provider}:{name} not found in {target}")
    else:
        locs = find_locations(target, provider, name, pid)
    specs_fd, ip_fd, owned = _find_maps(collection, prog_fd)
    table = None
    use_ip = False
    if specs_fd is not None:
        map_id = _map_info(specs_fd)[0]
        table = _tables.setdefault(map_id, _SpecTable(_map_info(specs_fd)[3]))
        use_ip = not _has_cookies()
    taken, ips, links = [], [], []

    def release():
        for data in taken:
            table.release(data)
        if table is not None and not table.by_bytes:
            _tables.pop(map_id, None)    # the map may be gone; its id is not reused soon
        for ip in ips:
            try:
                bpf.map_elem(Cmd.MAP_DELETE_ELEM, ip_fd, ctypes.c_long(ip))
            except BPFError:
                pass
        for fd in owned:
            os.close(fd)

    what = f"usdt {provider or '*'}:{name}"
    try:
        for loc in locs:
            slot = 0
            if table is not None:
                arg_list = parse_args(loc.args, loc.machine)
                data = S.encode_spec(arg_list, cookie, loc.pc, _symbols_for(loc, arg_list))
                slot, new = table.take(data)
                taken.append(data)
                if new:
                    bpf.map_elem(Cmd.MAP_UPDATE_ELEM, specs_fd, ctypes.c_int(slot),
                                      ctypes.create_string_buffer(data, len(data)))
                if use_ip:
                    ip = notes.runtime_address(pid, loc) if pid > 0 or loc.elf_type == 2 else None
                    if ip is None or ip_fd is None:
                        raise NotSupportedError(
                            f"{what} in {loc.path}: this kernel has no BPF cookies, so USDT "
                            f"arguments of a shared library or PIE need a pid",
                            feature="bpf_get_attach_cookie")
                    bpf.map_elem(Cmd.MAP_UPDATE_ELEM, ip_fd, ctypes.c_long(ip),
                                      ctypes.c_int(slot))
                    ips.append(ip)
            links.append(attach_uprobe(prog_fd, loc.path, offset=loc.offset, pid=pid,
                                       ref_ctr_offset=loc.semaphore_offset, cookie=slot))
    except BaseException:
        for link in links:
            link.close()
        release()
        raise
    desc = f"{what} of {sorted({loc.path for loc in locs})[0]} ({len(locs)} locations)" + \
        (f" (pid {pid})" if pid > 0 else "") + f" → {prog_name}"
    return USDTLink(desc, links, locs, release)
