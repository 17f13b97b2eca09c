# len() of bcc's table kinds as bcc gives it (slot counts for the fd arrays,
# 0 for a ring buffer), and __int128 keys/values as two 64-bit halves,
# written and read back through the kernel.
import ctypes as ct
import socket
import struct

from bcc import BPF
from bcc.utils import get_possible_cpus
from scriptlib import check, passed

b = BPF(text=b"""
BPF_PROG_ARRAY(jmp, 32);
BPF_PERF_OUTPUT(events);
BPF_RINGBUF_OUTPUT(ring, 8);
BPF_CGROUP_ARRAY(cgroups, 4);
BPF_HASH(wide, unsigned __int128, __int128);
""")
check(len(b[b"jmp"]) == 32, "prog array length %d" % len(b[b"jmp"]))
check(len(b[b"cgroups"]) == 4, "cgroup array length %d" % len(b[b"cgroups"]))
check(len(b[b"events"]) == len(get_possible_cpus()), "perf array length %d" % len(b[b"events"]))
check(len(b[b"ring"]) == 0, "ring buffer length %d" % len(b[b"ring"]))

wide = b[b"wide"]
check(ct.sizeof(wide.Key) == 16 and wide.Key._type_ is ct.c_uint64 and wide.Key._length_ == 2,
      "unsigned __int128 key type %r" % wide.Key)
check(wide.Leaf._type_ is ct.c_int64, "__int128 value type %r" % wide.Leaf)
key = wide.Key.from_buffer_copy(socket.inet_pton(socket.AF_INET6, "2001:db8::1"))
wide[key] = wide.Leaf.from_buffer_copy(struct.pack("<qq", 42, -123456789))
((k, v),) = wide.items()
check((v[0], v[1]) == (42, -123456789), "value halves %r" % list(v))
check(socket.inet_ntop(socket.AF_INET6, bytes(k)) == "2001:db8::1", "key %r" % bytes(k))
passed("table_lengths")
