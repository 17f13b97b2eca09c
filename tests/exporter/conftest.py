import os

import pytest


@pytest.fixture(scope="package", autouse=True)
def exporter_cache_dir(tmp_path_factory):
    """A private object cache for the exporter tests (never /var/cache/pybcc),
    restored when they are done so other test directories keep theirs."""
    old = os.environ.get("PYBCC_CACHE_DIR")
    os.environ["PYBCC_CACHE_DIR"] = str(tmp_path_factory.mktemp("pybcc-cache"))
    yield os.environ["PYBCC_CACHE_DIR"]
    if old is None:
        del os.environ["PYBCC_CACHE_DIR"]
    else:
        os.environ["PYBCC_CACHE_DIR"] = old
