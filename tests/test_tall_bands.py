"""A band taller than a page (its tall variant) with ``keep_together``: kept whole on the next
page when it fits on one, split across pages (every character printed) when it does not."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from tests.test_text_loss import LINES, assert_whole

pytestmark = pytest.mark.typst


def kept(*values: str) -> bytes:
    report = pr.Report(
        name="tall", bands=pr.Bands(detail=pr.Band(keep_together=True, elements=[pr.Field(column="note")]))
    )
    return report.render(pl.DataFrame({"note": list(values)})).pdf


def value_lines_per_page(pdf: bytes) -> list[int]:
    """How many of the words ``line<i>`` each page shows."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True)
    return [page.count(">line") for page in out.stdout.split("<page ")[1:]]


def test_a_kept_band_taller_than_a_page_is_split_and_printed_whole() -> None:
    pdf = kept("a", LINES, "z")  # 100 lines: more than a page
    assert_whole(pdf, "a" + LINES + "z")
    assert sum(value_lines_per_page(pdf)) == 100


def test_a_kept_band_that_fits_on_a_page_moves_there_whole() -> None:
    value = "\n".join(f"line{i}" for i in range(70))  # most of a page, past what is left of the first
    pdf = kept(*(f"row{i}" for i in range(30)), value, "z")
    assert value_lines_per_page(pdf)[:2] == [0, 70]


def page_texts(pdf: bytes) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    pages = out.stdout.split("\f")
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in pages if page.strip()]


@pytest.mark.parametrize("keep_together", [False, True])
def test_a_band_split_across_pages_says_continued_atop_each_page_it_goes_on_to(keep_together: bool) -> None:
    long = LINES + "\n" + "\n".join(f"more{i}" for i in range(100))  # three pages
    report = pr.Report(
        name="tall",
        bands=pr.Bands(
            detail=pr.Band(
                keep_together=keep_together,
                elements=[pr.Field(column="id", width="20%"), pr.Field(column="note")],
            )
        ),
    )
    pdf = report.render(pl.DataFrame({"id": [1, 2, 3], "note": ["a", long, "z"]})).pdf
    pages = page_texts(pdf)
    assert [page[0] for page in pages] == ["1 a", "(continued)", "(continued)"]
    assert pages[1][1].startswith("line")
    assert sum(line.count("(continued)") for page in pages for line in page) == 2  # not on the first page
    assert_whole(pdf, "1a2" + long + "3z")


def test_the_marker_is_the_innermost_groups_continued_text() -> None:
    report = pr.Report(
        name="tall",
        groups=[pr.Group(name="g", continued_text="(suite)")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="note")])),
    )
    pages = page_texts(report.render(pl.DataFrame({"g": [1], "note": [LINES + "\n" + LINES]})).pdf)
    assert [page[0] for page in pages[1:]] == ["(suite)"] * (len(pages) - 1)
