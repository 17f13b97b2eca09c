# A program that calls a helper the kernel does not give its program type
# (bpf_override_return without CONFIG_BPF_KPROBE_OVERRIDE, as on Debian's
# kernels: bcc's inject) is refused in one line naming the helper and the
# option, a NotSupportedError, not a verifier log.
from bcc import BPF
from pybcc.errors import NotSupportedError
from scriptlib import check, passed, skip

b = BPF(text="int f(struct pt_regs *ctx) { bpf_override_return(ctx, -12); return 0; }")
try:
    b.load_func("f", BPF.KPROBE)
    skip("this kernel gives kprobe programs bpf_override_return")
except NotSupportedError as e:
    msg = str(e)
    check("bpf_override_return" in msg and "CONFIG_BPF_KPROBE_OVERRIDE" in msg and
          "\n" not in msg, msg)
passed("missing_helper_refusal")
