"""Where tests keep what they download or build for themselves.

Kept across sessions (a foreign kernel's BTF is a 70 MB download), and apart
from pybcc's own cache, which conftest.py points at a temporary directory.
"""
import os


def data_dir(*parts):
    """$PYBCC_TEST_DATA/parts..., default /var/cache/pybcc-test/parts..., created."""
    d = os.path.join(os.environ.get("PYBCC_TEST_DATA") or "/var/cache/pybcc-test", *parts)
    os.makedirs(d, mode=0o700, exist_ok=True)
    return d
