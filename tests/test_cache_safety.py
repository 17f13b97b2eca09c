"""The cache refuses entries it cannot trust, says so in one line and
rebuilds them: modified, truncated, another user's, group/world-writable;
and loads nothing from a directory another user can write."""
import os
import pwd

import pytest

from pybcc import cache
from pybcc import compiler
from pybcc.errors import CompileError
from pybcc.elf_reader import load_spec

PROG = r'''

#define SEC(n) __attribute__((section(n), used))
SEC("tracepoint/syscalls/sys_enter_getppid") int on_getppid(void *ctx) { return MARK; }
char _license[] SEC("license") = "GPL";
'''


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("PYBCC_CACHE_DIR", str(d))
    cache._checked.clear()     # a fresh process: directories are checked again
    yield d
    cache._checked.clear()


def _compile(mark):
    return compiler.compile(PROG.replace("MARK", str(mark)), vmlinux=False)


def _rebuilt(path, capfd, mark, why):
    again = _compile(mark)
    err = capfd.readouterr().err
    assert again == path
    assert f"cache entry {path}" in err and why in err and "rebuilding" in err, err
    assert len([ln for ln in err.splitlines() if "warning" in ln]) == 1, err
    assert cache.entry_ok(path)
    load_spec(path)        # whole again
    st = os.stat(path)
    assert st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _first(mark, capfd):
    path = _compile(mark)
    assert cache.entry_ok(path)
    assert _compile(mark) == path          # a clean hit: no warning
    assert "warning" not in capfd.readouterr().err
    return path


def test_modified_object_is_rebuilt(cache_dir, capfd):
    path = _first(1, capfd)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    _rebuilt(path, capfd, 1, "modified or truncated")


def test_truncated_object_is_rebuilt(cache_dir, capfd):
    path = _first(2, capfd)
    os.truncate(path, os.path.getsize(path) // 3)
    _rebuilt(path, capfd, 2, "modified or truncated")


def test_object_owned_by_another_user_is_rebuilt(cache_dir, capfd):
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file away")
    path = _first(3, capfd)
    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    _rebuilt(path, capfd, 3, "owned by uid")


@pytest.mark.parametrize("mode", [0o664, 0o646])
def test_group_or_world_writable_object_is_rebuilt(cache_dir, capfd, mode):
    path = _first(4 + mode, capfd)
    os.chmod(path, mode)
    _rebuilt(path, capfd, 4 + mode, "writable by group or others")


def test_json_memo_modified_is_refused(cache_dir, capfd):
    d = cache.private_dir("kernel-memo")
    path = os.path.join(d, "x.json")
    cache.write_json(path, {"core": {"sec": [[1, 2, 3, 4, 5, 6]]}})
    assert cache.read_json(path) == {"core": {"sec": [[1, 2, 3, 4, 5, 6]]}}
    with open(path, "w") as f:
        f.write('{"core": {"sec": [[1, 2, 3, 4, 5, 7]]}}')
    assert cache.read_json(path) is None
    assert "was modified or truncated" in capfd.readouterr().err
    assert not os.path.exists(path)


def test_marshal_memo_modified_is_refused(cache_dir, capfd):
    path = os.path.join(cache.private_dir("kernel-memo"), "x.memo")
    value = {"core": {"sec": [[1, 2, 3, 4, 5, 6]]}, "btf": b"\x9f\xeb"}
    cache.write_memo(path, value)
    assert cache.read_memo(path) == value
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        f.write(b"\x00")
    assert cache.read_memo(path) is None
    assert "was modified or truncated" in capfd.readouterr().err
    assert not os.path.exists(path)


def test_vmlinux_header_modified_is_regenerated(tmp_path, capfd):
    from pybcc.btf import cgen
    from pybcc.btf import BTF, types as bt
    btf_file = tmp_path / "small.btf"
    btf_file.write_bytes(BTF([bt.Type(1, bt.INT, "int", size=4, bits=32, encoding=1),
                              bt.Type(2, bt.STRUCT, "tiny", size=4,
                                      members=[bt.Member("x", 1, 0)])]).to_bytes())
    d = cgen.vmlinux_header(str(btf_file), cache_dir=str(tmp_path / "vm"))
    header = os.path.join(d, "vmlinux.h")
    good = open(header).read()
    assert "struct tiny" in good
    cgen._memo.clear()
    with open(header, "a") as f:
        f.write("#define current 0\n")
    assert cgen.vmlinux_header(str(btf_file), cache_dir=str(tmp_path / "vm")) == d
    assert "was modified or truncated" in capfd.readouterr().err
    assert open(header).read() == good


def test_nothing_is_loaded_from_a_directory_others_can_write(cache_dir, capfd):
    path = _first(5, capfd)
    objects = os.path.dirname(path)
    os.chmod(objects, 0o777)
    cache._checked.clear()
    with pytest.raises(CompileError, match="refusing to use cache directory"):
        _compile(5)
    # and an entry read directly from such a directory is refused too
    assert not cache.entry_ok(path)
    assert "in a directory others can write" in capfd.readouterr().err


def _frontend_pch(tmp_path):
    from pybcc.bcc.dialect import implicit
    from pybcc.compiler import build
    comp = compiler.find_compiler()
    header = tmp_path / "small.h"
    header.write_text("struct pybcc_pch_probe { int a; long b; };\n")
    flags = build.base_flags(comp)
    return lambda: implicit._pch(comp, flags, str(tmp_path / "no-vmlinux"), str(header))


@pytest.mark.parametrize("damage", ["modified", "truncated", "writable", "foreign"])
def test_frontend_pch_is_sealed(cache_dir, tmp_path, capfd, damage):
    pch = _frontend_pch(tmp_path)
    path = pch()
    assert cache.entry_ok(path) and os.path.exists(path + ".sha256")
    assert pch() == path and "warning" not in capfd.readouterr().err
    good = open(path, "rb").read()
    if damage == "modified":
        with open(path, "r+b") as f:
            f.seek(len(good) // 2)
            f.write(bytes([good[len(good) // 2] ^ 0xFF]))
        why = "modified or truncated"
    elif damage == "truncated":
        os.truncate(path, len(good) // 3)
        why = "modified or truncated"
    elif damage == "writable":
        os.chmod(path, 0o666)
        why = "writable by group or others"
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to give a file away")
        os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
        why = "owned by uid"
    assert pch() == path
    err = capfd.readouterr().err
    assert f"cache entry {path}" in err and why in err and "rebuilding" in err, err
    assert cache.entry_ok(path)
    st = os.stat(path)
    assert st.st_uid == os.geteuid() and not st.st_mode & 0o077
    assert len(open(path, "rb").read()) == len(good)


@pytest.mark.parametrize("how", ["write_entry", "install"])
def test_a_reader_between_the_writes_of_an_entry_removes_nothing(cache_dir, tmp_path,
                                                                 monkeypatch, capfd, how):
    """Another process that checks an entry while it is being written (after
    the first of its two files) finds nothing yet; it used to find the entry
    without its digest, remove it as damaged, and fail its writer (two first
    runs of one program at once)."""
    path = os.path.join(cache.private_dir("objects"), "k.o")
    real, looked = cache.write_atomic, []

    def write_then_look(p, data, mode=None):     # the first of the two writes, then a look
        real(p, data, mode)
        if not looked:
            looked.append(cache.entry_ok(path))
    monkeypatch.setattr(cache, "write_atomic", write_then_look)
    if how == "write_entry":
        cache.write_entry(path, b"object")
    else:
        done = tmp_path / "out.o"
        done.write_bytes(b"object")
        cache.install(str(done), path)
    assert looked == [False]
    assert cache.entry_ok(path) and open(path, "rb").read() == b"object"
    assert "warning" not in capfd.readouterr().err
