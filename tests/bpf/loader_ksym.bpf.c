// Untyped __ksym externs resolve through /proc/kallsyms (weak ones to 0).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
extern const void bpf_prog_active __ksym __weak;
extern const void schedule __ksym;
u64 seen_active = 1, seen_sched, seen_rq_cpu = 99;
SEC("raw_tp/sys_enter")
int k(void *ctx) {
  seen_active = (u64)&bpf_prog_active;
  seen_sched = (u64)&schedule;
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
