/* pybcc's bpf_tracing.h: reading probe arguments from struct pt_regs, and
 * the BPF_PROG / BPF_KPROBE / BPF_KRETPROBE / BPF_UPROBE / BPF_KSYSCALL
 * wrappers that give a probe function typed arguments.
 *
 * The target architecture comes from -D__TARGET_ARCH_<arch> (pybcc's
 * compiler sets it). struct pt_regs is the kernel's, from vmlinux.h.
 */
#ifndef __PYBCC_BPF_TRACING_H
#define __PYBCC_BPF_TRACING_H

#include "bpf_helpers.h"
#include "bpf_core_read.h"

#if defined(__TARGET_ARCH_x86)

/* x86-64 SysV: rdi rsi rdx rcx r8 r9, then the stack; return in rax.
 * Syscalls pass the 4th argument in r10 instead of rcx. */
#define __PT_REGS_CAST(x) (x)
#define __PT_PARM1_REG di
#define __PT_PARM2_REG si
#define __PT_PARM3_REG dx
#define __PT_PARM4_REG cx
#define __PT_PARM5_REG r8
#define __PT_PARM6_REG r9
#define __PT_PARM1_SYSCALL_REG di
#define __PT_PARM2_SYSCALL_REG si
#define __PT_PARM3_SYSCALL_REG dx
#define __PT_PARM4_SYSCALL_REG r10
#define __PT_PARM5_SYSCALL_REG r8
#define __PT_PARM6_SYSCALL_REG r9
#define __PT_RET_REG sp
#define __PT_FP_REG bp
#define __PT_RC_REG ax
#define __PT_SP_REG sp
#define __PT_IP_REG ip
/* Arguments 7 and 8 are on the stack above the return address (valid at
 * function entry only). */
#define __PT_STACK_ARGS 1

#elif defined(__TARGET_ARCH_arm64)

/* AArch64: x0-x7 carry arguments, x0 the return value, x29 the frame
 * pointer, x30 the return address. A kprobe context is struct
 * user_pt_regs (the start of the kernel's struct pt_regs). */
#define __PT_REGS_CAST(x) ((const struct user_pt_regs *)(x))
#define __PT_PARM1_REG regs[0]
#define __PT_PARM2_REG regs[1]
#define __PT_PARM3_REG regs[2]
#define __PT_PARM4_REG regs[3]
#define __PT_PARM5_REG regs[4]
#define __PT_PARM6_REG regs[5]
#define __PT_PARM7_REG regs[6]
#define __PT_PARM8_REG regs[7]
/* The syscall entry overwrites x0 with the return value; the original
 * first argument survives in orig_x0 (only in struct pt_regs). */
#define __PT_PARM1_SYSCALL_REG orig_x0
#define __PT_PARM2_SYSCALL_REG regs[1]
#define __PT_PARM3_SYSCALL_REG regs[2]
#define __PT_PARM4_SYSCALL_REG regs[3]
#define __PT_PARM5_SYSCALL_REG regs[4]
#define __PT_PARM6_SYSCALL_REG regs[5]
#define __PT_RET_REG regs[30]
#define __PT_FP_REG regs[29]
#define __PT_RC_REG regs[0]
#define __PT_SP_REG sp
#define __PT_IP_REG pc

#elif defined(__TARGET_ARCH_riscv)

#define __PT_REGS_CAST(x) (x)
#define __PT_PARM1_REG a0
#define __PT_PARM2_REG a1
#define __PT_PARM3_REG a2
#define __PT_PARM4_REG a3
#define __PT_PARM5_REG a4
#define __PT_PARM6_REG a5
#define __PT_PARM7_REG a6
#define __PT_PARM8_REG a7
#define __PT_PARM1_SYSCALL_REG orig_a0
#define __PT_PARM2_SYSCALL_REG a1
#define __PT_PARM3_SYSCALL_REG a2
#define __PT_PARM4_SYSCALL_REG a3
#define __PT_PARM5_SYSCALL_REG a4
#define __PT_PARM6_SYSCALL_REG a5
#define __PT_RET_REG ra
#define __PT_FP_REG s0
#define __PT_RC_REG a0
#define __PT_SP_REG sp
#define __PT_IP_REG pc

#endif

#if defined(__PT_PARM1_REG)

/* Direct loads: for kprobe/uprobe contexts and other trusted pt_regs. */
#define PT_REGS_PARM1(x) (__PT_REGS_CAST(x)->__PT_PARM1_REG)
#define PT_REGS_PARM2(x) (__PT_REGS_CAST(x)->__PT_PARM2_REG)
#define PT_REGS_PARM3(x) (__PT_REGS_CAST(x)->__PT_PARM3_REG)
#define PT_REGS_PARM4(x) (__PT_REGS_CAST(x)->__PT_PARM4_REG)
#define PT_REGS_PARM5(x) (__PT_REGS_CAST(x)->__PT_PARM5_REG)
#define PT_REGS_PARM6(x) (__PT_REGS_CAST(x)->__PT_PARM6_REG)
#define PT_REGS_RET(x) (__PT_REGS_CAST(x)->__PT_RET_REG)
#define PT_REGS_FP(x) (__PT_REGS_CAST(x)->__PT_FP_REG)
#define PT_REGS_RC(x) (__PT_REGS_CAST(x)->__PT_RC_REG)
#define PT_REGS_SP(x) (__PT_REGS_CAST(x)->__PT_SP_REG)
#define PT_REGS_IP(x) (__PT_REGS_CAST(x)->__PT_IP_REG)

/* CO-RE reads: for pt_regs pointers that are not the program context. */
#define PT_REGS_PARM1_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM1_REG)
#define PT_REGS_PARM2_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM2_REG)
#define PT_REGS_PARM3_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM3_REG)
#define PT_REGS_PARM4_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM4_REG)
#define PT_REGS_PARM5_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM5_REG)
#define PT_REGS_PARM6_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM6_REG)
#define PT_REGS_RET_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_RET_REG)
#define PT_REGS_FP_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_FP_REG)
#define PT_REGS_RC_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_RC_REG)
#define PT_REGS_SP_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_SP_REG)
#define PT_REGS_IP_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_IP_REG)

#if defined(__PT_STACK_ARGS)
/* Stack-passed arguments: slot n (1-based) above the return address. */
#define __PT_STACK_ARG(x, n) ({ unsigned long long __v = 0; \
	bpf_probe_read_kernel(&__v, sizeof(__v), (void *)(PT_REGS_SP(x) + 8 * (n))); __v; })
#define __PT_STACK_ARG_CORE(x, n) ({ unsigned long long __v = 0; \
	bpf_probe_read_kernel(&__v, sizeof(__v), (void *)(PT_REGS_SP_CORE(x) + 8 * (n))); __v; })
#define PT_REGS_PARM7(x) __PT_STACK_ARG(x, 1)
#define PT_REGS_PARM8(x) __PT_STACK_ARG(x, 2)
#define PT_REGS_PARM7_CORE(x) __PT_STACK_ARG_CORE(x, 1)
#define PT_REGS_PARM8_CORE(x) __PT_STACK_ARG_CORE(x, 2)
#else
#define PT_REGS_PARM7(x) (__PT_REGS_CAST(x)->__PT_PARM7_REG)
#define PT_REGS_PARM8(x) (__PT_REGS_CAST(x)->__PT_PARM8_REG)
#define PT_REGS_PARM7_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM7_REG)
#define PT_REGS_PARM8_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM8_REG)
#endif

/* Syscall arguments, from the user-space pt_regs saved at syscall entry. */
#define PT_REGS_PARM1_SYSCALL(x) (((const struct pt_regs *)(x))->__PT_PARM1_SYSCALL_REG)
#define PT_REGS_PARM2_SYSCALL(x) (__PT_REGS_CAST(x)->__PT_PARM2_SYSCALL_REG)
#define PT_REGS_PARM3_SYSCALL(x) (__PT_REGS_CAST(x)->__PT_PARM3_SYSCALL_REG)
#define PT_REGS_PARM4_SYSCALL(x) (__PT_REGS_CAST(x)->__PT_PARM4_SYSCALL_REG)
#define PT_REGS_PARM5_SYSCALL(x) (__PT_REGS_CAST(x)->__PT_PARM5_SYSCALL_REG)
#define PT_REGS_PARM6_SYSCALL(x) (__PT_REGS_CAST(x)->__PT_PARM6_SYSCALL_REG)
#define PT_REGS_PARM1_CORE_SYSCALL(x) BPF_CORE_READ((const struct pt_regs *)(x), __PT_PARM1_SYSCALL_REG)
#define PT_REGS_PARM2_CORE_SYSCALL(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM2_SYSCALL_REG)
#define PT_REGS_PARM3_CORE_SYSCALL(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM3_SYSCALL_REG)
#define PT_REGS_PARM4_CORE_SYSCALL(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM4_SYSCALL_REG)
#define PT_REGS_PARM5_CORE_SYSCALL(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM5_SYSCALL_REG)
#define PT_REGS_PARM6_CORE_SYSCALL(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM6_SYSCALL_REG)

/* Return address of a probed function, read at its entry / via the frame
 * pointer at its return. */
#if defined(__TARGET_ARCH_x86)
#define BPF_KPROBE_READ_RET_IP(ip, ctx) \
	({ bpf_probe_read_kernel(&(ip), sizeof(ip), (void *)PT_REGS_RET(ctx)); })
#else
#define BPF_KPROBE_READ_RET_IP(ip, ctx) ({ (ip) = PT_REGS_RET(ctx); })
#endif
#define BPF_KRETPROBE_READ_RET_IP(ip, ctx) \
	({ bpf_probe_read_kernel(&(ip), sizeof(ip), (void *)(PT_REGS_FP(ctx) + sizeof(ip))); })

#else /* no known target architecture */

#define __PYBCC_NO_ARCH _Pragma("GCC error \"pass -D__TARGET_ARCH_<arch> (x86, arm64, riscv) to use PT_REGS macros\"")
#define PT_REGS_PARM1(x) ({ __PYBCC_NO_ARCH 0l; })
#define PT_REGS_PARM2(x) ({ __PYBCC_NO_ARCH 0l; })
#define PT_REGS_PARM3(x) ({ __PYBCC_NO_ARCH 0l; })
#define PT_REGS_PARM4(x) ({ __PYBCC_NO_ARCH 0l; })
#define PT_REGS_PARM5(x) ({ __PYBCC_NO_ARCH 0l; })
#define PT_REGS_PARM6(x) ({ __PYBCC_NO_ARCH 0l; })
#define PT_REGS_RC(x) ({ __PYBCC_NO_ARCH 0l; })

#endif

/* Pick the _SYSCALL accessors through the kernel's syscall wrapper: on
 * x86-64 and arm64 since 4.17/5.0 a syscall's kernel function receives one
 * argument, the pt_regs holding the user's registers. */
#define PT_REGS_SYSCALL_REGS(ctx) ((struct pt_regs *)PT_REGS_PARM1(ctx))

/* ------------------------------------------------------------------------
 * Typed-argument wrappers. Each expands
 *     int BPF_XXX(name, type1 a, type2 b) { body }
 * into the real program `name(ctx)` that unpacks the arguments from ctx and
 * calls an always-inline `____name(ctx, a, b)` holding the body.
 */

/* BPF_PROG: ctx is an array of u64, one per argument (fentry/fexit,
 * tp_btf, raw_tp, lsm, struct_ops). */
#define __pybcc_ctx0()
#define __pybcc_ctx1(x) , (void *)ctx[0]
#define __pybcc_ctx2(x, args...) __pybcc_ctx1(args) , (void *)ctx[1]
#define __pybcc_ctx3(x, args...) __pybcc_ctx2(args) , (void *)ctx[2]
#define __pybcc_ctx4(x, args...) __pybcc_ctx3(args) , (void *)ctx[3]
#define __pybcc_ctx5(x, args...) __pybcc_ctx4(args) , (void *)ctx[4]
#define __pybcc_ctx6(x, args...) __pybcc_ctx5(args) , (void *)ctx[5]
#define __pybcc_ctx7(x, args...) __pybcc_ctx6(args) , (void *)ctx[6]
#define __pybcc_ctx8(x, args...) __pybcc_ctx7(args) , (void *)ctx[7]
#define __pybcc_ctx9(x, args...) __pybcc_ctx8(args) , (void *)ctx[8]
#define __pybcc_ctx10(x, args...) __pybcc_ctx9(args) , (void *)ctx[9]
#define __pybcc_ctx11(x, args...) __pybcc_ctx10(args) , (void *)ctx[10]
#define __pybcc_ctx12(x, args...) __pybcc_ctx11(args) , (void *)ctx[11]
#define __pybcc_ctx_cast(args...) \
	__PYBCC_APPLY(__pybcc_ctx, __PYBCC_NARG(args))(args)

/* The ctx[i] -> typed argument conversions are pointer/integer casts by
 * design; silence the conversion warnings inside the wrapper only. */
#define __PYBCC_NOWARN_BEGIN \
	_Pragma("GCC diagnostic push") \
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"") \
	_Pragma("GCC diagnostic ignored \"-Wpointer-to-int-cast\"") \
	_Pragma("GCC diagnostic ignored \"-Wint-to-pointer-cast\"") \
	_Pragma("GCC diagnostic ignored \"-Wincompatible-pointer-types\"")
#define __PYBCC_NOWARN_END _Pragma("GCC diagnostic pop")

#define BPF_PROG(name, args...) \
name(unsigned long long *ctx); \
static __always_inline typeof(name(0)) \
____##name(unsigned long long *ctx, ##args); \
typeof(name(0)) name(unsigned long long *ctx) \
{ \
	__PYBCC_NOWARN_BEGIN \
	return ____##name(ctx __pybcc_ctx_cast(args)); \
	__PYBCC_NOWARN_END \
} \
static __always_inline typeof(name(0)) \
____##name(unsigned long long *ctx, ##args)

#if defined(__PT_PARM1_REG)

/* BPF_KPROBE / BPF_UPROBE: arguments from the registers of a pt_regs ctx. */
#define __pybcc_kp0()
#define __pybcc_kp1(x) , (void *)PT_REGS_PARM1(ctx)
#define __pybcc_kp2(x, args...) __pybcc_kp1(args) , (void *)PT_REGS_PARM2(ctx)
#define __pybcc_kp3(x, args...) __pybcc_kp2(args) , (void *)PT_REGS_PARM3(ctx)
#define __pybcc_kp4(x, args...) __pybcc_kp3(args) , (void *)PT_REGS_PARM4(ctx)
#define __pybcc_kp5(x, args...) __pybcc_kp4(args) , (void *)PT_REGS_PARM5(ctx)
#define __pybcc_kp6(x, args...) __pybcc_kp5(args) , (void *)PT_REGS_PARM6(ctx)
#define __pybcc_kp7(x, args...) __pybcc_kp6(args) , (void *)PT_REGS_PARM7(ctx)
#define __pybcc_kp8(x, args...) __pybcc_kp7(args) , (void *)PT_REGS_PARM8(ctx)
#define __pybcc_kprobe_args(args...) \
	__PYBCC_APPLY(__pybcc_kp, __PYBCC_NARG(args))(args)

#define BPF_KPROBE(name, args...) \
name(struct pt_regs *ctx); \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args); \
typeof(name(0)) name(struct pt_regs *ctx) \
{ \
	__PYBCC_NOWARN_BEGIN \
	return ____##name(ctx __pybcc_kprobe_args(args)); \
	__PYBCC_NOWARN_END \
} \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args)

/* BPF_KRETPROBE: the only argument (optional) is the return value. */
#define __pybcc_krp0()
#define __pybcc_krp1(x) , (void *)PT_REGS_RC(ctx)
#define __pybcc_kretprobe_args(args...) \
	__PYBCC_APPLY(__pybcc_krp, __PYBCC_NARG(args))(args)

#define BPF_KRETPROBE(name, args...) \
name(struct pt_regs *ctx); \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args); \
typeof(name(0)) name(struct pt_regs *ctx) \
{ \
	__PYBCC_NOWARN_BEGIN \
	return ____##name(ctx __pybcc_kretprobe_args(args)); \
	__PYBCC_NOWARN_END \
} \
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args)

#define BPF_UPROBE(name, args...) BPF_KPROBE(name, ##args)
#define BPF_URETPROBE(name, args...) BPF_KRETPROBE(name, ##args)

/* BPF_KSYSCALL: a kprobe on a syscall's kernel function (__x64_sys_...,
 * __arm64_sys_...); arguments come from the user registers that the
 * syscall wrapper passes as the function's only parameter. */
#define __pybcc_sc0()
#define __pybcc_sc1(x) , (void *)PT_REGS_PARM1_CORE_SYSCALL(regs)
#define __pybcc_sc2(x, args...) __pybcc_sc1(args) , (void *)PT_REGS_PARM2_CORE_SYSCALL(regs)
#define __pybcc_sc3(x, args...) __pybcc_sc2(args) , (void *)PT_REGS_PARM3_CORE_SYSCALL(regs)
#define __pybcc_sc4(x, args...) __pybcc_sc3(args) , (void *)PT_REGS_PARM4_CORE_SYSCALL(regs)
#define __pybcc_sc5(x, args...) __pybcc_sc4(args) , (void *)PT_REGS_PARM5_CORE_SYSCALL(regs)
#define __pybcc_sc6(x, args...) __pybcc_sc5(args) , (void *)PT_REGS_PARM6_CORE_SYSCALL(regs)
#define __pybcc_syscall_args(args...) \
	__PYBCC_APPLY(__pybcc_sc, __PYBCC_NARG(args))(args)

#define BPF_KSYSCALL(name, args...) \
name(struct pt_regs *ctx); \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args); \
typeof(name(0)) name(struct pt_regs *ctx) \
{ \
	struct pt_regs *regs = PT_REGS_SYSCALL_REGS(ctx); \
	__PYBCC_NOWARN_BEGIN \
	return ____##name(ctx __pybcc_syscall_args(args)); \
	__PYBCC_NOWARN_END \
} \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args)

#define BPF_KPROBE_SYSCALL BPF_KSYSCALL

#endif /* __PT_PARM1_REG */

#endif /* __PYBCC_BPF_TRACING_H */
