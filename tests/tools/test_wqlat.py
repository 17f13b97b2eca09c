import os
import re

import pytest

from .toolrun import RunningTool, bad_input

pytestmark = pytest.mark.usefixtures("root")

WRITES = 50


def queue_events_work():
    """Each write to vm.stat_refresh queues one work item per online CPU on
    the system workqueue ("events") and waits for them all to run."""
    for _ in range(WRITES):
        with open("/proc/sys/vm/stat_refresh", "w") as f:
            f.write("1")


def expected_items():
    cpus = [c for c in os.listdir("/sys/devices/system/cpu") if re.fullmatch(r"cpu\d+", c)]
    return WRITES * sum(is_online(c) for c in cpus)


def is_online(cpu):
    try:
        with open(f"/sys/devices/system/cpu/{cpu}/online") as f:
            return f.read().strip() == "1"
    except FileNotFoundError:       # cpu0 often has no online file: always online
        return True


def hist_rows(text):
    return [(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^\s*(\d+) -> (\d+)\s*: (\d+)", text, re.M)]


def test_wqlat_per_workqueue_text_counts_our_work():
    with RunningTool("wqlat", "-W", "-w", "events", "-T", ready="Tracing") as t:
        queue_events_work()
    text = t.stdout
    assert "wqname = events" in text, text
    assert text.count("wqname = ") == 1, text          # -w: that workqueue only
    assert re.search(r"^\d\d:\d\d:\d\d", text, re.M), text   # -T
    assert "usecs               : count     distribution" in text
    assert sum(c for _, _, c in hist_rows(text)) >= expected_items(), text


def test_wqlat_json_nanoseconds_and_filter_excludes_others():
    with RunningTool("wqlat", "-N", "-W", "-w", "no_such_wq_pybcc", "--duration", "3",
                     "--json", ready="Tracing") as other:
        with RunningTool("wqlat", "-N", "-W", "-w", "events", "--duration", "3", "--json",
                         ready="Tracing") as t:
            queue_events_work()
            t.proc.wait(15)
        other.proc.wait(15)
    (rec,) = t.json_records()
    assert rec["unit"] == "nsecs"
    (hist,) = rec["histograms"]
    assert hist["labels"] == {"wqname": "events"}
    assert sum(b["count"] for b in hist["buckets"]) >= expected_items(), rec
    # nanoseconds: most work waits for a worker's wake-up, well over 1023 ns
    total = sum(b["count"] for b in hist["buckets"])
    assert sum(b["count"] for b in hist["buckets"] if b["low"] >= 1024) > total / 2, rec
    assert [r["histograms"] for r in other.json_records()] == [[]]


@pytest.mark.parametrize("args", [("-w", "x" * 24), ("abc",), ("1", "0")])
def test_wqlat_bad_input(args):
    bad_input("wqlat", *args, code=1 if args[0] == "-w" else 2)
