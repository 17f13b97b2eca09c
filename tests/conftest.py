import os
import subprocess

import pytest


def pytest_configure(config):
    if os.geteuid() == 0:
        for fs, path in (("tracefs", "/sys/kernel/tracing"), ("bpf", "/sys/fs/bpf")):
            if subprocess.run(["mountpoint", "-q", path]).returncode != 0:
                subprocess.run(["mount", "-t", fs, fs, path], check=False)


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2)")
