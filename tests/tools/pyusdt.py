"""A python3.11 child whose USDT probes (function__entry/__return, line) the
tool tests trace: Debian's interpreter is built with them."""
import os
import subprocess

import pytest

PYTHON = "/usr/bin/python3.11"


def python_calling(function, seconds=30):
    """A child calling ``function`` (defined at line 2, returning at line 3)
    100 times a second for ``seconds``; skips when there is no such python."""
    from pybcc import usdt
    if not os.path.exists(PYTHON) or not any(
            p.name == "function__entry" for p in usdt.list_probes(PYTHON)):
        pytest.skip(f"no {PYTHON} built with USDT probes")
    caller = (f"import time\ndef {function}():\n    return 1\nt = time.time() + {seconds}\n"
              f"while time.time() < t:\n    {function}(); time.sleep(0.01)\n")
    return subprocess.Popen([PYTHON, "-c", caller])
