"""pybcc's SVG pictures opened in a real browser (headless Chromium from
Debian's packages, driven by selenium): widths to the pixel, zoom and reset,
search and its percent, the details line, heat map cells. Each test keeps a
screenshot and prints where."""
import os
import re
import time
from collections import namedtuple

import pytest

import browser
from pybcc.output import flamegraph, folded, heatmap

PLOT_WIDTH = 1200 - 2 * flamegraph.XPAD

STACKS = {
    "python3;_start;main;compute_[i];busy": 300,
    "python3;_start;main;compute_[i];spin": 120,
    "python3;_start;main;io;read;-;entry_SYSCALL_64;ksys_read": 107,
    "python3;_start;main;io;write_[j]": 50,
    "python3;_start;main": 50,
    "swapper;cpu_idle_[k]": 500,
    "kworker;worker_thread_[k];process_one_work_[k];ksys_read_[k]": 23,
}
TOTAL = sum(STACKS.values())


@pytest.fixture(scope="module")
def driver():
    d = browser.start_browser()
    yield d
    browser.stop_browser(d)


@pytest.fixture
def page(driver, tmp_path):
    def open_svg(svg, name):
        path = tmp_path / name
        path.write_text(svg, encoding="utf-8")
        driver.get("file://%s" % path)
        return driver
    return open_svg


def keep_screenshot(driver, name):
    path = os.path.join(browser.artifact_dir(), name)
    driver.save_screenshot(path)
    print("screenshot:", path)
    return path


Frame = namedtuple("Frame", "name x width shown fill faded")


def frames(driver):
    """The frames as the browser lays them out, in drawing order under "_all_"
    and by name (the first frame of each name)."""
    rows = driver.execute_script("""
        var fg = window.flamegraph, out = [];
        for (var i = 0; i < fg.frames; i++) {
          var r = fg.rects[i], box = r.getBoundingClientRect();
          out.push([fg.names[i], box.x, box.width, getComputedStyle(r).display !== "none",
                    r.getAttribute("fill"), r.classList.contains("parent")]);
        }
        return out;""")
    found = {"_all_": [Frame(*row) for row in rows]}
    for f in found["_all_"]:
        found.setdefault(f.name, f)       # names drawn twice (ksys_read): the first
    return found


def rect_of(driver, name):
    return driver.execute_script(
        "var fg = window.flamegraph; return fg.rects[fg.names.indexOf(arguments[0])]", name)


def frame_sum(name_pattern):
    """Samples of the stacks with a frame matching the pattern (each stack once)."""
    return sum(v for s, v in STACKS.items()
               if any(re.search(name_pattern, flamegraph.frame_kind(f)[1]) for f in s.split(";")))


def test_widths_proportional_to_counts(page):
    svg = flamegraph.render(STACKS, subtitle="test")
    d = page(svg, "widths.svg")
    got = frames(d)
    # every frame, to the pixel: x from where it starts, width from its count
    data = flamegraph.read_frames(svg)
    assert len(data) == len(got["_all_"]) == 19
    for want, box in zip(data, got["_all_"]):
        assert want["name"] == box.name
        assert abs(box.x - (flamegraph.XPAD + want["start"] * PLOT_WIDTH / TOTAL)) < 0.5, box
        assert abs(box.width - want["count"] * PLOT_WIDTH / TOTAL) < 0.5, box
    lay_counts = {"all": TOTAL, "python3": 627, "main": 627, "compute": 420, "busy": 300,
                  "spin": 120, "io": 157, "write": 50, "swapper": 500, "cpu_idle": 500,
                  "kworker": 23}
    for name, count in lay_counts.items():
        assert got[name].shown
        assert abs(got[name].width - count * PLOT_WIDTH / TOTAL) < 0.5, got[name]
    # Frames side by side: busy starts where main's own 50 samples end.
    assert abs(got["busy"].x - (got["main"].x + 50 * PLOT_WIDTH / TOTAL)) < 0.5
    keep_screenshot(d, "flamegraph-widths.png")


def test_click_zooms_and_reset_restores(page):
    d = page(flamegraph.render(STACKS), "zoom.svg")
    before = frames(d)
    reset = d.find_element("id", "resetzoom")
    assert not reset.is_displayed()
    rect_of(d, "compute").click()
    got = frames(d)
    assert abs(got["compute"].width - PLOT_WIDTH) < 0.5
    assert abs(got["compute"].x - flamegraph.XPAD) < 0.5
    assert abs(got["busy"].width - 300 / 420 * PLOT_WIDTH) < 0.5
    assert abs(got["spin"].width - 120 / 420 * PLOT_WIDTH) < 0.5
    assert got["main"].shown and got["main"].faded          # ancestor: shown, faded
    assert abs(got["main"].width - PLOT_WIDTH) < 0.5
    assert not got["swapper"].shown and not got["io"].shown  # outside the zoomed frame
    assert reset.is_displayed()
    keep_screenshot(d, "flamegraph-zoomed.png")
    reset.click()
    after = frames(d)
    assert not reset.is_displayed()
    for name in ("all", "compute", "busy", "io", "swapper", "main"):
        assert (after[name].x, after[name].width) == pytest.approx((before[name].x, before[name].width),
                                                                    abs=0.01)
        assert after[name].shown and not after[name].faded
    # A frame too narrow for a label gets one when zooming widens it.
    label = "return [...document.querySelectorAll('#frames text')].map(t => t.textContent)"
    assert "kworker" not in d.execute_script(label)
    d.execute_script("window.flamegraph.zoom(window.flamegraph.names.indexOf('kworker'))")
    assert "kworker" in d.execute_script(label)
    assert "process_one_work" in d.execute_script(label)


def test_search_highlights_and_reports_the_share(page):
    d = page(flamegraph.render(STACKS), "search.svg")
    d.find_element("id", "search").click()
    alert = d.switch_to.alert
    alert.send_keys("read$")
    alert.accept()
    got = frames(d)
    highlighted = sorted(f.name for f in got["_all_"] if f.fill == flamegraph.MATCH_COLOR)
    assert highlighted == ["ksys_read", "ksys_read", "read", "worker_thread"]
    assert got["busy"].fill != flamegraph.MATCH_COLOR
    expected = 100.0 * frame_sum("read$") / TOTAL       # 130 of 1150: nested matches count once
    matched = d.find_element("id", "matched")
    assert matched.text == "Matched: %.2f%%" % expected == "Matched: 11.30%"
    keep_screenshot(d, "flamegraph-search.png")
    d.find_element("id", "search").click()             # "Reset Search"
    assert not matched.is_displayed()
    assert all(f.fill != flamegraph.MATCH_COLOR for f in frames(d)["_all_"])


def test_details_line_and_tooltip_show_frame_count_and_percent(page):
    from selenium.webdriver.common.action_chains import ActionChains
    d = page(flamegraph.render(STACKS), "details.svg")
    busy = rect_of(d, "busy")
    ActionChains(d).move_to_element(busy).perform()
    assert d.find_element("id", "details").text == "Frame: busy (300 samples, 26.09%)"
    # the browser's own tooltip: a <title> made on the first hover
    assert busy.find_element("tag name", "title").get_attribute("textContent") == \
        "busy (300 samples, 26.09%)"
    for stacks, unit, name, text in (
            ({"sshd;poll_[k]": 53200, "sshd;read_[k]": 800}, "us", "poll", "poll (53.20 ms, 98.52%)"),
            ({"sshd;poll_[k]": 532, "sshd;read_[k]": 800}, "us", "poll", "poll (532 µs, 39.94%)"),
            ({"app;malloc_big": 3 << 20, "app;small": 1000}, "bytes", "malloc_big",
             "malloc_big (3.0 MiB, 99.97%)"),
            ({"app;small": 1000}, "bytes", "small", "small (1,000 bytes, 100.00%)")):
        d = page(flamegraph.render(stacks, unit=unit), "units.svg")
        ActionChains(d).move_to_element(rect_of(d, name)).perform()
        assert d.find_element("id", "details").text == "Frame: " + text
    d = page(flamegraph.render(folded.pair({"a;b": 10, "a;c": 30}, {"a;b": 25, "a;c": 30}),
                               differential=True), "diff.svg")
    ActionChains(d).move_to_element(rect_of(d, "b")).perform()
    assert d.find_element("id", "details").text == \
        "Frame: b (25 samples, 45.45%; change +15 samples, +27.27%)"


def test_inverted_puts_the_root_on_top(page):
    d = page(flamegraph.render(STACKS, inverted=True), "icicle.svg")
    y = d.execute_script("""
        var fg = window.flamegraph, out = {};
        for (var i = 0; i < fg.frames; i++) out[fg.names[i]] = fg.rects[i].getBoundingClientRect().y;
        return out;""")
    assert y["all"] < y["python3"] < y["main"] < y["busy"]
    keep_screenshot(d, "flamegraph-icicle.png")


def test_heatmap_cell_click_shows_its_count(page):
    h = heatmap.HeatMap(start=0.0, what="I/Os")
    for i in range(40):
        h.add(0.5, 100)
    h.add(3.5, 5000)
    d = page(h.render(title="test"), "heatmap.svg")
    cells = d.find_elements("css selector", "#cells rect")
    assert len(cells) == 2
    cells[0].click()
    assert d.find_element("id", "details").text == "0-1s, 64 µs to 127 µs: 40 I/Os"
    colors = [c.get_attribute("fill") for c in cells]
    assert colors[0] != colors[1]            # 40 events darker than 1
    keep_screenshot(d, "heatmap.png")


def test_big_profile_stays_quick(page):
    """10,000 unique stacks (13,736 frames drawn): search, zoom and unzoom stay quick."""
    stacks = {"comm;f%d;g%d;h%d;leaf%d" % (i % 7, i % 53, i % 211, i): 1 + i % 13 for i in range(10000)}
    d = page(flamegraph.render(stacks), "big.svg")
    ms = d.execute_script("""var t = performance.now(); window.flamegraph.search("g1");
                             window.flamegraph.zoom(1); window.flamegraph.unzoom();
                             return performance.now() - t;""")
    assert ms < 3000      # ~100 ms on an idle machine; a quadratic loop would take minutes


SPEEDSCOPE = os.environ.get("PYBCC_SPEEDSCOPE_DIR",
                            "/var/cache/pybcc-npm/node_modules/speedscope/dist/release")


def test_speedscope_opens_our_file(driver, tmp_path):
    """speedscope's own importer (its npm package, loaded the way its command
    line does) reads --format speedscope output with our totals."""
    import base64
    import json
    from pybcc.output import speedscope
    index = os.path.join(SPEEDSCOPE, "index.html")
    if not os.path.exists(index):
        pytest.skip("speedscope's npm package is not installed (scripts/setup.sh installs it "
                    "when npm is there)")
    data = speedscope.dumps(STACKS, name="pybcc test profile").encode()
    loader = tmp_path / "load.js"
    loader.write_text("speedscope.loadFileFromBase64(%s, %s)"
                      % (json.dumps("test.speedscope.json"), json.dumps(base64.b64encode(data).decode())))
    driver.get("file://%s#localProfilePath=%s&view=sandwich" % (index, loader))
    rows = {}
    for _ in range(100):
        text = driver.execute_script("return document.body.innerText")
        rows = {m.group(3): (int(m.group(1)), int(m.group(2))) for m in
                re.finditer(r"(\d+) \([^)]*\)\s+(\d+) \([^)]*\)\s+(\S+)", text)}
        if "busy" in rows:
            break
        time.sleep(0.05)
    assert driver.title == "pybcc test profile - speedscope"
    assert rows["busy"] == (300, 300)
    assert rows["compute_[i]"] == (420, 0)
    assert rows["main"] == (627, 50)
    assert rows["ksys_read"] == (107, 107) and rows["ksys_read_[k]"] == (23, 23)
    keep_screenshot(driver, "speedscope-sandwich.png")
