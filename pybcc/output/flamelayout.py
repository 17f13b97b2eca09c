"""Where each frame of a flame graph goes, before any drawing.

Stacks are sorted so that stacks sharing a prefix are neighbours; one sweep
over them then opens and closes frames like brackets (a frame spans the
counts of every stack passing through it). Positions are in count units
(samples, µs, bytes), not pixels, so the drawing can scale them freely.

Frames narrower than ``min_count`` are not drawn one by one: neighbouring
narrow siblings merge into one block (drawn if the block is wide enough), and
their descendants, narrower still, are dropped. So the number of frames drawn,
and the file size, follow the picture's width, not the number of stacks.
"""
from dataclasses import dataclass

ROOT_NAME = "all"


@dataclass
class Frame:
    name: str
    depth: int        # 0 is the root ("all")
    start: float      # offset from the left, in count units
    count: float      # width, in count units
    delta: float = 0  # differential graphs: after - before, over the frame's stacks
    merged: int = 0   # >0: a block standing for this many narrow sibling frames


@dataclass
class Layout:
    frames: list      # root first, then frames in closing order
    total: float
    max_depth: int
    stacks: int       # unique stacks laid out


def _sort_key(item):
    return item[0] + ";"


def layout(stacks, min_count=0, differential=False):
    """Frames for ``stacks``: {"a;b;c": count}, or with ``differential``
    {"a;b;c": (before, after)} where widths are ``after`` and each frame
    carries after - before summed over its stacks."""
    # Sorting the texts with ";" appended puts every stack that shares a
    # frame prefix side by side (string prefix = frame prefix), and compares
    # faster than lists of frames would.
    if differential:
        items = [(s.split(";"), after, after - before)
                 for s, (before, after) in sorted(stacks.items(), key=_sort_key)]
    else:
        items = [(s.split(";"), count, 0) for s, count in sorted(stacks.items(), key=_sort_key)]
    frames = []
    emit = frames.append
    pending = {}          # depth -> [start, end, n, delta at start, delta at end]
    names, starts, delta_starts = [], [], []   # the open frames, outermost first
    x = 0.0
    delta_sum = 0.0

    def flush(depth):
        start, end, n, d0, d1 = pending.pop(depth)
        if end - start >= min_count and end > start:
            emit(Frame("[%d narrow frames]" % n, depth, start, end - start, d1 - d0, merged=n))

    def close_to(level):
        """Close the open frames deeper than ``level`` at the current x,
        innermost first. (The hot loop: every frame of every stack ends here.)"""
        while len(names) > level:
            depth = len(names)
            name, start, d0 = names.pop(), starts.pop(), delta_starts.pop()
            if depth + 1 in pending:            # narrow children: done
                flush(depth + 1)
            width = x - start
            if width <= 0:                      # only in the "before" profile
                continue
            if width >= min_count:
                if depth in pending:
                    flush(depth)
                emit(Frame(name, depth, start, width, delta_sum - d0))
            else:
                block = pending.get(depth)
                if block is not None and block[1] == start:
                    block[1] = x
                    block[2] += 1
                    block[4] = delta_sum
                else:
                    if block is not None:
                        flush(depth)
                    pending[depth] = [start, x, 1, d0, delta_sum]

    # Frames a stack shares with neither neighbour, below the first such
    # frame, have only this stack's count and no siblings: when that count
    # is narrow they are never drawn, so they are not even opened.
    items = [item for item in items if item[1] > 0 or item[2]]
    shared = [0] * (len(items) + 1)     # shared[i]: frames stack i shares with stack i - 1
    for i in range(1, len(items)):
        a, b = items[i - 1][0], items[i][0]
        n, limit = 0, min(len(a), len(b))
        while n < limit and a[n] == b[n]:
            n += 1
        shared[i] = n
    for i, (frames_of_stack, count, delta) in enumerate(items):
        common = shared[i]
        close_to(common)
        keep = len(frames_of_stack)
        if count < min_count:
            keep = min(keep, max(common, shared[i + 1]) + 1)
        for name in frames_of_stack[common:keep]:
            names.append(name)
            starts.append(x)
            delta_starts.append(delta_sum)
        x += count
        delta_sum += delta
    close_to(0)
    if 1 in pending:
        flush(1)
    root = Frame(ROOT_NAME, 0, 0.0, x, delta_sum)
    max_depth = max((f.depth for f in frames), default=0)
    return Layout([root] + frames, x, max_depth, len(items))
