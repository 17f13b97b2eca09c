"""Moved to pybcc.autoattach (it sits above attach/ and usdt/).

TODO(lead): loader.Program.attach imports this name; once loader.py imports
pybcc.autoattach directly, delete this file.
"""
from ..autoattach import attach_program, syscall_function  # noqa: F401
