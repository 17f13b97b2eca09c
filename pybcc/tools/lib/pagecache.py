"""Page cache counters of cachestat and cachetop (cachestat.bpf.c): which
mechanism counts them, and bcc's arithmetic from four counts to hits and
misses.

Where the kernel has mm_filemap_get_pages (6.10+): the filemap/writeback
tracepoints, counted in pages; accesses are the pages read() takes from the
cache plus mmap faults, and mark_buffer_dirty (bcc's MBD) has no
tracepoint. Before, bcc's kprobes, counted per call (a folio counts once).
"""
from ...errors import AttachError, BPFError, LoadError, NotSupportedError
from ...kernel import features

NF_APCL, NF_MPA, NF_MBD, NF_APD = range(4)

KPROBES = [("apcl_kprobe", ("filemap_add_folio", "add_to_page_cache_lru")),
           ("mpa_kprobe", ("folio_mark_accessed", "mark_page_accessed")),
           ("apd_kprobe", ("folio_account_dirtied", "account_page_dirtied")),
           ("mbd_kprobe", ("mark_buffer_dirty",))]
TRACEPOINTS = [("add_tp",), ("get_pages_tp",), ("dirty_folio_tp", "dirty_page_tp")]
MISSING = ("needs kprobes (bcc's page cache functions) or the filemap:mm_filemap_get_pages "
           "tracepoint (Linux 6.10+); this kernel has neither")


def attach_counters(tool):
    """Attach the counters; returns "tracepoint" or "kprobe". The tracepoints
    come first: they count pages, where folio_mark_accessed() is called for
    one folio of each batch that read() takes (Linux 5.18+), so that bcc's
    arithmetic makes most hits misses."""
    try:
        for twins in TRACEPOINTS:
            tool.attach_first(*[f"{name}_{kind}" for name in twins for kind in ("btf", "raw")])
        tool.attach_first("fault_tp_btf", "fault_tp_raw")
        return "tracepoint"
    except (NotSupportedError, AttachError, LoadError):
        from .stacks import detach      # only here: lib.stacks is slow to import
        detach(tool)
    if features.has_kprobes():
        try:
            for prog, functions in KPROBES:
                # folio_account_dirtied may be inlined: bcc then takes the tracepoint
                choices = [(prog, f) for f in functions]
                if prog == "apd_kprobe":
                    choices += ["dirty_folio_tp_btf", "dirty_folio_tp_raw",
                                "dirty_page_tp_btf", "dirty_page_tp_raw"]
                tool.attach_first(*choices)
            return "kprobe"
        except BPFError:
            from .stacks import detach
            detach(tool)
    raise NotSupportedError(MISSING)


def hits_misses(counts, mechanism):
    """bcc cachestat's (hits, misses, dirties, hit ratio) from {nf: count}.
    With the tracepoints there is no MBD: DIRTIES shows the pages dirtied."""
    mpa, mbd, apcl, apd = (max(0, counts.get(nf, 0)) for nf in (NF_MPA, NF_MBD, NF_APCL, NF_APD))
    total = max(0, mpa - mbd)
    misses = max(0, apcl - apd)
    hits = total - misses
    if hits < 0:    # readahead added more than was read: all misses
        misses, hits = total, 0
    ratio = hits / total if total > 0 else 0.0
    return hits, misses, (mbd if mechanism == "kprobe" else apd), ratio


def meminfo_mb():
    """(Buffers, Cached) from /proc/meminfo, in MB."""
    found = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in ("Buffers", "Cached"):
                found[name] = int(rest.split()[0]) / 1024
    return found.get("Buffers", 0), found.get("Cached", 0)


def process_row(counts, mechanism):
    """bcc cachetop's numbers for one process from {nf: count}: (HITS,
    MISSES, DIRTIES, READ_HIT%, WRITE_HIT%). bcc's HITS are all accesses
    (MPA + MBD) and its MISSES all additions and dirtyings (APCL + APD)."""
    mpa, mbd, apcl, apd = (max(0, counts.get(nf, 0)) for nf in (NF_MPA, NF_MBD, NF_APCL, NF_APD))
    access, misses = mpa + mbd, apcl + apd
    whole = access + misses
    read_hit = 100 * mpa / whole if mpa else 0.0
    write_hit = 100 * apcl / whole if apcl else 0.0
    return access, misses, (mbd if mechanism == "kprobe" else apd), read_hit, write_hit
