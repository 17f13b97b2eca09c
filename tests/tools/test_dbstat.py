import re

import pytest

from .dbservers import MariaDB, Postgres, server_fixture
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")
postgres_server = server_fixture(Postgres, "postgres")
mariadb_server = server_fixture(MariaDB, "mariadb")


def buckets(text):
    """{(low, high): count} of a log2 histogram's rows."""
    return {(int(m[1]), int(m[2])): int(m[3])
            for m in re.finditer(r"^\s+(\d+) -> (\d+)\s+: (\d+)", text, re.M)}


def test_dbstat_postgres_histogram_in_ms(postgres):
    with RunningTool("dbstat", "postgres", "-p", postgres.pid, ready="Tracing") as t:
        assert t.lines[0] == (f"Tracing database queries for pids {postgres.pid} "
                              f"slower than 0 ms...")
        postgres.query("select pg_sleep(0.3) /* pybcc-dbstat-pg */")
        postgres.query("select 1 /* pybcc-dbstat-pg-fast */")
    assert t.proc.returncode == 0, t.stderr       # Ctrl-C: the report, then a clean exit
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\]", t.lines[1]), t.stdout
    assert t.lines[2] == "     query latency (ms)  : count     distribution", t.stdout
    b = buckets(t.stdout)
    # psql sends just the query; "select 1" takes well under 256 ms even on a
    # busy machine (not always under 2 ms)
    assert b.get((256, 511)) == 1, t.stdout
    assert sum(n for (low, _), n in b.items() if low < 256) == 1, t.stdout
    assert sum(b.values()) == 2, t.stdout


def test_dbstat_postgres_microseconds_json(postgres):
    with RunningTool("dbstat", "postgres", "-p", postgres.pid, "-u", "--json",
                     ready="Tracing") as t:
        postgres.query("select pg_sleep(0.3) /* pybcc-dbstat-pg-us */")
    recs = t.json_records()
    assert len(recs) == 1 and recs[0]["unit"] == "us", t.stdout
    counts = {(b["low"], b["high"]): b["count"]
              for h in recs[0]["histograms"] for b in h["buckets"] if b["count"]}
    assert counts == {(262144, 524287): 1}, recs


def test_dbstat_mariadb_threshold_and_interval(mariadb):
    """The uprobe path (Debian's MariaDB has no USDT); -m drops fast queries."""
    with RunningTool("dbstat", "mysql", "-p", mariadb.pid, "-m", "100", "-i", "1",
                     ready="Tracing") as t:
        assert t.lines[0].endswith("slower than 100 ms...")
        for _ in range(3):
            mariadb.query("select 1 /* pybcc-dbstat-my-fast */")
        mariadb.query("select sleep(0.3) /* pybcc-dbstat-my */")
        t.wait_for(lambda ln: "256 -> 511" in ln, timeout=10)
    b = buckets(t.stdout)
    assert b[(256, 511)] == 1 and sum(b.values()) == 1, t.stdout
    assert sum(bool(re.fullmatch(r"\[\d\d:\d\d:\d\d\]", ln)) for ln in t.lines) >= 2, t.stdout


@pytest.mark.parametrize("args", [["sqlite"], ["mysql", "-i", "0"], ["mysql", "-m", "-5"],
                                  ["postgres", "-p", "x"]])
def test_dbstat_bad_input(args):
    bad_input("dbstat", *args)
