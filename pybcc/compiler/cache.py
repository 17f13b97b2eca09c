"""The object cache: compiled objects under <cache root>/objects.

The root, its permission check and atomic writes are pybcc.cache's; a cache
directory that is unsafe to use fails a compile with a CompileError.
"""
import os
import time

from .. import cache as _cache
from ..cache import read_json, root as cache_root, write_atomic, write_json  # noqa: F401
from ..errors import CompileError


def private_dir(*parts):
    """<cache root>/parts..., created 0700 and checked (see pybcc.cache)."""
    try:
        return _cache.private_dir(*parts)
    except _cache.CacheDirError as e:
        raise CompileError(e.message) from None


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
