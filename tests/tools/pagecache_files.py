"""Files whose pages the page cache tools' tests read cold and warm."""
import os

PAGE = os.sysconf("SC_PAGE_SIZE")


def make_file(path, mb):
    """A file of ``mb`` MiB on disk; returns its size in pages."""
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1 << 20))
        f.flush()
        os.fsync(f.fileno())
    return mb * (1 << 20) // PAGE


def drop_pages(path):
    """Evict the (clean) file's pages from the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 17):
            pass
