"""Removes cache entries that no start can use any more.

The memos are keyed by what they describe, so entries for earlier boots,
for files that changed or are gone, and for older code of pybcc stay on
disk for ever unless something removes them. A tool calls maybe_sweep()
when it has ended (pybcc.cli): it sweeps at most once a day, and at the
first run of a new boot; each rule needs only a listing, a stat or a few
bytes per entry:

- per-boot memos (kernel-memo/, usdt/): names start with cache.kernel_tag();
  any other name is another boot's (or an older layout's);
- kallsyms/: named by the boot id;
- digests/: each entry lists the states of the files it is the digest of
  (cache.file_state): removed when one of them changed;
- elfsyms/: each memo says which file it is of: removed when that file is
  gone or its identity (the memo's name) changed;
- object-specs/: the pickled specs of an object, per version of the code
  that pickles them: other versions' are removed once a week old (another
  installation sharing the cache writes its own again).
"""
import os
import time

from . import cache

SWEEP_EVERY = 24 * 3600
OTHER_CODE_AGE = 7 * 24 * 3600
STAMP = ".swept"     # in the cache root; holds the kernel_tag() of its sweep


def maybe_sweep():
    """sweep() when the last one is a day old or was in another boot: one
    stat and one small read otherwise. Never raises."""
    try:
        top = cache.root()
        if not os.path.isdir(top):
            return
        stamp, tag = os.path.join(top, STAMP), cache.kernel_tag() or ""
        try:
            age = time.time() - os.stat(stamp).st_mtime
            with open(stamp) as f:
                if f.read() == tag and 0 <= age < SWEEP_EVERY:
                    return
        except OSError:
            pass
        cache.check_private(top)
        with open(stamp, "w") as f:     # first, so other processes do not sweep too
            f.write(tag)
        sweep(top)
    except Exception:   # noqa: BLE001 -- a sweep only saves space: it never fails a run
        pass


def sweep(top):
    """Remove the stale entries under the cache root ``top``: -> how many."""
    removed = 0
    for rule in (_per_boot, _kallsyms, _digests, _elfsyms, _object_specs):
        try:
            removed += rule(top)
        except OSError:
            pass
    return removed


def _entries(top, kind):
    """(name, path) of the entries in <top>/<kind>, without digests and
    temporary files."""
    d = os.path.join(top, kind)
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return [(n, os.path.join(d, n)) for n in names
            if not n.endswith(".sha256") and not n.startswith(".tmp-")]


def _remove(path):
    cache.remove_entry(path)
    return 1


def _per_boot(top):
    tag = cache.kernel_tag()
    if not tag:
        return 0
    return sum(_remove(p) for kind in ("kernel-memo", "usdt")
               for n, p in _entries(top, kind) if not n.startswith(tag + "-"))


def _kallsyms(top):
    boot = cache.boot_id()
    return sum(_remove(p) for n, p in _entries(top, "kallsyms") if boot and n != boot)


def _digests(top):
    removed = 0
    for _, p in _entries(top, "digests"):
        try:
            with open(p) as f:
                states = f.read().split("\n")[2:]      # value, kind, then the files
        except (OSError, UnicodeDecodeError):
            states = []
        if not states or any(cache.file_state(_state_path(s)) != s for s in states):
            removed += _remove(p)
    return removed


def _state_path(state):
    """The path of a cache.file_state() line."""
    if state.endswith(":-"):
        return state[:-2]
    return state.rsplit(":", 4)[0]


def _elfsyms(top):
    from .symbols import elfsyms_memo
    removed = 0
    for n, p in _entries(top, "elfsyms"):
        path = elfsyms_memo.stored_file(p)
        try:
            same = path is not None and elfsyms_memo.entry_name(os.stat(path)) == n
        except OSError:
            same = False
        if not same:
            removed += _remove(p)
    return removed


def _object_specs(top):
    entries = _entries(top, "object-specs")
    if not entries:
        return 0
    from .elf_reader import _code
    code, old = _code(), time.time() - OTHER_CODE_AGE
    removed = 0
    for n, p in entries:
        if not n.endswith(f"-{code}.pickle"):
            try:
                if os.stat(p).st_mtime < old:
                    removed += _remove(p)
            except OSError:
                pass
    return removed
