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


# A BTF header as the kernel build writes it: magic, version 1, flags 0, 24-byte header.
_BTF_HEADER = struct.Struct("<HBBIIIII")
_BTF_HEADER_START = b"\x9f\xeb\x01\x00\x18\x00\x00\x00"


def btf_from_raw_image(data):
    """The kernel's BTF inside an uncompressed boot Image (arm64's vmlinuz,
    which has no ELF headers): the largest well-formed BTF blob in it."""
    best = None
    pos = data.find(_BTF_HEADER_START)
    while pos != -1:
        if pos + _BTF_HEADER.size <= len(data):
            _, _, _, hdr_len, type_off, type_len, str_off, str_len = \
                _BTF_HEADER.unpack_from(data, pos)
            end = pos + hdr_len + str_off + str_len
            if type_off == 0 and str_off == type_len and end <= len(data) and str_len \
                    and data[pos + hdr_len + str_off] == 0:
                if best is None or end - pos > len(best):
                    best = data[pos:end]
        pos = data.find(_BTF_HEADER_START, pos + 1)
    if best is None:
        raise ValueError("no BTF found in the kernel image "
                         "(built without CONFIG_DEBUG_INFO_BTF?)")
    return best


def _is_arm64_image(data):
    # arm64 boot protocol: "ARM\x64" at offset 56
    return data[56:60] == b"ARM\x64"


def btf_from_vmlinuz(path):
    """Raw BTF of a kernel image file: a bzImage, an arm64 Image (plain or
    gzip-compressed), an ELF vmlinux, or raw BTF."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] in BTF_MAGIC:
        return data
    if data[:2] == b"\x1f\x8b":
        data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if _is_arm64_image(data):
        return btf_from_raw_image(data)
    if data[:4] != ELF_MAGIC:
        data = vmlinux_from_bzimage(data)
    return btf_from_elf(data)
