# LPM trie table: longest-prefix match on IPv4 keys set from Python.
import ctypes as ct
import socket

from bcc import BPF
from scriptlib import HEADERS, check, passed

prog = HEADERS + r"""
struct lpm_key {
    u32 prefixlen;
    u8 addr[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 128);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key);
    __type(value, u64);
} routes SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int noop(void *ctx)
{
    struct lpm_key k = {32, {10, 1, 2, 3}};
    bpf_map_lookup_elem(&routes, &k);
    return 0;
}
"""

b = BPF(text=prog)
routes = b["routes"]


def key(prefixlen, addr):
    k = routes.Key()
    k.prefixlen = prefixlen
    k.addr = (ct.c_ubyte * 4)(*socket.inet_aton(addr))
    return k


routes[key(8, "10.0.0.0")] = routes.Leaf(8)
routes[key(16, "10.1.0.0")] = routes.Leaf(16)
check(routes[key(32, "10.1.2.3")].value == 16, "longest prefix wins")
check(routes[key(32, "10.9.9.9")].value == 8, "shorter prefix")
try:
    routes[key(32, "192.168.0.1")]
    check(False, "no match should raise KeyError")
except KeyError:
    pass
check(len(routes.items()) == 2, "items")


# A key given as the script's own, shorter ctypes struct is its memory, zero
# padded (bcc passes the object's bytes): 7 bytes, prefix 32, 10.1.2 + 0.
class ShortKey(ct.Structure):
    _pack_ = 1
    _fields_ = [("prefixlen", ct.c_uint), ("data", ct.c_ubyte * 3)]


check(ct.sizeof(ShortKey) == 7, "ShortKey size")
check(routes[ShortKey(32, (10, 1, 2))].value == 16, "a shorter ctypes key")
check(routes[ShortKey(32, (10, 9, 9))].value == 8, "a shorter ctypes key, other route")
passed("lpm_trie")
