"""One exception hierarchy for everything pybcc raises about BPF.

Each message says what failed, on which object (map, program, probe, line)
and, where there is one, what to do instead.
"""
import errno as _errno
import os


class BPFError(OSError):
    """A BPF operation failed. ``errno`` is set when the kernel said why."""

    def __init__(self, message, err=0):
        super().__init__(err, message)
        self.message = message

    def __str__(self):
        if self.errno:
            return f"{self.message}: {os.strerror(self.errno)} ({_errno.errorcode.get(self.errno, self.errno)})"
        return self.message


class CompileError(BPFError):
    """The C compiler rejected the program. ``line`` is the user's line, when known."""

    def __init__(self, message, output="", filename=None, line=None):
        super().__init__(message)
        self.output = output
        self.filename = filename
        self.line = line


class VerifierError(BPFError):
    """The kernel verifier rejected a program; ``log`` is its whole log."""

    def __init__(self, message, log="", err=0, insn=None, source_line=None):
        super().__init__(message, err)
        self.log = log
        self.insn = insn
        self.source_line = source_line

    def __str__(self):
        text = self.message
        if self.log:
            tail = "\n".join(self.log.rstrip().splitlines()[-30:])
            text += "\nverifier log (last lines):\n" + tail
        return text


class LoadError(BPFError):
    """An object could not be turned into kernel objects (maps, BTF, relocations)."""


class AttachError(BPFError):
    """A program could not be attached to its event."""


class NotSupportedError(BPFError):
    """The running kernel lacks a feature. The message names it and the alternative."""

    def __init__(self, message, feature=None, alternative=None, err=0):
        if alternative:
            message = f"{message}; use {alternative} instead"
        super().__init__(message, err)
        self.feature = feature
        self.alternative = alternative


class MapError(BPFError):
    """A map operation failed for a reason other than a missing key."""


class FormatError(BPFError, ValueError):
    """Input data (ELF, BTF, .BTF.ext, notes, format files, records) is malformed.
    Also a ValueError, so callers that catch ValueError keep working."""
