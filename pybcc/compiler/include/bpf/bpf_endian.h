/* pybcc's bpf_endian.h: byte order conversions for BPF programs.
 * Constants fold at compile time; variables use the BPF byte-swap insn. */
#ifndef __PYBCC_BPF_ENDIAN_H
#define __PYBCC_BPF_ENDIAN_H

#define ___pybcc_swab16(x) ((unsigned short)( \
	(((unsigned short)(x) & 0x00ffU) << 8) | \
	(((unsigned short)(x) & 0xff00U) >> 8)))
#define ___pybcc_swab32(x) ((unsigned int)( \
	(((unsigned int)(x) & 0x000000ffUL) << 24) | \
	(((unsigned int)(x) & 0x0000ff00UL) << 8) | \
	(((unsigned int)(x) & 0x00ff0000UL) >> 8) | \
	(((unsigned int)(x) & 0xff000000UL) >> 24)))
#define ___pybcc_swab64(x) ((unsigned long long)( \
	((unsigned long long)___pybcc_swab32((unsigned long long)(x) & 0xffffffffULL) << 32) | \
	(unsigned long long)___pybcc_swab32((unsigned long long)(x) >> 32)))

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __pybcc_be16(x) __builtin_bswap16(x)
#define __pybcc_be32(x) __builtin_bswap32(x)
#define __pybcc_be64(x) __builtin_bswap64(x)
#define __pybcc_const_be16(x) ___pybcc_swab16(x)
#define __pybcc_const_be32(x) ___pybcc_swab32(x)
#define __pybcc_const_be64(x) ___pybcc_swab64(x)
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define __pybcc_be16(x) (x)
#define __pybcc_be32(x) (x)
#define __pybcc_be64(x) (x)
#define __pybcc_const_be16(x) (x)
#define __pybcc_const_be32(x) (x)
#define __pybcc_const_be64(x) (x)
#else
#error "unknown __BYTE_ORDER__"
#endif

#define bpf_htons(x) (__builtin_constant_p(x) ? __pybcc_const_be16(x) : __pybcc_be16(x))
#define bpf_ntohs(x) bpf_htons(x)
#define bpf_htonl(x) (__builtin_constant_p(x) ? __pybcc_const_be32(x) : __pybcc_be32(x))
#define bpf_ntohl(x) bpf_htonl(x)
#define bpf_cpu_to_be64(x) (__builtin_constant_p(x) ? __pybcc_const_be64(x) : __pybcc_be64(x))
#define bpf_be64_to_cpu(x) bpf_cpu_to_be64(x)

#endif /* __PYBCC_BPF_ENDIAN_H */
