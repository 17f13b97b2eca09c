"""Map objects (dict-like access to BPF maps) and their key/value codecs.

``open_map(fd, spec)`` wraps a map fd in the class fitting its type;
``create_map(spec)`` creates a map without an ELF object;
``Map.from_pinned(path)`` / ``Map.from_id(id)`` open existing maps.

Names are imported on first use, so loading an object does not import
every map class and the codecs.
"""
from ..lazy import lazy_getattr

_WHERE = {
    "ArrayMap": "array", "MapIndexError": "array",
    "Codec": "codec", "EnumInt": "codec", "Record": "codec", "btf_codec": "codec",
    "codec_for": "codec", "ctype_codec": "codec", "raw_codec": "codec", "to_dict": "codec",
    "create_map": "factory", "map_class": "factory", "open_map": "factory",
    "FdMap": "fdmaps", "MapInMap": "fdmaps", "PerfEventArrayMap": "fdmaps",
    "ProgArrayMap": "fdmaps", "fd_of": "fdmaps",
    "LpmTrieMap": "lpm",
    "HashMap": "map", "Map": "map",
    "PerCpuArrayMap": "percpu", "PerCpuHashMap": "percpu", "num_possible_cpus": "percpu",
    "possible_cpus": "percpu",
    "BloomFilterMap": "queue", "QueueMap": "queue", "StackMap": "queue",
    "MapSpec": "spec", "map_info": "spec", "spec_from_fd": "spec",
    "StackTraceMap": "stacktrace",
    "LocalStorageMap": "storage",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_getattr(__name__, _WHERE)
