// Global data in .data/.rodata/.bss and custom .data.*/.rodata.* sections,
// const volatile knobs, static and global bpf-to-bpf calls (nested), bpf_loop
// callbacks, kconfig externs, typed and untyped __ksym (weak and not).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

const volatile int knob_pid = 0;
const volatile bool knob_verbose = false;
const volatile char knob_comm[16] = "";
const volatile u64 knob_table[4] = {1, 2, 3, 4};

u64 counter = 7;                         /* .data */
u64 zeroes[8];                           /* .bss */
static u64 hidden_bss;                   /* static .bss */
static const char greeting[] = "hello";  /* .rodata */

u64 custom_a SEC(".data.custom") = 11;
u32 custom_b[3] SEC(".data.custom") = {1, 2, 3};
u64 other_data SEC(".data.other") = 5;
const volatile u64 custom_ro SEC(".rodata.custom") = 42;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_JIT __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig __weak;
extern int CONFIG_PYBCC_ORACLE_NOPE __kconfig __weak;
extern u64 CONFIG_HZ __kconfig __weak;

extern const void bpf_prog_active __ksym __weak;       /* untyped, weak */
extern const void schedule __ksym;                      /* untyped (data symbols
                                                           are not in kallsyms here) */
extern const int bpf_prog_active_typed __ksym __weak;   /* typed, missing, weak */
extern const struct rq runqueues __ksym;                /* typed per-cpu data: needs
                                                           KALLSYMS_ALL, absent here */
extern void bpf_rcu_read_lock(void) __ksym;             /* kfuncs */
extern void bpf_rcu_read_unlock(void) __ksym;
extern void bpf_pybcc_oracle_nope(void) __ksym __weak;
extern const void pybcc_oracle_no_such_sym __ksym __weak;

static __noinline u64 leaf(u64 x)
{
	return x * 3 + knob_table[x & 3];
}

static __noinline u64 middle(u64 x)
{
	return leaf(x) + leaf(x + 1);
}

__noinline u64 global_fn(u64 x)
{
	return middle(x) + 1;
}

/* (a global function taking struct task_struct * is rejected once the
 * program has BTF: its argument is checked as memory of the local struct's
 * size) */
__noinline int global_fn2(u32 x)
{
	return x ^ knob_pid;
}

struct loop_ctx { u64 sum; int stop; };

static int loop_cb(u32 idx, struct loop_ctx *c)
{
	c->sum += idx + leaf(idx);
	return idx >= (u32)c->stop;
}

static long loop_cb2(u32 idx, void *c)
{
	zeroes[idx & 7] += idx;
	return 0;
}

SEC("raw_tp/sys_enter")
int globals_raw(void *ctx)
{
	struct loop_ctx c = { .stop = 5 };
	int pid = bpf_get_current_pid_tgid() >> 32;

	if (knob_pid && pid != knob_pid)
		return 0;
	if (knob_verbose)
		bpf_printk("%s %d", greeting, pid);
	if (knob_comm[0]) {
		char comm[16];
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm[0] != knob_comm[0])
			return 0;
	}
	__sync_fetch_and_add(&counter, 1);
	hidden_bss += global_fn(pid);
	custom_a += custom_b[pid & 1] + other_data + custom_ro;
	bpf_loop(8, loop_cb, &c, 0);
	bpf_loop(4, loop_cb2, NULL, 0);
	zeroes[0] = c.sum;
	zeroes[1] = LINUX_KERNEL_VERSION + CONFIG_BPF_JIT + CONFIG_HZ;
	zeroes[2] = CONFIG_BPF_SYSCALL == TRI_YES ? CONFIG_DEFAULT_HOSTNAME[0] : 0;
	zeroes[3] = CONFIG_PYBCC_ORACLE_NOPE;
	zeroes[4] = (u64)&bpf_prog_active + (u64)&schedule;
	zeroes[5] = bpf_ksym_exists(&pybcc_oracle_no_such_sym);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(globals_btf, struct pt_regs *regs, long id)
{
	bpf_rcu_read_lock();
	zeroes[6] = global_fn2(bpf_get_current_task_btf()->tgid);
	bpf_rcu_read_unlock();
	if (bpf_ksym_exists(&bpf_prog_active_typed))
		zeroes[7] = bpf_prog_active_typed;
	return global_fn(id);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(weak_kfunc, struct pt_regs *regs, long id)
{
	if (bpf_ksym_exists(bpf_pybcc_oracle_nope))
		bpf_pybcc_oracle_nope();
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(typed_percpu_ksym, struct pt_regs *regs, long id)
{
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	zeroes[7] = rq->nr_running;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
