// libbpf's virtual __kconfig externs, and a weak one no kernel sets.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern u32 LINUX_KERNEL_VERSION __kconfig;
extern u64 CONFIG_PYBCC_NO_SUCH_OPTION __kconfig __weak;

int seen_cookie = -1;
int seen_wrapper = -1;
u32 seen_version;
u64 seen_missing = 99;

SEC("tracepoint/syscalls/sys_enter_getppid")
int read_virtual_kconfig(void *ctx)
{
	seen_cookie = LINUX_HAS_BPF_COOKIE;
	seen_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	seen_version = LINUX_KERNEL_VERSION;
	seen_missing = CONFIG_PYBCC_NO_SUCH_OPTION;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
