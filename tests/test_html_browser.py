"""The HTML page in a real browser: headless Chromium (Debian's ``chromium``), driven by
Selenium through Debian's ``chromium-driver``. Each gallery example's page looks as approved
(a screenshot against a stored reference), and the totals read from the page's text (the DOM,
as the reader sees it) equal Polars' own and those in the PDF (``pdftotext``).

To accept a deliberate change of look: ``POLARREPORTS_UPDATE_REFERENCES=1 pytest
tests/test_html_browser.py``, then look at the new images before committing them.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from PIL import Image

import polarreports as pr
from tests.browser import headless_chromium
from tests.conftest import ROOT
from tests.test_visual import MAX_DIFFERING, REFERENCES, assert_matches_reference, differing_fraction

pytestmark = pytest.mark.slow  # starts Chromium

SCREENSHOTS = REFERENCES / "html"
WINDOW = (1000, 1200)

GALLERY: dict[str, Callable[[], pl.DataFrame]] = {
    "invoice": pr.sample.invoice_data,
    "customer_statement": pr.sample.statement_data,
    "sales_ledger": lambda: pr.sample.sales_data(2_000),
    "sales_summary": lambda: pr.sample.sales_data(2_000),
    "sales_styled": lambda: pr.sample.sales_data(300),
    "sales_dashboard": lambda: pr.sample.sales_data(300),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (see tests/browser.py), keeping the console for errors."""
    with headless_chromium(
        window=WINDOW, flags=("--hide-scrollbars", "--force-device-scale-factor=1"), console=True
    ) as driver:
        yield driver


def open_page(browser: Any, document: pr.Document, folder: Path) -> None:
    path = folder / "report.html"
    document.save(path)
    browser.get(path.as_uri())


def table_rows(browser: Any) -> list[list[str]]:
    """The text of every table row's cells, as the browser lays them out."""
    script = "return [...document.querySelectorAll('tr')].map(r => [...r.cells].map(c => c.innerText.trim()))"
    return browser.execute_script(script)  # type: ignore[no-any-return]


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("€", ""))


def _euros(value: Decimal) -> str:
    return f"€{value:,.2f}"


def _invoice_totals(data: pl.DataFrame) -> list[str]:
    subtotal = (data["quantity"] * data["unit_price"]).sum()
    due = (subtotal * Decimal("1.19")).quantize(Decimal("0.01"))
    return [f"Subtotal\n{_euros(subtotal)}", f"Total due\n{_euros(due)}"]


def _statement_totals(data: pl.DataFrame) -> list[str]:
    balances = data.group_by("customer_no", maintain_order=True).agg(
        balance=pl.col("debit").fill_null(0).sum() - pl.col("credit").fill_null(0).sum()
    )
    return [f"Closing balance\n{_euros(balance)}" for balance in balances["balance"]]


def _ledger_totals(data: pl.DataFrame) -> list[str]:
    amount = data["quantity"] * data["unit_price"].cast(pl.Float64) * (1 - data["discount"])
    return [f"Grand total\n{data.height:,} orders\n{amount.sum():,.2f}"]


def _summary_totals(data: pl.DataFrame) -> list[str]:
    revenue = (data["quantity"] * data["unit_price"]).sum()
    return [f"Grand total\n{data['quantity'].sum():,}\n{data.height:,}\n{_euros(revenue)}"]


def _dashboard_totals(data: pl.DataFrame) -> list[str]:
    return [f"Sales dashboard\n{_euros((data['quantity'] * data['unit_price']).sum())}"]


TOTALS: dict[str, Callable[[pl.DataFrame], list[str]]] = {
    "invoice": _invoice_totals,
    "customer_statement": _statement_totals,
    "sales_ledger": _ledger_totals,
    "sales_summary": _summary_totals,
    "sales_dashboard": _dashboard_totals,
}
"""Per example, its totals as Polars computes them, as the page's text must show them (the
cells of a row separated by a tab or a line break, as the browser's ``innerText`` gives them).
sales_styled is checked against the PDF too, below."""


def _has_reference_fonts() -> bool:
    """Whether the fonts the references were taken with are installed: the page names Inter,
    Helvetica Neue and Arial first, and on Debian finds Liberation Sans (``fonts-liberation``)."""
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":family=Liberation Sans"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


@pytest.mark.parametrize("name", list(GALLERY))
def test_each_gallery_page_looks_as_approved(browser: Any, tmp_path: Path, name: str) -> None:
    data = GALLERY[name]()
    open_page(browser, pr.load(ROOT / "examples" / f"{name}.yaml").render(data), tmp_path)
    assert browser.title
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # nothing blocked (the page's policy), nothing missing
    screenshot = browser.get_screenshot_as_png()
    text = browser.execute_script("return document.body.innerText").replace("\t", "\n")
    for total in TOTALS.get(name, lambda _: [])(data):
        assert total in text
    if name == "sales_dashboard":  # its charts: inline SVG, drawn (two in the title, two per region)
        sizes = browser.execute_script(
            "return [...document.querySelectorAll('div.chart[role=img] > svg')].map(s => "
            "[s.getBoundingClientRect().width, s.getBoundingClientRect().height, s.querySelectorAll('path').length])"
        )
        assert len(sizes) == 2 + 2 * 5
        assert all(width > 100 and height > 50 and paths > 0 for width, height, paths in sizes)
    if not _has_reference_fonts():
        pytest.skip("the references were taken with Liberation Sans: install the Debian package fonts-liberation")
    assert_matches_reference(screenshot, SCREENSHOTS / f"{name}.png")


@pytest.mark.typst
def test_totals_on_the_page_equal_polars_and_the_pdf(browser: Any, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext: install the Debian package poppler-utils (make system)")
    data = pr.sample.sales_data(300)
    document = pr.load(ROOT / "examples" / "sales_styled.yaml").render(data)
    open_page(browser, document, tmp_path)
    rows = table_rows(browser)

    expected = (
        data.group_by("region")
        .agg(units=pl.col("quantity").sum(), revenue=(pl.col("quantity") * pl.col("unit_price")).sum())
        .sort("region")
    )
    headers = {row[0]: _money(row[1]) for row in rows if len(row) == 2 and row[1].startswith("€")}
    footers = [row for row in rows if row and row[0] == "Region total"]
    assert len(footers) == expected.height
    for (region, units, revenue), footer in zip(expected.iter_rows(), footers, strict=True):
        assert headers[region] == revenue
        assert int(footer[1].replace(",", "")) == units
        assert _money(footer[3]) == revenue
    summary = next(row for row in rows if row and row[0] == "Grand total")
    assert int(summary[1].replace(",", "")) == data["quantity"].sum()
    assert summary[2] == f"{data.height} orders"
    total = _money(summary[3])
    assert total == (data["quantity"] * data["unit_price"]).sum()
    detail = [row for row in rows if len(row) == 7 and re.match(r"\d\d \w{3} \d{4}$", row[0])]
    assert len(detail) == data.height

    pdf = tmp_path / "report.pdf"
    document.save(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    in_pdf = [[_money(m) for m in re.findall(r"€[\d,]+\.\d\d", line)] for line in text.splitlines()]
    grand = next(line for line in text.splitlines() if line.strip().startswith("Grand total"))
    assert f"€{total:,}" in grand
    assert re.search(rf"\b{summary[1]}\b", grand)
    pdf_footers = [line for line in text.splitlines() if line.strip().startswith("Region total")]
    assert [_money(re.findall(r"€[\d,]+\.\d\d", line)[-1]) for line in pdf_footers] == [
        _money(footer[3]) for footer in footers
    ]
    assert any(headers["Central"] in amounts for amounts in in_pdf)


def test_the_comparison_catches_a_changed_page(browser: Any, tmp_path: Path) -> None:
    report = pr.load(ROOT / "examples" / "sales_styled.yaml")
    moved = report.model_copy(update={"page": report.page.model_copy(update={"font_size": 9})})
    open_page(browser, moved.render(GALLERY["sales_styled"]()), tmp_path)
    page = Image.open(io.BytesIO(browser.get_screenshot_as_png()))
    assert differing_fraction(page, Image.open(SCREENSHOTS / "sales_styled.png")) > MAX_DIFFERING


def test_hostile_values_stay_text_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """Values that would run a script if they became markup: the browser shows them as text,
    and nothing ran (the title is the report's, no console error of a blocked script)."""
    hostile = [
        "<script>document.title='ran'</script>",
        '"><img src=x onerror="document.title=\'ran\'">',
        "</td></tr></tbody></table><svg onload=\"document.title='ran'\">",
        "<a href=\"javascript:document.title='ran'\">click</a>",
    ]
    report = pr.Report(
        name="hostile",
        title="Hostile",
        groups=[pr.Group(name="value", header=pr.Band(elements=[pr.Field(column="value")]))],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="value"), pr.Field(column="value", link="value")])),
    )
    open_page(browser, report.render(pl.DataFrame({"value": hostile})), tmp_path)
    assert browser.title == "Hostile"
    assert browser.get_log("browser") == []  # not even a script the policy had to block
    cells = [cell for row in table_rows(browser) for cell in row]
    for value in hostile:
        assert cells.count(value) == 3  # the group's key, the value, the (unlinked) value
    assert browser.execute_script("return document.querySelectorAll('script, img, svg, a').length") == 0
