"""Pick the map class for a map type and wrap an fd in it; create maps."""
import os

from .. import record
from ..errors import BPFError, MapError
from ..kernel import bpf, memlock
from ..kernel.uapi import MapType

# Map type → (module, class): a module is imported when a map of its kind is
# first opened (LPM tries import ipaddress, and a tool opens two or three kinds).
_CLASSES = {
    MapType.HASH: ("map", "HashMap"),
    MapType.LRU_HASH: ("map", "HashMap"),
    MapType.ARRAY: ("array", "ArrayMap"),
    MapType.PERCPU_HASH: ("percpu", "PerCpuHashMap"),
    MapType.LRU_PERCPU_HASH: ("percpu", "PerCpuHashMap"),
    MapType.PERCPU_ARRAY: ("percpu", "PerCpuArrayMap"),
    MapType.LPM_TRIE: ("lpm", "LpmTrieMap"),
    MapType.STACK_TRACE: ("stacktrace", "StackTraceMap"),
    MapType.QUEUE: ("queue", "QueueMap"),
    MapType.STACK: ("queue", "StackMap"),
    MapType.BLOOM_FILTER: ("queue", "BloomFilterMap"),
    MapType.PROG_ARRAY: ("fdmaps", "ProgArrayMap"),
    MapType.ARRAY_OF_MAPS: ("fdmaps", "MapInMap"),
    MapType.HASH_OF_MAPS: ("fdmaps", "MapInMap"),
    MapType.PERF_EVENT_ARRAY: ("fdmaps", "PerfEventArrayMap"),
    MapType.CGROUP_ARRAY: ("fdmaps", "FdMap"),
    MapType.DEVMAP: ("fdmaps", "FdMap"),
    MapType.DEVMAP_HASH: ("fdmaps", "FdMap"),
    MapType.CPUMAP: ("fdmaps", "FdMap"),
    MapType.XSKMAP: ("fdmaps", "FdMap"),
    MapType.SOCKMAP: ("fdmaps", "FdMap"),
    MapType.SOCKHASH: ("fdmaps", "FdMap"),
    MapType.REUSEPORT_SOCKARRAY: ("fdmaps", "FdMap"),
    MapType.CGROUP_STORAGE: ("map", "HashMap"),
    MapType.PERCPU_CGROUP_STORAGE: ("percpu", "PerCpuHashMap"),
    MapType.SK_STORAGE: ("storage", "LocalStorageMap"),
    MapType.INODE_STORAGE: ("storage", "LocalStorageMap"),
    MapType.TASK_STORAGE: ("storage", "LocalStorageMap"),
    MapType.CGRP_STORAGE: ("storage", "LocalStorageMap"),
    # RINGBUF, USER_RINGBUF, STRUCT_OPS, ARENA: fd only (Map); the events
    # package reads ring buffers.
}


def map_class(map_type):
    """The class that gives access fitting ``map_type`` (Map if none)."""
    import importlib
    module, name = _CLASSES.get(map_type, ("map", "Map"))
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def open_map(fd, spec, **options):
    """Wrap a map fd (owned from now on) in the class for spec.type.
    Options: chars, as_ctypes, key_type, value_type (see Map)."""
    return map_class(spec.type if spec is not None else None)(fd, spec, **options)


def create_fd(spec, btf_fd=None, inner_map_fd=0):
    """Create the kernel map ``spec`` describes and return its fd: the one
    place pybcc calls BPF_MAP_CREATE. With ``btf_fd`` (the spec's BTF loaded
    into the kernel) the map carries its key/value type ids, when the kernel
    takes them for that map type. Raises BPFError with the kernel's errno."""
    fields = dict(map_type=int(spec.type), key_size=spec.key_size, value_size=spec.value_size,
                  max_entries=spec.max_entries, map_flags=spec.flags or 0,
                  numa_node=spec.numa_node, map_name=bpf.object_name(spec.name),
                  map_extra=spec.map_extra, inner_map_fd=inner_map_fd or 0)
    if spec.type in (MapType.RINGBUF, MapType.USER_RINGBUF):
        fields.update(key_size=0, value_size=0)
    if spec.type == MapType.PERF_EVENT_ARRAY and not spec.max_entries:
        fields["max_entries"] = os.cpu_count()
    if btf_fd is not None and (spec.btf_key_type_id or spec.btf_value_type_id):
        try:
            return bpf.map_create(**fields, btf_fd=btf_fd, btf_key_type_id=spec.btf_key_type_id,
                                       btf_value_type_id=spec.btf_value_type_id)
        except BPFError:
            pass  # some map types take no BTF types on some kernels: retry without
    return bpf.map_create(**fields)


def describe(spec):
    """'HASH map 'name' (key 4 B, value 8 B, 16 entries)', for error messages."""
    t = getattr(spec.type, "name", spec.type)
    return (f"{t} map {bpf.object_name(spec.name)!r} (key {spec.key_size} B, value "
            f"{spec.value_size} B, {spec.max_entries} entries)")


def create_map(spec, btf_fd=None, inner_map_fd=0, map_extra=0, **options):
    """Create a map from ``spec`` alone (no ELF object) and wrap it.

    The kernel checks the BTF type ids only when ``btf_fd`` (the spec's BTF
    loaded with bpf.btf_load) is given; the codecs use spec.btf either way.
    """
    if map_extra:
        spec = record.replace(spec, map_extra=map_extra)
    try:
        fd = create_fd(spec, btf_fd or None, inner_map_fd)
    except BPFError as e:
        raise MapError(f"creating {describe(spec)} failed{memlock.explain(e.errno)}", e.errno) from None
    return open_map(fd, spec, **options)
