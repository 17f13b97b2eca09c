"""Kernel function names for kprobes on the VFS (vfsstat, filegone) where a
build moved the calls away from the function bcc probes."""


def rmdir_function():
    """Where a kprobe sees every rmdir: vfs_rmdir, or its split-off body
    vfs_rmdir.part.0 where GCC made one (Debian's 5.10: do_rmdir has
    vfs_rmdir's checks inlined and calls vfs_rmdir.part.0, with the same
    (dir, dentry) arguments, itself; vfs_rmdir's own kprobe saw no rmdir(2)
    outside overlayfs). The part runs once the checks passed."""
    from ...symbols import kernel_symbols
    split = "vfs_rmdir.part.0"
    return split if kernel_symbols().address(split) is not None else "vfs_rmdir"
