"""Perf buffer, ring buffer and Poller against the real kernel (root)."""
import os
import struct
import threading

import pytest

from pybcc.errors import BPFError
from pybcc.events import PerfBuffer, Poller, RingBuffer
from pybcc.kernel.cpus import parse_cpu_list

import events_helpers as h

REC = struct.Struct("<QQ")


def test_parse_cpu_list():
    assert parse_cpu_list("0-3,5,7-8\n") == [0, 1, 2, 3, 5, 7, 8]
    assert parse_cpu_list("0") == [0]


@pytest.fixture
def probe(root, request):
    made = []

    def make(kind, **kw):
        p = h.Probe(kind, **kw)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


@pytest.fixture
def one_cpu():
    """Pin the test to one CPU so every event lands in one perf ring."""
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(old)})
    yield min(old)
    os.sched_setaffinity(0, old)


def check_records(payloads, n):
    """Every record is ours and the sequence numbers are exactly 0..n-1."""
    seqs = []
    for data in payloads:
        pid_tgid, seq = REC.unpack_from(data)
        assert pid_tgid >> 32 == os.getpid()
        seqs.append(seq)
    assert sorted(seqs) == list(range(n))


def drain(reader, want, tries=50):
    got = 0
    for _ in range(tries):
        got += reader.poll(100)
        if got >= want:
            break
    return got


# --- perf buffer ------------------------------------------------------------

def test_perf_callback_all_arrive(probe):
    p = probe("perf")
    got = []
    with PerfBuffer(p.out, lambda cpu, data, size: got.append((cpu, data, size)),
                    page_cnt=64) as pb:
        h.trigger(2000)
        assert drain(pb, 2000) == 2000
        assert pb.lost == 0
        cpus = set(pb.cpus)
    assert p.sent == 2000 and p.failed == 0
    # 16 bytes of payload arrive padded to 20 (u32 size + data is 8-aligned).
    assert all(size == len(data) == 20 for _, data, size in got)
    assert {cpu for cpu, _, _ in got} <= cpus
    check_records([d for _, d, _ in got], 2000)


def test_perf_batch_and_wraparound(probe):
    # 24-byte payload: 40-byte records do not divide the 4096-byte ring, so
    # records straddle its end; reading in rounds goes around it many times.
    p = probe("perf", size=24)
    batch = []
    with PerfBuffer(p.out, page_cnt=1) as pb:
        for _ in range(40):
            h.trigger(50)
            batch += pb.read_batch()
        assert pb.lost == 0
    assert len(batch) == 2000
    for cpu, data in batch:
        assert len(data) == 28
        assert struct.unpack_from("<Q", data, 16)[0] == h.MARKER
    check_records([d for _, d in batch], 2000)


def test_perf_overrun_reports_lost(probe, one_cpu):
    p = probe("perf")
    lost_calls = []
    got = []
    with PerfBuffer(p.out, lambda c, d, s: got.append(d), lost_callback=lost_calls.append,
                    page_cnt=1) as pb:
        h.trigger(1000)              # 32-byte records: only 127 fit in one page
        pb.consume()
        if pb._lost_readable:        # Linux 6.0+: the event's counter is read at once
            assert pb.lost == p.failed > 0
        h.trigger(1)                 # the kernel writes the LOST record with the next sample
        pb.consume()
        assert pb.lost > 0
        assert sum(lost_calls) == pb.lost
        assert len(got) + pb.lost == p.sent == 1001
        assert pb.lost == p.failed   # the kernel's count matches the program's, once


def test_perf_lost_accumulates_without_callback(probe, one_cpu):
    p = probe("perf")
    with PerfBuffer(p.out, page_cnt=1) as pb:
        h.trigger(500)
        n = len(pb.read_batch())
        h.trigger(1)
        n += len(pb.read_batch())
        assert pb.lost > 0 and n + pb.lost == p.sent == 501


def test_perf_lost_records_alone(probe, one_cpu, monkeypatch):
    """Without PERF_FORMAT_LOST (kernels before 6.0) LOST records suffice."""
    import pybcc.events.perfbuf as perfbuf
    monkeypatch.setattr(perfbuf, "_lost_format_ok", False)
    p = probe("perf")
    with PerfBuffer(p.out, page_cnt=1) as pb:
        assert not pb._lost_readable
        h.trigger(500)
        n = len(pb.read_batch())
        assert pb.lost == 0          # not known until the kernel writes again
        h.trigger(1)
        n += len(pb.read_batch())
        assert pb.lost == p.failed > 0 and n + pb.lost == p.sent == 501


def test_perf_watermark_drained_on_timeout(probe):
    p = probe("perf")
    got = []
    with PerfBuffer(p.out, lambda c, d, s: got.append(d), wakeup_watermark=1 << 20) as pb:
        h.trigger(10)
        assert pb.poll(50) == 10     # no wake-up below the watermark; the timeout drains
    check_records(got, 10)


def test_perf_wrong_map_type(probe):
    p = probe("ringbuf")
    with pytest.raises(BPFError, match="not PERF_EVENT_ARRAY"):
        PerfBuffer(p.out)
    with pytest.raises(ValueError):
        PerfBuffer(p.out, page_cnt=3)


# --- ring buffer ------------------------------------------------------------

def test_ringbuf_callback_all_arrive(probe):
    p = probe("ringbuf")
    got = []
    with RingBuffer(p.out, got.append) as rb:
        h.trigger(2000)
        assert drain(rb, 2000) == 2000
        assert rb.lost is None       # unknown: no counter given
    assert all(len(d) == 16 for d in got)
    check_records(got, 2000)


def test_ringbuf_batch_and_wraparound(probe):
    # 24-byte records do not divide 4096: records straddle the end of the
    # data area and are read through its second mapping.
    p = probe("ringbuf", ringbuf_size=4096)
    batch = []
    with RingBuffer(p.out) as rb:
        for _ in range(40):
            h.trigger(50)
            batch += rb.read_batch()
    assert p.failed == 0
    check_records(batch, 2000)


def test_ringbuf_overrun_with_counter(probe):
    p = probe("ringbuf", ringbuf_size=4096)
    got = []
    lost_calls = []
    with RingBuffer(p.out, got.append, lost_counter=lambda: p.failed,
                    lost_callback=lost_calls.append) as rb:
        h.trigger(1000)
        rb.consume()
        assert rb.lost > 0
        assert sum(lost_calls) == rb.lost
        assert len(got) + rb.lost == p.sent == 1000


def test_ringbuf_no_wakeup_drained_on_timeout(probe):
    p = probe("ringbuf", rb_flags=h.BPF_RB_NO_WAKEUP)
    got = []
    with RingBuffer(p.out, got.append) as rb:
        h.trigger(10)
        assert rb.poll(50) == 10
    check_records(got, 10)


def test_ringbuf_skips_discarded(probe):
    p = probe("reserve", ringbuf_size=4096)
    got = []
    with RingBuffer(p.out, got.append) as rb:
        for _ in range(10):              # 10 x 100 x 24 bytes: around the ring 5 times
            h.trigger(100)
            rb.consume()
    assert p.failed == 0
    seqs = sorted(REC.unpack_from(d)[1] for d in got)
    assert seqs == list(range(0, 1000, 2))


def test_ringbuf_wrong_map_type(probe):
    p = probe("perf")
    with pytest.raises(BPFError, match="not RINGBUF"):
        RingBuffer(p.out)


# --- poller, callbacks, closing ---------------------------------------------

def test_poller_mixed_readers_blocking(probe):
    pp, rp = probe("perf"), probe("ringbuf")
    perf_got, ring_got = [], []
    with Poller([PerfBuffer(pp.out, lambda c, d, s: perf_got.append(d)),
                 RingBuffer(rp.out, ring_got.append)]) as poller:
        t = threading.Timer(0.2, h.trigger, (300,))
        t.start()
        total = 0
        for _ in range(100):
            total += poller.poll(5000)
            if total >= 600:
                break
        t.join()
        assert total == 600
    check_records(perf_got, 300)
    check_records(ring_got, 300)


def test_callback_exception_keeps_the_rest(probe):
    p = probe("ringbuf")
    got = []

    def cb(data):
        got.append(data)
        if len(got) == 3:
            raise KeyboardInterrupt

    with RingBuffer(p.out, cb) as rb:
        h.trigger(10)
        with pytest.raises(KeyboardInterrupt):
            rb.consume()
        rb.consume()
    check_records(got, 10)


def _fd_count():
    return len(os.listdir("/proc/self/fd"))


def test_close_releases_everything(probe):
    p, r = probe("perf"), probe("ringbuf")
    before = _fd_count()
    pb = PerfBuffer(p.out, lambda *a: None)
    rb = RingBuffer(r.out, lambda d: None)
    poller = Poller([pb, rb])
    pb.poll(0)                      # creates its private poller too
    assert _fd_count() > before
    poller.close()
    assert pb.closed and rb.closed
    assert _fd_count() == before
    pb.close()                      # idempotent
    poller.close()


def test_perf_wakeup_events_batches(probe):
    p = probe("perf")
    got = []
    with PerfBuffer(p.out, lambda c, d, s: got.append(d), wakeup_events=1000) as pb:
        h.trigger(10)
        assert pb.poll(50) == 10     # below wakeup_events: the timeout drains
    check_records(got, 10)


def test_poller_skips_closed_reader(probe):
    p, r = probe("perf"), probe("ringbuf")
    got = []
    pb = PerfBuffer(p.out, lambda c, d, s: got.append(d))
    rb = RingBuffer(r.out, lambda d: None)
    with Poller([pb, rb]) as poller:
        rb.close()
        h.trigger(5)
        assert drain(poller, 5) == 5
        assert poller.readers == [pb]
    check_records(got, 5)


def test_not_a_map(root):
    r, w = os.pipe()
    try:
        with pytest.raises(BPFError, match="not an open BPF map"):
            RingBuffer(r)
    finally:
        os.close(r)
        os.close(w)


# --- record parsing on fake rings (no root) ---------------------------------

def _fake_perf_ring(records, start):
    """A PerfBuffer over an anonymous 1-page ring holding ``records`` (raw
    record bytes) written from position ``start``, wrapping at the end."""
    import mmap
    from pybcc.events import perfbuf
    mm = mmap.mmap(-1, 2 * mmap.PAGESIZE)
    size = mmap.PAGESIZE
    struct.pack_into("<QQQQ", mm, 1024, 0, start, mmap.PAGESIZE, size)
    pos = start
    for rec in records:
        for i, b in enumerate(rec):
            mm[size + (pos + i) % size] = b
        pos += len(rec)
    struct.pack_into("<Q", mm, 1024, pos)               # data_head
    pb = object.__new__(perfbuf.PerfBuffer)
    perfbuf.Reader.__init__(pb, None)
    pb.name, pb.lost, pb._lost_new, pb.lost_callback = "fake", 0, 0, None
    pb._lost_readable = False
    ring = perfbuf._Ring(3, -1, mm)
    pb._rings = []                                      # close() must not touch the fake
    return pb, ring, mm, pos


def _sample(payload):
    raw = struct.pack("<I", len(payload)) + payload
    raw += b"\0" * (-(8 + len(raw)) % 8)
    return struct.pack("<IHH", 9, 0, 8 + len(raw)) + raw


def _lost(n):
    return struct.pack("<IHHQQ", 2, 0, 24, 77, n)


@pytest.mark.parametrize("start", [4096 - 8, 4096 - 16, 4096 - 24, 4096 * 5 - 40, 0])
def test_perf_parse_wrapping_records(start):
    recs = [_sample(b"A" * 20), _lost(5), _sample(b"B" * 4), _lost(2), _sample(b"C" * 100)]
    pb, ring, mm, end = _fake_perf_ring(recs, start)
    assert pb._collect(ring) == 3
    assert [(c, d[:len(p)]) for (c, d), p in zip(pb._pending, [b"A" * 20, b"B" * 4, b"C" * 100])] \
        == [(3, b"A" * 20), (3, b"B" * 4), (3, b"C" * 100)]
    assert pb.lost == 7
    assert struct.unpack_from("<Q", mm, 1032)[0] == end    # data_tail published
    assert pb._collect(ring) == 0
    ring.words.release()


def _fake_ringbuf(entries, start=0, size=4096):
    """A RingBuffer over anonymous memory laid out like the kernel's mapping,
    with the data area repeated so records run on past its end."""
    import mmap
    from pybcc.events import ringbuf
    page = mmap.PAGESIZE
    data = mmap.mmap(-1, page + 2 * size)
    cons = mmap.mmap(-1, page)
    struct.pack_into("<Q", cons, 0, start)
    pos = start
    for flags, payload in entries:
        rec = struct.pack("<II", len(payload) | flags, 0) + payload
        rec += b"\0" * (-len(rec) % 8)
        off = pos % size
        for copy in (off, off + size):            # both views of the data area
            if copy + len(rec) <= 2 * size:
                data[page + copy:page + copy + len(rec)] = rec
        wrapped = off + len(rec) - size
        if wrapped > 0:
            data[page:page + wrapped] = rec[len(rec) - wrapped:]
        pos += len(rec)
    struct.pack_into("<Q", data, 0, pos)          # producer_pos
    rb = object.__new__(ringbuf.RingBuffer)
    ringbuf.Reader.__init__(rb, None)
    rb.size, rb._mask, rb._cons_mm, rb._data = size, size - 1, cons, data
    rb._words = memoryview(data).cast("I")
    rb._cons = start
    rb.lost_counter = rb.lost_callback = None
    return rb, cons


def test_ringbuf_parse_busy_discard_wrap():
    from pybcc.kernel import uapi
    entries = [(0, b"one"), (uapi.BPF_RINGBUF_DISCARD_BIT, b"gone"), (0, b"two" * 10),
               (uapi.BPF_RINGBUF_BUSY_BIT, b"later"), (0, b"after busy")]
    rb, cons = _fake_ringbuf(entries, start=4096 * 3 - 16)
    assert rb._collect(None) == 2
    assert rb.read_batch() == [b"one", b"two" * 10]
    # consumer_pos stops at the busy record: 16 + 16 + 40 bytes in
    assert struct.unpack_from("<Q", cons, 0)[0] == 4096 * 3 - 16 + 72
    rb.close()
