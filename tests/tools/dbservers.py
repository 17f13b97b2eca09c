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


def _server(request, cls):
    if os.geteuid() != 0:
        pytest.skip("needs root to use bpf(2) and to start the servers")
    if cls not in _started:
        _started[cls] = cls()
        request.session.addfinalizer(_started[cls].stop)
    return _started[cls]


@pytest.fixture(scope="module")
def postgres(request):
    return _server(request, Postgres)


@pytest.fixture(scope="module")
def mariadb(request):
    return _server(request, MariaDB)


def query_lines(lines, marker):
    """The (TIME(s), PID, MS, QUERY) fields of the output lines with ``marker``."""
    return [ln.split(None, 3) for ln in lines if marker in ln and not ln.startswith("Tracing")]
