// One program of each kind the host kernel runs: tracepoint, raw_tp,
// tp_btf, uprobe/uretprobe, perf_event, socket filter, xdp, tc (and
// kprobe/fentry, which this kernel refuses: both loaders must fail alike).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

u64 hits[16];

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(struct trace_event_raw_sys_enter *ctx)
{
	hits[0] += ctx->args[1] != 0;
	return 0;
}

SEC("tp/sched/sched_process_fork")
int tp_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	hits[1] = BPF_CORE_READ(ctx, child_pid);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[0];

	hits[2] = BPF_CORE_READ(t, exit_code);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(btf_fork, struct task_struct *parent, struct task_struct *child)
{
	hits[3] = child->pid - parent->pid;
	return 0;
}

SEC("uprobe//proc/self/exe:main")
int BPF_UPROBE(up_main, int argc)
{
	hits[4] = argc;
	return 0;
}

SEC("uretprobe//lib/x86_64-linux-gnu/libc.so.6:getpid")
int BPF_URETPROBE(uret_getpid, int ret)
{
	hits[5] = ret;
	return 0;
}

SEC("uprobe")
int up_any(struct pt_regs *ctx)
{
	hits[6] = PT_REGS_PARM2(ctx);
	return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	hits[7] = PT_REGS_IP(&ctx->regs) + ctx->sample_period;
	return 0;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	hits[8] += skb->len;
	return skb->protocol == bpf_htons(0x0800) ? -1 : 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	hits[9] += eth->h_proto == bpf_htons(0x86DD);
	return XDP_PASS;
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	hits[10] += skb->ifindex;
	return 0; /* TC_ACT_OK */
}

SEC("classifier")
int tc_classifier(struct __sk_buff *skb)
{
	hits[11] += skb->mark;
	return 0;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kp_openat2, int dfd)
{
	hits[12] = dfd;
	return 0;
}

SEC("fentry/do_sys_openat2")
int BPF_PROG(fe_openat2, int dfd)
{
	hits[13] = dfd;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
