"""Map: a BPF map fd with its spec; HashMap: dict-like access to it.

Every other map class builds on these two. Element access goes through the
kernel each time (there is no cache: BPF programs change maps under us).
A missing key raises KeyError; any other failure raises MapError naming the
map and the operation.
"""
import ctypes
import errno
import os

from ..errors import BPFError, MapError
from ..kernel import bpf
from ..kernel.fd import Closeable, close_fd
from ..kernel.uapi import BPF_ANY, BPF_EXIST, Cmd, MapType
from . import codec as _codec
from .spec import MapSpec, spec_from_fd

ENOTSUPP = 524          # the kernel's internal "not supported", leaked to user space
_UNSUPPORTED = (ENOTSUPP, errno.EOPNOTSUPP)
_MISSING = object()


class Map(Closeable):
    """A map fd plus what it holds. No element access: see the subclasses.

    Options, for every map class:
      chars="str"|"bytes"  how char[] fields decode (bcc returns bytes)
      as_ctypes=False      decode keys/values to ctypes objects (bcc's Key/Leaf)
      key_type/value_type  ctypes classes to use instead of the BTF-derived ones
    """

    def __init__(self, fd, spec, chars="str", as_ctypes=False, key_type=None, value_type=None):
        self.fd = fd
        if spec is None:        # a bare fd: nothing known but the fd
            spec = MapSpec(type=MapType.UNSPEC, key_size=0, value_size=0, max_entries=0)
        self.spec = spec
        self.name = spec.name or ""
        self.type = spec.type
        try:
            self.type = MapType(self.type)     # a plain int from an ELF object
        except ValueError:
            pass                               # a type newer than our table
        self.key_size = spec.key_size
        self.value_size = spec.value_size
        self.max_entries = spec.max_entries
        self.flags = spec.flags or 0
        self.btf = spec.btf
        self.chars = chars
        self.as_ctypes = as_ctypes
        self.pinned_path = None
        self.key_codec = self._make_codec(key_type, "btf_key_type_id", self.key_size)
        self.value_codec = self._make_codec(value_type, "btf_value_type_id", self.value_size)

    def _make_codec(self, ctype, btf_field, size):
        if ctype is not None:
            return _codec.ctype_codec(ctype, self.chars)
        if not size:
            return None
        return _codec.codec_for(self.btf, getattr(self.spec, btf_field), size, self.chars)

    # bcc scripts build keys and values with these: table.Key(5), table.Leaf()
    @property
    def Key(self):
        return self.key_codec.ctype if self.key_codec else None

    @property
    def Leaf(self):
        return self.value_codec.ctype if self.value_codec else None

    # --- lifetime ----------------------------------------------------------------

    def fileno(self):
        return self.fd

    def close(self):
        # A Collection's map fd is an Fd shared with the collection: whichever
        # closes first closes it, the other close is a no-op.
        fd, self.fd = self.fd, None
        close_fd(fd)

    def __repr__(self):
        t = self.type.name if isinstance(self.type, MapType) else self.type
        return f"<{type(self).__name__} {self.name!r} {t} fd={self.fd}>"

    # --- pinning -----------------------------------------------------------------

    def pin(self, path):
        """Pin the map at ``path`` (on a bpffs, e.g. /sys/fs/bpf/NAME)."""
        try:
            bpf.obj_pin(self.fd, path)
        except BPFError as e:
            raise MapError(f"map {self.name!r}: pinning at {path} failed", e.errno) from None
        self.pinned_path = path

    def unpin(self, path=None):
        """Remove the pin (the map lives on while fds or programs hold it)."""
        path = path or self.pinned_path
        if path is None:
            raise MapError(f"map {self.name!r} is not pinned")
        os.unlink(path)
        if path == self.pinned_path:
            self.pinned_path = None

    @classmethod
    def from_pinned(cls, path, **options):
        """Open a pinned map. Type, sizes and BTF come from the kernel; called
        on Map itself, the class fitting the map's type is chosen."""
        try:
            fd = bpf.obj_get(path)
        except BPFError as e:
            raise MapError(f"opening pinned map {path} failed", e.errno) from None
        m = cls._from_fd(fd, **options)
        m.pinned_path = path
        return m

    @classmethod
    def from_id(cls, map_id, **options):
        """Open a map by its kernel id (bpftool map list shows them)."""
        try:
            fd = bpf.fd_by_id(Cmd.MAP_GET_FD_BY_ID, map_id)
        except BPFError as e:
            raise MapError(f"opening map id {map_id} failed", e.errno) from None
        return cls._from_fd(fd, **options)

    @classmethod
    def _from_fd(cls, fd, **options):
        try:
            spec = spec_from_fd(fd)
        except BPFError as e:
            os.close(fd)
            raise MapError("reading map info failed", e.errno) from None
        if cls is Map:
            from .factory import map_class
            cls = map_class(spec.type)
        return cls(fd, spec, **options)

    def info(self):
        """The kernel's view of this map (bpf_map_info) as a dict."""
        from .spec import map_info
        return map_info(self.fd)

    def freeze(self):
        """Make the map read-only for user space (BPF programs may still write)."""
        try:
            bpf.map_freeze(self.fd)
        except BPFError as e:
            raise self._error("freeze", e) from None

    # --- element primitives, shared by the subclasses ----------------------------

    def _error(self, op, e, key=None):
        what = f"map {self.name!r}: {op}"
        if key is not None:
            what += f" of key {key!r}"
        if e.errno == errno.E2BIG:
            what += f" (the map is full: max_entries={self.max_entries})"
        elif e.errno in _UNSUPPORTED:
            t = self.type.name if isinstance(self.type, MapType) else self.type
            what += f" (not supported on {t} maps by this kernel)"
        return MapError(what + " failed", e.errno)

    @property
    def _value_buf_size(self):
        return self.value_size

    def _encode_key(self, key):
        return self.key_codec.encode(key)

    def _decode(self, codec, buf, offset):
        # bcc's API hands out ctypes objects; pybcc's own, plain Python values.
        if self.as_ctypes:
            return codec.decode_ctype(buf, offset)
        return codec.decode(buf, offset)

    def _decode_key(self, buf, offset=0):
        return self._decode(self.key_codec, buf, offset)

    def _encode_value(self, value):
        return self.value_codec.encode(value)

    def _decode_value(self, buf, offset=0):
        return self._decode(self.value_codec, buf, offset)

    def _elem_found(self, op, cmd, kbuf, vbuf=None, flags=0, key=None):
        """Run one element command; False if the kernel found no such element
        (ENOENT), MapError naming ``op`` for any other failure."""
        try:
            bpf.map_elem(cmd, self.fd, kbuf, vbuf, flags)
        except BPFError as e:
            if e.errno == errno.ENOENT:
                return False
            raise self._error(op, e, key) from None
        return True

    def _lookup_buf(self, kbuf, key=None, flags=0, cmd=Cmd.MAP_LOOKUP_ELEM, op="lookup"):
        """The raw value buffer for ``kbuf``; KeyError if absent."""
        vbuf = ctypes.create_string_buffer(self._value_buf_size)
        if not self._elem_found(op, cmd, kbuf, vbuf, flags, key):
            raise KeyError(key)
        return vbuf

    def _update_buf(self, kbuf, vbuf, key=None, flags=BPF_ANY):
        try:
            bpf.map_elem(Cmd.MAP_UPDATE_ELEM, self.fd, kbuf, vbuf, flags)
        except BPFError as e:
            raise self._error("update", e, key) from None

    def _delete_buf(self, kbuf, key=None):
        if not self._elem_found("delete", Cmd.MAP_DELETE_ELEM, kbuf, key=key):
            raise KeyError(key)

    def _next_key(self, kbuf):
        """The key after ``kbuf`` (the first key for None) as bytes; None at the end."""
        nxt = ctypes.create_string_buffer(self.key_size)
        if not self._elem_found("iteration (get next key)", Cmd.MAP_GET_NEXT_KEY, kbuf, nxt):
            return None
        return nxt


class HashMap(Map):
    """Dict-like access: m[k], m[k] = v, del m[k], in, iteration, items(), len."""

    def __getitem__(self, key):
        return self._decode_value(self._lookup_buf(self._encode_key(key), key))

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key, value):
        self._update_buf(self._encode_key(key), self._encode_value(value), key)

    def lookup_elem(self, key, flags=0):
        """Look up with explicit flags (BPF_F_LOCK for values holding a bpf_spin_lock)."""
        return self._decode_value(self._lookup_buf(self._encode_key(key), key, flags))

    def update_elem(self, key, value, flags=BPF_ANY):
        """Set with explicit flags: BPF_NOEXIST (insert only), BPF_EXIST (replace only)."""
        self._update_buf(self._encode_key(key), self._encode_value(value), key, flags)

    def __delitem__(self, key):
        self._delete_buf(self._encode_key(key), key)

    def zero(self, key=None):
        """Set one value, or without a key every value, to all-zero bytes (bcc's zero())."""
        zero = ctypes.create_string_buffer(self._value_buf_size)
        if key is not None:
            self._update_buf(self._encode_key(key), zero, key)
            return
        for kbuf in self._key_bufs():
            try:
                self._update_buf(kbuf, zero, flags=BPF_EXIST)
            except MapError as e:
                if e.errno != errno.ENOENT:     # deleted meanwhile: nothing to zero
                    raise

    def __contains__(self, key):
        try:
            self._lookup_buf(self._encode_key(key), key)
        except KeyError:
            return False
        return True

    def pop(self, key, default=_MISSING):
        """Look up and delete in one step (falls back to two on old kernels)."""
        kbuf = self._encode_key(key)
        try:
            try:
                vbuf = self._lookup_buf(kbuf, key, cmd=Cmd.MAP_LOOKUP_AND_DELETE_ELEM,
                                        op="lookup and delete")
            except MapError as e:
                if e.errno not in _UNSUPPORTED + (errno.EINVAL,):
                    raise
                vbuf = self._lookup_buf(kbuf, key)
                self._delete_buf(kbuf, key)
        except KeyError:
            if default is _MISSING:
                raise
            return default
        return self._decode_value(vbuf)

    # --- iteration -----------------------------------------------------------------

    def _key_bufs(self):
        """Yield each key's buffer once, even when keys are deleted meanwhile.

        The next key is fetched before the current one is handed out, so the
        caller may delete it. When a key vanishes under us the kernel restarts
        from the first key: already-seen keys are skipped, not repeated."""
        seen = set()
        cur = self._next_key(None)
        idle = 0
        while cur is not None:
            nxt = self._next_key(cur)
            raw = cur.raw
            if raw not in seen:
                seen.add(raw)
                idle = 0
                yield cur
            else:
                idle += 1
                if idle > self.max_entries + 1:   # keys churn faster than we walk
                    return
            cur = nxt

    def __iter__(self):
        for kbuf in self._key_bufs():
            yield self._decode_key(kbuf)

    def keys(self):
        return list(self)

    def items(self):
        """(key, value) pairs: by batches when the kernel can, else one by one."""
        if self._batch_ok(Cmd.MAP_LOOKUP_BATCH):
            try:
                return list(self.lookup_batch())
            except MapError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
        out = []
        for kbuf in self._key_bufs():
            try:
                vbuf = self._lookup_buf(kbuf)
            except KeyError:        # deleted since we saw its key
                continue
            out.append((self._decode_key(kbuf), self._decode_value(vbuf)))
        return out

    def values(self):
        return [v for _, v in self.items()]

    def __len__(self):
        return sum(1 for _ in self._key_bufs())

    def __bool__(self):
        return True

    def clear(self):
        """Delete every element."""
        keys = [k.raw for k in self._key_bufs()]
        if keys and self._batch_ok(Cmd.MAP_DELETE_BATCH):
            try:
                self._delete_batch_raw(keys)
                return
            except MapError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
        for raw in keys:
            try:
                self._delete_buf(ctypes.create_string_buffer(raw, len(raw)))
            except KeyError:
                pass

    # --- batch operations ------------------------------------------------------------

    _batch_support = None     # per instance: {cmd: bool}

    def _batch_ok(self, cmd):
        return (self._batch_support or {}).get(cmd, True)

    def _batch_call(self, cmd, in_batch, out_batch, keys, values, count, flags=0):
        """One batch syscall; returns (count done, finished?)."""
        try:
            n = bpf.map_batch(cmd, self.fd, in_batch, out_batch, keys, values, count, flags)
            return n, False
        except BPFError as e:
            if e.errno == errno.ENOENT:
                return getattr(e, "count", 0), True
            if e.errno in _UNSUPPORTED:
                support = dict(self._batch_support or {})
                support[cmd] = False          # remember: do not try again
                self._batch_support = support
            raise self._error(Cmd(cmd).name.lower().replace("_", " "), e) from None

    def array_bytes(self):
        """(count, buffer) of the values of an array map's elements 0..count-1,
        undecoded, as the kernel lays them out (a stride per CPU for a per-CPU
        array): one batched read where the kernel has one for arrays (5.7+),
        else a lookup per element. For readers that unpack plain counters
        themselves: decoding each value costs ~6 us."""
        n, size = self.max_entries, self._value_buf_size
        values = ctypes.create_string_buffer(size * n)
        if self._batch_ok(Cmd.MAP_LOOKUP_BATCH):
            keys = ctypes.create_string_buffer(self.key_size * n)
            try:
                count, _ = self._batch_call(Cmd.MAP_LOOKUP_BATCH, None,
                                            ctypes.create_string_buffer(8), keys, values, n)
                return count, values
            except MapError as e:
                if e.errno not in _UNSUPPORTED + (errno.EINVAL,):   # EINVAL: no such command
                    raise
                self._batch_support = {**(self._batch_support or {}), Cmd.MAP_LOOKUP_BATCH: False}
        for i in range(n):
            one = self._lookup_buf(ctypes.c_uint32(i), key=i)
            ctypes.memmove(ctypes.addressof(values) + i * size, one, size)
        return n, values

    def lookup_batch(self, chunk=256, delete=False):
        """Yield (key, value) for every element, ``chunk`` per syscall;
        with delete=True the elements are removed as they are read."""
        ks, vs = self.key_size, self._value_buf_size
        for n, keys, values in self._raw_batches(chunk, delete):
            for i in range(n):
                yield self._decode_key(keys, i * ks), self._decode_value(values, i * vs)

    def _raw_batches(self, chunk=256, delete=False):
        """Yield (count, keys buffer, values buffer) per batch syscall."""
        cmd = Cmd.MAP_LOOKUP_AND_DELETE_BATCH if delete else Cmd.MAP_LOOKUP_BATCH
        ks, vs = self.key_size, self._value_buf_size
        tok = max(ks, 8)
        in_b, out_b = None, ctypes.create_string_buffer(tok)
        while True:
            keys = ctypes.create_string_buffer(ks * chunk)
            values = ctypes.create_string_buffer(vs * chunk)
            try:
                n, done = self._batch_call(cmd, in_b, out_b, keys, values, chunk)
            except MapError as e:
                if e.errno == errno.ENOSPC and chunk < 1 << 20:   # one hash bucket > chunk
                    chunk *= 4
                    continue
                raise
            yield n, keys, values
            if done:
                return
            in_b, out_b = out_b, ctypes.create_string_buffer(tok)

    def items_bytes(self, chunk=1024):
        """(keys, values): every element's key and value undecoded, as the
        kernel lays them out, back to back (a stride per CPU for a per-CPU
        value), in the same order. For readers that unpack plain records
        themselves (struct.iter_unpack): decoding each costs ~5 us. Batched
        where the kernel can (5.6+), else a lookup per key."""
        ks, vs = self.key_size, self._value_buf_size
        if self._batch_ok(Cmd.MAP_LOOKUP_BATCH):
            try:
                parts = [(keys.raw[:n * ks], values.raw[:n * vs])
                         for n, keys, values in self._raw_batches(chunk)]
                return b"".join(k for k, _ in parts), b"".join(v for _, v in parts)
            except MapError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
        keys, values = [], []
        for kbuf in self._key_bufs():
            try:
                vbuf = self._lookup_buf(kbuf)
            except KeyError:        # deleted since we saw its key
                continue
            keys.append(kbuf.raw)
            values.append(vbuf.raw)
        return b"".join(keys), b"".join(values)

    def pop_all(self):
        """Read and delete every element (batched when possible): [(key, value)]."""
        if self._batch_ok(Cmd.MAP_LOOKUP_AND_DELETE_BATCH):
            try:
                return list(self.lookup_batch(delete=True))
            except MapError as e:
                if e.errno not in _UNSUPPORTED + (errno.EINVAL,):
                    raise
        out = []
        for kbuf in self._key_bufs():
            try:
                out.append((self._decode_key(kbuf), self._decode_value(self._lookup_buf(kbuf))))
                self._delete_buf(kbuf)
            except KeyError:
                continue
        return out

    def update_batch(self, pairs, flags=BPF_ANY):
        """Set many elements in one syscall (per element on old kernels)."""
        pairs = list(pairs.items() if isinstance(pairs, dict) else pairs)
        if not pairs:
            return
        if self._batch_ok(Cmd.MAP_UPDATE_BATCH):
            ks, vs = self.key_size, self._value_buf_size
            keys = ctypes.create_string_buffer(ks * len(pairs))
            values = ctypes.create_string_buffer(vs * len(pairs))
            for i, (k, v) in enumerate(pairs):
                kobj, vobj = self._encode_key(k), self._encode_value(v)   # alive during the copy
                ctypes.memmove(ctypes.addressof(keys) + i * ks, ctypes.addressof(kobj), ks)
                ctypes.memmove(ctypes.addressof(values) + i * vs, ctypes.addressof(vobj), vs)
            try:
                self._batch_call(Cmd.MAP_UPDATE_BATCH, None, None, keys, values, len(pairs), flags)
                return
            except MapError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
        for k, v in pairs:
            self.update_elem(k, v, flags)

    def delete_batch(self, keys):
        """Delete many keys; missing keys are ignored."""
        self._delete_batch_raw([bytes(self._encode_key(k)) for k in keys])

    def _delete_batch_raw(self, raws):
        ks = self.key_size
        while raws and self._batch_ok(Cmd.MAP_DELETE_BATCH):
            buf = ctypes.create_string_buffer(b"".join(raws), ks * len(raws))
            try:
                n, missing = self._batch_call(Cmd.MAP_DELETE_BATCH, None, None, buf, None, len(raws))
            except MapError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
                break
            if not missing:
                return
            raws = raws[n + 1:]     # the kernel stopped at a missing key: skip it
        for raw in raws:
            try:
                self._delete_buf(ctypes.create_string_buffer(raw, ks))
            except KeyError:
                pass
