"""Output formats: histograms, tables, folded stacks, JSON."""


def write_text(path_or_file, text):
    """Write ``text`` to an open text file, or to a new UTF-8 file at a path."""
    if hasattr(path_or_file, "write"):
        path_or_file.write(text)
    else:
        with open(path_or_file, "w", encoding="utf-8") as f:
            f.write(text)
