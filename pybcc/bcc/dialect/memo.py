"""Facts the dialect derives from the kernel's vmlinux.h or BTF (its record
names, bitfields, array sizes), remembered in pybcc's cache. Each costs a
second or more of Python in every process that compiles a bcc program (ten
times that in a VM without KVM), and they change only with the kernel's BTF,
whose hash names the vmlinux.h directory."""
import hashlib
import os

_code_ids = {}


def remembered(kind, vmlinux_h, compute, code_file):
    """compute()'s value (JSON) for the vmlinux.h at ``vmlinux_h``, computed
    once per header and per version of ``code_file`` (the code computing it),
    then read from the cache."""
    from ... import cache
    try:
        st = os.stat(vmlinux_h)
        parts = (kind, os.path.realpath(vmlinux_h), st.st_size, st.st_mtime_ns, _code_id(code_file))
        key = hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()
        path = os.path.join(cache.private_dir("frontend"), f"{kind}-{key[:40]}.json")
    except Exception:   # no header, or no usable cache: compute it here
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
