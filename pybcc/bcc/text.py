"""bytes and str at the bcc API's edge.

bcc (Python 3) takes names as bytes or str and hands out bytes for symbol
names, paths, trace messages and comm; its scripts rely on that
(``b"x" in name``, ``name.split(b"+")``, ``.decode()``). pybcc's own API
works in str: as_str() converts arguments on the way in, as_bytes() results
on the way out.
"""
import os


def as_str(value):
    """An argument (bytes or str) as str; other values unchanged."""
    if isinstance(value, (bytes, bytearray)):
        return os.fsdecode(bytes(value))
    return value


def as_bytes(value):
    """A result (str or bytes) as bytes; None stays None."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    return os.fsencode(value)
