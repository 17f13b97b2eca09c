"""bcc's text form of a resolved address: "name+0x12 [module]"."""
import os

UNKNOWN = "[unknown]"


def as_str(value):
    """Names may come as bytes, as bcc accepted them; we work in str."""
    return value.decode() if isinstance(value, (bytes, bytearray)) else value


def format_symbol(name, offset, module, show_module=False, show_offset=False):
    """Offsets are shown only for resolved names, and the module by base name,
    as bcc does; an unresolved address is "[unknown]" (plus its module)."""
    text = name if name else UNKNOWN
    if show_offset and name:
        text += "+0x%x" % offset
    if show_module and module:
        text += " [%s]" % os.path.basename(module)
    return text
