"""The Excel workbook (doc.save("report.xlsx")): typed cells whose totals are Polars' own, read back
with openpyxl; SUBTOTAL formulas that LibreOffice recomputes to the same totals; outline levels,
frozen header, autofilter; hostile values stay text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import polarreports as pr
from polarreports.emit import xlsx
from tests.libreoffice import shown_by_libreoffice

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sales_by_region.yaml"
ROWS = 400


def _sales() -> pl.DataFrame:
    return pr.sample.sales_data(ROWS).with_columns(amount=pl.col("quantity") * pl.col("unit_price"))


def _region_totals() -> dict[str, tuple[int, float]]:
    totals = _sales().group_by("region").agg(pl.col("quantity").sum(), pl.col("amount").sum()).sort("region")
    return {region: (units, float(amount)) for region, units, amount in totals.iter_rows()}


@pytest.fixture(scope="module")
def document() -> pr.Document:
    return pr.load(EXAMPLE).render(pr.sample.sales_data(ROWS))


def _footers(rows: list[tuple[object, ...]]) -> dict[str, tuple[object, object]]:
    """Region -> (units, revenue) of each "Region total" row, with the region of the header above."""
    found, region = {}, None
    regions = set(_region_totals())
    for row in rows:
        if row[0] in regions:
            region = row[0]
        if row[0] == "Region total":
            found[str(region)] = (row[3], row[6])
    return found


def test_cells_are_typed_and_totals_are_polars_own(tmp_path: Path, document: pr.Document) -> None:
    path = document.save(tmp_path / "report.xlsx")[0]
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Sales by region and customer"
    assert rows[2][:4] == ("Date", "Order", "Product", "Qty")
    totals = _footers(rows)
    for region, (units, amount) in _region_totals().items():
        assert totals[region][0] == units
        assert totals[region][1] == pytest.approx(amount, abs=0.005)
    assert rows[-1][0] == "Grand total"
    assert rows[-1][6] == pytest.approx(float(_sales()["amount"].sum()), abs=0.005)
    detail = next(sheet.iter_rows(min_row=6, max_row=6))  # region header, customer header, then a row
    assert isinstance(detail[0].value, dt.datetime)
    assert "dd" in detail[0].number_format
    assert "mmm" in detail[0].number_format
    assert isinstance(detail[3].value, int)
    assert isinstance(detail[6].value, int | float)  # a number (openpyxl reads 3874.0 as 3874)
    assert "#,##0.00" in detail[6].number_format
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == f"A3:H{sheet.max_row}"
    levels = [sheet.row_dimensions[i].outline_level for i in range(4, 7)]
    assert levels == [0, 1, 2]  # region header, customer header, a row
    assert sheet.sheet_properties.outlinePr.summaryBelow is False  # the +/- button on the group's header
    assert sheet.column_dimensions["C"].width > sheet.column_dimensions["D"].width  # Product 23% > Qty 7%


@pytest.mark.slow
def test_libreoffice_recomputes_the_subtotals_and_shows_the_reports_text(
    tmp_path: Path, document: pr.Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "_number", lambda value: 0)  # cache 0: the totals must be recomputed
    path = document.save_xlsx(tmp_path / "formulas.xlsx", formulas=True)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    formulas = [c.value for row in sheet.iter_rows() for c in row if str(c.value).startswith("=SUBTOTAL(9,")]
    assert len(formulas) > 10
    shown = shown_by_libreoffice(path, tmp_path, recalculate=True)
    totals = _footers([tuple(row) for row in shown])
    for region, (units, amount) in _region_totals().items():
        assert int(str(totals[region][0]).replace(",", "")) == units
        assert float(str(totals[region][1]).strip("€").replace(",", "")) == pytest.approx(amount, abs=0.005)
    assert shown[-1][6] == f"€{_sales()['amount'].sum():,.2f}"
    # every row shows the report's own texts (the PDF's), in the report's order
    frame = document.to_frame().filter(pl.col("band") != "title")
    rows = [row for row in shown[3:] if any(row)]
    assert len(rows) == frame.height
    texts = [name for name in frame.columns if name.endswith("_text")]
    for row, cells in zip(frame.select(texts).iter_rows(), rows, strict=True):
        for text in row:
            if text:
                assert text in cells, (text, cells)


def test_hostile_values_stay_values(tmp_path: Path) -> None:
    data = pl.DataFrame(
        {
            "name": ['=HYPERLINK("http://x","y")', "+1+1", "x" * 40_000, "<r></is></c></row><x/></r>"],
            "flag": [True, False, None, True],
            "ratio": [float("nan"), float("inf"), -1.5, None],
            "when": [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)] * 4,
            "day": [dt.date(1850, 1, 1), dt.date(2024, 2, 29), None, dt.date(1900, 3, 1)],
            "took": [dt.timedelta(hours=1, minutes=30), None, dt.timedelta(0), dt.timedelta(seconds=59)],
        }
    )
    report = pr.Report(
        name="hostile",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Field(column=c) for c in ("name", "flag", "ratio")]
                + [pr.Field(column=c) for c in ("when", "day", "took")]
            )
        ),
    )
    path = report.render(data).save(tmp_path / "hostile.xlsx")[0]
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))[1:]  # below the column header (no title)
    assert rows[0][0] == '=HYPERLINK("http://x","y")'
    assert sheet.cell(2, 1).data_type == "s"  # text, never a formula
    assert rows[1][0] == "+1+1"
    assert rows[3][0] == "<r></is></c></row><x/></r>"  # xlsxwriter would copy it into the XML as is
    assert len(str(rows[2][0])) == 32_767
    assert rows[0][1] is True
    assert rows[1][1] is False
    assert rows[2][2] == -1.5
    assert rows[0][3] == dt.datetime(2024, 1, 1, 12)
    assert rows[0][4] == "1850-01-01"  # before Excel's first date: the report's text
    assert rows[1][4] == dt.datetime(2024, 2, 29)
    assert rows[3][4] == dt.datetime(1900, 3, 1)
    assert sheet.cell(2, 6).value == dt.timedelta(hours=1, minutes=30)


def test_detail_rows_are_escaped_as_xlsxwriter_escapes_them(tmp_path: Path) -> None:
    import xlsxwriter

    texts = ["\x01bell\x1f", "_x0041_ literal", "a & b < c > d", " spaces ", "tab\tnew\nline", "\ufffe", "🎉"]
    expected_path = tmp_path / "by_xlsxwriter.xlsx"
    book = xlsxwriter.Workbook(str(expected_path), {"constant_memory": True})
    sheet = book.add_worksheet()
    for row, text in enumerate(texts):
        sheet.write_string(row, 0, text)
    book.close()
    expected = [row[0] for row in openpyxl.load_workbook(expected_path).active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    report = pr.Report(name="texts", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="text")])))
    path = report.render(pl.DataFrame({"text": texts})).save(tmp_path / "ours.xlsx")[0]
    ours = [row[0] for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)][1:]  # type: ignore[union-attr]
    assert ours == expected


def test_more_rows_than_a_sheet_holds_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "EXCEL_ROWS", 50)
    document = pr.load(EXAMPLE).render(pr.sample.sales_data(60))
    with pytest.raises(pr.OutputError, match=r"an Excel sheet holds 50 rows; save it as \.parquet or \.csv"):
        document.save(tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()


def test_rows_made_in_polars_are_those_xlsxwriter_makes(
    tmp_path: Path, document: pr.Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cells(path: Path) -> list[tuple[object, ...]]:
        sheet = openpyxl.load_workbook(path).active
        assert sheet is not None
        return [
            (cell.coordinate, cell.value, cell.data_type, cell.number_format, cell.font.b, cell.alignment.horizontal)
            for row in sheet.iter_rows()
            for cell in row
        ] + [(i, sheet.row_dimensions[i].outline_level) for i in range(1, sheet.max_row + 1)]

    fast = cells(document.save_xlsx(tmp_path / "polars.xlsx", formulas=True))
    monkeypatch.setattr(xlsx, "POLARS_ROWS", False)
    slow = cells(document.save_xlsx(tmp_path / "xlsxwriter.xlsx", formulas=True))
    assert fast == slow
