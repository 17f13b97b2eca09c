"""Facts the dialect derives from the kernel's BTF (array sizes), remembered
in pybcc's cache: they change only with the kernel's BTF, whose hash names
it (compiler.build.kernel_btf_id), and reading them costs a BTF parse."""
import hashlib
import os

_code_ids = {}


def remembered(kind, identity, compute, code_file):
    """compute()'s value (JSON) for the kernel BTF named ``identity``
    (compiler.build.kernel_btf_id), computed once per BTF and per version of
    ``code_file`` (the code computing it), then read from the cache."""
    from ... import cache
    try:
        parts = (kind, identity, _code_id(code_file))
        key = hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()
        path = os.path.join(cache.private_dir("frontend"), f"{kind}-{key[:40]}.json")
    except Exception:   # no usable cache: compute it here
        return compute()
    value = cache.read_json(path)
    if value is None:
        value = compute()
        try:
            cache.write_json(path, value)
        except OSError:
            pass
    return value


def _code_id(path):
    if path not in _code_ids:
        with open(path, "rb") as f:
            _code_ids[path] = hashlib.sha256(f.read()).hexdigest()
    return _code_ids[path]
