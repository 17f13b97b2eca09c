# bcc's BPF_LICENSE: a program may #define it (default GPL); the kernel then
# refuses GPL-only helpers to a non-GPL program; cflags may not define it.
from bcc import BPF
from scriptlib import check, passed

GPL_ONLY = b"""
BPF_PERF_OUTPUT(events);
int prog(void *ctx) {
    u64 ts = bpf_ktime_get_ns();
    events.perf_submit(ctx, &ts, sizeof(ts));
    return 0;
}
"""
ANY = b"""
BPF_ARRAY(counts, u64, 1);
int prog(void *ctx) {
    counts.increment(0);
    return 0;
}
"""


def loads(text, cflags=()):
    try:
        BPF(text=text, cflags=list(cflags)).load_func(b"prog", BPF.TRACEPOINT)
        return True, ""
    except Exception as e:
        return False, str(e)


check(loads(GPL_ONLY)[0], "GPL by default: %s" % loads(GPL_ONLY)[1])
check(loads(GPL_ONLY + b"\n#define BPF_LICENSE Dual BSD/GPL\n")[0], "a GPL-compatible license")
ok, err = loads(GPL_ONLY + b"\n#define BPF_LICENSE Proprietary\n")
check(not ok and "GPL" in err, "a proprietary program may not call a GPL-only helper: %r" % err)
ok, err = loads(GPL_ONLY + b"\n#define BPF_LICENSE\n")
check(not ok, "an empty license is not GPL")
check(loads(ANY + b"\n#define BPF_LICENSE Proprietary\n")[0], "a proprietary program with plain helpers")
ok, err = loads(ANY, ["-DBPF_LICENSE=GPL"])
check(not ok and "cflags" in err, "BPF_LICENSE through cflags: %r" % err)
passed("license_macro")
