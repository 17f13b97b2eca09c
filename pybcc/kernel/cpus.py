"""CPU numbers from sysfs ("0-3,6" lists)."""
import functools


def parse_cpu_list(text):
    cpus = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def _read(name):
    with open(f"/sys/devices/system/cpu/{name}") as f:
        return parse_cpu_list(f.read())


def online_cpus():
    """CPUs online now (may change: not cached)."""
    return _read("online")


@functools.lru_cache(maxsize=None)
def possible_cpus():
    """CPUs that can ever exist: per-CPU map values have one slot for each."""
    return tuple(_read("possible"))
