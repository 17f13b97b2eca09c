"""pybcc: the BPF Compiler Collection in Python."""
from .errors import (AttachError, BPFError, CompileError, LoadError, MapError,  # noqa: F401
                     NotSupportedError, VerifierError)

__version__ = "0.1.0"
