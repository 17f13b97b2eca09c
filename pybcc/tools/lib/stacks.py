"""What the stack tools share (profile, offcputime, stackcount, memleak, trace).

A counted stack becomes a ``Stack``: who (comm, pid), its kernel and user
frames innermost first, and its value (samples, microseconds, bytes, ...).
From there it is written in one of bcc's two layouts, one frame per line or
folded for flame graphs (``folded_stacks`` yields the (frames, value) pairs),
or as a JSON object with the frames as a list, each marked kernel or user.
"""
import errno
import os
import sys
from collections import namedtuple

from ...output.table import write_json
# symbols' modules are imported when a stack is named: a tool with kernel
# stacks only never loads the ELF reader (and lzma, json, shutil with it)
from ... import symbols
from .runtime import sleep, status, take_interrupts

# (bpf_trampoline_: 5.10's fentry stacks keep the trampoline's frame; newer
# kernels leave it out)
TRACING_FRAMES = ("bpf_prog_", "bpf_trace_run", "__traceiter_", "__bpf_trace_", "trace_call_bpf",
                  "perf_trace_", "bpf_get_stack", "bpf_trampoline_")


def stack_id_err(stack_id):
    """A failed stack id worth reporting; -EFAULT just means there is no
    such stack (no user stack in a kernel thread)."""
    return stack_id < 0 and stack_id != -errno.EFAULT


class BuildIdSymbols:
    """Names for user frames recorded as (build id, file offset) by a stack
    map with BPF_F_STACK_BUILD_ID (trace -s): looked up in the given binaries
    and libraries by their build ids, so they outlive the traced process."""

    VALID, IP = 1, 2        # BPF_STACK_BUILD_ID_VALID, BPF_STACK_BUILD_ID_IP

    def __init__(self, names):
        """``names``: paths or names of binaries and libraries. Raises
        ValueError naming one that is missing or has no build id."""
        self.files = {}
        for name in names:
            path = symbols.resolve_module(name)
            if path is None or not os.path.isfile(path):
                raise ValueError(f"no such binary or library: {name}")
            try:
                build_id = symbols.load_elf(path).build_id
            except (OSError, ValueError) as e:      # ElfError is a ValueError
                raise ValueError(f"{path}: {e}") from None
            if not build_id:
                raise ValueError(f"{path} has no build id")
            self.files[bytes.fromhex(build_id).ljust(20, b"\0")] = path

    def name(self, frame, pid, modules, offsets):
        """The frame's text; a frame recorded without its build id (IP) is
        named from the process, as a plain stack's."""
        status, build_id, value = frame
        if status == self.IP:
            return symbols.sym(value, pid, show_module=modules, show_offset=offsets)
        path = self.files.get(build_id) if status == self.VALID else None
        if path is None:
            return symbols.format_symbol(None, 0, None, modules, offsets)
        syms = symbols.load_elf(path)
        hit = syms.lookup(syms.offset_to_vaddr(value))
        name, off = hit if hit else (None, 0)
        return symbols.format_symbol(name, off, path, modules, offsets)


# address (int), name (str), kernel (bool); a plain namedtuple: typing's
# NamedTuple costs a start the typing module (~4 ms)
Frame = namedtuple("Frame", "address name kernel")


class Stack:
    """One counted stack. ``kernel``/``user``: frames innermost first, None
    when there was no stack id (not asked for, or no such stack); ``missed``:
    "kernel"/"user" when that stack could not be read (bcc's "[Missed ...
    Stack]"); ``fields``: what else the tool reports with it (JSON only)."""
    __slots__ = ("comm", "pid", "kernel", "user", "missed", "value", "fields")

    def __init__(self, comm, pid, kernel, user, missed, value, fields=None):
        self.comm = comm.decode(errors="replace") if isinstance(comm, bytes) else comm
        self.pid, self.kernel, self.user = pid, kernel, user
        self.missed, self.value, self.fields = missed, value, fields or {}

    def frames(self):
        """Every frame innermost first: the kernel's, then the user's."""
        return (self.kernel or []) + (self.user or [])


class StackPrinter:
    """Turns stack ids into Stacks and Stacks into bcc's text, counting the
    stacks that could not be shown."""

    def __init__(self, stack_map, user=True, kernel=True, delimited=False, annotations=False,
                 skip_tracing=False, offsets=False, modules=False, missed_markers=True,
                 always_delimit=False, user_map=None, build_ids=None):
        """``user``/``kernel``: which stacks are shown; ``delimited``: "-"
        between them (when both are there, or always with ``always_delimit``,
        as stackcount does); ``annotations``: "_[k]" after kernel names;
        ``offsets``/``modules``: "name+0x1a", "name [module]";
        ``missed_markers``: bcc's "[Missed User Stack]" where a stack could
        not be read; ``skip_tracing``: drop the innermost kernel frames that
        belong to the tracing machinery (the BPF program, bpf_trace_run, the
        tracepoint's iterator), which a stack taken in a tracepoint starts with;
        ``user_map``/``build_ids``: user stacks in their own map, as build-id
        frames named by a BuildIdSymbols."""
        self.stacks = stack_map
        self.user_map = user_map or stack_map
        self.build_ids = build_ids
        self.skip_tracing = skip_tracing
        self.user, self.kernel = user, kernel
        self.delimited = delimited and user and kernel
        self.always_delimit = always_delimit
        self.annotations = annotations
        self.offsets, self.modules = offsets, modules
        self.missed_markers = missed_markers
        self.missing = 0
        self.missing_errnos = set()
        self._kcache, self._ucache = {}, {}
        # a stack id names one stack while the map holds it (no stack tool
        # reuses ids): each is read and named once per printer
        self._kstacks, self._ustacks = {}, {}
        self._own_programs = None
        self._bpf_programs = None       # every program's JIT images (BPFPrograms), when needed

    # --- stack ids → Stack ----------------------------------------------------------

    def _note(self, stack_id):
        if stack_id_err(stack_id):
            self.missing += 1
            self.missing_errnos.add(-stack_id)
            return True
        return False

    def ksym(self, addr):
        name = self._kcache.get(addr)
        if name is None:
            from ...symbols.kallsyms import format_symbol, kernel_symbols
            table = kernel_symbols()
            hit = table.core_lookup(addr) or self._in_bpf_program(addr) or table.lookup(addr)
            name = self._kcache[addr] = format_symbol(*(hit or (None, 0, None)), self.modules,
                                                      self.offsets)
        return name

    def _in_bpf_program(self, addr):
        """(name, offset, "bpf") for an address in a BPF program's JIT
        image, from the kernel's program info, as kallsyms names it; None
        for any other (kallsyms then reads all of /proc/kallsyms for it)."""
        if self._bpf_programs is None:
            from .ownprogs import BPFPrograms
            self._bpf_programs = BPFPrograms()
        hit = self._bpf_programs.lookup(addr)
        return hit and (hit[0], hit[1], "bpf")

    def kernel_frames(self, kernel_id, first_ip=0):
        """Frames innermost first; ``first_ip`` (the sampled instruction) is
        put in front when the stack does not start with it."""
        addrs = self.stacks.walk(kernel_id)
        if first_ip and (not addrs or addrs[0] != first_ip):
            addrs = [first_ip] + addrs
        if self.skip_tracing and addrs:
            addrs = self._without_own_programs(addrs)
        frames = [Frame(a, self.ksym(a), True) for a in addrs]
        if self.skip_tracing:
            while frames and frames[0].name.startswith(TRACING_FRAMES):
                frames.pop(0)
        return frames

    def _without_own_programs(self, addrs):
        """``addrs`` without its innermost frames in our own BPF programs
        (tracing frames, dropped anyway), so that they are never named."""
        if self._own_programs is None:
            from .ownprogs import OwnPrograms
            self._own_programs = OwnPrograms()
        skip = 0
        while skip < len(addrs) and addrs[skip] in self._own_programs:
            skip += 1
        return addrs[skip:] if skip else addrs

    def user_frames(self, user_id, pid):
        frames = self.user_map.walk(user_id)
        if self.build_ids is not None:
            return [Frame(f[2], self.build_ids.name(f, pid, self.modules, self.offsets), False)
                    for f in frames]
        return [Frame(a, self._usym(a, pid), False) for a in frames]

    def _usym(self, addr, pid):
        """A user address's name, once per process (the same frames recur
        in many stacks of one process)."""
        name = self._ucache.get((pid, addr))
        if name is None:
            from ...symbols.resolver import sym
            if len(self._ucache) >= 65536:   # a long streaming run (trace -U)
                self._ucache.clear()
            name = self._ucache[pid, addr] = sym(addr, pid, show_module=self.modules,
                                                 show_offset=self.offsets)
        return name

    def stack(self, comm, pid, user_id, kernel_id, value, sym_pid=None, first_ip=0, fields=None):
        """The Stack of one map entry; ``sym_pid``: the process whose symbols
        the user stack uses (default ``pid``); ``fields``: more for its JSON
        object (they may replace comm and pid there). Unreadable stacks are
        counted (bcc counts each once)."""
        missed = []
        if self.kernel and self._note(kernel_id):
            missed.append("kernel")
        if self.user and self._note(user_id):
            missed.append("user")
        kernel = user = None
        if self.kernel and kernel_id >= 0:
            kernel = self._kstacks.get((kernel_id, first_ip))
            if kernel is None:
                kernel = self._kstacks[kernel_id, first_ip] = self.kernel_frames(kernel_id, first_ip)
        if self.user and user_id >= 0:
            sym_pid = pid if sym_pid is None else sym_pid
            user = self._ustacks.get((user_id, sym_pid))
            if user is None:
                user = self._ustacks[user_id, sym_pid] = self.user_frames(user_id, sym_pid)
        return Stack(comm, pid, kernel, user, missed, value, fields)

    # --- Stack → text ----------------------------------------------------------------

    def _name(self, frame):
        return frame.name + "_[k]" if frame.kernel and self.annotations else frame.name

    def _delimit(self, stack):
        return self.delimited and (self.always_delimit or
                                   (stack.kernel is not None and stack.user is not None))

    delimiter = "    --"     # between kernel and user frames (-d), in lines()

    def lines(self, stack, indent="    "):
        """One frame per line, kernel first, innermost first."""
        out = []
        if self.kernel:
            if "kernel" in stack.missed and self.missed_markers:
                out.append(indent + "[Missed Kernel Stack]")
            else:
                out.extend(indent + self._name(f) for f in stack.kernel or [])
        if self.user:
            if self._delimit(stack):
                out.append(self.delimiter)
            if "user" in stack.missed and self.missed_markers:
                out.append(indent + "[Missed User Stack]")
            else:
                out.extend(indent + self._name(f) for f in stack.user or [])
        return out

    def report_lines(self, stack):
        """bcc's multi-line entry: the frames, "- comm (pid)", the value."""
        return self.lines(stack) + ["    %-16s %s (%d)" % ("-", stack.comm, stack.pid),
                                    "        %d" % stack.value, ""]

    def folded_frames(self, stack):
        """comm, then the user frames outermost first, "-", then the kernel
        frames outermost first: bcc's folded line without its count."""
        out = [stack.comm]
        if self.user:
            if "user" in stack.missed and self.missed_markers:
                out.append("[Missed User Stack]")
            else:
                out.extend(self._name(f) for f in reversed(stack.user or []))
        if self.kernel:
            if self._delimit(stack):
                out.append("-")
            if "kernel" in stack.missed and self.missed_markers:
                out.append("[Missed Kernel Stack]")
            else:
                out.extend(self._name(f) for f in reversed(stack.kernel or []))
        return out

    def as_dict(self, stack, unit):
        """A Stack as a JSON object: comm, pid, the tool's fields, the frames
        innermost first ({function, kernel, address}), the stacks that could
        not be read, and the value with its unit."""
        return {"comm": stack.comm, "pid": stack.pid, **stack.fields, **frames_json(stack),
                "value": stack.value, "unit": unit}


def frames_json(stack):
    """A Stack's frames, innermost first, and the stacks that could not be read."""
    return {"frames": [{"function": f.name, "kernel": f.kernel, "address": f.address}
                       for f in stack.frames()],
            "missed": list(stack.missed)}


def flags_printer(tool, args, **options):
    """The StackPrinter of a tool with bcc's -U/-K/-d flags, over its
    stack_traces map."""
    return StackPrinter(tool.maps["stack_traces"], user=not args.kernel_stacks_only,
                        kernel=not args.user_stacks_only, delimited=args.delimited, **options)


def folded_stacks(printer, stacks):
    """(frames, value) for each Stack, frames outermost first with the comm
    at the root: the input of flame graphs (bcc's folded lines)."""
    for stack in stacks:
        yield printer.folded_frames(stack), stack.value


def folded_line(frames, value):
    return "%s %d\n" % (";".join(frames), value)


def write_stacks(printer, stacks, folded=False, json=False, unit="samples"):
    """bcc's report for profile, offcputime, offwaketime and wakeuptime (the
    Stacks sorted smallest value first): folded lines, the printer's
    multi-line entries, or one JSON object per stack."""
    out = sys.stdout
    if json:
        for s in stacks:
            write_json(printer.as_dict(s, unit))
    elif folded:
        for frames, value in folded_stacks(printer, stacks):
            out.write(folded_line(frames, value))
    else:
        for s in stacks:
            out.write("\n".join(printer.report_lines(s)) + "\n")
    out.flush()


def by_value(stacks):
    """Stacks smallest value first, as bcc prints them."""
    return sorted(stacks, key=lambda s: s.value)


def trace_until_done(tool, header, duration, folded, json=False):
    """Print ``header`` (not in folded output; on stderr with --json) with
    bcc's ending, trace for ``duration`` seconds or until Ctrl-C, then
    detach so that the slow report (symbolizing) does not count itself."""
    if not folded:
        if duration < 99999999:
            header += " for %d secs." % duration
        else:
            header += "... Hit Ctrl-C to end."
        status(header, json)
    try:
        take_interrupts()
        sleep(duration)
    except KeyboardInterrupt:
        pass
    detach(tool)
    if not folded and not json:
        print()


def detach(tool):
    """Stop counting: close every link (the maps stay readable)."""
    for link in tool.links:
        link.close()
    tool.links = []


def stack_context(user_only, kernel_only):
    """bcc's phrase for which stacks are collected."""
    return "user" if user_only else "kernel" if kernel_only else "user + kernel"


def missing_warning(printer, what, full_errno):
    """bcc's warning for stacks that could not be shown, with its hint when
    the stack map was full (``full_errno``)."""
    if printer.missing:
        hint = " Consider increasing --stack-storage-size." \
            if full_errno in printer.missing_errnos else ""
        print("WARNING: %d stack traces %s.%s" % (printer.missing, what, hint), file=sys.stderr)
