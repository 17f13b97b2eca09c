"""The kernel's BPF stats (run count, run time) of the programs that some
processes hold, for benchmarks that charge a tracer its in-kernel cost.

A process holds a program through a program fd or a link fd; both show the
program's id in /proc/PID/fdinfo. The stats are read by id, so they do not
depend on the tracer exposing them. They count only while
kernel.bpf_stats_enabled is on (hold ``enable()``'s fd for that).
"""
import ctypes
import os
import re
import struct

from pybcc.errors import BPFError
from pybcc.exporter.selfmetrics import (PROG_INFO_SIZE, RUN_CNT_OFFSET, RUN_TIME_NS_OFFSET,
                                        enable_bpf_stats)
from pybcc.kernel import bpf
from pybcc.kernel.uapi import Cmd

NAME_OFFSET = 64            # struct bpf_prog_info.name[16]
PROG_ID = re.compile(rb"^prog_id:\s+(\d+)$", re.M)


def enable():
    """An fd that keeps BPF stats on while it is open (None if refused)."""
    return enable_bpf_stats()


def program_ids(pids):
    """Ids of the BPF programs the processes PIDS hold (program or link fds)."""
    ids = set()
    for pid in pids:
        base = f"/proc/{pid}/fdinfo"
        try:
            fds = os.listdir(base)
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"{base}/{fd}", "rb") as f:
                    ids.update(int(m) for m in PROG_ID.findall(f.read()))
            except OSError:
                continue
    return ids


def read(prog_id):
    """(name, run count, run time ns) of a program by id, None if it is gone."""
    try:
        fd = bpf.fd_by_id(Cmd.PROG_GET_FD_BY_ID, prog_id)
    except BPFError:
        return None
    try:
        buf = ctypes.create_string_buffer(PROG_INFO_SIZE)
        bpf.obj_info(fd, buf)
    finally:
        os.close(fd)
    name = struct.unpack_from("16s", buf, NAME_OFFSET)[0].split(b"\0")[0].decode()
    return (name, struct.unpack_from("<Q", buf, RUN_CNT_OFFSET)[0],
            struct.unpack_from("<Q", buf, RUN_TIME_NS_OFFSET)[0])


def snapshot(pids):
    """{program id: (name, run count, run time ns)} over what PIDS hold."""
    out = {}
    for i in program_ids(pids):
        s = read(i)
        if s is not None:
            out[i] = s
    return out


def delta(before, after):
    """{name: (runs, ns)} of what ran between two snapshots (names summed)."""
    out = {}
    for i, (name, cnt, ns) in after.items():
        _, cnt0, ns0 = before.get(i, (name, 0, 0))
        runs, t = out.get(name, (0, 0))
        out[name] = (runs + cnt - cnt0, t + ns - ns0)
    return out
