"""Map objects (dict-like access to BPF maps) and their key/value codecs.

``open_map(fd, spec)`` wraps a map fd in the class fitting its type;
``create_map(spec)`` creates a map without an ELF object;
``Map.from_pinned(path)`` / ``Map.from_id(id)`` open existing maps.
"""
from .array import ArrayMap, MapIndexError  # noqa: F401
from .codec import Codec, EnumInt, Record, btf_codec, codec_for, ctype_codec, raw_codec, to_dict  # noqa: F401
from .factory import create_map, map_class, open_map  # noqa: F401
from .fdmaps import FdMap, MapInMap, PerfEventArrayMap, ProgArrayMap, fd_of  # noqa: F401
from .lpm import LpmTrieMap  # noqa: F401
from .map import HashMap, Map  # noqa: F401
from .percpu import PerCpuArrayMap, PerCpuHashMap, num_possible_cpus, possible_cpus  # noqa: F401
from .queue import BloomFilterMap, QueueMap, StackMap  # noqa: F401
from .spec import MapSpec, map_info, spec_from_fd  # noqa: F401
from .stacktrace import StackTraceMap  # noqa: F401
from .storage import LocalStorageMap  # noqa: F401
