/* pybcc's bpf_core_read.h: CO-RE ("compile once, run everywhere") reads and
 * queries. clang records each access below as a relocation in .BTF.ext; the
 * loader rewrites the instruction for the running kernel's BTF.
 */
#ifndef __PYBCC_BPF_CORE_READ_H
#define __PYBCC_BPF_CORE_READ_H

#include "bpf_helpers.h"

/* Second argument of __builtin_preserve_field_info. */
enum bpf_field_info_kind {
	BPF_FIELD_BYTE_OFFSET = 0,
	BPF_FIELD_BYTE_SIZE = 1,
	BPF_FIELD_EXISTS = 2,
	BPF_FIELD_SIGNED = 3,
	BPF_FIELD_LSHIFT_U64 = 4,
	BPF_FIELD_RSHIFT_U64 = 5,
};

/* Second argument of __builtin_btf_type_id. */
enum bpf_type_id_kind {
	BPF_TYPE_ID_LOCAL = 0,
	BPF_TYPE_ID_TARGET = 1,
};

/* Second argument of __builtin_preserve_type_info. */
enum bpf_type_info_kind {
	BPF_TYPE_EXISTS = 0,
	BPF_TYPE_SIZE = 1,
	BPF_TYPE_MATCHES = 2,
};

/* Second argument of __builtin_preserve_enum_value. */
enum bpf_enum_value_kind {
	BPF_ENUMVAL_EXISTS = 0,
	BPF_ENUMVAL_VALUE = 1,
};

/* A field is named either as an expression (s->a.b) or as (type, field). */
#define __pybcc_field_ref1(field) (field)
#define __pybcc_field_ref2(type, field) (((typeof(type) *)0)->field)
#define __pybcc_field_ref(...) \
	__PYBCC_APPLY(__pybcc_field_ref, __PYBCC_NARG(__VA_ARGS__))(__VA_ARGS__)

/* Does the field exist in the running kernel? */
#define bpf_core_field_exists(...) \
	__builtin_preserve_field_info(__pybcc_field_ref(__VA_ARGS__), BPF_FIELD_EXISTS)
/* Size in bytes of the field in the running kernel. */
#define bpf_core_field_size(...) \
	__builtin_preserve_field_info(__pybcc_field_ref(__VA_ARGS__), BPF_FIELD_BYTE_SIZE)
/* Byte offset of the field within its struct in the running kernel. */
#define bpf_core_field_offset(...) \
	__builtin_preserve_field_info(__pybcc_field_ref(__VA_ARGS__), BPF_FIELD_BYTE_OFFSET)

/* BTF type id of a type: in this program's BTF, or in the kernel's. */
#define bpf_core_type_id_local(type) \
	__builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_LOCAL)
#define bpf_core_type_id_kernel(type) \
	__builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_TARGET)

/* Does the kernel have a type of this name (and kind)? Its size? Does its
 * layout match the local definition? */
#define bpf_core_type_exists(type) \
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_EXISTS)
#define bpf_core_type_size(type) \
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_SIZE)
#define bpf_core_type_matches(type) \
	__builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_MATCHES)

/* Does the enumerator exist in the kernel's enum, and its value there. */
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_VALUE)

/* Read sz bytes at a relocatable address into dst. */
#define bpf_core_read(dst, sz, src) \
	bpf_probe_read_kernel((void *)(dst), sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_user(dst, sz, src) \
	bpf_probe_read_user((void *)(dst), sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_str(dst, sz, src) \
	bpf_probe_read_kernel_str((void *)(dst), sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_user_str(dst, sz, src) \
	bpf_probe_read_user_str((void *)(dst), sz, (const void *)__builtin_preserve_access_index(src))

/* Bitfields. The _PROBED form reads through bpf_probe_read_kernel (any
 * program type); the plain form loads directly (BTF-typed pointers, tp_btf,
 * fentry). Both shift the field out of a u64 with kernel-relocated amounts. */
#define BPF_CORE_READ_BITFIELD_PROBED(s, field) ({ \
	unsigned long long __val = 0; \
	unsigned int __off = __builtin_preserve_field_info((s)->field, BPF_FIELD_BYTE_OFFSET); \
	unsigned int __sz = __builtin_preserve_field_info((s)->field, BPF_FIELD_BYTE_SIZE); \
	bpf_probe_read_kernel((char *)&__val + __PYBCC_BF_POS(__sz), __sz, (const char *)(s) + __off); \
	__val <<= __builtin_preserve_field_info((s)->field, BPF_FIELD_LSHIFT_U64); \
	if (__builtin_preserve_field_info((s)->field, BPF_FIELD_SIGNED)) \
		__val = ((long long)__val) >> __builtin_preserve_field_info((s)->field, BPF_FIELD_RSHIFT_U64); \
	else \
		__val = __val >> __builtin_preserve_field_info((s)->field, BPF_FIELD_RSHIFT_U64); \
	__val; })

#define BPF_CORE_READ_BITFIELD(s, field) ({ \
	const void *__p = (const void *)(s) + __builtin_preserve_field_info((s)->field, BPF_FIELD_BYTE_OFFSET); \
	unsigned long long __val; \
	switch (__builtin_preserve_field_info((s)->field, BPF_FIELD_BYTE_SIZE)) { \
	case 1: __val = *(const unsigned char *)__p; break; \
	case 2: __val = *(const unsigned short *)__p; break; \
	case 4: __val = *(const unsigned int *)__p; break; \
	case 8: __val = *(const unsigned long long *)__p; break; \
	default: __val = 0; break; \
	} \
	__val <<= __builtin_preserve_field_info((s)->field, BPF_FIELD_LSHIFT_U64); \
	if (__builtin_preserve_field_info((s)->field, BPF_FIELD_SIGNED)) \
		__val = ((long long)__val) >> __builtin_preserve_field_info((s)->field, BPF_FIELD_RSHIFT_U64); \
	else \
		__val = __val >> __builtin_preserve_field_info((s)->field, BPF_FIELD_RSHIFT_U64); \
	__val; })

/* Where in a u64 the field's bytes go so that the shifts above line up. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __PYBCC_BF_POS(sz) 0
#else
#define __PYBCC_BF_POS(sz) (8 - (sz))
#endif

/* Pointer chains: BPF_CORE_READ(t, a, b, c) is t->a->b->c with each step
 * read safely. Each chain macro takes two read macros, rd (intermediate
 * pointers) and rdl (the final field), of the form rd(dst, size, src). */
#define __pybcc_core_rd(dst, sz, src) bpf_core_read(dst, sz, src)
#define __pybcc_core_rd_user(dst, sz, src) bpf_core_read_user(dst, sz, src)
#define __pybcc_core_rd_str(dst, sz, src) bpf_core_read_str(dst, sz, src)
#define __pybcc_core_rd_user_str(dst, sz, src) bpf_core_read_user_str(dst, sz, src)
#define __pybcc_raw_rd(dst, sz, src) bpf_probe_read_kernel((void *)(dst), sz, (const void *)(src))
#define __pybcc_raw_rd_user(dst, sz, src) bpf_probe_read_user((void *)(dst), sz, (const void *)(src))
#define __pybcc_raw_rd_str(dst, sz, src) bpf_probe_read_kernel_str((void *)(dst), sz, (const void *)(src))
#define __pybcc_raw_rd_user_str(dst, sz, src) bpf_probe_read_user_str((void *)(dst), sz, (const void *)(src))

/* a1->a2->...->an, used to name intermediate types with typeof. */
#define __pybcc_arrow1(a) a
#define __pybcc_arrow2(a, b) a->b
#define __pybcc_arrow3(a, b, c) a->b->c
#define __pybcc_arrow4(a, b, c, d) a->b->c->d
#define __pybcc_arrow5(a, b, c, d, e) a->b->c->d->e
#define __pybcc_arrow6(a, b, c, d, e, f) a->b->c->d->e->f
#define __pybcc_arrow7(a, b, c, d, e, f, g) a->b->c->d->e->f->g
#define __pybcc_arrow8(a, b, c, d, e, f, g, h) a->b->c->d->e->f->g->h
#define __pybcc_arrow9(a, b, c, d, e, f, g, h, i) a->b->c->d->e->f->g->h->i
#define __pybcc_arrow(...) \
	__PYBCC_APPLY(__pybcc_arrow, __PYBCC_NARG(__VA_ARGS__))(__VA_ARGS__)
/* The comma makes an rvalue, so the type loses const/volatile and the
 * result variable can be written. */
#define __pybcc_chain_type(src, ...) typeof(((void)0, (src)->__pybcc_arrow(__VA_ARGS__)))

/* Step macros: __t holds the current pointer in the chain. */
#define __pybcc_first(rd, src, a) rd(&__t, sizeof(__t), &(src)->a)
#define __pybcc_next(rd, T, a) rd(&__t, sizeof(__t), &((T)__t)->a)
#define __pybcc_last(rdl, dst, T, a) rdl(dst, sizeof(*(dst)), &((T)__t)->a)
#define __pybcc_T(src, ...) typeof((src)->__pybcc_arrow(__VA_ARGS__))

#define __pybcc_rd1(rd, rdl, dst, src, a) \
	rdl(dst, sizeof(*(dst)), &(src)->a)
#define __pybcc_rd2(rd, rdl, dst, src, a, b) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a), b); })
#define __pybcc_rd3(rd, rdl, dst, src, a, b, c) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b), c); })
#define __pybcc_rd4(rd, rdl, dst, src, a, b, c, d) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_next(rd, __pybcc_T(src, a, b), c); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b, c), d); })
#define __pybcc_rd5(rd, rdl, dst, src, a, b, c, d, e) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_next(rd, __pybcc_T(src, a, b), c); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c), d); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b, c, d), e); })
#define __pybcc_rd6(rd, rdl, dst, src, a, b, c, d, e, f) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_next(rd, __pybcc_T(src, a, b), c); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c), d); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d), e); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b, c, d, e), f); })
#define __pybcc_rd7(rd, rdl, dst, src, a, b, c, d, e, f, g) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_next(rd, __pybcc_T(src, a, b), c); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c), d); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d), e); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d, e), f); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b, c, d, e, f), g); })
#define __pybcc_rd8(rd, rdl, dst, src, a, b, c, d, e, f, g, h) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_next(rd, __pybcc_T(src, a, b), c); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c), d); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d), e); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d, e), f); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d, e, f), g); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b, c, d, e, f, g), h); })
#define __pybcc_rd9(rd, rdl, dst, src, a, b, c, d, e, f, g, h, i) ({ const void *__t; \
	__pybcc_first(rd, src, a); \
	__pybcc_next(rd, __pybcc_T(src, a), b); \
	__pybcc_next(rd, __pybcc_T(src, a, b), c); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c), d); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d), e); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d, e), f); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d, e, f), g); \
	__pybcc_next(rd, __pybcc_T(src, a, b, c, d, e, f, g), h); \
	__pybcc_last(rdl, dst, __pybcc_T(src, a, b, c, d, e, f, g, h), i); })
#define __pybcc_read_chain(rd, rdl, dst, src, ...) \
	__PYBCC_APPLY(__pybcc_rd, __PYBCC_NARG(__VA_ARGS__))(rd, rdl, dst, src, __VA_ARGS__)

/* BPF_CORE_READ_INTO(&dst, src, a, b, ...): dst = src->a->b->... */
#define BPF_CORE_READ_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_core_rd, __pybcc_core_rd, dst, (src), a, ##__VA_ARGS__)
#define BPF_CORE_READ_USER_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_core_rd_user, __pybcc_core_rd_user, dst, (src), a, ##__VA_ARGS__)
#define BPF_PROBE_READ_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_raw_rd, __pybcc_raw_rd, dst, (src), a, ##__VA_ARGS__)
#define BPF_PROBE_READ_USER_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_raw_rd_user, __pybcc_raw_rd_user, dst, (src), a, ##__VA_ARGS__)

/* ..._STR_INTO: the last field is a string (char array or string start),
 * copied with the _str helper; sizeof(*dst) bounds it. */
#define BPF_CORE_READ_STR_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_core_rd, __pybcc_core_rd_str, dst, (src), a, ##__VA_ARGS__)
#define BPF_CORE_READ_USER_STR_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_core_rd_user, __pybcc_core_rd_user_str, dst, (src), a, ##__VA_ARGS__)
#define BPF_PROBE_READ_STR_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_raw_rd, __pybcc_raw_rd_str, dst, (src), a, ##__VA_ARGS__)
#define BPF_PROBE_READ_USER_STR_INTO(dst, src, a, ...) \
	__pybcc_read_chain(__pybcc_raw_rd_user, __pybcc_raw_rd_user_str, dst, (src), a, ##__VA_ARGS__)

/* BPF_CORE_READ(src, a, b, ...) evaluates to the value of src->a->b->... */
#define BPF_CORE_READ(src, a, ...) ({ \
	__pybcc_chain_type(src, a, ##__VA_ARGS__) __r; \
	BPF_CORE_READ_INTO(&__r, (src), a, ##__VA_ARGS__); \
	__r; })
#define BPF_CORE_READ_USER(src, a, ...) ({ \
	__pybcc_chain_type(src, a, ##__VA_ARGS__) __r; \
	BPF_CORE_READ_USER_INTO(&__r, (src), a, ##__VA_ARGS__); \
	__r; })
#define BPF_PROBE_READ(src, a, ...) ({ \
	__pybcc_chain_type(src, a, ##__VA_ARGS__) __r; \
	BPF_PROBE_READ_INTO(&__r, (src), a, ##__VA_ARGS__); \
	__r; })
#define BPF_PROBE_READ_USER(src, a, ...) ({ \
	__pybcc_chain_type(src, a, ##__VA_ARGS__) __r; \
	BPF_PROBE_READ_USER_INTO(&__r, (src), a, ##__VA_ARGS__); \
	__r; })

#endif /* __PYBCC_BPF_CORE_READ_H */
