// BTF kinds newer than some kernels: FLOAT (5.13), DECL_TAG (5.16),
// TYPE_TAG (5.17), ENUM64 and signed enums (6.0). The loader rewrites them
// for kernels that lack them (loader/sanitize.py).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum pybcc_big { PYBCC_BIG = 0x100000001ULL };
enum pybcc_signed { PYBCC_NEG = -1, PYBCC_POS = 1 };

float pybcc_ratio = 1.5f;                                   /* FLOAT */
enum pybcc_big pybcc_big_value = PYBCC_BIG;                 /* ENUM64 */
enum pybcc_signed pybcc_signed_value = PYBCC_NEG;           /* ENUM, signed */
int __attribute__((btf_type_tag("pybcc"))) *pybcc_tagged;   /* TYPE_TAG */
u64 hits __attribute__((btf_decl_tag("pybcc_counter")));    /* DECL_TAG */
u64 big_seen;

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_kinds(void *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	big_seen = pybcc_big_value;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
