"""Local storage maps: values attached to a task, socket, inode or cgroup,
addressed from user space by an fd of that object (a pidfd for tasks,
os.pidfd_open(pid)). The kernel offers no iteration over them."""
from .fdmaps import fd_of
from .map import HashMap


class LocalStorageMap(HashMap):

    def _encode_key(self, key):
        return self.key_codec.encode(fd_of(key))

    def _no_iteration(self, *args, **kwargs):
        raise TypeError(f"map {self.name!r}: local storage cannot be iterated; "
                        "look elements up by the owner's fd")

    __iter__ = keys = items = values = __len__ = clear = lookup_batch = pop_all = _no_iteration
