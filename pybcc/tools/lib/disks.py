"""Block devices by name and by number, for tools' disk filters and columns."""
import argparse
import os


def disk_devt(name):
    """(major, minor) of /dev/NAME, or None when there is no such block device."""
    path = name if name.startswith("/") else os.path.join("/dev", name)
    try:
        st = os.stat(path)
    except OSError:
        return None
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def disk_arg(text):
    """An argparse type for -d/--disk: the disk's (major, minor), or a
    one-line error when there is no such block device."""
    devt = disk_devt(text)
    if devt is None:
        raise argparse.ArgumentTypeError(f"no such disk '{text}'")
    return devt


def disk_name(major, minor):
    """The kernel's name for a block device number ("vda", "nvme0n1p2"), or ""."""
    try:
        with open(f"/sys/dev/block/{major}:{minor}/uevent") as f:
            for line in f:
                if line.startswith("DEVNAME="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def devt_split(dev):
    """The kernel's internal dev_t (12-bit major, 20-bit minor) as (major, minor)."""
    return dev >> 20, dev & ((1 << 20) - 1)
