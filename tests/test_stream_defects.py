"""Defects of the band stream found by users (issue 11): each test failed before its fix."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)")


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as ``pdftotext`` reads it."""
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def title_and_summary(*, no_data: bool = False) -> pr.Report:
    return pr.Report(
        name="kpis",
        variables=[pr.Variable(name="total", calculation="sum", expression="amount")],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="Key figures")]),
            summary=pr.Band(elements=[pr.Label(text="Total amount"), pr.Aggregate(variable="total", format="0")]),
            no_data=pr.Band(elements=[pr.Label(text="Nothing to show")]) if no_data else None,
        ),
    )


# -- a report of only a title and a summary ------------------------------------------------


def test_a_report_of_a_title_and_a_summary_prints_both(tmp_path: Path) -> None:
    document = title_and_summary(no_data=True).render(pl.DataFrame({"amount": [1, 2, 39]}))
    text = pdftotext(document.pdf, tmp_path)
    assert "Key figures" in text
    assert "Total amount" in text
    assert "42" in text
    assert "Nothing to show" not in text


def test_a_report_of_a_summary_alone_prints_it(tmp_path: Path) -> None:
    report = title_and_summary().model_copy(update={"bands": pr.Bands(summary=title_and_summary().bands.summary)})
    text = pdftotext(report.render(pl.DataFrame({"amount": [5, 5]})).pdf, tmp_path)
    assert "Total amount" in text
    assert "10" in text


def test_without_rows_the_title_and_summary_report_prints_its_no_data_band(tmp_path: Path) -> None:
    document = title_and_summary(no_data=True).render(pl.DataFrame({"amount": []}, schema={"amount": pl.Int64}))
    text = pdftotext(document.pdf, tmp_path)
    assert "Key figures" in text
    assert "Nothing to show" in text
    assert "Total amount" not in text
