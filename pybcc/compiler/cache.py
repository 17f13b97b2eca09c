"""The object cache: compiled objects under <cache root>/objects.

The root, its permission check and atomic writes are pybcc.cache's; a cache
directory that is unsafe to use fails a compile with a CompileError.
"""

from .. import cache as _cache
from ..cache import read_json, root as cache_root, write_atomic, write_json  # noqa: F401
from ..errors import CompileError


def private_dir(*parts):
    """<cache root>/parts..., created 0700 and checked (see pybcc.cache)."""
    try:
        return _cache.private_dir(*parts)
    except _cache.CacheDirError as e:
        raise CompileError(e.message) from None
