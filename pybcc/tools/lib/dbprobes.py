"""Where the database tools (dbslower, dbstat, mysqld_qslower) probe a
MySQL/MariaDB or PostgreSQL server, and the shared run of their BPF object
(dbslower.bpf.c).

A server built with DTrace support has the USDT probes query__start and
query__done; Debian's PostgreSQL has them, Debian's MariaDB does not. Without
them a uprobe and uretprobe go on the function that runs one query: MySQL's
dispatch_command (its first or its last parameter is the command, by
version), PostgreSQL's exec_simple_query (a static function: it needs the
binary's symbol table or its debug file).

The probes go on the server's binary for every process that runs it, and
the BPF side keeps the processes asked for with -p and their children, so a
PostgreSQL backend forked after the tool started is traced too.
"""
from __future__ import annotations

import os
import time
from ...record import record

from ...errors import AttachError
from ...symbols.libpath import reachable_path
from .runtime import Tool, fail


@record(frozen=True)
class Engine:
    name: str               # bcc's positional argument: mysql, postgres
    comms: tuple            # process names of its servers
    provider: str           # USDT provider


ENGINES = {
    "mysql": Engine("mysql", ("mysqld", "mariadbd"), "mysql"),
    "postgres": Engine("postgres", ("postgres",), "postgresql"),
}

# dispatch_command(...) by its C++ name, which tells where the command is:
# MySQL 5.7+ passes a COM_DATA (the command last), older MySQL and MariaDB
# the command first
DISPATCH_COMMAND = r"_Z16dispatch_command\w+"


def server_pids(engine):
    """The pids of running servers of ``engine``, as pidof finds them."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in engine.comms:
                        found.append(int(entry))
            except OSError:
                pass
    return sorted(found)


def binary_of(pid, tool):
    """The server's executable, opened through /proc (any mount namespace)."""
    try:
        path = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        fail(f"{tool}: cannot read the executable of PID {pid}")
    return reachable_path(pid, path)


def has_usdt(path, provider):
    from ...usdt import notes
    locs = notes.read_probes(path)
    return all(notes.match(locs, provider, name) for name in ("query__start", "query__done"))


def attach_server(tool, engine, path):
    """Attach the start and done programs to the server binary ``path``
    (PYBCC_DEBUG=1 shows which)."""
    if has_usdt(path, engine.provider):
        for prog, probe in (("start_usdt", "query__start"), ("done_usdt", "query__done")):
            tool.attach(prog, f"{path}:{engine.provider}:{probe}", collection=tool.coll)
        return
    if engine.name == "mysql":
        from ...symbols import elfsyms
        found = elfsyms.load(path).match(DISPATCH_COMMAND)
        if not found:
            raise AttachError(f"{path} has neither the USDT probes mysql:query__start/done "
                              f"nor a dispatch_command function")
        func = found[0].name
        start = "start_command_last" if "COM_DATA" in func else "start_command_first"
    else:
        func, start = "exec_simple_query", "start_query_string"
    if not tool.attach_uprobe(start, path, func):
        raise AttachError(f"{path} has neither the USDT probes {engine.provider}:query__start/"
                          f"done (built without DTrace) nor the symbol {func} (install its "
                          f"debug symbols)")
    tool.attach_uprobe("done_uprobe", path, func, retprobe=True)


def targets(tool, engine, pids, path):
    """(binaries to probe, pids the status line names, pids to keep or None
    for every process of the binaries): -x PATH, -p PIDS, else every running
    server of ``engine`` (and those that start later)."""
    if path:
        if not os.path.isfile(path):
            fail(f"{tool}: no such file: {path}", code=2)
        return [path], pids or [], pids or None
    keep = pids or None
    pids = pids or server_pids(engine)
    if not pids:
        fail(f"{tool}: no {' or '.join(engine.comms)} process is running "
             f"(give -p PID or -x PATH)")
    binaries = []
    for pid in pids:
        b = binary_of(pid, tool)
        if b not in binaries:
            binaries.append(b)
    return binaries, pids, keep


class QueryProbes:
    """The loaded dbslower.bpf.c with its probes attached: ``min_ns`` the
    threshold, ``hist_unit_ns`` set for dbstat's histogram."""

    def __init__(self, engine, binaries, keep=None, min_ns=0, hist_unit_ns=None):
        constants = {"min_ns": min_ns, "filter_pids": bool(keep)}
        if hist_unit_ns:
            constants.update(histogram=True, hist_unit_ns=hist_unit_ns)
        self.tool = Tool("dbslower", constants, events=not hist_unit_ns)
        self.start_ns = time.monotonic_ns()   # bpf_ktime_get_ns's clock
        try:
            for pid in keep or ():
                self.tool.maps["pids"][pid] = 1
            for binary in binaries:
                attach_server(self.tool, engine, binary)
        except BaseException:
            self.tool.close()
            raise

    def __enter__(self):
        return self.tool

    def __exit__(self, *exc):
        self.tool.close()


def query_text(e, limit=None):
    """The query as bcc prints it: the bytes up to the NUL, decoded."""
    q = e.query[:limit] if limit else e.query
    return q.decode("utf-8", "replace")

