"""Data exports (doc.to_frame(), .parquet, .csv, .json): one row per printed band, in report order,
with typed values whose subtotals are Polars' own, the same whatever the batches, parts or spill."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.emit.bandframe import BandFrames
from polarreports.emit.typst_source import band_indices
from polarreports.stream import typed
from polarreports.stream.collect import collect_stream

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sales_by_region.yaml"
ROWS = 1_000


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return pr.load(EXAMPLE).render(pr.sample.sales_data(ROWS)).to_frame()


def _sales() -> pl.DataFrame:
    return pr.sample.sales_data(ROWS).with_columns(amount=pl.col("quantity") * pl.col("unit_price"))


def test_subtotals_are_polars_own_group_by(frame: pl.DataFrame) -> None:
    sales = _sales()
    for keys, band in ((["region"], "region.footer"), (["region", "customer"], "customer.footer")):
        expected = sales.group_by(keys).agg(revenue=pl.col("amount").sum(), units=pl.col("quantity").sum()).sort(keys)
        got = frame.filter(band=band).select(*keys, "revenue", "units")
        assert got.equals(expected.select(got.columns).cast(got.schema)), band
    summary = frame.filter(band="summary")
    assert summary["revenue"].item() == sales["amount"].sum()
    assert summary["orders"].item() == ROWS
    assert summary["revenue_text"].item() == f"€{sales['amount'].sum():,.2f}"
    shares = frame.filter(band="region.footer")["revenue_percent"]
    assert shares.sum() == pytest.approx(1.0)


def test_rows_come_in_report_order_with_their_keys(frame: pl.DataFrame) -> None:
    assert frame["band"][0] == "title"
    assert frame["band"][-1] == "summary"
    detail = frame.filter(band="detail")
    expected = _sales().sort("region", "customer", "order_date", "order_id")
    assert detail.select("region", "customer", "order_id").equals(expected.select("region", "customer", "order_id"))
    assert detail["level"].unique().to_list() == [2]
    assert detail["order_date"].dtype == pl.Date
    assert detail["amount"].dtype.is_decimal()
    # each group band sits between its group's rows: the header just before the first, the footer just after the last
    bands = frame["band"].to_list()
    regions = frame["region"].to_list()
    for i, band in enumerate(bands):
        if band == "region.header":
            assert bands[i + 1] == "customer.header"
            assert regions[i + 1] == regions[i]
        if band == "region.footer":
            assert bands[i - 1] == "customer.footer"
            assert regions[i - 1] == regions[i]
    footers = frame.filter(band="region.footer")
    assert footers["customer"].null_count() == footers.height  # a level-1 band has only the outer key
    assert footers["level"].unique().to_list() == [1]


def test_texts_are_what_the_report_prints(frame: pl.DataFrame) -> None:
    row = frame.filter(band="detail").row(0, named=True)
    assert row["order_date_text"] == row["order_date"].strftime("%d %b %Y")
    assert row["unit_price_text"] == f"{row['unit_price']:,.2f}"
    header = frame.filter(band="region.header").row(0, named=True)
    assert header["orders_text"] == f"{header['orders']:,} orders"


def test_files_hold_the_same_rows(tmp_path: Path, frame: pl.DataFrame) -> None:
    doc = pr.load(EXAMPLE).render(pr.sample.sales_data(ROWS))
    paths = [doc.save(tmp_path / f"report.{suffix}")[0] for suffix in ("parquet", "csv", "json")]
    assert pl.read_parquet(paths[0]).equals(frame)
    csv = pl.read_csv(paths[1], infer_schema=False)
    assert csv.columns == frame.columns
    assert csv.height == frame.height
    assert csv["revenue"].drop_nulls().to_list() == frame["revenue"].drop_nulls().cast(pl.String).to_list()
    rows = json.loads(paths[2].read_text())
    assert len(rows) == frame.height
    assert rows[-1]["revenue"] == str(frame["revenue"][-1])
    assert rows[1]["band"] == "region.header"


@pytest.mark.parametrize("parts", [10**9, 150])
def test_batches_parts_and_spill_give_the_same_frame(monkeypatch: pytest.MonkeyPatch, parts: int) -> None:
    report = pr.load(EXAMPLE).model_copy(update={"filter": "quantity >= 3"})
    report = report.model_copy(
        update={
            "bands": report.bands.model_copy(
                update={"detail": report.bands.detail.model_copy(update={"print_when": "quantity < 40"})}
            )
        }
    )
    plan, scopes = plan_report(report, pr.sample.sales_data(600))
    whole = BandFrames(plan, collect_stream(plan, scopes, band_indices(plan)), dict(scopes.dtypes)).frame()
    monkeypatch.setattr(typed, "SPILL_BYTES", 0)
    plan, scopes = plan_report(report, pr.sample.sales_data(600))
    stream = collect_stream(plan, scopes, band_indices(plan), batch_rows=37, rows_per_part=parts)
    assert stream.typed is not None
    assert stream.typed.spilled
    split = BandFrames(plan, stream, dict(scopes.dtypes)).frame()
    assert split.equals(whole)
    assert split.filter(band="detail")["quantity"].max() < 40
    assert split.height == stream.band_count + 2  # title and summary


def test_reports_without_groups_or_rows_and_clashing_names() -> None:
    data = pl.DataFrame({"band": ["x", "y", "x"], "level": [1, 2, 3], "v": [1.5, 2.5, None]})
    report = pr.Report(
        name="clash",
        groups=[
            pr.Group(name="band", footer=pr.Band(elements=[pr.Aggregate(variable="total"), pr.Field(column="level")]))
        ],
        variables=[pr.Variable(name="total", calculation="sum", expression="v")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="level"), pr.Field(column="v"), pr.Field(column="v")])),
    )
    frame = report.render(data).to_frame()
    assert frame.columns[:4] == ["band", "kind", "level", "group.band"]
    assert {"detail.level", "band.footer.level", "v", "v_2", "total"} <= set(frame.columns)
    assert frame.filter(kind="group_footer")["total"].to_list() == [1.5, 2.5]
    empty = report.render(data.clear()).to_frame()
    assert empty.filter(kind="detail").is_empty()
    no_rows = pr.load(EXAMPLE).render(pr.sample.sales_data(10).clear()).to_frame()
    assert no_rows["band"].to_list() == ["title", "no_data"]  # as the PDF: no summary
    title = pr.Band(elements=[pr.Label(text="labels only")])
    bands = pr.Bands(title=title, detail=pr.Band(elements=[pr.Field(column="v")]))
    flat = pr.Report(name="flat", bands=bands).render(data).to_frame()
    assert flat["band"].to_list() == ["title", "detail", "detail", "detail"]
    assert flat["v"].to_list() == [None, 1.5, 2.5, None]


def test_hostile_strings_round_trip_through_csv_and_json(tmp_path: Path) -> None:
    names = ['"a,b"\n"c"', "=1+1", "line\u2028break", "<script>", "emoji 🎉", "", "\\\\"]
    data = pl.DataFrame({"name": names, "amount": [1.25, -2.5, None, 0.0, 1e300, 3.0, 4.0]})
    report = pr.Report(
        name="hostile",
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="name"), pr.Field(column="amount")])),
    )
    doc = report.render(data)
    frame = doc.to_frame()
    assert frame["name"].to_list() == names
    csv = pl.read_csv(doc.save_csv(tmp_path / "h.csv", as_stored=True), schema_overrides={"name": pl.String})
    assert csv["name"].fill_null("").to_list() == names
    assert csv["amount"].to_list() == frame["amount"].to_list()
    rows = json.loads(doc.save(tmp_path / "h.json")[0].read_text(encoding="utf-8"))
    assert [row["name"] for row in rows] == names
    assert [row["name_text"] for row in rows] == frame["name_text"].to_list()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice", pr.sample.invoice_data),
        ("customer_statement", pr.sample.statement_data),
        ("sales_ledger", lambda: pr.sample.sales_data(300)),
        ("sales_summary", lambda: pr.sample.sales_data(300)),
        ("sales_styled", lambda: pr.sample.sales_data(300)),
        ("sales_dashboard", lambda: pr.sample.sales_data(300)),
        ("shipping_labels", pr.sample.shipping_data),
    ],
)
def test_every_gallery_report_exports(tmp_path: Path, name: str, data: object) -> None:
    import openpyxl

    assert callable(data)
    doc = pr.load(EXAMPLE.parent / f"{name}.yaml").render(data())
    frame = doc.to_frame()
    stream = doc._rendered.stream  # type: ignore[union-attr]
    printed = stream.band_count + sum(kind in stream.static for kind in ("title", "summary"))
    assert frame.height == printed
    for column in (c for c in frame.columns if c.endswith("_text")):
        values = column.removesuffix("_text")
        assert frame.filter(pl.col(values).is_not_null() & pl.col(column).is_null()).is_empty(), column
    sheet = openpyxl.load_workbook(doc.save(tmp_path / f"{name}.xlsx")[0]).active
    assert sheet is not None
    assert sheet.max_row >= frame.height
