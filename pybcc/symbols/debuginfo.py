"""Find the separate debug file of a stripped binary.

Distributions ship symbols apart from the binary. The binary names its debug
file two ways: a build-id note (looked up as .build-id/xx/rest.debug under the
debug directory) and a .gnu_debuglink section (a file name plus the CRC32 of
that file, looked up beside the binary, in its .debug/ subdirectory and under
the debug directory mirroring the binary's path). These are gdb's search
rules, which is what distributions package against.
"""
import os
import zlib

# The global debug directories; tests or callers may prepend their own.
DEBUG_DIRS = ["/usr/lib/debug"]


def file_crc32(path):
    crc = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return crc
            crc = zlib.crc32(chunk, crc)


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def find_debug_file(path, build_id=None, debuglink=None, root=""):
    """Path of the debug file for ``path`` or None.

    ``root`` is prefixed to the global debug directories, so a process in a
    container is served from its own file system (/proc/PID/root).
    """
    dirs = [root + d for d in DEBUG_DIRS]
    if build_id and len(build_id) > 2:
        for d in dirs:
            cand = os.path.join(d, ".build-id", build_id[:2], build_id[2:] + ".debug")
            if os.path.isfile(cand):
                return cand
    if debuglink:
        name, crc = debuglink
        here = os.path.dirname(os.path.realpath(path))
        rel = here[len(root):] if root and here.startswith(root) else here
        cands = [os.path.join(here, name), os.path.join(here, ".debug", name)]
        cands += [os.path.join(d, rel.lstrip("/"), name) for d in dirs]
        for cand in cands:
            if not os.path.isfile(cand) or _same_file(cand, path):
                continue
            try:
                if file_crc32(cand) == crc:
                    return cand
            except OSError:
                continue
    return None
