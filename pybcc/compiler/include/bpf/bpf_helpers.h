/* pybcc's bpf_helpers.h: the definitions libbpf-style BPF programs expect
 * (SEC, map-definition macros, attributes, helper prototypes, bpf_printk).
 * Written for pybcc; include it exactly like libbpf's header of that name.
 */
#ifndef __PYBCC_BPF_HELPERS_H
#define __PYBCC_BPF_HELPERS_H

#include "bpf_helper_defs.h"

/* Argument counting: __PYBCC_NARG(a, b, c) -> 3, and 0 for no arguments. */
#define __PYBCC_NTH(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define __PYBCC_NARG(...) \
	__PYBCC_NTH(_, ##__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __PYBCC_CAT2(a, b) a##b
#define __PYBCC_CAT(a, b) __PYBCC_CAT2(a, b)
/* __PYBCC_APPLY(m, 3) -> m3 */
#define __PYBCC_APPLY(m, n) __PYBCC_CAT(m, n)

/* Map definitions in the ".maps" section (BTF-defined maps):
 *   struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, u32); ... } m SEC(".maps");
 * The loader reads the numbers back from the pointer/array types in BTF. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __ulong(name, val) \
	enum { __PYBCC_CAT(__pybcc_ulong_, __COUNTER__) = (val) } name

/* The ELF section that names a program's type and attach point, or a map. */
#define SEC(name) __attribute__((section(name), used))

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#ifndef __hidden
#define __hidden __attribute__((visibility("hidden")))
#endif
#ifndef __packed
#define __packed __attribute__((packed))
#endif

/* Externs resolved by the loader: kernel symbols and Kconfig values. */
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))

/* The type of tristate (y/m/n) __kconfig externs; the loader knows it by name. */
enum libbpf_tristate {
	TRI_NO = 0,
	TRI_YES = 1,
	TRI_MODULE = 2,
};
#define __private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

/* BTF tags understood by the verifier (clang >= 14). */
#if __has_attribute(btf_type_tag)
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#define __kptr __attribute__((btf_type_tag("kptr")))
#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))
#define __uptr __attribute__((btf_type_tag("uptr")))
#else
#define __kptr_untrusted
#define __kptr
#define __percpu_kptr
#define __uptr
#endif
#if __has_attribute(btf_decl_tag)
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
#define __arg_nullable __attribute__((btf_decl_tag("arg:nullable")))
#define __arg_trusted __attribute__((btf_decl_tag("arg:trusted")))
#define __arg_arena __attribute__((btf_decl_tag("arg:arena")))
#else
#define __contains(name, node)
#define __arg_ctx
#define __arg_nonnull
#define __arg_nullable
#define __arg_trusted
#define __arg_arena
#endif

/* Pinning choices for BTF-defined maps (__uint(pinning, LIBBPF_PIN_BY_NAME)). */
enum libbpf_pin_type {
	LIBBPF_PIN_NONE,
	LIBBPF_PIN_BY_NAME,
};

#ifndef NULL
#define NULL ((void *)0)
#endif

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	({ void *__mptr = (void *)(ptr); ((type *)(__mptr - offsetof(type, member))); })
#endif

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
/* Make the compiler forget what it knows about var (defeats some
 * optimisations the verifier cannot follow). */
#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

#ifndef KERNEL_VERSION
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#endif

/* True if a __weak __ksym extern was found in the running kernel. */
#define bpf_ksym_exists(sym) ({ \
	_Static_assert(!__builtin_constant_p(!!sym), #sym " must be declared __weak"); \
	!!sym; })

/* A tail call whose slot is a compile-time constant, so the verifier can
 * patch it into a direct jump: r1 = ctx, r2 = map, r3 = slot, call 12. */
static __always_inline void
bpf_tail_call_static(void *ctx, const void *map, const unsigned int slot)
{
	asm volatile("r1 = %[ctx]\n\t"
		     "r2 = %[map]\n\t"
		     "r3 = %[slot]\n\t"
		     "call 12"
		     :: [ctx] "r"(ctx), [map] "r"(map), [slot] "i"(slot)
		     : "r0", "r1", "r2", "r3", "r4", "r5");
}

/* Format strings live in .rodata unless the kernel lacks global data. */
#ifdef BPF_NO_GLOBAL_DATA
#define __PYBCC_FMT_STORAGE
#else
#define __PYBCC_FMT_STORAGE static const
#endif

/* Fill a u64 array from up to 12 arguments (for the v-printf helpers). */
#define __PYBCC_FILL0(a, i)
#define __PYBCC_FILL1(a, i, x) a[i] = (unsigned long long)(x);
#define __PYBCC_FILL2(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL1(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL3(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL2(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL4(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL3(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL5(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL4(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL6(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL5(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL7(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL6(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL8(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL7(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL9(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL8(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL10(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL9(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL11(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL10(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL12(a, i, x, ...) a[i] = (unsigned long long)(x); __PYBCC_FILL11(a, i + 1, __VA_ARGS__)
#define __PYBCC_FILL(a, ...) \
	__PYBCC_APPLY(__PYBCC_FILL, __PYBCC_NARG(__VA_ARGS__))(a, 0, ##__VA_ARGS__)

/* bpf_printk(fmt, args...): up to 3 arguments use bpf_trace_printk (every
 * kernel); more use bpf_trace_vprintk (5.16+). Output goes to trace_pipe. */
#define __pybcc_printk(fmt, ...) ({ \
	__PYBCC_FMT_STORAGE char ____fmt[] = fmt; \
	bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__); })
#define __pybcc_vprintk(fmt, ...) ({ \
	__PYBCC_FMT_STORAGE char ____fmt[] = fmt; \
	unsigned long long ____args[__PYBCC_NARG(__VA_ARGS__)]; \
	__PYBCC_FILL(____args, ##__VA_ARGS__) \
	bpf_trace_vprintk(____fmt, sizeof(____fmt), ____args, sizeof(____args)); })
#define __PYBCC_PRINTK_PICK(...) \
	__PYBCC_NTH(_, ##__VA_ARGS__, __pybcc_vprintk, __pybcc_vprintk, __pybcc_vprintk, \
		    __pybcc_vprintk, __pybcc_vprintk, __pybcc_vprintk, __pybcc_vprintk, \
		    __pybcc_vprintk, __pybcc_vprintk, __pybcc_printk, __pybcc_printk, \
		    __pybcc_printk, __pybcc_printk)
#define bpf_printk(fmt, ...) __PYBCC_PRINTK_PICK(__VA_ARGS__)(fmt, ##__VA_ARGS__)

/* BPF_SEQ_PRINTF(seq, fmt, args...) for iterator programs. */
#define BPF_SEQ_PRINTF(seq, fmt, ...) ({ \
	static const char ____fmt[] = fmt; \
	unsigned long long ____args[__PYBCC_NARG(__VA_ARGS__) + 1]; \
	__PYBCC_FILL(____args, ##__VA_ARGS__) \
	bpf_seq_printf(seq, ____fmt, sizeof(____fmt), ____args, \
		       __PYBCC_NARG(__VA_ARGS__) * sizeof(unsigned long long)); })

/* BPF_SNPRINTF(out, size, fmt, args...) */
#define BPF_SNPRINTF(out, out_size, fmt, ...) ({ \
	static const char ____fmt[] = fmt; \
	unsigned long long ____args[__PYBCC_NARG(__VA_ARGS__) + 1]; \
	__PYBCC_FILL(____args, ##__VA_ARGS__) \
	bpf_snprintf(out, out_size, ____fmt, ____args, \
		     __PYBCC_NARG(__VA_ARGS__) * sizeof(unsigned long long)); })

#endif /* __PYBCC_BPF_HELPERS_H */
