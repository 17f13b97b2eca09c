"""libbpf-tools' -c/--cgroup PATH: trace only tasks in a cgroup v2 subtree.
The BPF side (blockio.h's in_cgroup) compares the current task's ancestor
cgroup id at the path's level with the path's id."""
import argparse
import os


def _cgroup2_mounts():
    with open("/proc/mounts") as f:
        return [line.split()[1] for line in f if line.split()[2:3] == ["cgroup2"]]


def cgroup_arg(text):
    """An argparse type: (cgroup id, level) of a cgroup v2 directory."""
    path = os.path.realpath(text)
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"no such cgroup directory '{text}'")
    roots = [m for m in _cgroup2_mounts() if path == m or path.startswith(m.rstrip("/") + "/")]
    if not roots:
        raise argparse.ArgumentTypeError(f"'{text}' is not in a cgroup v2 hierarchy")
    rel = os.path.relpath(path, max(roots, key=len))
    level = 0 if rel == "." else len(rel.split(os.sep))
    return os.stat(path).st_ino, level


def cgroup_constants(cgroup):
    """The BPF constants for a cgroup_arg() value (or None: no filter)."""
    if cgroup is None:
        return {}
    return {"filter_cg": True, "targ_cgid": cgroup[0], "targ_cglevel": cgroup[1]}
