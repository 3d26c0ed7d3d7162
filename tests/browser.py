"""One headless Chromium for the tests that read pages as a reader sees them: Debian's
``chromium`` driven by Selenium through Debian's ``chromium-driver`` (``make system`` installs
both). A test module makes its own module-scoped fixture from :func:`headless_chromium`::

    @pytest.fixture(scope="module")
    def browser() -> Iterator[WebDriver]:
        with headless_chromium(window=(1280, 1000)) as driver:
            yield driver

Without Selenium, Chromium or the driver, the test is skipped with the reason naming what to
install.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 60
"""How long a page load or a script may take before the driver gives up."""


def skip_without_chromium() -> None:
    """Skip the calling test unless Selenium, Chromium and its driver are installed."""
    pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install the Debian package chromium (make system)")
    if not CHROMEDRIVER.exists():
        pytest.skip("no /usr/bin/chromedriver: install the Debian package chromium-driver (make system)")


@contextmanager
def headless_chromium(*, window: tuple[int, int], flags: Sequence[str] = (), console: bool = False) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, no network services and a ``window`` (width,
    height) in CSS pixels; ``flags``: more command-line switches; ``console``: keep the page's
    console messages (``driver.get_log("browser")``). Quit on leaving."""
    skip_without_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="polarreports-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--window-size={window[0]},{window[1]}",
            f"--user-data-dir={profile}",
            *flags,
        ):
            options.add_argument(flag)
        if console:
            options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # the driver's path given: Selenium Manager never looks for (or downloads) one
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(WAIT_SECONDS)
        driver.set_script_timeout(WAIT_SECONDS)
        try:
            yield driver
        finally:
            driver.quit()
