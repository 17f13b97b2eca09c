"""Histogram text in bcc's exact format (golden text)."""
from pybcc.output.histogram import linear_hist_text, log2_hist_dict, log2_hist_text

LOG2 = """\
     usecs               : count     distribution
         0 -> 1          : 1        |**                                      |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 5        |**********                              |
         8 -> 15         : 20       |****************************************|
        16 -> 31         : 3        |******                                  |
"""

LINEAR = """\
     slot          : count     distribution
        0          : 0        |                                        |
        1          : 2        |********************                    |
        2          : 4        |****************************************|
        3          : 1        |**********                              |
"""


def test_log2_golden():
    assert log2_hist_text([0, 1, 0, 5, 20, 3, 0], "usecs") == LOG2


def test_log2_strip_leading_zero():
    text = log2_hist_text([0, 0, 0, 5, 20], "usecs", strip_leading_zero=True)
    assert text.splitlines()[1].startswith("         4 -> 7 ")


def test_log2_wide_for_big_slots():
    vals = [0] * 40
    vals[35] = 7
    lines = log2_hist_text(vals, "nsecs").splitlines()
    assert lines[0] == "               nsecs                         : count     distribution"
    assert lines[-1] == "         17179869184 -> 34359738367          : 7        |********************|"


def test_empty_prints_nothing():
    assert log2_hist_text([0, 0, 0]) == ""
    assert linear_hist_text([]) == ""


def test_linear_golden():
    assert linear_hist_text([0, 2, 4, 1], "slot") == LINEAR


def test_json_record():
    d = log2_hist_dict([0, 1, 3], "usecs", ("disk", "sda"))
    assert d["data"] == [{"interval-start": 0, "interval-end": 1, "count": 1},
                         {"interval-start": 2, "interval-end": 3, "count": 3}]
    assert d["disk"] == "sda" and d["val_type"] == "usecs" and "ts" in d
