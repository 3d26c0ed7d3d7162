"""A subreport's rows in the data exports (rows of their own, under their band's row) and in the
spreadsheet (indented rows below their band's row); figures checked against Polars, and the
spreadsheet as LibreOffice shows it."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import polarreports as pr
from tests.libreoffice import shown_by_libreoffice as _shown_by_libreoffice
from tests.test_subreports import PAYMENTS, money, order_report, orders_data


@pytest.fixture(scope="module")
def data() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return orders_data(15)


@pytest.fixture(scope="module")
def document(data: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> pr.Document:
    orders, lines, payments = data
    return order_report().render(orders, sources={"lines": lines, "payments": payments})


def _lines_want(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.select(
        "order_id",
        product="product",
        quantity=pl.col("quantity").cast(pl.String),
        amount=(pl.col("quantity") * pl.col("unit_price")).map_elements(money, return_dtype=pl.String),
    )


def test_the_data_export_has_each_subreport_row_under_its_band(
    document: pr.Document, data: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    _, lines, payments = data
    with caplog.at_level(logging.WARNING, logger="polarreports"):
        frame = document.to_frame()
    assert "not in this output" not in caplog.text  # nothing left out
    rows = frame.filter(pl.col("band") == "detail.lines", pl.col("kind") == "subreport_detail")
    got = rows.select("order_id", "lines.product_text", "lines.quantity_text", "lines.quantity * unit_price_text")
    assert got.rows() == _lines_want(lines).sort("order_id", maintain_order=True).rows()
    assert set(rows["level"]) == {2}  # one under the detail band (level 1)
    # and the values themselves, in their own types (what Polars computes from the lines)
    typed = rows.select("order_id", "lines.product", "lines.quantity", amount="lines.quantity * unit_price")
    want_typed = lines.sort("order_id", maintain_order=True).select(
        "order_id", "product", "quantity", amount=pl.col("quantity") * pl.col("unit_price")
    )
    assert typed.schema["lines.quantity"] == lines.schema["quantity"]
    assert typed.rows() == want_typed.rows()
    paid_values = frame.filter(pl.col("band") == "order_id.footer.payments")["payments.amount"]
    assert paid_values.dtype == payments.schema["amount"]
    assert paid_values.to_list() == payments.sort("order_id", maintain_order=True)["amount"].to_list()
    assert frame.filter(kind="subreport_summary")["lines.quantity"].is_null().all()  # totals: texts only
    totals = frame.filter(pl.col("band") == "detail.lines", pl.col("kind") == "subreport_summary")
    want = lines.group_by("order_id").agg(s=(pl.col("quantity") * pl.col("unit_price")).sum()).sort("order_id")
    assert totals.select("order_id", "lines.quantity * unit_price_text").rows() == [
        (order, money(total)) for order, total in want.rows()
    ]
    paid = frame.filter(pl.col("band") == "order_id.footer.payments")
    assert paid.select("order_id", "payments.method_text", "payments.amount_text").rows() == [
        (o, m, money(a)) for o, m, a in payments.sort("order_id", maintain_order=True).rows()
    ]
    # each table right after its band's row
    bands = frame["band"].to_list()
    for i, band in enumerate(bands):
        if band == "detail.lines" and bands[i - 1] != "detail.lines":
            assert bands[i - 1] == "detail"


def test_the_parquet_and_csv_exports_hold_the_same_rows(document: pr.Document, tmp_path: Path) -> None:
    frame = document.to_frame()
    document.save(tmp_path / "r.parquet")
    assert pl.read_parquet(tmp_path / "r.parquet").equals(frame)
    document.save_csv(tmp_path / "r.csv", as_stored=True)  # as stored: no quote before '@label'
    again = pl.read_csv(tmp_path / "r.csv", infer_schema=False)
    assert again["payments.method_text"].to_list() == frame["payments.method_text"].to_list()


def test_a_title_subreport_s_rows_follow_the_title(data: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> None:
    orders, _, payments = data
    report = pr.Report(
        name="all",
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="All"), pr.Subreport(report=PAYMENTS, source="payments")]),
            detail=pr.Band(elements=[pr.Field(column="order_id")]),
        ),
    )
    frame = report.render(orders, sources={"payments": payments}).to_frame()
    head = frame.head(1 + payments.height)
    assert head["band"].to_list() == ["title", *["title.payments"] * payments.height]
    assert head["level"].to_list() == [0, *[1] * payments.height]
    assert head["payments.amount_text"].to_list()[1:] == [money(a) for a in payments["amount"]]


def _sheet_rows(path: Path) -> list[tuple[int, list[object]]]:
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    return [(sheet.row_dimensions[r[0].row].outline_level, [c.value for c in r]) for r in sheet.iter_rows()]


def test_the_spreadsheet_writes_indented_rows_below_their_band(
    document: pr.Document, data: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    _, lines, payments = data
    document.save(tmp_path / "r.xlsx")
    rows = _sheet_rows(tmp_path / "r.xlsx")
    products = [(level, row[0]) for level, row in rows if str(row[0]).startswith("P") and "-" in str(row[0])]
    assert [p for _, p in products] == lines.sort("order_id", maintain_order=True)["product"].to_list()
    assert {level for level, _ in products} == {2}  # one deeper than the detail rows
    shown = {(row[0], row[1]) for level, row in rows if level == 1 and row[0] is not None}
    assert {(m, round(a, 2)) for _, m, a in payments.rows()} <= shown  # the group footer's payments, as numbers
    amounts = [(row[0], row[2]) for level, row in rows if level == 2 and re.fullmatch(r"P\d+-\d+", str(row[0]))]
    want = lines.sort("order_id", maintain_order=True).select("product", a=pl.col("quantity") * pl.col("unit_price"))
    assert amounts == [(p, round(a, 2)) for p, a in want.rows()]  # numbers, rounded as the report shows them
    assert not any(all(v is None for v in row) and level for level, row in rows)  # no empty band rows


@pytest.mark.slow
def test_libreoffice_shows_the_subreports_figures(
    document: pr.Document, data: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    _, lines, payments = data
    path = document.save(tmp_path / "orders.xlsx")[0]
    shown = _shown_by_libreoffice(Path(path), tmp_path)
    got = [tuple(row[:3]) for row in shown if row and row[0].startswith("P") and "-" in row[0]]
    assert got == _lines_want(lines).sort("order_id", maintain_order=True).drop("order_id").rows()
    totals = [row[2] for row in shown if row and row[0] == "Lines"]
    want = lines.group_by("order_id", maintain_order=True).agg(s=(pl.col("quantity") * pl.col("unit_price")).sum())
    assert totals == [money(s) for s in want.sort("order_id")["s"]]
    texts = [row[0] for row in shown if row]
    for method in payments["method"]:  # hostile strings are text, as many times as paid so
        assert texts.count(method) == payments["method"].to_list().count(method)


@pytest.mark.slow
def test_a_subreports_dates_and_decimals_are_typed_cells_libreoffice_shows_as_the_report(tmp_path: Path) -> None:
    payments = pl.DataFrame(
        {
            "order_id": [1, 1, 3],
            "paid_on": [dt.date(2024, 1, 2), dt.date(2024, 2, 3), dt.date(2024, 3, 4)],
            "amount": pl.Series([Decimal("1234.50"), Decimal("2.25"), Decimal("10.00")], dtype=pl.Decimal(10, 2)),
        }
    )
    sub = pr.Report(
        name="paid",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Field(column="paid_on", format="dd.MM.yyyy"), pr.Field(column="amount", format="#,##0.00")]
            )
        ),
    )
    report = pr.Report(
        name="orders",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Field(column="order_id"), pr.Subreport(report=sub, source="p", keys=["order_id"])]
            )
        ),
    )
    document = report.render(pl.DataFrame({"order_id": [1, 2, 3]}), sources={"p": payments})
    frame = document.to_frame().filter(kind="subreport_detail")
    typed = frame.select(paid_on="paid.paid_on", amount="paid.amount")
    assert typed.schema == payments.drop("order_id").schema
    assert typed.equals(payments.drop("order_id"))
    path = document.save(tmp_path / "paid.xlsx")[0]
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    cells = [c.value for row in sheet.iter_rows() for c in row if c.value is not None]
    assert dt.datetime(2024, 2, 3) in cells  # a date and a number, not texts
    assert 1234.5 in cells
    shown = [row[1:] for row in _shown_by_libreoffice(Path(path), tmp_path) if row[1:] and row[1]]
    want = payments.select(pl.col("paid_on").dt.strftime("%d.%m.%Y"), pl.col("amount").map_elements(money, pl.String))
    assert shown == [list(row) for row in want.rows()]


def test_a_grouped_subreports_rows_keep_their_values_beside_its_group_rows() -> None:
    """A subreport with groups of its own: its detail rows carry their typed values (Polars'
    rows, in the subreport's order), its group headers and footers their texts only."""
    payments = pl.DataFrame(
        {"order_id": [1, 1, 1, 2], "method": ["card", "cash", "card", "card"], "amount": [1.5, 2.0, 3.25, 4.0]}
    )
    sub = pr.Report(
        name="pay",
        groups=[
            pr.Group(
                name="method",
                header=pr.Band(elements=[pr.Field(column="method")]),
                footer=pr.Band(elements=[pr.Label(text="subtotal"), pr.Aggregate(variable="paid")]),
            )
        ],
        variables=[pr.Variable(name="paid", calculation="sum", expression="amount", reset="method")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="method"), pr.Field(column="amount")])),
    )
    report = pr.Report(
        name="orders",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Field(column="order_id"), pr.Subreport(report=sub, source="p", keys=["order_id"])]
            )
        ),
    )
    frame = report.render(pl.DataFrame({"order_id": [1, 2]}), sources={"p": payments}).to_frame()
    rows = frame.filter(pl.col("band") == "detail.pay")
    details = rows.filter(kind="subreport_detail")
    want = payments.sort("order_id", "method", maintain_order=True)
    assert details.select("pay.method", "pay.amount").rows() == want.select("method", "amount").rows()
    assert details["pay.amount"].dtype == pl.Float64
    groups = rows.filter(pl.col("kind") != "subreport_detail")
    assert set(groups["kind"]) == {"subreport_group_header", "subreport_group_footer"}
    assert groups["pay.amount"].is_null().all()
    assert groups.filter(kind="subreport_group_footer")["pay.amount_text"].to_list() == ["4.75", "2.00", "4.00"]
