# kfunc/kretfunc/LSM: support_* tell the truth; where the kernel refuses
# them, KFUNC_PROBE programs and attach_kfunc raise NotSupportedError.
from bcc import BPF
from pybcc.errors import NotSupportedError
from pybcc.kernel import features
from scriptlib import check, passed

check(BPF.support_kfunc() == features.has_fentry(), "support_kfunc")
check(BPF.support_lsm() == features.has_lsm(), "support_lsm")
check(BPF.support_raw_tracepoint() is True, "raw tracepoints exist on any 4.17+ kernel")
print("kfunc:", BPF.support_kfunc(), "lsm:", BPF.support_lsm(),
      "raw_tp in modules:", BPF.support_raw_tracepoint_in_module())

prog = """
KFUNC_PROBE(vfs_read, struct file *file, char *buf, size_t count)
{
    return 0;
}
"""
if BPF.support_kfunc():
    b = BPF(text=prog)
    check(b.num_open_kprobes() == 0, "kfunc is not a kprobe")
    b.cleanup()
else:
    try:
        BPF(text=prog)
        check(False, "KFUNC_PROBE should raise NotSupportedError here")
    except NotSupportedError as e:
        print(e)
        check("fentry" in str(e) or "trampoline" in str(e), str(e))
if not BPF.support_lsm():
    try:
        BPF(text="LSM_PROBE(file_open, struct file *file) { return 0; }")
        check(False, "LSM_PROBE should raise NotSupportedError here")
    except NotSupportedError as e:
        check("LSM" in str(e), str(e))
passed("kfunc_lsm_support")
