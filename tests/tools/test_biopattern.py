import random

import pytest

from .loopdev import direct_io, loop_device
from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")


def pattern_rows(t, disk):
    return [ln.split() for ln in t.lines if ln.split()[:1] == [disk]]


def test_biopattern_sequential_then_random_writes_on_a_loop_device():
    with loop_device() as (disk, _):
        # 200 writes, block after block: all but the first follow the previous
        with RunningTool("biopattern", "-d", disk, ready="%RND") as t:
            direct_io(disk, range(1000, 1200))
            t.stop()
        rows = pattern_rows(t, disk)
        assert len(rows) == 1, t.stdout
        _, rnd, seq, count, kbytes = rows[0]
        assert count == "199" and seq == "100" and rnd == "0", rows
        assert kbytes == str(199 * 4), rows
        # even blocks in random order: none starts where the previous ended
        blocks = random.sample(range(0, 4000, 2), 100)
        with RunningTool("biopattern", "-T", "-d", disk, ready="%RND") as t:
            direct_io(disk, blocks)
            t.stop()
        assert t.header.split() == ["TIME", "DISK", "%RND", "%SEQ", "COUNT", "KBYTES"]
        rows = [ln.split() for ln in t.lines if f" {disk} " in ln]
        assert len(rows) == 1, t.stdout
        assert rows[0][1:] == [disk, "100", "0", "99", str(99 * 4)], rows


def test_biopattern_json_intervals():
    with loop_device() as (disk, _):
        with RunningTool("biopattern", "--json", "-d", disk, "1", ready="%RND") as t:
            direct_io(disk, range(0, 50))
            direct_io(disk, range(500, 550))     # one jump between the runs
            t.wait_for(lambda ln: sum(r["count"] for rec in t.json_records()
                                      for r in rec["rows"]) >= 99)
        rows = [r for rec in t.json_records() for r in rec["rows"]]
        assert all(r["disk"] == disk for r in rows)
        assert sum(r["count"] for r in rows) == 99, t.stdout
        assert sum(r["kbytes"] for r in rows) in range(99 * 4 - len(rows), 99 * 4 + 1)
        assert set(rows[0]) == {"disk", "pct_rnd", "pct_seq", "count", "kbytes"}
        assert all("ts" in rec for rec in t.json_records())


@pytest.mark.parametrize("args", [["-d", "nosuchdisk0"], ["0"], ["1", "-1"], ["x"]])
def test_biopattern_bad_input(args):
    bad_input("biopattern", *args)
