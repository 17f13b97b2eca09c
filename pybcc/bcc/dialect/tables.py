"""bcc's map macros (BPF_HASH, BPF_TABLE, ...) → BTF-defined maps."""
from __future__ import annotations

from ...kernel.uapi import MapType
from ...record import record


@record
class TableDecl:
    name: str
    map_type: MapType
    key_type: str            # C type ("" when the map has no key type)
    leaf_type: str           # C type ("" when the map has no value type)
    max_entries: int | None   # None when it is an expression we could not evaluate
    flags: int | None = 0     # None when it is an expression we could not evaluate
    pinned: str | None = None
    kind: str = ""           # bcc's table kind string ("hash", "histogram", ...)
    max_entries_expr: str = ""
    inner_map: str = ""      # map-in-map: the template inner map's name
    flags_expr: str = "0"
    line: int = 0            # the user's line of the macro
    scope: str = ""          # "public"/"shared": other BPF objects may use it; "extern": uses theirs


def as_dict(decl):
    """A TableDecl's fields as a dict (for the rewrite cache's JSON)."""
    return {name: getattr(decl, name) for name in decl.__record_fields__}


# bcc's BPF_TABLE type strings
TABLE_TYPES = {
    "hash": MapType.HASH, "array": MapType.ARRAY, "histogram": MapType.HASH,
    "prog": MapType.PROG_ARRAY, "perf_output": MapType.PERF_EVENT_ARRAY,
    "perf_array": MapType.PERF_EVENT_ARRAY, "percpu_hash": MapType.PERCPU_HASH,
    "percpu_array": MapType.PERCPU_ARRAY, "stacktrace": MapType.STACK_TRACE,
    "cgroup_array": MapType.CGROUP_ARRAY, "lru_hash": MapType.LRU_HASH,
    "lru_percpu_hash": MapType.LRU_PERCPU_HASH, "lpm_trie": MapType.LPM_TRIE,
    "array_of_maps": MapType.ARRAY_OF_MAPS, "hash_of_maps": MapType.HASH_OF_MAPS,
    "devmap": MapType.DEVMAP, "sockmap": MapType.SOCKMAP, "cpumap": MapType.CPUMAP,
    "xskmap": MapType.XSKMAP, "sockhash": MapType.SOCKHASH,
    "cgroup_storage": MapType.CGROUP_STORAGE,
    "percpu_cgroup_storage": MapType.PERCPU_CGROUP_STORAGE,
    "queue": MapType.QUEUE, "stack": MapType.STACK, "sk_storage": MapType.SK_STORAGE,
    "devmap_hash": MapType.DEVMAP_HASH, "ringbuf": MapType.RINGBUF,
    "inode_storage": MapType.INODE_STORAGE, "task_storage": MapType.TASK_STORAGE,
    "bloom_filter": MapType.BLOOM_FILTER, "user_ringbuf": MapType.USER_RINGBUF,
}

# Map flags bcc programs name (enum values in the UAPI).
MAP_FLAGS = {
    "BPF_F_NO_PREALLOC": 1, "BPF_F_NO_COMMON_LRU": 2, "BPF_F_NUMA_NODE": 4,
    "BPF_F_RDONLY": 8, "BPF_F_WRONLY": 16, "BPF_F_STACK_BUILD_ID": 32,
    "BPF_F_ZERO_SEED": 64, "BPF_F_RDONLY_PROG": 128, "BPF_F_WRONLY_PROG": 256,
    "BPF_F_CLONE": 512, "BPF_F_MMAPABLE": 1024, "BPF_F_PRESERVE_ELEMS": 2048,
    "BPF_F_INNER_MAP": 4096,
}
BPF_F_NO_PREALLOC = 1
BPF_F_STACK_BUILD_ID = 1 << 5
STACK_DEPTH = 127      # PERF_MAX_STACK_DEPTH, bcc's BPF_MAX_STACK_DEPTH
PAGE_SIZE = 4096

# Maps whose key and value are sizes, not BTF types (the kernel rejects BTF
# for them, or bcc gives them fixed sizes).
_SIZED = {MapType.PERF_EVENT_ARRAY, MapType.PROG_ARRAY, MapType.CGROUP_ARRAY,
          MapType.STACK_TRACE, MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP,
          MapType.XSKMAP, MapType.SOCKMAP, MapType.SOCKHASH}


class MacroError(ValueError):
    pass


def _need(name, args, lo, hi):
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise MacroError(f"{name} takes {want} arguments, got {len(args)}")


def _with_defaults(name, args, defaults):
    """A macro's arguments (the table's name first), with bcc's defaults for
    the optional ones left out at the end."""
    _need(name, args, 1, 1 + len(defaults))
    return args + defaults[len(args) - 1:]


def _unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return s[1:-1]
    raise MacroError(f"expected a string literal, got {s!r}")


def parse_macro(macro, args, evaluate):
    """-> TableDecl for a map macro call with argument texts ``args``.
    ``evaluate(expr)`` turns a size expression into an int or None."""
    a = [x.strip() for x in args]
    if a == [""]:
        a = []
    d = None

    def mk(kind, key, leaf, name, size, flags=0, mtype=None, pinned=None):
        mt = mtype if mtype is not None else TABLE_TYPES.get(kind)
        if mt is None:
            raise MacroError(f"{macro}: unknown table type {kind!r}")
        if kind == "histogram":
            mt = MapType.ARRAY if key.strip() == "int" else MapType.HASH
        if not name.isidentifier():
            raise MacroError(f"{macro}: {name!r} is not a valid table name")
        size = str(size)
        fl = flags if isinstance(flags, int) else evaluate(flags)
        d = TableDecl(name, mt, key, leaf, evaluate(size), fl, pinned, kind, size)
        d.flags_expr = str(flags)
        return d

    if macro in ("BPF_HASH", "BPF_PERCPU_HASH", "BPF_LRU_HASH", "BPF_LRU_PERCPU_HASH",
                 "BPF_LPM_TRIE"):
        a = _with_defaults(macro, a, ["u64", "u64", "10240"])
        kind = {"BPF_HASH": "hash", "BPF_PERCPU_HASH": "percpu_hash", "BPF_LRU_HASH": "lru_hash",
                "BPF_LRU_PERCPU_HASH": "lru_percpu_hash", "BPF_LPM_TRIE": "lpm_trie"}[macro]
        d = mk(kind, a[1], a[2], a[0], a[3],
               BPF_F_NO_PREALLOC if macro == "BPF_LPM_TRIE" else 0)
    elif macro in ("BPF_ARRAY", "BPF_PERCPU_ARRAY"):
        a = _with_defaults(macro, a, ["u64", "10240"])
        d = mk("array" if macro == "BPF_ARRAY" else "percpu_array", "int", a[1], a[0], a[2])
    elif macro == "BPF_HISTOGRAM":
        a = _with_defaults(macro, a, ["int", "64"])
        d = mk("histogram", a[1], "u64", a[0], a[2])
    elif macro == "BPF_PERF_OUTPUT":
        _need(macro, a, 1, 1)
        d = mk("perf_output", "int", "u32", a[0], "0")
    elif macro == "BPF_PERF_ARRAY":
        _need(macro, a, 2, 2)
        d = mk("perf_array", "int", "u32", a[0], a[1])
    elif macro == "BPF_RINGBUF_OUTPUT":
        _need(macro, a, 2, 2)
        d = mk("ringbuf", "", "", a[0], f"(({a[1]}) * {PAGE_SIZE})")
    elif macro in ("BPF_STACK_TRACE", "BPF_STACK_TRACE_BUILDID"):
        _need(macro, a, 2, 2)
        if macro == "BPF_STACK_TRACE":
            d = mk("stacktrace", "int", f"u64[{STACK_DEPTH}]", a[0], a[1])
        else:
            d = mk("stacktrace", "int", f"struct bpf_stack_build_id[{STACK_DEPTH}]", a[0], a[1],
                   BPF_F_STACK_BUILD_ID)
    elif macro == "BPF_PROG_ARRAY":
        _need(macro, a, 2, 2)
        d = mk("prog", "int", "int", a[0], a[1])
    elif macro in ("BPF_QUEUE", "BPF_STACK"):
        _need(macro, a, 3, 4)
        d = mk(macro[4:].lower(), "", a[1], a[0], a[2], a[3] if len(a) > 3 else 0)
    elif macro in ("BPF_SK_STORAGE", "BPF_INODE_STORAGE", "BPF_TASK_STORAGE"):
        _need(macro, a, 2, 2)
        d = mk(macro[4:].lower(), "int", a[1], a[0], "0", BPF_F_NO_PREALLOC)
    elif macro in ("BPF_CGROUP_STORAGE", "BPF_PERCPU_CGROUP_STORAGE"):
        _need(macro, a, 2, 2)
        d = mk(macro[4:].lower(), "struct bpf_cgroup_storage_key", a[1], a[0], "0")
    elif macro == "BPF_CGROUP_ARRAY":
        _need(macro, a, 2, 2)
        d = mk("cgroup_array", "int", "u32", a[0], a[1])
    elif macro in ("BPF_DEVMAP", "BPF_CPUMAP", "BPF_XSKMAP", "BPF_SOCKMAP"):
        _need(macro, a, 2, 2)
        d = mk(macro[4:].lower(), "int", "int", a[0], a[1])
    elif macro == "BPF_SOCKHASH":
        a = _with_defaults(macro, a, ["u32", "10240"])
        d = mk("sockhash", a[1], "int", a[0], a[2])
    elif macro == "BPF_ARRAY_OF_MAPS":
        _need(macro, a, 3, 3)
        d = mk("array_of_maps", "int", "int", a[0], a[2])
        d.inner_map = _unquote(a[1]) if a[1].startswith('"') else a[1]
    elif macro == "BPF_HASH_OF_MAPS":
        _need(macro, a, 3, 4)
        if len(a) == 3:      # old form: (name, inner, size) with an int key
            a = [a[0], "int", a[1], a[2]]
        d = mk("hash_of_maps", a[1], "int", a[0], a[3])
        d.inner_map = _unquote(a[2]) if a[2].startswith('"') else a[2]
    elif macro in ("BPF_TABLE", "BPF_F_TABLE", "BPF_TABLE_PINNED", "BPF_TABLE_PINNED7",
                   "BPF_TABLE_SHARED", "BPF_TABLE_PUBLIC"):
        nargs = {"BPF_TABLE": (5, 5), "BPF_F_TABLE": (6, 6), "BPF_TABLE_PINNED": (6, 7),
                 "BPF_TABLE_PINNED7": (7, 7)}.get(macro, (5, 5))
        _need(macro, a, *nargs)
        kind = _unquote(a[0])
        flags = a[5] if macro == "BPF_F_TABLE" else (a[6] if len(a) == 7 else 0)
        pinned = _unquote(a[5]) if macro.startswith("BPF_TABLE_PINNED") else None
        # An extern table is another BPF object's (bcc/shared_tables.py): its
        # real type replaces this stand-in when the object loads (a hash: the
        # code for a hash's methods also works on an array).
        d = mk("hash" if kind == "extern" else kind, a[1], a[2], a[3], a[4], flags,
               pinned=pinned)
        d.kind = kind
        d.scope = {"BPF_TABLE_PUBLIC": "public", "BPF_TABLE_SHARED": "shared"}.get(
            macro, "extern" if kind == "extern" else "")
    else:
        raise MacroError(f"unknown map macro {macro}")
    return d


MAP_MACROS = {
    "BPF_HASH", "BPF_PERCPU_HASH", "BPF_LRU_HASH", "BPF_LRU_PERCPU_HASH", "BPF_LPM_TRIE",
    "BPF_ARRAY", "BPF_PERCPU_ARRAY", "BPF_HISTOGRAM", "BPF_PERF_OUTPUT", "BPF_PERF_ARRAY",
    "BPF_RINGBUF_OUTPUT", "BPF_STACK_TRACE", "BPF_STACK_TRACE_BUILDID", "BPF_PROG_ARRAY",
    "BPF_QUEUE", "BPF_STACK", "BPF_SK_STORAGE", "BPF_INODE_STORAGE", "BPF_TASK_STORAGE",
    "BPF_CGROUP_STORAGE", "BPF_PERCPU_CGROUP_STORAGE", "BPF_CGROUP_ARRAY", "BPF_DEVMAP",
    "BPF_CPUMAP", "BPF_XSKMAP", "BPF_SOCKMAP", "BPF_SOCKHASH", "BPF_ARRAY_OF_MAPS",
    "BPF_HASH_OF_MAPS", "BPF_TABLE", "BPF_F_TABLE", "BPF_TABLE_PINNED", "BPF_TABLE_PINNED7",
    "BPF_TABLE_SHARED", "BPF_TABLE_PUBLIC",
}


def emit(d):
    """The BTF-defined map for a TableDecl (one line of C)."""
    mt = d.map_type
    parts = [f"__uint(type, {int(mt)})"]
    if mt == MapType.STACK_TRACE:
        parts.append("__uint(key_size, sizeof(__u32))")
        parts.append(f"__uint(value_size, sizeof({_array_elem(d.leaf_type)}) * {STACK_DEPTH})")
    elif mt in _SIZED:
        parts.append(f"__uint(key_size, sizeof({d.key_type or 'int'}))")
        parts.append(f"__uint(value_size, sizeof({d.leaf_type or 'int'}))")
    elif mt in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        parts.append(f"__type(key, {d.key_type})")
    else:
        if d.key_type:
            parts.append(f"__type(key, {d.key_type})")
        if d.leaf_type:
            parts.append(f"__type(value, {d.leaf_type})")
    if d.max_entries_expr.strip() not in ("", "0"):
        parts.append(f"__uint(max_entries, {d.max_entries_expr})")
    if d.flags is None or d.flags:
        parts.append(f"__uint(map_flags, {d.flags if d.flags is not None else d.flags_expr})")
    if mt in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        parts.append(f"__array(values, typeof({d.inner_map}))")  # a flexible array: last
    # As bcc: a key or leaf type must be complete where the table is declared.
    complete = " && ".join(f"sizeof({t}) >= 0" for t in (d.key_type, d.leaf_type) if t)
    check = f'_Static_assert({complete}, "table {d.name}"); ' if complete and "__type(" in "".join(parts) else ""
    return check + "struct { %s; } %s SEC(\".maps\");" % ("; ".join(parts), d.name)


def has_btf_value(d):
    """Does the emitted map definition have a `value` member (for __typeof__)?"""
    return bool(d.leaf_type) and d.map_type not in _SIZED and \
        d.map_type not in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.RINGBUF)


def _array_elem(t):
    return t[:t.index("[")] if "[" in t else t
