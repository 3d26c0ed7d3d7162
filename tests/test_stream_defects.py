"""Defects of the band stream found by users (issue 11): each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.data.stream import collect_stream
from polarreports.layout.typst_source import band_indices


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as ``pdftotext`` reads it."""
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (poppler-utils)")
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


# -- parameters where no row is left -------------------------------------------------------


def static_texts(report: pr.Report, data: pl.DataFrame, **params: object) -> dict[str, list[str]]:
    """The display strings of the report-scope bands, from the band stream (no Typst)."""
    plan, scopes = plan_report(report, data, **params)
    return collect_stream(plan, scopes, band_indices(plan)).static


def test_the_example_shows_its_year_when_the_filter_leaves_no_rows(example: pr.Report, sales: pl.DataFrame) -> None:
    static = static_texts(example, sales, year=1999)
    assert static["title"] == ["1999"]  # not "All years", its null text
    assert static_texts(example, sales)["title"] == ["All years"]  # no year given: every year


@pytest.mark.parametrize("groups", [False, True], ids=["no-groups", "summary-of-groups"])
def test_parameters_show_their_value_in_every_band_without_rows(groups: bool) -> None:
    report = pr.Report(
        name="r",
        parameters=[
            pr.Parameter(name="region", type="string"),
            pr.Parameter(name="since", type="date"),
            pr.Parameter(name="limit", type="decimal", default="12.50"),
        ],
        filter="region = :region AND order_date >= :since",
        groups=[pr.Group(name="region", footer=pr.Band(elements=[pr.Field(column="region")]))] if groups else [],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Field(column="region"), pr.Field(column="since", format="yyyy-MM-dd")]),
            summary=pr.Band(elements=[pr.Expression(expr=":limit * 2", format="0.00")]),
            no_data=pr.Band(
                elements=[
                    pr.Label(text="No orders in"),
                    pr.Field(column="region", null_text="?"),
                    pr.Field(column="limit", format="0.00", null_text="?"),
                ]
            ),
        ),
    )
    static = static_texts(report, pr.sample.sales_data(100), region="Atlantis", since=dt.date(2024, 3, 1))
    assert static["title"] == ["Atlantis", "2024-03-01"]
    assert static["no_data"] == ["Atlantis", "12.50"]
    assert static["summary"] == ["25.00"]
