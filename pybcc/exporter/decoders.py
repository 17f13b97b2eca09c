"""Label decoders: kernel numbers and bytes into the names people query by.

A decoder is a callable(value) -> str. `make(name, **options)` builds one by
the name a config uses; built-in metric sets use the same names, so a custom
program's labels decode exactly as the built-in ones do.
"""
import errno
import ipaddress
import os
import re
import socket
import time

from ..kernel.syscall_names import syscall_name

# REQ_OP_* of include/linux/blk_types.h (the low 8 bits of cmd_flags).
BLOCK_OPS = {0: "read", 1: "write", 2: "flush", 3: "discard", 5: "secure_erase",
             7: "zone_append", 9: "write_zeroes", 10: "zone_open", 11: "zone_close",
             12: "zone_finish", 13: "zone_reset", 15: "zone_reset_all",
             34: "drv_in", 35: "drv_out"}
# enum of include/net/tcp_states.h
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING", 12: "NEW_SYN_RECV", 13: "BOUND_INACTIVE"}
# softirq vectors of include/linux/interrupt.h (softirq_to_name)
SOFTIRQS = ["hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet",
            "sched", "hrtimer", "rcu"]
FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6", socket.AF_UNIX: "unix"}
TRACEFS = "/sys/kernel/tracing"


class DecodeError(ValueError):
    """A value the decoder cannot name (counted, and the series skipped)."""


def _table(table, what):
    def decode(v):
        name = table.get(int(v))
        return name if name is not None else f"{what}_{int(v)}"
    return decode


def tracepoint_symbols(category, event, field):
    """{number: name} from a tracepoint's __print_symbolic(REC->field, ...)
    in tracefs: how the kernel itself names e.g. enum skb_drop_reason,
    so the names follow the running kernel."""
    path = os.path.join(TRACEFS, "events", category, event, "format")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return {}
    m = re.search(r"__print_symbolic\(REC->%s,(.*)" % re.escape(field), text)
    if not m:
        return {}
    return {int(n, 0): s for n, s in re.findall(r'\{\s*(-?\w+),\s*"([^"]*)"\s*\}', m.group(1))}


def cgroup2_root():
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or
    /sys/fs/cgroup/unified on hybrid systems)."""
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    return fields[1]
    except OSError:
        pass
    return "/sys/fs/cgroup"


class CgroupPaths:
    """cgroup v2 id -> path. The id is the inode number of the cgroup's
    directory; the tree is walked again (at most once a second) on a miss."""

    def __init__(self, root=None):
        self.root = root or cgroup2_root()
        self.paths = {}
        self.walked = 0.0

    def _walk(self):
        paths = {}
        for d, _, _ in os.walk(self.root):
            rel = os.path.relpath(d, self.root)
            try:
                paths[os.stat(d).st_ino] = "/" if rel == "." else "/" + rel
            except OSError:
                pass
        self.paths = paths
        self.walked = time.monotonic()

    def __call__(self, cgroup_id):
        cgroup_id = int(cgroup_id)
        path = self.paths.get(cgroup_id)
        if path is None and time.monotonic() - self.walked > 1.0:
            self._walk()
            path = self.paths.get(cgroup_id)
        return path if path is not None else f"cgroup_id_{cgroup_id}"


_CONTAINER_ID = re.compile(r"(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)")


def container_id(path):
    """The container id in a cgroup path (docker, containerd, cri-o, podman
    all name the cgroup after the 64-hex id), "" where there is none."""
    m = _CONTAINER_ID.search(path)
    return m.group(1) if m else ""


def _string(v):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(v)


_disks = {}


def _disk(v):
    """A disk's name from its dev_t (major << 20 | minor, as the kernel
    keeps it): the name of /sys/dev/block/MAJ:MIN, else "MAJ:MIN".
    Remembered, so /sys is read once per disk, not once per scrape."""
    dev = int(v)
    name = _disks.get(dev)
    if name is None:
        where = f"{dev >> 20}:{dev & 0xFFFFF}"
        try:
            name = os.path.basename(os.readlink(f"/sys/dev/block/{where}"))
        except OSError:
            name = where        # gone already (its I/O was counted while it existed)
        _disks[dev] = name
    return name


def _ip(v):
    if isinstance(v, int):
        return str(ipaddress.IPv4Address(socket.ntohl(v)))
    b = bytes(v)
    if len(b) == 4:
        return str(ipaddress.IPv4Address(b))
    if len(b) == 16:
        addr = ipaddress.IPv6Address(b)
        return str(addr.ipv4_mapped or addr)
    raise DecodeError(f"not an IP address: {len(b)} bytes")


def _uint(v):
    return str(int(v))


def _hex(v):
    return "0x%x" % int(v)


def _static_map(mapping, allow_unknown=True):
    mapping = {int(k): str(v) for k, v in mapping.items()}

    def decode(v):
        if int(v) in mapping:
            return mapping[int(v)]
        if allow_unknown:
            return str(int(v))
        raise DecodeError(f"{v} is not in the static map")
    return decode


_shared = {}


def _drop_reason():
    if "drop_reason" not in _shared:
        _shared["drop_reason"] = tracepoint_symbols("skb", "kfree_skb", "reason")
    return _table(_shared["drop_reason"], "reason")


def _cgroup():
    if "cgroup" not in _shared:
        _shared["cgroup"] = CgroupPaths()
    return _shared["cgroup"]


def _syscall(v):
    return syscall_name(int(v)) or f"syscall_{int(v)}"


def _errno(v):
    return errno.errorcode.get(int(v), f"errno_{int(v)}") if int(v) else ""


# name -> factory(**options) -> decoder
DECODERS = {
    "uint": lambda: _uint,
    "hex": lambda: _hex,
    "string": lambda: _string,
    "syscall": lambda: _syscall,
    "errno": lambda: _errno,
    "disk": lambda: _disk,
    "block_op": lambda: _table(BLOCK_OPS, "op"),
    "tcp_state": lambda: _table(TCP_STATES, "state"),
    "drop_reason": _drop_reason,
    "softirq": lambda: _table(dict(enumerate(SOFTIRQS)), "vec"),
    "address_family": lambda: _table(FAMILIES, "family"),
    "ip": lambda: _ip,
    "port": lambda: _uint,
    "cgroup": _cgroup,
    "container_id": lambda: (lambda v: container_id(_cgroup()(v))),
    "static_map": lambda mapping, allow_unknown=True: _static_map(mapping, allow_unknown),
}


def make(name, **options):
    """The decoder called ``name``; KeyError for an unknown name,
    TypeError for options it does not take."""
    return DECODERS[name](**options)
