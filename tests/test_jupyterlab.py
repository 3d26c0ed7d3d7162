"""The notebook display in a real JupyterLab: ``jupyter lab`` started on a free localhost port
(a temporary notebook folder, a token, no browser of its own), driven by headless Chromium
through Selenium (Debian's ``chromium`` and ``chromium-driver``). A notebook renders a Document
and calls ``report.preview(...)``; the test clicks the pager, changes a parameter in its
control (the figures checked against Polars) and cancels a render, as a person would.
Screenshots of each step are kept in tests/_output/notebook/ (ignored by git)."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

import polarreports as pr
from tests.conftest import ROOT
from tests.test_html_browser import browser  # the shared headless Chromium

# Looked for, not imported: they run in the server and kernel started for the test (importing
# jupyterlab here took 2 s in every test process, for its JSON Schema's URI grammar)
for _module, _name in [("jupyterlab", "JupyterLab"), ("ipykernel", "ipykernel"), ("ipywidgets", "ipywidgets")]:
    if importlib.util.find_spec(_module) is None:
        pytest.skip(f"{_name} is not installed: pip install -e '.[dev]'", allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.typst]  # starts JupyterLab and Chromium; typesets

__all__ = ["browser"]

SCREENSHOTS = ROOT / "tests" / "_output" / "notebook"
WAIT_SECONDS = 40
SLOW_YEAR = 2024
"""A render for this year takes its time in the data phase (until cancelled), as a big one would."""

CELLS = [
    # a document: its first pages, the page count and the pager
    "import polars as pl\n"
    "import polarreports as pr\n"
    "report = pr.load('sales_by_region.yaml')\n"
    "data = pl.read_parquet('sales.parquet')\n"
    "doc = report.render(data)\n"
    "doc",
    # for the test only: a render of SLOW_YEAR waits in its data phase until cancelled
    "import threading\n"
    "from polarreports.control import Progress\n"
    "real_render = pr.Report.render\n"
    "def render(self, data, /, **options):\n"
    f"    if str((options.get('params') or {{}}).get('year')) == '{SLOW_YEAR}':\n"
    "        for done in range(0, 10_000, 10):\n"
    "            options['progress'](Progress('data', done, 10_000, 'rows'))\n"
    "            if options['cancel'].wait(0.05):\n"
    "                break\n"
    "    return real_render(self, data, **options)\n"
    "pr.Report.render = render",
    # the interactive preview
    "preview = report.preview(data)\npreview",
]


def notebook(cells: list[str]) -> dict[str, Any]:
    """A notebook (nbformat 4) of these code cells, without outputs, on the Python 3 kernel."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": code, "outputs": [], "execution_count": None}
            for i, code in enumerate(cells)
        ],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class JupyterLab:
    """A ``jupyter lab`` server started for the test."""

    base: str
    token: str
    folder: Path
    """The folder it serves."""
    server: subprocess.Popen[bytes]
    log: Path

    def address(self, notebook: str) -> str:
        """The address that opens ``notebook`` (in a fresh workspace), once the server answers."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as response:
                    if response.status == 200:
                        return f"{self.base}/lab/tree/{notebook}?token={self.token}&reset"
            except OSError:
                pass
            if self.server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """``jupyter lab`` on a free localhost port, serving a temporary folder (its config, data
    and runtime folders temporary too). It starts while Chromium does: ask for it first."""
    folder = tmp_path_factory.mktemp("jupyterlab")
    notebooks, home = folder / "notebooks", folder / "home"
    notebooks.mkdir()
    home.mkdir()
    (home / "config" / "labconfig").mkdir(parents=True)
    # no "news" question popping up over the notebook
    disabled = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (home / "config" / "labconfig" / "page_config.json").write_text(json.dumps(disabled))
    token, port = "polarreports-test-token", free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",  # CI runs as root
        "--ServerApp.terminals_enabled=False",
        "--LabApp.extension_manager=readonly",  # never asks a package index
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the test runs the cells with it
    ]
    log = (folder / "jupyterlab.log").open("wb")
    server = subprocess.Popen(  # a process group of its own, with its kernels: stopped together
        command, env=environment, cwd=notebooks, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield JupyterLab(f"http://127.0.0.1:{port}", token, notebooks, server, folder / "jupyterlab.log")
    finally:
        server.terminate()  # it shuts its kernels down
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        with contextlib.suppress(ProcessLookupError):  # a kernel it could not stop
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def wait_for(driver: WebDriver, what: str, condition: Callable[[WebDriver], Any]) -> Any:
    try:
        return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.2).until(condition)
    except WebDriverException:
        screenshot(driver, f"failed-{what.replace(' ', '-')}")
        pytest.fail(f"JupyterLab never showed {what} (screenshot kept in {SCREENSHOTS})")


def screenshot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def output_of(driver: WebDriver, cell: int) -> WebElement:
    """The output area of the notebook's code cell ``cell`` (from 0)."""
    element: WebElement = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[cell]
    return element.find_element(By.CSS_SELECTOR, ".jp-Cell-outputArea")


def button(area: WebElement, label: str) -> WebElement:
    found: WebElement = area.find_element(By.XPATH, f".//button[normalize-space()='{label}']")
    return found


def control(area: WebElement, label: str) -> WebElement:
    """The input of the preview's parameter control labelled ``label`` in ``area``."""
    return area.find_element(
        By.XPATH, f".//div[contains(@class,'widget-inline-hbox')][.//label[normalize-space()='{label}']]//input"
    )


def html_text(area: WebElement, starts: str) -> str:
    """The text of the first HTML widget in ``area`` whose text starts with ``starts`` ('' if none)."""
    for element in area.find_elements(By.CSS_SELECTOR, ".widget-html-content"):
        text = str(element.text)
        if text.startswith(starts):
            return text
    return ""


def image_bytes(driver: WebDriver, area: WebElement) -> list[bytes]:
    """The bytes of the image widgets shown in ``area`` (read back from the page's blob URLs)."""
    script = """
        const done = arguments[arguments.length - 1];
        const images = [...arguments[0].querySelectorAll('img.widget-image')]
            .filter(i => getComputedStyle(i).visibility !== 'hidden' && i.src);
        Promise.all(images.map(i => fetch(i.src).then(r => r.arrayBuffer()).then(b => {
            let s = ''; const a = new Uint8Array(b);
            for (let k = 0; k < a.length; k++) s += String.fromCharCode(a[k]);
            return btoa(s);
        }))).then(done, e => done(String(e)));
    """
    shown = driver.execute_async_script(script, area)
    assert isinstance(shown, list), shown
    return [base64.b64decode(image) for image in shown]


def expected_summary(data: pl.DataFrame, year: int | None = None, min_quantity: int = 1) -> str:
    """The preview's summary line, computed with Polars from the data."""
    rows = data.filter(pl.col("quantity") >= min_quantity)
    if year is not None:
        rows = rows.filter(pl.col("order_date").dt.year() == year)
    revenue = rows.select((pl.col("quantity") * pl.col("unit_price")).sum()).item()
    return f"Summary: {rows['quantity'].sum():,} · {rows.height:,} orders · €{revenue:,.2f}"


def test_a_document_and_a_preview_in_jupyterlab(jupyterlab: JupyterLab, browser: WebDriver) -> None:
    folder = jupyterlab.folder
    shutil.copy(ROOT / "examples" / "sales_by_region.yaml", folder)
    data = pl.read_parquet(pr.sample.write_sales_data(folder / "sales.parquet", 600))
    (folder / "report.ipynb").write_text(json.dumps(notebook(CELLS)), encoding="utf-8")
    browser.set_script_timeout(WAIT_SECONDS)
    browser.get(jupyterlab.address("report.ipynb"))

    wait_for(
        browser,
        "an idle kernel",
        lambda d: d.execute_script(
            "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            "return !!(w && w.sessionContext && w.sessionContext.session"
            " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle');"
        ),
    )
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    expected = pr.load(folder / "sales_by_region.yaml").render(data)  # here, while the kernel works
    expected_pages = [bytes(expected.page(number)) for number in (1, 2, 3)]
    total = expected.page_count

    # the document: its first two pages, the page count; the pager turns to pages 3-4
    document = output_of(browser, 0)
    heading = wait_for(browser, "the document's pages", lambda d: html_text(output_of(d, 0), "polarreports document"))
    assert heading == f"polarreports document: {total} pages, showing 1–2"
    first = wait_for(browser, "two page images", lambda d: len(shown := image_bytes(d, document)) == 2 and shown)
    assert first == expected_pages[:2]
    screenshot(browser, "1-document")
    button(document, "Next ▶").click()
    wait_for(browser, "pages 3-4", lambda d: html_text(document, "polarreports").endswith("showing 3–4"))
    assert image_bytes(browser, document)[0] == expected_pages[2]
    assert button(document, "◀ Previous").is_enabled()
    screenshot(browser, "2-document-pages-3-4")

    # the preview: the figures of the defaults, then of a parameter changed in its control
    preview = output_of(browser, 2)
    shows_defaults = lambda d: html_text(output_of(d, 2), "Summary") == expected_summary(data)  # noqa: E731
    wait_for(browser, "the preview's figures", shows_defaults)
    screenshot(browser, "3-preview")
    min_quantity = control(preview, "min_quantity")
    min_quantity.send_keys(Keys.CONTROL, "a")
    min_quantity.send_keys("3", Keys.ENTER)
    wait_for(
        browser,
        "the figures for min_quantity 3",
        lambda d: html_text(preview, "Summary") == expected_summary(data, min_quantity=3),
    )
    screenshot(browser, "4-preview-min-quantity-3")

    # a slow render, cancelled: the figures shown stay
    control(preview, "year").send_keys(str(SLOW_YEAR), Keys.ENTER)
    wait_for(browser, "the render's progress", lambda d: "rows" in html_text(preview, "data"))
    cancel = button(preview, "Cancel")
    assert cancel.is_enabled()
    screenshot(browser, "5-preview-rendering")
    start = time.monotonic()
    cancel.click()
    wait_for(browser, "the render cancelled", lambda d: html_text(preview, "cancelled") == "cancelled")
    assert time.monotonic() - start < 5
    assert not cancel.is_enabled()
    assert html_text(preview, "Summary") == expected_summary(data, min_quantity=3)
    screenshot(browser, "6-preview-cancelled")

    # a notebook saved with the display's outputs, opened without running it (untrusted: its
    # HTML sanitized, its <style> stripped): the pages embedded, one pair after another
    saved = notebook(["doc"])
    output = {"output_type": "execute_result", "data": expected._repr_mimebundle_(), "metadata": {}}
    saved["cells"][0].update(outputs=[{**output, "execution_count": 1}], execution_count=1)
    (folder / "saved.ipynb").write_text(json.dumps(saved), encoding="utf-8")
    browser.execute_script("window.jupyterapp.commands.execute('docmanager:open', {path: 'saved.ipynb'})")
    views = wait_for(
        browser,
        "the saved pages",
        lambda d: (
            len(shown := [e for e in d.find_elements(By.CSS_SELECTOR, ".view") if e.is_displayed()]) == 2 and shown
        ),
    )
    assert [str(view.text) for view in views] == [
        f"pages 1–2 of {total}",
        f"pages 3–4 of {total} (pages 5–{total} of {total} not shown here: doc.page(5), or save the PDF)",
    ]  # and no ◀ ▶ that could not turn pages
    assert [image.get_attribute("src") for view in views for image in view.find_elements(By.TAG_NAME, "img")] == [
        "data:image/png;base64," + base64.b64encode(page).decode() for page in (*expected_pages, expected.page(4))
    ]
    screenshot(browser, "7-saved-notebook")
