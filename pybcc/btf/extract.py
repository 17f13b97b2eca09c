"""Get raw BTF out of a kernel image: bzImage (vmlinuz), ELF vmlinux or raw BTF."""
import bz2
import io
import lzma
import shutil
import struct
import subprocess
import zlib

BTF_MAGIC = (b"\x9f\xeb", b"\xeb\x9f")
ELF_MAGIC = b"\x7fELF"

# Compressed payload formats a bzImage may carry, by their leading bytes.
_FORMATS = [
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b\x08", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\x5d\x00\x00", "lzma"),
]


def _decompress(data, kind):
    """Decompress one payload; the data may be followed by trailing bytes."""
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if kind == "lzma":
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(data)
    if kind == "gzip":
        return zlib.decompressobj(31).decompress(data)
    if kind == "bzip2":
        return bz2.BZ2Decompressor().decompress(data)
    # No stdlib module for these: use the command-line tool when installed.
    tool = {"zstd": ["zstd", "-qdc"], "lz4": ["lz4", "-qdc"]}[kind]
    if not shutil.which(tool[0]):
        raise RuntimeError(f"kernel image is {kind}-compressed and `{tool[0]}` is not installed")
    # Trailing bytes after the frame make the tools fail, but the output is complete.
    return subprocess.run(tool, input=bytes(data), capture_output=True).stdout


def vmlinux_from_bzimage(data):
    """The ELF vmlinux inside a bzImage (bytes)."""
    candidates = []
    if data[0x202:0x206] == b"HdrS":
        # Boot protocol >= 2.08 says where the payload is.
        setup_sects = data[0x1F1] or 4
        payload_off, payload_len = struct.unpack_from("<II", data, 0x248)
        start = (setup_sects + 1) * 512 + payload_off
        candidates.append(start)
    for magic, _ in _FORMATS:
        pos = data.find(magic)
        while pos != -1 and len(candidates) < 64:
            candidates.append(pos)
            pos = data.find(magic, pos + 1)
    view = memoryview(data)
    errors = []
    for pos in candidates:
        for magic, kind in _FORMATS:
            if data[pos:pos + len(magic)] != magic:
                continue
            try:
                out = _decompress(view[pos:], kind)
            except (lzma.LZMAError, zlib.error, OSError, EOFError, ValueError) as e:
                errors.append(f"{kind}@{pos}: {e}")
                continue
            except RuntimeError as e:
                errors.append(str(e))
                continue
            if out[:4] == ELF_MAGIC:
                return out
    raise ValueError("no compressed ELF vmlinux found in the kernel image"
                     + (f" ({'; '.join(errors[:3])})" if errors else ""))


def btf_from_elf(data):
    """The .BTF section of an ELF file (bytes)."""
    from elftools.elf.elffile import ELFFile
    elf = ELFFile(io.BytesIO(data))
    sec = elf.get_section_by_name(".BTF")
    if sec is None:
        raise ValueError("the kernel has no .BTF section (built without CONFIG_DEBUG_INFO_BTF)")
    return sec.data()


def btf_from_vmlinuz(path):
    """Raw BTF of a kernel image file: a bzImage, an ELF vmlinux, or raw BTF."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] in BTF_MAGIC:
        return data
    if data[:4] != ELF_MAGIC:
        data = vmlinux_from_bzimage(data)
    return btf_from_elf(data)
