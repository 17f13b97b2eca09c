import os
import subprocess

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


@pytest.fixture
def pty():
    """(master fd, slave fd, slave path) of a new pseudo-terminal."""
    master, slave = os.openpty()
    os.set_blocking(master, False)
    yield master, slave, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def drain(master):
    try:
        while os.read(master, 65536):
            pass
    except BlockingIOError:
        pass


def test_ttysnoop_shows_what_is_written_to_the_pts(pty):
    """The pts number shortcut; a write of our own and one of a child
    (through its own open of the device); nothing from another pts."""
    master, slave, path = pty
    other_master, other_slave = os.openpty()
    try:
        with RunningTool("ttysnoop", "-C", path.rsplit("/", 1)[1], ready="Hit Ctrl-C") as t:
            os.write(slave, b"hello from pybcc's ttysnoop test\n")
            os.write(other_slave, b"not this one\n")
            subprocess.run(["sh", "-c", f"printf 'child line\\n' > {path}"], check=True)
            drain(master)
            assert t.wait_for(lambda ln: ln == "child line", 10), t.stdout
    finally:
        os.close(other_master)
        os.close(other_slave)
    assert t.lines == ["hello from pybcc's ttysnoop test", "child line"], t.lines


def test_ttysnoop_json_data_size_and_count(pty):
    """-s 16 -c 2: a 100-byte write shows as two chunks of 16 bytes."""
    master, slave, path = pty
    data = bytes(range(48, 48 + 100))       # printable, no newline
    with RunningTool("ttysnoop", "--json", "-s", "16", "-c", "2", path, ready="Hit Ctrl-C") as t:
        os.write(slave, data)
        os.write(slave, b"short\n")
        drain(master)
        t.wait_for(lambda ln: "short" in ln, 10)
    chunks = [o["data"] for o in t.json_records()]
    assert chunks == [data[:16].decode(), data[16:32].decode(), "short\n"], chunks


def test_ttysnoop_clears_the_screen_unless_told_not_to(pty):
    master, slave, path = pty
    with RunningTool("ttysnoop", path, ready="Hit Ctrl-C") as t:
        os.write(slave, b"after the clear\n")
        drain(master)
        t.wait_for(lambda ln: "after the clear" in ln, 10)
    assert t.lines[0] == "\033[H\033[2Jafter the clear", t.lines


def test_ttysnoop_unrolled_twin_sends_the_same_chunks(pty):
    """The program for kernels without bpf_loop(): -s 16 -c 2 as above."""
    import sys
    import time
    from pybcc.tools.lib.runtime import Tool
    from pybcc.tools.ttysnoop import kernel_dev
    master, slave, path = pty
    st = os.stat(path)
    data = bytes(range(48, 48 + 100))
    got = []
    with Tool("ttysnoop", {"target_ino": st.st_ino, "target_dev": kernel_dev(st.st_dev),
                           "datasize": 16, "datacount": 2}, events=True) as tool:
        tool.attach("write_enter_unrolled")
        tool.open_events(lambda d: got.append(bytes(d[4:4 + int.from_bytes(d[:4], sys.byteorder)])))
        os.write(slave, data)
        os.write(slave, b"short\n")
        drain(master)
        deadline = time.monotonic() + 10
        while len(got) < 3 and time.monotonic() < deadline:
            tool.poll(100)
    assert got == [data[:16], data[16:32], b"short\n"], got


@pytest.mark.parametrize("args", [["/dev/nonexistent-tty"], ["99999"], ["-s", "0", "0"],
                                  ["-c", "99999", "0"]])
def test_ttysnoop_bad_input_is_one_line(args):
    bad_input("ttysnoop", *args)
