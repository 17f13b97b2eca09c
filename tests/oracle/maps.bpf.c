// Every common map type, used from programs: hash, array, percpu, lru, lpm,
// ringbuf, perf event array, stack trace, prog array with tail calls, array
// and hash of maps, queue, stack, bloom filter, task storage.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct val { u64 a, b; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64);
	 __type(key, u32); __type(value, struct val); } m_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4);
	 __type(key, u32); __type(value, u64); } m_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 64);
	 __type(key, u32); __type(value, u64); } m_pcpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 2);
	 __type(key, u32); __type(value, struct val); } m_pcpu_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 64);
	 __type(key, u64); __type(value, u64); } m_lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 64);
	 __type(key, u64); __type(value, u64); } m_lru_pcpu SEC(".maps");

struct lpm_key { u32 prefixlen; u32 addr; };
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 16);
	 __type(key, struct lpm_key); __type(value, u32);
	 __uint(map_flags, BPF_F_NO_PREALLOC); } m_lpm SEC(".maps");

struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } m_ringbuf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	 __uint(key_size, sizeof(u32)); __uint(value_size, sizeof(u32)); } m_perf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(max_entries, 128);
	 __uint(key_size, sizeof(u32)); __uint(value_size, 127 * sizeof(u64)); } m_stacks SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 16);
	 __type(value, u64); } m_queue SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __uint(max_entries, 16);
	 __type(value, u64); } m_stack SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 64);
	 __type(value, u32); __uint(map_extra, 3); } m_bloom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_TASK_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC);
	 __type(key, int); __type(value, u64); } m_task SEC(".maps");

struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1);
	       __type(key, u32); __type(value, u64); } inner1 SEC(".maps"), inner2 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 2);
	 __type(key, u32); __array(values, struct inner); } m_aom SEC(".maps") = {
	.values = { &inner1, &inner2 },
};
struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, 2);
	 __type(key, u32); __array(values, struct inner); } m_hom SEC(".maps") = {
	.values = { [1] = &inner2 },
};

SEC("tp_btf/sys_enter")
int BPF_PROG(tail_a, struct pt_regs *regs, long id)
{
	return 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(tail_b, struct pt_regs *regs, long id)
{
	return 2;
}

struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4);
	 __type(key, u32); __array(values, int (void *)); } m_progs SEC(".maps") = {
	.values = { [0] = (void *)&tail_a, [2] = (void *)&tail_b },
};

struct event { u32 pid; char comm[16]; };

SEC("tp_btf/sys_enter")
int BPF_PROG(use_maps, struct pt_regs *regs, long id)
{
	u32 k = bpf_get_current_pid_tgid() >> 32, zero = 0;
	u64 key64 = k, one = 1, *p;
	struct val v = { 1, 2 }, *vp;
	struct lpm_key lk = { 32, k };
	struct event *e;
	void *inner;

	bpf_map_update_elem(&m_hash, &k, &v, BPF_ANY);
	if ((vp = bpf_map_lookup_elem(&m_hash, &k)))
		vp->a++;
	if ((p = bpf_map_lookup_elem(&m_array, &zero)))
		__sync_fetch_and_add(p, 1);
	bpf_map_update_elem(&m_pcpu_hash, &k, &one, BPF_NOEXIST);
	if ((vp = bpf_map_lookup_elem(&m_pcpu_array, &zero)))
		vp->b += id;
	bpf_map_update_elem(&m_lru, &key64, &one, BPF_ANY);
	bpf_map_update_elem(&m_lru_pcpu, &key64, &one, BPF_ANY);
	bpf_map_lookup_elem(&m_lpm, &lk);
	bpf_map_push_elem(&m_queue, &key64, BPF_EXIST);
	bpf_map_push_elem(&m_stack, &key64, BPF_EXIST);
	bpf_map_pop_elem(&m_queue, &key64);
	bpf_map_peek_elem(&m_stack, &key64);
	bpf_map_push_elem(&m_bloom, &k, BPF_ANY);
	if (bpf_map_peek_elem(&m_bloom, &k) == 0)
		one++;
	if ((p = bpf_task_storage_get(&m_task, bpf_get_current_task_btf(), 0,
				      BPF_LOCAL_STORAGE_GET_F_CREATE)))
		*p += one;
	if ((inner = bpf_map_lookup_elem(&m_aom, &zero)) && (p = bpf_map_lookup_elem(inner, &zero)))
		*p += 1;
	zero = 1;
	if ((inner = bpf_map_lookup_elem(&m_hom, &zero)) && (p = bpf_map_lookup_elem(inner, &k)))
		*p += 1;
	v.a = bpf_get_stackid(ctx, &m_stacks, 0);
	if ((e = bpf_ringbuf_reserve(&m_ringbuf, sizeof(*e), 0))) {
		e->pid = k;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
	bpf_perf_event_output(ctx, &m_perf, BPF_F_CURRENT_CPU, &v, sizeof(v));
	bpf_tail_call(ctx, &m_progs, id & 3);
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_tail_user(struct bpf_raw_tracepoint_args *ctx)
{
	u32 zero = 0;
	struct val *vp = bpf_map_lookup_elem(&m_pcpu_array, &zero);

	if (vp)
		vp->a = bpf_get_stackid(ctx, &m_stacks, BPF_F_USER_STACK);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
