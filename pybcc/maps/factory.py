"""Pick the map class for a map type and wrap an fd in it; create plain maps."""
import re

from ..errors import BPFError, MapError
from ..kernel import syscalls
from ..kernel.uapi import MapType
from .array import ArrayMap
from .fdmaps import FdMap, MapInMap, PerfEventArrayMap, ProgArrayMap
from .lpm import LpmTrieMap
from .map import HashMap, Map
from .percpu import PerCpuArrayMap, PerCpuHashMap
from .queue import BloomFilterMap, QueueMap, StackMap
from .spec import spec_field
from .stacktrace import StackTraceMap
from .storage import LocalStorageMap

_CLASSES = {
    MapType.HASH: HashMap,
    MapType.LRU_HASH: HashMap,
    MapType.ARRAY: ArrayMap,
    MapType.PERCPU_HASH: PerCpuHashMap,
    MapType.LRU_PERCPU_HASH: PerCpuHashMap,
    MapType.PERCPU_ARRAY: PerCpuArrayMap,
    MapType.LPM_TRIE: LpmTrieMap,
    MapType.STACK_TRACE: StackTraceMap,
    MapType.QUEUE: QueueMap,
    MapType.STACK: StackMap,
    MapType.BLOOM_FILTER: BloomFilterMap,
    MapType.PROG_ARRAY: ProgArrayMap,
    MapType.ARRAY_OF_MAPS: MapInMap,
    MapType.HASH_OF_MAPS: MapInMap,
    MapType.PERF_EVENT_ARRAY: PerfEventArrayMap,
    MapType.CGROUP_ARRAY: FdMap,
    MapType.DEVMAP: FdMap,
    MapType.DEVMAP_HASH: FdMap,
    MapType.CPUMAP: FdMap,
    MapType.XSKMAP: FdMap,
    MapType.SOCKMAP: FdMap,
    MapType.SOCKHASH: FdMap,
    MapType.REUSEPORT_SOCKARRAY: FdMap,
    MapType.CGROUP_STORAGE: HashMap,
    MapType.PERCPU_CGROUP_STORAGE: PerCpuHashMap,
    MapType.SK_STORAGE: LocalStorageMap,
    MapType.INODE_STORAGE: LocalStorageMap,
    MapType.TASK_STORAGE: LocalStorageMap,
    MapType.CGRP_STORAGE: LocalStorageMap,
    # RINGBUF, USER_RINGBUF, STRUCT_OPS, ARENA: fd only (Map); the events
    # package reads ring buffers.
}


def map_class(map_type):
    """The class that gives access fitting ``map_type`` (Map if none)."""
    return _CLASSES.get(map_type, Map)


def open_map(fd, spec, **options):
    """Wrap a map fd (owned from now on) in the class for spec.type.
    Options: chars, as_ctypes, key_type, value_type (see Map)."""
    return map_class(spec_field(spec, "type"))(fd, spec, **options)


def create_map(spec, btf_fd=0, inner_map_fd=0, map_extra=0, **options):
    """Create a map from ``spec`` alone (no ELF object) and wrap it.

    The kernel checks the BTF type ids only when ``btf_fd`` (the spec's BTF
    loaded with syscalls.btf_load) is given; the codecs use spec.btf either way.
    """
    name = re.sub(r"[^A-Za-z0-9_.]", "_", spec_field(spec, "name", "") or "")[:15]
    try:
        fd = syscalls.map_create(
            map_type=int(spec.type), key_size=spec.key_size, value_size=spec.value_size,
            max_entries=spec.max_entries, map_flags=spec_field(spec, "flags", 0) or 0,
            map_name=name, btf_fd=btf_fd, inner_map_fd=inner_map_fd, map_extra=map_extra,
            btf_key_type_id=spec_field(spec, "btf_key_type_id", 0) if btf_fd else 0,
            btf_value_type_id=spec_field(spec, "btf_value_type_id", 0) if btf_fd else 0)
    except BPFError as e:
        t = getattr(spec.type, "name", spec.type)
        raise MapError(f"creating {t} map {name!r} (key {spec.key_size} B, value "
                       f"{spec.value_size} B, {spec.max_entries} entries) failed", e.errno) from None
    return open_map(fd, spec, **options)
