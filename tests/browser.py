"""Headless Chromium (Debian's chromium + chromium-driver) driven by selenium,
for the tests that open pybcc's SVG pictures. The network is closed: no
background networking, no component updates, a fresh profile directory."""
import os
import shutil
import tempfile

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--hide-scrollbars")


def start_browser(width=1300, height=1000):
    """A selenium webdriver, or pytest.skip with the reason."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs them)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    # Selenium Manager would look for drivers online: the paths are given.
    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="pybcc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=" + profile)
    options.add_argument("--window-size=%d,%d" % (width, height))
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.pybcc_profile = profile
    return driver


def stop_browser(driver):
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver.pybcc_profile, ignore_errors=True)


def artifact_dir():
    """Where tests keep screenshots: $PYBCC_ARTIFACTS or a temporary directory."""
    path = os.environ.get("PYBCC_ARTIFACTS") or os.path.join(tempfile.gettempdir(), "pybcc-artifacts")
    os.makedirs(path, exist_ok=True)
    return path
