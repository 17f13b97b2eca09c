"""The loader: an ELF object's specs become kernel objects.

collection.py  load(): BTF, maps, programs → a Collection of them
linker.py      one program's instructions: subprograms, relocations
externs.py     __kconfig and __ksym externs resolved against this kernel
sanitize.py    the object's BTF made acceptable to the kernel
"""
from .collection import DEFAULT_PIN_ROOT, Collection, Loader, Program, load  # noqa: F401
from .linker import LinkedProgram, LineInfo  # noqa: F401
