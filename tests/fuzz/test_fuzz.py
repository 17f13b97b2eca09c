"""Short fuzz runs of every reader of untrusted input (benchmarks/fuzz runs
them longer), the inputs earlier runs found, and a few hand-made ones."""
import copy
import os
import struct

import pytest

import runner
import seeds
import targets
from pybcc.errors import BPFError, FormatError, LoadError

SECONDS = float(os.environ.get("PYBCC_FUZZ_SECONDS", "3"))


@pytest.fixture(scope="module", autouse=True)
def _seeds():
    if not os.path.exists(os.path.join(seeds.PREBUILT, "execsnoop.bpf.o")):
        pytest.skip("no tool objects: run python3 -m pybcc.tools.lib.prebuilt")


@pytest.mark.parametrize("name", [t.name for t in targets.TARGETS])
def test_short_fuzz_run(name):
    stats = runner.fuzz(targets.BY_NAME[name], SECONDS)
    assert stats["executions"] > 0
    assert not stats["findings"], "\n".join(f"{f['error']} at {f['where']}" for f in stats["findings"])


@pytest.mark.parametrize("name", [t.name for t in targets.TARGETS])
def test_regression_inputs(name):
    target = targets.BY_NAME[name]
    for fn, value in targets.regression_inputs(target):
        target.run(value)   # raises on a finding; typed errors are fine


# Hand-made inputs for findings of the first runs (each was a crash or a hang).
def _elf64_header(shoff=0, shentsize=64, shnum=0, phoff=0, phentsize=56, phnum=0):
    return struct.pack("<4sBBBB8sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, b"", 3, 62, 1, 0,
                       phoff, shoff, 0, 64, phentsize, phnum, shentsize, shnum, 0)


@pytest.mark.parametrize("data", [
    b"\x7fELF\x02\x01\x01" + b"\0" * 50,                 # 64-bit header cut short
    _elf64_header(shoff=64, shentsize=0, shnum=0) + b"\0" * 64,   # 0-byte section headers: was a hang
    _elf64_header(shoff=64, shentsize=8, shnum=2) + b"\0" * 64,   # headers smaller than the record
    _elf64_header(phoff=64, phentsize=4, phnum=2) + b"\0" * 64,
])
def test_elf_reader_rejects(data):
    from pybcc.symbols.elf import ElfFile
    with pytest.raises(FormatError):
        ElfFile(data)


@pytest.mark.parametrize("data", [b"", b"\x9f", b"\x00\x00" + b"\0" * 30])
def test_btf_rejects_short_or_foreign(data):
    from pybcc.btf import BTF
    with pytest.raises(FormatError):
        BTF.parse(data)


def test_btf_rejects_unterminated_strings_and_unknown_kinds():
    from pybcc.btf import BTF
    blob = seeds.btf_blobs()["bitesize"]
    with pytest.raises(FormatError, match="NUL"):
        BTF.parse(blob[:-1] + b"x")
    hdr_len = struct.unpack_from("<I", blob, 4)[0]
    bad = bytearray(blob)
    struct.pack_into("<I", bad, hdr_len + 4, 31 << 24)      # first type: kind 31
    with pytest.raises(FormatError, match="unknown kind"):
        BTF.parse(bytes(bad))


def test_btf_loop_is_an_error_not_a_hang():
    from pybcc.btf import BTF, types as bt
    btf = BTF([bt.Type(1, bt.CONST, ref=2), bt.Type(2, bt.VOLATILE, ref=1)])
    with pytest.raises(FormatError, match="loop"):
        btf.strip(1)
    ptr = BTF([bt.Type(1, bt.PTR, ref=1)])
    with pytest.raises(FormatError, match="loop"):
        ptr.type_name(1)
    with pytest.raises(FormatError):
        ptr[7]


def test_btf_ext_rejects_short():
    from pybcc.btf.ext import BTFExt
    with pytest.raises(FormatError):
        BTFExt.parse(b"\x9f\xeb", seeds.specs()["bitesize"].btf)


def test_object_rejects_bad_section_offsets():
    from pybcc import elf_reader as objmod
    data = bytearray(seeds.objects()["bitesize"])
    struct.pack_into("<Q", data, 0x28, 1 << 62)             # e_shoff far past the end
    with pytest.raises(LoadError):
        objmod.load_spec(bytes(data), "bad.o")


@pytest.mark.parametrize("text", ["ID: \n", "ID: 12x\n",
                                  "\tfield:;\toffset:0;\tsize:4;\tsigned:0;\n"])
def test_tracefs_format_rejects(text):
    from pybcc.kernel import tracefs
    with pytest.raises(FormatError):
        tracefs.parse_format(text)


def test_codec_rejects_a_short_record():
    from pybcc.maps.codec import btf_codec
    spec = seeds.specs()["execsnoop"]
    t = next(t for t in spec.btf.own_types if t.name == "task_struct" or t.size >= 16)
    codec = btf_codec(spec.btf, t.id)
    with pytest.raises(FormatError):
        codec.decode(b"\0" * (codec.size - 1))


def test_dialect_unbalanced_probe_body_is_an_error_not_a_hang():
    from pybcc.bcc.dialect import rewrite
    text = "TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {)\n return 0;\n}\n"
    with targets.deadline(), pytest.raises(BPFError, match="unbalanced"):
        rewrite(text, implicit_reads=False, use_cache=False)


def test_core_against_the_cut_kernel_btf_matches_the_full_one():
    """The cut-down seed keeps every type the relocations need: relocating
    against it gives the very patches the whole kernel BTF gives."""
    from pybcc.btf import BTF, core
    cut = BTF.parse(seeds.kernel_btf_cut())
    for name, spec in seeds.specs().items():
        for sec, relos in seeds.core_relos(spec).items():
            a = core.relocate(copy.deepcopy(spec.sections[sec].insns), relos, spec.btf, cut, section=sec)
            b = core.relocate(copy.deepcopy(spec.sections[sec].insns), relos, spec.btf,
                              BTF.kernel(), section=sec)
            assert core.patches(a) == core.patches(b), (name, sec)


def test_deadline_counts_cpu_time_not_waiting():
    """A spinning reader is a hang; one waiting (for clang, on a loaded
    machine) is not, until the wall-clock backstop."""
    import time
    with pytest.raises(targets.Hang, match="CPU time"):
        with targets.deadline(0.3):
            while True:
                pass
    with targets.deadline(0.3):
        time.sleep(0.6)
    with pytest.raises(targets.Hang, match="no result after 3 s"):
        with targets.deadline(0.3):
            time.sleep(10)
