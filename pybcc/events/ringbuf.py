"""BPF ring buffer reader (BPF_MAP_TYPE_RINGBUF), one ring shared by all CPUs.

Layout of the map's mmap: page 0 holds consumer_pos (we write it), page 1
producer_pos (the kernel writes it), then the data area, which the kernel
maps twice in a row so a record never wraps. We map page 0 read-write and
the rest read-only.

Each record: u32 length with BUSY (bit 31, still being written) and DISCARD
(bit 30, dropped by bpf_ringbuf_discard) flags, u32 page offset, then the
data padded to 8 bytes. We stop at the first BUSY record, skip DISCARDed
ones, and publish consumer_pos after each pass so the kernel can reuse space.

Wake-ups: the kernel wakes the poller when a record is committed and the
reader has caught up, unless the program passes BPF_RB_NO_WAKEUP; such
records are still read on the next wake-up or when a poll times out.

Lost records: when the ring is full, bpf_ringbuf_reserve/output fail in the
BPF program and the kernel reports nothing to user space. The program must
count its failures (for example in an array map) for drops to be visible;
pass ``lost_counter``, a callable returning that running total, and ``.lost``
and ``lost_callback(count)`` report it. Without one, ``.lost`` is None
(unknown), never a made-up 0.
"""
import mmap
import struct

from ..errors import BPFError
from ..kernel import uapi
from ._reader import Reader, fd_of, map_info, map_type_name

PAGE_SIZE = mmap.PAGESIZE

_U64 = struct.Struct("<Q")
_BUSY = uapi.BPF_RINGBUF_BUSY_BIT
_DISCARD = uapi.BPF_RINGBUF_DISCARD_BIT
_LEN_MASK = 0xFFFFFFFF & ~(_BUSY | _DISCARD)


class RingBuffer(Reader):
    """Reads a BPF_MAP_TYPE_RINGBUF map.

    callback(data: bytes) is called per record; without a callback records
    wait in the batch returned by read_batch() (a list of bytes).
    lost_counter: optional callable returning the BPF side's count of failed
    reservations (see the module notes); lost_callback(count) gets increases.
    Not thread-safe: use a reader from one thread at a time.
    """

    def __init__(self, map, callback=None, lost_counter=None, lost_callback=None,
                 name="ring buffer"):
        super().__init__(callback)
        self.name = name
        self.map_fd = fd_of(map)
        self.lost_counter = lost_counter
        self.lost_callback = lost_callback
        self._lost_seen = 0
        self._cons_mm = self._data = self._words = self._prod_q = self._cons_q = None
        mtype, _, _, size = map_info(self.map_fd, name)
        if mtype != uapi.MapType.RINGBUF:
            raise BPFError(f"{name}: map fd {self.map_fd} is a {map_type_name(mtype)} map, "
                           "not RINGBUF")
        self.size = size
        self._mask = size - 1
        try:
            self._cons_mm = mmap.mmap(self.map_fd, PAGE_SIZE, mmap.MAP_SHARED,
                                      mmap.PROT_READ | mmap.PROT_WRITE)
            self._data = mmap.mmap(self.map_fd, PAGE_SIZE + 2 * size, mmap.MAP_SHARED,
                                   mmap.PROT_READ, offset=PAGE_SIZE)
        except OSError as e:
            self.close()
            raise BPFError(f"{name}: mapping the {size}-byte ring", e.errno)
        self._words = memoryview(self._data).cast("I")  # indexing beats struct per record
        # producer_pos and consumer_pos go through u64 views: item access is
        # one 8-byte load/store, where struct's "<Q" packs byte by byte; the
        # kernel reading a torn (smaller) consumer_pos sees a full ring and
        # drops records.
        self._cons = self._u64_views()[1][0]

    _prod_q = _cons_q = None

    def _u64_views(self):
        if self._prod_q is None:
            self._prod_q = memoryview(self._data).cast("Q")
            self._cons_q = memoryview(self._cons_mm).cast("Q")
        return self._prod_q, self._cons_q

    def _poll_fds(self):
        return [(self.map_fd, None)]

    def _collect_all(self):
        return self._collect(None)

    def _collect(self, _key):
        """Copy the committed records out (up to one ring's worth), then
        publish consumer_pos.
        Returns how many records it added to the pending batch."""
        mm = self._data
        cons = self._cons
        mask = self._mask
        pending = self._pending
        before = len(pending)
        append = pending.append
        words = self._words
        prod_q, cons_q = self._u64_views()
        busy = False
        # At most one ring's worth per call: a producer faster than this loop
        # (a snoop tool under a syscall flood) must not keep it here, the
        # pending batch growing, past a Ctrl-C; what it cannot keep up with
        # the BPF side counts as lost.
        limit = cons + self.size
        while not busy and cons < limit:
            prod = prod_q[0]
            if cons >= prod:
                break
            start = cons
            while cons < prod:
                p = PAGE_SIZE + (cons & mask)
                hdr = words[p >> 2]
                if hdr & _BUSY:
                    busy = True
                    break
                n = hdr & _LEN_MASK
                cons += (n + 15) & ~7  # 8-byte header + data, 8-aligned
                if not hdr & _DISCARD:
                    append(mm[p + 8:p + 8 + n])
            if cons != start:
                self._cons = cons
                cons_q[0] = cons   # one 8-byte store (see __init__)
        return len(pending) - before

    @property
    def lost(self):
        """Records the BPF side failed to reserve, or None if no counter was given."""
        return None if self.lost_counter is None else self.lost_counter()

    def _report_lost(self):
        if self.lost_callback is not None and self.lost_counter is not None:
            total = self.lost_counter()
            if total > self._lost_seen:
                count, self._lost_seen = total - self._lost_seen, total
                self.lost_callback(count)

    def _invoker(self, callback):
        return callback     # pending records are the data alone

    def close(self):
        """Unmap the ring. The map fd belongs to the caller and stays open."""
        if self.closed:
            return
        self.closed = True
        self._close_poller()
        for view in (self._words, self._prod_q, self._cons_q):
            if view is not None:
                view.release()
        for mm in (self._cons_mm, self._data):
            if mm is not None:
                mm.close()
        self._cons_mm = self._data = self._words = self._prod_q = self._cons_q = None
