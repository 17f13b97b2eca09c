"""The check every tool's bad-input tests make: one clear line, no traceback."""


def assert_one_line_error(r, message, code=2):
    """``r`` (a finished run_tool) failed with ``code`` and said ``message`` in
    one line on stderr."""
    assert r.returncode == code, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
