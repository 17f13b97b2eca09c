import pytest

from .badinput import assert_one_line_error
from .dbservers import MariaDB, Postgres, query_lines, server_fixture, slow_query_on_stand_in
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")
postgres_server = server_fixture(Postgres, "postgres")
mariadb_server = server_fixture(MariaDB, "mariadb")

HEADER = ["TIME(s)", "PID", "MS", "QUERY"]


def test_dbslower_postgres_usdt_slow_query_with_its_text(postgres):
    """Debian's PostgreSQL has USDT probes; -p the postmaster covers the
    backend it forks for the connection, made after the tool started."""
    slow = "select pg_sleep(0.3) /* pybcc-dbslower-pg-slow */"
    fast = "select 1 /* pybcc-dbslower-pg-fast */"
    with RunningTool("dbslower", "postgres", "-p", postgres.pid, "-m", "100",
                     ready="QUERY") as t:
        assert t.lines[0] == (f"Tracing database queries for pids {postgres.pid} "
                              f"slower than 100 ms...")
        assert t.lines[1].split() == HEADER
        postgres.query(fast)
        postgres.query(slow)
        t.wait_for(lambda ln: "pybcc-dbslower-pg-slow" in ln)
    assert t.proc.returncode == 0, t.stderr       # Ctrl-C: a clean exit
    rows = query_lines(t.lines, "pybcc-dbslower-pg-slow")
    assert len(rows) == 1, t.stdout
    secs, pid, ms, query = rows[0]
    assert query == slow and 300 <= float(ms) < 3000, t.stdout
    assert int(pid) != postgres.pid and float(secs) > 0, t.stdout   # a backend
    assert query_lines(t.lines, "pybcc-dbslower-pg-fast") == [], t.stdout


def test_dbslower_postgres_json_every_query(postgres):
    with RunningTool("dbslower", "postgres", "-p", postgres.pid, "-m", "0", "--json",
                     ready="QUERY") as t:
        postgres.query("select 1 /* pybcc-dbslower-pg-json */")
        rec = t.wait_for_record(lambda r: "pybcc-dbslower-pg-json" in r["query"])
    assert rec is not None, (t.stdout, t.stderr)
    assert set(rec) == {"time_s", "pid", "ms", "query"}
    assert rec["query"] == "select 1 /* pybcc-dbslower-pg-json */" and 0 <= rec["ms"] < 1000


def test_dbslower_postgres_every_server_without_pids(postgres):
    """Without -p: the running servers (named on the status line, as bcc's
    pidof) and any process of their binary, such as a new backend."""
    with RunningTool("dbslower", "postgres", "-m", "0", ready="QUERY") as t:
        assert str(postgres.pid) in t.lines[0].split("pids ")[1].split(" slower")[0].split(", ")
        postgres.query("select 3 /* pybcc-dbslower-pg-all */")
        t.wait_for(lambda ln: "pybcc-dbslower-pg-all" in ln)
    rows = query_lines(t.lines, "pybcc-dbslower-pg-all")
    assert len(rows) == 1 and rows[0][3] == "select 3 /* pybcc-dbslower-pg-all */", t.stdout


def test_dbslower_mariadb_uprobe_on_dispatch_command(mariadb):
    """Debian's MariaDB has no USDT probes: the uprobe path, by -x PATH as bcc's."""
    with RunningTool("dbslower", "mysql", "-x", mariadb.mysqld, "-m", "100",
                     ready="QUERY") as t:
        assert t.lines[0] == (f"Tracing database queries for application {mariadb.mysqld} "
                              f"slower than 100 ms...")
        mariadb.query("select 1 /* pybcc-dbslower-my-fast */")
        mariadb.query("select sleep(0.3) /* pybcc-dbslower-my-slow */")
        t.wait_for(lambda ln: "pybcc-dbslower-my-slow" in ln)
    rows = query_lines(t.lines, "pybcc-dbslower-my-slow")
    assert len(rows) == 1, t.stdout
    _, pid, ms, query = rows[0]
    assert query == "select sleep(0.3) /* pybcc-dbslower-my-slow */", t.stdout
    assert int(pid) == mariadb.pid and 300 <= float(ms) < 3000, t.stdout
    assert query_lines(t.lines, "pybcc-dbslower-my-fast") == [], t.stdout


def test_dbslower_mariadb_by_pid(mariadb):
    with RunningTool("dbslower", "mysql", "-p", mariadb.pid, "-m", "0", ready="QUERY") as t:
        mariadb.query("select 2 /* pybcc-dbslower-my-pid */")
        t.wait_for(lambda ln: "pybcc-dbslower-my-pid" in ln)
    rows = query_lines(t.lines, "pybcc-dbslower-my-pid")
    assert len(rows) == 1 and int(rows[0][1]) == mariadb.pid, t.stdout


def test_dbslower_postgres_uprobe_on_exec_simple_query(tmp_path, monkeypatch):
    """A PostgreSQL without USDT probes but with its symbols (a stand-in):
    the uprobe path, as bcc's has it only for MySQL."""
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t, server, slow, rows = slow_query_on_stand_in(str(tmp_path), "postgres", "dbslower",
                                                   "postgres", "-p", "PID", "-m", "10")
    assert len(rows) == 1, t.stdout
    assert rows[0][1] == str(server.pid) and 40 <= float(rows[0][2]) < 2000, t.stdout
    assert rows[0][3] == slow, t.stdout
    assert f"pybcc: attached uprobe {server.path}:exec_simple_query" in t.stderr, t.stderr


def test_dbslower_verbose_prints_the_program_and_the_probes(postgres):
    r = run_tool("dbslower", "postgres", "-x", postgres.postgres, "-v", "--duration", "0.5")
    assert r.returncode == 0, r.stderr
    assert "BPF_USDT(start_usdt" in r.stdout, r.stdout
    assert f"pybcc: attached usdt postgresql:query__start of {postgres.postgres}" in r.stderr
    assert r.stdout.splitlines()[-2:] == [
        f"Tracing database queries for application {postgres.postgres} slower than 1 ms...",
        "%-14s %-7s %8s %s" % ("TIME(s)", "PID", "MS", "QUERY")], r.stdout


@pytest.mark.parametrize("args", [["oracle"], ["postgres", "-m", "-1"], ["postgres", "-m", "x"],
                                  ["mysql", "-p", "999999999"], ["mysql", "-x", "/nonexistent"]])
def test_dbslower_bad_input(args):
    bad_input("dbslower", *args)


def test_dbslower_binary_without_query_probes():
    r = run_tool("dbslower", "mysql", "-x", "/bin/true")
    assert_one_line_error(r, "has neither the USDT probes", code=1)
