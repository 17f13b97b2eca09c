# bcc's packet dialect (<bcc/proto.h>, cursor_advance, header fields) on real
# packets: UDP datagrams go over a veth pair between two network namespaces.
# A tc program on the sender's egress lowers their TTL through a header field
# store (bpf_dins_pkt) and fixes the IP checksum (incr_cksum_l3); a socket
# filter on the same device parses every header field the way bcc's
# examples/networking scripts do and counts what it saw. The receiver gets
# every datagram (a wrong checksum would drop them) with the new TTL. A
# header struct of the script's own reads the numbers in the payloads.
import ctypes
import os
import socket
import struct
import subprocess
import time

from bcc import BPF
from scriptlib import check, passed, skip

NS = f"pybcc-pkt{os.getpid()}"
PEER = NS + "p"
SRC, DST = "10.201.7.2", "10.201.7.1"
PORT, COUNT, TTL, LOWER_BY = 45017, 20, 77, 44

prog = r"""
#include <bcc/proto.h>

struct key_t {
    u32 src;
    u32 dst;
    u16 dport;
    u16 length;
    u8 ttl;
    u8 ver_hlen;
    u8 df;
};
BPF_HASH(seen, struct key_t, u64);
BPF_ARRAY(seq_sum, u64, 1);

/* The datagrams' payload, "pybcc packet NN": a header of the program's own. */
struct payload_t {
    unsigned int magic;
    unsigned char rest[8];
    unsigned char space;
    unsigned char tens;
    unsigned char ones;
} BPF_PACKET_HEADER;

int count_udp(struct __sk_buff *skb) {
    u8 *cursor = 0;
    struct ethernet_t *ethernet = cursor_advance(cursor, sizeof(*ethernet));
    if (ethernet->type != ETH_P_IP)
        return 0;
    struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
    if (ip->nextp != 17)
        return 0;
    struct udp_t *udp = cursor_advance(cursor, sizeof(*udp));
    struct key_t key = {};
    key.src = ip->src;
    key.dst = ip->dst;
    key.dport = udp->dport;
    key.length = udp->length;
    key.ttl = ip->ttl;
    key.ver_hlen = ip->ver << 4 | ip->hlen;
    key.df = ip->df;
    seen.increment(key);
    struct payload_t *payload = cursor_advance(cursor, sizeof(*payload));
    if (udp->dport == PORT && payload->magic == 0x70796263)     /* "pybc" */
        seq_sum.increment(0, (payload->tens - '0') * 10 + payload->ones - '0');
    return 0;
}

int lower_ttl(struct __sk_buff *skb) {
    u8 *cursor = 0;
    struct ethernet_t *ethernet = cursor_advance(cursor, sizeof(*ethernet));
    if (ethernet->type != ETH_P_IP)
        return -1;
    struct ip_t *ip = cursor_advance(cursor, sizeof(*ip));
    if (ip->nextp != 17)
        return -1;
    struct udp_t *udp = cursor_advance(cursor, sizeof(*udp));
    if (udp->dport != PORT)
        return -1;
    u16 old = ip->ttl << 8 | ip->nextp;   /* the checksummed 16-bit word */
    ip->ttl -= LOWER_BY;
    u16 new = ip->ttl << 8 | ip->nextp;
    incr_cksum_l3(&ip->hchecksum, old, new);
    return -1;      /* TCX_NEXT: let it go */
}
"""

libc = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        check(libc.setns(fd, 0x40000000) == 0, f"setns {ns}: errno {ctypes.get_errno()}")
    finally:
        os.close(fd)


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def net_up():
    ip("netns", "add", NS)
    ip("netns", "add", PEER)
    ip("link", "add", "pk0", "netns", NS, "type", "veth", "peer", "name", "pk1", "netns", PEER)
    ip("-n", NS, "addr", "add", f"{SRC}/24", "dev", "pk0")
    ip("-n", PEER, "addr", "add", f"{DST}/24", "dev", "pk1")
    for ns, dev in ((NS, "pk0"), (PEER, "pk1")):
        ip("-n", ns, "link", "set", dev, "up")


def main():
    b = BPF(text=prog, cflags=[f"-DPORT={PORT}", f"-DLOWER_BY={LOWER_BY}"])
    counter = b.load_func("count_udp", BPF.SOCKET_FILTER)
    lower = b.load_func("lower_ttl", BPF.SCHED_CLS)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    net_up()
    try:
        enter(PEER)
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind((DST, PORT))
        rx.setsockopt(socket.IPPROTO_IP, 12, 1)     # IP_RECVTTL
        rx.settimeout(2)
        enter(NS)
        BPF.attach_raw_socket(counter, "pk0")
        from pybcc.attach.tc import attach_tc
        from pybcc.errors import NotSupportedError
        try:
            link = attach_tc(lower.fd, "pk0", "egress")
        except NotSupportedError as e:
            link = None
            print("no tc rewrite:", e)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, TTL)
        for i in range(COUNT):
            tx.sendto(b"pybcc packet %02d" % i, (DST, PORT))
        ttls = []
        for _ in range(COUNT):
            try:
                data, anc, _, _ = rx.recvmsg(64, socket.CMSG_SPACE(4))
            except socket.timeout:
                check(False, f"the receiver got {len(ttls)} of {COUNT} datagrams (bad checksum?)")
            ttls += [struct.unpack("i", d[:4])[0] for lvl, typ, d in anc if typ == socket.IP_TTL]
        time.sleep(0.2)
        want_ttl = TTL - LOWER_BY if link else TTL
        check(ttls == [want_ttl] * COUNT, f"receiver's TTLs {ttls}, want {COUNT} x {want_ttl}")
        seen = {(socket.inet_ntoa(struct.pack("!I", k.src)), socket.inet_ntoa(struct.pack("!I", k.dst)),
                 k.dport, k.length, k.ttl, k.ver_hlen, k.df): v.value for k, v in b["seen"].items()}
        key = (SRC, DST, PORT, 8 + len(b"pybcc packet 00"), want_ttl, 0x45, 1)
        check(seen.get(key) == COUNT, f"socket filter saw {seen}, want {key}: {COUNT}")
        total = b["seq_sum"][0].value
        check(total == sum(range(COUNT)), f"sum of the payloads' numbers {total}, want {sum(range(COUNT))}")
        if link:
            link.close()
    finally:
        os.setns(home, 0) if hasattr(os, "setns") else libc.setns(home, 0x40000000)
        for ns in (NS, PEER):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
    passed("packet_headers")


if os.geteuid() != 0:
    skip("needs root for network namespaces")
main()
