"""Page sizes: Typst's paper names, any WIDTH x HEIGHT, and receipts (80 mm wide, as tall as
their content), checked on the PDF's pages."""

from __future__ import annotations

import io
import logging

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from polarreports.definition.papers import PAPER_MM, parse_size
from tests.conftest import chunking_small, pdf_lines

MM = 72 / 25.4


def _report(size: str, **page: object) -> pr.Report:
    return pr.Report(
        name="sized",
        page={"size": size, "margins": {"top": "5mm", "bottom": "5mm", "left": "4mm", "right": "4mm"}, **page},
        bands={
            "title": {"elements": [{"type": "label", "text": "RECEIPT", "align": "center"}]},
            "detail": {
                "elements": [
                    {"type": "field", "column": "item"},
                    {"type": "field", "column": "price", "format": "0.00", "width": "20mm"},
                ]
            },
            "summary": {"elements": [{"type": "label", "text": "TOTAL"}, {"type": "aggregate", "variable": "t"}]},
        },
        variables=[{"name": "t", "calculation": "sum", "expression": "price"}],
    )


def _items(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"item": [f"item {i}" for i in range(rows)], "price": [1.25 * (i + 1) for i in range(rows)]})


def _sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [(round(float(p.mediabox.width) / MM, 1), round(float(p.mediabox.height) / MM, 1)) for p in pages]


@pytest.mark.typst
@pytest.mark.parametrize(("size", "expected"), [("a6", (105, 148)), ("US-Executive", (184.1, 266.7)), ("iso-c5", None)])
def test_named_sizes_are_typst_papers(size: str, expected: tuple[float, float] | None) -> None:
    pdf = _report(size).render(_items(3)).pdf
    width, height = PAPER_MM[size.lower()]
    assert _sizes_mm(pdf) == [expected or (width, height)]


@pytest.mark.typst
def test_width_x_height_and_landscape() -> None:
    assert _sizes_mm(_report("4in x 6in").render(_items(3)).pdf) == [(101.6, 152.4)]
    assert _sizes_mm(_report("100mm × 150mm", orientation="landscape").render(_items(3)).pdf) == [(150.0, 100.0)]


@pytest.mark.typst
def test_a_receipt_is_80mm_wide_and_as_tall_as_its_content() -> None:
    short = _report("80mm x auto").render(_items(5))
    long = _report("80mm x auto").render(_items(60))
    ((width, height),) = _sizes_mm(short.pdf)
    ((long_width, long_height),) = _sizes_mm(long.pdf)
    assert width == long_width == 80.0
    assert 20 < height < long_height < 400  # one page that grows with the rows, far below the 5 m stand-in
    lines = pdf_lines(long.pdf)
    assert lines[0] == "RECEIPT"
    assert lines[-1].split() == ["TOTAL", f"{sum(1.25 * (i + 1) for i in range(60)):,.2f}"]


@pytest.mark.typst
def test_a_long_receipt_is_typeset_in_one_piece_with_the_reason_logged(caplog: pytest.LogCaptureFixture) -> None:
    with chunking_small(), caplog.at_level(logging.INFO, logger="polarreports"):
        doc = _report("80mm x auto").render(_items(400))
        pdf = doc.pdf
    assert len(_sizes_mm(pdf)) == 1
    assert "page height is auto" in doc.stats["typeset"]
    assert any("page height is auto" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ("a44", "did you mean 'a4'?"),
        ("80mm x 2mm", "height 2mm is out of range"),
        ("80 x 100", "is no paper size"),
        ("80mm x auto; evil", "is no paper size"),
    ],
)
def test_bad_sizes_are_refused_with_a_hint(size: str, problem: str) -> None:
    with pytest.raises(pr.DefinitionError, match=problem):
        _report(size)
    with pytest.raises(ValueError, match=problem):
        parse_size(size)


def test_an_auto_height_cannot_be_turned_and_round_trips() -> None:
    with pytest.raises(pr.DefinitionError, match="no fixed height to turn"):
        _report("80mm x auto", orientation="landscape")
    with pytest.raises(pr.DefinitionError, match="no column to fill"):
        _report("80mm x auto", columns=2)
    report = _report(" A5 ")
    assert report.page.size == "a5"
    receipt = _report("80mm x auto")
    assert pr.Report.model_validate_json(receipt.model_dump_json()) == receipt
    assert receipt.page.auto_height
