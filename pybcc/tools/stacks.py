"""What the stack tools share (profile, offcputime, stackcount): a Tool whose
map sizes and pinned maps are chosen at run time, and bcc's two ways of
printing a stack: one frame per line, or folded for flame graphs."""
import dataclasses
import errno
import os

from .. import compiler, loader
from ..maps import Map
from ..object import load_spec
from ..symbols import ksym, sym
from ._runtime import INCLUDE_DIR, TOOLS_DIR, Tool


class StackTool(Tool):
    """A Tool whose maps can be resized (``map_sizes``: {name: max_entries},
    e.g. the stack trace map from --stack-storage-size) and whose filter
    maps can be maps pinned by someone else (``pinned``: {name: path}, as
    bcc's --cgroupmap/--mntnsmap); one cached object still serves all."""

    def __init__(self, name, constants=None, map_sizes=None, pinned=None):
        self.use_ringbuf = False
        obj = compiler.compile(os.path.join(TOOLS_DIR, name + ".bpf.c"), include_dirs=[INCLUDE_DIR])
        spec = load_spec(obj)
        for map_name, size in (map_sizes or {}).items():
            spec.maps[map_name] = dataclasses.replace(spec.maps[map_name], max_entries=size)
        self.coll = loader.load(spec, constants=dict(constants or {}), programs=[])
        self.links, self.mechanisms, self.reader, self.lost = [], [], None, 0
        self._pinned = []
        try:
            for map_name, path in (pinned or {}).items():
                self._use_pinned(map_name, path)
        except BaseException:
            self.close()
            raise

    def _use_pinned(self, name, path):
        # Programs load on demand and take map fds from map_fds when they
        # load, so putting the pinned map there first makes them use it.
        ours = self.coll.spec.maps[name]
        m = Map.from_pinned(path)
        if (m.key_size, m.value_size) != (ours.key_size, ours.value_size):
            m.close()
            raise ValueError(f"{path}: key/value sizes {m.key_size}/{m.value_size}, "
                             f"expected {ours.key_size}/{ours.value_size}")
        os.close(self.coll.map_fds[name])
        self.coll.map_fds[name] = os.dup(m.fd)
        self._pinned.append(m)

    def close(self):
        super().close()
        for m in self._pinned:
            m.close()
        self._pinned = []


TRACING_FRAMES = ("bpf_prog_", "bpf_trace_run", "__traceiter_", "__bpf_trace_", "trace_call_bpf",
                  "perf_trace_", "bpf_get_stack")


def stack_id_err(stack_id):
    """A failed stack id worth reporting; -EFAULT just means there is no
    such stack (no user stack in a kernel thread)."""
    return stack_id < 0 and stack_id != -errno.EFAULT


class StackPrinter:
    """Turns (user stack id, kernel stack id) into bcc's text, counting the
    stacks that could not be shown."""

    def __init__(self, stack_map, user=True, kernel=True, delimited=False, annotations=False,
                 skip_tracing=False):
        """``skip_tracing``: drop the innermost kernel frames that belong to
        the tracing machinery (the BPF program, bpf_trace_run, the
        tracepoint's iterator), which a stack taken in a tracepoint starts with."""
        self.stacks = stack_map
        self.skip_tracing = skip_tracing
        self.user, self.kernel = user, kernel
        self.delimited = delimited and user and kernel
        self.annotations = annotations
        self.missing = 0
        self.missing_errnos = set()
        self._kcache = {}

    def _note(self, stack_id):
        if stack_id_err(stack_id):
            self.missing += 1
            self.missing_errnos.add(-stack_id)

    def account(self, user_id, kernel_id):
        """Count this entry's unusable stacks (bcc counts each once)."""
        if self.kernel:
            self._note(kernel_id)
        if self.user:
            self._note(user_id)

    def ksym(self, addr):
        name = self._kcache.get(addr)
        if name is None:
            name = self._kcache[addr] = ksym(addr) + ("_[k]" if self.annotations else "")
        return name

    def kernel_frames(self, kernel_id, first_ip=0):
        """Names innermost first; ``first_ip`` (the sampled instruction) is
        put in front when the stack does not start with it."""
        addrs = self.stacks.walk(kernel_id) if kernel_id >= 0 else []
        if kernel_id >= 0 and first_ip and (not addrs or addrs[0] != first_ip):
            addrs = [first_ip] + addrs
        names = [self.ksym(a) for a in addrs]
        if self.skip_tracing:
            while names and names[0].startswith(TRACING_FRAMES):
                names.pop(0)
        return names

    def user_frames(self, user_id, pid):
        addrs = self.stacks.walk(user_id) if user_id >= 0 else []
        return [sym(a, pid) for a in addrs]

    def folded(self, comm, user_id, kernel_id, pid, first_ip=0):
        """comm;user frames outermost first;-;kernel frames (without the count)."""
        line = [comm]
        if self.user:
            if stack_id_err(user_id):
                line.append("[Missed User Stack]")
            else:
                line.extend(reversed(self.user_frames(user_id, pid)))
        if self.kernel:
            if self.delimited and kernel_id >= 0 and user_id >= 0:
                line.append("-")
            if stack_id_err(kernel_id):
                line.append("[Missed Kernel Stack]")
            else:
                line.extend(reversed(self.kernel_frames(kernel_id, first_ip)))
        return ";".join(line)

    def lines(self, user_id, kernel_id, pid, first_ip=0):
        """One frame per line, kernel first, innermost first, 4 spaces in."""
        out = []
        if self.kernel:
            if stack_id_err(kernel_id):
                out.append("    [Missed Kernel Stack]")
            else:
                out.extend("    " + f for f in self.kernel_frames(kernel_id, first_ip))
        if self.user:
            if self.delimited and user_id >= 0 and kernel_id >= 0:
                out.append("    --")
            if stack_id_err(user_id):
                out.append("    [Missed User Stack]")
            else:
                out.extend("    " + f for f in self.user_frames(user_id, pid))
        return out


def stack_context(user_only, kernel_only):
    """bcc's phrase for which stacks are collected."""
    return "user" if user_only else "kernel" if kernel_only else "user + kernel"
