// CO-RE relocations that differ between Debian 6.1 and this 6.18 kernel:
// read chains, bitfields that moved, fields present in only one of them,
// fields that moved into anonymous unions, ___flavor structs, enum values
// that changed, type existence/size/matches. Compiled against both kernels'
// vmlinux.h by tests/test_libbpf_oracle.py.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* only in 6.1 / only in 6.18 (flavors, so both headers compile) */
struct task_struct___x {
	void *blocked_on;        /* 6.18 */
	int curr_ret_stack;      /* 6.1 */
	long state;              /* neither (renamed __state in 5.14) */
	unsigned int __state;
} __attribute__((preserve_access_index));

struct file___61 { atomic_long_t f_count; } __attribute__((preserve_access_index));
struct file___618 { struct { long counter; } f_ref; } __attribute__((preserve_access_index));

struct inode___61 { struct timespec64 i_mtime; } __attribute__((preserve_access_index));
struct inode___618 { s64 i_mtime_sec; } __attribute__((preserve_access_index));

/* vm_start: a direct member in 6.1, inside an anonymous union in 6.18;
 * iov_offset: the reverse */
struct vm_area_struct___x { unsigned long vm_start; } __attribute__((preserve_access_index));
struct iov_iter___x { size_t iov_offset; size_t count; } __attribute__((preserve_access_index));

struct bpf_arena___x { int whatever; };            /* 6.18 only */
struct bpf_timer_kern___x { int whatever; };       /* 6.1 only */
struct task_struct___m { int pid; int tgid; } __attribute__((preserve_access_index));
struct task_struct___nomatch { char pid[3]; } __attribute__((preserve_access_index));

enum zone_stat_item___x { NR_ZONE_ACTIVE_ANON___x = 0 };   /* 2 in 6.1, 3 in 6.18 */
enum cgroup_subsys_id___x { misc_cgrp_id___x = 0 };        /* 6.1 only */
enum bpf_map_type___x { BPF_MAP_TYPE_ARENA___x = 0 };      /* 6.18 only */

u64 out[40];
u64 some_ptr;

static __always_inline void common(struct task_struct *t)
{
	struct task_struct___x *tx = (void *)t;
	struct file *exe = BPF_CORE_READ(t, mm, exe_file);
	struct inode *ino = BPF_CORE_READ(exe, f_inode);

	out[0] = BPF_CORE_READ(t, real_parent, tgid);
	out[1] = BPF_CORE_READ(t, mm, exe_file, f_inode, i_ino);
	out[2] = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, level);
	out[3] = bpf_core_field_exists(tx->blocked_on);
	out[4] = bpf_core_field_exists(tx->curr_ret_stack);
	if (bpf_core_field_exists(tx->state))
		out[5] = BPF_CORE_READ(tx, state);
	else
		out[5] = BPF_CORE_READ(tx, __state);
	if (bpf_core_field_exists(((struct file___61 *)exe)->f_count))
		out[6] = BPF_CORE_READ((struct file___61 *)exe, f_count.counter);
	else
		out[6] = bpf_core_field_size(((struct file___618 *)exe)->f_ref);
	if (bpf_core_field_exists(((struct inode___61 *)ino)->i_mtime))
		out[7] = BPF_CORE_READ((struct inode___61 *)ino, i_mtime.tv_sec);
	else
		out[7] = BPF_CORE_READ((struct inode___618 *)ino, i_mtime_sec);
	out[8] = BPF_CORE_READ((struct vm_area_struct___x *)some_ptr, vm_start);
	out[9] = BPF_CORE_READ((struct iov_iter___x *)some_ptr, iov_offset);
	out[10] = BPF_CORE_READ((struct iov_iter___x *)some_ptr, count);
	out[11] = BPF_CORE_READ_BITFIELD_PROBED(t, in_iowait);
	out[12] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
	out[13] = bpf_core_field_offset(t->pid);
	out[14] = bpf_core_field_size(t->comm);
	out[15] = bpf_core_type_exists(struct bpf_arena___x);
	out[16] = bpf_core_type_exists(struct bpf_timer_kern___x);
	out[17] = bpf_core_type_size(struct task_struct);
	out[18] = bpf_core_type_matches(struct task_struct___m);
	out[19] = bpf_core_type_matches(struct task_struct___nomatch);
	out[20] = bpf_core_enum_value(enum zone_stat_item___x, NR_ZONE_ACTIVE_ANON___x);
	out[21] = bpf_core_enum_value_exists(enum cgroup_subsys_id___x, misc_cgrp_id___x);
	out[22] = bpf_core_enum_value_exists(enum bpf_map_type___x, BPF_MAP_TYPE_ARENA___x);
	out[23] = bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_ringbuf_output);
	out[24] = bpf_core_type_id_kernel(struct task_struct);
	out[25] = bpf_core_type_id_local(struct task_struct___x);
	out[26] = bpf_core_field_exists(struct sk_buff, tstamp);
	out[27] = BPF_CORE_READ(t, signal, rlim[7].rlim_cur);
	out[28] = BPF_CORE_READ(t, group_leader, comm[3]);
	if (bpf_core_type_exists(struct bpf_arena___x) &&
	    bpf_core_enum_value_exists(enum bpf_map_type___x, BPF_MAP_TYPE_ARENA___x))
		out[29] = bpf_core_enum_value(enum bpf_map_type___x, BPF_MAP_TYPE_ARENA___x);
}

/* typed pointers: direct loads (and direct bitfield reads) */
SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	out[30] = BPF_CORE_READ_BITFIELD(prev, in_iowait);
	out[31] = prev->pid + next->tgid;
	out[32] = next->real_parent->tgid;
	common(next);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	common(prev);
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int switch_tp(struct trace_event_raw_sched_switch *ctx)
{
	out[33] = ctx->prev_pid + BPF_CORE_READ(ctx, next_pid);
	out[34] = bpf_core_field_offset(ctx->prev_state);
	common((struct task_struct *)bpf_get_current_task());
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	out[35] = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_magic);
	out[36] = bpf_core_field_exists(bprm->filename) ? (u64)BPF_CORE_READ(bprm, filename) : 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
