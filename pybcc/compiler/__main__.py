"""python -m pybcc.compiler FILE.bpf.c [-o OUT.o] [-- CFLAGS...]: compile
through the cache and print the object's path (a debugging aid)."""
import argparse
import shutil
import sys

from ..errors import CompileError
from . import compile, find_compiler


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m pybcc.compiler")
    p.add_argument("source", nargs="?")
    p.add_argument("-o", "--output", help="copy the object here")
    p.add_argument("-I", dest="include", action="append", default=[])
    p.add_argument("--no-vmlinux", action="store_true", help="do not add vmlinux.h's directory")
    p.add_argument("--which", action="store_true", help="print the compiler that would be used")
    p.add_argument("cflags", nargs="*")
    a = p.parse_args(argv)
    try:
        if a.which:
            print(find_compiler())
            return 0
        if not a.source:
            p.error("a source file is needed")
        obj = compile(a.source, a.cflags, a.include, vmlinux=not a.no_vmlinux)
    except CompileError as e:
        print(e.output or str(e), file=sys.stderr)
        return 1
    if a.output:
        shutil.copyfile(obj, a.output)
    print(a.output or obj)
    return 0


if __name__ == "__main__":
    sys.exit(main())
