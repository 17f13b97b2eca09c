# PAGE_OFFSET in bcc programs: the start of the kernel's direct map on the
# running kernel (x86_64 randomises it per boot). The current task_struct
# lives in the direct map, so task - PAGE_OFFSET is a physical address,
# below the end of RAM.
from bcc import BPF
from pybcc.bcc.dialect import kernel_macros
from scriptlib import check, passed, skip

if kernel_macros.page_offset() is None:
    skip("PAGE_OFFSET is not known here: kallsyms lists no page_offset_base "
         "(no CONFIG_KALLSYMS_ALL) and memory randomisation is on")
b = BPF(text="""
BPF_ARRAY(phys, u64, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    u64 pa = (u64)bpf_get_current_task() - PAGE_OFFSET;
    phys.update(&(int){0}, &pa);
    return 0;
}
""")
import os  # noqa: E402
os.getppid()
pa = b["phys"][0].value
with open("/proc/iomem") as f:
    ram_end = max(int(ln.split("-")[1].split()[0], 16) for ln in f if "System RAM" in ln)
print("PAGE_OFFSET %#x, current task at physical %#x, RAM ends %#x"
      % (kernel_macros.page_offset(), pa, ram_end))
check(0 < pa <= ram_end, "task_struct not in the direct map under this PAGE_OFFSET")
passed("vm_page_offset")
