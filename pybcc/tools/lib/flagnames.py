"""Bit flags as names, the way bcc's snoop tools print them: MS_BIND|MS_REC."""


def flag_names(value, table, rest="0x%x", prefix=()):
    """The names of ``table``'s (name, bits) entries that share bits with
    ``value``, after ``prefix``, joined by '|'; the bits no entry covers (or
    0, when no name applies) follow in the ``rest`` format."""
    names, left = list(prefix), value
    for name, bits in table:
        if value & bits:
            names.append(name)
            left &= ~bits
    if left or not names:
        names.append(rest % left)
    return "|".join(names)
