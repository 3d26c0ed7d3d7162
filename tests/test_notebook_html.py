"""A document's plain HTML display (no widget, no kernel, no script: VS Code without the Jupyter
extension, nbviewer, a saved notebook): its first pages, a pager of CSS alone, bounded in size,
every text escaped; and in headless Chromium with scripts forbidden, the pager turns pages."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

import polarreports as pr
from polarreports.output.pages import HTML_BUDGET, HTML_PAGES, PageImage, embedded, paged_html
from tests.conftest import ROOT
from tests.test_html_browser import browser

__all__ = ["browser"]

SCREENSHOTS = ROOT / "tests" / "_output" / "notebook"


def fake_pages(count: int, size: int = 10) -> list[PageImage]:
    return [PageImage(b"\x89PNG" + bytes([n]) * size, "png", n) for n in range(1, count + 1)]


def views(shown: str) -> list[str]:
    """The captions of the views, in order (each stands between its ◀ and ▶)."""
    return re.findall(r"(pages? \d+(?:–\d+)? of \d+) <", shown)


def test_the_first_pages_in_views_of_two_with_the_rest_named() -> None:
    shown = paged_html(fake_pages(9), total=12)
    assert shown.count("data:image/png;base64,") == HTML_PAGES
    assert views(shown) == ["pages 1–2 of 12", "pages 3–4 of 12"]
    assert "pages 5–12 of 12 not shown here: doc.page(5)" in shown
    assert "<script" not in shown
    assert shown.count('type="radio"') == 2  # ▶ in view 1, ◀ in view 2
    assert shown.count('class="off"') == 2  # no ◀ before the first, no ▶ after the last


def test_an_odd_count_ends_on_one_page_and_one_page_has_no_pager() -> None:
    assert views(paged_html(fake_pages(3), total=3)) == ["pages 1–2 of 3", "page 3 of 3"]
    single = paged_html(fake_pages(1), total=1)
    assert views(single) == ["page 1 of 1"]
    assert "1 page<" in single
    assert 'type="radio"' not in single
    assert "not shown here" not in single


def test_the_images_embedded_are_bounded() -> None:
    big = fake_pages(4, size=HTML_BUDGET // 3)
    assert [page.number for page in embedded(big)] == [1, 2]
    assert [page.number for page in embedded(fake_pages(2, size=2 * HTML_BUDGET))] == [1]  # the first, always
    shown = paged_html(big, total=6)
    assert shown.count("data:image/png;base64,") == 2
    assert len(shown) < HTML_BUDGET * 4 / 3 + 10_000
    assert "pages 3–6 of 6 not shown here" in shown


def test_two_displays_do_not_share_a_pager() -> None:
    first, second = (re.search(r'name="(prp-[0-9a-f]+)"', paged_html(fake_pages(4))) for _ in range(2))
    assert first is not None
    assert second is not None
    assert first.group(1) != second.group(1)


def shown_pages(driver: Any) -> list[bytes]:
    """The bytes of the page images the browser shows (data URIs of displayed images)."""
    from selenium.webdriver.common.by import By

    images = [image for image in driver.find_elements(By.CSS_SELECTOR, "img") if image.is_displayed()]
    return [base64.b64decode(str(image.get_attribute("src")).split(",", 1)[1]) for image in images]


def turn(driver: Any, arrow: str) -> None:
    """Click the ◀ or ▶ of the view shown."""
    from selenium.webdriver.common.by import By

    labels = driver.find_elements(By.XPATH, f"//label[normalize-space()='{arrow}']")
    next(label for label in labels if label.is_displayed()).click()


@pytest.mark.slow
@pytest.mark.typst
def test_the_pager_turns_pages_without_script(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    document = pr.load(ROOT / "examples" / "sales_by_region.yaml").render(pr.sample.sales_data(600))
    shown = document._repr_html_()
    assert "<script" not in shown
    assert document._repr_html_() == shown  # made once
    page = tmp_path / "notebook-output.html"
    head = '<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'
    page.write_text(f"<!doctype html><html><head>{head}</head><body>{shown}</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    total = document.page_count

    def caption() -> str:
        return next(str(e.text) for e in browser.find_elements(By.CSS_SELECTOR, ".view") if e.is_displayed())

    assert shown_pages(browser) == [bytes(document.page(1)), bytes(document.page(2))]
    assert caption() == f"◀ pages 1–2 of {total} ▶"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "html-1.png"))
    turn(browser, "▶")
    assert shown_pages(browser) == [bytes(document.page(3)), bytes(document.page(4))]
    rest = f"pages 5–{total} of {total} not shown here: doc.page(5), or save the PDF"
    assert caption() == f"◀ pages 3–4 of {total} ▶ ({rest})"
    browser.save_screenshot(str(SCREENSHOTS / "html-2.png"))
    turn(browser, "◀")
    assert shown_pages(browser) == [bytes(document.page(1)), bytes(document.page(2))]
