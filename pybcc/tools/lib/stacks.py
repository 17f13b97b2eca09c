"""What the stack tools share (profile, offcputime, stackcount): a Tool whose
map sizes and pinned maps are chosen at run time, and bcc's two ways of
printing a stack: one frame per line, or folded for flame graphs."""
import errno
import sys
import time

from ...symbols import ksym, sym


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


def trace_until_done(tool, header, duration, folded):
    """Print ``header`` (not in folded output) with bcc's ending, trace for
    ``duration`` seconds or until Ctrl-C, then detach so that the slow report
    (symbolizing) does not count itself."""
    if not folded:
        if duration < 99999999:
            header += " for %d secs." % duration
        else:
            header += "... Hit Ctrl-C to end."
        print(header, flush=True)
    try:
        time.sleep(duration)
    except KeyboardInterrupt:
        pass
    for link in tool.links:
        link.close()
    tool.links = []
    if not folded:
        print()


def write_counts(printer, counts, folded, sym_pid, first_ip=lambda k: 0):
    """bcc's report for profile and offcputime: each (key, count) of
    ``counts``, smallest count first, folded or one frame per line.
    ``sym_pid(key)`` is the process whose symbols the user stack uses."""
    out = sys.stdout
    for k, v in sorted(counts, key=lambda kv: kv[1]):
        printer.account(k.user_stack_id, k.kernel_stack_id)
        if folded:
            out.write("%s %d\n" % (printer.folded(k.name, k.user_stack_id, k.kernel_stack_id,
                                                  sym_pid(k), first_ip(k)), v))
        else:
            for line in printer.lines(k.user_stack_id, k.kernel_stack_id, sym_pid(k), first_ip(k)):
                out.write(line + "\n")
            out.write("    %-16s %s (%d)\n" % ("-", k.name, k.pid))
            out.write("        %d\n\n" % v)
    out.flush()


def stack_context(user_only, kernel_only):
    """bcc's phrase for which stacks are collected."""
    return "user" if user_only else "kernel" if kernel_only else "user + kernel"
