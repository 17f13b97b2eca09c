"""BTF: the kernel's and programs' type information."""
from .types import BTF, Type, Member, EnumValue, Param, VarSecinfo  # noqa: F401
