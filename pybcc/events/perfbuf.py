"""Perf buffer reader: one perf ring per CPU behind a PERF_EVENT_ARRAY map.

BPF programs write with bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU,
data, size). For each online CPU we open a PERF_COUNT_SW_BPF_OUTPUT event,
mmap its ring and store its fd in the map at that CPU's index.

Record format (PERF_SAMPLE_RAW only): an 8-byte header (u32 type, u16 misc,
u16 size), then u32 raw size and the raw bytes. The kernel pads the raw part
so the record stays 8-byte aligned, so callers see ``size`` rounded up to
4 mod 8 (an 8-byte payload arrives as 12 bytes), as with bcc.

Lost samples: when a ring is full the kernel counts the drops and writes one
PERF_RECORD_LOST into the ring the next time it has room. Since Linux 6.0 the
event's own lost counter can also be read at any time (PERF_FORMAT_LOST); we
read it on every full drain (consume, read_batch, a poll that timed out), so
drops show up even if that CPU never writes again. Every new drop is added to
``.lost`` and, if given, passed to ``lost_callback(count)``; both sources
count the same drops, so nothing is counted twice.
"""
import ctypes
import errno
import mmap
import os
import struct

from ..errors import BPFError
from ..kernel import bpf, uapi
from ..kernel.cpus import online_cpus
from ._reader import Reader, fd_of, map_info, map_type_name

PAGE_SIZE = mmap.PAGESIZE

# struct perf_event_mmap_page field offsets.
_DATA_HEAD = 1024
_DATA_TAIL = 1032
_DATA_OFFSET = 1040
_DATA_SIZE = 1048

_U64 = struct.Struct("<Q")
_LOST = struct.Struct("<16xQ")         # header and id skipped, lost count
_SAMPLE = uapi.PERF_RECORD_SAMPLE
_LOST_T = uapi.PERF_RECORD_LOST
PERF_FORMAT_LOST = 1 << 4  # read() also returns the event's lost count (6.0+)

_lost_format_ok = True  # cleared once the kernel rejects PERF_FORMAT_LOST


def _open_event(cpu, wakeup_events, watermark, what):
    """One BPF output event on ``cpu``; returns (fd, has PERF_FORMAT_LOST)."""
    global _lost_format_ok
    attr = dict(type=uapi.PERF_TYPE_SOFTWARE, config=uapi.PERF_COUNT_SW_BPF_OUTPUT,
                sample_type=uapi.PERF_SAMPLE_RAW, sample_period=1)
    if watermark:
        # wakeup_watermark shares its word with wakeup_events in the attr.
        attr.update(flags=uapi.PERF_ATTR_WATERMARK, wakeup_events=int(watermark))
    else:
        attr.update(wakeup_events=max(1, int(wakeup_events)))
    while True:
        if _lost_format_ok:
            attr["read_format"] = PERF_FORMAT_LOST
        try:
            return _perf_event_open(cpu, attr, what), _lost_format_ok
        except BPFError as e:
            if e.errno != errno.EINVAL or not _lost_format_ok:
                raise
            _lost_format_ok = False
            attr.pop("read_format")


def _perf_event_open(cpu, attr, what):
    return bpf.perf_event_open(pid=-1, cpu=cpu, what=what, **attr)


class _Ring:
    __slots__ = ("cpu", "fd", "mm", "words", "qwords", "base", "size", "tail", "lost", "rec_lost")

    def __init__(self, cpu, fd, mm):
        self.cpu, self.fd, self.mm = cpu, fd, mm
        self.words = memoryview(mm).cast("I")  # indexing beats struct per record
        # data_head/data_tail go through a u64 view: its item access is one
        # 8-byte load/store, where struct's "<Q" packs byte by byte, and the
        # kernel reading a torn data_tail sees a full ring and drops samples.
        self.qwords = memoryview(mm).cast("Q")
        self.lost = 0       # drops reported to the caller
        self.rec_lost = 0   # drops seen in PERF_RECORD_LOST records
        # data_offset/data_size exist since Linux 4.1; before, data starts
        # one page in and fills the rest of the mapping.
        self.base = _U64.unpack_from(mm, _DATA_OFFSET)[0] or PAGE_SIZE
        self.size = _U64.unpack_from(mm, _DATA_SIZE)[0] or (len(mm) - PAGE_SIZE)
        self.tail = _U64.unpack_from(mm, _DATA_TAIL)[0]

    def close(self):
        self.words.release()  # mmap refuses to close while a view exists
        self.qwords.release()
        self.mm.close()
        os.close(self.fd)


class PerfBuffer(Reader):
    """Reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY.

    callback(cpu, data: bytes, size) is called per sample; without a callback
    samples wait in the batch returned by read_batch() as (cpu, bytes).
    page_cnt: data pages per CPU (a power of two).
    wakeup_events: wake the poller every this many samples (1, the default,
    is bcc's behaviour and costs a wake-up per event);
    wakeup_watermark: or wake once this many bytes are in a ring.
    Samples short of either are drained when a poll times out, so batch
    with a finite poll timeout.
    cpus: CPUs to open rings on (default: all online CPUs).
    Not thread-safe: use a reader from one thread at a time.
    """

    def __init__(self, map, callback=None, lost_callback=None, page_cnt=8,
                 wakeup_events=1, wakeup_watermark=None, cpus=None, name="perf buffer"):
        super().__init__(callback)
        if page_cnt <= 0 or page_cnt & (page_cnt - 1):
            raise ValueError(f"{name}: page_cnt must be a power of two, not {page_cnt}")
        self.name = name
        self.map_fd = fd_of(map)
        self.lost_callback = lost_callback
        self.lost = 0
        self._lost_new = 0
        self._rings = []
        self._lost_readable = False
        mtype, _, _, max_entries = map_info(self.map_fd, name)
        if mtype != uapi.MapType.PERF_EVENT_ARRAY:
            raise BPFError(f"{name}: map fd {self.map_fd} is a {map_type_name(mtype)} map, "
                           "not PERF_EVENT_ARRAY")
        cpus = online_cpus() if cpus is None else list(cpus)
        if cpus and max(cpus) >= max_entries:
            raise BPFError(f"{name}: map has {max_entries} entries but CPU {max(cpus)} is "
                           "online; size it with max_entries >= number of possible CPUs")
        try:
            for cpu in cpus:
                self._rings.append(self._open_ring(cpu, page_cnt, wakeup_events,
                                                   wakeup_watermark))
        except BaseException:
            self.close()
            raise

    def _open_ring(self, cpu, page_cnt, wakeup_events, watermark):
        fd, self._lost_readable = _open_event(
            cpu, wakeup_events, watermark,
            f"{self.name}: opening the BPF output event on CPU {cpu}")
        try:
            mm = mmap.mmap(fd, (1 + page_cnt) * PAGE_SIZE, mmap.MAP_SHARED,
                           mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            os.close(fd)
            raise BPFError(f"{self.name}: mapping {page_cnt} pages on CPU {cpu}", e.errno)
        ring = _Ring(cpu, fd, mm)
        try:
            bpf.map_elem(uapi.Cmd.MAP_UPDATE_ELEM, self.map_fd,
                              ctypes.c_uint32(cpu), ctypes.c_uint32(fd))
        except BPFError as e:
            ring.close()
            raise BPFError(f"{self.name}: storing CPU {cpu}'s event in the map", e.errno)
        return ring

    @property
    def cpus(self):
        return [r.cpu for r in self._rings]

    def _poll_fds(self):
        return [(r.fd, r) for r in self._rings]

    def _collect_all(self):
        n = 0
        for r in self._rings:
            n += self._collect(r)
        self.update_lost()
        return n

    def update_lost(self):
        """Read each event's lost counter from the kernel (Linux 6.0+) and
        report drops not yet seen as PERF_RECORD_LOST. Returns ``.lost``."""
        if self._lost_readable:
            for r in self._rings:
                _, total = struct.unpack("<QQ", os.read(r.fd, 16))
                self._credit_lost(r, total)
        return self.lost

    def _credit_lost(self, ring, total):
        # Both sources are running totals of the same drops: report the excess.
        if total > ring.lost:
            self.lost += total - ring.lost
            self._lost_new += total - ring.lost
            ring.lost = total

    def _collect(self, ring):
        """Copy every complete record out of one ring, then free the space.
        Returns how many samples it added to the pending batch."""
        mm = ring.mm
        head = ring.qwords[_DATA_HEAD >> 3]
        tail = ring.tail
        if tail == head:
            return 0
        base, size, cpu = ring.base, ring.size, ring.cpu
        mask = size - 1
        words = ring.words
        pending = self._pending
        before = len(pending)
        append = pending.append
        lost = 0
        while tail < head:
            off = tail & mask
            p = base + off
            # Headers are 8-byte aligned, so a header itself never wraps:
            # word 0 is the type, the top half of word 1 the record size.
            rtype = words[p >> 2]
            rsize = words[(p >> 2) + 1] >> 16
            if off + rsize <= size:
                if rtype == _SAMPLE:
                    append((cpu, mm[p + 12:p + rsize]))
                elif rtype == _LOST_T:
                    lost += _LOST.unpack_from(mm, p)[0]
                elif rsize < 8:
                    raise BPFError(f"{self.name}: corrupt record (size {rsize}) on CPU {cpu}")
            else:
                # The record wraps at the ring's end: join its two parts.
                first = size - off
                rec = mm[p:base + size] + mm[base:base + rsize - first]
                if rtype == _SAMPLE:
                    append((cpu, rec[12:]))
                elif rtype == _LOST_T:
                    lost += _LOST.unpack_from(rec, 0)[0]
            tail += rsize
        ring.tail = tail
        ring.qwords[_DATA_TAIL >> 3] = tail   # one 8-byte store (see _Ring)
        if lost:
            ring.rec_lost += lost
            self._credit_lost(ring, ring.rec_lost)
        return len(pending) - before

    def _report_lost(self):
        if self._lost_new and self.lost_callback is not None:
            count, self._lost_new = self._lost_new, 0
            self.lost_callback(count)

    def _invoker(self, callback):
        # Pending records are (cpu, data); bcc's callback takes (cpu, data, size).
        return lambda rec: callback(rec[0], rec[1], len(rec[1]))

    def close(self):
        """Remove our events from the map, unmap the rings, close the fds."""
        if self.closed:
            return
        self.closed = True
        self._close_poller()
        for r in getattr(self, "_rings", ()):
            try:
                bpf.map_elem(uapi.Cmd.MAP_DELETE_ELEM, self.map_fd, ctypes.c_uint32(r.cpu))
            except BPFError:
                pass  # the map may already be gone
            r.close()
        self._rings = []
