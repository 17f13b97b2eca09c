"""Event records decoded from the object's BTF follow the C struct.

The C side of a tool is the only declaration of its event layout. This test
compiles the kill(2) programs (sigsnoop's object, which killsnoop runs) as
they are and with their struct changed (members inserted before and between
the others, one widened), runs both against a real kill(2), and checks that
the decoder reads the same values out of the two different layouts.
"""
import os
import re
import subprocess
import time

import pytest

from pybcc import compiler, loader
from pybcc.events import RingBuffer
from pybcc.events.records import RecordError, record_type
from pybcc.tools.lib.prebuilt import INCLUDE_DIR, TOOLS_DIR

pytestmark = pytest.mark.usefixtures("root")


def _kill_source(change_struct):
    with open(os.path.join(TOOLS_DIR, "sigsnoop.bpf.c")) as f:
        src = f.read()
    if change_struct:
        src, n = re.subn(r"struct event \{\n", "struct event {\n    char note[5];\n    u64 extra;\n",
                         src, count=1)
        assert n == 1, "sigsnoop.bpf.c has no 'struct event {'"
        src, n = re.subn(r"(\n\s*)s32 sig;", r"\1u16 gap;\1s64 sig;", src, count=1)
        assert n == 1, "sigsnoop's struct event has no 's32 sig;'"
    return src


def _one_kill_event(src):
    obj = compiler.compile(src, include_dirs=[INCLUDE_DIR], filename="sigsnoop-variant.bpf.c")
    target = subprocess.Popen(["sleep", "30"])
    coll = loader.load(obj, constants={"use_ringbuf": True, "filtered_pid": os.getpid()}, programs=[])
    links, got = [], []
    try:
        for prog in ("kill_entry", "kill_return"):
            links.append(coll.load_program(prog).attach())
        record = record_type(coll.spec.btf, "event")
        reader = RingBuffer(coll.map_fds["events_rb"], lambda data: got.append(record.decode(data)))
        os.kill(target.pid, 0)   # signal 0: checks the target, delivers nothing
        deadline = time.time() + 5
        while not got and time.time() < deadline:
            reader.poll(100)
        reader.close()
        return record, got, target.pid
    finally:
        for link in links:
            link.close()
        coll.close()
        target.kill()
        target.wait()


@pytest.mark.parametrize("change_struct", [False, True], ids=["as-is", "changed-struct"])
def test_decoder_follows_the_struct_in_c(change_struct):
    record, got, target_pid = _one_kill_event(_kill_source(change_struct))
    assert got, "no event from kill(2)"
    e = got[0]
    assert (e.pid, e.tpid, e.sig, e.ret) == (os.getpid(), target_pid, 0, 0)
    assert e.comm and b"\0" not in e.comm
    if change_struct:
        assert record.fields[:2] == ["note", "extra"] and "gap" in record.fields
        assert record.size > 32


def test_missing_struct_names_the_fix(tmp_path):
    from pybcc import elf_reader as elf_object
    obj = compiler.compile(_kill_source(False), include_dirs=[INCLUDE_DIR])
    with pytest.raises(RecordError, match="PYBCC_RECORD"):
        record_type(elf_object.load_spec(obj).btf, "no_such_record")
