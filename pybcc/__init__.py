"""pybcc: the BPF Compiler Collection in Python."""
from .errors import (AttachError, BPFError, CompileError, LoadError, MapError,  # noqa: F401
                     NotSupportedError, VerifierError)

__version__ = "0.1.0"


def __getattr__(name):
    # `from pybcc import BPF` (bcc's API) without making every `import
    # pybcc` (the tools, the loader) pay for importing the bcc layer.
    if name in ("BPF", "USDT"):
        from . import bcc
        return getattr(bcc, name)
    raise AttributeError(f"module 'pybcc' has no attribute {name!r}")
