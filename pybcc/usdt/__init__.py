"""USDT: user statically-defined tracing (sys/sdt.h probes).

    list_probes("/usr/bin/python3.11") or list_probes(pid) -> [Probe]
    attach_usdt(collection, prog, "/path/bin" | "libname" | pid, "provider", "name",
                pid=-1, cookie=0) -> USDTLink    (close() detaches every location)

BPF programs read arguments with <bpf/usdt.bpf.h> (bpf_usdt_arg,
bpf_usdt_arg_cnt, bpf_usdt_cookie, BPF_USDT), as with libbpf; a program in
section "usdt/PATH:PROVIDER:NAME" attaches by itself (Program.attach()).

Modules: notes.py (.note.stapsdt), args.py (argument strings), spec.py
(what BPF reads), attach.py (maps and uprobes).
"""
from __future__ import annotations

from ..record import field, record

from . import notes
from .args import Arg, parse_arg, parse_args  # noqa: F401
from .attach import USDTLink, attach_usdt, find_locations  # noqa: F401
from .notes import Location, process_probes, read_probes  # noqa: F401


@record
class Probe:
    """One USDT probe of one file: all its locations."""
    provider: str
    name: str
    bin_path: str
    semaphore: int                  # link-time address, 0 if none
    semaphore_offset: int           # file offset, 0 if none
    locations: list[Location] = field(default_factory=list)

    @property
    def num_locations(self):
        return len(self.locations)

    @property
    def num_arguments(self):
        return len(parse_args(self.locations[0].args, self.locations[0].machine)) \
            if self.locations else 0

    def __str__(self):
        return f"{self.bin_path} {self.provider}:{self.name}"


def group(locations):
    """[Location] → [Probe], one per (file, provider, name), in note order."""
    out = {}
    for loc in locations:
        key = (loc.path, loc.provider, loc.name)
        p = out.get(key)
        if p is None:
            p = out[key] = Probe(loc.provider, loc.name, loc.path, loc.semaphore,
                                 loc.semaphore_offset)
        p.locations.append(loc)
    return list(out.values())


def list_probes(target):
    """[Probe] of a binary or library path, or of every object of a pid."""
    if isinstance(target, int):
        return group(notes.process_probes(target))
    return group(notes.read_probes(target))
