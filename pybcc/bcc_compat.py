"""Run scripts written for bcc: ``pybcc run SCRIPT [ARGS]``.

`import bcc`, `from bcc import BPF`, `from bcc.utils import printb`, ...
resolve to pybcc.bcc (a meta path finder maps every bcc.X to pybcc.bcc.X),
then the script runs as __main__ with sys.argv = [SCRIPT, ARGS...].
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

from .errors import BPFError

TARGET = "pybcc.bcc"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module):
        # The import system stamped the alias spec on the module: undo that,
        # the module stays pybcc.bcc.X (sys.modules holds it under both names).
        module.__spec__ = self._own_spec


class BccFinder(importlib.abc.MetaPathFinder):
    """bcc and bcc.X are pybcc.bcc and pybcc.bcc.X."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "bcc" and not fullname.startswith("bcc."):
            return None
        real = TARGET + fullname[3:]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real),
                                               is_package=fullname == "bcc")


def install():
    """Make `import bcc` give pybcc.bcc in this process (idempotent)."""
    for name in [n for n in sys.modules if n == "bcc" or n.startswith("bcc.")]:
        if not getattr(sys.modules[name], "__name__", "").startswith(TARGET):
            del sys.modules[name]          # a real bcc imported earlier: ours wins
    if not any(isinstance(f, BccFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, BccFinder())


def _mount_debugfs():
    """bcc scripts read /sys/kernel/debug/tracing (older ones hard-code it,
    and it holds the kprobe blacklist): mount debugfs as bcc's setup has it."""
    path = "/sys/kernel/debug"
    if os.geteuid() != 0 or not os.path.isdir(path) or os.path.ismount(path):
        return
    import subprocess
    subprocess.run(["mount", "-t", "debugfs", "debugfs", path],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def run_script(argv):
    """Run a bcc script with its arguments; returns the exit status."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: pybcc run SCRIPT [ARGS...]\n"
              "Runs a script written for bcc (from bcc import BPF) on pybcc.")
        return 0 if argv else 2
    script = argv[0]
    if not os.path.exists(script):
        print(f"pybcc run: {script}: no such file", file=sys.stderr)
        return 2
    install()
    _mount_debugfs()
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except BPFError as e:
        # What the kernel or the compiler refused, said once (a kernel that
        # lacks a feature names the alternative); PYBCC_DEBUG=1 shows where.
        if os.environ.get("PYBCC_DEBUG"):
            raise
        print(f"{os.path.basename(script)}: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    return 0
