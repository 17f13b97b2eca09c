"""How many events per second a Python reader takes out of a perf buffer and
a ring buffer (run as root).

drain: fill the buffer first (this process calls getppid, pinned to one CPU),
       then time only the reading: the reader's own ceiling.
live:  a child process calls getppid in a loop on the other CPU while we
       poll; reports what arrived per second and what was lost.
"""
import argparse
import os
import struct
import subprocess
import sys
import time

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", "tests"),
                os.path.join(os.path.dirname(__file__), "..")]

import events_helpers as h  # noqa: E402
from pybcc.events import PerfBuffer, RingBuffer  # noqa: E402

REC = struct.Struct("<QQ")


def make_reader(kind, probe, cb, big=True):
    if kind == "perf":
        wrapped = None if cb is None else (lambda cpu, data, size: cb(data))
        return PerfBuffer(probe.out, wrapped, page_cnt=4096 if big else 64)
    return RingBuffer(probe.out, cb)


def drain(kind, n, mode):
    cpu = min(os.sched_getaffinity(0))
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    probe = h.Probe(kind, ringbuf_size=1 << 25)
    count = [0]
    if mode == "noop":
        def cb(data):
            count[0] += 1
    elif mode == "unpack":
        unpack = REC.unpack_from

        def cb(data):
            unpack(data)
            count[0] += 1
    else:
        cb = None
    try:
        with make_reader(kind, probe, cb) as r:
            h.trigger(n)
            t0 = time.perf_counter()
            if cb is None:
                got = len(r.read_batch())
            else:
                r.consume()
                got = count[0]
            dt = time.perf_counter() - t0
        lost = probe.failed
    finally:
        probe.close()
        os.sched_setaffinity(0, old)
    return got, lost, got / dt


def live(kind, seconds, mode, watermark):
    cpus = sorted(os.sched_getaffinity(0))
    child_cpu = cpus[-1]
    child = subprocess.Popen([sys.executable, "-c",
                              "import os,sys,time\n"
                              "os.sched_setaffinity(0, {%d})\n"
                              "sys.stdin.readline()\n"
                              "g=os.getppid; end=time.time()+%f\n"
                              "while time.time()<end:\n"
                              "    for _ in range(1000): g()\n" % (child_cpu, seconds)],
                             stdin=subprocess.PIPE)
    probe = h.Probe(kind, ringbuf_size=1 << 22, pid=child.pid)
    count = [0]

    def cb(data):
        count[0] += 1
    try:
        if kind == "perf":
            r = PerfBuffer(probe.out, lambda c, d, s: cb(d), page_cnt=256,
                           wakeup_watermark=watermark)
        else:
            r = RingBuffer(probe.out, cb)
        with r:
            child.stdin.write(b"go\n")
            child.stdin.flush()
            t0 = time.perf_counter()
            while child.poll() is None:
                r.poll(100)
            r.consume()
            dt = time.perf_counter() - t0
            lost = r.lost if kind == "perf" else probe.failed
        sent = probe.sent
    finally:
        child.wait()
        probe.close()
    return count[0], lost, sent, count[0] / dt


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=200000, help="events for the drain test")
    ap.add_argument("-t", type=float, default=3.0, help="seconds for the live test")
    args = ap.parse_args()
    print("drain (reader ceiling, buffer pre-filled):")
    for kind in ("ringbuf", "perf"):
        for mode in ("batch", "noop", "unpack"):
            # best of three: the first run also pays for cold caches and pages
            got, lost, rate = max((drain(kind, args.n, mode) for _ in range(3)),
                                  key=lambda r: r[2])
            print(f"  {kind:8} {mode:7} {got:8} events  lost {lost:6}  {rate / 1e6:6.2f} M events/s")
    print("live (producer process on another CPU):")
    for kind, wm in (("ringbuf", None), ("perf", None), ("perf", 64 * 1024)):
        got, lost, sent, rate = live(kind, args.t, "noop", wm)
        label = kind + (f" wm={wm // 1024}K" if wm else "")
        print(f"  {label:15} sent {sent:8}  got {got:8}  lost {lost:7}  {rate / 1e3:8.1f} K events/s")


if __name__ == "__main__":
    main()
