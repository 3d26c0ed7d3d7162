"""The live preview page in a real browser (headless Chromium driven by Selenium through
Debian's chromedriver): figures read from the page against Polars, a parameter changed in the
form, the definition edited and broken on disk, a render cancelled. Screenshots of each step
are kept in tests/_output/preview/ (ignored by git)."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from tests.browser import WAIT_SECONDS, headless_chromium
from tests.conftest import ROOT

pytest.importorskip("starlette", reason="the preview extra is not installed: pip install -e '.[dev]'")
pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[dev]'")

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from polarreports.control import Progress
from polarreports.preview import session as preview_session
from polarreports.preview.server import running

pytestmark = pytest.mark.typst

SCREENSHOTS = ROOT / "tests" / "_output" / "preview"


def expected_summary(data: Path, year: int | None = None, min_quantity: int = 1, unit: str = "orders") -> str:
    """The summary line the page should show, computed with Polars from the data file."""
    rows = pl.read_parquet(data).filter(pl.col("quantity") >= min_quantity)
    if year is not None:
        rows = rows.filter(pl.col("order_date").dt.year() == year)
    revenue = rows.select((pl.col("quantity") * pl.col("unit_price")).sum()).item()
    return f"{rows['quantity'].sum():,} · {rows.height:,} {unit} · €{revenue:,.2f}"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with headless_chromium(window=(1280, 1000)) as driver:
        yield driver


@pytest.fixture
def report_files(tmp_path: Path) -> tuple[Path, Path]:
    definition = tmp_path / "report.yaml"
    shutil.copy(ROOT / "examples" / "sales_by_region.yaml", definition)
    data = pr.sample.write_sales_data(tmp_path / "sales.parquet", 600)
    return definition, data


def wait_for(driver: WebDriver, what: str, condition: Callable[[WebDriver], Any]) -> Any:
    try:
        return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(condition)
    except WebDriverException:
        screenshot(driver, f"failed-{what}")
        state = driver.find_element(By.TAG_NAME, "body").get_attribute("data-status")
        pytest.fail(f"the page never showed {what} (status {state!r}; screenshot kept)")


def screenshot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def shown_page(driver: WebDriver, url: str) -> tuple[str, bytes]:
    """The page image the browser shows, once it has loaded: its address and its bytes."""
    image = wait_for(
        driver,
        "a loaded page image",
        lambda d: (
            (e := d.find_element(By.ID, "page")).is_displayed()
            and d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", e)
            and e
        ),
    )
    source = image.get_attribute("src")
    with urllib.request.urlopen(source, timeout=WAIT_SECONDS) as response:
        return source, response.read()


def edit(path: Path, old: str, new: str, *, by_rename: bool = False) -> None:
    """Change ``path`` as an editor does: in place, or (``by_rename``) a new file renamed over it."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    if by_rename:
        temporary = path.with_name(f".{path.name}.swp")
        temporary.write_text(text.replace(old, new), encoding="utf-8")
        temporary.replace(path)
    else:
        path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_page_follows_the_form_and_the_files(browser: WebDriver, report_files: tuple[Path, Path]) -> None:
    definition, data = report_files
    with running(definition, data) as (url, _):
        browser.get(url)
        wait_for(browser, "the first render", lambda d: text(d, "summary") == expected_summary(data))
        assert text(browser, "title") == "Sales by region and customer"
        first_source, first_image = shown_page(browser, url)
        assert first_image.startswith(b"\x89PNG")
        pages = int(text(browser, "page-count"))
        assert pages > 2
        screenshot(browser, "1-loaded")

        # a parameter changed in the form: the figures follow
        year = browser.find_element(By.ID, "param-year")
        assert year.get_attribute("type") == "number"
        year.send_keys("2025", Keys.TAB)
        wait_for(browser, "the figures of 2025", lambda d: text(d, "summary") == expected_summary(data, 2025))
        source, image = shown_page(browser, url)
        assert source != first_source
        assert image != first_image
        screenshot(browser, "2-year-2025")

        # the pager typesets the next page; the arrow keys turn pages too
        browser.find_element(By.ID, "next").click()
        wait_for(browser, "page 2", lambda d: d.find_element(By.ID, "page").get_attribute("data-page") == "2")
        assert shown_page(browser, url)[1] != image
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
        wait_for(browser, "page 3", lambda d: d.find_element(By.ID, "page").get_attribute("data-page") == "3")
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
        wait_for(browser, "page 2 again", lambda d: d.find_element(By.ID, "page").get_attribute("data-page") == "2")

        # the definition edited on disk (in place): the page changes by itself
        edit(definition, "title: Sales by region and customer", "title: Regional sales, edited")
        edit(definition, "format: '#,##0 orders', size: 10", "format: '#,##0 sales', size: 10", by_rename=True)
        wait_for(browser, "the edited title", lambda d: text(d, "title") == "Regional sales, edited")
        wait_for(
            browser, "the edited summary", lambda d: text(d, "summary") == expected_summary(data, 2025, unit="sales")
        )
        assert browser.find_element(By.ID, "page").get_attribute("data-page") == "2"  # the reader's page stays
        screenshot(browser, "3-edited")

        # a typo: the error in place, naming the element; the last pages stay, dimmed
        edit(definition, "column: customer, bold: true", "column: custmer, bold: true")
        wait_for(browser, "the error", lambda d: d.find_element(By.ID, "error").is_displayed())
        assert text(browser, "error-kind") == "PlanError"
        assert text(browser, "error-where") == "in groups[1] ('customer').header.elements[0] (field 'custmer')"
        assert "unknown column 'custmer'; did you mean 'customer'" in text(browser, "error-message")
        assert "stale" in str(browser.find_element(By.ID, "page").get_attribute("class"))
        screenshot(browser, "4-typo")

        edit(definition, "column: custmer, bold: true", "column: customer, bold: true")
        wait_for(browser, "the error gone", lambda d: not d.find_element(By.ID, "error").is_displayed())
        wait_for(
            browser, "a render", lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-status") == "done"
        )

        # data is never markup: a value with HTML in it comes back as text in the error
        year = browser.find_element(By.ID, "param-min_quantity")
        browser.execute_script("arguments[0].type = 'text'", year)  # what a hostile form could send
        year.clear()
        year.send_keys("<img src=x onerror=document.title='owned'>", Keys.TAB)
        wait_for(browser, "the parameter error", lambda d: d.find_element(By.ID, "error").is_displayed())
        assert "<img src=x" in text(browser, "error-message")
        assert browser.find_elements(By.CSS_SELECTOR, "#error img") == []
        assert browser.title != "owned"
        screenshot(browser, "5-markup-as-text")

        # the data file replaced: the figures follow it
        year.clear()
        year.send_keys("1", Keys.TAB)
        pr.sample.write_sales_data(data.with_name("new.parquet"), 300, seed=11).replace(data)
        wait_for(
            browser,
            "the new data's figures",
            lambda d: text(d, "summary") == expected_summary(data, 2025, unit="sales"),
        )


@pytest.mark.serial
def test_a_render_is_cancelled_from_the_page(
    browser: WebDriver, report_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    definition, data = report_files
    real_render = preview_session.render
    slow = threading.Event()

    def render(report: Any, source: Any, **options: Any) -> Any:
        if slow.is_set():  # a render that takes its time in the data phase, as a big one would
            token, progress = options["cancel"], options["progress"]
            for done in range(0, 10_000, 10):
                progress(Progress("data", done, 10_000, "rows"))
                if token.wait(0.05):
                    break
            token.wait(WAIT_SECONDS)
        return real_render(report, source, **options)

    monkeypatch.setattr(preview_session, "render", render)
    with running(definition, data) as (url, _):
        browser.get(url)
        wait_for(browser, "the first render", lambda d: text(d, "summary") == expected_summary(data))
        slow.set()
        browser.find_element(By.ID, "param-year").send_keys("2024", Keys.TAB)
        wait_for(browser, "progress", lambda d: "rows" in text(d, "status"))
        cancel = browser.find_element(By.ID, "cancel")
        assert cancel.is_enabled()
        assert 0 < float(browser.find_element(By.ID, "progress").get_attribute("value") or 0) < 1
        screenshot(browser, "6-rendering")
        start = time.monotonic()
        cancel.click()
        wait_for(browser, "the cancel", lambda d: text(d, "status") == "cancelled")
        assert time.monotonic() - start < 5
        assert not cancel.is_enabled()
        assert text(browser, "summary") == expected_summary(data)  # the last pages stay


FORM_REPORT = """
name: every_kind
title: Every kind of parameter
parameters:
  - {name: region, type: string, allowed: [North, South, East, West, Central], default: North}
  - {name: since, type: date, default: '2024-01-01'}
  - {name: until, type: datetime}
  - {name: max_quantity, type: integer, default: 100}
  - {name: min_discount, type: float}
  - {name: discounted, type: boolean, default: false}
  - {name: note, type: string, description: Printed under the title.}
filter: >-
  region = :region AND order_date >= :since AND quantity <= :max_quantity
  AND (NOT :discounted OR discount > 0)
bands:
  title:
    elements: [{type: expression, expr: ':note', null_text: '-'}]
  detail:
    elements: [{type: field, column: order_id}, {type: field, column: region}]
  summary:
    elements: [{type: aggregate, variable: orders}]
variables:
  - {name: orders, calculation: count}
"""


def test_the_form_has_a_control_per_kind_of_parameter(browser: WebDriver, tmp_path: Path) -> None:
    definition = tmp_path / "every_kind.yaml"
    definition.write_text(FORM_REPORT, encoding="utf-8")
    data = pr.sample.write_sales_data(tmp_path / "sales.parquet", 300)
    frame = pl.read_parquet(data)

    def orders(region: str, discounted: bool = False) -> str:
        rows = frame.filter(pl.col("region") == region, pl.col("order_date") >= pl.date(2024, 1, 1))
        rows = rows.filter(pl.col("quantity") <= 100)
        return f"{rows.filter(pl.col('discount') > 0).height if discounted else rows.height}"

    with running(definition, data) as (url, _):
        browser.get(url)
        wait_for(browser, "the first render", lambda d: text(d, "summary") == orders("North"))
        kinds = {
            name: (element.tag_name, element.get_attribute("type"))
            for name in ("region", "since", "until", "max_quantity", "min_discount", "discounted", "note")
            for element in [browser.find_element(By.ID, f"param-{name}")]
        }
        assert kinds == {
            "region": ("select", "select-one"),
            "since": ("input", "date"),
            "until": ("input", "datetime-local"),
            "max_quantity": ("input", "number"),
            "min_discount": ("input", "number"),
            "discounted": ("input", "checkbox"),
            "note": ("input", "text"),
        }
        options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#param-region option")]
        assert options == ["(not set)", "North", "South", "East", "West", "Central"]
        screenshot(browser, "7-every-kind")

        browser.find_element(By.CSS_SELECTOR, "#param-region option[value='West']").click()
        wait_for(browser, "West's orders", lambda d: text(d, "summary") == orders("West"))
        browser.find_element(By.ID, "param-discounted").click()
        wait_for(browser, "West's discounted orders", lambda d: text(d, "summary") == orders("West", discounted=True))
