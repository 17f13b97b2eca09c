"""Where pybcc keeps compiled objects and compiler facts.

The root is /var/cache/pybcc (or $PYBCC_CACHE_DIR; a non-root user without
access to /var/cache falls back to $XDG_CACHE_HOME/pybcc). Directories are
created 0700 and must belong to us: an object from this cache is loaded into
the kernel, so nobody else may be able to write here.
"""
import json
import os
import stat
import tempfile
import time

from ..errors import CompileError

DEFAULT_ROOT = "/var/cache/pybcc"

_checked = set()


def cache_root():
    env = os.environ.get("PYBCC_CACHE_DIR")
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


def private_dir(*parts):
    """Return root/parts..., created 0700, after checking nobody else can write it."""
    path = os.path.join(cache_root(), *parts)
    if path in _checked:
        return path
    os.makedirs(path, mode=0o700, exist_ok=True)
    # Check every level we own, from the root down.
    root = cache_root()
    check = [root] + [os.path.join(root, *parts[:i + 1]) for i in range(len(parts))]
    for d in check:
        st = os.lstat(d)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise CompileError(
                f"refusing to use cache directory {d}: it must be a directory owned by uid "
                f"{os.geteuid()} and not writable by group or others "
                f"(fix it with: chown {os.geteuid()} {d} && chmod 700 {d}, or set PYBCC_CACHE_DIR)")
    _checked.add(path)
    return path


def write_atomic(path, data):
    """Write bytes to path so readers see the old file or the whole new one."""
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json(path):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, sort_keys=True).encode())


def prune(max_age_days=30):
    """Delete cached objects not used for max_age_days (by access time, which
    relatime still updates daily). Returns the number of files removed."""
    d = os.path.join(cache_root(), "objects")
    cutoff = time.time() - max_age_days * 86400
    removed = 0
    try:
        names = os.listdir(d)
    except OSError:
        return 0
    for name in names:
        p = os.path.join(d, name)
        try:
            st = os.stat(p)
            if max(st.st_atime, st.st_mtime) < cutoff:
                os.unlink(p)
                removed += 1
        except OSError:
            pass
    return removed
