"""bitesize: block I/O size histogram per process name (bcc's output; bcc's tool takes no options)."""
import argparse
import sys
import time

from .lib.runtime import Tool, run_tool
from ..output.histogram import collect_sections, print_sections


def parse_args(argv):
    p = argparse.ArgumentParser(description="Summarize block device I/O size as a histogram "
                                            "per process name; Ctrl-C prints it and exits")
    return p.parse_args(argv)


def main(argv=None):
    parse_args(sys.argv[1:] if argv is None else argv)
    with Tool("bitesize") as tool:
        tool.attach("rq_issue")
        print("Tracing block I/O... Hit Ctrl-C to end.", flush=True)
        try:
            time.sleep(99999999)
        except KeyboardInterrupt:
            pass
        print_sections(collect_sections(tool.maps["hists"], lambda k: k.comm), "Kbytes", "Process Name")
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
