/* bcc's --cgroupmap / --mntnsmap filters: user space keeps copies of the
 * user's sets in cgroup_set and mntns_set (lib/containers.py), or puts the
 * user's pinned maps in their place (profile: the value types are bcc's),
 * and turns the filters on. */
#ifndef __PYBCC_CONTAINERS_H
#define __PYBCC_CONTAINERS_H

#include <bpf/bpf_helpers.h>
#include <pybcc/maps.h>
#include <bpf/bpf_core_read.h>

const volatile bool filter_cgroup = false;
const volatile bool filter_mntns = false;

HASH_MAP(cgroup_set, u64, u64, 1024);

HASH_MAP(mntns_set, u64, u32, 1024);

/* True when the current task is outside the sets being filtered on. */
static __always_inline bool container_filtered(void)
{
    if (filter_cgroup) {
        u64 id = bpf_get_current_cgroup_id();
        if (!bpf_map_lookup_elem(&cgroup_set, &id))
            return true;
    }
    if (filter_mntns) {
        struct task_struct *task = (void *)bpf_get_current_task();
        u64 inum = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
        if (!bpf_map_lookup_elem(&mntns_set, &inum))
            return true;
    }
    return false;
}

#endif
