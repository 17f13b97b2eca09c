# Batch operations: items_update_batch, items_lookup_batch,
# items_delete_batch (some keys, then all), items_lookup_and_delete_batch.
import os

from bcc import BPF
from scriptlib import check, passed

b = BPF(text="""
BPF_HASH(h, u32, u64, 1024);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) == TARGET)
        h.increment(1000);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
h = b["h"]
n = 300
keys = (h.Key * n)(*range(n))
values = (h.Leaf * n)(*[i * 10 for i in range(n)])
h.items_update_batch(keys, values)
got = {k.value: v.value for k, v in h.items_lookup_batch()}
check(len(got) == n and all(got[i] == i * 10 for i in range(n)), "lookup batch")
h.items_delete_batch((h.Key * 3)(0, 1, 2))
check(len(h) == n - 3 and h.Key(0) not in list(h.keys()), "delete some")
taken = {k.value: v.value for k, v in h.items_lookup_and_delete_batch()}
check(len(taken) == n - 3 and len(h) == 0, "lookup and delete")
h.items_update_batch(keys, values)
h.items_delete_batch()
check(len(h) == 0, "delete all")
passed("batch_ops")
