"""Stacks of a blocked thread and of the thread that woke it (offwaketime,
wakeuptime), in bcc's layouts: folded lines with the waker's stack upside
down above the blocked one's ("--" between them), multi-line entries with
"waker:" and "target:", and JSON objects. Printers here are StackPrinters
(lib/stacks.py), so lib/stackfile.py draws them as flame graphs too.
"""
from .stacks import StackPrinter, frames_json


class WakeStack:
    """``target``: the Stack of the thread that blocked (its comm, pid and
    frames); ``waker``: the Stack of the thread that woke it, None when the
    wake-up was not seen; ``value``: the time blocked; ``tids``: (target's
    thread id, waker's) where the tool knows them."""
    __slots__ = ("target", "waker", "value", "tids")

    def __init__(self, target, waker, value, tids=(None, None)):
        self.target, self.waker, self.value, self.tids = target, waker, value, tids


def _part_json(stack, tid):
    if stack is None:
        return None
    out = {"comm": stack.comm}
    if tid is not None:
        out.update(pid=stack.pid, tid=tid)
    out.update(frames_json(stack))
    return out


class WakePrinter(StackPrinter):
    """offwaketime's layout: each entry is a WakeStack whose target and
    waker both have kernel and user stacks (-U/-K/-d apply to both)."""

    delimiter = "    -"

    def folded_frames(self, ws):
        """target comm, its frames outermost first, "--", the waker's frames
        innermost first, the waker's comm (bcc's offwaketime -f)."""
        waker = StackPrinter.folded_frames(self, ws.waker) if ws.waker else [""]
        return StackPrinter.folded_frames(self, ws.target) + ["--"] + waker[::-1]

    def report_lines(self, ws):
        waker_name = ws.waker.comm if ws.waker else ""
        out = ["    %-16s %s %s" % ("waker:", waker_name, ws.tids[1] or 0)]
        if ws.waker:
            out += self.lines(ws.waker)[::-1]     # outermost first
        out.append("    %-16s %s" % ("--", "--"))
        out += self.lines(ws.target)
        out.append("    %-16s %s %s" % ("target:", ws.target.comm, ws.tids[0]))
        return out + ["        %d" % ws.value, ""]

    def as_dict(self, ws, unit):
        return {"target": _part_json(ws.target, ws.tids[0]),
                "waker": _part_json(ws.waker, ws.tids[1]), "value": ws.value, "unit": unit}


class WakeupPrinter(StackPrinter):
    """wakeuptime's layout: each entry is a WakeStack whose waker has a
    kernel stack; the target is only a name. Text lines show each frame's
    address and name+offset, as bcc's; ``addresses``: in folded lines too
    (wakeuptime -v)."""

    def __init__(self, stack_map, addresses=False, **options):
        super().__init__(stack_map, user=False, **options)
        self.addresses = addresses

    def folded_frames(self, ws):
        """waker comm, its kernel frames outermost first, target comm."""
        frames = [("%x %s" % (f.address, self._name(f))) if self.addresses else self._name(f)
                  for f in reversed(ws.waker.kernel or [])]
        if "kernel" in ws.waker.missed:
            frames = ["[Missed Kernel Stack]"]
        return [ws.waker.comm] + frames + [ws.target.comm]

    def report_lines(self, ws):
        out = ["    %-16s %s" % ("target:", ws.target.comm)]
        if "kernel" in ws.waker.missed:
            out.append("    [Missed Kernel Stack]")
        out += ["    %-16x %s" % (f.address, f.name) for f in ws.waker.kernel or []]
        out.append("    %-16s %s" % ("waker:", ws.waker.comm))
        return out + ["        %d" % ws.value, ""]

    def as_dict(self, ws, unit):
        return {"target": ws.target.comm, "waker": ws.waker.comm, **frames_json(ws.waker),
                "value": ws.value, "unit": unit}
