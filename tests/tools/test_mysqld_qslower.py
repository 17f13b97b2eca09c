import os

import pytest

from .badinput import assert_one_line_error
from .dbservers import MariaDB, query_lines, server_fixture, slow_query_on_stand_in
from .toolrun import RunningTool, bad_input, run_tool

pytestmark = pytest.mark.usefixtures("root")
mariadb_server = server_fixture(MariaDB, "mariadb")


def test_mysqld_qslower_slow_queries(mariadb):
    with RunningTool("mysqld_qslower", mariadb.pid, "100", ready="QUERY") as t:
        assert t.lines[:2] == [
            f"Tracing MySQL server queries for PID {mariadb.pid} slower than 100 ms...",
            "%-14s %-7s %8s %s" % ("TIME(s)", "PID", "MS", "QUERY")]   # bcc's format
        mariadb.query("select 1 /* pybcc-qslower-fast */")
        mariadb.query("select sleep(0.3) /* pybcc-qslower-slow */")
        mariadb.query("select sleep(0.2) /* pybcc-qslower-slow2 */")
        t.wait_for(lambda ln: "pybcc-qslower-slow2" in ln)
    assert t.proc.returncode == 0, t.stderr       # Ctrl-C: a clean exit
    first, second = query_lines(t.lines, "pybcc-qslower-slow")
    assert first[0] == "0.000000" and first[1] == str(mariadb.pid), t.stdout
    assert 300 <= float(first[2]) < 3000 and 200 <= float(second[2]) < 3000, t.stdout
    assert first[3] == "select sleep(0.3) /* pybcc-qslower-slow */", t.stdout
    assert float(second[0]) >= 0.3, t.stdout      # seconds since the first query shown
    assert query_lines(t.lines, "pybcc-qslower-fast") == [], t.stdout


def test_mysqld_qslower_every_query_json_128_characters(mariadb):
    long_query = "select 1 /* pybcc-qslower-long " + "y" * 200 + " */"
    with RunningTool("mysqld_qslower", mariadb.pid, "0", "--json", ready="QUERY") as t:
        mariadb.query(long_query)
        rec = t.wait_for_record(lambda r: "pybcc-qslower-long" in r["query"])
    assert rec is not None, (t.stdout, t.stderr)
    assert rec["query"] == long_query[:128] and rec["pid"] == mariadb.pid, rec
    assert rec["ms"] >= 0 and rec["time_s"] == 0


@pytest.mark.parametrize("usdt", [False, True], ids=["mysql8-uprobe", "mysql-usdt"])
def test_mysqld_qslower_mysql_8_forms(usdt, tmp_path, monkeypatch):
    """MySQL 5.7+'s dispatch_command(THD *, const COM_DATA *, command), and
    the USDT probes of a MySQL built with DTrace, on a stand-in mysqld."""
    monkeypatch.setenv("PYBCC_DEBUG", "1")
    t, server, slow, rows = slow_query_on_stand_in(
        str(tmp_path), "mysqld-usdt" if usdt else "mysqld", "mysqld_qslower", "PID", "10")
    assert len(rows) == 1, t.stdout
    assert rows[0][1] == str(server.pid) and 40 <= float(rows[0][2]) < 2000, t.stdout
    assert rows[0][3] == slow, t.stdout
    mechanism = "usdt mysql:query__start" if usdt else \
        "uprobe %s:_Z16dispatch_commandP3THDPK8COM_DATA19enum_server_command" % server.path
    assert f"pybcc: attached {mechanism}" in t.stderr, t.stderr


@pytest.mark.parametrize("args", [[], ["x"], ["999999999"], ["1", "-1"], ["1", "abc"]])
def test_mysqld_qslower_bad_input(args):
    bad_input("mysqld_qslower", *args)


def test_mysqld_qslower_not_a_mysqld():
    r = run_tool("mysqld_qslower", os.getpid())
    assert_one_line_error(r, "nor a dispatch_command function", code=1)
