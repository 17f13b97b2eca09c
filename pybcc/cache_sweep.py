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
  installation sharing the cache writes its own again);
- compiled output (objects/, frontend/, kernel-types/, bcc-rewrites/,
  vmlinux/): removed when not used for 30 days (relatime still updates
  access times daily), and the least recently used go while all of it
  takes more than COMPILED_LIMIT. Each distinct program text is a new
  object of up to ~1 MB: a bcc script that writes a pid into its text
  makes one per run, and this machine's cache reached 3.3 GB in a day;
- tmp/: a compile's scratch directory a day old (its process was killed).
"""
import os
import time

from . import cache

SWEEP_EVERY = 24 * 3600
OTHER_CODE_AGE = 7 * 24 * 3600
STAMP = ".swept"     # in the cache root; holds the kernel_tag() of its sweep
UNUSED_AGE = 30 * 24 * 3600
COMPILED_LIMIT = 1 << 30      # bytes
COMPILED_KINDS = ("objects", "frontend", "kernel-types", "bcc-rewrites", "vmlinux")
SCRATCH_AGE = 24 * 3600


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
        if top not in cache.created_roots:      # else all of it is this run's own
            sweep(top)
    except Exception:   # noqa: BLE001 -- a sweep only saves space: it never fails a run
        pass


def sweep(top):
    """Remove the stale entries under the cache root ``top``: -> how many."""
    removed = 0
    for rule in (_per_boot, _kallsyms, _digests, _elfsyms, _object_specs, _compiled, _scratch):
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
    entries = _entries(top, "elfsyms")
    if not entries:
        return 0
    from .symbols import elfsyms_memo
    removed = 0
    for n, p in entries:
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


def _compiled(top):
    """Compiled output not used for UNUSED_AGE, then the least recently used
    while the rest takes more than COMPILED_LIMIT."""
    units = [u for kind in COMPILED_KINDS for u in _units(os.path.join(top, kind))]
    units.sort(key=lambda u: u[0])                   # least recently used first
    total, old = sum(size for _, size, _ in units), time.time() - UNUSED_AGE
    removed = 0
    for used, size, paths in units:
        if used >= old and total <= COMPILED_LIMIT:
            break
        removed += sum(_remove_path(p) for p in paths)
        total -= size
    return removed


def _units(d):
    """(last use, bytes, paths) of what is cached together in ``d``: a
    subdirectory, or the files named by one key (KEY.o, KEY.json, their
    digests). Temporary files of writes under way are left alone."""
    groups = {}
    for e in _scandir(d):
        if e.name.startswith(".tmp-"):
            continue
        if e.is_dir(follow_symlinks=False):
            groups[e.path] = [*_scandir(e.path), e]       # its files, then itself
        else:
            groups.setdefault(e.name.split(".")[0], []).append(e)
    units = []
    for entries in groups.values():
        used, size = 0, 0
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                continue        # listing it (just now) counts as its use
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            used = max(used, st.st_atime, st.st_mtime)
            size += st.st_size
        units.append((used, size, [e.path for e in entries]))
    return units


def _scandir(d):
    try:
        with os.scandir(d) as it:
            return list(it)
    except OSError:
        return []


def _remove_path(path):
    """Remove a file, or an emptied directory (its files are listed before it)."""
    try:
        if os.path.isdir(path):
            os.rmdir(path)
        else:
            os.unlink(path)
        return 1
    except OSError:
        return 0


def _scratch(top):
    removed, old = 0, time.time() - SCRATCH_AGE
    for e in _scandir(os.path.join(top, "tmp")):
        path = e.path
        try:
            if os.lstat(path).st_mtime < old:
                import shutil     # only then: it imports bz2, lzma, ...
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
                removed += 1
        except OSError:
            pass
    return removed
