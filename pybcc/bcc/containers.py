"""bcc.containers: C text that lets a tool skip events from processes
outside chosen containers, by cgroup id (--cgroupmap PATH) or mount
namespace (--mntnsmap PATH). Both paths name pinned BPF hash maps that the
user filled (keys: cgroup ids, u64; mount namespace inode numbers, u64).

The tool's C calls container_should_be_filtered(), non-zero meaning "skip".
"""
from .text import as_str

_NO_CGROUP_FILTER = """
static inline int _cgroup_filter(void) { return 0; }
"""

_CGROUP_FILTER = """
BPF_TABLE_PINNED("hash", u64, u64, cgroupset, 1024, "%s");

static inline int _cgroup_filter(void)
{
    u64 id = bpf_get_current_cgroup_id();
    return cgroupset.lookup(&id) == NULL;
}
"""

_NO_MNTNS_FILTER = """
static inline int _mntns_filter(void) { return 0; }
"""

# The kernel's BTF (vmlinux.h) knows struct mnt_namespace, so no private
# copy of it is needed.
_MNTNS_FILTER = """
BPF_TABLE_PINNED("hash", u64, u32, mount_ns_set, 1024, "%s");

static inline int _mntns_filter(void)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct nsproxy *nsproxy = NULL;
    struct mnt_namespace *mnt_ns = NULL;
    unsigned int inum = 0;
    u64 ns_id;

    if (bpf_probe_read_kernel(&nsproxy, sizeof(nsproxy), &task->nsproxy) || !nsproxy)
        return 0;
    if (bpf_probe_read_kernel(&mnt_ns, sizeof(mnt_ns), &nsproxy->mnt_ns) || !mnt_ns)
        return 0;
    if (bpf_probe_read_kernel(&inum, sizeof(inum), &mnt_ns->ns.inum))
        return 0;
    ns_id = inum;
    return mount_ns_set.lookup(&ns_id) == NULL;
}
"""

_ENTRY = """
static inline int container_should_be_filtered(void)
{
    return _cgroup_filter() || _mntns_filter();
}
"""


def _c_string(path):
    return as_str(path).replace("\\", "\\\\").replace('"', '\\"')


def filter_by_containers(args):
    """The C text for ``args.cgroupmap`` / ``args.mntnsmap`` (either may be
    None): define container_should_be_filtered()."""
    cgroupmap = getattr(args, "cgroupmap", None)
    mntnsmap = getattr(args, "mntnsmap", None)
    text = _CGROUP_FILTER % _c_string(cgroupmap) if cgroupmap else _NO_CGROUP_FILTER
    text += _MNTNS_FILTER % _c_string(mntnsmap) if mntnsmap else _NO_MNTNS_FILTER
    return text + _ENTRY
