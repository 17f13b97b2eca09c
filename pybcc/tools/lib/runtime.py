"""What every tool shares: its BPF object, attach choices, event loop, exit.

A tool's BPF C is ``pybcc/tools/NAME.bpf.c``, configured with ``const
volatile`` globals, so one cached object serves every invocation.
"""
import mmap
import os
import signal
import sys
import time

from ... import loader
from ...elf_reader import ObjectSpec, load_spec
from ...attach.link import close_all
from ...errors import AttachError, BPFError, LoadError, NotSupportedError, VerifierError
from ...kernel import bpf, features
from ...kernel.uapi import BPF_F_NO_PREALLOC
from .prebuilt import INCLUDE_DIR, TOOLS_DIR, tool_object  # noqa: F401 (tools import these)



# Ring buffer for events: room for bursts of ~3,000 events (a 256 KB
# one lost events at 40k/s in benchmarks/).
RINGBUF_SIZE = 1 << 20
# The events buffer a tool does not use (tool.h makes both a ring buffer and
# a perf array): as small as the kernel takes.
UNUSED_RINGBUF_SIZE = mmap.PAGESIZE
UNUSED_PERF_ARRAY_SIZE = 1
# Wake the reader once this fraction of the ring is waiting, not per event
# (see tool.h): per-event wake-ups cost the traced workload and the reader.
# The poll timeout (100 ms) bounds the delay at low rates.
RINGBUF_WAKEUP_FRACTION = 8


# A Ctrl-C (or SIGTERM) that comes before the tool's loop runs -- while it
# loads, attaches or prints its ready line -- is held, and the loop then
# ends at once with its final report: raised in the few bytecodes between
# "Tracing..." and the loop's try, it used to end runqlat with no histogram.
# A tool not in such a loop within HOLD_SECONDS gets it then, as before.
HOLD_SECONDS = 0.5
_held = False


def _hold_interrupt(signum, frame):
    if _held:                      # a second Ctrl-C: the user insists
        raise KeyboardInterrupt
    _raise_held_in(HOLD_SECONDS)


def _raise_held_in(seconds):
    """Hold a Ctrl-C now and raise it after ``seconds`` (see take_interrupts)."""
    global _held
    _held = True
    signal.signal(signal.SIGALRM, _hold_expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _hold_expired(signum, frame):
    take_interrupts()


# Python runs a signal's handler at whatever bytecode comes next, also inside
# a weakref callback or __del__ (the import system's module locks have one),
# and an exception raised there is printed as "Exception ignored" and dropped.
# A Ctrl-C lost that way left runqlat sleeping forever. So a KeyboardInterrupt
# dropped like that is held again and raised 10 ms later, outside the callback.
def _interrupt_dropped(unraisable):
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)
        return
    _raise_held_in(0.01)


def handle_signals():
    """Ctrl-C and SIGTERM end the tool through KeyboardInterrupt, so cleanup
    runs even when the shell started us with SIGINT ignored; until the
    tool's loop calls take_interrupts() they are held (see HOLD_SECONDS)."""
    global _wakeup
    signal.signal(signal.SIGINT, _hold_interrupt)
    signal.signal(signal.SIGTERM, _hold_interrupt)
    sys.unraisablehook = _interrupt_dropped
    if _wakeup is None:
        _wakeup, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)


# Python runs a signal's handler between bytecodes. One that arrives after
# the last of them and before time.sleep's clock_nanosleep() is only noted,
# and the sleep goes on: a Ctrl-C at that instant (runqlat sleeps 99999999 s)
# was never acted on. Its C handler also writes to this pipe (set_wakeup_fd),
# which sleep() waits on, so such a signal ends the wait at once.
_wakeup = None


def sleep(seconds):
    """time.sleep that a Ctrl-C or SIGTERM cannot slip past (see _wakeup)."""
    if _wakeup is None:                # not under run_tool
        time.sleep(seconds)
        return
    import select   # here, not at the top: another change owns those imports
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        # the handler runs (and raises) as select returns; a byte that was
        # for a signal already handled (a held Ctrl-C) is just drained
        if select.select([_wakeup], [], [], left)[0]:
            try:
                while os.read(_wakeup, 512):
                    pass
            except BlockingIOError:
                pass


def hold_interrupts():
    """Until take_interrupts(), Ctrl-C and SIGTERM are only noted (a second
    one, or HOLD_SECONDS, still ends the tool at once)."""
    signal.signal(signal.SIGINT, _hold_interrupt)
    signal.signal(signal.SIGTERM, _hold_interrupt)


def take_interrupts(raise_held=True):
    """The top of a loop's ``try`` whose except gives the final report: from
    here Ctrl-C raises KeyboardInterrupt at once, and one held since the
    start raises now."""
    global _held
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if _held:
        _held = False
        if raise_held:
            raise KeyboardInterrupt


# Hash maps whose entries are allocated as they are made (BPF_F_NO_PREALLOC)
# rather than all at creation are safe in tracing programs from 6.1 on, where
# bpf_mem_alloc serves them. Before, the verifier takes them with a kernel
# WARN_ONCE ("trace type BPF program uses run-time allocation"), or refuses
# them on PREEMPT_RT. No probe can tell without that warning, so the release
# decides; a kernel with the allocator backported just keeps preallocating.
_RUNTIME_ALLOC_SINCE = (6 << 16) | (1 << 8)     # KERNEL_VERSION(6, 1, 0)


def tracing_may_allocate():
    """Whether tracing programs may use hash maps allocated at run time."""
    return loader.externs.kernel_version_code() >= _RUNTIME_ALLOC_SINCE


class Tool:
    """A tool's loaded BPF object. Programs load on demand, so a program
    the running kernel cannot take is skipped in favour of a fallback."""

    def __init__(self, name, constants=None, events=False, map_sizes=None, pinned=None,
                 ringbuf_size=RINGBUF_SIZE, obj=None, no_prealloc=()):
        """``events``: the tool sends events (ring buffer where the kernel has
        one, else perf buffer; PYBCC_EVENTS=perf|ringbuf chooses);
        ``map_sizes``: {map: max_entries}; ``pinned``: {map: bpffs path}
        of a map someone else made (bcc's --cgroupmap/--mntnsmap); ``obj``:
        the compiled object, when it is not the tool's NAME.bpf.c (trace and
        argdist generate their C); ``no_prealloc``: hash maps to allocate
        entry by entry where the kernel allows it (tracing_may_allocate), not
        all at the start: worth it for big entries that are seldom all in use."""
        constants = dict(constants or {})
        map_sizes = dict(map_sizes or {})
        choice = os.environ.get("PYBCC_EVENTS", "")
        self.use_ringbuf = events and choice != "perf" and (
            choice == "ringbuf" or features.has_ringbuf())
        if events:
            constants["use_ringbuf"] = self.use_ringbuf
            if self.use_ringbuf:
                map_sizes.setdefault("events_rb", ringbuf_size)
                constants.setdefault("ringbuf_wakeup_bytes",
                                     map_sizes["events_rb"] // RINGBUF_WAKEUP_FRACTION)
        map_flags = {}
        if no_prealloc and tracing_may_allocate():
            map_flags = dict.fromkeys(no_prealloc, BPF_F_NO_PREALLOC)
        spec = load_spec(obj or tool_object(name)) if not isinstance(obj, ObjectSpec) else obj
        # (events=False still leaves tool.h's perf path working: opensnoop -b
        # reads its perf buffer so; the perf array is cheap, the ring is not)
        unused = ({"events_pb": UNUSED_PERF_ARRAY_SIZE} if self.use_ringbuf
                  else {"events_rb": UNUSED_RINGBUF_SIZE})
        for m, size in unused.items():
            if m in spec.maps:
                map_sizes.setdefault(m, size)
        reuse = {m: bpf.obj_get(path) for m, path in (pinned or {}).items()}
        try:
            self.coll = loader.load(spec, constants=constants, programs=[],
                                    map_sizes=map_sizes, map_flags=map_flags,
                                    reuse_maps=reuse)
        finally:
            for fd in reuse.values():
                os.close(fd)
        self.links = []
        self.mechanisms = []   # what attached: "tracepoint syscalls/sys_enter_execve", ...
        self.reader = None
        self.lost = 0

    @property
    def maps(self):
        return self.coll.maps

    def record(self, name="event", tail=None):
        """The decoder of ``struct name`` records, laid out from the object's
        BTF (see pybcc/events/records.py)."""
        from ...events.records import record_type
        return record_type(self.coll.spec.btf, name, tail)

    def attach(self, prog_name, target=None, **kw):
        """Load and attach one program; returns its Link."""
        prog = self.coll.load_program(prog_name)
        link = prog.attach(target, **kw)
        self.links.append(link)
        self.mechanisms.append(link.description)
        if os.environ.get("PYBCC_DEBUG"):
            print(f"pybcc: attached {link.description}", file=sys.stderr)
        return link

    def attach_uprobe(self, prog_name, path, func, retprobe=False, pid=None):
        """Attach a program to function ``func`` of the ELF file ``path`` (a
        uprobe, or a uretprobe); false when the file has no such function."""
        from ...attach import uprobe
        from ...symbols import elfsyms
        sym = elfsyms.find(path, func)
        if sym is None:
            return False
        prog = self.coll.load_program(prog_name)
        link = uprobe.attach_uprobe(prog.fd, path, offset=sym.offset, retprobe=retprobe,
                                    pid=pid or -1)
        self.links.append(link)
        self.mechanisms.append(f"{'uretprobe' if retprobe else 'uprobe'} {path}:{func}")
        if os.environ.get("PYBCC_DEBUG"):
            print(f"pybcc: attached {self.mechanisms[-1]}", file=sys.stderr)
        return True

    def attach_first(self, *choices):
        """Attach the first of (program, target) choices the kernel takes,
        e.g. a tp_btf program, else its raw tracepoint twin. Returns the
        program name used; raises the first choice's error if none works."""
        first_error = None
        for choice in choices:
            prog_name, target = choice if isinstance(choice, tuple) else (choice, None)
            try:
                self.attach(prog_name, target)
                return prog_name
            # (VerifierError: e.g. a CO-RE relocation this kernel cannot
            # satisfy poisoned the program, as slabratetop's tp_btf on 5.10)
            except (NotSupportedError, AttachError, LoadError, VerifierError) as e:
                first_error = first_error or e
        raise first_error

    # --- events ----------------------------------------------------------------

    def open_events(self, callback, page_cnt=64):
        """Deliver each event's bytes to ``callback(data)``, from the ring
        buffer or perf buffer the BPF side writes to (see tool.h)."""
        from ...events import PerfBuffer, RingBuffer
        if self.use_ringbuf:
            self.reader = RingBuffer(self.coll.map_fds["events_rb"], callback,
                                     lost_counter=self._ringbuf_drops)
        else:
            # Wake when a quarter of a CPU's ring is full, not per event (the
            # poll timeout bounds the delay): waking costs the traced workload.
            self.reader = PerfBuffer(self.coll.map_fds["events_pb"],
                                     lambda cpu, data, size: callback(data),
                                     lost_callback=self._perf_lost, page_cnt=page_cnt,
                                     wakeup_watermark=page_cnt * mmap.PAGESIZE // 4)
        return self.reader

    def _perf_lost(self, count):
        self.lost += count
        print(f"Possibly lost {count} samples", file=sys.stderr)

    def _ringbuf_drops(self):
        total = sum(self.maps["events_dropped"][0])
        if total > self.lost:
            print(f"Possibly lost {total - self.lost} samples", file=sys.stderr)
            self.lost = total
        return total

    def poll(self, timeout_ms=100):
        self.reader.poll(timeout_ms)
        if self.use_ringbuf:
            self._ringbuf_drops()

    def close(self):
        close_all(self.links)
        self.links = []
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        self.coll.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stream_events(tool, duration=None, should_stop=None, on_batch=None):
    """Poll until Ctrl-C, ``duration`` seconds, or should_stop() is true.
    ``on_batch()`` runs after each drained batch (and once at the end), before
    stdout is flushed: tools that collect their lines per event write them there."""
    deadline = time.monotonic() + duration if duration else None
    try:
        take_interrupts()
        while True:
            # A Ctrl-C raised inside an event's callback could split it (an
            # event printed but not added to a heat map): it is held while
            # the batch is dispatched and raised after it (within 100 ms).
            hold_interrupts()
            tool.poll(100)
            take_interrupts()
            if on_batch is not None:
                on_batch()
            sys.stdout.flush()   # once per batch: tools print events unflushed
            if should_stop is not None and should_stop():
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
    except KeyboardInterrupt:
        pass
    finally:
        # events wait in the ring below the wake-up mark: print what the
        # kernel committed before we stopped
        try:
            if tool.reader is not None:
                tool.poll(0)
        except (KeyboardInterrupt, BPFError):
            pass
        if on_batch is not None:
            on_batch()


def sleep_intervals(interval, count=None, duration=None, yield_on_interrupt=True):
    """Yield after each ``interval`` seconds; stop on count, duration or Ctrl-C.
    Yields True for the last interval (and once more at Ctrl-C, unless
    ``yield_on_interrupt`` is false)."""
    deadline = time.monotonic() + duration if duration else None
    n = 0
    try:
        take_interrupts()
        while True:
            sleep(interval if deadline is None else
                  max(0, min(interval, deadline - time.monotonic())))
            n += 1
            last = (count is not None and n >= count) or \
                   (deadline is not None and time.monotonic() >= deadline)
            yield last
            if last:
                return
    except KeyboardInterrupt:
        if yield_on_interrupt:
            yield True


def status(message, json=False):
    """A line for the person watching ("Tracing... Hit Ctrl-C to end."): on
    stdout as bcc prints it, or on stderr when stdout carries JSON lines."""
    out = sys.stderr if json else sys.stdout
    out.write(message + "\n")
    out.flush()


def fail(message, code=1):
    """Print an error the way tools do and exit."""
    print(message, file=sys.stderr)
    sys.exit(code)


def libc_or_fail(tool, pid=None):
    """The path of libc (the one PID maps, if given), for uprobes; else exit."""
    from ...symbols.libpath import find_library
    libc = find_library("c", pid)
    if not libc:
        fail(f"{tool}: cannot find libc" + (f" of PID {pid}" if pid else ""))
    return libc


def run_tool(main_fn, argv):
    """Run a tool's main with clean errors and exit codes."""
    handle_signals()
    try:
        return main_fn(argv)
    except BPFError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        return 0
    finally:
        take_interrupts(raise_held=False)
        sys.unraisablehook = sys.__unraisablehook__
