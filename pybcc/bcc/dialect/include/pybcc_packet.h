/* bcc's packet helpers for socket filters and tc programs, written for pybcc:
 * loads of big-endian fields at packet offsets (LD_ABS/LD_IND through LLVM's
 * BPF intrinsics), bit-field extract/insert on them, and checksum updates.
 * The front end turns field accesses on <bcc/proto.h> headers into
 * bpf_dext_pkt/bpf_dins_pkt calls and incr_cksum_l3/l4 into the
 * bpf_l3/l4_csum_replace_ wrappers (pybcc/bcc/dialect/packets.py). */
#ifndef __PYBCC_PACKET_H
#define __PYBCC_PACKET_H

/* The value of a packet load is in host order: LD_ABS converts it. */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

static __always_inline __u64 load_dword(void *skb, __u64 off)
{
	return (load_word(skb, off) << 32) | load_word(skb, off + 4);
}

/* Walks a packet: returns where the cursor was and moves it past _len bytes. */
#define cursor_advance(_cursor, _len) \
	({ void *__pybcc_at = (_cursor); (_cursor) += (_len); __pybcc_at; })

/* The smallest load (8, 16, 32 or 64 bits) that holds bits [0, end). */
#define __PYBCC_PKT_WIDTH(end) ((end) <= 8 ? 8 : (end) <= 16 ? 16 : (end) <= 32 ? 32 : 64)

static __always_inline __u64 __pybcc_pkt_load(void *pkt, __u64 off, __u64 width)
{
	switch (width) {
	case 8: return load_byte(pkt, off);
	case 16: return load_half(pkt, off);
	case 32: return load_word(pkt, off);
	default: return load_dword(pkt, off);
	}
}

/* bsz bits at bit bofs (counted from the most significant bit) of the
 * big-endian bytes at packet offset off. */
static __always_inline __u64 bpf_dext_pkt(void *pkt, __u64 off, __u64 bofs, __u64 bsz)
{
	__u64 end = bofs + bsz, width = __PYBCC_PKT_WIDTH(end);
	__u64 v;

	if (end > 64)
		return 0;
	v = __pybcc_pkt_load(pkt, off, width) >> (width - end);
	return bsz < 64 ? v & ((1ULL << bsz) - 1) : v;
}

/* Stores val into the bits bpf_dext_pkt(pkt, off, bofs, bsz) reads. */
static __always_inline void bpf_dins_pkt(void *pkt, __u64 off, __u64 bofs, __u64 bsz, __u64 val)
{
	__u64 end = bofs + bsz, width = __PYBCC_PKT_WIDTH(end);
	__u64 mask = bsz < 64 ? (1ULL << bsz) - 1 : ~0ULL, v = val;
	__u8 b; __u16 h; __u32 w; __u64 d;

	if (end > 64)
		return;
	if (bsz != width) {     /* keep the neighbouring bits */
		__u64 shift = width - end;
		v = (__pybcc_pkt_load(pkt, off, width) & ~(mask << shift)) | ((val & mask) << shift);
	}
	switch (width) {
	case 8: b = v; bpf_skb_store_bytes(pkt, off, &b, 1, 0); break;
	case 16: h = bpf_htons(v); bpf_skb_store_bytes(pkt, off, &h, 2, 0); break;
	case 32: w = bpf_htonl(v); bpf_skb_store_bytes(pkt, off, &w, 4, 0); break;
	default: d = bpf_cpu_to_be64(v); bpf_skb_store_bytes(pkt, off, &d, 8, 0); break;
	}
}

/* Checksum updates whose old and new values are in host order; the low bits
 * of flags give their size (2 or 4 bytes), as the kernel's helpers expect. */
static __always_inline int bpf_l3_csum_replace_(void *ctx, __u64 off, __u64 from, __u64 to, __u64 flags)
{
	switch (flags & 0xf) {
	case 2: return bpf_l3_csum_replace(ctx, off, bpf_htons(from), bpf_htons(to), flags);
	case 4: return bpf_l3_csum_replace(ctx, off, bpf_htonl(from), bpf_htonl(to), flags);
	default: return bpf_l3_csum_replace(ctx, off, from, to, flags);
	}
}

static __always_inline int bpf_l4_csum_replace_(void *ctx, __u64 off, __u64 from, __u64 to, __u64 flags)
{
	switch (flags & 0xf) {
	case 2: return bpf_l4_csum_replace(ctx, off, bpf_htons(from), bpf_htons(to), flags);
	case 4: return bpf_l4_csum_replace(ctx, off, bpf_htonl(from), bpf_htonl(to), flags);
	default: return bpf_l4_csum_replace(ctx, off, from, to, flags);
	}
}

/* Rewritten by the front end to the wrappers above, with the program's
 * context: incr_cksum_l3(&ip->hchecksum, old, new). */
int incr_cksum_l3(void *off, __u64 oldval, __u64 newval);
int incr_cksum_l4(void *off, __u64 oldval, __u64 newval, __u64 flags);

#endif
