"""Shared by the bcc-style test scripts: each prints "PASS <name>" on
success, "SKIP: <reason>" when the kernel lacks what it needs, and exits
non-zero with "FAIL: ..." otherwise."""
import sys

HEADERS = """
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
"""


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.stdout.flush()
        sys.exit(1)


def passed(name):
    print("PASS", name)


def skip(reason):
    print("SKIP:", reason)
    sys.exit(0)
