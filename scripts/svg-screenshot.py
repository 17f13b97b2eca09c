"""Screenshot an SVG picture in headless Chromium (for docs/images).

    python3 scripts/svg-screenshot.py IN.svg OUT.png [--search REGEX] [--zoom FRAME]
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import browser  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("svg")
    p.add_argument("png")
    p.add_argument("--search", help="search this regex first")
    p.add_argument("--zoom", help="zoom into the first frame with this name first")
    args = p.parse_args()
    with open(args.svg, encoding="utf-8") as f:
        head = f.read(1000)
    width, height = (int(v) for v in re.search(r'<svg[^>]* width="(\d+)" height="(\d+)"', head).groups())
    driver = browser.start_browser(width, height + 200)
    try:
        driver.get("file://" + os.path.abspath(args.svg))
        # The window's outer size includes no chrome in headless mode, but be exact:
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(width + (width - inner[0]), height + (height + 200 - inner[1]))
        if args.zoom:
            i = driver.execute_script("return window.flamegraph.names.indexOf(arguments[0])", args.zoom)
            driver.execute_script("window.flamegraph.zoom(arguments[0])", i)
        if args.search:
            driver.execute_script("window.flamegraph.search(arguments[0])", args.search)
        driver.save_screenshot(args.png)
    finally:
        browser.stop_browser(driver)
    print(args.png)


if __name__ == "__main__":
    main()
