"""What an object needs to know about the running kernel, remembered.

Also kept: the object's BTF as rewritten for this kernel (sanitize.py), so a
warm start loads it without rebuilding the blob.

Resolving CO-RE relocations and finding kernel type ids needs the kernel's
BTF, which costs about a second to parse. The answers depend only on the
object and on the kernel that is running, so they are kept on disk per
(object digest, boot) and a warm start does not parse the kernel BTF at all.
"""
import os

from .. import cache
from ..btf import BTF
from ..cache import kernel_identity


class KernelMemo:
    """Kernel type ids and CO-RE patches for one object, from disk when known.

    ``btf`` is the kernel BTF, parsed only when an answer is missing.
    Passing an explicit ``btf`` (a foreign kernel's) disables the memo."""

    def __init__(self, object_digest, btf=None):
        self._btf = btf
        self._memo_btf = btf is None     # the running kernel's, not a foreign one
        self.path = None
        self.data = {"ids": {}, "core": {}}
        self.dirty = False
        ident = kernel_identity() if btf is None and object_digest else None
        if ident:
            key = cache.sha256(f"{object_digest}:{ident}".encode()).hexdigest()
            try:
                self.path = os.path.join(cache.private_dir("kernel-memo"),
                                         f"{cache.kernel_tag()}-{key}.memo")
            except OSError:
                self.path = None    # an unusable cache only costs time
            stored = cache.read_memo(self.path) if self.path else None
            if isinstance(stored, dict):
                self.data.update(stored)

    @property
    def btf(self):
        if self._btf is None:
            self._btf = BTF.kernel()
        return self._btf

    @property
    def core_targets(self):
        """What CO-RE resolves against: the kernel's BTF, then its modules'
        (parsed only if the kernel's has no candidate); a foreign BTF alone."""
        if self._btf is not None and not self._memo_btf:
            return self._btf
        from ..kernel.module_btf import KernelTargets
        return KernelTargets(self.btf)

    def attach_target(self, name, kinds):
        """(module or None, type id) of the function or tracepoint type a
        tracing program attaches to: in vmlinux, else in a module; None if none."""
        key = f"attach:{','.join(map(str, kinds))}:{name}"
        if key not in self.data["ids"]:
            if self._memo_btf or self._btf is None:
                from ..kernel import module_btf
                found = module_btf.find(name, tuple(kinds), self.btf)
            else:
                t = self._btf.find_all(name, tuple(kinds))
                found = (None, t[0].id) if t else None
            self.data["ids"][key] = list(found) if found else None
            self.dirty = True
        found = self.data["ids"][key]
        return tuple(found) if found else None

    def type_id(self, name, kinds):
        """The first kernel BTF type id named ``name`` of ``kinds``; None if none."""
        key = f"{','.join(map(str, kinds))}:{name}"
        if key not in self.data["ids"]:
            found = self.btf.find_all(name, tuple(kinds))
            self.data["ids"][key] = found[0].id if found else None
            self.dirty = True
        return self.data["ids"][key]

    def core_patches(self, section):
        return self.data["core"].get(section)

    def set_core_patches(self, section, patches):
        self.data["core"][section] = [list(p) for p in patches]
        self.dirty = True

    def btf_blob(self):
        """The object's BTF as this kernel takes it (see sanitize.py), or None."""
        blob = self.data.get("btf")
        return blob if isinstance(blob, bytes) else None

    def set_btf_blob(self, data):
        self.data["btf"] = bytes(data)
        self.dirty = True

    def save(self):
        if self.dirty and self.path:
            try:
                cache.write_memo(self.path, self.data)
            except OSError:
                pass
            self.dirty = False
