"""bcc's table classes over pybcc's map classes.

Each bcc table is a pybcc map (dict-like access through the kernel) set up
as bcc's were: keys and values come back as ctypes objects (``k.value``,
``v.field``), char arrays as bytes, and ``table.Key``/``table.Leaf`` are the
ctypes classes generated from the object's BTF. On top: bcc's histogram
printers, batch helpers, per-CPU reductions, perf/ring buffer opening and
event() decoding.
"""
import ctypes as ct
import os
import re
from functools import reduce

from .. import maps as _maps
from ..errors import BPFError
from ..kernel.uapi import MapType
from ..output import histogram
from . import ctext
from .constants import *  # noqa: F401,F403  (bcc.table exports the map type numbers)
from .text import as_str

_HIDDEN = re.compile(r"^_(pad|bits|anon)\d+$")
LOG2_SLOTS, LINEAR_SLOTS, JSON_SLOTS = 65, 1025, 64   # bcc's sizes


def _count(v):
    """A histogram count from whatever a value decoded to."""
    if isinstance(v, ct._SimpleCData):
        return v.value
    if isinstance(v, ct.Array):          # per-CPU values
        return sum(_count(x) for x in v)
    if isinstance(v, (list, tuple)):
        return sum(_count(x) for x in v)
    if isinstance(v, ct.Structure):
        raise TypeError("histogram values must be integers, not structs")
    return int(v)


def _public_fields(ctype):
    return [f[0] for f in ctype._fields_ if not _HIDDEN.match(f[0])]


class TableBase:
    """What every bcc table adds to its pybcc map class."""

    def _bcc_setup(self, bpf, name):
        self.bpf = bpf
        self.name = name
        self.map_fd = self.fd
        self.ttype = int(self.type)
        self._bcc_map_id = None

    @property
    def map_id(self):
        """The map's kernel id, read when first asked for: bcc's tables make
        no bpf() call when a script takes them (test_trace4 counts them)."""
        if self._bcc_map_id is None:
            try:
                self._bcc_map_id = self.info()["id"]
            except (BPFError, OSError):
                self._bcc_map_id = 0
        return self._bcc_map_id

    def get_fd(self):
        return self.fd

    # --- bcc's text form of keys and values (ctext.py) ---------------------------

    def key_sprintf(self, key):
        return ctext.sprintf(key, self.Key)

    def leaf_sprintf(self, leaf):
        return ctext.sprintf(leaf, getattr(self, "sLeaf", None) or self.Leaf)

    def key_scanf(self, key_str):
        return ctext.sscanf(key_str, self.Key)

    def leaf_scanf(self, leaf_str):
        return ctext.sscanf(leaf_str, getattr(self, "sLeaf", None) or self.Leaf)

    # --- the rest of MutableMapping, which bcc's tables are -------------------

    def popitem(self):
        """Removes and returns some (key, value); KeyError when empty."""
        for key in list(self.keys()):
            try:
                value = self[key]
                del self[key]
            except KeyError:      # gone meanwhile (the program deleted it)
                continue
            return key, value
        raise KeyError("popitem(): table is empty")

    def setdefault(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            self[key] = default
            return default

    # --- iteration, as bcc: iterkeys/itervalues/iteritems ---------------------

    def iterkeys(self):
        return iter(self)

    def itervalues(self):
        return iter(self.values())

    def iteritems(self):
        return iter(self.items())

    # --- batch operations with bcc's names ------------------------------------

    def items_lookup_batch(self):
        """(key, value) for every element, read in batches."""
        return self.lookup_batch()

    def items_lookup_and_delete_batch(self):
        """(key, value) for every element, deleting them as they are read."""
        return self.lookup_batch(delete=True)

    def items_delete_batch(self, ct_keys=None):
        """Delete the given keys (a ctypes array of Key), or every element."""
        if ct_keys is None:
            for _ in self.lookup_batch(delete=True):
                pass
        else:
            self.delete_batch(list(ct_keys))

    def items_update_batch(self, ct_keys, ct_values):
        if len(ct_keys) != len(ct_values):
            raise ValueError("items_update_batch: keys and values differ in length")
        self.update_batch(list(zip(ct_keys, ct_values)))

    # --- histograms -------------------------------------------------------------

    def _sections(self, nslots, bucket_fn, bucket_sort_fn):
        """Group a struct-keyed histogram by its first field: [(bucket, vals)]."""
        fields = _public_fields(self.Key)
        if len(fields) < 2:
            raise TypeError(f"table {self.name!r}: a sectioned histogram needs a key struct "
                            f"with a bucket field and a slot field")
        f_bucket, f_slot = fields[0], fields[1]
        groups = {}
        for k, v in self.items():
            bucket = getattr(k, f_bucket)
            if bucket_fn:
                bucket = bucket_fn(bucket)
            vals = groups.setdefault(bucket, [0] * nslots)
            slot = getattr(k, f_slot)
            if 0 <= slot < nslots:
                vals[slot] = _count(v)
        buckets = list(groups)
        if bucket_sort_fn:
            buckets = bucket_sort_fn(buckets)
        return [(b, groups[b]) for b in buckets]

    def _flat(self, nslots, what):
        vals = [0] * nslots
        for k, v in self.items():
            i = k.value if isinstance(k, ct._SimpleCData) else int(k)
            if not 0 <= i < nslots:
                raise IndexError(f"index in {what}() of {i} exceeds max of {nslots}.")
            vals[i] = _count(v)
        return vals

    def _keyed_by_struct(self):
        return self.Key is not None and issubclass(self.Key, ct.Structure)

    def _print_hist(self, printer, nslots, what, val_type, section_header, section_print_fn,
                    bucket_fn, strip_leading_zero, bucket_sort_fn):
        if self._keyed_by_struct():
            for bucket, vals in self._sections(nslots, bucket_fn, bucket_sort_fn):
                if section_print_fn:
                    print("\n%s = %s" % (section_header, section_print_fn(bucket)))
                else:
                    print("\n%s = %r" % (section_header, bucket))
                printer(vals, val_type, strip_leading_zero)
        else:
            printer(self._flat(nslots, what), val_type, strip_leading_zero)

    def print_log2_hist(self, val_type="value", section_header="Bucket ptr",
                        section_print_fn=None, bucket_fn=None, strip_leading_zero=None,
                        bucket_sort_fn=None):
        """Print a log2 histogram (keys are log2 slots, values counts). With a
        struct key {bucket, slot}, one histogram per bucket, each headed
        "section_header = bucket" (section_print_fn formats the bucket)."""
        self._print_hist(histogram.print_log2_hist, LOG2_SLOTS, "print_log2_hist",
                         val_type, section_header, section_print_fn, bucket_fn,
                         strip_leading_zero, bucket_sort_fn)

    def print_linear_hist(self, val_type="value", section_header="Bucket ptr",
                          section_print_fn=None, bucket_fn=None, strip_leading_zero=None,
                          bucket_sort_fn=None):
        """Print a linear histogram (keys are the values themselves, 0..1024)."""
        self._print_hist(histogram.print_linear_hist, LINEAR_SLOTS, "print_linear_hist",
                         val_type, section_header, section_print_fn, bucket_fn,
                         strip_leading_zero, bucket_sort_fn)

    def print_json_hist(self, val_type="value", section_header="Bucket ptr",
                        section_print_fn=None, bucket_fn=None, bucket_sort_fn=None):
        """Print the log2 histogram as bcc's dict (one per section)."""
        if self._keyed_by_struct():
            for bucket, vals in self._sections(JSON_SLOTS, bucket_fn, bucket_sort_fn):
                shown = section_print_fn(bucket) if section_print_fn else bucket
                histogram.print_json_hist(vals, val_type, (section_header, shown))
        else:
            histogram.print_json_hist(self._flat(JSON_SLOTS, "print_json_hist"), val_type)


class HashTable(TableBase, _maps.HashMap):
    pass


class LruHash(HashTable):
    pass


class Array(TableBase, _maps.ArrayMap):
    """bcc arrays: every index exists; deleting an element zeroes it."""

    def __delitem__(self, key):
        self.zero(key)

    def clearitem(self, key):
        self.zero(key)


ArrayBase = Array       # bcc's base of its array tables


class CgroupStorage(HashTable):
    pass


class PerCpuMixin:
    """bcc's per-CPU values: table[k] is a ctypes array of ``sLeaf`` with one
    element per possible CPU, or, with a reducer, their reduction."""

    reducer = None

    @property
    def sLeaf(self):
        return self.value_codec.ctype

    @property
    def Leaf(self):
        return self.sLeaf * self.ncpus

    def _decode_value(self, buf, offset=0):
        per_cpu = super()._decode_value(buf, offset)
        if not self.as_ctypes:
            return per_cpu
        return (self.sLeaf * len(per_cpu))(*per_cpu)

    def _encode_value(self, value):
        if isinstance(value, ct.Array) and len(value) == self.ncpus:
            value = list(value)
        return super()._encode_value(value)

    def getvalue(self, key):
        return super().__getitem__(key)

    def __getitem__(self, key):
        value = self.getvalue(key)
        if self.reducer:
            return reduce(self.reducer, value)
        return value

    def items(self):
        pairs = super().items()
        if self.reducer:
            return [(k, reduce(self.reducer, v)) for k, v in pairs]
        return pairs

    def _check_scalar(self, what):
        if not issubclass(self.sLeaf, ct._SimpleCData):
            raise IndexError(f"Leaf must be an integer type for default {what} functions")

    def sum(self, key):
        self._check_scalar("sum")
        return self.sLeaf(sum(self.getvalue(key)))

    def max(self, key):
        self._check_scalar("max")
        return self.sLeaf(max(self.getvalue(key)))

    def average(self, key):
        return self.sum(key).value / self.ncpus


class PerCpuHash(TableBase, PerCpuMixin, _maps.PerCpuHashMap):
    pass


class LruPerCpuHash(PerCpuHash):
    pass


class PerCpuArray(TableBase, PerCpuMixin, _maps.PerCpuArrayMap):
    def __delitem__(self, key):
        self.zero(key)


class LpmTrie(TableBase, _maps.LpmTrieMap):
    pass


class _Stack(list):
    """A stack's frames, also as bcc's Leaf has them: .ip (addresses) or
    .trace (build-id frames)."""

    @property
    def ip(self):
        return self

    trace = ip


class StackTrace(TableBase, _maps.StackTraceMap):
    """Stack id → addresses. walk(stack_id) iterates them, innermost first."""

    def _decode_value(self, buf, offset=0):
        return _Stack(_maps.StackTraceMap._decode_value(self, buf, offset))

    def walk(self, stack_id, resolve=None):
        addrs = _maps.StackTraceMap.walk(self, stack_id)
        return iter([resolve(a) for a in addrs] if resolve else addrs)


class QueueStack(TableBase, _maps.QueueMap):
    """BPF_QUEUE / BPF_STACK: push, pop, peek; values() pops everything."""

    def push(self, leaf, flags=0):
        _maps.QueueMap.push(self, leaf, flags)

    def itervalues(self):
        for _ in range(self.max_entries):
            try:
                yield self.pop()
            except KeyError:
                return

    def values(self):
        return list(self.itervalues())

    def __len__(self):
        raise TypeError(f"table {self.name!r}: queues and stacks have no length")


class _FdValues:
    """Values given as bcc scripts give them: ctypes ints (ct.c_int(fd)),
    objects with .fd (programs, tables) or plain fds."""

    def _encode_value(self, value):
        if isinstance(value, ct._SimpleCData):
            value = value.value
        return super()._encode_value(value)


class _Slots:
    """bcc's array tables other than Array: the length is the number of slots."""

    def __len__(self):
        return self.info()["max_entries"]     # the kernel's (a perf array's 0 became #CPUs)


class ProgArray(_Slots, TableBase, _FdValues, _maps.ProgArrayMap):
    """Tail-call table: table[i] = b.load_func(...) (or a program fd)."""


class ArrayOfMaps(_Slots, TableBase, _FdValues, _maps.MapInMap):
    pass


class HashOfMaps(TableBase, _FdValues, _maps.MapInMap):
    pass


class CgroupArray(_Slots, TableBase, _FdValues, _maps.FdMap):
    """table[i] = a cgroup directory path or an open fd of one."""

    def __setitem__(self, key, leaf):
        if isinstance(leaf, (str, bytes)):
            fd = os.open(as_str(leaf), os.O_RDONLY)
            try:
                _maps.FdMap.__setitem__(self, key, fd)
            finally:
                os.close(fd)
        else:
            _maps.FdMap.__setitem__(self, key, leaf)


class DevMap(_Slots, TableBase, _FdValues, _maps.FdMap):
    pass


class CpuMap(_Slots, TableBase, _FdValues, _maps.FdMap):
    pass


class XskMap(_Slots, TableBase, _FdValues, _maps.FdMap):
    pass


class _EventDecoder:
    """event(data): the record as the C struct the program submitted."""

    _event_ctype = None

    def _event_class(self):
        if self._event_ctype is None:
            self._event_ctype = self.bpf._event_type(self.name)
        return self._event_ctype

    def event(self, data):
        """Decode one record (the ``data`` a callback received: an address,
        or bytes) into a ctypes object of the submitted struct (a copy)."""
        cls = self._event_class()
        size = ct.sizeof(cls)
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
        else:
            if isinstance(data, ct.c_void_p):
                data = data.value
            elif not isinstance(data, int):
                data = ct.cast(data, ct.c_void_p).value
            raw = ct.string_at(data, size)
        return cls.from_buffer_copy(raw[:size].ljust(size, b"\0"))

    def _scratch_size(self):
        try:
            return ct.sizeof(self._event_class())
        except BPFError:
            return 0


class PerfEventArray(_Slots, _EventDecoder, TableBase, _maps.PerfEventArrayMap):
    """BPF_PERF_OUTPUT: open_perf_buffer(callback) then b.perf_buffer_poll()."""

    def open_perf_buffer(self, callback, page_cnt=8, lost_cb=None, wakeup_events=1):
        """callback(cpu, data, size) per record, ``data`` the record's address
        (for event() or ct.cast); lost_cb(count) when the kernel dropped some."""
        from ..events import PerfBuffer
        scratch = self._scratch_size()

        def deliver(cpu, data, size):
            buf = ct.create_string_buffer(data, max(len(data), scratch, 1))
            callback(cpu, ct.addressof(buf), size)

        reader = PerfBuffer(self.fd, deliver, lost_callback=lost_cb, page_cnt=page_cnt,
                            wakeup_events=wakeup_events, name=f"perf buffer {self.name}")
        self.bpf._add_perf_buffer(self.name, reader)
        return reader

    def open_perf_event(self, typ, config, pid=-1):
        """Fill the array with one counter per CPU (read with bpf_perf_event_read)."""
        from ..attach.perf import perf_open
        from ..kernel.cpus import online_cpus
        self._counters = getattr(self, "_counters", [])
        for cpu in online_cpus():
            try:
                fd = perf_open(pid=pid, cpu=cpu, type=typ, config=config)
            except BPFError as e:
                raise BPFError(f"table {self.name!r}: opening perf event type {typ} config "
                               f"{config} on CPU {cpu}", e.errno) from None
            self._counters.append(fd)
            _maps.FdMap.__setitem__(self, cpu, fd)

    def close(self):
        for fd in getattr(self, "_counters", []):
            os.close(fd)
        self._counters = []
        self.bpf._close_perf_buffer(self.name)
        super().close()


class RingBuf(_EventDecoder, TableBase, _maps.Map):
    """BPF_RINGBUF_OUTPUT: open_ring_buffer(callback) then b.ring_buffer_poll()."""

    def open_ring_buffer(self, callback, ctx=None):
        """callback(ctx, data, size) per record, ``data`` its address."""
        from ..events import RingBuffer
        scratch = self._scratch_size()

        def deliver(data):
            buf = ct.create_string_buffer(data, max(len(data), scratch, 1))
            callback(ctx, ct.addressof(buf), len(data))

        reader = RingBuffer(self.fd, deliver, name=f"ring buffer {self.name}")
        self.bpf._add_ring_buffer(self.name, reader)
        return reader

    def close(self):
        self.bpf._close_ring_buffer(self.name)
        super().close()

    def __len__(self):
        return 0        # as bcc: records are not elements user space can count


_CLASSES = {
    MapType.HASH: HashTable,
    MapType.LRU_HASH: LruHash,
    MapType.ARRAY: Array,
    MapType.PERCPU_HASH: PerCpuHash,
    MapType.LRU_PERCPU_HASH: LruPerCpuHash,
    MapType.PERCPU_ARRAY: PerCpuArray,
    MapType.LPM_TRIE: LpmTrie,
    MapType.STACK_TRACE: StackTrace,
    MapType.QUEUE: QueueStack,
    MapType.STACK: QueueStack,
    MapType.PROG_ARRAY: ProgArray,
    MapType.ARRAY_OF_MAPS: ArrayOfMaps,
    MapType.HASH_OF_MAPS: HashOfMaps,
    MapType.PERF_EVENT_ARRAY: PerfEventArray,
    MapType.RINGBUF: RingBuf,
    MapType.CGROUP_ARRAY: CgroupArray,
    MapType.CGROUP_STORAGE: CgroupStorage,
    MapType.DEVMAP: DevMap,
    MapType.DEVMAP_HASH: DevMap,
    MapType.CPUMAP: CpuMap,
    MapType.XSKMAP: XskMap,
}


map_type_name = {int(t): t.name for t in MapType if t}

# bcc's limits of histogram printing (its scripts import them)
stars_max = 40
log2_index_max = 65
linear_index_max = 1025


def get_json_hist(vals, val_type, section_bucket=None):
    """A log2 histogram as bcc's JSON-ready dict: {"ts", "val_type", "data":
    [{"interval-start", "interval-end", "count"}, ...]} up to the last non-zero slot."""
    import time
    last = max((i for i, v in enumerate(vals) if v), default=0)
    data = [{"interval-start": 1 << (i - 1) if i > 1 else 0, "interval-end": (1 << i) - 1,
             "count": int(vals[i])} for i in range(1, last + 1)]
    hist = {"ts": time.strftime("%Y-%m-%d %H:%M:%S"), "val_type": val_type, "data": data}
    if section_bucket:
        hist[section_bucket[0]] = section_bucket[1]
    return hist


class FileDesc:
    """An fd closed when the object goes (bcc.table.FileDesc)."""

    def __init__(self, fd):
        if fd is None or fd < 0:
            raise ValueError("Invalid file descriptor")
        self.fd = fd

    def clean_up(self):
        if self.fd is not None and self.fd >= 0:
            os.close(self.fd)
            self.fd = None

    def __del__(self):
        self.clean_up()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.clean_up()


def get_table_type_name(ttype):
    """bcc's name of a map type number ("HASH", "PERCPU_ARRAY"), "<unknown>"."""
    return map_type_name.get(ttype, "<unknown>")


MapInMapArray = ArrayOfMaps     # bcc's names of the map-in-map tables
MapInMapHash = HashOfMaps


def table_class(map_type):
    return _CLASSES.get(map_type, HashTable)


def Table(bpf, map_fd, spec, name, keytype=None, leaftype=None, reducer=None):
    """The bcc table object for a map fd (duplicated: the table owns its copy)."""
    cls = table_class(spec.type)
    fd = os.dup(map_fd)
    try:
        t = cls(fd, spec, chars="bytes", as_ctypes=True, key_type=keytype, value_type=leaftype)
    except BaseException:
        os.close(fd)
        raise
    t._bcc_setup(bpf, name)
    if reducer is not None:
        if not isinstance(t, PerCpuMixin):
            raise ValueError(f"table {name!r}: a reducer only applies to per-CPU tables")
        t.reducer = reducer
    return t


