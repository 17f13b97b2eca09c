"""The cache sweep removes memos of other boots and of changed or deleted
files, keeps the ones still in use, and runs at most once a day."""
import os
import shutil
import time

import pytest

from pybcc import cache, cache_sweep
from pybcc.symbols import elfsyms


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)     # by an earlier run: this process did not make it
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(d))
    cache._checked.clear()
    yield d
    cache._checked.clear()


def _entry(kind, name, data=b"{}"):
    path = os.path.join(cache.private_dir(kind), name)
    cache.write_entry(path, data)
    return path


def test_sweep_keeps_what_is_current_and_removes_the_rest(cache_dir, tmp_path):
    tag = cache.kernel_tag()
    if not tag:
        pytest.skip("no boot id or kernel BTF: nothing is cached per boot")
    this_boot = _entry("kernel-memo", f"{tag}-{'a' * 64}.json")
    this_boot_ids = _entry("kernel-memo", f"{tag}-btf-ids.json")
    other_boot = _entry("kernel-memo", f"{'0' * 16}-{'a' * 64}.json")
    old_layout = _entry("kernel-memo", "b" * 64 + ".json")
    other_regs = _entry("usdt", f"{'0' * 16}-pt_regs.json")

    kept_file, changed_file = tmp_path / "kept.h", tmp_path / "changed.h"
    kept_file.write_text("x")
    changed_file.write_text("y")
    assert cache.remembered_digest("t", [str(kept_file)], lambda: "d1") == "d1"
    assert cache.remembered_digest("t", [str(changed_file)], lambda: "d2") == "d2"
    changed_file.write_text("yy")
    digests = os.listdir(cache_dir / "digests")

    # an ELF symbol memo of a file that stays, and of one deleted since
    lib = tmp_path / "libkept.so"
    shutil.copy(os.path.realpath("/proc/self/exe"), lib)
    gone = tmp_path / "libgone.so"
    shutil.copy(lib, gone)
    elfsyms.ElfSymbols(str(lib))
    elfsyms.ElfSymbols(str(gone))
    memos = {n: elfsyms.elfsyms_memo.stored_file(str(cache_dir / "elfsyms" / n))
             for n in os.listdir(cache_dir / "elfsyms")}
    assert sorted(memos.values()) == sorted([str(lib), str(gone)])
    gone.unlink()

    removed = cache_sweep.sweep(str(cache_dir))

    for p in (this_boot, this_boot_ids):
        assert os.path.exists(p) and os.path.exists(p + ".sha256")
    for p in (other_boot, old_layout, other_regs):
        assert not os.path.exists(p) and not os.path.exists(p + ".sha256")
    left = os.listdir(cache_dir / "digests")
    assert len(digests) == 4 and len(left) == 2      # the kept file's entry and its digest
    assert cache.remembered_digest("t", [str(kept_file)], lambda: "recomputed") == "d1"
    assert [memos.get(n) for n in os.listdir(cache_dir / "elfsyms")] == [str(lib)]
    assert removed == 5


def test_maybe_sweep_runs_once_a_day_and_at_a_new_boot(cache_dir):
    tag = cache.kernel_tag()
    if not tag:
        pytest.skip("no boot id or kernel BTF: nothing is cached per boot")
    stale = lambda: _entry("kernel-memo", f"{'0' * 16}-x.json")  # noqa: E731
    first = stale()
    cache_sweep.maybe_sweep()
    assert not os.path.exists(first)
    second = stale()
    cache_sweep.maybe_sweep()                  # swept less than a day ago
    assert os.path.exists(second)
    stamp = cache_dir / cache_sweep.STAMP
    day_ago = time.time() - cache_sweep.SWEEP_EVERY - 60
    os.utime(stamp, (day_ago, day_ago))
    cache_sweep.maybe_sweep()
    assert not os.path.exists(second)
    third = stale()
    stamp.write_text("another boot")
    cache_sweep.maybe_sweep()
    assert not os.path.exists(third)
    assert stamp.read_text() == tag


def test_a_cache_this_process_made_is_not_swept(tmp_path, monkeypatch):
    """A first run made the cache root: everything in it is its own and
    current, so it only stamps the sweep (no listing, no imports)."""
    d = tmp_path / "new-cache"
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(d))
    monkeypatch.setattr(cache, "_checked", set())
    monkeypatch.setattr(cache, "created_roots", set())
    swept = []
    monkeypatch.setattr(cache_sweep, "sweep", swept.append)
    _entry("kernel-memo", "x.json")
    assert cache.created_roots == {str(d)}
    cache_sweep.maybe_sweep()
    assert swept == [] and (d / cache_sweep.STAMP).read_text() == (cache.kernel_tag() or "")
    cache.created_roots.clear()           # the next process found it there
    (d / cache_sweep.STAMP).unlink()
    cache_sweep.maybe_sweep()
    assert swept == [str(d)]


def _age(path, days):
    t = time.time() - days * 24 * 3600
    os.utime(path, (t, t))


def test_sweep_removes_unused_compiled_output_then_the_least_recently_used(cache_dir,
                                                                           monkeypatch):
    """Compiled objects, front-end output and per-program headers not used for
    30 days go; then, while the rest is over COMPILED_LIMIT, the least
    recently used; a killed compile's day-old scratch directory goes."""
    def obj(key, days, size=1000):
        paths = [_entry("objects", f"{key}.o", b"o" * size), _entry("objects", f"{key}.json")]
        for p in paths + [p + ".sha256" for p in paths]:
            _age(p, days)
        return paths

    unused = obj("a" * 64, 31)
    older, newer = obj("b" * 64, 3), obj("c" * 64, 1)
    header = _entry(os.path.join("kernel-types", "d" * 32), "vmlinux.h", b"h" * 1000)
    for p in (header, header + ".sha256", os.path.dirname(header)):
        _age(p, 40)
    pch = _entry("frontend", "e" * 64 + ".pch", b"p" * 1000)
    scratch = cache.private_dir("tmp", "cc-killed")
    open(os.path.join(scratch, "prog.c"), "w").close()
    _age(scratch, 2)
    compiling = cache.private_dir("tmp", "cc-now")

    cache_sweep.sweep(str(cache_dir))
    assert [p for p in unused + [header, os.path.dirname(header), scratch] if os.path.exists(p)] == []
    assert all(map(os.path.exists, older + newer + [pch, compiling]))

    # over the limit: the least recently used go first, until it is met
    monkeypatch.setattr(cache_sweep, "COMPILED_LIMIT", 2500)
    cache_sweep.sweep(str(cache_dir))
    assert not any(map(os.path.exists, older))
    assert all(map(os.path.exists, newer + [pch]))
