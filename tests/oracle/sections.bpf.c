// Program kinds by section name beyond the tracing basics: networking and
// cgroup hooks, multi-probes, syscall programs, and section names newer than
// libbpf 1.1.2 (tcx, netfilter): those show up as "pybcc only".
// CO-RE inside subprograms and callbacks, string reads, user reads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

u64 seen[16];
char name_buf[32];
struct bpf_nf_ctx;   /* 6.18 only */

/* CO-RE relocations inside a global function, a static one and a callback */
__noinline int parent_tgid_of_current(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, real_parent, tgid);
}

static __noinline u64 exe_ino(struct task_struct *t)
{
	return BPF_CORE_READ(t, mm, exe_file, f_inode, i_ino);
}

static long cb(u32 i, void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	seen[i & 15] += BPF_CORE_READ(t, signal, nr_threads);
	return 0;
}

SEC("raw_tp/sys_exit")
int core_in_subprogs(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	const char *fname = BPF_CORE_READ(t, mm, exe_file, f_path.dentry, d_name.name);

	seen[0] = parent_tgid_of_current() + exe_ino(t);
	bpf_loop(3, cb, NULL, 0);
	BPF_CORE_READ_STR_INTO(&name_buf, t, mm, exe_file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(name_buf, sizeof(name_buf), fname);
	unsigned long args = BPF_CORE_READ(t, mm, arg_start);
	bpf_core_read_user(&seen[1], sizeof(seen[1]), (void *)args);
	return 0;
}

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup/sock_create")
int cg_sock_create(struct bpf_sock *sk)
{
	return 1;
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("sockops")
int sock_ops(struct bpf_sock_ops *skops)
{
	seen[2] = skops->op;
	return 1;
}

SEC("sk_lookup")
int sk_lookup_prog(struct bpf_sk_lookup *ctx)
{
	return SK_PASS;
}

SEC("flow_dissector")
int flow_dis(struct __sk_buff *skb)
{
	return BPF_OK;
}

SEC("cgroup/sysctl")
int cg_sysctl(struct bpf_sysctl *ctx)
{
	return 1;
}

SEC("ksyscall/openat")
int BPF_KSYSCALL(ksys_openat, int dfd, const char *path)
{
	seen[3] = dfd;
	return 0;
}

SEC("kprobe.multi/do_sys_open*")
int kmulti(struct pt_regs *ctx)
{
	seen[4]++;
	return 0;
}

SEC("uprobe.multi//lib/x86_64-linux-gnu/libc.so.6:getpid")
int umulti(struct pt_regs *ctx)
{
	seen[5]++;
	return 0;
}

SEC("syscall")
int syscall_prog(void *ctx)
{
	seen[6]++;
	return 0;
}

SEC("tcx/ingress")
int tcx_in(struct __sk_buff *skb)
{
	return 0;
}

SEC("netfilter")
int nf_prog(struct bpf_nf_ctx *ctx)
{
	return 1; /* NF_ACCEPT */
}

char LICENSE[] SEC("license") = "GPL";
