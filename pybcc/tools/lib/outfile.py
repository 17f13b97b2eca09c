"""Files the tools write besides stdout (-o, --output, --heatmap)."""
import os
import sys


def check_writable(path, tool):
    """Fail at start, not after a long trace, when ``path`` cannot be
    written: one line, exit code 1. Leaves no empty file behind."""
    existed = os.path.exists(path)
    try:
        with open(path, "a"):
            pass
    except OSError as e:
        print("%s: cannot write %s: %s" % (tool, path, e.strerror), file=sys.stderr)
        sys.exit(1)
    if not existed:
        os.unlink(path)
