"""The output side: page breaks before the first group, output files (mode, atomic writes,
destination checks), the time limit after render, and SIGTERM (issues 11 and 12)."""

from __future__ import annotations

import io
import logging
import re

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from polarreports.output import typeset
from tests.conftest import EXAMPLE, pdf_pages


def regions_on_new_pages() -> pr.Report:
    """The example report with each region starting a new page."""
    report = pr.load(EXAMPLE)
    region, *rest = report.groups
    return report.model_copy(update={"groups": [region.model_copy(update={"new_page": True}), *rest]})


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    return pr.sample.sales_data(4_000)  # about 4,100 bands: typeset in chunks


def page_of_totals(pages: list[str]) -> list[tuple[int, int]]:
    return [tuple(map(int, m.groups())) for text in pages if (m := re.search(r"Page (\d+) of (\d+)", text))]


def test_the_first_group_on_a_new_page_follows_the_title(orders: pl.DataFrame) -> None:
    document = regions_on_new_pages().render(orders)
    pages = pdf_pages(document.pdf)
    assert "chunks in" in document.stats["typeset"], document.stats["typeset"]
    first_region = orders["region"].sort()[0]
    assert first_region in pages[0]  # not a page with the title and the column header alone
    numbers = page_of_totals(pages)
    assert numbers == [(i, len(pages)) for i in range(1, len(pages) + 1)]
    assert document.page_count == len(pages)
    # each later region starts a page of its own
    regions = orders["region"].unique().sort().to_list()
    starts = [next(i for i, text in enumerate(pages) if f"\n{region} " in text) for region in regions[1:]]
    assert all(
        pages[i].split("Running\n", 1)[1].startswith(region) for i, region in zip(starts, regions[1:], strict=True)
    )
    # the preview knows the same total, and says so on its first page
    (preview,) = document.preview(1, format="pdf")
    assert document.stats["pages_predicted"] == document.page_count
    assert page_of_totals(pdf_pages(preview))[:1] == [(1, document.page_count)]


def test_a_fallback_to_one_piece_is_logged_with_its_reason(
    orders: pl.DataFrame, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    measure = typeset._measure

    def taller(source: object, data: typeset.ReportData) -> object:  # heights off by 10%: breaks mispredicted
        found = measure(source, data)  # type: ignore[arg-type]
        return typeset.replace(found, heights=[h * 1.1 for h in found.heights])  # type: ignore[type-var]

    monkeypatch.setattr(typeset, "_measure", taller)
    document = pr.load(EXAMPLE).render(orders)
    with caplog.at_level(logging.WARNING, logger="polarreports"):
        pdf = document.pdf
    assert document.stats["typeset"].startswith("one piece (chunk 1 took")
    (record,) = [r for r in caplog.records if r.name == "polarreports" and r.levelno == logging.WARNING]
    assert "one piece, not in chunks: chunk 1 took" in record.getMessage()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == document.page_count
