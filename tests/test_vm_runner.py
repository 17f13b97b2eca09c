"""Host-side checks of the VM test runner (scripts/vm-tests.sh); no VM boots."""
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS = ["scripts/vm-tests.sh", "scripts/vmtest/vmtest.sh", "scripts/vmtest/vmtest-setup.sh",
           "scripts/vm-arm64.sh", "scripts/arm64-kernel.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_parses_and_is_executable(script):
    path = ROOT / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    r = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_vm_marker_declared():
    assert '"vm:' in (ROOT / "pyproject.toml").read_text()
