"""The running kernel's configuration (for __kconfig externs)."""
import functools
import gzip
import os


@functools.lru_cache(maxsize=None)
def kconfig_values():
    """CONFIG_* name → value string ('y', 'm', '"text"', '123'); {} if unknown."""
    for path in ("/proc/config.gz", f"/boot/config-{os.uname().release}",
                 f"/lib/modules/{os.uname().release}/config"):
        if not os.path.exists(path):
            continue
        opener = gzip.open if path.endswith(".gz") else open
        try:
            with opener(path, "rt") as f:
                text = f.read()
        except OSError:
            continue
        values = {}
        for line in text.splitlines():
            if line.startswith("CONFIG_") and "=" in line:
                k, v = line.split("=", 1)
                values[k] = v
        return values
    return {}
