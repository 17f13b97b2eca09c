/* USDT (sys/sdt.h probes) arguments in BPF programs, usable as libbpf's
 * <bpf/usdt.bpf.h>: bpf_usdt_arg_cnt(), bpf_usdt_arg(), bpf_usdt_cookie()
 * and BPF_USDT(). Written for pybcc.
 *
 * pybcc.usdt fills pybcc_usdt_specs with one decoded argument list per
 * probe location kind (a "spec") and attaches a uprobe per location whose
 * BPF cookie is the spec id. Kernels without cookies find the spec id
 * through pybcc_usdt_ip (probe address -> spec id) instead.
 * The struct layouts below are shared with pybcc/usdt/spec.py. */
#ifndef __PYBCC_USDT_BPF_H
#define __PYBCC_USDT_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#ifndef BPF_USDT_MAX_SPEC_CNT
#define BPF_USDT_MAX_SPEC_CNT 256
#endif
#ifndef BPF_USDT_MAX_IP_CNT
#define BPF_USDT_MAX_IP_CNT (4 * BPF_USDT_MAX_SPEC_CNT)
#endif
#define BPF_USDT_MAX_ARG_CNT 12

enum pybcc_usdt_arg_kind {
	PYBCC_USDT_CONST = 0,     /* value = off */
	PYBCC_USDT_REG = 1,       /* value = register */
	PYBCC_USDT_DEREF = 2,     /* value = *(register + off) */
	PYBCC_USDT_DEREF_IDX = 3, /* value = *(register + index << scale_shift + off) */
};

struct pybcc_usdt_arg {
	long long off;
	unsigned short kind;
	unsigned short reg_off;     /* byte offset of the register in struct pt_regs */
	unsigned short idx_off;     /* the index register, for PYBCC_USDT_DEREF_IDX */
	unsigned char scale_shift;
	unsigned char size;         /* bytes of the value: 1, 2, 4, 8 */
	unsigned char is_signed;
	unsigned char shift;        /* 64 - 8 * size: how far to shift to extend */
	unsigned char __pad[6];
};

struct pybcc_usdt_spec {
	struct pybcc_usdt_arg args[BPF_USDT_MAX_ARG_CNT];
	long long cookie;           /* the user's cookie (bpf_usdt_cookie) */
	unsigned int arg_cnt;
	unsigned int __pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_USDT_MAX_SPEC_CNT);
	__type(key, int);
	__type(value, struct pybcc_usdt_spec);
} pybcc_usdt_specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPF_USDT_MAX_IP_CNT);
	__type(key, long);
	__type(value, int);
} pybcc_usdt_ip SEC(".maps");

/* A local copy of the helper-id enum: CO-RE asks the kernel's BTF whether
 * bpf_get_attach_cookie exists, and the verifier drops the dead branch. */
enum bpf_func_id___pybcc_usdt { BPF_FUNC_get_attach_cookie___pybcc_usdt = 0 };

static __always_inline int __pybcc_usdt_spec_id(struct pt_regs *ctx)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id___pybcc_usdt,
				       BPF_FUNC_get_attach_cookie___pybcc_usdt))
		return (int)bpf_get_attach_cookie(ctx);
	long ip = PT_REGS_IP(ctx);
	int *id = bpf_map_lookup_elem(&pybcc_usdt_ip, &ip);
	return id ? *id : -1;
}

static __always_inline struct pybcc_usdt_spec *__pybcc_usdt_spec(struct pt_regs *ctx)
{
	int id = __pybcc_usdt_spec_id(ctx);
	if (id < 0)
		return 0;
	return bpf_map_lookup_elem(&pybcc_usdt_specs, &id);
}

/* How many arguments the probe has; negative errno if unknown. */
static __always_inline int bpf_usdt_arg_cnt(struct pt_regs *ctx)
{
	struct pybcc_usdt_spec *spec = __pybcc_usdt_spec(ctx);
	return spec ? (int)spec->arg_cnt : -3; /* -ESRCH */
}

/* Argument number arg_num (from 0) into *res, sign- or zero-extended to
 * 64 bits. Returns 0, or a negative errno. */
static __noinline int bpf_usdt_arg(struct pt_regs *ctx, __u64 arg_num, long *res)
{
	struct pybcc_usdt_spec *spec;
	struct pybcc_usdt_arg *arg;
	unsigned long v = 0, idx = 0;
	unsigned int size;
	int err;

	*res = 0;
	spec = __pybcc_usdt_spec(ctx);
	if (!spec)
		return -3;	/* -ESRCH */
	if (arg_num >= BPF_USDT_MAX_ARG_CNT || arg_num >= spec->arg_cnt)
		return -2;	/* -ENOENT */
	arg = &spec->args[arg_num];
	switch (arg->kind) {
	case PYBCC_USDT_CONST:
		v = arg->off;
		break;
	case PYBCC_USDT_REG:
		err = bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + arg->reg_off);
		if (err)
			return err;
		break;
	case PYBCC_USDT_DEREF_IDX:
		err = bpf_probe_read_kernel(&idx, sizeof(idx), (void *)ctx + arg->idx_off);
		if (err)
			return err;
		idx <<= (arg->scale_shift & 3);
		/* fall through */
	case PYBCC_USDT_DEREF:
		err = bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + arg->reg_off);
		if (err)
			return err;
		size = arg->size;
		if (size > sizeof(v))
			return -22;	/* -EINVAL */
		/* Exactly size bytes: a wider read could cross into an unmapped page. */
		err = bpf_probe_read_user(&v, size, (void *)(v + idx + arg->off));
		if (err)
			return err;
		break;
	default:
		return -22;
	}
	/* Little-endian: the value is in the low bytes; extend from size. */
	if (arg->shift < 64) {
		v <<= arg->shift;
		if (arg->is_signed)
			v = (unsigned long)((long)v >> arg->shift);
		else
			v >>= arg->shift;
	}
	*res = (long)v;
	return 0;
}

/* The cookie given when attaching (pybcc.usdt.attach_usdt(cookie=...)). */
static __always_inline long bpf_usdt_cookie(struct pt_regs *ctx)
{
	struct pybcc_usdt_spec *spec = __pybcc_usdt_spec(ctx);
	return spec ? spec->cookie : 0;
}

/* BPF_USDT(name, type1 a1, type2 a2, ...): a program whose typed
 * parameters are the probe's arguments (missing ones read as 0). */
#define __pybcc_usdt_arg_n(n) ({ long __a = 0; bpf_usdt_arg(ctx, n, &__a); __a; })
#define __pybcc_ua0()
#define __pybcc_ua1(x) , (void *)__pybcc_usdt_arg_n(0)
#define __pybcc_ua2(x, args...) __pybcc_ua1(args) , (void *)__pybcc_usdt_arg_n(1)
#define __pybcc_ua3(x, args...) __pybcc_ua2(args) , (void *)__pybcc_usdt_arg_n(2)
#define __pybcc_ua4(x, args...) __pybcc_ua3(args) , (void *)__pybcc_usdt_arg_n(3)
#define __pybcc_ua5(x, args...) __pybcc_ua4(args) , (void *)__pybcc_usdt_arg_n(4)
#define __pybcc_ua6(x, args...) __pybcc_ua5(args) , (void *)__pybcc_usdt_arg_n(5)
#define __pybcc_ua7(x, args...) __pybcc_ua6(args) , (void *)__pybcc_usdt_arg_n(6)
#define __pybcc_ua8(x, args...) __pybcc_ua7(args) , (void *)__pybcc_usdt_arg_n(7)
#define __pybcc_ua9(x, args...) __pybcc_ua8(args) , (void *)__pybcc_usdt_arg_n(8)
#define __pybcc_ua10(x, args...) __pybcc_ua9(args) , (void *)__pybcc_usdt_arg_n(9)
#define __pybcc_ua11(x, args...) __pybcc_ua10(args) , (void *)__pybcc_usdt_arg_n(10)
#define __pybcc_ua12(x, args...) __pybcc_ua11(args) , (void *)__pybcc_usdt_arg_n(11)
#define __pybcc_usdt_args(args...) \
	__PYBCC_APPLY(__pybcc_ua, __PYBCC_NARG(args))(args)

#define BPF_USDT(name, args...) \
name(struct pt_regs *ctx); \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args); \
typeof(name(0)) name(struct pt_regs *ctx) \
{ \
	__PYBCC_NOWARN_BEGIN \
	return ____##name(ctx __pybcc_usdt_args(args)); \
	__PYBCC_NOWARN_END \
} \
static __always_inline typeof(name(0)) \
____##name(struct pt_regs *ctx, ##args)

#endif /* __PYBCC_USDT_BPF_H */
