# bcc.table's module-level names on real tables: get_json_hist of a log2
# histogram the program filled, Array.clearitem, FileDesc, the map-in-map
# class names; bcc.exec.child_exit.
import os

from bcc import BPF
from bcc import exec as bcc_exec
from bcc.table import (FileDesc, MapInMapArray, MapInMapHash, get_json_hist, linear_index_max,
                       log2_index_max, stars_max)
from scriptlib import check, passed

b = BPF(text="""
BPF_HISTOGRAM(dist);
BPF_ARRAY(arr, u64, 4);
TRACEPOINT_PROBE(syscalls, sys_enter_getpid) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET)
        return 0;
    dist.increment(bpf_log2l(5));       /* slot 3: 4..7 */
    arr.increment(2);
    return 0;
}
""".replace("TARGET", str(os.getpid())))
for _ in range(4):
    os.getpid()
vals = [0] * log2_index_max
for k, v in b["dist"].items():
    vals[k.value] = v.value
h = get_json_hist(vals, "usecs")
check(h["val_type"] == "usecs" and h["data"][-1] == {"interval-start": 4, "interval-end": 7, "count": 4},
      h["data"])
check([d["interval-start"] for d in h["data"]] == [0, 2, 4], h["data"])
arr = b["arr"]
check(arr[2].value == 4, "array counted %d" % arr[2].value)
arr.clearitem(2)
check(arr[2].value == 0, "clearitem did not zero")
fd = os.dup(arr.map_fd)
with FileDesc(fd) as f:
    check(os.path.exists("/proc/self/fd/%d" % f.fd), "fd")
check(not os.path.exists("/proc/self/fd/%d" % fd) or os.readlink("/proc/self/fd/%d" % fd) != "anon_inode:bpf-map",
      "FileDesc did not close")
check(MapInMapArray.__name__ == "ArrayOfMaps" and MapInMapHash.__name__ == "HashOfMaps", "names")
check((stars_max, linear_index_max) == (40, 1025), "limits")
pid = bcc_exec.run_cmd(["true"])
bcc_exec.cmd_ready()
for _ in range(200):
    if bcc_exec.child_exit:
        break
    import time
    time.sleep(0.01)
check(bcc_exec.child_exit == 1 and bcc_exec.cmd_exited(), "child_exit")
passed("table_extras")
