"""The Python API: data inputs, outputs, the Typst source, Jupyter display."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import pdf_lines

REPORT = pr.Report(
    name="api",
    groups=[pr.Group(name="region", footer=pr.Band(elements=[pr.Field(column="region"), pr.Aggregate(variable="n")]))],
    variables=[pr.Variable(name="n", calculation="count")],
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="customer"), pr.Field(column="quantity")])),
)


@pytest.fixture(scope="module")
def small(sales: pl.DataFrame) -> pl.DataFrame:
    return sales.head(100)


@pytest.mark.typst
@pytest.mark.parametrize("kind", ["lazy", "eager", "parquet", "csv", "ipc"])
def test_every_kind_of_data_gives_the_same_pdf(kind: str, small: pl.DataFrame, tmp_path: Path) -> None:
    sources = {
        "lazy": small.lazy,
        "eager": lambda: small,
        "parquet": lambda: (small.write_parquet(tmp_path / "d.parquet"), tmp_path / "d.parquet")[1],
        "csv": lambda: (small.write_csv(tmp_path / "d.csv"), str(tmp_path / "d.csv"))[1],
        "ipc": lambda: (small.write_ipc(tmp_path / "d.arrow"), tmp_path / "d.arrow")[1],
    }
    assert pdf_lines(REPORT.render(sources[kind]()).pdf) == pdf_lines(REPORT.render(small).pdf)


@pytest.mark.typst
def test_save_pdf_png_svg(small: pl.DataFrame, tmp_path: Path) -> None:
    document = REPORT.render(small)
    assert document.page_count == 2
    (pdf,) = document.save(tmp_path / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    pngs = document.save(tmp_path / "r.png", ppi=30)
    assert [p.name for p in pngs] == ["r-1.png", "r-2.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    svgs = document.save(tmp_path / "r.svg")
    assert all(p.read_text().lstrip().startswith("<svg") for p in svgs)


@pytest.mark.typst
def test_single_page_png_keeps_its_name(small: pl.DataFrame, tmp_path: Path) -> None:
    assert [p.name for p in REPORT.render(small.head(5)).save(tmp_path / "one.png", ppi=30)] == ["one.png"]


def test_to_typst_shows_the_generated_source_without_data(small: pl.DataFrame) -> None:
    document = REPORT.render(small)
    source = document.to_typst()
    assert 'json("/data.json")' in source
    assert small["customer"][0] not in source
    assert small["customer"][0].encode() in document.data_json


@pytest.mark.typst
def test_jupyter_shows_the_first_pages_and_the_page_count(small: pl.DataFrame) -> None:
    html = REPORT.render(small)._repr_html_()
    assert "2 pages" in html
    assert html.count('<img src="data:image/png;base64,') == 2  # compact PNG, not the pages' SVG
    assert "<svg" not in html


@pytest.mark.typst
def test_stats_time_each_phase(small: pl.DataFrame) -> None:
    document = REPORT.render(small)
    document.pdf  # noqa: B018 (compiles)
    assert {"plan_s", "data_s", "layout_s", "typst_pdf_s", "rows", "bands"} <= document.stats.keys()
    assert document.stats["rows"] == 100


def test_public_names() -> None:
    assert sorted(pr.__all__) == pr.__all__
    assert pr.Report.__module__ == "polarreports"


@pytest.mark.typst
def test_dates_in_a_csv_file_are_read_as_dates(example: pr.Report, small: pl.DataFrame, tmp_path: Path) -> None:
    small.write_csv(tmp_path / "sales.csv")  # order_date as text: 2024-01-05
    from_csv = example.render(tmp_path / "sales.csv")  # its detail formats order_date as 'dd MMM yyyy'
    assert pdf_lines(from_csv.pdf) == pdf_lines(example.render(small).pdf)
