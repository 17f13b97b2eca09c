"""Private database servers for the database tools' tests: PostgreSQL and
MariaDB from Debian's packages (scripts/setup.sh installs them), each in a
temporary directory, listening on a unix socket only, stopped afterwards."""
import glob
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from .toolrun import RunningTool


def _wait_for(path, proc=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


class Postgres:
    """initdb + pg_ctl as the postgres user; ``query(sql)`` through psql."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins or not shutil.which("psql"):
            pytest.skip("PostgreSQL is not installed (scripts/setup.sh installs it)")
        self.bindir = os.path.dirname(bins[-1])
        self.postgres = os.path.join(self.bindir, "postgres")
        # under /tmp itself: the postgres user cannot enter pytest's root-only dirs
        self.dir = tempfile.mkdtemp(prefix="pybcc-pg-")
        shutil.chown(self.dir, "postgres")
        self.port = 54320 + os.getpid() % 1000   # only names the socket file
        self.data = os.path.join(self.dir, "data")
        self._as_postgres([os.path.join(self.bindir, "initdb"), "-D", self.data, "-A", "trust",
                           "-U", "postgres", "--no-sync"])
        self._as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-w",
                           "-l", os.path.join(self.dir, "log"), "-o",
                           f"-k {self.dir} -p {self.port} -c listen_addresses=''", "start"])
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def _as_postgres(self, argv):
        subprocess.run(argv, user="postgres", cwd=self.dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def query(self, sql):
        subprocess.run(["psql", "-X", "-q", "-h", self.dir, "-p", str(self.port), "-U",
                        "postgres", "-c", sql], check=True, stdout=subprocess.DEVNULL,
                       timeout=60)

    def stop(self):
        subprocess.run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m",
                        "immediate", "stop"], user="postgres", cwd=self.dir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class MariaDB:
    """mariadb-install-db + mariadbd as root on a unix socket; ``query(sql)``
    through the mariadb client (comments kept)."""

    def __init__(self):
        self.mysqld = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or \
            shutil.which("mysqld", path="/usr/sbin:/usr/bin")
        install = shutil.which("mariadb-install-db")
        if not self.mysqld or not install or not shutil.which("mariadb"):
            pytest.skip("MariaDB is not installed (scripts/setup.sh installs "
                        "mariadb-server-core and mariadb-client-core)")
        self.dir = tempfile.mkdtemp(prefix="pybcc-mariadb-")
        self.socket = os.path.join(self.dir, "sock")
        data = os.path.join(self.dir, "data")
        subprocess.run([install, "--no-defaults", f"--datadir={data}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db",
                        "--skip-name-resolve"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            [self.mysqld, "--no-defaults", f"--datadir={data}", "--user=root",
             f"--socket={self.socket}", "--skip-networking", "--skip-log-bin",
             f"--pid-file={self.dir}/pid", "--innodb-buffer-pool-size=16M"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        if not _wait_for(self.socket, self.proc):
            self.stop()
            raise AssertionError("mariadbd did not start")

    def query(self, sql):
        subprocess.run(["mariadb", "--no-defaults", "--comments", "-S", self.socket, "-uroot",
                        "-e", sql], check=True, stdout=subprocess.DEVNULL, timeout=60)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


_started = {}    # one server of each kind for the whole test session


def shared_server(request, cls):
    """The session's server of class ``cls`` (Postgres, MariaDB), started on first use."""
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2) and to start the servers")
    if cls not in _started:
        _started[cls] = cls()
        request.session.addfinalizer(_started[cls].stop)
    return _started[cls]


def server_fixture(cls, name):
    """A module fixture ``name`` giving the session's ``cls`` server:
    ``postgres = server_fixture(Postgres, "postgres")`` in a test module."""
    @pytest.fixture(scope="module", name=name)
    def fixture(request):
        return shared_server(request, cls)
    return fixture


def query_lines(lines, marker):
    """The (TIME(s), PID, MS, QUERY) fields of the output lines with ``marker``."""
    return [ln.split(None, 3) for ln in lines if marker in ln and not ln.startswith("Tracing")]


# Stand-ins for servers Debian does not ship: MySQL 5.7+/8, whose
# dispatch_command (under its C++ name) takes COM_DATA's query pointer first
# and the command last, with -DWITH_USDT the probes of a MySQL built with
# DTrace; with -DPOSTGRES, a PostgreSQL without USDT probes but with its
# symbols (exec_simple_query). Each runs the "MS QUERY" lines of its stdin
# as queries that take MS ms (MySQL: a COM_PING around each, which the tools
# must skip), and prints "ok" after each.
STAND_IN_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef WITH_USDT
#include <sys/sdt.h>
#define QUERY_START(q) DTRACE_PROBE5(mysql, query__start, q, 1, "db", "user", "host")
#define QUERY_DONE() DTRACE_PROBE1(mysql, query__done, 0)
#else
#define QUERY_START(q)
#define QUERY_DONE()
#endif

#ifdef POSTGRES
static __attribute__((noinline, noclone)) void exec_simple_query(const char *query_string)
{
    usleep(1000 * atoi(query_string));
}

static void run(const char *line)
{
    exec_simple_query(line);
}
#else
struct com_query { const char *query; unsigned int length; };
union COM_DATA { struct com_query com_query; char pad[64]; };
enum { COM_QUERY = 3, COM_PING = 14 };

int dispatch_command(void *thd, const union COM_DATA *data, int command)
    __asm__("_Z16dispatch_commandP3THDPK8COM_DATA19enum_server_command");

__attribute__((noinline)) int dispatch_command(void *thd, const union COM_DATA *data,
                                               int command)
{
    if (command == COM_QUERY) {
        const char *q = data->com_query.query;
        QUERY_START(q);
        usleep(1000 * atoi(q));
        QUERY_DONE();
    }
    return 0;
}

static void run(const char *line)
{
    union COM_DATA data = {0};
    data.com_query.query = line;
    data.com_query.length = strlen(line);
    dispatch_command(NULL, &data, COM_PING);
    dispatch_command(NULL, &data, COM_QUERY);
}
#endif

int main(void)
{
    char line[1024];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = 0;
        run(line);
        printf("ok\n");
        fflush(stdout);
    }
    return 0;
}
"""


class StandIn:
    """A stand-in server (``kind`` "mysqld", "mysqld-usdt" or "postgres")
    built in ``directory`` under its server's name and started;
    ``query("MS text")`` runs one query."""

    FLAGS = {"mysqld": [], "mysqld-usdt": ["-DWITH_USDT"], "postgres": ["-DPOSTGRES"]}

    def __init__(self, directory, kind):
        if shutil.which("gcc") is None:
            pytest.skip("gcc is needed to build the stand-in server")
        os.makedirs(directory, exist_ok=True)
        src = os.path.join(directory, "server.c")
        self.path = os.path.join(directory, kind.split("-")[0])
        with open(src, "w") as f:
            f.write(STAND_IN_C)
        subprocess.run(["gcc", "-O1", "-o", self.path, src] + self.FLAGS[kind], check=True)
        self.proc = subprocess.Popen([self.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.pid = self.proc.pid

    def query(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "ok\n"

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def slow_query_on_stand_in(directory, kind, tool, *args, threshold_ms=10, marker="standin"):
    """Start ``tool *args`` (PID stands for the stand-in's pid) with a
    threshold of ``threshold_ms`` ms, run a fast and a slow query with
    ``marker`` on a stand-in ``kind`` server; returns (the tool run, the
    server, the slow query, its output rows with the marker)."""
    slow = f"{threshold_ms * 4} /* pybcc-{marker}-slow */"
    server = StandIn(directory, kind)
    argv = [server.pid if a == "PID" else a for a in args]
    try:
        with RunningTool(tool, *argv, ready="QUERY") as t:
            server.query(f"1 /* pybcc-{marker}-fast */")
            server.query(slow)
            t.wait_for(lambda ln: slow in ln)
    finally:
        server.stop()
    return t, server, slow, query_lines(t.lines, f"pybcc-{marker}")
