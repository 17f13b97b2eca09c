"""CPU lists from sysfs (``0-3,5`` format)."""


def parse_cpu_list(text):
    cpus = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def online_cpus():
    with open("/sys/devices/system/cpu/online") as f:
        return parse_cpu_list(f.read())
