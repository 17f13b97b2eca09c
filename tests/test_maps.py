"""Maps and codecs, against the running kernel (root) and clang's BTF."""
import ctypes
import errno
import os
import shutil
import socket
import struct
import subprocess

import pytest

from pybcc.btf import BTF, Member, Type
from pybcc.btf import types as bt
from pybcc.errors import BPFError, MapError
from pybcc.kernel import bpf
from pybcc.kernel.uapi import BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_NOEXIST, MapType, ProgType
from pybcc import asm
from pybcc.maps import (ArrayMap, BloomFilterMap, HashMap, LocalStorageMap, LpmTrieMap, Map,
                        MapIndexError, MapInMap, MapSpec, PerCpuArrayMap, PerCpuHashMap,
                        ProgArrayMap, QueueMap, StackMap, StackTraceMap, btf_codec, codec_for,
                        create_map, map_class, num_possible_cpus, open_map, raw_codec, to_dict)
from pybcc.kernel.cpus import parse_cpu_list

CLANG = shutil.which("clang-16") or shutil.which("clang")

TEST_C = r"""
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
enum color { RED = 1, GREEN = 2, BLUE = -1 };
enum big { HUGE = 0x100000000ULL };
struct inner { short a; u8 raw[3]; };
struct ev {
    u32 pid;
    char comm[16];
    unsigned int flag1 : 1, level : 3;
    int sbits : 5;
    enum color c;
    union { u32 u; float f; };
    struct inner in[2];
    long long big;
    void *ptr;
    double d;
    _Bool ok;
    int grid[2][3];
    char names[2][4];
    struct { u8 x; u8 y; };
    enum big e64;
    __int128 wide;
};
struct key { u32 pid; char comm[8]; };
struct val { u64 count; u64 bytes; };

struct ev ev_init = {
    .pid = 42, .comm = "bash", .flag1 = 1, .level = 5, .sbits = -3, .c = BLUE,
    .f = 1.5f, .in = {{1, {1, 2, 3}}, {-2, "xyz"}}, .big = -7, .ptr = (void *)0x1234,
    .d = 2.5, .ok = 1, .grid = {{1, 2, 3}, {4, 5, -6}}, .names = {"ab", "cde"},
    .x = 7, .y = 8, .e64 = HUGE, .wide = -2,
};
struct tricky {
    union { unsigned int word; struct { unsigned int lo : 4, mid : 12; enum color col : 8; }; };
    struct { union { char tag[3]; u8 tag_raw[3]; }; };
    long long last : 40;
};
struct tricky tricky_init = { .lo = 3, .mid = 0xabc, .col = GREEN, .tag = "ok", .last = -5 };
struct key key_g;
struct val val_g;
"""


@pytest.fixture(scope="session")
def obj(tmp_path_factory):
    """(BTF, .data bytes, {symbol: offset in .data}) of TEST_C built by clang."""
    if not CLANG:
        pytest.skip("needs clang to build test BTF")
    from elftools.elf.elffile import ELFFile
    d = tmp_path_factory.mktemp("btf")
    (d / "t.c").write_text(TEST_C)
    subprocess.run([CLANG, "-O2", "-g", "-target", "bpf", "-c", str(d / "t.c"), "-o", str(d / "t.o")],
                   check=True)
    with open(d / "t.o", "rb") as f:
        elf = ELFFile(f)
        btf = BTF.parse(elf.get_section_by_name(".BTF").data())
        data = elf.get_section_by_name(".data").data()
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
    return btf, data, syms


def tid(btf, name, kind=bt.STRUCT):
    return btf.find(name, kind).id


# --- codecs (no kernel needed) ---------------------------------------------------------


EV_VALUES = dict(pid=42, comm="bash", flag1=1, level=5, sbits=-3, c="BLUE", f=1.5,
                 big=-7, ptr=0x1234, d=2.5, ok=True, grid=[[1, 2, 3], [4, 5, -6]],
                 names=["ab", "cde"], x=7, y=8, e64=0x100000000, wide=-2,
                 **{"in": [(1, b"\x01\x02\x03"), {"a": -2, "raw": b"xyz"}]})


def test_codec_matches_clang_layout(obj):
    btf, data, syms = obj
    c = btf_codec(btf, tid(btf, "ev"))
    assert c.size == btf[tid(btf, "ev")].size
    raw = data[syms["ev_init"]:syms["ev_init"] + c.size]
    ev = c.decode(raw)
    assert ev.pid == 42 and ev.comm == "bash"
    assert (ev.flag1, ev.level, ev.sbits) == (1, 5, -3)
    assert ev.c == -1 and ev.c.name == "BLUE"
    assert ev.f == 1.5 and ev.u == struct.unpack("<I", struct.pack("<f", 1.5))[0]
    assert getattr(ev, "in")[0].raw == b"\x01\x02\x03" and getattr(ev, "in")[1].a == -2
    assert (ev.big, ev.ptr, ev.d, ev.ok) == (-7, 0x1234, 2.5, True)
    assert ev.grid == ((1, 2, 3), (4, 5, -6)) and ev.names == ("ab", "cde")
    assert (ev.x, ev.y, ev.e64, ev.e64.name, ev.wide) == (7, 8, 0x100000000, "HUGE", -2)
    # Encoding the same values gives clang's bytes exactly (padding is zero in .data).
    assert bytes(c.encode(EV_VALUES)) == raw
    assert bytes(c.encode(ev)) == raw                 # a decoded record encodes back
    assert c.decode(bytes(c.encode(ev._asdict()))) == ev


def test_codec_forms(obj):
    btf, data, syms = obj
    c = btf_codec(btf, tid(btf, "ev"), chars="bytes")
    raw = data[syms["ev_init"]:syms["ev_init"] + c.size]
    ev = c.decode(raw)
    assert ev.comm == b"bash" and ev.names == (b"ab", b"cde")
    d = to_dict(ev)
    assert d["in"][1] == {"a": -2, "raw": b"xyz"} and d["grid"] == [[1, 2, 3], [4, 5, -6]]
    # ctypes side: bcc-style attribute access, including bitfields and anonymous members.
    o = c.decode_ctype(raw)
    assert (o.pid, o.comm, o.level, o.sbits, o.f, o.x) == (42, b"bash", 5, -3, 1.5, 7)
    o.level = 2
    o.y = 9
    assert c.decode(o).level == 2 and c.decode(o).y == 9 and c.decode(o).flag1 == 1
    # Records are hashable and sortable (struct keys in dicts and sorted()).
    k = btf_codec(btf, tid(btf, "key"))
    a, b = k.decode(bytes(k.encode((1, "zz")))), k.decode(bytes(k.encode({"pid": 1, "comm": "aa"})))
    assert sorted([a, b])[0] == b and len({a, b, a}) == 2
    assert k.encode(k.ctype(pid=3)).pid == 3
    with pytest.raises(ValueError):
        k.encode((1, "much too long"))
    with pytest.raises(ValueError):
        k.encode({"nope": 1})
    with pytest.raises(ValueError):
        c.encode({"c": "PURPLE"})


def test_codec_nested_anonymous_and_bitfields(obj):
    btf, data, syms = obj
    c = btf_codec(btf, tid(btf, "tricky"))
    raw = data[syms["tricky_init"]:syms["tricky_init"] + c.size]
    t = c.decode(raw)
    assert (t.lo, t.mid, t.col, t.col.name, t.tag, t.tag_raw, t.last) == \
        (3, 0xabc, 2, "GREEN", "ok", b"ok\0", -5)
    assert t.word == 3 | 0xabc << 4 | 2 << 16
    assert repr(t.col) == "color.GREEN" and str(t.col) == "2"
    assert bytes(c.encode(dict(lo=3, mid=0xabc, col="GREEN", tag="ok", last=-5))) == raw
    o = c.ctype()
    o.word = 0xffffffff
    o.last = -1
    assert c.decode(o).mid == 0xfff and c.decode(o).last == -1


def test_codec_old_style_bitfields():
    # BTF without kind_flag: the bitfield width lives in the member's INT type.
    btf = BTF([])
    btf.add(Type(0, bt.INT, "unsigned int", size=4, bits=32))
    btf.add(Type(0, bt.INT, "int", size=4, encoding=bt.INT_SIGNED, bits=3))
    btf.add(Type(0, bt.STRUCT, "s", size=8, members=[Member("a", 2, 0), Member("b", 2, 3),
                                                      Member("c", 1, 32)]))
    btf = BTF.parse(btf.to_bytes())
    c = btf_codec(btf, 3)
    assert c.decode(struct.pack("<II", 0b101 | 0b011 << 3, 9)) == (-3, 3, 9)
    assert struct.unpack("<II", bytes(c.encode((-1, 1, 2)))) == (0b111 | 0b001 << 3, 2)


def test_codec_datasec_and_raw(obj):
    btf, data, syms = obj
    sec = btf.find(".data", bt.DATASEC)
    for v in sec.members:          # what the loader does: real offsets and sizes
        v.offset = syms[btf[v.type].name]
    sec.size = len(data)
    c = btf_codec(btf, sec.id)
    assert c.decode(data).ev_init.comm == "bash"
    r = raw_codec(4)
    assert r.decode(bytes(r.encode(7))) == 7 and r.ctype is ctypes.c_uint32
    r = raw_codec(6)
    assert r.decode(bytes(r.encode(b"abc"))) == b"abc\0\0\0"
    # A BTF type whose size does not match the map falls back to raw bytes.
    assert codec_for(btf, tid(btf, "val"), 4).ctype is ctypes.c_uint32


def test_possible_cpus_parse():
    assert parse_cpu_list("0-3,5,7-8\n") == [0, 1, 2, 3, 5, 7, 8]
    assert parse_cpu_list("0") == [0]


def test_map_class_choice():
    assert map_class(MapType.HASH) is HashMap
    assert map_class(MapType.PERCPU_ARRAY) is PerCpuArrayMap
    assert map_class(MapType.RINGBUF) is Map
    assert map_class(MapType.STACK_TRACE) is StackTraceMap
    for t in MapType:
        assert issubclass(map_class(t), Map)


# --- kernel maps -----------------------------------------------------------------------


def make(mtype, key_size=4, value_size=8, max_entries=64, flags=0, btf=None, key_id=0,
         value_id=0, btf_fd=0, name="pybcc_test", inner_map_fd=0, map_extra=0, **options):
    """Create a map in the kernel and wrap it; skip when this kernel refuses the type."""
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2)")
    try:
        fd = bpf.map_create(map_type=int(mtype), key_size=key_size, value_size=value_size,
                                 max_entries=max_entries, map_flags=flags, map_name=name,
                                 btf_fd=btf_fd, btf_key_type_id=key_id if btf_fd else 0,
                                 btf_value_type_id=value_id if btf_fd else 0,
                                 inner_map_fd=inner_map_fd, map_extra=map_extra)
    except BPFError as e:
        if e.errno in (errno.EINVAL, errno.EPERM, errno.EOPNOTSUPP, 524):
            pytest.skip(f"this kernel cannot create {mtype.name} maps: {e}")
        raise
    spec = MapSpec(name, mtype, key_size, value_size, max_entries, flags, btf, key_id, value_id)
    return open_map(fd, spec, **options)


@pytest.mark.parametrize("mtype", [MapType.HASH, MapType.LRU_HASH])
def test_hash_round_trip(mtype):
    with make(mtype) as m:
        assert type(m) is HashMap and len(m) == 0 and list(m) == []
        for i in range(20):
            m[i] = i * i
        assert m[7] == 49 and 7 in m and 99 not in m and m.get(99, "x") == "x"
        assert len(m) == 20 and sorted(m) == list(range(20))
        assert dict(m.items()) == {i: i * i for i in range(20)}
        assert sorted(m.values()) == sorted(i * i for i in range(20))
        del m[7]
        with pytest.raises(KeyError):
            m[7]
        with pytest.raises(KeyError):
            del m[7]
        assert m.pop(8) == 64 and m.pop(8, None) is None
        with pytest.raises(MapError) as e:
            m.update_elem(1, 5, BPF_NOEXIST)
        assert e.value.errno == errno.EEXIST and "pybcc_test" in str(e.value)
        m.zero()
        assert set(m.values()) == {0} and len(m) == 18
        m.clear()
        assert len(m) == 0


def test_hash_delete_while_iterating():
    with make(MapType.HASH) as m:
        m.update_batch({i: i for i in range(50)})
        seen = []
        for k in m:
            seen.append(k)
            del m[k]
        assert sorted(seen) == list(range(50)) and len(m) == 0


def test_hash_iteration_survives_other_deletions():
    # Deleting the key the iterator holds next makes the kernel restart from
    # the first key: the iterator must neither repeat keys nor loop.
    with make(MapType.HASH) as m:
        m.update_batch({i: i for i in range(50)})
        seen, gone = [], set()
        for k in m:
            assert k not in seen
            seen.append(k)
            m.pop(k, None)
            for other in list(m)[:2]:          # two keys the iterator has not reached
                gone.add(other)
                del m[other]
        assert set(seen) | gone == set(range(50)) and len(m) == 0


def test_hash_batch_ops():
    with make(MapType.HASH, max_entries=1000) as m:
        m.update_batch({i: i + 1 for i in range(700)})
        assert len(m) == 700
        assert dict(m.lookup_batch(chunk=64)) == {i: i + 1 for i in range(700)}
        m.delete_batch(list(range(100)) + [5000])      # a missing key is skipped
        assert len(m) == 600
        got = m.pop_all()
        assert len(got) == 600 and len(m) == 0


@pytest.mark.parametrize("batched", [True, False])
def test_hash_items_bytes(batched):
    """items_bytes(): every key and value of a hash undecoded, back to back
    and paired in order, over several batches or, where the kernel has no
    batches (before 5.6), a lookup per key."""
    from pybcc.kernel.uapi import Cmd
    with make(MapType.HASH, max_entries=1000) as m:
        m.update_batch({i: i * 3 for i in range(700)})
        if not batched:
            m._batch_support = {Cmd.MAP_LOOKUP_BATCH: False}
        keys, values = m.items_bytes(chunk=64)
        pairs = zip(struct.iter_unpack("<I", keys), struct.iter_unpack("<Q", values))
        assert {k: v for (k,), (v,) in pairs} == {i: i * 3 for i in range(700)}
        assert len(keys) == 700 * 4 and len(values) == 700 * 8
    with make(MapType.HASH, max_entries=4) as m:
        assert m.items_bytes() == (b"", b"")


def test_hash_full_error():
    with make(MapType.HASH, max_entries=2) as m:
        m[1], m[2] = 1, 2
        with pytest.raises(MapError) as e:
            m[3] = 3
        assert e.value.errno == errno.E2BIG and "max_entries=2" in str(e.value)


def test_struct_keys_and_values(obj):
    btf = obj[0]
    key_id, val_id = tid(btf, "key"), tid(btf, "val")
    with make(MapType.HASH, 12, 16, btf=btf, key_id=key_id, value_id=val_id) as m:
        m[(1, "bash")] = {"count": 3, "bytes": 100}
        m[{"pid": 2, "comm": "sh"}] = (1, 2)
        assert m[(1, "bash")] == (3, 100) and m[(1, "bash")].bytes == 100
        assert sorted(m) == [(1, "bash"), (2, "sh")]
        k = next(iter(m))
        assert k.comm in ("bash", "sh") and k in m
        assert sorted(v.count for v in m.values()) == [1, 3]
    # bcc style: ctypes Key/Leaf, char arrays as bytes.
    with make(MapType.HASH, 12, 16, btf=btf, key_id=key_id, value_id=val_id,
              chars="bytes", as_ctypes=True) as m:
        m[m.Key(pid=5, comm=b"cat")] = m.Leaf(count=9)
        k, v = m.items()[0]
        assert isinstance(k, m.Key) and k.comm == b"cat" and v.count == 9


def test_array():
    with make(MapType.ARRAY, max_entries=8) as m:
        assert type(m) is ArrayMap and len(m) == 8 and list(m) == list(range(8))
        assert m[3] == 0
        m[3] = 33
        m[-1] = 7
        assert m[3] == 33 and m[7] == 7 and 8 not in m
        with pytest.raises(MapIndexError):
            m[8]
        with pytest.raises(KeyError):
            m[100]
        with pytest.raises(MapError, match="cannot be deleted"):
            del m[3]
        assert dict(m.items())[3] == 33
        m.zero(3)
        assert m[3] == 0
        m[2] = 5
        m.zero()
        assert m[2] == 0
        m.clear()
        assert m.values() == [0] * 8
    with make(MapType.ARRAY, max_entries=4, as_ctypes=True) as m:
        m[1] = m.Leaf(5)
        assert m[1].value == 5 and list(m)[1].value == 1


@pytest.mark.parametrize("mtype", [MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH,
                                   MapType.PERCPU_ARRAY])
def test_percpu(mtype):
    n = num_possible_cpus()
    with make(mtype, value_size=4, max_entries=16) as m:
        assert isinstance(m, (PerCpuHashMap, PerCpuArrayMap))
        m[1] = list(range(1, n + 1))
        m[2] = 5                                 # one value for every CPU
        assert m[1] == list(range(1, n + 1)) and m[2] == [5] * n
        assert m.sum(1) == n * (n + 1) // 2 and m.max(1) == n and m.average(2) == 5
        items = dict(m.items())
        assert items[1] == list(range(1, n + 1))
        with pytest.raises(ValueError):
            m[3] = [1] * (n + 1)
        m.update_batch({4: [4] * n, 5: [5] * n})
        assert m[5] == [5] * n
        m.clear()
        if mtype == MapType.PERCPU_ARRAY:
            assert m[1] == [0] * n
        else:
            assert len(m) == 0


def test_percpu_ctypes_mode():
    n = num_possible_cpus()
    with make(MapType.PERCPU_ARRAY, value_size=8, max_entries=2, as_ctypes=True) as m:
        m[0] = [m.Leaf(i) for i in range(n)]
        assert [v.value for v in m[0]] == list(range(n)) and m.sum(0) == sum(range(n))


@pytest.mark.parametrize("batched", [True, False])
def test_percpu_array_bytes(batched):
    """array_bytes(): an array's values undecoded, in the kernel's layout (a
    stride of 8 per CPU), in one batched read or, where the kernel has none
    for arrays (before 5.7), a lookup per element."""
    from pybcc.kernel.uapi import Cmd
    n = num_possible_cpus()
    with make(MapType.PERCPU_ARRAY, value_size=4, max_entries=3) as m:
        m[1] = list(range(1, n + 1))
        m[2] = 7
        if not batched:
            m._batch_support = {Cmd.MAP_LOOKUP_BATCH: False}
        count, buf = m.array_bytes()
        assert count == 3
        words = struct.unpack_from(f"<{3 * n}Q", buf.raw)   # 4-byte values, 8-byte strides
        assert [words[i * n:(i + 1) * n] for i in range(3)] == \
            [(0,) * n, tuple(range(1, n + 1)), (7,) * n]


def test_lpm_trie():
    with make(MapType.LPM_TRIE, key_size=8, value_size=4, max_entries=16,
              flags=BPF_F_NO_PREALLOC) as m:
        assert type(m) is LpmTrieMap
        m["10.0.0.0/8"] = 8
        m[(16, "10.1.0.0")] = 16
        m[(24, b"\xc0\xa8\x01")] = 24
        assert m["10.1.2.3/32"] == 16 and m["10.9.9.9/32"] == 8 and m["192.168.1.7/32"] == 24
        assert "11.0.0.0/32" not in m
        assert sorted(m) == [(8, b"\n\0\0\0"), (16, b"\n\x01\0\0"), (24, b"\xc0\xa8\x01\0")]
        del m["10.0.0.0/8"]
        assert len(m) == 2
        m.clear()
        assert len(m) == 0


@pytest.mark.parametrize("mtype,order", [(MapType.QUEUE, [1, 2, 3]), (MapType.STACK, [3, 2, 1])])
def test_queue_stack(mtype, order):
    with make(mtype, key_size=0, value_size=4, max_entries=3) as m:
        assert isinstance(m, QueueMap) and (type(m) is StackMap) == (mtype == MapType.STACK)
        with pytest.raises(KeyError):
            m.pop()
        for v in (1, 2, 3):
            m.push(v)
        with pytest.raises(MapError):
            m.push(4)                            # full
        assert m.peek() == order[0]
        assert m.drain() == order
        m.push(9)
        m.clear()
        with pytest.raises(KeyError):
            m.peek()


def test_bloom_filter():
    with make(MapType.BLOOM_FILTER, key_size=0, value_size=4, max_entries=100) as m:
        assert type(m) is BloomFilterMap
        for v in (1, 10, 100):
            m.push(v)
        assert 10 in m and 100 in m
        assert sum(1 for v in range(1000, 1100) if v in m) < 50


def test_stack_trace():
    with make(MapType.STACK_TRACE, key_size=4, value_size=8 * 127, max_entries=16) as m:
        assert type(m) is StackTraceMap
        with pytest.raises(KeyError):
            m[0]
        assert m.walk(0) == [] and len(m) == 0
        raw = struct.pack("<4Q", 0xffffffff81000000, 0x401000, 0, 0) + bytes(8 * 123)
        assert m._decode_value(raw) == [0xffffffff81000000, 0x401000]


def trivial_prog():
    insns = asm.encode([asm.mov64_imm(0, 0), asm.exit_insn()])
    buf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    fd, _ = bpf.prog_load(prog_type=int(ProgType.SOCKET_FILTER), insn_cnt=len(insns) // 8,
                               insns=ctypes.addressof(buf), license=ctypes.addressof(lic))
    assert fd >= 0, os.strerror(-fd)
    return fd


def obj_id(fd):
    info = ctypes.create_string_buffer(256)
    bpf.obj_info(fd, info)
    return struct.unpack_from("<I", info, 4)[0]


def test_prog_array():
    with make(MapType.PROG_ARRAY, value_size=4, max_entries=4) as m:
        assert type(m) is ProgArrayMap
        prog = trivial_prog()
        try:
            m[1] = prog
            assert m[1] == obj_id(prog) and m.items() == [(1, obj_id(prog))] and len(m) == 1
            with pytest.raises(KeyError):
                m[0]
            del m[1]
            assert m.items() == []
        finally:
            os.close(prog)


@pytest.mark.parametrize("mtype", [MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS])
def test_map_in_map(mtype, obj):
    inner = make(MapType.HASH, 4, 16, name="inner")
    inner[1] = b"eleven"                 # no BTF: 16 raw bytes
    with make(mtype, value_size=4, max_entries=4, inner_map_fd=inner.fd) as m:
        assert type(m) is MapInMap
        m[2] = inner
        assert m[2] == inner.info()["id"]
        with m.get_map(2) as got:
            assert type(got) is HashMap and got[1] == b"eleven".ljust(16, b"\0")
        m.spec.inner = MapSpec(btf=obj[0], btf_key_type_id=0,
                               btf_value_type_id=tid(obj[0], "val"))
        with make(MapType.HASH, 4, 16, name="inner2") as inner2:
            inner2[1] = struct.pack("<QQ", 5, 6)
            m[3] = inner2
            with pytest.raises(MapError):          # sizes differ from the template map
                m[0] = make(MapType.HASH, 4, 4, max_entries=1)
        with m.get_map(3) as got:                    # inner map BTF from the loader's spec
            assert got[1].bytes == 6
        del m[2]
        del m[3]
        assert m.items() == []
    inner.close()


def test_perf_event_array():
    with make(MapType.PERF_EVENT_ARRAY, value_size=4, max_entries=num_possible_cpus()) as m:
        pfd = bpf.perf_event_open(pid=-1, cpu=0, type=1, config=10,   # software bpf-output
                                       sample_type=1 << 10)
        try:
            m[0] = pfd
            del m[0]
        finally:
            os.close(pfd)
        with pytest.raises(TypeError):
            m.items()


def test_ringbuf_is_fd_only():
    with make(MapType.RINGBUF, key_size=0, value_size=0, max_entries=4096 * 4) as m:
        assert type(m) is Map and m.fileno() >= 0
        assert not hasattr(m, "__getitem__")


def storage_btf():
    """BTF with int (1) and struct val {int a; long long b;} (3), loaded in the kernel."""
    btf = BTF([])
    btf.add(Type(0, bt.INT, "int", size=4, encoding=bt.INT_SIGNED, bits=32))
    btf.add(Type(0, bt.INT, "long long", size=8, encoding=bt.INT_SIGNED, bits=64))
    btf.add(Type(0, bt.STRUCT, "val", size=16, members=[Member("a", 1, 0), Member("b", 2, 64)]))
    raw = btf.to_bytes()
    return BTF.parse(raw), bpf.btf_load(raw)


def test_devmap_and_sockmap():
    with make(MapType.DEVMAP, value_size=4, max_entries=4) as m:
        m[0] = socket.if_nametoindex("lo")          # devmap values are ifindexes
        assert m[0] == socket.if_nametoindex("lo") and m.items() == [(0, m[0])]
        del m[0]
        assert len(m) == 0
    with make(MapType.SOCKMAP, value_size=8, max_entries=4) as m, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        m[1] = s                                     # a socket in, its cookie out
        cookie = struct.unpack("<Q", s.getsockopt(socket.SOL_SOCKET, 57, 8))[0]   # SO_COOKIE
        assert m[1] == cookie
        del m[1]
        assert m.items() == []


def open_cgroup():
    """An fd of the cgroup v2 root (BPF takes only v2 cgroups)."""
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, path, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    pytest.skip("no cgroup2 hierarchy mounted")


def test_cgroup_array():
    with make(MapType.CGROUP_ARRAY, value_size=4, max_entries=2) as m:
        cg = open_cgroup()
        try:
            m[0] = cg
            with pytest.raises(MapError, match="not supported"):
                m[0]                                 # the kernel does not read it back
            del m[0]
        finally:
            os.close(cg)


def storage_owner(mtype):
    if mtype == MapType.TASK_STORAGE:
        return os.pidfd_open(os.getpid())
    if mtype == MapType.SK_STORAGE:
        return socket.socket()
    if mtype == MapType.CGRP_STORAGE:
        return open_cgroup()
    return open(__file__)


@pytest.mark.parametrize("mtype", [MapType.TASK_STORAGE, MapType.SK_STORAGE,
                                   MapType.INODE_STORAGE, MapType.CGRP_STORAGE])
def test_local_storage(mtype):
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2)")
    btf, btf_fd = storage_btf()
    try:
        m = make(mtype, 4, 16, max_entries=0, flags=BPF_F_NO_PREALLOC, btf=btf, key_id=1,
                 value_id=3, btf_fd=btf_fd)
    finally:
        os.close(btf_fd)
    owner = storage_owner(mtype)
    with m:
        assert type(m) is LocalStorageMap
        with pytest.raises(KeyError):
            m[owner]
        m[owner] = {"a": 1, "b": -2}
        assert m[owner] == (1, -2) and m[owner].b == -2
        del m[owner]
        assert owner not in m
        with pytest.raises(TypeError, match="cannot be iterated"):
            len(m)
    if isinstance(owner, int):
        os.close(owner)
    else:
        owner.close()


def test_pin_round_trip(obj):
    if not os.path.ismount("/sys/fs/bpf"):
        pytest.skip("bpffs is not mounted at /sys/fs/bpf")
    btf, btf_fd = storage_btf()
    path = f"/sys/fs/bpf/pybcc_test_{os.getpid()}"
    try:
        m = make(MapType.HASH, 4, 16, btf=btf, key_id=1, value_id=3, btf_fd=btf_fd, name="pinme")
    finally:
        os.close(btf_fd)
    with m:
        m[5] = (1, 2)
        m.pin(path)
        try:
            assert os.path.exists(path)
            with Map.from_pinned(path) as p:
                assert type(p) is HashMap and p.name == "pinme" and p.max_entries == 64
                assert p.spec.btf is not None and p[5].b == 2     # BTF recovered from the kernel
                p[6] = (3, 4)
            assert m[6] == (3, 4)
            with Map.from_id(m.info()["id"]) as q:
                assert sorted(q) == [5, 6]
        finally:
            m.unpin()
        assert not os.path.exists(path)
        with pytest.raises(MapError):
            Map.from_pinned(path)


def test_array_mmap(obj):
    btf = obj[0]
    val_id = tid(btf, "val")
    with make(MapType.ARRAY, 4, 16, max_entries=3, flags=BPF_F_MMAPABLE, btf=btf,
              value_id=val_id) as m:
        m[1] = (5, 6)
        v = m.view(1)
        assert (v.count, v.bytes) == (5, 6)
        v.count = 50                                 # straight into the map's memory
        assert m[1] == (50, 6)
        with pytest.raises(MapError):               # no freezing while writably mapped
            m.freeze()
        del v
    with make(MapType.ARRAY, 4, 16, max_entries=1, flags=BPF_F_MMAPABLE, btf=btf,
              value_id=val_id) as m:
        m[0] = (7, 8)
        m.freeze()                                   # what the loader does to .rodata
        with pytest.raises(MapError):
            m[0] = (1, 1)
        assert m.view(0).bytes == 8                  # a read-only mapping
    with make(MapType.ARRAY, 4, 8) as m, pytest.raises(MapError, match="MMAPABLE"):
        m.view(0)


LOADER_C = r"""
typedef unsigned int u32;
typedef unsigned long long u64;
#define SEC(x) __attribute__((section(x), used))
struct key { u32 pid; char comm[8]; };
struct val { u64 count; u64 bytes; };
struct {
    int (*type)[1];
    int (*max_entries)[64];
    struct key *key;
    struct val *value;
} counts SEC(".maps");
volatile u64 hits = 3;
volatile int zeroed;
const volatile int limit = 7;
char name[8] = "hello";
SEC("socket") int prog(void *ctx) { hits++; return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


def test_maps_from_the_loader(tmp_path):
    """The loader's specs (plain int types, DATASEC values) through open_map."""
    loader = pytest.importorskip("pybcc.loader")
    if not CLANG or os.geteuid() != 0:
        pytest.skip("needs clang and root")
    (tmp_path / "p.c").write_text(LOADER_C)
    subprocess.run([CLANG, "-O2", "-g", "-target", "bpf", "-c", str(tmp_path / "p.c"),
                    "-o", str(tmp_path / "p.o")], check=True)
    with loader.load(str(tmp_path / "p.o")) as coll:
        counts = coll.maps["counts"]
        assert type(counts) is HashMap and counts.type == MapType.HASH
        counts[(1, "x")] = (2, 3)
        assert counts.items() == [((1, "x"), (2, 3))] and counts[(1, "x")].bytes == 3
        data = coll.maps[".data"][0]
        assert (data.hits, data.name) == (3, "hello")
        assert coll.maps[".rodata"][0].limit == 7 and coll.maps[".bss"][0].zeroed == 0


STACK_C = r"""
typedef unsigned int u32;
typedef unsigned long long u64;
#define SEC(x) __attribute__((section(x), used))
struct {
    int (*type)[7];
    int (*max_entries)[128];
    u32 *key;
    u64 (*value)[127];
} stacks SEC(".maps");
volatile int last_id = -1;
volatile int my_pid;
static long (*bpf_get_stackid)(void *ctx, void *map, u64 flags) = (void *)27;
static u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
SEC("raw_tp/sys_enter") int prog(void *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == my_pid)
        last_id = bpf_get_stackid(ctx, &stacks, 0);
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
"""


def test_stack_trace_from_a_program(tmp_path):
    """A kernel stack recorded by bpf_get_stackid, read back as addresses."""
    loader = pytest.importorskip("pybcc.loader")
    if not CLANG or os.geteuid() != 0:
        pytest.skip("needs clang and root")
    (tmp_path / "s.c").write_text(STACK_C)
    subprocess.run([CLANG, "-O2", "-g", "-target", "bpf", "-c", str(tmp_path / "s.c"),
                    "-o", str(tmp_path / "s.o")], check=True)
    with loader.load(str(tmp_path / "s.o")) as coll:
        coll.maps[".bss"][0] = {"my_pid": os.getpid()}
        prog = coll.load_program("prog")
        try:
            link = bpf.raw_tracepoint_open("sys_enter", prog.fd)
        except BPFError as e:
            pytest.skip(f"raw tracepoints unavailable: {e}")
        try:
            os.getppid()
        finally:
            os.close(link)
        stack_id = coll.maps[".data"][0].last_id
        stacks = coll.maps["stacks"]
        assert stack_id >= 0 and type(stacks) is StackTraceMap
        addrs = stacks.walk(stack_id)
        assert addrs and all(a >= 0xffff800000000000 for a in addrs)
        assert stacks.items()[0][1] == addrs
        stacks.clear()
        assert stacks.walk(stack_id) == [] and len(stacks) == 0


def test_create_map():
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2)")
    with create_map(MapSpec("my-counts!", MapType.HASH, 4, 8, 16)) as m:
        m[1] = 2
        assert m[1] == 2 and m.info()["name"] == "my_counts_"
    with pytest.raises(MapError, match="creating HASH map"):
        create_map(MapSpec("bad", MapType.HASH, 0, 8, 16))


def test_close():
    m = make(MapType.HASH)
    fd = m.fd
    with m:
        pass
    assert m.fd is None
    with pytest.raises(OSError):
        os.fstat(fd)
