"""pybcc's on-disk cache: one root, one boot identity, one permission check.

Everything pybcc remembers across runs lives under one root: compiled
objects (compiler/), generated vmlinux.h headers (btf/cgen), the per-boot
kernel memo (kernel/memo), compiler facts, front-end rewrites.

The root is $PYBCC_CACHE_DIR when set, else /var/cache/pybcc for root (or a
user owning it), else $XDG_CACHE_HOME/pybcc (~/.cache/pybcc). Directories
are created 0700 and must belong to us or to root and be writable by nobody
else: objects from this cache are loaded into the kernel.

Entries that feed the kernel or the compiler (objects, vmlinux.h, JSON
memos) are written with a digest beside them (NAME.sha256) and read only
after entry_ok(): a regular file owned by us or root, not writable by group
or others, in a private directory, whose content still has its digest. An
entry that fails is removed with a one-line warning, and rebuilt.

This module sits on the ground floor: it imports only pybcc.errors.
"""
import os
import stat
import sys

from .errors import BPFError

DEFAULT_ROOT = "/var/cache/pybcc"
ENV = "PYBCC_CACHE_DIR"

_KERNEL_BTF = "/sys/kernel/btf/vmlinux"
_checked = set()
# Cache roots this process made (a first run): nothing in them to sweep.
created_roots = set()


class CacheDirError(BPFError, PermissionError):
    """A cache directory is unsafe to use (wrong owner, writable by others)."""


def root():
    """The cache root directory (not created here)."""
    env = os.environ.get(ENV)
    if env:
        return env
    if os.geteuid() == 0:
        return DEFAULT_ROOT
    # Another user's (root's) cache is not ours to write or trust.
    try:
        if os.stat(DEFAULT_ROOT).st_uid == os.geteuid():
            return DEFAULT_ROOT
    except OSError:
        if os.access(os.path.dirname(DEFAULT_ROOT), os.W_OK):
            return DEFAULT_ROOT
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "pybcc")


def check_private(path):
    """Raise CacheDirError unless ``path`` is a real directory owned by us or
    root that neither group nor others can write."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid not in (0, os.geteuid()) or st.st_mode & 0o022:
        uid = os.geteuid()
        raise CacheDirError(
            f"refusing to use cache directory {path}: it must be a directory owned by uid "
            f"{uid} and not writable by group or others "
            f"(fix it with: chown {uid} {path} && chmod 700 {path}, or set {ENV})")


def private_dir(*parts, base=None):
    """Return <root>/parts... (or <base>/parts...), created 0700, after checking
    every level from the root down is private (see check_private)."""
    top = base or root()
    path = os.path.join(top, *parts)
    if path in _checked:
        return path
    if top not in _checked and not os.path.isdir(top):
        created_roots.add(top)
    for i in range(len(parts) + 1):
        d = os.path.join(top, *parts[:i])
        os.makedirs(d, mode=0o700, exist_ok=True)     # 0700 at every level we create
        check_private(d)
        _checked.add(d)
    _checked.add(path)
    return path


def boot_id():
    """This boot's random id ("" when unreadable)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def kernel_identity():
    """Changes whenever the kernel (and so its BTF) can have changed: per boot.
    None when it cannot be told (then nothing per-kernel should be cached)."""
    boot = boot_id()
    try:
        return f"{boot}-{os.stat(_KERNEL_BTF).st_size}" if boot else None
    except OSError:
        return None


def kernel_tag():
    """A short name for kernel_identity(), None when it cannot be told.
    Per-boot entries' names start with "TAG-", so a sweep can tell the
    entries of earlier boots (pybcc/cache_sweep.py)."""
    ident = kernel_identity()
    return sha256(ident.encode()).hexdigest()[:16] if ident else None


def write_atomic(path, data, mode=None):
    """Write bytes to path so readers see the old file or the whole new one."""
    fd, tmp = _tmp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def _tmp_beside(path):
    """(fd, path) of a new temporary file in ``path``'s directory, to be
    renamed over it (the sweep leaves .tmp- names alone): created 0600 and
    exclusively, as tempfile.mkstemp does, without importing tempfile
    (shutil, random, bz2, lzma: ~6 ms of a first run, which writes)."""
    directory = os.path.dirname(path) or "."
    while True:
        tmp = os.path.join(directory, ".tmp-" + os.urandom(6).hex())
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


_sha256_impl = None


def sha256(data=b""):
    """hashlib.sha256 without loading OpenSSL when Python's own SHA-256 is
    there: libcrypto adds ~3.5 MB of RSS and a few ms to every start."""
    global _sha256_impl
    if _sha256_impl is None:     # found once: a failed import searches all of sys.path
        try:
            from _sha2 import sha256 as _sha256_impl     # Python 3.12+
        except ImportError:
            try:
                from _sha256 import sha256 as _sha256_impl
            except ImportError:
                from hashlib import sha256 as _sha256_impl
    return _sha256_impl(data)


def hexdigest(data):
    """SHA-256 of data, in hex."""
    if len(data) > 1 << 20:     # a precompiled header (~15 MB): OpenSSL's is ~6x faster
        import hashlib
        return hashlib.sha256(data).hexdigest()
    return sha256(data).hexdigest()


# An entry's digest is written before the entry: a reader that found the entry
# without one took it for a damaged entry and removed it, under its writer
# (two first runs of one program at once failed so).

def install(done, path):
    """Move the finished file ``done`` into the cache as the entry ``path``,
    with the digest that entry_ok() checks."""
    import shutil
    fd, tmp = _tmp_beside(path)
    os.close(fd)
    try:
        shutil.move(done, tmp)       # a rename, or a copy from another filesystem
        with open(tmp, "rb") as f:
            write_atomic(path + ".sha256", hexdigest(f.read()).encode())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_entry(path, data, mode=None):
    """write_atomic, and the digest that entry_ok() checks."""
    write_atomic(path + ".sha256", hexdigest(data).encode())
    write_atomic(path, data, mode)


def _entry_problem(path, digest=True):
    """Why the entry at ``path`` must not be used; None when it may.
    Raises FileNotFoundError when there is no entry."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_uid not in (0, os.geteuid()):
        return f"is owned by uid {st.st_uid}"
    if st.st_mode & 0o022:
        return "is writable by group or others"
    try:
        check_private(os.path.dirname(path) or ".")
    except CacheDirError:
        return "is in a directory others can write"
    if not digest:
        return None
    try:
        with open(path + ".sha256", "rb") as f:
            want = f.read().decode("ascii", "replace").strip()
    except FileNotFoundError:
        return "has no digest"
    with open(path, "rb") as f:
        if hexdigest(f.read()) != want:
            return "was modified or truncated"
    return None


def entry_ok(path, digest=True):
    """Whether the cache entry at ``path`` may be used (see the module
    docstring). A bad one is removed, with a warning, so it is rebuilt.
    digest=False skips the digest (for a large entry that the kernel and the
    compiler never see, checked by its reader instead; see kallsyms_memo)."""
    try:
        problem = _entry_problem(path, digest)
    except FileNotFoundError:
        return False
    except OSError as e:
        problem = f"cannot be read ({e.strerror})"
    if problem is None:
        return True
    print(f"pybcc: warning: cache entry {path} {problem}: not used, rebuilding it", file=sys.stderr)
    for p in (path, path + ".sha256"):
        try:
            os.unlink(p)
        except OSError:
            pass
    return False


def read_json(path):
    """The JSON value stored at path; None when missing, unreadable or
    refused by entry_ok()."""
    if not entry_ok(path):
        return None
    import json
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def write_json(path, obj):
    import json
    write_entry(path, json.dumps(obj, sort_keys=True).encode())


def read_memo(path):
    """The value stored at path by write_memo(); None when missing,
    unreadable or refused by entry_ok(). For memos read at every start:
    marshal is built in, where importing json costs ~2 ms."""
    if not entry_ok(path):
        return None
    import marshal
    try:
        with open(path, "rb") as f:
            return marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write_memo(path, obj):
    """Store ``obj`` (dicts, lists, str, bytes, numbers, None) for read_memo()."""
    import marshal
    write_entry(path, marshal.dumps(obj))


def file_state(path):
    """"PATH:size:mtime:ctime:inode" ("PATH:-" when it cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:-"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def remembered_digest(kind, paths, compute):
    """``compute()`` -- a digest (str) of the contents of the files ``paths``
    -- remembered per state of those files (size, mtime, ctime, inode), so a
    start that finds them unchanged stats them instead of hashing them again
    (Python's own SHA-256 takes ~9 ms for a tool's 650 KB object). Files are
    the package's own (prebuilt objects, headers, modules): whoever can change
    them without changing their ctime can change pybcc's code anyway."""
    sig = [kind] + [file_state(p) for p in paths]
    try:
        path = os.path.join(private_dir("digests"), sha256("\n".join(sig).encode()).hexdigest()[:32])
    except OSError:
        return compute()
    if entry_ok(path):
        try:
            with open(path) as f:
                return f.read().split("\n", 1)[0]
        except OSError:
            pass
    value = compute()
    try:
        # the files' states after the value, for the sweep (cache_sweep.py)
        write_entry(path, "\n".join([value] + sig).encode())
    except OSError:
        pass    # an unusable cache only costs time
    return value


def read_mapped(path, unpack, what):
    """``unpack(mm)`` of a read-only mmap of the cache entry at ``path``,
    checked by entry_ok() without its digest (large memos whose readers
    check their shape: unpack returns None for a bad one, which is then
    removed with a warning, so it is rebuilt). None when there is none."""
    if not entry_ok(path, digest=False):
        return None
    import mmap
    try:
        with open(path, "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    except (OSError, ValueError):
        return None
    found = unpack(mm)
    if found is None:
        print(f"pybcc: warning: cache entry {path} is truncated or not {what}: rebuilding it",
              file=sys.stderr)
        mm.close()
        remove_entry(path)
    return found


def remove_entry(path):
    """Remove a cache entry (and its digest) if it is there."""
    for p in (path, path + ".sha256"):
        try:
            os.unlink(p)
        except OSError:
            pass
